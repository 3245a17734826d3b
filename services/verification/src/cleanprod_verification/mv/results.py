"""The result of a savings computation: plain dataclasses of floats, strings, lists and dates.

``SavingsResult.to_dict()`` gives a JSON-ready dict (dates as ISO strings). No figure is NaN or infinite:
anything undefined is ``None``. Energy is in TOE unless a field name says otherwise; ``*_percent`` fields are
percentages (8.0 = 8 %); model statistics (R², CV(RMSE), NMBE, FSU) are fractions, as the standards state them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date
from typing import Any

from .conversions import EmissionFactorUsed
from .criteria import CriterionCheck
from .norms import NormComparison
from .uncertainty import SavingsUncertainty

METHOD_REGRESSION = "regression"
METHOD_SEC = "sec"
# The regression passed every statistical criterion but the reporting conditions lie outside the baseline
# range: neither estimate can be trusted alone, so the lower (conservative) of the two is the verified figure.
METHOD_SEC_CAPPED = "sec_capped_by_regression"
TOTAL = "total"


@dataclass(frozen=True)
class SecResult:
    sec_baseline: float  # TOE per canonical production unit
    sec_reporting: float
    adjusted_baseline_toe: float  # SEC_base × P_rep
    savings_toe: float
    savings_percent: float | None


@dataclass(frozen=True)
class RegressionResult:
    variables: list[str]  # "intercept", "production", then "cdd"/"hdd" when used
    coefficients: list[float]  # TOE per period, TOE per production unit, TOE per degree-day
    standard_errors: list[float]
    p_values: list[float | None]
    n: int
    parameters: int
    r_squared: float | None
    adj_r_squared: float | None
    cv_rmse: float | None
    nmbe: float | None
    rmse_toe: float
    f_statistic: float | None
    f_p_value: float | None
    checks: list[CriterionCheck]  # model acceptance (incl. reporting range)
    passed: bool
    adjusted_baseline_toe: float  # model at reporting conditions, summed over the reporting periods
    savings_toe: float  # avoided energy = adjusted baseline − actual
    savings_percent: float | None
    uncertainty: SavingsUncertainty  # at MVSettings.fsu_confidence (reported)
    uncertainty_at_acceptance: SavingsUncertainty  # at criteria.fsu_acceptance_confidence (tested)
    uncertainty_check: CriterionCheck


@dataclass(frozen=True)
class UnadjustedFigures:
    """A result's figures before non-routine adjustments (mv/adjustments.py)."""

    adjusted_baseline_toe: float
    savings_toe: float
    savings_percent: float | None
    savings_tco2: float


@dataclass(frozen=True)
class CarrierResult:
    carrier: str  # an energy carrier, or "total" for all carriers in TOE
    method: str  # "regression" | "sec" | "sec_capped_by_regression"
    baseline_energy_toe: float  # all baseline periods
    reporting_energy_toe: float  # actual, all reporting periods
    adjusted_baseline_toe: float  # expected reporting use without the project, by the method used
    savings_toe: float
    savings_gj: float
    savings_percent: float | None  # savings / adjusted baseline × 100
    savings_tco2: float
    t_co2_per_toe: float | None  # effective factor applied (None for the total: it sums the carriers)
    claimed_percent: float | None
    achieved_ratio: float | None
    sec: SecResult
    regression: RegressionResult | None
    regression_unavailable: str | None  # why no model could be fitted at all
    fallback_reasons: list[str]  # why SEC was used instead of the regression (empty when regression used)
    # sec_capped_by_regression only: which estimate was the lower one and gave the figures ("sec" | "regression")
    binding_estimate: str | None = None
    # what the model was asked to normalise for and this figure does not ("cdd", "hdd"): never silent
    normalisation_dropped: list[str] = field(default_factory=list)
    non_routine_adjustment_toe: float = 0.0  # added to the adjusted baseline (IPMVP non-routine adjustments)
    unadjusted: UnadjustedFigures | None = None  # the figures before them (None: no adjustment)


@dataclass(frozen=True)
class ModelUsed:
    form: str | None  # production | weather | production_weather; None: no plan (production + given weather)
    degree_day_unit: str  # "C" | "F", as the degree-days were given (fitted in °C·day)
    cdd_base: float | None  # base temperatures in degree_day_unit
    hdd_base: float | None
    station: str | None
    interval: str  # daily | monthly | other: read from the baseline periods, selects the G14 correction
    requested_variables: list[str]  # what the model was asked to normalise for
    variables_used: list[str]  # the regressors that could be fitted (the regression's, when it is used)


@dataclass(frozen=True)
class PeriodUsed:
    role: str  # "baseline" | "reporting"
    start: date
    end: date
    production: float  # canonical unit
    energy_toe: dict[str, float]
    cdd: float | None  # °C·day
    hdd: float | None


@dataclass(frozen=True)
class InputsUsed:
    baseline_period_count: int
    reporting_period_count: int
    baseline_start: date
    baseline_end: date
    reporting_start: date
    reporting_end: date
    production_unit: str  # canonical: t, m3, m2 or unit
    baseline_production: float
    reporting_production: float
    carriers: list[str]
    weather_variables: list[str]
    ignored_resources: list[str]  # non-energy entries such as water: validated, not part of energy savings
    periods: list[PeriodUsed]
    settings: dict[str, Any]


@dataclass(frozen=True)
class SavingsResult:
    verdict: str  # "verified" | "not_achieved"
    verdict_reasons: list[str]
    achieved_ratio: float | None
    method: str  # method of the total
    claimed_percent: float
    verified_savings_percent: float | None
    programme_target_percent: float
    claim_tolerance_pp: float
    savings_toe: float
    savings_gj: float
    savings_tco2: float  # sum over carriers (each with its own factor)
    total: CarrierResult
    carriers: list[CarrierResult]
    norm: NormComparison | None
    emission_factors: list[EmissionFactorUsed]
    warnings: list[str]
    requires_review: bool  # a warning a verifier should weigh before concluding
    inputs: InputsUsed
    model: ModelUsed | None = None
    normalisation_dropped: list[str] = field(default_factory=list)  # the total's (see CarrierResult)
    non_routine_adjustments: list[dict[str, Any]] = field(default_factory=list)  # those applied, as given
    schema_version: int = field(default=1)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(self)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class SavingsHeadline:
    """A result's headline figures (what a baseline re-freeze records): its record's ``verdict``, ``method``,
    ``verified_savings_percent``, ``savings_toe`` and ``total.adjusted_baseline_toe``."""

    verdict: str
    method: str
    verified_savings_percent: float | None
    savings_toe: float
    adjusted_baseline_toe: float

    @classmethod
    def of(cls, result: SavingsResult) -> SavingsHeadline:
        return cls(
            result.verdict,
            result.method,
            result.verified_savings_percent,
            result.savings_toe,
            result.total.adjusted_baseline_toe,
        )


_PLAIN = frozenset({float, int, str, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _jsonable(value: Any) -> Any:
    """Dataclasses as dicts of their fields, tuples as lists, dates as ISO strings: what ``asdict`` followed by
    that conversion gave, in one walk (asdict deep-copies every value first, which cost as much as the
    computation itself)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    names = _FIELD_NAMES.get(kind)
    if names is None and is_dataclass(value):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: _jsonable(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
