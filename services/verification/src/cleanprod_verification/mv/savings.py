"""The single entry point: verified savings of a project from its baseline and reporting periods.

For each energy carrier (in TOE) and for the total:
  1. SEC comparison, always (it is the programme's own "per unit of product" measure and the fallback);
  2. regression baseline E = a + b·P (+ c·CDD + d·HDD when given for every period), if it can be fitted;
     it is used only when it passes the model acceptance criteria (``criteria.py``), otherwise SEC is used
     and the failed criteria are listed as the fallback reasons — except in one case:
  2a. the model passes every *statistical* criterion and fails only because reporting conditions lie outside
     the baseline range. Then the regression extrapolates and SEC ignores the fixed part of consumption (the
     production trap: E = 200 + 2P, output up 50 %, no efficiency change — SEC shows a false 16.7 %). Neither
     figure is trusted alone: the verified savings are the LOWER of the two estimates (method
     ``sec_capped_by_regression``, ``binding_estimate`` says which one), and the result requires review;
  3. savings in TOE, GJ and t CO2, savings % = savings / adjusted baseline.
The model's form (production, weather, or both — ``models.py``) is the M&V plan's choice; without one the
model is production plus the degree-days given for the baseline. Whatever the model was asked to normalise
for and the verified figure does not (a degree-day variable that cannot be used, or SEC taken instead of a
weather model) is named in ``normalisation_dropped`` and the result requires review: normalisation is never
dropped silently.
The verdict is taken on the total. CO2 of the total is the sum of the carriers' CO2 (each carrier has its own
emission factor, which matters for fuel switching), so it is not "total TOE × one factor".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np

from .adjustments import NonRoutineAdjustment, apply_adjustments, validate_adjustments
from .conversions import EmissionFactorUsed, emission_factor, toe_to_gj
from .criteria import CriterionCheck, model_checks, range_check, uncertainty_check
from .errors import InputError, InputErrors
from .factors import ELECTRICITY, FactorTables, default_tables
from .inputs import Claim, Period
from .models import BaselineModel, validate_model
from .norms import SectorNorm, compare_with_norm, convert_sec
from .regression import (
    DesignDecomposition,
    OlsFit,
    RegressionNotPossible,
    decompose_design,
    design_matrix,
    fit_decomposed,
)
from .results import (
    METHOD_REGRESSION,
    METHOD_SEC,
    METHOD_SEC_CAPPED,
    TOTAL,
    CarrierResult,
    InputsUsed,
    ModelUsed,
    PeriodUsed,
    RegressionResult,
    SavingsResult,
    SecResult,
)
from .sec import SecComparison, sec_comparison
from .settings import MVSettings
from .uncertainty import DAYS_PER_MONTH, interval_of, lag1_autocorrelation, savings_uncertainty
from .validation import PreparedInputs, prepare_inputs, validate_claim, validate_norm
from .verdict import achieved_ratio, decide


@dataclass(frozen=True)
class _Model:
    variables: list[str]
    baseline: np.ndarray  # design matrix, baseline periods
    reporting: np.ndarray  # design matrix, reporting periods
    range_checks: list[CriterionCheck]
    decomposition: DesignDecomposition | None  # shared by every target; None when no fit is possible
    unavailable: str | None  # why no fit is possible
    requested: list[str]  # what the model was asked to normalise for
    dropped: list[str]  # requested variables the data cannot support (missing, constant)
    interval: str  # daily | monthly | other (the G14 correction)
    reporting_months: float


@dataclass(frozen=True)
class _Evaluation:
    method: str
    adjusted_baseline: float
    savings: float
    savings_percent: float | None
    sec: SecResult
    regression: RegressionResult | None
    unavailable: str | None
    fallback_reasons: list[str]
    binding_estimate: str | None = None  # sec_capped_by_regression: "sec" | "regression"
    normalisation_dropped: tuple[str, ...] = ()  # requested variables the figure does not normalise for
    baseline_energy: float = 0.0  # the target's TOE over all baseline periods
    reporting_energy: float = 0.0  # and over all reporting periods (actual use)


def _percent(savings: float, adjusted: float) -> float | None:
    return savings / adjusted * 100.0 if adjusted > 0 else None


def _unusable_weather(name: str, b: list[float | None], r: list[float | None]) -> str | None:
    """Why a degree-day series cannot be a model variable (None when it can)."""
    label = name.upper()
    if all(v is None for v in b):
        return f"{label} is not given for the baseline periods, so the model cannot use it"
    if any(v is None for v in b):
        return f"{label} is missing for some baseline periods, so the model does not use it"
    if any(v is None for v in r):
        return f"{label} is given for the baseline but missing for some reporting periods, so the model does not use it"
    if max(b) == min(b):  # type: ignore[type-var]
        return f"{label} is the same in every baseline period, so the model does not use it"
    return None


def _model(data: PreparedInputs, settings: MVSettings, warnings: list[str], spec: BaselineModel) -> _Model:
    names: list[str] = []
    base_cols: list[np.ndarray] = []
    rep_cols: list[np.ndarray] = []
    if spec.uses_production:
        names.append("production")
        base_cols.append(data.baseline.production)
        rep_cols.append(data.reporting.production)
    requested = list(names)
    dropped: list[str] = []
    # With a plan, the degree-days its basis names; without one, those given for the baseline.
    if spec.form is None:
        weather = [n for n in ("cdd", "hdd") if any(v is not None for v in getattr(data.baseline, n))]
    else:
        weather = spec.degree_days.weather_variables if spec.uses_weather else []
    for name in weather:
        b, r = getattr(data.baseline, name), getattr(data.reporting, name)
        requested.append(name)
        problem = _unusable_weather(name, b, r)
        if problem is not None:
            warnings.append(problem)
            dropped.append(name)
            continue
        names.append(name)
        base_cols.append(np.array(b, dtype=float))
        rep_cols.append(np.array(r, dtype=float))
    if spec.form is not None and spec.uses_production and not spec.uses_weather:
        given = [n for n in ("cdd", "hdd") if any(v is not None for v in getattr(data.baseline, n))]
        if given:
            warnings.append(
                f"{', '.join(n.upper() for n in given)} recorded but the plan's model is production only; not used"
            )
    tol = settings.criteria.range_tolerance
    ranges = [range_check(n, b, r, tol) for n, b, r in zip(names, base_cols, rep_cols, strict=True)]
    variables = ["intercept", *names]
    interval = interval_of([(e - s).days + 1 for s, e in zip(data.baseline.starts, data.baseline.ends, strict=True)])
    months = ((max(data.reporting.ends) - data.reporting.starts[0]).days + 1) / DAYS_PER_MONTH
    n_base, n_rep = len(data.baseline), len(data.reporting)
    if not names:
        unavailable = f"no model variable is left ({', '.join(n.upper() for n in dropped)} cannot be used)"
        ones_b, ones_r = np.ones((n_base, 1)), np.ones((n_rep, 1))
        return _Model(variables, ones_b, ones_r, ranges, None, unavailable, requested, dropped, interval, months)
    baseline = design_matrix(base_cols)
    try:
        decomposition, unavailable = decompose_design(baseline, variables), None
    except RegressionNotPossible as e:
        decomposition, unavailable = None, str(e)
    return _Model(
        variables,
        baseline,
        design_matrix(rep_cols),
        ranges,
        decomposition,
        unavailable,
        requested,
        dropped,
        interval,
        months,
    )


def _dropped(model: _Model, method_variables: list[str]) -> tuple[str, ...]:
    """Requested normalisation the figure does not use: production for SEC counts as used (SEC is per unit
    of product); degree-days only when the figure is the regression's."""
    return tuple(v for v in model.requested if v not in method_variables)


