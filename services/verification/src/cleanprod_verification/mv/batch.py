"""Many verification cases at once: ``compute_savings_many`` gives, for each case, what ``compute_savings``
gives (the ``SavingsResult``, or the ``InputErrors`` it would raise), in the same order;
``compute_savings_records`` gives its record (``to_dict()``), built column-wise (``records.py``);
``compute_savings_batch`` gives the batch as it is before any record is made (``SavingsBatch``: each case's
headline figures at once, its record on access) — ``compute_savings_records`` is ``batch(cases).records()``.

Cases of one shape — the same numbers of baseline and reporting periods, the same carriers in the same units
in every period, one production unit — are computed as stacked arrays: the periods are read once into arrays
and checked as arrays, the OLS fits of every carrier and the total are one batched QR (``fit_stacked``), the t
and F tails one call each. The result records are then assembled by the functions ``compute_savings`` uses
(``savings._judged``, ``savings._result``), so the same rules make the same records; the figures agree with the
per-case path to rounding (the test holds them to 1e-9).

A case is handed to ``compute_savings`` itself whenever the batch cannot take it as it is, or finds anything the
per-case path treats specially: any input problem (reported there with its field path), degree-days, a
non-energy resource (water) or a carrier listed twice in a period, periods not in order of start date, a
``datetime`` for a date, a weather model, and any fit that is not possible or has an undefined figure (too few
periods, production that does not vary, constant or zero energy: ``StackedFits.regular``).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np

from .adjustments import NonRoutineAdjustment, validate_adjustments
from .criteria import range_check_of_bounds
from .errors import InputError, InputErrors
from .factors import FactorTables, default_tables
from .inputs import Claim, Period
from .models import FORM_PRODUCTION, BaselineModel, validate_model
from .norms import SectorNorm, convert_sec
from .records import GroupFigures, group_figures, group_records
from .regression import StackedFits, fit_stacked
from .results import SavingsHeadline, SavingsResult
from .savings import _claim_warnings, _judged, _Model, _result, compute_savings
from .sec import sec_comparison
from .settings import MVSettings
from .uncertainty import DAYS_PER_MONTH, interval_of_median
from .units import CANONICAL, production_unit
from .validation import NON_ENERGY_RESOURCES, PeriodSeries, PreparedInputs, validate_claim, validate_norm

_START, _END, _PRODUCTION, _CONSUMPTION = map(attrgetter, ("start", "end", "production", "consumption"))
_CDD, _HDD = attrgetter("cdd"), attrgetter("hdd")
_CARRIER_UNIT = attrgetter("carrier", "unit")
_CARRIER, _UNIT, _QUANTITY = attrgetter("carrier"), attrgetter("unit"), attrgetter("quantity")
_NUMBER = frozenset({float, int})  # what the per-case reading takes as a plain number (bool is not)
_VARIABLES = ["intercept", "production"]
_NO_PLAN = BaselineModel()  # what compute_savings takes without a model (frozen: one instance serves every case)
_NEAR_ZERO_SAVINGS = 1e-6  # |savings| / adjusted baseline below which the per-case path computes the case


@dataclass(frozen=True)
class SavingsCase:
    """One case's inputs, as ``compute_savings`` takes them."""

    baseline: Sequence[Period]
    reporting: Sequence[Period]
    claim: Claim
    norm: SectorNorm | None = None
    model: BaselineModel | None = None
    adjustments: Sequence[NonRoutineAdjustment] = ()


@dataclass(slots=True)
class _Read:
    """A case read into sequences, with the key of its shape; values not yet checked (``_checked`` does that).
    Not frozen: a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, once per case."""

    index: int
    key: tuple[Any, ...]  # (baseline count, reporting count, ((carrier, unit), ...), production unit)
    starts: Sequence[date]
    ends: Sequence[date]
    production: Sequence[float]
    amounts: list[float]  # period by period, carriers in the key's order
    carriers: list[str]  # sorted, as PreparedInputs.carriers
    spec: BaselineModel


