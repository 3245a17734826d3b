from decimal import Decimal
from fractions import Fraction

import pytest

from cleanprod_applications.domain.scoring import (
    Criterion,
    InvalidScores,
    Review,
    Rubric,
    Score,
    summarise_reviews,
    validate_scores,
    weighted_score,
)
from cleanprod_applications.domain.scoring import (
    ScoreProblemCode as P,
)

# technology 3×/10, savings 2×/5, finance 1×/20
RUBRIC = Rubric(
    (
        Criterion("tech", "Technology maturity", 3, 10),
        Criterion("savings", "Saving potential", 2, 5),
        Criterion("finance", "Financial soundness", 1, 20),
    )
)
# Σ weight·max = 30 + 10 + 20 = 60


def test_worked_example_from_docstring():
    rubric = Rubric((Criterion("A", "A", 3, 10), Criterion("B", "B", 2, 5)))
    score = weighted_score(rubric, {"A": 8, "B": 4})
    assert score.fraction == Fraction(4, 5)
    assert score.percent == Decimal("80.00")


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ({"tech": 10, "savings": 5, "finance": 20}, Fraction(1)),
        ({"tech": 0, "savings": 0, "finance": 0}, Fraction(0)),
        # 3·7 + 2·3 + 1·12 = 39 → 39/60
        ({"tech": 7, "savings": 3, "finance": 12}, Fraction(39, 60)),
        # 3·7.5 + 2·2.5 + 1·0 = 27.5 → 27.5/60 = 11/24
        ({"tech": Decimal("7.5"), "savings": 2.5, "finance": 0}, Fraction(11, 24)),
        # weight matters: full marks on the light criterion only → 20/60
        ({"tech": 0, "savings": 0, "finance": 20}, Fraction(1, 3)),
    ],
)
def test_weighted_score_hand_computed(scores, expected):
    assert weighted_score(RUBRIC, scores).fraction == expected


def test_percent_is_rounded_half_up_for_display():
    assert Score(Fraction(39, 60)).percent == Decimal("65.00")
    assert Score(Fraction(11, 24)).percent == Decimal("45.83")  # 45.8333…
    assert Score(Fraction(2, 3)).percent == Decimal("66.67")
    assert Score(Fraction(1, 20000)).percent == Decimal("0.01")  # 0.005 % → up (half-even would give 0.00)
    assert Score(Fraction(3, 20000)).percent == Decimal("0.02")  # 0.015 %
    assert Score(Fraction(1, 1)).percent == Decimal("100.00")


def test_fractional_weights_and_maxima():
    rubric = Rubric((Criterion("a", "a", Decimal("0.6"), Decimal("2.5")), Criterion("b", "b", Decimal("0.4"), 4)))
    # (0.6·2 + 0.4·1) / (0.6·2.5 + 0.4·4) = 1.6 / 3.1
    assert weighted_score(rubric, {"a": 2, "b": 1}).fraction == Fraction(16, 31)


def problem_codes(problems):
    return sorted((p.code, p.criterion) for p in problems)


def test_valid_scores_have_no_problems():
    assert validate_scores(RUBRIC, {"tech": 10, "savings": 0, "finance": Decimal("19.5")}) == []


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ({"tech": 1, "savings": 1}, [(P.MISSING, "finance")]),
        ([("tech", 1), ("savings", 1), ("finance", 1), ("tech", 2)], [(P.DUPLICATE, "tech")]),
        ({"tech": 1, "savings": 1, "finance": 1, "ethics": 3}, [(P.UNKNOWN_CRITERION, "ethics")]),
        ({"tech": "7", "savings": 1, "finance": 1}, [(P.NOT_A_NUMBER, "tech")]),
        ({"tech": None, "savings": 1, "finance": 1}, [(P.NOT_A_NUMBER, "tech")]),
        ({"tech": True, "savings": 1, "finance": 1}, [(P.NOT_A_NUMBER, "tech")]),
        ({"tech": float("nan"), "savings": 1, "finance": 1}, [(P.NOT_A_NUMBER, "tech")]),
        ({"tech": 10.01, "savings": 1, "finance": 1}, [(P.OUT_OF_RANGE, "tech")]),
        ({"tech": -0.5, "savings": 1, "finance": 1}, [(P.OUT_OF_RANGE, "tech")]),
        ({}, [(P.MISSING, "finance"), (P.MISSING, "savings"), (P.MISSING, "tech")]),
        (
            [("tech", 11), ("tech", 1), ("bonus", 1), ("savings", "x")],
            [
                (P.DUPLICATE, "tech"),
                (P.UNKNOWN_CRITERION, "bonus"),
                (P.NOT_A_NUMBER, "savings"),
                (P.OUT_OF_RANGE, "tech"),
                (P.MISSING, "finance"),
            ],
        ),
    ],
)
def test_score_problems(entries, expected):
    assert problem_codes(validate_scores(RUBRIC, entries)) == sorted(expected)


