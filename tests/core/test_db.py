from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.models import Citizen
from tests.support import new_id_number


async def test_database_errors_do_not_carry_personal_data(db: Database) -> None:
    id_number = new_id_number()
    async with db.write() as session:
        session.add(Citizen(id_number=id_number, full_name="Bùi Thị Riêng"))
    with pytest.raises(IntegrityError) as caught:
        async with db.write() as session:
            session.add(Citizen(id_number=id_number, full_name="Bùi Thị Riêng"))
    assert id_number not in str(caught.value)
    assert "Bùi Thị Riêng" not in str(caught.value)
