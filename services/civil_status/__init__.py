"""Civil status (Ministry of Justice): birth registration, and the status of birth-registration dossiers
as the agency sees them."""

from __future__ import annotations

from core.dossier_status import DossierStatus as S
from services.civil_status.schema import BirthRegistration, MeCivilStatus
from services.registry import Column, DocumentKind, RecordList, ScreenKind, ServicePlugin, Tile

VOCABULARY = {"DA_TIEP_NHAN": S.ACCEPTED, "TU_CHOI": S.NOT_ACCEPTED, "DANG_XU_LY": S.PROCESSING,
              "BO_SUNG": S.SUPPLEMENT_REQUESTED, "DA_CO_KET_QUA": S.PROCESSED, "DA_TRA_KET_QUA": S.RETURNED,
              "DUNG_XU_LY": S.PROCESSING_STOPPED}


class CivilStatusService(ServicePlugin):
    code = "civil_status"
    name_vi = "Hộ tịch"
    name_en = "Civil status"
    agency_code = "000.00.00.G12"
    procedure_codes = ("1.001193", "1.000894", "1.001022")
    me_fields = MeCivilStatus
    types = (BirthRegistration,)
    vocabulary = VOCABULARY
    default_base_url = "http://127.0.0.1:8101"
    # What RECORD_LIST and DOCUMENT_VIEWER tiles of this service draw (services/screens.py).
    record_lists = (RecordList(field="birthRegistrations", operation="BirthRegistrations", columns=(
        Column(field="childName", label_vi="Họ và tên trẻ", label_en="Child's name"),
        Column(field="dossierCode", label_vi="Mã hồ sơ", label_en="Dossier"),
        Column(field="agencyStatus", label_vi="Trạng thái", label_en="Status"),
    ), empty_vi="Chưa có hồ sơ khai sinh nào.", empty_en="No birth registrations yet."),)
    document_kinds = (DocumentKind(kind="birth_certificate"),)
    tiles = (
        Tile("civil_status.birth", "Đăng ký khai sinh", "Birth registration", "child_care", "civil_status",
             ScreenKind.FORM, "1.001193", keywords=("khai sinh", "tre so sinh", "newborn"), order=10),
        Tile("civil_status.marriage", "Đăng ký kết hôn", "Marriage registration", "favorite", "civil_status",
             ScreenKind.FORM, "1.000894", min_age=18, keywords=("ket hon", "wedding"), order=20),
        Tile("civil_status.death", "Đăng ký khai tử", "Death registration", "description", "civil_status",
             ScreenKind.FORM, "1.001022", keywords=("khai tu",), order=30),
        Tile("civil_status.birth_registrations", "Hồ sơ khai sinh của tôi", "My birth registrations",
             "family_restroom", "civil_status", ScreenKind.RECORD_LIST, "birthRegistrations", order=40),
    )