def compute_savings_many(
    cases: Sequence[SavingsCase], settings: MVSettings | None = None, *, tables: FactorTables | None = None
) -> list[SavingsResult | InputErrors]:
    with _collector_paused():
        return _compute_many(cases, settings or MVSettings(), tables or default_tables(), False)  # type: ignore[return-value]


def compute_savings_records(
    cases: Sequence[SavingsCase], settings: MVSettings | None = None, *, tables: FactorTables | None = None
) -> list[dict[str, Any] | InputErrors]:
    """For each case the record ``compute_savings(...).to_dict()`` gives (what the service keeps of a result),
    or the ``InputErrors`` it would raise, in order — built column-wise from the batch's arrays for the cases the
    batch computes (``records.py``), without the result objects. The collector stays paused from the reading to
    the last record: paused twice, it traversed what the batch holds once more in between."""
    with _collector_paused():
        return compute_savings_batch(cases, settings, tables=tables).records()


def compute_savings_batch(
    cases: Sequence[SavingsCase], settings: MVSettings | None = None, *, tables: FactorTables | None = None
) -> SavingsBatch:
    """The cases computed together, their records not yet made: ``SavingsBatch`` gives each case's headline
    figures at once and its full record when asked for."""
    settings, tables = settings or MVSettings(), tables or default_tables()
    with _collector_paused():
        entries = _compute_many(cases, settings, tables, True)
    return SavingsBatch(entries, settings, tables)


