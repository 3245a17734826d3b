"""The conversion and emission factor tables, loaded from the CSVs shipped inside the package.

``reference/energy_factors.csv`` (MOIT 3505/BCT-KHCN: TOE per physical unit) and
``reference/emission_factors.csv`` (DCC grid factor per year in tCO2/MWh; IPCC 2006 combustion factors in
kgCO2/TJ) are read with ``importlib.resources`` so an installed wheel finds them; nothing outside the package
is read at run time. Tables are parsed once per process.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

from .errors import UnknownUnitError, UnsupportedCarrierError
from .units import Dimension, known_units, parse_unit

GJ_PER_TOE = 41.868  # IEA/MOIT definition of the tonne of oil equivalent
ELECTRICITY = "electricity"


@dataclass(frozen=True, slots=True)
class EnergyFactor:
    carrier: str
    unit: str  # the table's own spelling, e.g. "1000 m3"
    toe_per_unit: float
    source: str


@dataclass(frozen=True, slots=True)
class GridFactor:
    year: int
    t_co2_per_mwh: float
    source: str


@dataclass(frozen=True, slots=True)
class CombustionFactor:
    carrier: str
    kg_co2_per_tj: float
    source: str


@dataclass(frozen=True, slots=True)
class GridFactorChoice:
    """The grid factor applied for a requested year, and why that year."""

    requested_year: int
    year: int
    t_co2_per_mwh: float
    note: str  # empty when the requested year itself was published


@dataclass
class FactorTables:
    energy: dict[str, tuple[EnergyFactor, ...]]
    grid: tuple[GridFactor, ...]  # sorted by year
    combustion: dict[str, CombustionFactor]
    _toe_cache: dict[tuple[str, str], float] = field(default_factory=dict, repr=False)

    @property
    def carriers(self) -> list[str]:
        return sorted(self.energy)

    def cached_toe_per(self, carrier: str, unit: str) -> float | None:
        """The factor if this exact (carrier, unit) spelling was converted before; None otherwise."""
        return self._toe_cache.get((carrier, unit))

    def toe_per(self, carrier: str, unit: str, field: str | None = None) -> float:
        """TOE in one ``unit`` of ``carrier``; the table row of the same dimension is scaled by the units table."""
        key = (carrier, unit)
        cached = self._toe_cache.get(key)
        if cached is not None:
            return cached
        rows = self.energy.get(carrier) if isinstance(carrier, str) else None
        if rows is None:
            raise UnsupportedCarrierError(
                f"unknown energy carrier {carrier!r}; use one of: {', '.join(self.carriers)}", field
            )
        given = parse_unit(unit, field)
        matches = [(r, parse_unit(r.unit)) for r in rows]
        same_dim = [(r, u) for r, u in matches if u.dimension is given.dimension]
        if not same_dim:
            accepted = known_units(frozenset(u.dimension for _, u in matches))
            raise UnknownUnitError(
                f"{carrier} cannot be given in {given.symbol}; use one of: {', '.join(accepted)}", field
            )
        # Prefer the row in exactly the given unit, so its factor is used without any scaling.
        row, row_unit = next(((r, u) for r, u in same_dim if u is given), same_dim[0])
        value = row.toe_per_unit * given.to_base / row_unit.to_base
        self._toe_cache[key] = value
        return value

    def grid_factor(self, year: int) -> GridFactorChoice:
        """The grid factor of the latest published year ≤ ``year``; outside the table, the nearest end."""
        if not self.grid:
            raise UnsupportedCarrierError("no grid emission factor is configured for electricity")
        chosen = None
        for g in self.grid:
            if g.year <= year:
                chosen = g
        if chosen is None:
            first = self.grid[0]
            return GridFactorChoice(
                year,
                first.year,
                first.t_co2_per_mwh,
                f"no grid factor published for {year} or earlier; used {first.year} (earliest available)",
            )
        note = ""
        if chosen.year != year:
            last = self.grid[-1].year
            why = "latest available" if chosen.year == last else f"latest published year not after {year}"
            note = f"no grid factor published for {year}; used {chosen.year} ({why})"
        return GridFactorChoice(year, chosen.year, chosen.t_co2_per_mwh, note)

    def combustion_factor(self, carrier: str, field: str | None = None) -> CombustionFactor:
        factor = self.combustion.get(carrier)
        if factor is None:
            raise UnsupportedCarrierError(f"no combustion emission factor for {carrier!r}", field)
        return factor


def load_tables(energy_csv: str, emission_csv: str) -> FactorTables:
    """Parse the two CSV texts; a malformed table is a programming/deployment error, not user input."""
    energy: dict[str, list[EnergyFactor]] = {}
    for row in csv.DictReader(io.StringIO(energy_csv)):
        factor = EnergyFactor(row["carrier"].strip(), row["unit"].strip(), float(row["toe_per_unit"]), row["source"])
        parse_unit(factor.unit)  # every table unit must be in the units list
        energy.setdefault(factor.carrier, []).append(factor)

    grid: list[GridFactor] = []
    combustion: dict[str, CombustionFactor] = {}
    for row in csv.DictReader(io.StringIO(emission_csv)):
        carrier, basis, unit = row["carrier"].strip(), row["basis"].strip(), row["unit"].strip()
        if basis == "grid":
            if carrier != ELECTRICITY or unit != "tCO2/MWh":
                raise ValueError(f"unexpected grid factor row: {row}")
            grid.append(GridFactor(int(row["valid_year"]), float(row["factor"]), row["source"]))
        elif basis == "combustion":
            if unit != "kgCO2/TJ":
                raise ValueError(f"unexpected combustion factor unit: {row}")
            combustion[carrier] = CombustionFactor(carrier, float(row["factor"]), row["source"])
        else:
            raise ValueError(f"unknown emission factor basis {basis!r}")
    grid.sort(key=lambda g: g.year)
    if len({g.year for g in grid}) != len(grid):
        raise ValueError("duplicate grid factor year")

    for carrier, rows in energy.items():
        is_elec = any(parse_unit(r.unit).dimension is Dimension.ELECTRICITY for r in rows)
        if is_elec != (carrier == ELECTRICITY):
            raise ValueError(f"only {ELECTRICITY} may be measured in electrical energy units ({carrier})")
        if carrier != ELECTRICITY and carrier not in combustion:
            raise ValueError(f"carrier {carrier} has no combustion emission factor")
    return FactorTables({c: tuple(r) for c, r in energy.items()}, tuple(grid), combustion)


@lru_cache(maxsize=1)
def default_tables() -> FactorTables:
    ref = files("cleanprod_verification") / "reference"
    return load_tables(
        (ref / "energy_factors.csv").read_text(encoding="utf-8"),
        (ref / "emission_factors.csv").read_text(encoding="utf-8"),
    )
