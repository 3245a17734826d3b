"""Defaults of rows built outside validation are filled as before, with the factory check asked once."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from pydantic._internal import _fields

from cleanprod_kit.model_defaults import install, remembering
from cleanprod_kit.models import AuditEntry, OutboxEvent


def test_the_check_is_asked_once_per_factory_and_answers_as_before() -> None:
    asked: list[Any] = []

    def check(factory: Any) -> bool:
        asked.append(factory)
        return _fields.takes_validated_data_argument.__wrapped__(factory)  # type: ignore[attr-defined]

    remembered = remembering(check)

    def with_data(data: dict[str, Any]) -> int:
        return len(data)

    assert [remembered(list) for _ in range(3)] == [False] * 3
    assert [remembered(with_data) for _ in range(3)] == [True] * 3
    assert asked == [list, with_data]


def test_rows_built_without_validation_get_fresh_defaults_and_data_factories_their_data() -> None:
    install()  # again: a second call changes nothing
    assert hasattr(_fields.takes_validated_data_argument, "__wrapped__")
    assert not hasattr(_fields.takes_validated_data_argument.__wrapped__, "__wrapped__")  # type: ignore[attr-defined]

    class Priced(BaseModel):
        amount: int = 0
        doubled: int = Field(default_factory=lambda data: 2 * data["amount"])
        tags: list[str] = Field(default_factory=list)

    built = Priced.model_construct(amount=21)
    assert built.doubled == 42 and built.tags == []
    first = OutboxEvent(event_type="a.b", aggregate_type="a", aggregate_id="1")
    second = OutboxEvent(event_type="a.b", aggregate_type="a", aggregate_id="1")
    assert first.id != second.id and first.payload == {} and first.payload is not second.payload
    entry = AuditEntry(actor_subject="s", actor_role="officer", entity_type="t", entity_id="1", action="x")
    assert entry.details == {} and entry.occurred_at.tzinfo is not None