def test_weighted_score_refuses_invalid_scores_with_all_problems():
    with pytest.raises(InvalidScores) as caught:
        weighted_score(RUBRIC, {"tech": 11, "savings": 1})
    assert problem_codes(caught.value.problems) == sorted([(P.OUT_OF_RANGE, "tech"), (P.MISSING, "finance")])
    assert "between 0 and 10" in str(caught.value)


def test_rubric_validation():
    with pytest.raises(ValueError):
        Rubric(())
    with pytest.raises(ValueError, match="repeated: a"):
        Rubric((Criterion("a", "A", 1, 1), Criterion("a", "A again", 1, 1)))
    for weight, max_score in [(0, 10), (-1, 10), (1, 0), (1, -5)]:
        with pytest.raises(ValueError):
            Criterion("a", "A", weight, max_score)
    with pytest.raises(ValueError):
        Criterion(" ", "blank", 1, 1)
    with pytest.raises(TypeError):
        Criterion("a", "A", "3", 10)


# --- aggregation over reviews -------------------------------------------------------------------

FULL = {"tech": 10, "savings": 5, "finance": 20}  # 60/60
HALF = {"tech": 5, "savings": Decimal("2.5"), "finance": 10}  # 30/60
SIXTY = {"tech": 6, "savings": 3, "finance": 12}  # 36/60


def test_mean_over_counted_reviews_only():
    reviews = [
        Review("r1", scores=FULL),
        Review("r2", scores=HALF),
        Review("r3", recused=True),  # declared a conflict: not counted
        Review("r4"),  # assigned, not submitted yet: not counted
    ]
    summary = summarise_reviews(RUBRIC, reviews, pass_score_pct=70)
    assert summary.counted == 2
    assert summary.mean.fraction == Fraction(3, 4)  # (1 + 1/2) / 2
    assert summary.passed is True


def test_pass_score_is_inclusive_and_exact():
    reviews = [Review("r1", scores=SIXTY)]
    assert summarise_reviews(RUBRIC, reviews, 60).passed is True
    assert summarise_reviews(RUBRIC, reviews, Decimal("60.01")).passed is False
    # 2/3 = 66.666…% shows as 66.67 but does not reach a 66.67 bar
    two_thirds = [Review("r1", scores={"tech": 10, "savings": 5, "finance": 0})]  # 40/60
    summary = summarise_reviews(RUBRIC, two_thirds, Decimal("66.67"))
    assert summary.mean.percent == Decimal("66.67")
    assert summary.passed is False


def test_no_counted_reviews_means_no_mean_and_no_pass():
    summary = summarise_reviews(RUBRIC, [Review("r1", recused=True), Review("r2")], 0)
    assert summary.counted == 0 and summary.mean is None and summary.passed is False


def test_review_consistency_is_enforced():
    with pytest.raises(ValueError):
        Review("r1", recused=True, scores=FULL)
    with pytest.raises(ValueError):
        summarise_reviews(RUBRIC, [Review("r1", scores=FULL), Review("r1", scores=HALF)], 50)
    with pytest.raises(ValueError):
        summarise_reviews(RUBRIC, [], 101)
    with pytest.raises(InvalidScores):
        summarise_reviews(RUBRIC, [Review("r1", scores={"tech": 1})], 50)


def test_review_is_hashable_value():
    assert Review("r1", scores=FULL) == Review("r1", scores=list(FULL.items()))
    assert hash(Review("r1", scores=FULL)) == hash(Review("r1", scores=FULL))