def _evaluate(
    y_base: np.ndarray, y_rep: np.ndarray, data: PreparedInputs, model: _Model, settings: MVSettings
) -> _Evaluation:
    actual = float(y_rep.sum())
    sec = sec_comparison(
        float(y_base.sum()), float(data.baseline.production.sum()), actual, float(data.reporting.production.sum())
    )
    if model.decomposition is None:
        return _judged(None, None, 0.0, actual, len(y_rep), sec, model, settings)
    fit = fit_decomposed(model.decomposition, y_base)
    adjusted = float(fit.predict(model.reporting).sum())
    return _judged(fit, lag1_autocorrelation(fit.residuals), adjusted, actual, len(y_rep), sec, model, settings)


def _judged(
    fit: OlsFit | None,
    rho: float | None,
    adjusted: float,
    actual: float,
    reporting_points: int,
    sec: SecComparison,
    model: _Model,
    settings: MVSettings,
) -> _Evaluation:
    """The method and figures of one target (a carrier or the total) from its SEC comparison and its fit (None:
    no fit possible); ``adjusted`` is the fit's prediction summed over the reporting periods, ``rho`` its
    residuals' lag-1 autocorrelation. Shared by ``compute_savings`` and the batched path (``batch.py``)."""
    sec_result = SecResult(
        sec.sec_baseline,
        sec.sec_reporting,
        sec.adjusted_baseline,
        sec.savings,
        None if sec.savings_fraction is None else sec.savings_fraction * 100.0,
    )
    sec_dropped = _dropped(model, ["production"])
    totals = {"baseline_energy": sec.baseline_energy, "reporting_energy": sec.reporting_energy}
    if fit is None:
        return _Evaluation(
            METHOD_SEC,
            sec.adjusted_baseline,
            sec.savings,
            sec_result.savings_percent,
            sec_result,
            None,
            model.unavailable,
            [f"regression not possible: {model.unavailable}"],
            normalisation_dropped=sec_dropped,
            **totals,
        )
    reg_dropped = _dropped(model, model.variables)
    criteria = settings.criteria
    statistical = model_checks(fit, criteria)
    checks = statistical + model.range_checks
    passed = all(c.passed for c in checks)
    savings = adjusted - actual
    common = dict(
        cv_rmse=fit.cv_rmse,
        residuals=fit.residuals,
        rho=rho,
        parameters=fit.parameters,
        reporting_points=reporting_points,
        savings=savings,
        adjusted_baseline=adjusted,
        interval=model.interval,
        reporting_months=model.reporting_months,
    )
    reported = savings_uncertainty(confidence=settings.fsu_confidence, **common)
    tested = savings_uncertainty(confidence=criteria.fsu_acceptance_confidence, **common)
    regression = RegressionResult(
        variables=list(fit.variables),
        coefficients=list(fit.coefficients),
        standard_errors=list(fit.standard_errors),
        p_values=list(fit.p_values),
        n=fit.n,
        parameters=fit.parameters,
        r_squared=fit.r_squared,
        adj_r_squared=fit.adj_r_squared,
        cv_rmse=fit.cv_rmse,
        nmbe=fit.nmbe,
        rmse_toe=fit.rmse,
        f_statistic=fit.f_statistic,
        f_p_value=fit.f_p_value,
        checks=checks,
        passed=passed,
        adjusted_baseline_toe=adjusted,
        savings_toe=savings,
        savings_percent=_percent(savings, adjusted),
        uncertainty=reported,
        uncertainty_at_acceptance=tested,
        uncertainty_check=uncertainty_check(tested.fsu, criteria),
    )
    if passed:
        return _Evaluation(
            METHOD_REGRESSION,
            adjusted,
            savings,
            regression.savings_percent,
            sec_result,
            regression,
            None,
            [],
            normalisation_dropped=reg_dropped,
            **totals,
        )
    reasons = [c.message for c in checks if not c.passed]
    if all(c.passed for c in statistical):
        # Only reporting-range coverage failed: take the lower (conservative) of the two estimates. Both share
        # the actual reporting use, so the lower savings is also the lower savings %.
        if savings < sec.savings:
            return _Evaluation(
                METHOD_SEC_CAPPED,
                adjusted,
                savings,
                regression.savings_percent,
                sec_result,
                regression,
                None,
                reasons,
                binding_estimate=METHOD_REGRESSION,
                normalisation_dropped=reg_dropped,
                **totals,
            )
        return _Evaluation(
            METHOD_SEC_CAPPED,
            sec.adjusted_baseline,
            sec.savings,
            sec_result.savings_percent,
            sec_result,
            regression,
            None,
            reasons,
            binding_estimate=METHOD_SEC,
            normalisation_dropped=sec_dropped,
            **totals,
        )
    return _Evaluation(
        METHOD_SEC,
        sec.adjusted_baseline,
        sec.savings,
        sec_result.savings_percent,
        sec_result,
        regression,
        None,
        reasons,
        normalisation_dropped=sec_dropped,
        **totals,
    )


