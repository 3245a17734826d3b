"""Paying the grant: an advance on approval, the balance after verification.

Policy (DESIGN.md fixes the shape; the numbers are configurable per call, defaults below):

* **Advance** = ``floor(award × advance share)``; default share **30 %** (3 000 bp). The programme pays for
  *verified* savings, so most of the money stays at stake until verification; 30 % is enough for the
  usual down payment to a technology supplier.
* **verified** → the whole balance ``award − advance`` is paid.
* **not_achieved** with achieved ratio ``r = verified saving / claimed saving`` (clamped to [0, 1]: a
  negative saving counts as 0, and over-achieving a claim that still missed the programme target counts
  as 1):

  - ``r ≥ threshold`` (default **50 %**, 5 000 bp) → balance ``floor((award − advance) × r)``, nothing
    recovered;
  - ``r < threshold`` → the project failed its purpose: no balance, and the advance is recovered
    **pro rata to the shortfall**, ``ceil(advance × (1 − r))``. The enterprise keeps ``advance × r`` —
    what it did achieve — rather than the full advance being clawed back: recovering everything would
    punish a project at 49 % as hard as one that saved nothing, which invites disputes and gives no
    reason to rescue a failing project. The threshold itself is the deliberate cliff.

Rounding is always in the programme's favour: payments round down, recoveries round up, to the đồng.
No amount is ever negative, and the enterprise never ends up with more than the award.

Worked example (also a unit test) — award 1 000 000 000 VND, default shares:

=========================  ==============  ==============  ==============  ================
outcome                    advance paid    balance paid    recovered       enterprise keeps
=========================  ==============  ==============  ==============  ================
verified                   300 000 000     700 000 000     0               1 000 000 000
not_achieved, r = 6/8      300 000 000     525 000 000     0                 825 000 000
not_achieved, r = 0.5      300 000 000     350 000 000     0                 650 000 000
not_achieved, r = 0.4      300 000 000     0               180 000 000       120 000 000
not_achieved, r = 0        300 000 000     0               300 000 000                 0
=========================  ==============  ==============  ==============  ================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from .exact import Number, bp, ceil_share, check_basis_points, check_vnd, floor_share, to_fraction

DEFAULT_ADVANCE_SHARE_BP = 3_000
DEFAULT_RECOVERY_THRESHOLD_BP = 5_000


class Verdict(StrEnum):
    """Verification's conclusion (same strings as the matching application statuses)."""

    VERIFIED = "verified"
    NOT_ACHIEVED = "not_achieved"


@dataclass(frozen=True)
class Settlement:
    verdict: Verdict
    ratio_applied: Fraction
    """1 for verified; the clamped achieved ratio for not_achieved."""
    balance_vnd: int
    """To pay to the enterprise now."""
    recover_vnd: int
    """To claw back from the advance already paid."""
    total_support_vnd: int
    """What the enterprise keeps in the end: advance − recovered + balance."""


def advance_amount(award_vnd: int, advance_share_bp: int = DEFAULT_ADVANCE_SHARE_BP) -> int:
    """The advance paid on approval, rounded down. A share of 0 means "no advance", 10 000 "all up front"."""
    check_vnd(award_vnd, "award_vnd")
    return floor_share(award_vnd, bp(check_basis_points(advance_share_bp, "advance_share_bp", allow_zero=True)))


def achieved_ratio(verified_saving: Number, claimed_saving: Number) -> Fraction:
    """``verified / claimed`` clamped to [0, 1]; both in the same unit (percent, TOE, GJ …)."""
    claimed = to_fraction(claimed_saving, "claimed_saving")
    if claimed <= 0:
        raise ValueError(f"claimed saving must be greater than 0, got {claimed_saving}")
    return _clamp(to_fraction(verified_saving, "verified_saving") / claimed)


def settle(
    *,
    award_vnd: int,
    advance_paid_vnd: int,
    verdict: Verdict | str,
    ratio: Number | None = None,
    recovery_threshold_bp: int = DEFAULT_RECOVERY_THRESHOLD_BP,
) -> Settlement:
    """Balance to pay and advance to recover once verification has concluded.

    ``advance_paid_vnd`` is what was actually paid (it may predate a change of the call's share).
    ``ratio`` (verified/claimed, see :func:`achieved_ratio`) is required for ``not_achieved`` and ignored
    for ``verified``.
    """
    verdict = Verdict(verdict)
    check_vnd(award_vnd, "award_vnd")
    check_vnd(advance_paid_vnd, "advance_paid_vnd")
    if advance_paid_vnd > award_vnd:
        raise ValueError(f"advance paid ({advance_paid_vnd}) exceeds the award ({award_vnd})")
    threshold = bp(check_basis_points(recovery_threshold_bp, "recovery_threshold_bp", allow_zero=True))
    balance_due = award_vnd - advance_paid_vnd

    if verdict is Verdict.VERIFIED:
        return Settlement(verdict, Fraction(1), balance_due, 0, award_vnd)

    if ratio is None:
        raise ValueError("a not_achieved verdict needs the achieved ratio")
    r = _clamp(to_fraction(ratio, "ratio"))
    if r >= threshold:
        balance = floor_share(balance_due, r)
        return Settlement(verdict, r, balance, 0, advance_paid_vnd + balance)
    recover = ceil_share(advance_paid_vnd, 1 - r)
    return Settlement(verdict, r, 0, recover, advance_paid_vnd - recover)


def _clamp(ratio: Fraction) -> Fraction:
    return min(max(ratio, Fraction(0)), Fraction(1))
