"""Traffic fines (a read-only lookup): fines pending against the citizen's vehicles."""

from __future__ import annotations

from services.registry import Column, RecordList, ScreenKind, ServicePlugin, Tile
from services.traffic_fines.schema import MeTrafficFines, TrafficFine


class TrafficFinesService(ServicePlugin):
    code = "traffic_fines"
    name_vi = "Tra cứu phạt nguội"
    name_en = "Traffic fines lookup"
    agency_code = "000.00.00.G09"
    me_fields = MeTrafficFines
    types = (TrafficFine,)
    default_base_url = "http://127.0.0.1:8104"
    # How a RECORD_LIST tile on `trafficFines` lists them (the contract's TrafficFines operation).
    record_lists = (RecordList(field="trafficFines", operation="TrafficFines", columns=(
        Column(field="plate", label_vi="Biển số", label_en="Plate"),
        Column(field="violation", label_vi="Lỗi vi phạm", label_en="Violation"),
        Column(field="amountVnd", label_vi="Số tiền", label_en="Amount", format="money_vnd"),
        Column(field="detectedAt", label_vi="Thời điểm", label_en="Detected", format="datetime"),
    ), empty_vi="Không có lỗi phạt nguội nào.", empty_en="No pending fines."),)
    # Fines follow vehicles: shown from 16, the age a citizen may ride a moped (Road Traffic Law, art. 60).
    tiles = (
        Tile("traffic_fines.fines", "Tra cứu phạt nguội", "Traffic fines", "receipt_long", "transport",
             ScreenKind.RECORD_LIST, "trafficFines", min_age=16, keywords=("phat nguoi", "vi pham", "xe"),
             order=10),
    )