def _carrier_emission_factor(
    carrier: str, years: list[int], weights: Any, factor_of: Callable[[str, int], EmissionFactorUsed]
) -> tuple[float, list[EmissionFactorUsed]]:
    """tCO2 per TOE for the carrier's savings. Electricity: grid factors of the reporting periods' years
    (``years``: year of each period's start), weighted by the electricity actually used in each period
    (``weights``, an array; read only for electricity). ``factor_of(carrier, year)``: ``emission_factor``."""
    if carrier != ELECTRICITY:
        factor = factor_of(carrier, years[0])
        return factor.t_co2_per_toe, [factor]
    weights = weights.tolist()
    if sum(weights) <= 0:  # no electricity in reporting (e.g. switched away): weigh periods equally
        weights = [1.0] * len(years)
    by_year: dict[int, float] = {}
    for year, w in zip(years, weights, strict=True):
        by_year[year] = by_year.get(year, 0.0) + w
    factors = {year: factor_of(ELECTRICITY, year) for year in by_year}
    total_w = sum(by_year.values())
    effective = sum(factors[y].t_co2_per_toe * w for y, w in by_year.items()) / total_w
    return effective, list(dict.fromkeys(factors[y] for y in sorted(factors)))


def _periods_used(data: PreparedInputs) -> list[PeriodUsed]:
    out: list[PeriodUsed] = []
    for role, series in (("baseline", data.baseline), ("reporting", data.reporting)):
        energy = map(dict, map(zip, repeat(data.carriers), series.energy.tolist()))
        out += map(
            PeriodUsed,
            repeat(role),
            series.starts,
            series.ends,
            series.production.tolist(),
            energy,
            series.cdd,
            series.hdd,
        )
    return out


