from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from cleanprod_applications.domain.lifecycle import Action
from cleanprod_applications.domain.screening import (
    ApplicationFacts,
    CallTerms,
    screen,
    screening_action,
)
from cleanprod_applications.domain.screening import (
    ReasonCode as R,
)

HANOI = timezone(timedelta(hours=7))

CALL = CallTerms(
    opens_on=date(2026, 10, 1),
    closes_on=date(2026, 11, 30),
    eligible_sectors=frozenset({"C20", "C23"}),
    support_rate_bp=3_000,  # 30 %
    cap_per_project_vnd=1_000_000_000,
)
GOOD = ApplicationFacts(
    facility_sector="C23",
    total_cost_vnd=3_000_000_000,
    eligible_cost_vnd=2_500_000_000,
    requested_support_vnd=700_000_000,  # < 30 % × 2.5 bn = 750 m, < cap
    implementation_start=date(2027, 1, 15),
    implementation_end=date(2027, 9, 30),
    claimed_overall_saving_pct=Decimal("7.5"),
)
IN_WINDOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


def codes(reasons):
    return [r.code for r in reasons]


def test_good_application_is_eligible():
    assert screen(CALL, GOOD, IN_WINDOW) == []
    assert screening_action([]) is Action.SCREEN_PASS


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # opens 01/10 00:00 Hanoi = 30/09 17:00Z
        (datetime(2026, 9, 30, 16, 59, 59, tzinfo=UTC), [R.CALL_NOT_YET_OPEN]),
        (datetime(2026, 9, 30, 17, 0, 0, tzinfo=UTC), []),
        (datetime(2026, 10, 1, 0, 0, tzinfo=HANOI), []),
        # closes 30/11 inclusive: until 30/11 23:59:59 Hanoi = 30/11 16:59:59Z
        (datetime(2026, 11, 30, 16, 59, 59, tzinfo=UTC), []),
        (datetime(2026, 11, 30, 17, 0, 0, tzinfo=UTC), [R.CALL_CLOSED]),
        (datetime(2026, 12, 15, 9, 0, tzinfo=HANOI), [R.CALL_CLOSED]),
    ],
)
def test_call_window_uses_hanoi_dates_inclusive(instant, expected):
    assert codes(screen(CALL, GOOD, instant)) == expected


def test_call_window_messages_give_local_dates():
    [reason] = screen(CALL, GOOD, datetime(2026, 11, 30, 18, 0, tzinfo=UTC))
    assert reason.field == "call"
    assert "30/11/2026" in reason.message and "01/12/2026" in reason.message


def test_sector_not_eligible():
    [reason] = screen(CALL, replace(GOOD, facility_sector="C24"), IN_WINDOW)
    assert reason.code is R.SECTOR_NOT_ELIGIBLE
    assert reason.field == "facility_sector"
    assert "'C24'" in reason.message and "C20, C23" in reason.message


@pytest.mark.parametrize("field", ["total_cost_vnd", "eligible_cost_vnd", "requested_support_vnd"])
@pytest.mark.parametrize("value", [0, -1])
def test_each_amount_must_be_positive(field, value):
    reasons = screen(CALL, replace(GOOD, **{field: value}), IN_WINDOW)
    # one mistake, one reason: no derived comparisons against a non-positive amount
    assert [(r.code, r.field) for r in reasons] == [(R.AMOUNT_NOT_POSITIVE, field)]


def test_eligible_cost_may_equal_but_not_exceed_total():
    assert screen(CALL, replace(GOOD, eligible_cost_vnd=GOOD.total_cost_vnd), IN_WINDOW) == []
    reasons = screen(CALL, replace(GOOD, eligible_cost_vnd=GOOD.total_cost_vnd + 1), IN_WINDOW)
    assert codes(reasons) == [R.ELIGIBLE_COST_EXCEEDS_TOTAL]
    assert "3.000.000.001 VND" in reasons[0].message and "3.000.000.000 VND" in reasons[0].message


def test_requested_support_up_to_rate_of_eligible_cost():
    at_rate = replace(GOOD, eligible_cost_vnd=2_000_000_001, requested_support_vnd=600_000_000)  # floor(600_000_000.3)
    assert screen(CALL, at_rate, IN_WINDOW) == []
    over = replace(at_rate, requested_support_vnd=600_000_001)
    [reason] = screen(CALL, over, IN_WINDOW)
    assert reason.code is R.REQUEST_EXCEEDS_SUPPORT_RATE
    assert reason.field == "requested_support_vnd"
    assert "30 %" in reason.message and "600.000.000 VND" in reason.message


