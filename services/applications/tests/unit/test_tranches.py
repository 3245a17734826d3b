from decimal import Decimal
from fractions import Fraction

import pytest

from cleanprod_applications.domain.tranches import (
    DEFAULT_ADVANCE_SHARE_BP,
    DEFAULT_RECOVERY_THRESHOLD_BP,
    Settlement,
    Verdict,
    achieved_ratio,
    advance_amount,
    settle,
)

BN = 1_000_000_000


def test_defaults_are_the_documented_ones():
    assert DEFAULT_ADVANCE_SHARE_BP == 3_000
    assert DEFAULT_RECOVERY_THRESHOLD_BP == 5_000


@pytest.mark.parametrize(
    ("award", "share_bp", "expected"),
    [
        (BN, DEFAULT_ADVANCE_SHARE_BP, 300_000_000),
        (BN, 5_000, 500_000_000),
        (999_999_999, 3_000, 299_999_999),  # 299 999 999.7 → down
        (1, 3_000, 0),
        (BN, 0, 0),
        (BN, 10_000, BN),
        (0, 3_000, 0),
    ],
)
def test_advance_rounds_down(award, share_bp, expected):
    assert advance_amount(award, share_bp) == expected


def test_advance_default_share():
    assert advance_amount(BN) == 300_000_000


# The worked example of the module docstring, row by row.
@pytest.mark.parametrize(
    ("verdict", "ratio", "balance", "recover", "keeps"),
    [
        (Verdict.VERIFIED, None, 700_000_000, 0, BN),
        (Verdict.NOT_ACHIEVED, Fraction(6, 8), 525_000_000, 0, 825_000_000),
        (Verdict.NOT_ACHIEVED, Decimal("0.5"), 350_000_000, 0, 650_000_000),
        (Verdict.NOT_ACHIEVED, Decimal("0.4"), 0, 180_000_000, 120_000_000),
        (Verdict.NOT_ACHIEVED, 0, 0, 300_000_000, 0),
    ],
)
def test_worked_example(verdict, ratio, balance, recover, keeps):
    result = settle(award_vnd=BN, advance_paid_vnd=advance_amount(BN), verdict=verdict, ratio=ratio)
    assert (result.balance_vnd, result.recover_vnd, result.total_support_vnd) == (balance, recover, keeps)


def test_verified_ignores_any_ratio():
    result = settle(award_vnd=BN, advance_paid_vnd=300_000_000, verdict="verified", ratio=Fraction(1, 10))
    assert result == Settlement(Verdict.VERIFIED, Fraction(1), 700_000_000, 0, BN)


def test_threshold_boundary_exactly_at_and_just_below():
    at = settle(award_vnd=BN, advance_paid_vnd=300_000_000, verdict=Verdict.NOT_ACHIEVED, ratio=Fraction(1, 2))
    assert (at.balance_vnd, at.recover_vnd) == (350_000_000, 0)
    below = settle(
        award_vnd=BN,
        advance_paid_vnd=300_000_000,
        verdict=Verdict.NOT_ACHIEVED,
        ratio=Fraction(1, 2) - Fraction(1, 10**9),
    )
    assert below.balance_vnd == 0
    # ceil(300 000 000 × (1/2 + 1e-9)) = ceil(150 000 000.3) = 150 000 001
    assert below.recover_vnd == 150_000_001


@pytest.mark.parametrize(
    ("threshold_bp", "ratio", "pays_balance"),
    [
        (8_000, Fraction(8, 10), True),
        (8_000, Fraction(7999, 10000), False),
        (0, Fraction(0), True),  # threshold 0: never recover, ratio 0 pays a zero balance
        (10_000, Fraction(9999, 10000), False),
        (10_000, Fraction(1), True),
    ],
)
def test_configurable_threshold(threshold_bp, ratio, pays_balance):
    result = settle(
        award_vnd=BN,
        advance_paid_vnd=300_000_000,
        verdict=Verdict.NOT_ACHIEVED,
        ratio=ratio,
        recovery_threshold_bp=threshold_bp,
    )
    assert (result.recover_vnd == 0) is pays_balance
    if pays_balance:
        assert result.balance_vnd == 700_000_000 * ratio.numerator // ratio.denominator


