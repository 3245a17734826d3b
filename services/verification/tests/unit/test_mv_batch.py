"""compute_savings_many gives what compute_savings gives, case by case: random cases of many shapes and every
special case the per-case path treats specially (too few periods, a design that cannot be fitted, zero variance,
a perfect fit, degree-days, water, input errors of every kind, per-carrier claims, norms, adjustments) — the
figures to 1e-9, everything else equal, and the regular cases are computed by the batch itself."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest

from cleanprod_verification.mv import (
    CarrierQuantity,
    Claim,
    InputErrors,
    MVSettings,
    Period,
    Quantity,
    SavingsCase,
    SavingsHeadline,
    SectorNorm,
    compute_savings,
    compute_savings_batch,
    compute_savings_many,
    compute_savings_records,
)
from cleanprod_verification.mv import batch as batch_module
from cleanprod_verification.mv.adjustments import NonRoutineAdjustment
from cleanprod_verification.mv.models import BaselineModel, DegreeDayBasis

CARRIERS = [("electricity", "MWh"), ("natural_gas", "1000 m3"), ("coal_grade_3_4", "t"), ("diesel_oil", "m3")]


def bounds(n: int, first: date, days: int, *, half_open: bool = False) -> list[tuple[date, date]]:
    """n consecutive periods of ``days`` days (the next one starts on the last day when half-open)."""
    out, start = [], first
    for _ in range(n):
        end = start + timedelta(days=days - (0 if half_open else 1))
        out.append((start, end))
        start = end if half_open else end + timedelta(days=1)
    return out


def case_periods(
    rng: np.random.Generator,
    n_base: int,
    n_rep: int,
    carriers: list[tuple[str, str]],
    *,
    days: int = 30,
    half_open: bool = False,
    unit: str = "t",
    level: float | None = None,
) -> tuple[list[Period], list[Period]]:
    """A facility: energy = fixed + variable · production per carrier, noisy, some saving in reporting."""
    level = level if level is not None else float(rng.uniform(100, 5000))
    spans = bounds(n_base + n_rep, date(2021, 1, 1), days, half_open=half_open)
    saving = float(rng.uniform(-0.02, 0.15))
    fixed = rng.uniform(0.01, 0.3, len(carriers)) * level
    variable = rng.uniform(0.05, 0.8, len(carriers))
    noise = float(rng.uniform(0.005, 0.1))
    periods = []
    for i, (start, end) in enumerate(spans):
        production = level * float(rng.uniform(0.7, 1.3))
        factor = 1 - saving if i >= n_base else 1.0
        consumption = [
            CarrierQuantity(c, max(0.0, float((f + v * production) * factor * (1 + noise * rng.standard_normal()))), u)
            for (c, u), f, v in zip(carriers, fixed, variable, strict=True)
        ]
        periods.append(Period(start, end, Quantity(production, unit), consumption))
    return periods[:n_base], periods[n_base:]


def with_period(periods: list[Period], i: int, **changes: Any) -> list[Period]:
    out = list(periods)
    out[i] = replace(out[i], **changes)
    return out


def with_amount(periods: list[Period], i: int, j: int, quantity: Any) -> list[Period]:
    items = list(periods[i].consumption)
    items[j] = replace(items[j], quantity=quantity)
    return with_period(periods, i, consumption=items)


def regular_cases(rng: np.random.Generator) -> list[SavingsCase]:
    """Cases the batch computes itself: shapes of 3–36 periods, 1–4 carriers, monthly / daily / weekly,
    half-open periods, other units, per-carrier claims, norms, adjustments, a production plan."""
    cases = []
    for _ in range(120):
        k = int(rng.integers(1, 5))
        carriers = [CARRIERS[j] for j in sorted(rng.choice(len(CARRIERS), k, replace=False))]
        n_base = int(rng.choice([3, 6, 12, 24]))
        baseline, reporting = case_periods(rng, n_base, int(rng.choice([1, 6, 12])), carriers)
        per_carrier = {c: float(rng.uniform(-5, 15)) for c, _ in carriers if rng.random() < 0.4}
        cases.append(SavingsCase(baseline, reporting, Claim(float(rng.uniform(1, 20)), per_carrier)))
    b, r = case_periods(rng, 90, 30, CARRIERS[:2], days=1)
    cases.append(SavingsCase(b, r, Claim(6.0)))  # daily data: the Sun & Baltazar correction
    b, r = case_periods(rng, 30, 10, CARRIERS[:1], days=7)
    cases.append(SavingsCase(b, r, Claim(6.0)))  # weekly: the larger correction
    b, r = case_periods(rng, 12, 12, CARRIERS[:1], days=31, half_open=True)
    cases.append(SavingsCase(b, r, Claim(6.0)))  # half-open periods sharing a boundary day
    b, r = case_periods(rng, 12, 12, [("electricity", "kWh"), ("natural_gas", "m3")], unit="kg", level=2e5)
    cases.append(SavingsCase(b, r, Claim(6.0)))  # other units of the same dimensions
    b, r = case_periods(rng, 12, 12, CARRIERS[:1], level=1000.0)
    cases.append(SavingsCase(b, r, Claim(8.0, {"natural_gas": 5.0})))  # a claim on a carrier never measured
    cases.append(SavingsCase(b, r, Claim(8.0), norm=SectorNorm(0.3, "MJ/kg", "a norm")))
    cases.append(SavingsCase(b, r, Claim(8.0), adjustments=[NonRoutineAdjustment("electricity", 12.5, "new line")]))
    cases.append(SavingsCase(b, r, Claim(8.0), model=BaselineModel("production")))
    cases.append(SavingsCase(with_amount(b, 0, 0, 120), r, Claim(8.0)))  # an int is a plain number too
    # reporting production far outside the baseline range: the lower of SEC and regression
    far = [replace(p, production=Quantity(p.production.quantity * 1.6, "t")) for p in r]
    cases.append(SavingsCase(b, far, Claim(8.0)))
    return cases


def special_cases(rng: np.random.Generator, make_month: Callable[..., Period]) -> list[SavingsCase]:
    """Cases the batch hands to compute_savings: each is something the per-case path treats specially."""
    b, r = case_periods(rng, 12, 12, CARRIERS[:2], level=1000.0)
    claim = Claim(6.0)
    constant = [replace(p, production=Quantity(1000.0, "t")) for p in b]
    exact = [
        make_month(2022, m, 80.0 + 5 * m, {"electricity": (200 + 2 * (80.0 + 5 * m), "MWh")}) for m in range(1, 13)
    ]
    exact_rep = [make_month(2023, m, 100.0, {"electricity": (380.0, "MWh")}) for m in range(1, 13)]
    flat = [
        make_month(2022, m, 80.0 + 5 * m, {"electricity": (300.0, "MWh"), "natural_gas": (0.0, "1000 m3")})
        for m in range(1, 13)
    ]
    flat_rep = [
        make_month(2023, m, 100.0, {"electricity": (290.0, "MWh"), "natural_gas": (1.0, "1000 m3")})
        for m in range(1, 13)
    ]
    weather = [replace(p, cdd=float(rng.uniform(0, 300))) for p in b]
    weather_rep = [replace(p, cdd=float(rng.uniform(0, 300))) for p in r]
    water = with_period(b, 0, consumption=[*b[0].consumption, CarrierQuantity("water", 50.0, "m3")])
    twice = with_period(b, 1, consumption=[*b[1].consumption, b[1].consumption[0]])
    reordered = with_period(b, 2, consumption=list(reversed(b[2].consumption)))
    # electricity twice in one period and missing from the next: as many items as k per period on average
    uneven = with_period(twice, 2, consumption=[b[2].consumption[1]])
    shuffled = [b[3], *b[:3], *b[4:]]
    return [
        SavingsCase(b[:2], r, claim),  # too few periods for two parameters
        SavingsCase(constant, r, claim),  # production does not vary: no slope
        SavingsCase(exact, exact_rep, claim),  # a perfect fit (SSE = 0)
        SavingsCase(flat, flat_rep, claim),  # constant electricity (SST = 0), no gas in the baseline (ȳ = 0)
        SavingsCase(weather, weather_rep, claim),  # degree-days
        SavingsCase(weather, weather_rep, claim, model=BaselineModel("weather", DegreeDayBasis(cdd_base=18.0))),
        SavingsCase(water, r, claim),  # water recorded with the energy
        SavingsCase(twice, r, claim),  # a carrier listed twice (two meters)
        SavingsCase(reordered, r, claim),  # carriers in another order in one period
        SavingsCase(uneven, r, claim),  # one period with three items, the next with one
        SavingsCase(shuffled, r, claim),  # periods not in order (the per-case path sorts them)
        SavingsCase([], r, claim),
        SavingsCase(with_amount(b, 0, 0, -1.0), r, claim),
        SavingsCase(with_amount(b, 0, 0, float("nan")), r, claim),
        SavingsCase(with_amount(b, 0, 0, True), r, claim),
        SavingsCase(with_amount(b, 0, 0, "12"), r, claim),
        SavingsCase(with_amount(b, 0, 0, 1e12), r, claim),  # implausibly large
        SavingsCase(with_period(b, 0, production=Quantity(10.0, "furlong")), r, claim),
        SavingsCase(with_period(b, 0, production=Quantity(10.0, "kg")), r, claim),  # another unit, one case
        SavingsCase(with_period(b, 0, end=b[0].start - timedelta(days=1)), r, claim),  # ends before it starts
        SavingsCase(with_period(b, 1, start=b[0].start + timedelta(days=3)), r, claim),  # overlaps
        SavingsCase(with_period(b, 0, start=b[0].start.isoformat()), r, claim),  # not a date
        SavingsCase(b, with_period(r, 0, start=b[-1].start), claim),  # reporting starts inside the baseline
        SavingsCase([replace(p, production=Quantity(0.0, "t")) for p in b], r, claim),  # zero production
        SavingsCase(b, r, Claim(-3.0)),
        SavingsCase(b, r, claim, norm=SectorNorm(1.0, "MJ/hl")),  # a norm per volume, production in tonnes
        SavingsCase(b, r, claim, adjustments=[NonRoutineAdjustment("coal", 1.0, "not measured")]),
        SavingsCase(b, r, claim, model=BaselineModel("no such form")),
    ]


def answers_beside(expected: list[Any], got: list[Any]) -> Iterator[tuple[int, Any, Any]]:
    """Asserts one answer per case, each InputErrors the same as the per-case one (and only there); yields
    (index, per-case result, batched answer) for the others, to be compared by the caller."""
    assert len(got) == len(expected)
    for i, (want, have) in enumerate(zip(expected, got, strict=True)):
        if isinstance(want, InputErrors):
            assert isinstance(have, InputErrors) and have.as_problem_errors() == want.as_problem_errors()
        else:
            assert not isinstance(have, InputErrors)
            yield i, want, have


def assert_same(per_case: Any, batched: Any, path: str = "") -> None:
    if isinstance(per_case, dict):
        assert isinstance(batched, dict) and list(per_case) == list(batched), path  # keys in the same order
        for key in per_case:
            assert_same(per_case[key], batched[key], f"{path}.{key}")
    elif isinstance(per_case, list):
        assert isinstance(batched, list) and len(per_case) == len(batched), path
        for i, (a, b) in enumerate(zip(per_case, batched, strict=True)):
            assert_same(a, b, f"{path}[{i}]")
    elif type(per_case) is float:
        assert type(batched) is float, path
        assert batched == pytest.approx(per_case, rel=1e-9, abs=1e-9), path
    else:
        assert per_case == batched, path


def per_case(case: SavingsCase, settings: MVSettings) -> Any:
    try:
        return compute_savings(
            case.baseline,
            case.reporting,
            case.claim,
            settings,
            norm=case.norm,
            model=case.model,
            adjustments=case.adjustments,
        )
    except InputErrors as e:
        return e


@pytest.mark.parametrize("seed", [1, 2, 3])  # more seeds were run once by hand: 4-40
def test_batched_results_equal_the_per_case_ones(
    seed: int, make_month: Callable[..., Period], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(seed)
    regular, special = regular_cases(rng), special_cases(rng, make_month)
    cases = [*regular, *special]
    order = rng.permutation(len(cases))  # shapes interleaved: results come back in the order given
    cases = [cases[i] for i in order]
    settings = MVSettings()
    expected = [per_case(c, settings) for c in cases]

    handed_over: list[int] = []
    original = batch_module.compute_savings

    def counting(baseline: Any, reporting: Any, claim: Any, *args: Any, **kwargs: Any) -> Any:
        given = (baseline, reporting, claim, kwargs["norm"], kwargs["model"], kwargs["adjustments"])
        handed_over.extend(
            i
            for i, c in enumerate(cases)
            if all(a is b for a, b in zip(given, (c.baseline, c.reporting, c.claim, c.norm, c.model, c.adjustments)))
        )
        return original(baseline, reporting, claim, *args, **kwargs)

    monkeypatch.setattr(batch_module, "compute_savings", counting)
    got = compute_savings_many(cases, settings)

    for _, want, have in answers_beside(expected, got):
        assert_same(want.to_dict(), have.to_dict())
    # every regular case was computed by the batch, every special one by compute_savings
    special_ids = {id(c) for c in special}
    assert sorted(handed_over) == sorted(i for i, c in enumerate(cases) if id(c) in special_ids)
    methods = {r.method for r in got if not isinstance(r, InputErrors)}
    assert {"regression", "sec"} <= methods  # both outcomes of the acceptance criteria were batched


def seeded_cases(seed: int, make_month: Callable[..., Period]) -> tuple[list[Any], list[Any], MVSettings, list[Any]]:
    """The random and special cases of a seed in shuffled order, the regular ones among them, their settings
    (seed 4 warns of a production shift sooner) and each case's per-case answer."""
    rng = np.random.default_rng(seed)
    regular, special = regular_cases(rng), special_cases(rng, make_month)
    settings = MVSettings(production_shift_warning=0.05) if seed == 4 else MVSettings()
    cases = [*regular, *special]
    cases = [cases[i] for i in rng.permutation(len(cases))]
    return cases, regular, settings, [per_case(c, settings) for c in cases]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_batched_records_equal_the_per_case_records(
    seed: int, make_month: Callable[..., Period], monkeypatch: pytest.MonkeyPatch
) -> None:
    """compute_savings_records gives compute_savings(...).to_dict() for every case (InputErrors the same), the
    records of the regular cases without adjustments built from the batch's columns, not from result objects."""
    cases, regular, settings, expected = seeded_cases(seed, make_month)

    objects: list[int] = []
    original = batch_module._object

    def counting(*args: Any) -> Any:
        objects.append(id(args[3]))
        return original(*args)

    monkeypatch.setattr(batch_module, "_object", counting)
    got = compute_savings_records(cases, settings)

    for _, want, have in answers_beside(expected, got):
        assert isinstance(have, dict)
        assert_same(want.to_dict(), have)
        assert json.loads(json.dumps(have)) == have
    # only the regular cases with adjustments went through the result objects
    assert sorted(objects) == sorted(id(c) for c in regular if c.adjustments)
    records = [r for r in got if isinstance(r, dict)]
    assert {"regression", "sec", "sec_capped_by_regression"} <= {r["method"] for r in records}
    assert any(r["norm"] is not None for r in records) and any(r["requires_review"] for r in records)


