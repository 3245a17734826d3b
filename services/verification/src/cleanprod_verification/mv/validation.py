"""Input validation, done in the same pass that converts periods to arrays of TOE and canonical production.

Every problem is collected with the path of its field (``baseline_periods[2].consumption[0].unit``) and raised
together as ``InputErrors``, so a verifier can fix a whole measurement sheet at once. Checked:
negative / non-finite / implausibly large numbers (``ValidationLimits``), unknown carriers and units, inverted
periods (end before start), overlapping periods (sharing one boundary day is allowed), reporting periods that
start before the baseline ends, production units of different dimensions, and zero total production or zero
baseline energy (SEC would be undefined).
Non-energy resources recorded with the consumption (water) are checked and then left out of energy figures.
Periods are returned sorted by start date: the residual autocorrelation in the FSU needs time order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from .errors import InputError, InputErrors, InvalidPeriodError, InvalidValueError, UnsupportedCarrierError
from .factors import FactorTables
from .inputs import CarrierQuantity, Claim, Period, Quantity
from .norms import SectorNorm, parse_sec_unit
from .units import CANONICAL, Dimension, production_unit

# Resources the platform records per period next to energy carriers; they are validated but carry no energy.
NON_ENERGY_RESOURCES = frozenset({"water"})


@dataclass(frozen=True)
class ValidationLimits:
    """Upper bounds beyond which a figure is taken to be a typing or unit mistake."""

    max_period_energy_toe: float = 1e6  # one carrier in one period; a large steel plant uses ~1e5 TOE/month
    max_production: float = 1e9  # per period, in the canonical unit (t, m3, m2, unit)
    max_degree_days_per_day: float = 40.0  # CDD or HDD per day of the period
    max_claim_percent: float = 100.0


@dataclass(frozen=True)
class PeriodSeries:
    """One set of periods (baseline or reporting) as arrays, sorted by start date."""

    starts: list[date]
    ends: list[date]
    production: np.ndarray  # (n,), canonical production unit
    energy: np.ndarray  # (n, k) TOE, columns in ``PreparedInputs.carriers`` order
    cdd: list[float | None]
    hdd: list[float | None]

    def __len__(self) -> int:
        return len(self.starts)


@dataclass(frozen=True)
class PreparedInputs:
    baseline: PeriodSeries
    reporting: PeriodSeries
    carriers: list[str]
    production_unit: str  # canonical: t, m3, m2 or unit
    ignored_resources: list[str]  # non-energy entries present in the input (e.g. water), not used


@dataclass(slots=True)
class _Row:
    index: int
    start: date
    end: date
    production: float
    dimension: Dimension | None
    energy: dict[str, float]
    cdd: float | None
    hdd: float | None


def _plain(value: object) -> bool:
    """An ordinary finite non-negative number: the common case, checked without building field paths."""
    return (type(value) is float or type(value) is int) and 0.0 <= value < math.inf  # type: ignore[operator]


def _number(
    value: object,
    field: str,
    errors: list[InputError],
    *,
    upper: float | None = None,
    what: str = "value",
    allow_negative: bool = False,
) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.append(InvalidValueError(f"{what} must be a number", field))
        return None
    v = float(value)
    if not math.isfinite(v):
        errors.append(InvalidValueError(f"{what} must be a finite number", field))
        return None
    if v < 0 and not allow_negative:
        errors.append(InvalidValueError(f"{what} must not be negative (got {v:g})", field))
        return None
    if upper is not None and v > upper:
        errors.append(InvalidValueError(f"{what} {v:g} is implausibly large (limit {upper:g}); check the unit", field))
        return None
    return v


def _production(
    prod: Quantity, prefix: str, limits: ValidationLimits, errors: list[InputError]
) -> tuple[float, Dimension | None, bool]:
    """The period's production in its dimension's base unit, the dimension, and whether it was readable."""
    try:
        unit = production_unit(prod.unit, f"{prefix}.production.unit")
    except InputError as e:
        errors.append(e)
        return 0.0, None, False
    q = prod.quantity
    if not _plain(q):
        q = _number(q, f"{prefix}.production.quantity", errors, what="production")
    if q is None:
        return 0.0, unit.dimension, False
    production = q * unit.to_base
    if production > limits.max_production:
        errors.append(
            InvalidValueError(
                f"production {q:g} {unit.symbol} is implausibly large (limit {limits.max_production:g} "
                f"{CANONICAL[unit.dimension]} per period); check the unit",
                f"{prefix}.production.quantity",
            )
        )
        return production, unit.dimension, False
    return production, unit.dimension, True


def _carrier_toe(
    item: CarrierQuantity, cfield: str, limits: ValidationLimits, tables: FactorTables, errors: list[InputError]
) -> float | None:
    """One energy consumption entry in TOE (None, with the error recorded, when it cannot be read)."""
    q = item.quantity
    # fast path for the common case: a known (carrier, unit) and a plain number — no field paths needed
    toe_per = tables.cached_toe_per(item.carrier, item.unit)
    if toe_per is None or not _plain(q):
        try:
            toe_per = tables.toe_per(item.carrier, item.unit, f"{cfield}.unit")
        except UnsupportedCarrierError as e:
            errors.append(e.at(f"{cfield}.carrier"))
            return None
        except InputError as e:
            errors.append(e)
            return None
        q = _number(q, f"{cfield}.quantity", errors, what=f"{item.carrier} consumption")
        if q is None:
            return None
    toe = q * toe_per
    if toe > limits.max_period_energy_toe:
        errors.append(
            InvalidValueError(
                f"{item.carrier} consumption {q:g} {item.unit} = {toe:.4g} TOE is implausibly large "
                f"(limit {limits.max_period_energy_toe:g} TOE per period); check the unit",
                f"{cfield}.quantity",
            )
        )
        return None
    return toe


def _energy(
    period: Period, prefix: str, limits: ValidationLimits, tables: FactorTables, errors: list[InputError]
) -> tuple[dict[str, float], bool]:
    """TOE per energy carrier of the period, and whether every entry was readable."""
    energy: dict[str, float] = {}
    ok = True
    energy_entries = 0
    for j, item in enumerate(period.consumption):
        if item.carrier in NON_ENERGY_RESOURCES:
            # recorded alongside energy (the platform's vocabulary allows it) but not part of energy savings
            ok = (
                _number(item.quantity, f"{prefix}.consumption[{j}].quantity", errors, what=item.carrier) is not None
                and ok
            )
            continue
        energy_entries += 1
        toe = _carrier_toe(item, f"{prefix}.consumption[{j}]", limits, tables, errors)
        if toe is None:
            ok = False
            continue
        energy[item.carrier] = energy.get(item.carrier, 0.0) + toe
    if energy_entries == 0:
        errors.append(
            InvalidValueError(
                "no energy consumption recorded; list each carrier, with 0 for one not used", f"{prefix}.consumption"
            )
        )
        ok = False
    return energy, ok


def _weather(
    period: Period, days: int, prefix: str, limits: ValidationLimits, errors: list[InputError], to_c_days: float
) -> tuple[list[float | None], bool]:
    """The period's cooling and heating degree-days in °C·day (either may be absent), and whether they were
    readable. The plausibility limit is per day in °C and follows the unit given (× 9/5 for °F·day)."""
    weather: list[float | None] = [period.cdd, period.hdd]
    ok = True
    if weather[0] is not None or weather[1] is not None:
        upper = limits.max_degree_days_per_day / to_c_days * max(days, 1)
        for k, name in enumerate(("cdd", "hdd")):
            if weather[k] is not None:
                value = _number(weather[k], f"{prefix}.{name}", errors, upper=upper, what=name.upper())
                weather[k] = None if value is None else value * to_c_days
                ok = ok and value is not None
    return weather, ok


def _convert_period(
    index: int,
    period: Period,
    prefix: str,
    limits: ValidationLimits,
    tables: FactorTables,
    errors: list[InputError],
    to_c_days: float = 1.0,
) -> _Row | None:
    start, end = period.start, period.end
    if not isinstance(start, date) or not isinstance(end, date):
        errors.append(InvalidPeriodError("start and end must be dates", prefix))
        return None
    dates_ok = end >= start
    if not dates_ok:
        errors.append(InvalidPeriodError(f"period ends ({end}) before it starts ({start})", f"{prefix}.end"))
    production, dimension, production_ok = _production(period.production, prefix, limits, errors)
    energy, energy_ok = _energy(period, prefix, limits, tables, errors)
    weather, weather_ok = _weather(period, (end - start).days + 1, prefix, limits, errors, to_c_days)
    if not (dates_ok and production_ok and energy_ok and weather_ok):
        return None
    return _Row(index, start, end, production, dimension, energy, weather[0], weather[1])


def _check_sequence(name: str, rows: list[_Row], errors: list[InputError]) -> None:
    """Overlaps within one set of periods (rows sorted by start).

    Each period is compared with the one reaching furthest so far, so a long period overlapping several short
    ones is caught for each of them. Sharing the boundary day is allowed (half-open convention).
    """
    if not rows:
        return
    furthest = rows[0]
    for cur in rows[1:]:
        if cur.start < furthest.end:
            errors.append(
                InvalidPeriodError(
                    f"period {cur.start}–{cur.end} overlaps {name}[{furthest.index}] ({furthest.start}–{furthest.end})",
                    f"{name}[{cur.index}].start",
                )
            )
        if cur.end > furthest.end:
            furthest = cur


def _check_order(base: list[_Row], rep: list[_Row], errors: list[InputError]) -> None:
    """No overlaps within either set, and the reporting periods after the baseline."""
    _check_sequence("baseline_periods", base, errors)
    _check_sequence("reporting_periods", rep, errors)
    base_end = max(r.end for r in base)
    first_rep = rep[0]
    if first_rep.start < base_end:
        errors.append(
            InvalidPeriodError(
                f"reporting periods must start after the baseline ends ({base_end}); this one starts {first_rep.start}",
                f"reporting_periods[{first_rep.index}].start",
            )
        )


def _check_totals(sets: dict[str, list[_Row]], dimension: Dimension | None, errors: list[InputError]) -> None:
    """One kind of production unit throughout, some production in each set, some energy in the baseline."""
    base = sets["baseline_periods"]
    for name, rows in sets.items():
        for r in rows:
            if r.dimension is not dimension:
                errors.append(
                    InputError(
                        f"production is measured as {r.dimension} here but as {dimension} in "
                        f"baseline_periods[{base[0].index}]; use one kind of production unit throughout",
                        f"{name}[{r.index}].production.unit",
                    )
                )
        if sum(r.production for r in rows) <= 0:
            errors.append(
                InvalidValueError("total production is zero, so energy per unit of product is undefined", name)
            )
    if sum(sum(r.energy.values()) for r in base) <= 0:
        errors.append(
            InvalidValueError("total baseline energy is zero; nothing can be saved against it", "baseline_periods")
        )


def prepare_inputs(
    baseline: Sequence[Period],
    reporting: Sequence[Period],
    limits: ValidationLimits,
    tables: FactorTables,
    degree_days_to_celsius: float = 1.0,
) -> PreparedInputs:
    """Validate and convert; raises ``InputErrors`` listing every problem found. Degree-days are returned in
    °C·day (``degree_days_to_celsius`` = 5/9 when they are given in °F·day)."""
    errors: list[InputError] = []
    sets: dict[str, list[_Row]] = {}
    for name, periods in (("baseline_periods", baseline), ("reporting_periods", reporting)):
        if not periods:
            errors.append(InvalidPeriodError("at least one period is required", name))
            sets[name] = []
            continue
        rows = [
            _convert_period(i, p, f"{name}[{i}]", limits, tables, errors, degree_days_to_celsius)
            for i, p in enumerate(periods)
        ]
        sets[name] = sorted((r for r in rows if r is not None), key=lambda r: (r.start, r.end))
    if errors:
        raise InputErrors(errors)

    base, rep = sets["baseline_periods"], sets["reporting_periods"]
    _check_order(base, rep, errors)
    dimension = base[0].dimension
    _check_totals(sets, dimension, errors)
    if errors:
        raise InputErrors(errors)

    carriers = sorted({c for rows in sets.values() for r in rows for c in r.energy})

    def series(rows: list[_Row]) -> PeriodSeries:
        energy = np.array([[r.energy.get(c, 0.0) for c in carriers] for r in rows], dtype=float)
        return PeriodSeries(
            starts=[r.start for r in rows],
            ends=[r.end for r in rows],
            production=np.array([r.production for r in rows], dtype=float),
            energy=energy.reshape(len(rows), len(carriers)),
            cdd=[r.cdd for r in rows],
            hdd=[r.hdd for r in rows],
        )

    assert dimension is not None
    ignored = sorted(
        {
            item.carrier
            for p in (*baseline, *reporting)
            for item in p.consumption
            if item.carrier in NON_ENERGY_RESOURCES
        }
    )
    return PreparedInputs(series(base), series(rep), carriers, CANONICAL[dimension], ignored)


def validate_claim(claim: Claim, limits: ValidationLimits, tables: FactorTables) -> None:
    errors: list[InputError] = []
    v = _number(
        claim.overall_percent, "claim.overall_percent", errors, upper=limits.max_claim_percent, what="claimed savings %"
    )
    if v is not None and v <= 0:
        errors.append(InvalidValueError("claimed savings % must be positive", "claim.overall_percent"))
    per: Mapping[str, float] = claim.per_carrier_percent or {}
    for carrier, pct in per.items():
        field = f"claim.per_carrier_percent.{carrier}"
        if carrier not in tables.energy:
            errors.append(
                UnsupportedCarrierError(
                    f"unknown energy carrier {carrier!r}; use one of: {', '.join(tables.carriers)}", field
                )
            )
            continue
        # negative per-carrier claims are legitimate (a fuel switch raises electricity use)
        _number(pct, field, errors, upper=limits.max_claim_percent, what="claimed savings %", allow_negative=True)
    if errors:
        raise InputErrors(errors)


def validate_norm(norm: SectorNorm) -> None:
    errors: list[InputError] = []
    v = _number(norm.value, "norm.value", errors, what="norm value")
    if v is not None and v <= 0:
        errors.append(InvalidValueError("norm value must be positive", "norm.value"))
    try:
        parse_sec_unit(norm.unit, "norm.unit")
    except InputError as e:
        errors.append(e)
    if errors:
        raise InputErrors(errors)
