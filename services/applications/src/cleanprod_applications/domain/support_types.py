"""Support types (loại hình hỗ trợ) and the rules that follow each: the one table of the programme's money rules
per type (docs/applications.md "Money").

The action plan supports three kinds of project; a call says which of them it funds (`calls.support_types`) and an
application says which one it is (`applications.support_type`, one of its call's). The type then decides:

* **rate and cap** — the award is limited by the lower of the call's rate and the type's ceiling, and by the lower
  of the call's cap and the type's ceiling (a call cannot promise an assessment more than the programme allows);
* **documents** — kinds that must be attached before submission, and before the completion report;
* **whether savings are verified** — an assessment delivers a consultant's report, not installed equipment: there is
  nothing to measure, so its balance becomes payable when the completion (with the report) is recorded. The other
  two types are paid their balance only after the verification service's verdict, as before.

Existing calls and applications are technology transfer (the only kind the platform knew until migration 0014), and
that type's ceilings are the call's own terms, so their awards are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .exact import bp


class SupportType(StrEnum):
    CP_ASSESSMENT = "cp_assessment"
    """Đánh giá sản xuất sạch hơn: an assessment by a consultant, delivered with the consultant's report."""
    TECHNOLOGY_TRANSFER = "technology_transfer"
    """Chuyển giao công nghệ, thiết bị: equipment and know-how bought and installed."""
    REPLICATION = "replication"
    """Nhân rộng mô hình: replicating a model already proven in the programme."""


@dataclass(frozen=True)
class SupportRule:
    max_rate_bp: int | None
    """Ceiling on the share of the eligible cost (None: the call's rate alone)."""
    max_cap_vnd: int | None
    """Ceiling per project (None: the call's cap alone)."""
    documents_to_submit: frozenset[str]
    """Document kinds that must be attached before the dossier can be submitted."""
    documents_to_complete: frozenset[str]
    """Document kinds that must be attached before completion can be reported."""
    savings_verified: bool
    """True: the balance waits for verification. False: it becomes payable on completion."""

    def rate_bp(self, call_rate_bp: int) -> int:
        return call_rate_bp if self.max_rate_bp is None else min(call_rate_bp, self.max_rate_bp)

    def cap_vnd(self, call_cap_vnd: int) -> int:
        return call_cap_vnd if self.max_cap_vnd is None else min(call_cap_vnd, self.max_cap_vnd)


SUPPORT_RULES: dict[SupportType, SupportRule] = {
    # 70 % of an assessment's cost, at most 200 M VND: an assessment costs tens to a few hundred million đồng and is
    # the cheapest, surest step of the programme, so it gets the highest share and a small cap.
    SupportType.CP_ASSESSMENT: SupportRule(
        max_rate_bp=7_000,
        max_cap_vnd=200_000_000,
        documents_to_submit=frozenset(),
        documents_to_complete=frozenset({"consultant_report"}),
        savings_verified=False,
    ),
    # The call's own rate and cap; nothing more required than before migration 0014; savings verified.
    SupportType.TECHNOLOGY_TRANSFER: SupportRule(
        max_rate_bp=None,
        max_cap_vnd=None,
        documents_to_submit=frozenset(),
        documents_to_complete=frozenset(),
        savings_verified=True,
    ),
    # A proven model carries less risk, so a lower share (30 %) and a cap of 1 000 M VND; the dossier must describe
    # the model replicated (its technical specification) from the start; savings verified like any equipment.
    SupportType.REPLICATION: SupportRule(
        max_rate_bp=3_000,
        max_cap_vnd=1_000_000_000,
        documents_to_submit=frozenset({"technical_specification"}),
        documents_to_complete=frozenset(),
        savings_verified=True,
    ),
}
assert set(SUPPORT_RULES) == set(SupportType), "every support type has its rule"
assert all(r.max_rate_bp is None or 0 < bp(r.max_rate_bp) <= 1 for r in SUPPORT_RULES.values())

DEFAULT_SUPPORT_TYPE = SupportType.TECHNOLOGY_TRANSFER


def rule_of(support_type: SupportType | str) -> SupportRule:
    return SUPPORT_RULES[SupportType(support_type)]


def missing_documents(required: frozenset[str], attached_kinds: set[str]) -> list[str]:
    """The required kinds not attached yet, sorted."""
    return sorted(required - attached_kinds)