def _validated_inputs(
    baseline_periods: Sequence[Period],
    reporting_periods: Sequence[Period],
    claim: Claim,
    settings: MVSettings,
    norm: SectorNorm | None,
    tables: FactorTables,
    model: BaselineModel,
) -> PreparedInputs:
    """The periods converted; every check runs before raising, so one response lists every problem (periods,
    claim and norm)."""
    problems: list[InputError] = []
    data: PreparedInputs | None = None
    try:
        validate_model(model)
    except InputErrors as e:
        problems.extend(e.errors)
        model = BaselineModel()  # the periods are still checked, in °C·day
    try:
        data = prepare_inputs(
            baseline_periods, reporting_periods, settings.limits, tables, model.degree_days.to_celsius_days
        )
    except InputErrors as e:
        problems.extend(e.errors)
    try:
        validate_claim(claim, settings.limits, tables)
    except InputErrors as e:
        problems.extend(e.errors)
    if norm is not None:
        try:
            validate_norm(norm)
            if data is not None:  # the norm must be per the same kind of product unit as the production
                convert_sec(1.0, f"TOE/{data.production_unit}", norm.unit, "norm.unit")
        except InputErrors as e:
            problems.extend(e.errors)
        except InputError as e:
            problems.append(e)
    if problems:
        raise InputErrors(problems)
    assert data is not None  # prepare_inputs either returns or raises InputErrors
    return data


