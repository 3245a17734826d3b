"""The kit's one shape of "what changed": snapshots before/after an update → `[{field, old, new}]`."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from pydantic import BaseModel

from cleanprod_kit.audit import FieldChange, field_changes, snapshot


class Thing(BaseModel):
    id: uuid.UUID
    name: str
    starts: dt.date | None
    amount: Decimal
    tags: list[str]
    version: int
    updated_at: dt.datetime


def test_only_changed_fields_old_to_new_with_json_values() -> None:
    thing = Thing(
        id=uuid.uuid4(),
        name="Nhà máy giấy Phú Thượng",
        starts=None,
        amount=Decimal("1.5"),
        tags=["a"],
        version=1,
        updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    before = snapshot(thing)
    thing.name, thing.starts, thing.tags = "Nhà máy giấy Đông Anh", dt.date(2026, 3, 1), ["a", "b"]
    thing.version, thing.updated_at = 2, dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    changes = field_changes(before, snapshot(thing))
    assert changes == [
        {"field": "name", "old": "Nhà máy giấy Phú Thượng", "new": "Nhà máy giấy Đông Anh"},
        {"field": "starts", "old": None, "new": "2026-03-01"},
        {"field": "tags", "old": ["a"], "new": ["a", "b"]},
    ]  # version and updated_at are bookkeeping, left out
    assert [FieldChange.model_validate(c).field for c in changes] == ["name", "starts", "tags"]
    assert field_changes(snapshot(thing), snapshot(thing)) == []
    assert snapshot(thing, ["amount"]) == {"amount": "1.5"}
