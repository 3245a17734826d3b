"""The OpenAPI document states the rules the kit enforces, so a client (or a fuzzer) that follows the document is
accepted and one that breaks it is refused: text patterns, carriers and units, booleans in number fields, and the
If-Match / Idempotency-Key headers. Each case is checked both ways — against the schema (jsonschema-rs, the
validator Schemathesis uses) and against the pydantic model."""

from __future__ import annotations

import itertools
from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI, Request
from pydantic import ValidationError

from cleanprod_kit.concurrency import check_if_match
from cleanprod_kit.fields import MULTI_LINE_PATTERN, SINGLE_LINE_PATTERN, StrictBody, Text
from cleanprod_kit.idempotency import Created, create_once
from cleanprod_kit.openapi import OPTIONAL_IF_MATCH, decorate
from cleanprod_kit.units import CARRIER_UNITS, PRODUCTION_UNITS, CarrierQuantity, ProductionQuantity

SAMPLES = [
    "a",
    "Hà Nội",
    " trimmed ",
    "x" * 10,
    "",
    " ",
    "\u3000",
    "\xa0",
    "a\tb",
    "a\nb",
    "line\r\nbreak",
    "\x00",
    "nul\x00",
    "\x7f",
    "c1\x85",
    "\x1b[31m",
    "😀",
    "\ufeff",
]


class Note(StrictBody):
    name: Text(10)
    notes: Text(20, multiline=True) | None = None


def _accepted(**fields: Any) -> bool:
    try:
        Note.model_validate({"name": "ok", **fields})
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("value", SAMPLES)
def test_text_patterns_say_what_the_validator_does(value: str) -> None:
    schema = Note.model_json_schema()["properties"]
    assert schema["name"]["pattern"] == SINGLE_LINE_PATTERN
    assert schema["notes"]["anyOf"][0]["pattern"] == MULTI_LINE_PATTERN
    for field, pattern, limit in (("name", SINGLE_LINE_PATTERN, 10), ("notes", MULTI_LINE_PATTERN, 20)):
        documented = jsonschema_rs.validator_for(
            {"type": "string", "minLength": 1, "maxLength": limit, "pattern": pattern}
        ).is_valid(value)
        assert documented == _accepted(**{field: value}), (field, value)


def test_quantities_state_carriers_and_their_units() -> None:
    carrier = jsonschema_rs.validator_for(CarrierQuantity.model_json_schema())
    production = jsonschema_rs.validator_for(ProductionQuantity.model_json_schema())
    units = sorted({u for us in CARRIER_UNITS.values() for u in us} | set(PRODUCTION_UNITS) | {"kwh", "0"})
    for name, unit in itertools.product([*CARRIER_UNITS, "steam"], units):
        body = {"carrier": name, "unit": unit, "quantity": 1.5}
        try:
            CarrierQuantity.model_validate(body)
            accepted = True
        except ValidationError:
            accepted = False
        assert carrier.is_valid(body) == accepted, body
    for unit in units:
        body = {"unit": unit, "quantity": 2}
        assert production.is_valid(body) == (unit in PRODUCTION_UNITS), body


def test_a_number_field_refuses_booleans() -> None:
    class Place(StrictBody):
        longitude: float | None = None
        count: int = 0
        active: bool = True

    for body in ({"longitude": False}, {"count": True}):
        with pytest.raises(ValidationError):
            Place.model_validate(body)
    assert Place.model_validate({"active": False, "longitude": 1.5}).active is False


def test_if_match_and_idempotency_key_are_declared() -> None:
    app = FastAPI()

    @app.patch("/things/{thing_id}")
    async def change(thing_id: str, request: Request) -> None:
        check_if_match(request, 1)

    @app.delete("/things/{thing_id}", openapi_extra=OPTIONAL_IF_MATCH)
    async def remove(thing_id: str, request: Request) -> None:
        if request.headers.get("if-match") is not None:
            check_if_match(request, 1)

    @app.post("/things")
    async def create(request: Request) -> Any:
        async def make() -> Created:
            return Created(201, {}, {})

        return await create_once(request, None, None, {}, make)  # type: ignore[arg-type]

    doc = decorate(app.openapi(), list(app.routes))

    def headers(path: str, method: str) -> dict[str, bool]:
        return {
            p["name"]: p["required"] for p in doc["paths"][path][method].get("parameters", []) if p["in"] == "header"
        }

    assert headers("/things/{thing_id}", "patch") == {"If-Match": True}
    assert headers("/things/{thing_id}", "delete") == {"If-Match": False}
    assert headers("/things", "post") == {"Idempotency-Key": False}
    assert "428" in doc["paths"]["/things/{thing_id}"]["patch"]["responses"]
