"""Pending fines by the owner's ID number."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from services.client import AgencyClient


class FineData(BaseModel):
    plate: str
    violation: str
    amount_vnd: int
    place: str
    detected_at: datetime


async def pending_fines(client: AgencyClient, id_number: str) -> list[FineData]:
    data = await client.lookup("/fines/search", {"id_number": id_number})
    return client.parse(list[FineData], data)
