from fractions import Fraction

import pytest

from cleanprod_applications.domain.grants import (
    Award,
    approved_support,
    decision_refusal,
)
from cleanprod_applications.domain.grants import (
    Limit as L,
)
from cleanprod_applications.domain.grants import (
    RefusalCode as C,
)
from cleanprod_applications.domain.lifecycle import Action
from cleanprod_applications.domain.scoring import ReviewSummary, Score

BN = 1_000_000_000


def award(requested=900_000_000, eligible=2 * BN, rate_bp=5_000, cap=BN, budget=10 * BN):
    return approved_support(
        requested_vnd=requested,
        eligible_cost_vnd=eligible,
        support_rate_bp=rate_bp,
        cap_vnd=cap,
        remaining_budget_vnd=budget,
    )


@pytest.mark.parametrize(
    ("kwargs", "amount", "limit"),
    [
        # requested 900 m < rate 1 bn = cap 1 bn < budget
        ({}, 900_000_000, L.REQUESTED),
        # rate: 30 % × 2 bn = 600 m
        ({"rate_bp": 3_000}, 600_000_000, L.RATE),
        # cap 500 m
        ({"cap": 500_000_000}, 500_000_000, L.CAP),
        # only 123 456 789 VND left in the call
        ({"budget": 123_456_789}, 123_456_789, L.BUDGET),
        # budget exhausted
        ({"budget": 0}, 0, L.BUDGET),
    ],
)
def test_each_limit_can_bind(kwargs, amount, limit):
    result = award(**kwargs)
    assert result.amount_vnd == amount
    assert result.limit is limit
    assert result.binding == {limit}


def test_rate_limit_rounds_down_to_the_dong():
    # 33.33 % of 1 000 000 001 = 333 300 000.3333 → 333 300 000
    result = award(requested=BN, eligible=1_000_000_001, rate_bp=3_333, cap=BN)
    assert result == Award(333_300_000, L.RATE, frozenset({L.RATE}))


def test_ties_name_the_first_limit_in_precedence_and_list_all():
    tie = award(requested=BN, eligible=2 * BN, rate_bp=5_000, cap=BN, budget=BN)
    assert tie.amount_vnd == BN
    assert tie.limit is L.REQUESTED
    assert tie.binding == {L.REQUESTED, L.RATE, L.CAP, L.BUDGET}
    assert award(requested=2 * BN, cap=BN, budget=BN).limit is L.RATE
    assert award(requested=2 * BN, rate_bp=10_000, cap=BN, budget=BN).binding == {L.CAP, L.BUDGET}


def test_amount_is_never_above_any_limit():
    for requested in (0, 1, 10**6, 5 * 10**8, 3 * BN):
        for budget in (0, 7, 4 * 10**8, 10 * BN):
            for rate_bp in (1, 3_000, 10_000):
                result = award(requested=requested, rate_bp=rate_bp, budget=budget)
                rate_limit = 2 * BN * rate_bp // 10_000
                assert result.amount_vnd == min(requested, rate_limit, BN, budget)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"budget": -1}, ValueError),
        ({"requested": -5}, ValueError),
        ({"requested": 9.0e8}, TypeError),
        ({"cap": True}, TypeError),
        ({"rate_bp": 0}, ValueError),
        ({"rate_bp": 10_001}, ValueError),
        ({"rate_bp": 0.3}, TypeError),
    ],
)
def test_bad_inputs_are_errors_not_amounts(kwargs, error):
    with pytest.raises(error):
        award(**kwargs)


# --- decision refusals --------------------------------------------------------------------------


def summary(counted=2, mean=Fraction(3, 4), pass_pct=70):
    mean_score = Score(mean) if counted else None
    passed = bool(counted) and mean * 100 >= pass_pct
    return ReviewSummary(counted, mean_score, Fraction(pass_pct), passed)


OK_AWARD = Award(600_000_000, L.RATE, frozenset({L.RATE}))
REVIEWERS = {"rev-1", "rev-2", "rev-3-recused"}


def refusal(action=Action.DECIDE_APPROVE, decider="officer-9", reviews=None, min_reviews=2, award=OK_AWARD):
    return decision_refusal(
        action=action,
        decider_id=decider,
        assigned_reviewer_ids=REVIEWERS,
        reviews=reviews or summary(),
        min_reviews=min_reviews,
        award=award,
    )


@pytest.mark.parametrize("action", [Action.DECIDE_APPROVE, Action.DECIDE_REJECT, Action.REQUEST_CHANGES])
def test_valid_decisions_are_not_refused(action):
    assert refusal(action=action) is None


@pytest.mark.parametrize("decider", ["rev-1", "rev-3-recused"])
@pytest.mark.parametrize("action", [Action.DECIDE_APPROVE, Action.DECIDE_REJECT, Action.REQUEST_CHANGES])
def test_four_eyes_any_assigned_reviewer_cannot_decide(decider, action):
    result = refusal(action=action, decider=decider)
    assert result.code is C.DECIDER_IS_REVIEWER
    assert "four-eyes" in result.message


@pytest.mark.parametrize("action", [Action.DECIDE_APPROVE, Action.DECIDE_REJECT, Action.REQUEST_CHANGES])
def test_min_reviews_applies_to_every_decision(action):
    result = refusal(action=action, reviews=summary(counted=1), min_reviews=2)
    assert result.code is C.NOT_ENOUGH_REVIEWS
    assert "at least 2" in result.message and "1 so far" in result.message
    assert refusal(action=action, reviews=summary(counted=0), min_reviews=1).code is C.NOT_ENOUGH_REVIEWS
    assert refusal(action=action, reviews=summary(counted=3), min_reviews=3) is None


def test_approval_needs_the_pass_score_but_rejection_does_not():
    failing = summary(mean=Fraction(69996, 100000))  # 69.996 %
    result = refusal(reviews=failing)
    assert result.code is C.BELOW_PASS_SCORE
    assert "69,99 %" in result.message and "70 %" in result.message
    assert refusal(action=Action.DECIDE_REJECT, reviews=failing) is None
    assert refusal(action=Action.REQUEST_CHANGES, reviews=failing) is None
    assert refusal(reviews=summary(mean=Fraction(7, 10))) is None  # exactly at the bar


def test_approval_with_nothing_to_give_is_refused():
    empty = approved_support(
        requested_vnd=BN, eligible_cost_vnd=2 * BN, support_rate_bp=5_000, cap_vnd=BN, remaining_budget_vnd=0
    )
    result = refusal(award=empty)
    assert result.code is C.ZERO_SUPPORT
    assert "budget" in result.message
    assert refusal(action=Action.DECIDE_REJECT, award=empty) is None


def test_checks_run_in_documented_order():
    everything_wrong = dict(
        decider="rev-2",
        reviews=summary(counted=1, mean=Fraction(1, 10)),
        award=Award(0, L.BUDGET, frozenset({L.BUDGET})),
    )
    assert refusal(**everything_wrong).code is C.DECIDER_IS_REVIEWER
    everything_wrong["decider"] = "officer-9"
    assert refusal(**everything_wrong).code is C.NOT_ENOUGH_REVIEWS
    everything_wrong["min_reviews"] = 1
    assert refusal(**everything_wrong).code is C.BELOW_PASS_SCORE


def test_misuse_is_a_programming_error():
    with pytest.raises(ValueError):
        refusal(action=Action.START)
    with pytest.raises(ValueError):
        refusal(award=None)
    for bad in (0, -1, True, 2.0):
        with pytest.raises(ValueError):
            refusal(min_reviews=bad)
