"""Funding sources (nguồn kinh phí) of a call and how an award is split across them.

A call's budget is the sum of its sources: the city budget (ngân sách thành phố) and programmes of domestic or
foreign donors, each with its own amount and conditions. The condition the platform enforces is which support types
a source may fund (a donor programme for energy-efficient equipment does not pay for assessments); the rest of a
donor's conditions is recorded as text for the officers.

An award is taken from the eligible sources in the call's order (`rank`, then creation): each gives what it has
left until the award is covered, so an award may be paid by two sources. Each source's part is then paid and
settled on its own (tranches record their source), which keeps every source's books exact.

Reconciliation (per application, per call, per source), all in VND:

    awarded = paid + cancelled + outstanding
    committed = awarded − cancelled − recovery raised          (what the programme still stands behind)
    recovery raised = recovered + recovery outstanding

where *paid* is what was paid out, *outstanding* what is still to pay (withheld, payable, prepared or approved),
*cancelled* the part of an award that will never be paid (a balance cut after a shortfall), *recovered* what the
enterprise paid back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from .exact import check_vnd


class SourceKind(StrEnum):
    CITY_BUDGET = "city_budget"
    DOMESTIC_DONOR = "domestic_donor"
    FOREIGN_DONOR = "foreign_donor"


@dataclass(frozen=True)
class SourceBalance:
    source_id: uuid.UUID
    remaining_vnd: int
    support_types: frozenset[str]
    """The support types the source may fund (empty: any)."""

    def funds(self, support_type: str) -> bool:
        return not self.support_types or support_type in self.support_types


def available_for(sources: list[SourceBalance], support_type: str) -> int:
    """What the eligible sources still have, together (the budget limit of an award)."""
    return sum(s.remaining_vnd for s in sources if s.funds(support_type))


def allocate(award_vnd: int, sources: list[SourceBalance], support_type: str) -> list[tuple[uuid.UUID, int]]:
    """Split `award_vnd` over the eligible `sources` in their order; raises if they cannot cover it (the award
    was computed from `available_for`, so that would be a bug upstream)."""
    left = check_vnd(award_vnd, "award_vnd")
    parts: list[tuple[uuid.UUID, int]] = []
    for source in sources:
        if left == 0:
            break
        if not source.funds(support_type) or source.remaining_vnd <= 0:
            continue
        take = min(left, source.remaining_vnd)
        parts.append((source.source_id, take))
        left -= take
    if left:
        raise ValueError(f"the sources cannot cover the award: {left} VND short")
    return parts


@dataclass(frozen=True)
class TrancheFacts:
    """What the books need of one tranche."""

    kind: str  # advance | balance | recovery
    status: str
    planned_vnd: int
    amount_vnd: int | None
    paid_vnd: int | None
    collected_vnd: int = 0


@dataclass(frozen=True)
class Figures:
    awarded_vnd: int = 0
    paid_vnd: int = 0
    cancelled_vnd: int = 0
    outstanding_vnd: int = 0
    recovery_raised_vnd: int = 0
    recovered_vnd: int = 0
    recovery_outstanding_vnd: int = 0
    committed_vnd: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.awarded_vnd,
            self.paid_vnd,
            self.cancelled_vnd,
            self.outstanding_vnd,
            self.recovery_raised_vnd,
            self.recovered_vnd,
            self.recovery_outstanding_vnd,
            self.committed_vnd,
        )


TO_PAY = frozenset({"payable", "prepared", "approved"})


def tally(awarded_vnd: int, tranches: list[TrancheFacts], recovered_vnd: int) -> Figures:
    """The books of one award part (or of several summed): each figure from the tranches themselves, so the
    identities of the module docstring are checks, not definitions. `recovered_vnd` is the sum of the collections
    recorded. `committed_vnd` is what the programme stands behind: awarded − cancelled − recovery raised."""
    paid = cancelled = outstanding = raised = still_due = 0
    for t in tranches:
        if t.kind == "recovery":
            raised += t.amount_vnd or 0
            still_due += (t.amount_vnd or 0) - t.collected_vnd
            continue
        if t.status == "withheld":
            outstanding += t.planned_vnd
        elif t.status == "cancelled":
            cancelled += t.planned_vnd
        else:
            amount = t.amount_vnd or 0
            cancelled += t.planned_vnd - amount  # a balance cut after a shortfall
            if t.status == "paid":
                paid += t.paid_vnd or 0
            elif t.status in TO_PAY:
                outstanding += amount
    return Figures(
        awarded_vnd=awarded_vnd,
        paid_vnd=paid,
        cancelled_vnd=cancelled,
        outstanding_vnd=outstanding,
        recovery_raised_vnd=raised,
        recovered_vnd=recovered_vnd,
        recovery_outstanding_vnd=still_due,
        committed_vnd=awarded_vnd - cancelled - raised,
    )
