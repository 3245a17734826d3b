"""Scoring applications on a call's weighted rubric.

A review's score is ``Σ weightᵢ·scoreᵢ / Σ weightᵢ·maxᵢ`` over the call's criteria: a number in [0, 1],
shown as a percentage. Weights and maxima are independent, so "technology maturity, weight 3, out of 10"
and "saving potential, weight 2, out of 5" combine without the officer pre-normalising anything.

Worked example (also a unit test): criteria A (weight 3, max 10) and B (weight 2, max 5), scores A = 8,
B = 4 → (3·8 + 2·4) / (3·10 + 2·5) = 32/40 = 0.8 = 80 %.

The call's outcome is the plain mean of the per-review scores of the non-recused reviewers who have
submitted; it passes when that mean, in percent, is **at least** the call's pass score. All arithmetic
is exact (``Fraction``); the two-decimal percentage is for display and never used in a comparison, so an
application at 69.996 % does not pass a 70 % bar by rounding.

Scores may be ints, Decimals or floats (a reviewer may give 7.5); bools, strings, NaN and infinities are
refused. Validation reports every problem at once (missing, duplicated or unknown criterion, not a
number, out of 0..max) for a 422 ``errors[]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from .exact import Number, round_half_up, to_fraction

ScoreEntries = Mapping[str, object] | Iterable[tuple[str, object]]
"""Scores as ``{criterion_code: score}`` or as ``(criterion_code, score)`` pairs (pairs can repeat a code,
which is how a JSON list body would arrive, and validation reports it)."""


@dataclass(frozen=True)
class Criterion:
    code: str
    name: str
    weight: Number
    max_score: Number

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code.strip():
            raise ValueError("a criterion needs a non-empty code")
        if to_fraction(self.weight, f"weight of {self.code}") <= 0:
            raise ValueError(f"weight of criterion {self.code} must be greater than 0, got {self.weight}")
        if to_fraction(self.max_score, f"max_score of {self.code}") <= 0:
            raise ValueError(f"max_score of criterion {self.code} must be greater than 0, got {self.max_score}")


@dataclass(frozen=True)
class Rubric:
    criteria: tuple[Criterion, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria", tuple(self.criteria))
        if not self.criteria:
            raise ValueError("a rubric needs at least one criterion")
        codes = [c.code for c in self.criteria]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"criterion codes must be unique; repeated: {', '.join(duplicates)}")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.criteria)


class ScoreProblemCode(StrEnum):
    MISSING = "missing"
    DUPLICATE = "duplicate"
    UNKNOWN_CRITERION = "unknown_criterion"
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"


@dataclass(frozen=True)
class ScoreProblem:
    code: ScoreProblemCode
    criterion: str
    message: str


class InvalidScores(ValueError):
    """A review's scores do not fit the rubric (→ HTTP 422 with one ``errors[]`` entry per problem)."""

    def __init__(self, problems: Sequence[ScoreProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(p.message for p in self.problems))


@dataclass(frozen=True)
class Score:
    """A weighted score. ``fraction`` is exact in [0, 1]; ``percent`` is rounded for display only."""

    fraction: Fraction

    @property
    def percent_exact(self) -> Fraction:
        return self.fraction * 100

    @property
    def percent(self) -> Decimal:
        """Percentage with two decimals, half-up (e.g. 2/3 → ``Decimal("66.67")``)."""
        return round_half_up(self.percent_exact, 2)


def validate_scores(rubric: Rubric, entries: ScoreEntries) -> list[ScoreProblem]:
    """Every way ``entries`` fail to score each criterion exactly once within 0..max (empty: valid)."""
    problems: list[ScoreProblem] = []
    by_code = {c.code: c for c in rubric.criteria}
    seen: set[str] = set()
    for code, raw in _pairs(entries):
        if code not in by_code:
            problems.append(
                ScoreProblem(
                    ScoreProblemCode.UNKNOWN_CRITERION, str(code), f"'{code}' is not a criterion of this call's rubric"
                )
            )
            continue
        if code in seen:
            problems.append(
                ScoreProblem(ScoreProblemCode.DUPLICATE, code, f"criterion '{code}' is scored more than once")
            )
            continue
        seen.add(code)
        criterion = by_code[code]
        try:
            value = to_fraction(raw, f"score for '{code}'")
        except (TypeError, ValueError):
            problems.append(
                ScoreProblem(ScoreProblemCode.NOT_A_NUMBER, code, f"score for '{code}' must be a number, got {raw!r}")
            )
            continue
        if not 0 <= value <= to_fraction(criterion.max_score, "max_score"):
            problems.append(
                ScoreProblem(
                    ScoreProblemCode.OUT_OF_RANGE,
                    code,
                    f"score for '{code}' must be between 0 and {criterion.max_score}, got {raw}",
                )
            )
    for code in rubric.codes:
        if code not in seen:
            problems.append(ScoreProblem(ScoreProblemCode.MISSING, code, f"criterion '{code}' has no score"))
    return problems


def weighted_score(rubric: Rubric, entries: ScoreEntries) -> Score:
    """``Σ weight·score / Σ weight·max``; raises :class:`InvalidScores` if the entries are not valid."""
    pairs = list(_pairs(entries))
    problems = validate_scores(rubric, pairs)
    if problems:
        raise InvalidScores(problems)
    scores = {code: to_fraction(raw, code) for code, raw in pairs}
    earned = sum(to_fraction(c.weight, "weight") * scores[c.code] for c in rubric.criteria)
    possible = sum(to_fraction(c.weight, "weight") * to_fraction(c.max_score, "max_score") for c in rubric.criteria)
    return Score(Fraction(earned) / possible)


@dataclass(frozen=True)
class Review:
    """One assigned reviewer's review. ``scores is None`` means not submitted yet; given scores are stored
    as a tuple of ``(criterion, score)`` pairs so a review stays an immutable, hashable value."""

    reviewer_id: str
    recused: bool = False
    scores: ScoreEntries | None = None

    def __post_init__(self) -> None:
        if self.scores is not None:
            object.__setattr__(self, "scores", tuple(_pairs(self.scores)))
        if self.recused and self.scores is not None:
            # The design says a declared conflict means they "cannot score"; a stored score would be a bug.
            raise ValueError(f"reviewer {self.reviewer_id} is recused and cannot have scores")

    @property
    def counts(self) -> bool:
        """Counted towards the outcome and ``min_reviews``: not recused and submitted."""
        return not self.recused and self.scores is not None


@dataclass(frozen=True)
class ReviewSummary:
    counted: int
    mean: Score | None
    pass_score_pct: Fraction
    passed: bool


def summarise_reviews(rubric: Rubric, reviews: Iterable[Review], pass_score_pct: Number) -> ReviewSummary:
    """Mean weighted score over the counted reviews, and whether it reaches the pass score (in percent)."""
    pass_pct = to_fraction(pass_score_pct, "pass_score_pct")
    if not 0 <= pass_pct <= 100:
        raise ValueError(f"pass score must be between 0 and 100 %, got {pass_score_pct}")
    reviews = list(reviews)
    ids = [r.reviewer_id for r in reviews]
    if len(set(ids)) != len(ids):
        raise ValueError("each reviewer can have only one review of an application")
    scores = [weighted_score(rubric, r.scores) for r in reviews if r.scores is not None and r.counts]
    if not scores:
        return ReviewSummary(0, None, pass_pct, False)
    mean = Score(sum((s.fraction for s in scores), Fraction(0)) / len(scores))
    return ReviewSummary(len(scores), mean, pass_pct, mean.percent_exact >= pass_pct)


def _pairs(entries: ScoreEntries) -> Iterable[tuple[str, object]]:
    if isinstance(entries, Mapping):
        return list(entries.items())
    return [tuple(pair) for pair in entries]  # type: ignore[misc]