def test_rate_message_with_fractional_percent():
    call = replace(CALL, support_rate_bp=3_250)
    [reason] = screen(
        call, replace(GOOD, eligible_cost_vnd=1_000_000_000, requested_support_vnd=400_000_000), IN_WINDOW
    )
    assert "32,5 %" in reason.message and "325.000.000 VND" in reason.message


def test_requested_support_up_to_cap():
    generous = replace(CALL, support_rate_bp=10_000)
    assert screen(generous, replace(GOOD, requested_support_vnd=1_000_000_000), IN_WINDOW) == []
    [reason] = screen(generous, replace(GOOD, requested_support_vnd=1_000_000_001), IN_WINDOW)
    assert reason.code is R.REQUEST_EXCEEDS_CAP
    assert "1.000.000.000 VND" in reason.message


def test_request_over_both_rate_and_cap_gives_both_reasons():
    reasons = screen(
        CALL, replace(GOOD, eligible_cost_vnd=3_000_000_000, requested_support_vnd=1_200_000_000), IN_WINDOW
    )
    assert codes(reasons) == [R.REQUEST_EXCEEDS_SUPPORT_RATE, R.REQUEST_EXCEEDS_CAP]


def test_implementation_dates_in_order():
    same_day = replace(GOOD, implementation_end=GOOD.implementation_start)
    assert screen(CALL, same_day, IN_WINDOW) == []
    backwards = replace(GOOD, implementation_end=GOOD.implementation_start - timedelta(days=1))
    [reason] = screen(CALL, backwards, IN_WINDOW)
    assert reason.code is R.IMPLEMENTATION_DATES_OUT_OF_ORDER
    assert "14/01/2027" in reason.message and "15/01/2027" in reason.message


@pytest.mark.parametrize("saving", [0, Decimal("0"), Decimal("-1.5"), -0.1])
def test_claimed_saving_must_be_positive(saving):
    [reason] = screen(CALL, replace(GOOD, claimed_overall_saving_pct=saving), IN_WINDOW)
    assert reason.code is R.CLAIMED_SAVING_NOT_POSITIVE
    assert reason.field == "claimed_overall_saving_pct"


@pytest.mark.parametrize("saving", [Decimal("0.01"), 1, 0.5])
def test_small_positive_saving_passes(saving):
    assert screen(CALL, replace(GOOD, claimed_overall_saving_pct=saving), IN_WINDOW) == []


def test_all_reasons_are_reported_together():
    bad = replace(
        GOOD,
        facility_sector="A01",
        eligible_cost_vnd=4_000_000_000,
        requested_support_vnd=2_000_000_000,
        implementation_end=date(2026, 1, 1),
        claimed_overall_saving_pct=0,
    )
    reasons = screen(CALL, bad, datetime(2027, 1, 1, tzinfo=UTC))
    assert codes(reasons) == [
        R.CALL_CLOSED,
        R.SECTOR_NOT_ELIGIBLE,
        R.ELIGIBLE_COST_EXCEEDS_TOTAL,
        R.REQUEST_EXCEEDS_SUPPORT_RATE,
        R.REQUEST_EXCEEDS_CAP,
        R.IMPLEMENTATION_DATES_OUT_OF_ORDER,
        R.CLAIMED_SAVING_NOT_POSITIVE,
    ]
    assert screening_action(reasons) is Action.SCREEN_FAIL
    assert all(r.message for r in reasons)


def test_naive_submission_time_is_refused():
    with pytest.raises(ValueError):
        screen(CALL, GOOD, datetime(2026, 11, 1, 10, 0))


def test_call_terms_are_validated():
    with pytest.raises(ValueError):
        replace(CALL, closes_on=date(2026, 9, 30))
    with pytest.raises(ValueError):
        replace(CALL, eligible_sectors=frozenset())
    with pytest.raises(ValueError):
        replace(CALL, support_rate_bp=0)
    with pytest.raises(ValueError):
        replace(CALL, cap_per_project_vnd=0)
    assert CallTerms(CALL.opens_on, CALL.closes_on, ["C20"], 5_000, 1).eligible_sectors == frozenset({"C20"})


def test_application_facts_refuse_non_integer_money():
    with pytest.raises(TypeError):
        replace(GOOD, requested_support_vnd=7.0e8)
    with pytest.raises(TypeError):
        replace(GOOD, claimed_overall_saving_pct="7.5")