class SavingsBatch:
    """A batch's results, columnar: for each case (in the order given) the ``InputErrors`` it would raise, or its
    figures — as the batch's arrays and decisions (``records.GroupFigures``) for the cases computed column-wise, as
    a ``SavingsResult`` for those handed to ``compute_savings`` or assembled from objects (adjustments).
    ``headline(i)`` reads the headline figures from there; ``record(i)`` is ``compute_savings(...).to_dict()``,
    made on first access — column-wise for all cases of its shape at once (that is what makes the records cheap),
    then kept: asking again gives the same dict."""

    def __init__(
        self,
        entries: list[SavingsResult | InputErrors | tuple[GroupFigures, int]],
        settings: MVSettings,
        tables: FactorTables,
    ) -> None:
        self._entries = entries
        self._settings, self._tables = settings, tables
        self._made: list[dict[str, Any] | None] = [None] * len(entries)
        self._slots: dict[int, list[int]] = {}  # id of a GroupFigures: the indexes of its cases, in its order
        for i, entry in enumerate(entries):
            if isinstance(entry, tuple):
                self._slots.setdefault(id(entry[0]), []).append(i)

    def __len__(self) -> int:
        return len(self._entries)

    def headline(self, i: int) -> SavingsHeadline | InputErrors:
        entry = self._entries[i]
        if isinstance(entry, tuple):
            figures, j = entry
            return figures.headlines[j]
        return entry if isinstance(entry, InputErrors) else SavingsHeadline.of(entry)

    def headlines(self) -> list[SavingsHeadline | InputErrors]:
        return [self.headline(i) for i in range(len(self._entries))]

    def record(self, i: int) -> dict[str, Any] | InputErrors:
        entry = self._entries[i]
        if isinstance(entry, InputErrors):
            return entry
        made = self._made[i]
        if made is None:
            with _collector_paused():
                if isinstance(entry, tuple):
                    self._make_group(entry[0])
                else:
                    self._made[i] = entry.to_dict()
            made = self._made[i]
        return made  # type: ignore[return-value]  # filled above

    def records(self) -> list[dict[str, Any] | InputErrors]:
        with _collector_paused():
            return [self.record(i) for i in range(len(self._entries))]

    def _make_group(self, figures: GroupFigures) -> None:
        """The records of every case of ``figures``, into their slots."""
        records = group_records(figures, self._settings, self._tables, self._settings.to_dict())
        for i, record in zip(self._slots[id(figures)], records, strict=True):  # cases come in the order given
            self._made[i] = record


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the records are built: it would traverse the growing records again
    and again (40 % of the batch's time), and they hold no reference cycles for it to find — reference counting
    frees them. Left off if the caller had turned it off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _compute_many(
    cases: Sequence[SavingsCase], settings: MVSettings, tables: FactorTables, columnar: bool
) -> list[Any]:
    """Each case's ``SavingsResult`` or ``InputErrors``; when ``columnar``, the cases the batch computes without
    adjustments as (their shape's ``GroupFigures``, their position in it) instead."""
    out: list[Any] = [None] * len(cases)
    groups: dict[tuple[Any, ...], list[_Read]] = {}
    memo: dict[Any, bool] = {}
    for i, case in enumerate(cases):
        read = _read(i, case, settings, tables, memo)
        if read is None:
            out[i] = _one(case, settings, tables)
        else:
            groups.setdefault(read.key, []).append(read)
    settings_record = settings.to_dict()
    for key, reads in groups.items():
        results = _group(key, reads, cases, settings, tables, settings_record, columnar)
        for read, result in zip(reads, results, strict=True):
            out[read.index] = result if result is not None else _one(cases[read.index], settings, tables)
    return out


def _one(case: SavingsCase, settings: MVSettings, tables: FactorTables) -> SavingsResult | InputErrors:
    try:
        result = compute_savings(
            case.baseline,
            case.reporting,
            case.claim,
            settings,
            norm=case.norm,
            tables=tables,
            model=case.model,
            adjustments=case.adjustments,
        )
    except InputErrors as e:
        return e
    return result


def _read(i: int, case: SavingsCase, settings: MVSettings, tables: FactorTables, memo: dict[Any, bool]) -> _Read | None:
    """The case as lists (C-level attribute reads), or None when the batch cannot take it — also when it cannot
    even be read as periods: the per-case path then says what it says about such input. ``memo``: what the batch
    found of the claims, models, units and norms it checked already (the cases of a batch often share them)."""
    try:
        return _read_plain(i, case, settings, tables, memo)
    except (AttributeError, TypeError, ValueError, OverflowError):
        return None


def _plain_numbers(values: Sequence[object]) -> bool:
    """Floats and ints only (bool is not), the ints within float range (a larger one is the per-case path's)."""
    types = set(map(type, values))
    if not _NUMBER.issuperset(types):
        return False
    if int in types:
        list(map(float, values))  # OverflowError beyond float range
    return True


def _valid(memo: dict[Any, bool], key: Any, check: Callable[[], object]) -> bool:
    """Whether ``check()`` passes without an input error, once per key in a batch (keys by ``id`` are of objects
    the cases hold, alive while the batch runs)."""
    known = memo.get(key)
    if known is None:
        try:
            check()
            known = True
        except (InputError, InputErrors):
            known = False
        memo[key] = known
    return known


def _inputs_valid(
    case: SavingsCase,
    spec: BaselineModel,
    unit_text: str,
    signature: tuple[tuple[str, str], ...],
    carriers: list[str],
    settings: MVSettings,
    tables: FactorTables,
    memo: dict[Any, bool],
) -> bool:
    """The checks of the case's model, claim, units, norm and adjustments ``compute_savings`` makes, as far as
    the periods do not enter them."""

    def units_known() -> None:
        production_unit(unit_text)
        for carrier, carrier_unit in signature:
            tables.toe_per(carrier, carrier_unit)

    def norm_comparable() -> None:
        assert case.norm is not None
        validate_norm(case.norm)
        unit = production_unit(unit_text)
        convert_sec(1.0, f"TOE/{CANONICAL[unit.dimension]}", case.norm.unit, "norm.unit")

    def adjustments_valid() -> None:
        validate_adjustments(case.adjustments, carriers)

    return (
        _valid(memo, ("model", id(spec)), lambda: validate_model(spec))
        and _valid(memo, ("claim", id(case.claim)), lambda: validate_claim(case.claim, settings.limits, tables))
        and _valid(memo, ("units", unit_text, signature), units_known)
        and (case.norm is None or _valid(memo, ("norm", id(case.norm), unit_text), norm_comparable))
        and (not case.adjustments or _valid(memo, ("adjustments", id(case.adjustments), *carriers), adjustments_valid))
    )


def _read_plain(
    i: int, case: SavingsCase, settings: MVSettings, tables: FactorTables, memo: dict[Any, bool]
) -> _Read | None:
    spec = case.model or _NO_PLAN
    if spec.form not in (None, FORM_PRODUCTION):
        return None
    n_base, n_rep = len(case.baseline), len(case.reporting)
    if not n_base or not n_rep:
        return None
    periods = [*case.baseline, *case.reporting]
    n = len(periods)
    # one pass per field (C-level attribute reads; no tuple per period to take apart again)
    if [*map(_CDD, periods)].count(None) != n or [*map(_HDD, periods)].count(None) != n:
        return None
    starts, ends = [*map(_START, periods)], [*map(_END, periods)]
    if {*map(type, starts), *map(type, ends)} != {date}:
        return None
    produced = [*map(_PRODUCTION, periods)]
    units, quantities = [*map(_UNIT, produced)], [*map(_QUANTITY, produced)]
    if len(set(units)) != 1 or not _plain_numbers(quantities):
        return None
    consumptions = [*map(_CONSUMPTION, periods)]
    signature = tuple(map(_CARRIER_UNIT, consumptions[0]))
    k = len(signature)
    if not k or set(map(len, consumptions)) != {k}:  # k items in every period, not only k·n in all
        return None
    items = list(chain.from_iterable(consumptions))
    carriers, units_of_items = [c for c, _ in signature], [u for _, u in signature]
    # every period lists the same carriers in the same units in the same order (a list per field: no tuple per
    # item, no slicing)
    if list(map(_CARRIER, items)) != carriers * n or list(map(_UNIT, items)) != units_of_items * n:
        return None
    if len(set(carriers)) != k or NON_ENERGY_RESOURCES.intersection(carriers):
        return None
    amounts = list(map(_QUANTITY, items))
    if not _plain_numbers(amounts):
        return None

    # the cases of a batch mostly share all of these (a re-freeze: every one): one look-up instead of five checks
    shared = ("inputs", id(spec), id(case.claim), units[0], signature, id(case.norm), id(case.adjustments))
    valid = memo.get(shared)
    if valid is None:
        valid = memo[shared] = _inputs_valid(case, spec, units[0], signature, carriers, settings, tables, memo)
    if not valid:
        return None
    return _Read(
        i,
        (n_base, n_rep, signature, units[0]),
        starts,
        ends,
        quantities,
        amounts,
        sorted(carriers),
        spec,
    )


@dataclass(frozen=True)
class Stacked:
    """One shape's cases after the batched fit: the arrays both assemblies read (``_objects`` here, the records
    in ``records.py``). Index g runs over the cases that passed ``_checked``; t over the carriers (sorted), then
    the total."""

    n_base: int
    n_rep: int
    carriers: list[str]
    canonical: str  # production unit
    fits: StackedFits
    starts: np.ndarray  # (G, n) date ordinals
    ends: np.ndarray
    production: np.ndarray  # (G, n) canonical unit
    energy: np.ndarray  # (G, n, k) TOE, carriers sorted
    design: np.ndarray  # (G, n, 2)
    sums_b: np.ndarray  # (G, T) TOE over the baseline periods
    sums_r: np.ndarray  # (G, T) over the reporting periods
    prod_sums_b: np.ndarray  # (G,)
    prod_sums_r: np.ndarray
    bounds: list[list[float]]  # [g] baseline min, max, reporting min, max of production
    medians: list[float]  # [g] median baseline period length, days
    months: list[float]  # [g] reporting months
    computable: list[bool]  # [g] a regular fit and savings not within rounding of zero


def _group(
    key: tuple[Any, ...],
    reads: list[_Read],
    cases: Sequence[SavingsCase],
    settings: MVSettings,
    tables: FactorTables,
    settings_record: dict[str, Any],
    columnar: bool,
) -> list[Any]:
    """The results of one shape's cases (when ``columnar``: (``GroupFigures``, position) for those without
    adjustments); None for a case the per-case path must compute."""
    n_base, n_rep, signature, unit_text = key
    unit = production_unit(unit_text)
    k = len(signature)
    factors = np.array([tables.toe_per(c, u) for c, u in signature])
    order = np.argsort([c for c, _ in signature], kind="stable")  # columns in sorted carrier order
    g_count, n = len(reads), n_base + n_rep
    # flat sequences into arrays (a list of lists costs several times more: numpy discovers its shape)
    starts = _array(chain.from_iterable(r.starts for r in reads), g_count * n, int, date.toordinal).reshape(g_count, n)
    ends = _array(chain.from_iterable(r.ends for r in reads), g_count * n, int, date.toordinal).reshape(g_count, n)
    quantity = _array(chain.from_iterable(r.production for r in reads), g_count * n, float).reshape(g_count, n)
    amount = _array(chain.from_iterable(r.amounts for r in reads), g_count * n * k, float).reshape(g_count, n, k)
    production = quantity * unit.to_base
    energy = (amount * factors)[:, :, order]  # TOE
    ok = _checked(starts, ends, quantity, production, amount, energy, n_base, settings)

    out: list[Any] = [None] * len(reads)
    rows = np.flatnonzero(ok)
    if not rows.size:
        return out
    production, energy, starts, ends = production[rows], energy[rows], starts[rows], ends[rows]
    targets = np.concatenate([energy, energy.sum(axis=2, keepdims=True)], axis=2)  # carriers, then the total
    design = np.stack([np.ones_like(production), production], axis=2)
    fits = fit_stacked(design[:, :n_base], targets[:, :n_base], _VARIABLES, design[:, n_base:])

    prod_b, prod_r = production[:, :n_base], production[:, n_base:]
    sums_r = targets[:, n_base:].sum(axis=1)
    # A saving within a millionth of the adjusted baseline is a difference of nearly equal sums: its FSU (a
    # fraction of the savings) magnifies rounding, so such a case is computed per case.
    distinct = (np.abs(fits.arrays["predicted"] - sums_r) > _NEAR_ZERO_SAVINGS * np.abs(sums_r)).all(axis=1)
    stacked = Stacked(
        n_base,
        n_rep,
        reads[0].carriers,
        CANONICAL[unit.dimension],
        fits,
        starts,
        ends,
        production,
        energy,
        design,
        targets[:, :n_base].sum(axis=1),
        sums_r,
        prod_b.sum(axis=1),
        prod_r.sum(axis=1),
        np.stack([prod_b.min(axis=1), prod_b.max(axis=1), prod_r.min(axis=1), prod_r.max(axis=1)], 1).tolist(),
        np.median(ends[:, :n_base] - starts[:, :n_base] + 1, axis=1).tolist(),
        ((ends[:, n_base:].max(axis=1) - starts[:, n_base] + 1) / DAYS_PER_MONTH).tolist(),
        (np.asarray(fits.regular) & distinct).tolist(),
    )
    picked = [(g, row) for g, row in enumerate(rows.tolist()) if stacked.computable[g]]
    if columnar:  # adjustments change the figures after the fact: those cases' results are objects
        plain = [(g, row) for g, row in picked if not cases[reads[row].index].adjustments]
        if plain:
            figures = group_figures(
                stacked,
                [g for g, _ in plain],
                [reads[row] for _, row in plain],
                [cases[reads[row].index] for _, row in plain],
                settings,
            )
            for j, (_, row) in enumerate(plain):
                out[row] = (figures, j)
        picked = [(g, row) for g, row in picked if cases[reads[row].index].adjustments]
    for g, row in picked:
        read = reads[row]
        out[row] = _object(stacked, g, read, cases[read.index], settings, tables, settings_record)
    return out


def _object(
    s: Stacked,
    g: int,
    read: _Read,
    case: SavingsCase,
    settings: MVSettings,
    tables: FactorTables,
    settings_record: dict[str, Any],
) -> SavingsResult:
    """Case g's ``SavingsResult``, assembled by the functions ``compute_savings`` uses."""
    n_base, n_rep, k = s.n_base, s.n_rep, len(s.carriers)
    prod_b, prod_r = s.production[g, :n_base], s.production[g, n_base:]
    data = PreparedInputs(
        PeriodSeries([*read.starts[:n_base]], [*read.ends[:n_base]], prod_b, s.energy[g, :n_base], *_none(n_base, 2)),
        PeriodSeries([*read.starts[n_base:]], [*read.ends[n_base:]], prod_r, s.energy[g, n_base:], *_none(n_rep, 2)),
        read.carriers,
        s.canonical,
        [],
    )
    # savings._model for a production model whose periods give no degree-days: nothing dropped, no warning
    model = _Model(
        _VARIABLES,
        s.design[g, :n_base],
        s.design[g, n_base:],
        [range_check_of_bounds("production", *s.bounds[g], settings.criteria.range_tolerance)],
        None,  # the fit is the batch's (``fits``), not a per-case decomposition
        None,
        ["production"],
        [],
        interval_of_median(s.medians[g]),
        s.months[g],
    )
    f = s.fits.figures
    sums_b, sums_r = s.sums_b[g].tolist(), s.sums_r[g].tolist()
    prod_sum_b, prod_sum_r = float(s.prod_sums_b[g]), float(s.prod_sums_r[g])
    evaluations = [
        _judged(
            s.fits.fit(g, t),
            f["rho"][g][t],
            f["predicted"][g][t],
            sums_r[t],
            n_rep,
            sec_comparison(sums_b[t], prod_sum_b, sums_r[t], prod_sum_r),
            model,
            settings,
        )
        for t in range(k + 1)
    ]
    return _result(
        data,
        model,
        evaluations,
        _claim_warnings(case.claim, data.carriers),
        case.claim,
        settings,
        tables,
        read.spec,
        case.norm,
        case.adjustments,
        {name: dict(v) if isinstance(v, dict) else v for name, v in settings_record.items()},
    )


def _array(values: Iterable[Any], count: int, dtype: type, convert: Callable[[Any], Any] | None = None) -> np.ndarray:
    return np.fromiter(values if convert is None else map(convert, values), dtype, count)


def _none(n: int, count: int) -> list[list[None]]:
    """Degree-day lists of periods that give none (cdd, hdd)."""
    return [[None] * n for _ in range(count)]


def _checked(
    starts: np.ndarray,
    ends: np.ndarray,
    quantity: np.ndarray,
    production: np.ndarray,
    amount: np.ndarray,
    energy: np.ndarray,
    n_base: int,
    settings: MVSettings,
) -> np.ndarray:
    """For each case, whether ``prepare_inputs`` accepts it as read, periods already in order (its checks, as
    arrays): finite non-negative numbers within the limits, periods that end after they start, start one after
    another without overlapping and reporting after the baseline, some production in both sets and some
    baseline energy."""
    limits = settings.limits
    with np.errstate(invalid="ignore", over="ignore"):
        ok = ((quantity >= 0) & (quantity < np.inf)).all(axis=1)
        ok &= (production <= limits.max_production).all(axis=1)
        ok &= ((amount >= 0) & (amount < np.inf)).all(axis=(1, 2))
        ok &= (energy <= limits.max_period_energy_toe).all(axis=(1, 2))
    ok &= (ends >= starts).all(axis=1)
    for part in (slice(0, n_base), slice(n_base, None)):
        s, e = starts[:, part], ends[:, part]
        ok &= (np.diff(s, axis=1) > 0).all(axis=1)  # in order of start (the per-case path sorts)
        ok &= (s[:, 1:] >= np.maximum.accumulate(e, axis=1)[:, :-1]).all(axis=1)  # sharing a boundary day is fine
    ok &= starts[:, n_base] >= ends[:, :n_base].max(axis=1)
    ok &= (production[:, :n_base].sum(axis=1) > 0) & (production[:, n_base:].sum(axis=1) > 0)
    ok &= energy[:, :n_base].sum(axis=(1, 2)) > 0
    return ok
