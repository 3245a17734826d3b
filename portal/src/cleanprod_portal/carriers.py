"""Energy carriers (material, fuel, energy) and their units as people read them. The vocabulary itself is the
kit's (`cleanprod_kit.units.CARRIER_UNITS`, what every service accepts); here only their names."""

from __future__ import annotations

from cleanprod_kit.units import CARRIER_UNITS

from .i18n import N_, gettext

CARRIER_NAMES: dict[str, str] = {
    "electricity": N_("Electricity"),
    "coal_grade_1_2": N_("Coal, grades 1–2"),
    "coal_grade_3_4": N_("Coal, grades 3–4"),
    "coal_grade_5_6": N_("Coal, grades 5–6"),
    "coke": N_("Coke"),
    "diesel_oil": N_("Diesel oil (DO)"),
    "fuel_oil": N_("Fuel oil (FO)"),
    "gasoline": N_("Gasoline"),
    "lpg": N_("Liquefied petroleum gas (LPG)"),
    "natural_gas": N_("Natural gas"),
    "water": N_("Water"),
}


def carrier_name(code: str | None) -> str:
    return gettext(CARRIER_NAMES[code]) if code in CARRIER_NAMES else (code or "")


def carrier_options() -> list[tuple[str, str]]:
    """(code, name) for a select, in the kit's order."""
    return [(code, carrier_name(code)) for code in CARRIER_UNITS]


def units_of(code: str | None) -> tuple[str, ...]:
    return CARRIER_UNITS.get(code or "", ())