def _headline_of_record(record: dict[str, Any]) -> dict[str, Any]:
    """The figures a SavingsHeadline carries, read from a record (as the re-freeze read them before)."""
    return {
        "verdict": record["verdict"],
        "method": record["method"],
        "verified_savings_percent": record["verified_savings_percent"],
        "savings_toe": record["savings_toe"],
        "adjusted_baseline_toe": record["total"]["adjusted_baseline_toe"],
    }


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_batch_headlines_equal_the_per_case_ones_without_making_records(
    seed: int, make_month: Callable[..., Period], monkeypatch: pytest.MonkeyPatch
) -> None:
    """compute_savings_batch(...).headlines() gives, for every case, the headline figures of
    compute_savings(...).to_dict() (InputErrors the same) — from the batch's columns for the cases it computes,
    from the result for those it hands over — and makes no record on the way."""
    cases, regular, settings, expected = seeded_cases(seed, make_month)

    made: list[int] = []
    original = batch_module.group_records
    monkeypatch.setattr(batch_module, "group_records", lambda *a: made.append(1) or original(*a))
    batch = compute_savings_batch(cases, settings)
    got = batch.headlines()

    assert len(batch) == len(cases)
    for i, want, have in answers_beside(expected, got):
        assert isinstance(have, SavingsHeadline)
        assert_same(_headline_of_record(want.to_dict()), asdict(have), f"case {i}")
        assert batch.headline(i) == have
    assert made == []  # the headlines came without a single record
    # the regular cases without adjustments were read from the columns, every other case from a result
    columnar = {id(c) for c in regular if not c.adjustments}
    assert [isinstance(e, tuple) for e in batch._entries] == [id(c) in columnar for c in cases]
    assert {"regression", "sec", "sec_capped_by_regression"} <= {
        h.method for h in got if not isinstance(h, InputErrors)
    }
    assert {"verified", "not_achieved"} <= {h.verdict for h in got if not isinstance(h, InputErrors)}


