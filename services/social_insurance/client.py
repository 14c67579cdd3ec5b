"""The health-insurance card lookup."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from services.client import AgencyClient


class CardData(BaseModel):
    number: str
    valid_from: date
    valid_until: date
    clinic: str


async def card_of(client: AgencyClient, id_number: str) -> CardData | None:
    data = await client.lookup("/cards/lookup", {"id_number": id_number}, missing_ok=True)
    return None if data is None else client.parse(CardData, data)
