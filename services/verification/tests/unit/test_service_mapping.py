"""Pure mappings of the service layer: the applications event payload → case facts (one place, by the
contract), and M&V input-error paths → the fields a person fixes."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from cleanprod_verification.cases.events import UnreadableEvent, application_facts
from cleanprod_verification.conclusions.inputs import ReportingInput, map_problem_errors
from cleanprod_verification.mv import InvalidPeriodError, InvalidValueError, UnknownUnitError

APP, FAC = uuid.uuid4(), uuid.uuid4()


def emitted(**fields: Any) -> dict[str, Any]:
    """A payload as the applications service emits it (every field of the contract), changed by `fields`."""
    payload: dict[str, Any] = {
        "application_id": str(APP),
        "dossier_code": "000.00.01.H26-261128-0001",
        "action": "decide_approve",
        "previous_status": "under_review",
        "status": "approved",
        "egov_status": 4,
        "version": 4,
        "reason": "Đạt",
        "actor": {"subject": "officer-1", "name": "can.bo", "role": "officer"},
        "call_id": str(uuid.uuid4()),
        "call_code": "SXSH-2026-01",
        "facility_id": str(FAC),
        "facility_name": "Nhà máy",
        "enterprise_id": str(uuid.uuid4()),
        "enterprise_tax_code": "0101234567",
        "enterprise_name": "Công ty A",
        "sector_code": "steel",
        "title": "Dự án",
        "technology": "Biến tần",
        "supplier": {"name": "Nhà cung cấp B", "tax_code": "0109876543"},
        "total_cost_vnd": 9_000_000_000,
        "eligible_cost_vnd": 8_000_000_000,
        "requested_support_vnd": 2_500_000_000,
        "claimed_savings": [
            {"carrier": "electricity", "saving_pct": 9.5},
            {"carrier": "coal_grade_3_4", "saving_pct": 6},
        ],
        "claimed_overall_saving_pct": 8,
        "approved_support_vnd": 2_500_000_000,
        "award_limit": "requested",
        "implementation_start": "2024-01-15",
        "implementation_end": "2024-12-20",
        "submitted_at": "2024-01-02T03:00:00+00:00",
        "decided_at": "2024-01-10T03:00:00+00:00",
        "started_on": None,
        "completed_on": None,
        "tranches": [],
        "support_type": "technology_transfer",
        "savings_verified": True,
    }
    return payload | fields


def test_the_applications_service_payload_is_read_as_emitted() -> None:
    facts = application_facts(emitted())
    assert facts.application_id == APP and facts.facility_id == FAC
    assert facts.claimed_overall_pct == 8.0
    assert facts.claimed_per_carrier == {"electricity": 9.5, "coal_grade_3_4": 6.0}
    assert (facts.supplier_name, facts.supplier_tax_code) == ("Nhà cung cấp B", "0109876543")
    assert facts.approved_support_vnd == 2_500_000_000
    assert facts.implementation_end == dt.date(2024, 12, 20) and facts.completed_on is None
    assert facts.notes == []


@pytest.mark.parametrize(
    "data",
    [
        {
            "id": str(APP),
            "facility": {"id": str(FAC)},
            "claim": {"overall_percent": 7.5},
            "claimed_savings": {"electricity": 8, "overall": 99},
        },
        {
            "application_id": str(APP),
            "facility_id": str(FAC),
            "claimed_savings_pct": "7.5",
            "claimed_savings_per_carrier": {"electricity": {"savings_pct": 8}},
        },
        {"application_id": str(APP), "facility_id": str(FAC), "claimed_savings": {"electricity": 8, "total": 7.5}},
        emitted(claimed_savings={"electricity": 8, "total": 7.5}),
        emitted(claimed_savings_pct=7.5),
    ],
)
def test_other_spellings_are_refused(data: dict[str, Any]) -> None:
    """Issue 12 replaced the parser that accepted several spellings by the contract: other words are unreadable."""
    with pytest.raises(UnreadableEvent):
        application_facts(data)


def test_what_cannot_be_read_is_noted_not_guessed() -> None:
    facts = application_facts(emitted(claimed_overall_saving_pct=140))
    assert facts.claimed_overall_pct is None and facts.claimed_per_carrier == {
        "electricity": 9.5,
        "coal_grade_3_4": 6.0,
    }
    assert any("outside 0–100" in n for n in facts.notes)
    with pytest.raises(UnreadableEvent, match="saving_pct"):  # a claim without its percent: not guessed
        application_facts(emitted(claimed_savings=[{"carrier": "coke"}]))
    with pytest.raises(UnreadableEvent):
        application_facts(emitted(application_id="not-a-uuid"))
    with pytest.raises(UnreadableEvent):
        application_facts({k: v for k, v in emitted().items() if k != "application_id"})


def test_error_paths_name_the_measurement_and_revision() -> None:
    m1, m2 = uuid.uuid4(), uuid.uuid4()
    reporting = [
        ReportingInput(SimpleNamespace(id=m1), SimpleNamespace(revision=1)),  # type: ignore[arg-type]
        ReportingInput(SimpleNamespace(id=m2), SimpleNamespace(revision=3)),
    ]  # type: ignore[arg-type]
    errors = map_problem_errors(
        [
            UnknownUnitError("unknown unit 'bbl'", "reporting_periods[1].consumption[0].unit"),
            InvalidPeriodError(
                "period 2025-01-20–2025-02-19 overlaps reporting_periods[0] (2025-01-01–2025-01-31)",
                "reporting_periods[1].start",
            ),
            InvalidValueError("production must not be negative (got -1)", "baseline_periods[4].production.quantity"),
            InvalidValueError(
                "total production is zero, so energy per unit of product is undefined", "reporting_periods"
            ),
        ],
        reporting,
    )
    assert errors[0] == {
        "field": f"measurements[{m2}].consumption[0].unit",
        "message": f"unknown unit 'bbl' (measurement {m2}, revision 3)",
        "code": "unknown_unit",
    }
    assert errors[1]["field"] == f"measurements[{m2}].period_start"
    assert f"overlaps measurement {m1}" in errors[1]["message"]
    assert errors[2]["field"] == "baseline[4].production.quantity"
    assert errors[3]["field"] == "measurements"