def test_batch_records_are_made_on_access_a_shape_at_a_time(make_month: Callable[..., Period]) -> None:
    """record(i) is the per-case record; asking for it makes the records of its shape once (asking again gives
    the same dict), and records() then gives every case's, as compute_savings_records does."""
    rng = np.random.default_rng(8)
    cases = [*regular_cases(rng), *special_cases(rng, make_month)]
    settings = MVSettings()
    expected = [per_case(c, settings) for c in cases]
    batch = compute_savings_batch(cases, settings)

    first = next(i for i, e in enumerate(batch._entries) if isinstance(e, tuple))
    record = batch.record(first)
    assert isinstance(record, dict) and not isinstance(expected[first], InputErrors)
    assert_same(expected[first].to_dict(), record)
    assert batch.record(first) is record
    figures = batch._entries[first][0]  # type: ignore[index]
    same_shape = [i for i, e in enumerate(batch._entries) if isinstance(e, tuple) and e[0] is figures]
    assert len(same_shape) > 1 and all(batch._made[i] is not None for i in same_shape)
    assert all(batch._made[i] is None for i in range(len(cases)) if i not in same_shape)

    records = batch.records()
    assert records[first] is record
    for _, want, have in answers_beside(expected, records):
        assert_same(want.to_dict(), have)
    assert len(compute_savings_batch([])) == 0 and compute_savings_batch([]).headlines() == []


