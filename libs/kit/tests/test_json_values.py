"""`json_values.jsonable` gives `jsonable_encoder`'s answer for every input: the event payloads the outbox stores
keep their texts byte for byte (issue 16)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import random
import uuid
from decimal import Decimal
from typing import Any

from asyncpg.pgproto.pgproto import UUID as DriverUUID
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field

from cleanprod_kit.json_values import jsonable
from cleanprod_kit.outbox import event_row


class Colour(enum.StrEnum):
    RED = "red"
    SALTED = "_sa_colour"


class Level(enum.IntEnum):
    LOW = 1


class Part(BaseModel):
    at: dt.datetime
    amount: Decimal
    colour: Colour


class Answer(BaseModel):
    """A model as an API answer: an alias, a nested model, a list of them, an optional left empty."""

    model_config = ConfigDict(populate_by_name=True)
    dossier_code: str = Field(alias="dossierCode")
    part: Part
    parts: list[Part]
    note: str | None = None


@dataclasses.dataclass
class Point:
    x: Decimal
    day: dt.date


class Text(str):
    pass


HANOI = dt.timezone(dt.timedelta(hours=7))
SPECIAL: list[Any] = [
    None,
    True,
    False,
    0,
    -7,
    2**70,
    1.5,
    float("inf"),
    "",
    "Phường Bồ Đề",
    Text("sub"),
    dt.datetime(2026, 12, 2, 17, 30, 5, 123456, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 2, 0, 0, tzinfo=HANOI),
    dt.datetime(2026, 12, 2, 0, 0),
    dt.date(2026, 12, 2),
    dt.time(8, 30),
    dt.timedelta(days=2, seconds=3),
    Decimal("12"),
    Decimal("12.50"),
    Decimal("1E+3"),
    Decimal("-0.000"),
    Decimal("123456789012345678901234567890"),
    Decimal("NaN"),
    uuid.UUID("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
    DriverUUID("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"),  # what asyncpg reads
    Colour.RED,
    Level.LOW,
    (1, "two", Decimal("3.0")),
    frozenset({"a"}),
    b"bytes",
    Part(at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), amount=Decimal("1.10"), colour=Colour.RED),
    Point(Decimal("2"), dt.date(2026, 3, 4)),
    Answer(
        dossier_code="000.00.01.H26-261202-0001",
        part=Part(at=dt.datetime(2026, 1, 1, 7, tzinfo=HANOI), amount=Decimal("7"), colour=Colour.SALTED),
        parts=[Part(at=dt.datetime(2026, 2, 1), amount=Decimal("0.5"), colour=Colour.RED)],
    ),
    {"_sa_instance_state": "left out", "_sa": 1, "kept": 2, Colour.SALTED: "left out too", Colour.RED: "key"},
    {1: "int key", Level.LOW: "enum key", None: "none key", uuid.UUID(int=5): "uuid key"},
    [[[]], {}, [{}], {"a": []}],
]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    if depth < 4 and rng.random() < 0.35:
        if rng.random() < 0.5:
            return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
        keys = [rng.choice(["id", "amount", "_sa_x", "at", "status", "reasons", "notes"]) for _ in range(4)]
        return {key: _random_value(rng, depth + 1) for key in keys}
    return rng.choice(SPECIAL)


def _same(value: Any) -> None:
    expected = jsonable_encoder(value)
    got = jsonable(value)
    # repr, not ==: it tells 1 from 1.0 and True, and NaN equals itself there.
    assert repr(got) == repr(expected)
    # The same text once written (the outbox stores the payload as JSON), key order included.
    assert json.dumps(got, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)


def test_the_encoders_answer_for_each_kind_of_value() -> None:
    for value in SPECIAL:
        _same(value)
        _same({"value": value, "list": [value, value]})


def test_the_encoders_answer_for_random_nested_data() -> None:
    rng = random.Random(16)
    for _ in range(2000):
        _same(_random_value(rng))


def test_an_event_row_encodes_its_payload_as_before() -> None:
    payload = {
        "application_id": uuid.UUID(int=1),
        "submitted_at": dt.datetime(2026, 12, 2, 10, 0, 1, 5, tzinfo=dt.UTC),
        "implementation_start": dt.date(2027, 1, 1),
        "claimed_overall_saving_pct": Decimal("7.25"),
        "requested_support_vnd": Decimal("150000000"),
        "screening_reasons": [{"code": "sector", "message": "Ngành không đủ điều kiện", "field": None}],
        "tranches": [],
        "status": Colour.RED,
    }
    row = event_row(
        "application.submitted", aggregate_type="application", aggregate_id=uuid.UUID(int=1), payload=payload
    )
    assert repr(row["payload"]) == repr(jsonable_encoder(payload))
