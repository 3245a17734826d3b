"""Grant amount and the rules an officer's decision must satisfy.

Amount (DESIGN.md): ``approved = min(requested, rate × eligible cost, cap per project, remaining call budget)``.
Money is integer VND and the rate is integer basis points (see :mod:`.exact`), so the rate limit is
``floor(eligible × rate_bp / 10 000)`` — rounded down, never paying a fraction of a đồng more than the
published rate allows. The result says which limit bound it; when several limits are equal the first in
the order requested → rate → cap → budget is named (telling an enterprise "you got what you asked for"
is the most useful explanation), and ``binding`` lists all of them.

Decision rules, checked in this order by :func:`decision_refusal` (first failure wins):

1. four-eyes — the deciding officer is not one of the application's assigned reviewers, recused or not
   (a recused reviewer still saw the dossier and declared a conflict: they are the last person to decide);
2. at least ``min_reviews`` counted reviews (assigned, not recused, submitted) — for every decision
   outcome, approve, reject and request-changes alike, since all three are the one "decide" arrow;
3. approve only: the mean review score reaches the call's pass score (rejecting a passing application is
   allowed — budget and priorities are the officer's call — but funding a failing one is not);
4. approve only: the support that can be approved is more than 0 VND (typically: call budget exhausted).

A refusal is a business-rule outcome, not an exception; the service layer turns it into a problem+json
answer with the message (four-eyes is about *who* asks → 403; the others are about the application's
state → 409).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from .exact import bp, check_basis_points, check_vnd, floor_share, format_pct, format_vnd
from .lifecycle import DECISION_ACTIONS, Action
from .scoring import ReviewSummary


class Limit(StrEnum):
    REQUESTED = "requested"
    RATE = "rate"
    CAP = "cap"
    BUDGET = "budget"


@dataclass(frozen=True)
class Award:
    amount_vnd: int
    limit: Limit
    """The limit that set the amount (first of ``binding`` in precedence order)."""
    binding: frozenset[Limit]
    """Every limit equal to the amount."""


def approved_support(
    *,
    requested_vnd: int,
    eligible_cost_vnd: int,
    support_rate_bp: int,
    cap_vnd: int,
    remaining_budget_vnd: int,
) -> Award:
    """The support to approve and the limit that bound it.

    >>> approved_support(requested_vnd=900_000_000, eligible_cost_vnd=2_000_000_000, support_rate_bp=3_000,
    ...                  cap_vnd=1_000_000_000, remaining_budget_vnd=5_000_000_000)
    Award(amount_vnd=600000000, limit=<Limit.RATE: 'rate'>, binding=frozenset({<Limit.RATE: 'rate'>}))
    """
    candidates = {
        Limit.REQUESTED: check_vnd(requested_vnd, "requested_vnd"),
        Limit.RATE: floor_share(
            check_vnd(eligible_cost_vnd, "eligible_cost_vnd"),
            bp(check_basis_points(support_rate_bp, "support_rate_bp")),
        ),
        Limit.CAP: check_vnd(cap_vnd, "cap_vnd"),
        # Negative remaining budget means the call was over-committed: a bug upstream, not a zero grant.
        Limit.BUDGET: check_vnd(remaining_budget_vnd, "remaining_budget_vnd"),
    }
    amount = min(candidates.values())
    binding = [limit for limit in Limit if candidates[limit] == amount]  # Limit iterates in precedence order
    return Award(amount, binding[0], frozenset(binding))


class RefusalCode(StrEnum):
    DECIDER_IS_REVIEWER = "decider_is_reviewer"
    NOT_ENOUGH_REVIEWS = "not_enough_reviews"
    BELOW_PASS_SCORE = "below_pass_score"
    ZERO_SUPPORT = "zero_support"


@dataclass(frozen=True)
class Refusal:
    code: RefusalCode
    message: str


def decision_refusal(
    *,
    action: Action,
    decider_id: str,
    assigned_reviewer_ids: Collection[str],
    reviews: ReviewSummary,
    min_reviews: int,
    award: Award | None = None,
) -> Refusal | None:
    """Why the officer ``decider_id`` may not take ``action`` now, or ``None`` if they may.

    ``reviews`` is :func:`.scoring.summarise_reviews` over the application's assigned reviewers;
    ``award`` is :func:`approved_support` and is required when approving.
    """
    action = Action(action)
    if action not in DECISION_ACTIONS:
        raise ValueError(f"'{action}' is not a decision; expected one of {', '.join(sorted(DECISION_ACTIONS))}")
    if isinstance(min_reviews, bool) or not isinstance(min_reviews, int) or min_reviews < 1:
        raise ValueError(f"min_reviews must be a positive integer, got {min_reviews!r}")
    if action is Action.DECIDE_APPROVE and award is None:
        raise ValueError("approving needs the computed award")

    if decider_id in assigned_reviewer_ids:
        return Refusal(
            RefusalCode.DECIDER_IS_REVIEWER,
            "You are assigned as a reviewer of this application, so another officer must decide (four-eyes rule).",
        )
    if reviews.counted < min_reviews:
        return Refusal(
            RefusalCode.NOT_ENOUGH_REVIEWS,
            f"This call needs at least {min_reviews} completed reviews from non-recused reviewers; "
            f"{reviews.counted} so far.",
        )
    if action is Action.DECIDE_APPROVE:
        assert award is not None and reviews.mean is not None  # checked above; counted ≥ 1 implies a mean
        if not reviews.passed:
            return Refusal(
                RefusalCode.BELOW_PASS_SCORE,
                f"The mean review score {format_pct(reviews.mean.percent_exact, round_down=True)} is below the call's pass "
                f"score {format_pct(reviews.pass_score_pct)}, so the application cannot be approved.",
            )
        if award.amount_vnd == 0:
            return Refusal(
                RefusalCode.ZERO_SUPPORT,
                f"The support that can be approved is {format_vnd(0)} (limited by: {award.limit}); "
                "approve only when there is support to give.",
            )
    return None