def test_records_are_independent_of_each_other() -> None:
    """Nothing in one record is shared with another: the service annotates a record's periods in place."""
    cases = regular_cases(np.random.default_rng(6))[:4]
    cases = [cases[0], cases[0], *cases[1:]]
    first, second, *_ = compute_savings_records(cases)
    assert isinstance(first, dict) and isinstance(second, dict) and first == second
    first["inputs"]["periods"][0]["source"] = "changed"
    first["inputs"]["settings"]["criteria"]["min_r_squared"] = 0.0
    first["emission_factors"][0]["note"] = "changed"
    first["total"]["regression"]["checks"][0]["message"] = "changed"
    first["warnings"].append("changed")
    assert first != second and "source" not in second["inputs"]["periods"][0]
    assert second["inputs"]["settings"]["criteria"]["min_r_squared"] == MVSettings().criteria.min_r_squared
    assert second["emission_factors"][0]["note"] != "changed"
    assert second["total"]["regression"]["checks"][0]["message"] != "changed"
    assert "changed" not in second["warnings"]


def test_the_batch_keeps_the_order_and_an_empty_list_is_empty() -> None:
    rng = np.random.default_rng(7)
    cases = regular_cases(rng)[:10]
    got = compute_savings_many(cases)
    assert [r.total.baseline_energy_toe for r in got] == pytest.approx(  # type: ignore[union-attr]
        [compute_savings(c.baseline, c.reporting, c.claim).total.baseline_energy_toe for c in cases], rel=1e-12
    )
    assert compute_savings_many([]) == []
    assert compute_savings_records([]) == []


