"""Physical energy quantities → TOE, GJ and tonnes of CO2.

Energy: the MOIT table gives TOE per physical unit; GJ = TOE × 41.868.
CO2: electricity uses the national grid factor (tCO2/MWh) of the period's year; fuels use the IPCC combustion
factor (kgCO2/TJ) applied to their energy content in TJ (TOE × 41.868 / 1000). Electricity is converted back
to MWh through the same MOIT factor it was converted to TOE with, so a kWh counted once stays one kWh.
"""

from __future__ import annotations

from dataclasses import dataclass

from .factors import ELECTRICITY, GJ_PER_TOE, FactorTables, default_tables

TJ_PER_TOE = GJ_PER_TOE / 1000.0


@dataclass(frozen=True, slots=True)
class EnergyAmount:
    toe: float
    gj: float


@dataclass(frozen=True, slots=True)
class EmissionFactorUsed:
    """What a CO2 figure was computed with, for the record."""

    carrier: str
    factor: float
    unit: str  # "tCO2/MWh" (grid) or "kgCO2/TJ" (combustion)
    t_co2_per_toe: float
    year: int | None  # grid factor year actually used; None for combustion factors
    note: str  # e.g. which year replaced an unpublished one


def toe_to_gj(toe: float) -> float:
    return toe * GJ_PER_TOE


def energy_toe(
    carrier: str, quantity: float, unit: str, *, tables: FactorTables | None = None, field: str | None = None
) -> float:
    """TOE in ``quantity`` ``unit`` of ``carrier``; raises UnsupportedCarrierError / UnknownUnitError."""
    return quantity * (tables or default_tables()).toe_per(carrier, unit, field)


def to_energy(
    carrier: str, quantity: float, unit: str, *, tables: FactorTables | None = None, field: str | None = None
) -> EnergyAmount:
    toe = energy_toe(carrier, quantity, unit, tables=tables, field=field)
    return EnergyAmount(toe=toe, gj=toe_to_gj(toe))


def emission_factor(carrier: str, year: int, *, tables: FactorTables | None = None) -> EmissionFactorUsed:
    """The CO2 factor for ``carrier`` in ``year``, also expressed per TOE of that carrier."""
    t = tables or default_tables()
    if carrier == ELECTRICITY:
        grid = t.grid_factor(year)
        mwh_per_toe = 1.0 / t.toe_per(ELECTRICITY, "MWh")
        return EmissionFactorUsed(
            ELECTRICITY, grid.t_co2_per_mwh, "tCO2/MWh", grid.t_co2_per_mwh * mwh_per_toe, grid.year, grid.note
        )
    comb = t.combustion_factor(carrier)
    t_per_toe = TJ_PER_TOE * comb.kg_co2_per_tj / 1000.0
    return EmissionFactorUsed(carrier, comb.kg_co2_per_tj, "kgCO2/TJ", t_per_toe, None, "")


def co2_tonnes(
    carrier: str, quantity: float, unit: str, year: int, *, tables: FactorTables | None = None
) -> tuple[float, EmissionFactorUsed]:
    """Tonnes of CO2 from burning / consuming ``quantity`` ``unit`` of ``carrier`` in ``year``."""
    toe = energy_toe(carrier, quantity, unit, tables=tables)
    factor = emission_factor(carrier, year, tables=tables)
    return toe * factor.t_co2_per_toe, factor
