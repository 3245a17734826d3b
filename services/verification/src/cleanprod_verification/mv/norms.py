"""Sector norms (định mức tiêu hao năng lượng) and SEC unit conversion to the norm's unit.

Norms are published per unit of product, e.g. ``MJ/tonne`` (steel, paper), ``MJ/hl`` (beer, soft drinks),
``kWh/tonne`` (seafood). SEC here is TOE per canonical production unit (t, m³, unit); ``convert_sec`` turns it
into any "<energy>/<production>" unit. Energy units in this table are *physical* (1 kWh = 3.6 MJ,
1 TOE = 41 868 MJ); note that the MOIT table counts electricity at 0.0001543 TOE/kWh (≈ 6.46 MJ), so a
norm whose circular counts electricity at 3.6 MJ/kWh is not exactly comparable with a TOE total that
includes electricity — the comparison reports the figure, and the verifier judges.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UnknownUnitError
from .units import Unit, production_unit

MJ_PER: dict[str, float] = {
    "MJ": 1.0,
    "GJ": 1e3,
    "TJ": 1e6,
    "kWh": 3.6,
    "MWh": 3.6e3,
    "kgOE": 41.868,
    "TOE": 41_868.0,
}
_ENERGY_LOOKUP = {k.lower(): k for k in MJ_PER}


@dataclass(frozen=True, slots=True)
class SectorNorm:
    value: float
    unit: str  # "<energy>/<production>", e.g. "MJ/tonne"
    label: str = ""  # e.g. "20/2016/TT-BCT steel — hot rolling long products (2021–2025)"


@dataclass(frozen=True, slots=True)
class NormComparison:
    label: str
    unit: str
    norm_value: float
    reporting_sec: float  # in the norm's unit
    within_norm: bool  # reporting SEC ≤ norm
    margin_percent: float  # (norm − SEC)/norm·100: positive = better than the norm


def parse_sec_unit(text: str, field: str | None = None) -> tuple[str, Unit]:
    """Split "MJ/tonne" into an energy symbol and a production unit."""
    energy, sep, product = text.partition("/") if isinstance(text, str) else ("", "", "")
    symbol = _ENERGY_LOOKUP.get(energy.strip().lower())
    if not sep or symbol is None:
        raise UnknownUnitError(
            f"unknown SEC unit {text!r}; expected <energy>/<production> with energy one of {', '.join(MJ_PER)}",
            field,
        )
    return symbol, production_unit(product.strip(), field)


def convert_sec(value: float, from_unit: str, to_unit: str, field: str | None = None) -> float:
    """An SEC figure in ``from_unit`` (e.g. "TOE/t") expressed in ``to_unit`` (e.g. "MJ/hl")."""
    e_from, p_from = parse_sec_unit(from_unit, field)
    e_to, p_to = parse_sec_unit(to_unit, field)
    if p_from.dimension is not p_to.dimension:
        raise UnknownUnitError(
            f"cannot compare energy per {p_from.symbol} ({p_from.dimension}) with energy per "
            f"{p_to.symbol} ({p_to.dimension})",
            field,
        )
    # energy scales up with the energy unit's size; "per product" scales with the product unit's size
    return value * (MJ_PER[e_from] / MJ_PER[e_to]) * (p_to.to_base / p_from.to_base)


def compare_with_norm(sec_toe_per_unit: float, production_canonical_unit: str, norm: SectorNorm) -> NormComparison:
    sec = convert_sec(sec_toe_per_unit, f"TOE/{production_canonical_unit}", norm.unit, "norm.unit")
    return NormComparison(
        label=norm.label,
        unit=norm.unit,
        norm_value=norm.value,
        reporting_sec=sec,
        # a relative 1e-12 slack so that a value exactly at the norm is not pushed over it by unit conversion
        within_norm=sec <= norm.value * (1.0 + 1e-12),
        margin_percent=(norm.value - sec) / norm.value * 100.0 if norm.value > 0 else 0.0,
    )