def _as_asdict_gave(value: Any) -> Any:
    """The record as ``to_dict`` made it before (dataclasses.asdict, then tuples as lists, dates as ISO)."""
    if isinstance(value, dict):
        return {k: _as_asdict_gave(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_asdict_gave(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def test_result_records_are_what_asdict_gave(make_month: Callable[..., Period]) -> None:
    rng = np.random.default_rng(11)
    results = [per_case(c, MVSettings()) for c in [*regular_cases(rng), *special_cases(rng, make_month)]]
    results = [r for r in results if not isinstance(r, InputErrors)]
    assert any(r.total.unadjusted is not None for r in results) and any(r.norm is not None for r in results)
    for r in results:
        record = r.to_dict()
        assert record == _as_asdict_gave(asdict(r))
        assert json.loads(json.dumps(record)) == record


def test_the_garbage_collector_is_as_the_caller_left_it() -> None:
    import gc

    cases = regular_cases(np.random.default_rng(5))[:3]
    assert gc.isenabled()
    compute_savings_many(cases)
    assert gc.isenabled()
    gc.disable()
    try:
        compute_savings_many(cases)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_percent_text_is_what_rounding_to_one_decimal_gave() -> None:
    """The checks' messages format a fraction as a percentage with ``z.1f`` (both paths, criteria._fmt and the
    batched records); it must give what ``round(x, 1) + 0.0`` formatted with ``.1f`` gave, -0.0 as 0.0."""
    rng = np.random.default_rng(3)
    values = [
        *rng.normal(0, 1, 20_000).tolist(),
        *(rng.normal(0, 1, 20_000) * 10.0 ** rng.integers(-8, 4, 20_000)).tolist(),
        *[i / 2000 for i in range(-2000, 2001)],  # ties at the second decimal of the percentage
        0.0,
        -0.0,
        -4e-4,
        4e-4,
        -5e-4,
        5e-4,
        1e-300,
        -1e-300,
    ]
    for x in values:
        assert f"{x * 100:z.1f}" == f"{round(x * 100, 1) + 0.0:.1f}", x


def test_distinct_days_are_what_np_unique_gives() -> None:
    """The records' dates are indexed by ``records._distinct_days``: the distinct ordinals in order and each
    one's place among them, as ``np.unique(..., return_inverse=True)`` — over a few years (marks per day) and
    over a wide span (sorted)."""
    from cleanprod_verification.mv.records import _distinct_days

    rng = np.random.default_rng(12)
    first = date(2021, 1, 1).toordinal()
    for ordinals in (
        rng.integers(first, first + 1500, 5000),
        rng.integers(first, first + 3, 7),
        np.array([first]),
        rng.integers(1, date(9999, 12, 31).toordinal(), 300),  # far apart: sorted instead
        np.concatenate([rng.integers(first, first + 40, 50), [date(9000, 1, 1).toordinal()]]),
    ):
        days, where = _distinct_days(ordinals)
        want_days, want_where = np.unique(ordinals, return_inverse=True)
        assert days.tolist() == want_days.tolist() and where.tolist() == want_where.tolist()
        assert (days[where] == ordinals).all()


def test_emission_factors_of_the_columns_are_the_per_case_ones() -> None:
    """The records' CO2 figures and factors, computed for all cases at once (``records._emission_factors``), are
    the per-case ones: reporting over several years, years past the grid table (each its own note), electricity
    switched off in reporting (its periods weigh the same), fuels only, and a claim naming a carrier not measured."""
    rng = np.random.default_rng(13)
    carriers = [("electricity", "MWh"), ("natural_gas", "1000 m3")]
    b, r = case_periods(rng, 24, 24, carriers, level=1000.0)  # reporting from December 2022: three grid years
    late = timedelta(days=4 * 365)
    later_b = [replace(p, start=p.start + late, end=p.end + late) for p in b]
    later_r = [replace(p, start=p.start + late, end=p.end + late) for p in r]  # 2027–2028: past the table
    switched = r
    for i in range(len(r)):
        switched = with_amount(switched, i, 0, 0.0)  # no electricity at all in reporting
    fb, fr = case_periods(rng, 12, 12, [("coal_grade_3_4", "t"), ("diesel_oil", "m3")], level=800.0)
    cases = [
        SavingsCase(b, r, Claim(6.0)),
        SavingsCase(later_b, later_r, Claim(6.0, {"electricity": 4.0})),
        SavingsCase(b, switched, Claim(6.0)),
        SavingsCase(fb, fr, Claim(6.0, {"lpg": 3.0})),
    ]
    settings = MVSettings()
    batch = compute_savings_batch(cases, settings)
    assert all(isinstance(e, tuple) for e in batch._entries)  # every one from the columns
    for case, record in zip(cases, batch.records(), strict=True):
        want = per_case(case, settings)
        assert not isinstance(want, InputErrors)
        assert_same(want.to_dict(), record)
    factors = [batch.record(i)["emission_factors"] for i in range(2)]  # type: ignore[index]
    *grid_years, gas = [f["year"] for f in factors[0]]
    assert len(grid_years) >= 2 and grid_years == sorted(grid_years) and gas is None  # grid years, then the fuel's
    *grid, gas = [f["note"] for f in factors[1]]
    assert len(grid) >= 2 and all(grid) and not gas  # each year past the table with its own note
