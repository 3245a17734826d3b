"""The money rules without I/O: the support-type table, splitting an award over sources, and the books."""

from __future__ import annotations

import uuid

import pytest

from cleanprod_applications.domain.funding import Figures, SourceBalance, TrancheFacts, allocate, available_for, tally
from cleanprod_applications.domain.support_types import SUPPORT_RULES, SupportType, missing_documents, rule_of

A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def test_every_type_has_a_rule_and_its_ceilings_bind_only_below_the_call_s_terms() -> None:
    assert set(SUPPORT_RULES) == set(SupportType)
    assessment = rule_of("cp_assessment")
    assert (assessment.rate_bp(5_000), assessment.rate_bp(9_000)) == (5_000, 7_000)
    assert (assessment.cap_vnd(2_000_000_000), assessment.cap_vnd(100_000_000)) == (200_000_000, 100_000_000)
    transfer = rule_of(SupportType.TECHNOLOGY_TRANSFER)
    assert (transfer.rate_bp(10_000), transfer.cap_vnd(5_000_000_000)) == (10_000, 5_000_000_000)
    assert not assessment.savings_verified and transfer.savings_verified and rule_of("replication").savings_verified
    assert missing_documents(assessment.documents_to_complete, {"invoice"}) == ["consultant_report"]
    assert missing_documents(assessment.documents_to_complete, {"consultant_report"}) == []
    with pytest.raises(ValueError):
        rule_of("training")


def test_an_award_takes_from_the_eligible_sources_in_order() -> None:
    sources = [
        SourceBalance(A, 300, frozenset({"technology_transfer"})),
        SourceBalance(B, 0, frozenset()),
        SourceBalance(C, 1_000, frozenset()),
    ]
    assert available_for(sources, "technology_transfer") == 1_300
    assert available_for(sources, "cp_assessment") == 1_000
    assert allocate(800, sources, "technology_transfer") == [(A, 300), (C, 500)]
    assert allocate(200, sources, "technology_transfer") == [(A, 200)]
    assert allocate(800, sources, "cp_assessment") == [(C, 800)]
    assert allocate(0, sources, "cp_assessment") == []
    with pytest.raises(ValueError, match="short"):
        allocate(1_301, sources, "technology_transfer")


def test_the_books_of_a_shortfall_balance() -> None:
    """Award 1 000: advance 300 paid, balance cut from 700 to 0 (cancelled), recovery of 180 collected in part."""
    tranches = [
        TrancheFacts("advance", "paid", 300, 300, 300),
        TrancheFacts("balance", "cancelled", 700, 0, None),
        TrancheFacts("recovery", "recovery_due", 180, 180, None, collected_vnd=100),
    ]
    f = tally(1_000, tranches, recovered_vnd=100)
    assert f == Figures(1_000, 300, 700, 0, 180, 100, 80, 120)
    assert f.awarded_vnd == f.paid_vnd + f.cancelled_vnd + f.outstanding_vnd
    partly = tally(
        1_000,
        [TrancheFacts("advance", "approved", 300, 300, None), TrancheFacts("balance", "payable", 700, 525, None)],
        0,
    )
    assert (partly.paid_vnd, partly.outstanding_vnd, partly.cancelled_vnd, partly.committed_vnd) == (0, 825, 175, 825)
    assert f + partly == Figures(2_000, 300, 875, 825, 180, 100, 80, 945)
