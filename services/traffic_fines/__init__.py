"""Traffic fines (a read-only lookup): fines pending against the citizen's vehicles."""

from __future__ import annotations

from services.registry import ServicePlugin
from services.traffic_fines.schema import MeTrafficFines, TrafficFine


class TrafficFinesService(ServicePlugin):
    code = "traffic_fines"
    name_vi = "Tra cứu phạt nguội"
    name_en = "Traffic fines lookup"
    agency_code = "000.00.00.G09"
    me_fields = MeTrafficFines
    types = (TrafficFine,)
    default_base_url = "http://127.0.0.1:8104"
