"""Residence (Ministry of Public Security): permanent/temporary residence registration and the citizen's
record in the national population database, which pre-fills e-forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.dossier_status import DossierStatus
from core.models import Citizen
from services.registry import Column, RecordList, ScreenKind, ServicePlugin, Tile
from services.residence import client
from services.residence.schema import MeResidence, PopulationAddress, PopulationRecord

# This agency reports the national status codes themselves (1-10).
VOCABULARY = {str(status.national_code): status for status in DossierStatus}


class ResidenceService(ServicePlugin):
    code = "residence"
    name_vi = "Cư trú và dữ liệu dân cư"
    name_en = "Residence and population data"
    agency_code = "000.00.00.G09"
    procedure_codes = ("1.004194", "1.004206")
    me_fields = MeResidence
    types = (PopulationRecord, PopulationAddress)
    vocabulary = VOCABULARY
    default_base_url = "http://127.0.0.1:8102"
    profile_fields = frozenset({"full_name", "birth_date", "sex", "hometown", "permanent_address"})
    # How the RECORD_LIST tile on `populationRecord` shows it (the contract's PopulationRecord operation).
    record_lists = (RecordList(field="populationRecord", operation="PopulationRecord", columns=(
        Column(field="fullName", label_vi="Họ và tên", label_en="Full name"),
        Column(field="birthDate", label_vi="Ngày sinh", label_en="Date of birth", format="date"),
        Column(field="ethnicity", label_vi="Dân tộc", label_en="Ethnicity"),
        Column(field="permanentAddress.text", label_vi="Nơi thường trú", label_en="Permanent address"),
    ), empty_vi="Chưa tìm thấy thông tin cư trú của bạn.", empty_en="Your residence record was not found."),)
    tiles = (
        Tile("residence.permanent", "Đăng ký thường trú", "Permanent residence", "home", "residence",
             ScreenKind.FORM, "1.004194", keywords=("thuong tru", "ho khau"), order=10),
        Tile("residence.temporary", "Đăng ký tạm trú", "Temporary residence", "apartment", "residence",
             ScreenKind.FORM, "1.004206", keywords=("tam tru",), order=20),
        Tile("residence.population_record", "Thông tin cư trú của tôi", "My residence record", "badge",
             "residence", ScreenKind.RECORD_LIST, "populationRecord", keywords=("dan cu", "vneid"), order=30),
    )

    async def profile_values(self, citizen: Citizen) -> Mapping[str, Any]:
        """The population record pre-fills what the e-ID token did not carry (name, address, ...)."""
        assert self.client is not None
        record = await client.population_record(self.client, citizen.id_number)
        if record is None:
            return {}
        return {"full_name": record.full_name, "birth_date": record.birth_date.isoformat(), "sex": record.sex,
                "hometown": record.hometown, "permanent_address": record.permanent_address.text}