def compute_savings(
    baseline_periods: Sequence[Period],
    reporting_periods: Sequence[Period],
    claim: Claim,
    settings: MVSettings | None = None,
    *,
    norm: SectorNorm | None = None,
    tables: FactorTables | None = None,
    model: BaselineModel | None = None,
    adjustments: Sequence[NonRoutineAdjustment] = (),
) -> SavingsResult:
    """Verified savings and verdict. Raises ``InputErrors`` (a ``MVError``) listing every input problem."""
    settings = settings or MVSettings()
    tables = tables or default_tables()
    spec = model or BaselineModel()
    data = _validated_inputs(baseline_periods, reporting_periods, claim, settings, norm, tables, spec)

    warnings = _claim_warnings(claim, data.carriers)
    model_ = _model(data, settings, warnings, spec)
    evaluations = [
        _evaluate(data.baseline.energy[:, j], data.reporting.energy[:, j], data, model_, settings)
        for j in range(len(data.carriers))
    ]
    evaluations.append(
        _evaluate(data.baseline.energy.sum(axis=1), data.reporting.energy.sum(axis=1), data, model_, settings)
    )
    return _result(
        data, model_, evaluations, warnings, claim, settings, tables, spec, norm, adjustments, settings.to_dict()
    )


def _claim_warnings(claim: Claim, carriers: list[str]) -> list[str]:
    """The computation's warnings start with the claim's carriers that no period measures."""
    unmeasured = sorted(set(claim.per_carrier_percent or {}) - set(carriers))
    if unmeasured:
        return [f"the claim names {', '.join(unmeasured)}, which no period measures; not evaluated"]
    return []


def _result(
    data: PreparedInputs,
    model_: _Model,
    evaluations: list[_Evaluation],
    warnings: list[str],
    claim: Claim,
    settings: MVSettings,
    tables: FactorTables,
    spec: BaselineModel,
    norm: SectorNorm | None,
    adjustments: Sequence[NonRoutineAdjustment],
    settings_record: dict[str, Any],
) -> SavingsResult:
    """The result record from each carrier's evaluation and the total's (the last); shared by
    ``compute_savings`` and the batched path (``batch.py``)."""
    carriers: list[CarrierResult] = []
    factors_used: list[EmissionFactorUsed] = []
    years = [d.year for d in data.reporting.starts]

    def factor_of(carrier: str, year: int) -> EmissionFactorUsed:
        return emission_factor(carrier, year, tables=tables)

    for j, carrier in enumerate(data.carriers):
        t_per_toe, used = _carrier_emission_factor(carrier, years, data.reporting.energy[:, j], factor_of)
        factors_used.extend(used)
        claimed = claim.per_carrier_percent.get(carrier) if claim.per_carrier_percent else None
        carriers.append(_carrier_result(carrier, evaluations[j], t_per_toe, claimed))

    ev = evaluations[-1]
    total_co2 = sum(c.savings_tco2 for c in carriers)
    total = _carrier_result(TOTAL, ev, None, claim.overall_percent, co2=total_co2)
    if adjustments:
        validate_adjustments(adjustments, data.carriers)
        total, carriers = apply_adjustments(total, carriers, adjustments)

    if any(c.method != total.method for c in carriers):
        warnings.append(MIXED_METHODS_WARNING)
    requires_review = _production_shift_warning(data, total, settings, warnings)
    requires_review = _capped_warning(total, carriers, warnings) or requires_review
    requires_review = _dropped_warning(total, carriers, warnings) or requires_review

    uncertainty_ok, uncertainty_message = None, ""
    # The uncertainty test applies whenever the verified figure is the regression's (also when it capped SEC).
    from_regression = total.method == METHOD_REGRESSION or total.binding_estimate == METHOD_REGRESSION
    if from_regression and total.regression is not None:
        uncertainty_ok = total.regression.uncertainty_check.passed
        uncertainty_message = total.regression.uncertainty_check.message
    verdict = decide(
        total.savings_percent,
        claim.overall_percent,
        settings.verdict,
        uncertainty_ok=uncertainty_ok,
        uncertainty_message=uncertainty_message,
    )

    norm_result = None
    if norm is not None:
        norm_result = compare_with_norm(total.sec.sec_reporting, data.production_unit, norm)

    return SavingsResult(
        verdict=verdict.status,
        verdict_reasons=verdict.reasons,
        achieved_ratio=verdict.achieved_ratio,
        method=total.method,
        claimed_percent=float(claim.overall_percent),
        verified_savings_percent=total.savings_percent,
        programme_target_percent=settings.verdict.programme_target_percent,
        claim_tolerance_pp=settings.verdict.claim_tolerance_pp,
        savings_toe=total.savings_toe,
        savings_gj=total.savings_gj,
        savings_tco2=total.savings_tco2,
        total=total,
        carriers=carriers,
        norm=norm_result,
        emission_factors=factors_used,
        warnings=warnings,
        requires_review=requires_review,
        model=ModelUsed(
            form=spec.form,
            degree_day_unit=spec.degree_days.unit,
            cdd_base=spec.degree_days.cdd_base,
            hdd_base=spec.degree_days.hdd_base,
            station=spec.degree_days.station,
            interval=model_.interval,
            requested_variables=model_.requested,
            variables_used=[v for v in model_.variables if v != "intercept"],
        ),
        normalisation_dropped=list(total.normalisation_dropped),
        non_routine_adjustments=[
            {"carrier": a.carrier, "amount_toe": a.amount_toe, "reason": a.reason, "reference": a.reference}
            for a in adjustments
        ],
        inputs=InputsUsed(
            baseline_period_count=len(data.baseline),
            reporting_period_count=len(data.reporting),
            baseline_start=data.baseline.starts[0],
            baseline_end=max(data.baseline.ends),
            reporting_start=data.reporting.starts[0],
            reporting_end=max(data.reporting.ends),
            production_unit=data.production_unit,
            baseline_production=float(data.baseline.production.sum()),
            reporting_production=float(data.reporting.production.sum()),
            carriers=list(data.carriers),
            weather_variables=[v for v in model_.variables if v in ("cdd", "hdd")],
            ignored_resources=data.ignored_resources,
            periods=_periods_used(data),
            settings=settings_record,
        ),
    )


