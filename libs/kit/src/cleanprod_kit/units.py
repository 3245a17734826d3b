"""The fixed vocabulary of quantities the platform accepts: energy carriers with their physical units, and
production units. Conversion factors live with the code that converts (verification); this is only what a
request may say, so every service rejects the same unknown units the same way."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, model_validator

from .errors import InvalidValue
from .fields import StrictBody, Text

CARRIER_UNITS: dict[str, tuple[str, ...]] = {
    "electricity": ("kWh", "MWh"),
    "coal_grade_1_2": ("t", "kg"),
    "coal_grade_3_4": ("t", "kg"),
    "coal_grade_5_6": ("t", "kg"),
    "coke": ("t", "kg"),
    "diesel_oil": ("t", "m3", "L"),
    "fuel_oil": ("t", "m3", "L"),
    "gasoline": ("t", "m3", "L"),
    "lpg": ("t", "kg"),
    "natural_gas": ("1000 m3", "m3"),
    "water": ("m3",),
}

PRODUCTION_UNITS: tuple[str, ...] = ("t", "kg", "hl", "L", "m3", "unit", "m2")

NonNegativeQuantity = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]


class Quantity(StrictBody):
    quantity: NonNegativeQuantity
    unit: Text(16)


def _production_schema(schema: dict[str, Any]) -> None:
    schema["properties"]["unit"]["enum"] = list(PRODUCTION_UNITS)


def carrier_unit_choices(unit_path: tuple[str, ...] = ("unit",)) -> list[dict[str, Any]]:
    """JSON-schema `anyOf` branches saying which units go with which carrier (the validators' rule), for a unit
    at `unit_path` inside the object; the document then states the whole vocabulary, not only its parts."""
    branches = []
    for carrier, units in CARRIER_UNITS.items():
        unit: dict[str, Any] = {"enum": list(units)}
        for key in reversed(unit_path[1:]):
            unit = {"properties": {key: unit}}
        branches.append({"properties": {"carrier": {"const": carrier}, unit_path[0]: unit}})
    return branches


def _carrier_schema(schema: dict[str, Any]) -> None:
    schema["properties"]["carrier"]["enum"] = list(CARRIER_UNITS)
    schema["properties"]["unit"]["enum"] = sorted({u for units in CARRIER_UNITS.values() for u in units})
    schema["anyOf"] = carrier_unit_choices()


class ProductionQuantity(Quantity):
    model_config = ConfigDict(json_schema_extra=_production_schema)

    @model_validator(mode="after")
    def _known_unit(self) -> ProductionQuantity:
        if self.unit not in PRODUCTION_UNITS:
            raise InvalidValue(
                "unknown_unit",
                f"unit '{self.unit}' is not a production unit; use one of {', '.join(PRODUCTION_UNITS)}",
                unit=self.unit,
                units=", ".join(PRODUCTION_UNITS),
            )
        return self


def check_carrier_unit(carrier: str, unit: str | None) -> None:
    """`carrier` must be a known one and `unit` (when given) one of its units; else the field error that says
    which are."""
    units = CARRIER_UNITS.get(carrier)
    if units is None:
        raise InvalidValue(
            "unknown_carrier",
            f"unknown carrier '{carrier}'; use one of {', '.join(CARRIER_UNITS)}",
            carrier=carrier,
            carriers=", ".join(CARRIER_UNITS),
        )
    if unit is not None and unit not in units:
        raise InvalidValue(
            "unit_not_for_carrier",
            f"unit '{unit}' does not fit carrier '{carrier}'; use one of {', '.join(units)}",
            unit=unit,
            carrier=carrier,
            units=", ".join(units),
        )


class CarrierQuantity(Quantity):
    model_config = ConfigDict(json_schema_extra=_carrier_schema)

    carrier: Text(32)

    @model_validator(mode="after")
    def _known_carrier_unit(self) -> CarrierQuantity:
        check_carrier_unit(self.carrier, self.unit)
        return self
