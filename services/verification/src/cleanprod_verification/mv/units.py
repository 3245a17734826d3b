"""The fixed list of physical units and table-driven scaling between units of one dimension.

Quantities travel as ``{quantity, unit}``. Each unit belongs to one dimension and has a factor to the
dimension's base unit (kWh, t, m³, m², unit), so ``MWh = 1000 kWh``, ``kg = 0.001 t``, ``L = 0.001 m³``.
Electrical energy is its own dimension on purpose: the MOIT table converts kWh of electricity with a
conventional factor, so accepting "GJ of electricity" would silently mix two accounting conventions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from .errors import UnknownUnitError


class Dimension(StrEnum):
    ELECTRICITY = "electrical energy"
    MASS = "mass"
    VOLUME = "volume"
    AREA = "area"
    COUNT = "count"


@dataclass(frozen=True, slots=True)
class Unit:
    symbol: str
    dimension: Dimension
    to_base: float  # how many base units of the dimension one of this unit is


_UNITS: tuple[Unit, ...] = (
    Unit("kWh", Dimension.ELECTRICITY, 1.0),
    Unit("MWh", Dimension.ELECTRICITY, 1e3),
    Unit("GWh", Dimension.ELECTRICITY, 1e6),
    Unit("t", Dimension.MASS, 1.0),
    Unit("kg", Dimension.MASS, 1e-3),
    Unit("m3", Dimension.VOLUME, 1.0),
    Unit("1000 m3", Dimension.VOLUME, 1e3),
    Unit("hl", Dimension.VOLUME, 0.1),
    Unit("L", Dimension.VOLUME, 1e-3),
    Unit("m2", Dimension.AREA, 1.0),
    Unit("unit", Dimension.COUNT, 1.0),
    Unit("piece", Dimension.COUNT, 1.0),
)
UNITS: dict[str, Unit] = {u.symbol: u for u in _UNITS}

# Base (canonical) unit per dimension; production and SEC are expressed per these.
CANONICAL: dict[Dimension, str] = {
    Dimension.ELECTRICITY: "kWh",
    Dimension.MASS: "t",
    Dimension.VOLUME: "m3",
    Dimension.AREA: "m2",
    Dimension.COUNT: "unit",
}
PRODUCTION_DIMENSIONS = frozenset({Dimension.MASS, Dimension.VOLUME, Dimension.AREA, Dimension.COUNT})

# Spellings people actually type, mapped to a symbol. "ton" is left out on purpose: it is ambiguous
# (short ton), and a wrong guess would be worse than asking.
_ALIASES: dict[str, str] = {
    "tonne": "t",
    "tonnes": "t",
    "tấn": "t",
    "m²": "m2",
    "m³": "m3",
    "1000 m³": "1000 m3",
    "thousand m3": "1000 m3",
    "l": "L",
    "litre": "L",
    "litres": "L",
    "liter": "L",
    "liters": "L",
    "lít": "L",
    "hectolitre": "hl",
    "hectoliter": "hl",
    "units": "unit",
    "pieces": "piece",
    "pcs": "piece",
    "pc": "piece",
}


def _key(text: str) -> str:
    # Case, spaces and the superscript 3 are not meaningful in this list, so "1000m³" == "1000 m3".
    return "".join(text.split()).lower().replace("³", "3").replace("²", "2")


_LOOKUP: dict[str, Unit] = {_key(u.symbol): u for u in _UNITS}
_LOOKUP.update({_key(alias): UNITS[symbol] for alias, symbol in _ALIASES.items()})
assert len({_key(u.symbol) for u in _UNITS}) == len(_UNITS), "unit symbols must stay distinct once normalised"


def known_units(dimensions: frozenset[Dimension] | None = None) -> list[str]:
    return [u.symbol for u in _UNITS if dimensions is None or u.dimension in dimensions]


@lru_cache(maxsize=256)
def _parse(text: str) -> Unit | None:
    return _LOOKUP.get(_key(text))


def parse_unit(text: str, field: str | None = None) -> Unit:
    unit = _parse(text) if isinstance(text, str) else None
    if unit is None:
        raise UnknownUnitError(f"unknown unit {text!r}; use one of: {', '.join(known_units())}", field)
    return unit


def convert(quantity: float, from_unit: str, to_unit: str, field: str | None = None) -> float:
    """``quantity`` in ``from_unit`` expressed in ``to_unit`` (same dimension only)."""
    src, dst = parse_unit(from_unit, field), parse_unit(to_unit, field)
    if src.dimension is not dst.dimension:
        raise UnknownUnitError(
            f"cannot convert {src.symbol} ({src.dimension}) to {dst.symbol} ({dst.dimension})", field
        )
    return quantity * (src.to_base / dst.to_base)


def production_unit(text: str, field: str | None = None) -> Unit:
    """A unit valid for production (mass, volume or count)."""
    unit = parse_unit(text, field)
    if unit.dimension not in PRODUCTION_DIMENSIONS:
        raise UnknownUnitError(
            f"{unit.symbol} is not a production unit; use one of: {', '.join(known_units(PRODUCTION_DIMENSIONS))}",
            field,
        )
    return unit


def to_canonical_production(quantity: float, unit: str, field: str | None = None) -> tuple[float, str]:
    """Production in the canonical unit of its dimension: (value, canonical symbol)."""
    u = production_unit(unit, field)
    return quantity * u.to_base, CANONICAL[u.dimension]
