"""Social insurance (Vietnam Social Security): the citizen's health-insurance card, and card issuance for
a newborn (a part of the interconnected birth procedure)."""

from __future__ import annotations

from core.dossier_status import DossierStatus as S
from services.registry import ServicePlugin
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
