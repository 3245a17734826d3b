"""One baseline period as the user typed it — a row of the "add a period" form or a line of an uploaded CSV —
turned into the registry's body (`BaselineFields`), and the registry's field errors turned back into the
names the user sees. Carriers and units are the kit's fixed vocabulary (`cleanprod_kit.units`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cleanprod_kit.units import CARRIER_UNITS, PRODUCTION_UNITS

from ..api import FieldErrors
from ..carriers import carrier_name
from ..forms import Form
from ..i18n import N_, gettext
from .numbers import NotAMonth, NotANumber, parse_month, parse_number

CARRIERS: tuple[str, ...] = tuple(CARRIER_UNITS)

# Unit symbols are international; only the two words are translated.
UNIT_LABELS: dict[str, str] = {"unit": N_("units (pieces)"), "t": N_("t (tonnes)")}


def carrier_label(carrier: str) -> str:
    return carrier_name(carrier)


UNIT_SYMBOLS: dict[str, str] = {"unit": N_("pcs")}


def unit_label(unit: str) -> str:
    """How a unit reads in a choice list: 't (tonnes)', 'm³'."""
    return gettext(UNIT_LABELS[unit]) if unit in UNIT_LABELS else unit_symbol(unit)


def unit_symbol(unit: str) -> str:
    """How a unit reads after a number in the grid: 't', 'm³', 'pcs'."""
    if unit in UNIT_SYMBOLS:
        return gettext(UNIT_SYMBOLS[unit])
    return unit.replace("m3", "m³").replace("m2", "m²")


def production_unit_options() -> list[tuple[str, str]]:
    return [(unit, unit_label(unit)) for unit in PRODUCTION_UNITS]


def carrier_unit_options(carrier: str) -> list[tuple[str, str]]:
    return [(unit, unit_label(unit)) for unit in CARRIER_UNITS.get(carrier, ())]


def quantity_field(carrier: str) -> str:
    return f"{carrier}_quantity"


def unit_field(carrier: str) -> str:
    return f"{carrier}_unit"


def period_form_context() -> dict[str, Any]:
    """What the one-period form shows (the enterprise's baselines and the verifier's measurements alike): each
    carrier's fields and unit choices, the production units, and how a unit reads after a number."""
    return {
        "carrier_inputs": [
            {
                "carrier": c,
                "label": carrier_label(c),
                "quantity": quantity_field(c),
                "unit": unit_field(c),
                "units": carrier_unit_options(c),
            }
            for c in CARRIERS
        ],
        "production_units": production_unit_options(),
        "unit_symbol": unit_symbol,
    }


def csv_carrier_columns() -> list[tuple[str, str, str]]:
    """The CSV help's rows: carrier, its name, the units its column header may name."""
    return [(c, carrier_label(c), ", ".join(CARRIER_UNITS[c])) for c in CARRIERS]


FORM_FIELDS: tuple[str, ...] = (
    "period",
    "production_quantity",
    "production_unit",
    "estimated",
    "notes",
    *(name for c in CARRIERS for name in (quantity_field(c), unit_field(c))),
)


@dataclass
class BaselineInput:
    """The API body (when every value could be read) or the field errors; `api_fields` maps the API's error
    paths (`consumption.1.quantity`) to this input's field names. The registry checks a unit against its
    quantity's kind as a whole (`production`, `consumption.1`): those errors go to the unit field."""

    body: dict[str, Any] | None
    errors: dict[str, str] = field(default_factory=dict)
    api_fields: dict[str, str] = field(default_factory=dict)

    def field_for(self, api_path: str) -> str:
        if api_path in self.api_fields:
            return self.api_fields[api_path]
        head = api_path.split(".", 1)[0]
        return self.api_fields.get(head, head)


def _text(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name)
    return value.strip() if isinstance(value, str) else ""


def _truthy(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "y", "x", "on", "có", "co", "đúng"}


async def send_period(form: Form, entry: BaselineInput, send: Callable[[dict[str, Any]], Awaitable[object]]) -> bool:
    """Sends one period as typed (`entry`, read from `form`) when every value could be read: True once saved.
    Otherwise the messages, the portal's or the API's, go next to the fields, with a summary saying the period
    was not saved. Any other API answer (412, ...) is the caller's."""
    if entry.body is None:
        for name, message in entry.errors.items():
            form.add_error(name, message)
    else:
        try:
            await send(entry.body)
            return True
        except FieldErrors as exc:
            for api_path, message in exc.errors.items():
                form.add_error(entry.field_for(api_path), message)
            if not exc.errors:
                form.summary = exc.summary
    if not form.summary:
        form.summary = gettext("The period was not saved. Check the values marked below.")
    return False


def read_baseline(values: Mapping[str, Any]) -> BaselineInput:
    """`values` use the form's names (FORM_FIELDS). A carrier with no quantity is not consumed that period."""
    errors: dict[str, str] = {}
    api_fields = {
        "period_start": "period",
        "period_end": "period",
        "production.quantity": "production_quantity",
        "production.unit": "production_unit",
        "production": "production_unit",
        "notes": "notes",
        "consumption": "consumption",
        "estimated": "estimated",
        "body": "period",
    }
    try:
        start, end = parse_month(_text(values, "period"))
    except NotAMonth:
        errors["period"] = gettext("Enter the month as yyyy-mm, for example 2025-01")
        start = end = None
    production: float | None = None
    try:
        production = parse_number(_text(values, "production_quantity"))
        if production is None:
            errors["production_quantity"] = gettext("Enter the quantity produced in this period")
    except NotANumber:
        errors["production_quantity"] = gettext("Enter a number, for example 1.250,5")
    consumption: list[dict[str, Any]] = []
    for carrier in CARRIERS:
        name = quantity_field(carrier)
        try:
            quantity = parse_number(_text(values, name))
        except NotANumber:
            errors[name] = gettext("Enter a number, for example 1.250,5")
            continue
        if quantity is None:
            continue
        index = len(consumption)
        unit = _text(values, unit_field(carrier)) or CARRIER_UNITS[carrier][0]
        consumption.append({"carrier": carrier, "quantity": quantity, "unit": unit})
        api_fields[f"consumption.{index}.quantity"] = name
        api_fields[f"consumption.{index}.unit"] = unit_field(carrier)
        api_fields[f"consumption.{index}.carrier"] = name
        api_fields[f"consumption.{index}"] = unit_field(carrier)  # the registry judges carrier and unit together
    if not consumption and "consumption" not in errors:
        errors["consumption"] = gettext("Enter the consumption of at least one energy carrier or water")
    if errors:
        return BaselineInput(None, errors, api_fields)
    body: dict[str, Any] = {
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),  # type: ignore[union-attr]
        "production": {"quantity": production, "unit": _text(values, "production_unit")},
        "consumption": consumption,
        "estimated": _truthy(_text(values, "estimated")),
    }
    notes = _text(values, "notes")
    if notes:
        body["notes"] = notes
    return BaselineInput(body, {}, api_fields)
