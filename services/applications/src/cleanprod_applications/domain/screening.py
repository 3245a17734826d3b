"""Automatic eligibility screening, run once per (re)submission: ``submitted`` → ``under_review`` or ``ineligible``.

:func:`screen` returns every reason that fails, not just the first, so the enterprise learns all of its
problems at once; an empty list means eligible. Each reason has a stable ``code`` (for clients and tests),
a ``message`` for people, and the ``field`` it concerns (for problem+json ``errors[]``).

Messages are short, plain English for Vietnamese readers: programme terms carry their Vietnamese name in
brackets, dates are written dd/mm/yyyy and numbers use Vietnamese grouping (1.500.000 VND, 32,5 %).

Because ``ineligible`` is final, screening refuses only clear breaches of the call's published terms.
Bounds checks where the applicant simply mistyped (for example a saving above 100 %) belong to request
validation at the API, which answers 422 and lets the applicant correct the draft.

Rules, with their reading of DESIGN.md where it is silent:

* the call is open on the submission date — the Asia/Ho_Chi_Minh calendar date, both bounds inclusive
  (a call "closing on 30/11" accepts dossiers until 23:59:59 Hanoi time on 30/11);
* the facility's sector code is one of the call's eligible sector codes (exact match of registry codes);
* total cost, eligible cost and requested support are each > 0 VND;
* eligible cost ≤ total cost;
* requested support ≤ floor(support rate × eligible cost) and ≤ the cap per project (the remaining call
  budget is *not* screened: it changes with every decision and is applied when the grant is decided);
* implementation start ≤ end (a same-day installation is odd but possible, so it is not refused);
* claimed overall saving > 0 %.

Comparisons between two amounts are only made when both are positive, so one mistake gives one reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from cleanprod_kit.local_time import local_date

from .exact import Number, bp, check_basis_points, check_vnd, floor_share, format_pct, format_vnd, to_fraction
from .lifecycle import Action


class ReasonCode(StrEnum):
    CALL_NOT_YET_OPEN = "call_not_yet_open"
    CALL_CLOSED = "call_closed"
    SECTOR_NOT_ELIGIBLE = "sector_not_eligible"
    AMOUNT_NOT_POSITIVE = "amount_not_positive"
    ELIGIBLE_COST_EXCEEDS_TOTAL = "eligible_cost_exceeds_total"
    REQUEST_EXCEEDS_SUPPORT_RATE = "request_exceeds_support_rate"
    REQUEST_EXCEEDS_CAP = "request_exceeds_cap"
    IMPLEMENTATION_DATES_OUT_OF_ORDER = "implementation_dates_out_of_order"
    CLAIMED_SAVING_NOT_POSITIVE = "claimed_saving_not_positive"


@dataclass(frozen=True)
class ScreeningReason:
    code: ReasonCode
    message: str
    field: str | None = None


@dataclass(frozen=True)
class CallTerms:
    """The parts of a call that screening needs. Dates are Asia/Ho_Chi_Minh calendar dates."""

    opens_on: date
    closes_on: date
    eligible_sectors: frozenset[str]
    support_rate_bp: int
    cap_per_project_vnd: int

    def __post_init__(self) -> None:
        # A call is configured by an officer; a broken one is a bug to surface, not a reason to
        # declare every applicant ineligible.
        object.__setattr__(self, "eligible_sectors", frozenset(self.eligible_sectors))
        if self.closes_on < self.opens_on:
            raise ValueError(f"call closes ({self.closes_on}) before it opens ({self.opens_on})")
        if not self.eligible_sectors:
            raise ValueError("a call needs at least one eligible sector")
        check_basis_points(self.support_rate_bp, "support_rate_bp")
        check_vnd(self.cap_per_project_vnd, "cap_per_project_vnd", positive=True)


@dataclass(frozen=True)
class ApplicationFacts:
    """What the applicant declared (amounts in VND; the saving in percent, e.g. ``Decimal("7.5")``)."""

    facility_sector: str
    total_cost_vnd: int
    eligible_cost_vnd: int
    requested_support_vnd: int
    implementation_start: date
    implementation_end: date
    claimed_overall_saving_pct: Number

    def __post_init__(self) -> None:
        # Types are the caller's contract; values (zero, negative, out of order) are screening's verdict.
        for name in ("total_cost_vnd", "eligible_cost_vnd", "requested_support_vnd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an integer number of VND, got {type(value).__name__}")
        to_fraction(self.claimed_overall_saving_pct, "claimed_overall_saving_pct")


def screen(call: CallTerms, facts: ApplicationFacts, submitted_at: datetime) -> list[ScreeningReason]:
    """All the reasons why ``facts`` are ineligible under ``call`` at the aware instant ``submitted_at``."""
    reasons: list[ScreeningReason] = []
    reasons += _call_window(call, local_date(submitted_at))
    reasons += _sector(call, facts)
    reasons += _amounts(call, facts)
    reasons += _dates_and_claim(facts)
    return reasons


def screening_action(reasons: Sequence[ScreeningReason]) -> Action:
    """The lifecycle action that records a screening result."""
    return Action.SCREEN_FAIL if reasons else Action.SCREEN_PASS


def _call_window(call: CallTerms, on: date) -> Iterable[ScreeningReason]:
    if on < call.opens_on:
        yield ScreeningReason(
            ReasonCode.CALL_NOT_YET_OPEN,
            f"The call (đợt hỗ trợ) opens on {_d(call.opens_on)}; the application was submitted on "
            f"{_d(on)} (Hanoi time).",
            "call",
        )
    elif on > call.closes_on:
        yield ScreeningReason(
            ReasonCode.CALL_CLOSED,
            f"The call (đợt hỗ trợ) closed on {_d(call.closes_on)}; the application was submitted on "
            f"{_d(on)} (Hanoi time).",
            "call",
        )


def _sector(call: CallTerms, facts: ApplicationFacts) -> Iterable[ScreeningReason]:
    if facts.facility_sector not in call.eligible_sectors:
        yield ScreeningReason(
            ReasonCode.SECTOR_NOT_ELIGIBLE,
            f"The facility's sector (ngành) '{facts.facility_sector}' is not eligible for this call. "
            f"Eligible sectors: {', '.join(sorted(call.eligible_sectors))}.",
            "facility_sector",
        )


_AMOUNT_LABELS = {
    "total_cost_vnd": "Total cost (tổng chi phí)",
    "eligible_cost_vnd": "Eligible cost (chi phí hợp lệ)",
    "requested_support_vnd": "Requested support (kinh phí đề nghị hỗ trợ)",
}


def _amounts(call: CallTerms, facts: ApplicationFacts) -> Iterable[ScreeningReason]:
    for name, label in _AMOUNT_LABELS.items():
        value = getattr(facts, name)
        if value <= 0:
            yield ScreeningReason(
                ReasonCode.AMOUNT_NOT_POSITIVE, f"{label} must be more than 0 VND; it is {format_vnd(value)}.", name
            )

    total, eligible, requested = facts.total_cost_vnd, facts.eligible_cost_vnd, facts.requested_support_vnd
    if total > 0 and eligible > total:
        yield ScreeningReason(
            ReasonCode.ELIGIBLE_COST_EXCEEDS_TOTAL,
            f"Eligible cost (chi phí hợp lệ) {format_vnd(eligible)} cannot be more than the total cost "
            f"{format_vnd(total)}.",
            "eligible_cost_vnd",
        )
    if requested > 0 and eligible > 0:
        by_rate = floor_share(eligible, bp(call.support_rate_bp))
        if requested > by_rate:
            yield ScreeningReason(
                ReasonCode.REQUEST_EXCEEDS_SUPPORT_RATE,
                f"Requested support {format_vnd(requested)} is more than {format_pct(bp(call.support_rate_bp) * 100)} of the "
                f"eligible cost, which is {format_vnd(by_rate)}.",
                "requested_support_vnd",
            )
    if requested > call.cap_per_project_vnd:
        yield ScreeningReason(
            ReasonCode.REQUEST_EXCEEDS_CAP,
            f"Requested support {format_vnd(requested)} is more than the cap per project (mức hỗ trợ tối đa) "
            f"{format_vnd(call.cap_per_project_vnd)}.",
            "requested_support_vnd",
        )


def _dates_and_claim(facts: ApplicationFacts) -> Iterable[ScreeningReason]:
    if facts.implementation_end < facts.implementation_start:
        yield ScreeningReason(
            ReasonCode.IMPLEMENTATION_DATES_OUT_OF_ORDER,
            f"The implementation end date {_d(facts.implementation_end)} is before the start date "
            f"{_d(facts.implementation_start)}.",
            "implementation_end",
        )
    saving = to_fraction(facts.claimed_overall_saving_pct, "claimed_overall_saving_pct")
    if saving <= 0:
        yield ScreeningReason(
            ReasonCode.CLAIMED_SAVING_NOT_POSITIVE,
            f"The claimed overall saving (mức tiết kiệm cam kết) must be more than 0 %; it is {format_pct(saving)}.",
            "claimed_overall_saving_pct",
        )


def _d(day: date) -> str:
    return day.strftime("%d/%m/%Y")