MIXED_METHODS_WARNING = (
    "some carriers were evaluated with a different method than the total; per-carrier savings need not "
    "add up to the total"
)


def _carrier_result(
    carrier: str,
    ev: _Evaluation,
    t_per_toe: float | None,
    claimed: float | None,
    co2: float | None = None,
) -> CarrierResult:
    if co2 is None:
        co2 = ev.savings * (t_per_toe or 0.0)
    return CarrierResult(
        carrier=carrier,
        method=ev.method,
        baseline_energy_toe=ev.baseline_energy,
        reporting_energy_toe=ev.reporting_energy,
        adjusted_baseline_toe=ev.adjusted_baseline,
        savings_toe=ev.savings,
        savings_gj=toe_to_gj(ev.savings),
        savings_percent=ev.savings_percent,
        savings_tco2=co2,
        t_co2_per_toe=t_per_toe,
        claimed_percent=None if claimed is None else float(claimed),
        achieved_ratio=achieved_ratio(ev.savings_percent, claimed),
        sec=ev.sec,
        regression=ev.regression,
        regression_unavailable=ev.unavailable,
        fallback_reasons=ev.fallback_reasons,
        binding_estimate=ev.binding_estimate,
        normalisation_dropped=list(ev.normalisation_dropped),
    )


def _pct(value: float | None) -> str:
    return "undefined" if value is None else f"{round(value, 1) + 0.0:.1f} %"  # + 0.0 turns -0.0 into 0.0


def _capped_warning(total: CarrierResult, carriers: list[CarrierResult], warnings: list[str]) -> bool:
    """Explain every use of the conservative rule (2a in the module docstring); True when it was used."""
    capped = [c.carrier for c in carriers if c.method == METHOD_SEC_CAPPED]
    regression_percent = None if total.regression is None else total.regression.savings_percent
    warnings += capped_messages(
        total.method,
        total.regression is not None,
        total.binding_estimate,
        total.fallback_reasons,
        (total.sec.savings_percent, regression_percent, total.savings_percent),
        capped,
    )
    return total.method == METHOD_SEC_CAPPED or bool(capped)


