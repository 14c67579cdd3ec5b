"""Social insurance (Vietnam Social Security): the citizen's health-insurance card, and card issuance for
a newborn (a part of the interconnected birth procedure)."""

from __future__ import annotations

from core.dossier_status import DossierStatus as S
from services.registry import Column, RecordList, ScreenKind, ServicePlugin, Tile
from services.social_insurance.schema import HealthInsuranceCard, MeSocialInsurance

VOCABULARY = {"received": S.ACCEPTED, "rejected": S.NOT_ACCEPTED, "processing": S.PROCESSING,
              "need_documents": S.SUPPLEMENT_REQUESTED, "card_issued": S.PROCESSED, "card_delivered": S.RETURNED,
              "cancelled": S.PROCESSING_STOPPED}


class SocialInsuranceService(ServicePlugin):
    code = "social_insurance"
    name_vi = "Bảo hiểm xã hội Việt Nam"
    name_en = "Vietnam Social Security"
    agency_code = "000.00.00.G22"
    procedure_codes = ("1.001612", "1.000045")
    me_fields = MeSocialInsurance
    types = (HealthInsuranceCard,)
    vocabulary = VOCABULARY
    default_base_url = "http://127.0.0.1:8103"
    # How the RECORD_LIST tile on `healthInsuranceCard` shows it (the contract's HealthInsuranceCard operation).
    record_lists = (RecordList(field="healthInsuranceCard", operation="HealthInsuranceCard", columns=(
        Column(field="number", label_vi="Số thẻ", label_en="Card number"),
        Column(field="validUntil", label_vi="Giá trị đến", label_en="Valid until", format="date"),
        Column(field="clinic", label_vi="Nơi đăng ký khám chữa bệnh ban đầu", label_en="First-line clinic"),
    ), empty_vi="Chưa có thẻ bảo hiểm y tế.", empty_en="No health-insurance card yet."),)
    tiles = (
        Tile("social_insurance.card", "Thẻ BHYT của tôi", "My health-insurance card", "health_and_safety",
             "health", ScreenKind.RECORD_LIST, "healthInsuranceCard", keywords=("bhyt", "bao hiem"), order=10),
        Tile("social_insurance.child_card", "Cấp thẻ BHYT cho trẻ dưới 6 tuổi", "Health card for a child under 6",
             "child_care", "health", ScreenKind.FORM, "1.001612", keywords=("bhyt", "tre em"), order=20),
        Tile("social_insurance.card_reissue", "Cấp lại thẻ BHYT", "Reissue a health-insurance card",
             "local_hospital", "health", ScreenKind.FORM, "1.000045", keywords=("bhyt", "mat the"), order=30),
    )