def test_rounding_favours_the_programme():
    # balance_due 7; r = 1/2 → 3.5 paid as 3
    paid = settle(award_vnd=10, advance_paid_vnd=3, verdict=Verdict.NOT_ACHIEVED, ratio=Fraction(1, 2))
    assert paid.balance_vnd == 3
    # advance 3; r = 1/3 → recover 3 × 2/3 = 2 exactly; r = 1/4 → 2.25 recovered as 3
    assert settle(award_vnd=10, advance_paid_vnd=3, verdict=Verdict.NOT_ACHIEVED, ratio=Fraction(1, 3)).recover_vnd == 2
    assert settle(award_vnd=10, advance_paid_vnd=3, verdict=Verdict.NOT_ACHIEVED, ratio=Fraction(1, 4)).recover_vnd == 3


@pytest.mark.parametrize(("ratio", "applied"), [(Fraction(3, 2), Fraction(1)), (-0.2, Fraction(0)), (1.0, Fraction(1))])
def test_ratio_is_clamped(ratio, applied):
    result = settle(award_vnd=BN, advance_paid_vnd=300_000_000, verdict=Verdict.NOT_ACHIEVED, ratio=ratio)
    assert result.ratio_applied == applied


def test_amounts_never_negative_never_above_award_and_monotonic_in_ratio():
    award, advance = 987_654_321, advance_amount(987_654_321)
    previous_total = -1
    for step in range(0, 1001):
        r = Fraction(step, 1000)
        s = settle(award_vnd=award, advance_paid_vnd=advance, verdict=Verdict.NOT_ACHIEVED, ratio=r)
        assert s.balance_vnd >= 0 and s.recover_vnd >= 0
        assert s.recover_vnd <= advance
        assert s.balance_vnd <= award - advance
        assert not (s.balance_vnd and s.recover_vnd)
        assert s.total_support_vnd == advance - s.recover_vnd + s.balance_vnd
        assert 0 <= s.total_support_vnd <= award
        assert s.total_support_vnd >= previous_total, f"less support for a better result at r={r}"
        previous_total = s.total_support_vnd
    assert previous_total == award


def test_advance_actually_paid_is_used():
    # advance paid under an older 50 % share
    result = settle(award_vnd=BN, advance_paid_vnd=500_000_000, verdict=Verdict.NOT_ACHIEVED, ratio=Fraction(3, 4))
    assert result.balance_vnd == 375_000_000
    no_advance = settle(award_vnd=BN, advance_paid_vnd=0, verdict=Verdict.NOT_ACHIEVED, ratio=Fraction(1, 10))
    assert (no_advance.balance_vnd, no_advance.recover_vnd, no_advance.total_support_vnd) == (0, 0, 0)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"advance_paid_vnd": BN + 1}, ValueError),
        ({"advance_paid_vnd": -1}, ValueError),
        ({"award_vnd": 1.0e9}, TypeError),
        ({"ratio": None}, ValueError),
        ({"ratio": "0.5"}, TypeError),
        ({"verdict": "approved"}, ValueError),
        ({"recovery_threshold_bp": 10_001}, ValueError),
    ],
)
def test_bad_inputs(kwargs, error):
    args = dict(award_vnd=BN, advance_paid_vnd=300_000_000, verdict=Verdict.NOT_ACHIEVED, ratio=Fraction(1, 2))
    args.update(kwargs)
    with pytest.raises(error):
        settle(**args)


@pytest.mark.parametrize(
    ("verified", "claimed", "expected"),
    [
        (Decimal("6.0"), Decimal("8.0"), Fraction(3, 4)),
        (9, 8, Fraction(1)),
        (Decimal("-1.2"), 8, Fraction(0)),
        (0, Decimal("7.5"), Fraction(0)),
        (120.5, 241, Fraction(1, 2)),
    ],
)
def test_achieved_ratio(verified, claimed, expected):
    assert achieved_ratio(verified, claimed) == expected


def test_achieved_ratio_needs_a_positive_claim():
    for claimed in (0, -3):
        with pytest.raises(ValueError):
            achieved_ratio(1, claimed)