def capped_messages(
    method: str,
    has_regression: bool,
    binding: str | None,
    reasons: list[str],
    percents: tuple[float | None, float | None, float | None],
    capped: list[str],
) -> list[str]:
    """The warnings of ``_capped_warning`` from the total's figures (SEC, regression and verified savings %) and
    the carriers whose method is the conservative rule (shared with the batched records, ``records.py``)."""
    out = []
    if method == METHOD_SEC_CAPPED and has_regression:
        chosen = "regression" if binding == METHOD_REGRESSION else "SEC"
        sec_percent, regression_percent, verified_percent = percents
        out.append(
            "the regression baseline passes every statistical criterion, but the reporting conditions lie outside "
            f"the baseline range ({'; '.join(reasons)}), so it extrapolates, while SEC counts the "
            f"fixed part of consumption as savings (or losses): SEC estimates {_pct(sec_percent)} "
            f"savings, the regression {_pct(regression_percent)}; the lower figure "
            f"({_pct(verified_percent)}, {chosen}) is taken as the verified savings "
            f"(method {METHOD_SEC_CAPPED}); review before concluding"
        )
    if capped and method != METHOD_SEC_CAPPED:
        out.append(
            f"per-carrier savings of {', '.join(capped)} use the lower of the SEC and regression estimates "
            "(reporting conditions outside the baseline range); review before concluding"
        )
    return out


_WHAT = {"cdd": "cooling degree-days (CDD)", "hdd": "heating degree-days (HDD)", "production": "production"}


def _dropped_warning(total: CarrierResult, carriers: list[CarrierResult], warnings: list[str]) -> bool:
    """Name every normalisation the figures do not apply; True when any is dropped (the result needs review
    and the verifier's written reason)."""
    flagged = False
    for result in (total, *carriers):
        if not result.normalisation_dropped:
            continue
        flagged = True
        what = ", ".join(_WHAT.get(v, v) for v in result.normalisation_dropped)
        whose = "the total" if result.carrier == TOTAL else result.carrier
        why = "; ".join(result.fallback_reasons) or "the data cannot support it"
        warnings.append(
            f"normalisation dropped for {whose}: {what} — the chosen model could not be used ({why}), so the "
            f"figure (method {result.method}) does not adjust for it; write why this fallback is acceptable"
        )
    return flagged


def _production_shift_warning(
    data: PreparedInputs, total: CarrierResult, settings: MVSettings, warnings: list[str]
) -> bool:
    """SEC under a large production change: savings may be an artefact of the fixed part of consumption."""
    if total.method != METHOD_SEC:
        return False
    reg = total.regression
    message = production_shift_message(
        data.baseline.production.mean(),
        data.reporting.production.mean(),
        None if reg is None else reg.savings_percent,
        settings,
    )
    if message is None:
        return False
    warnings.append(message)
    return True


def production_shift_message(
    baseline_mean: float, reporting_mean: float, regression_percent: float | None, settings: MVSettings
) -> str | None:
    """The warning of ``_production_shift_warning`` (method SEC) from the mean production per period, or None
    (shared with the batched records, ``records.py``)."""
    shift = reporting_mean / baseline_mean - 1.0
    if abs(shift) <= settings.production_shift_warning:
        return None
    message = (
        f"mean production per period changed by {shift * 100:+.1f} % from baseline to reporting while savings "
        "are computed by SEC, which counts the fixed part of consumption as savings (or losses); review before "
        "concluding"
    )
    if regression_percent is not None:
        estimate = round(regression_percent, 1) + 0.0  # + 0.0 turns -0.0 into 0.0
        message += f" — the regression baseline (not accepted) estimates {estimate:.1f} % savings"
    return message
