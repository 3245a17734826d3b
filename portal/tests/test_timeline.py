"""The enterprise's timeline says the API's English log lines (screening, verdict) in the user's language."""

from __future__ import annotations

from cleanprod_portal import i18n
from cleanprod_portal.enterprise.applications import timeline

HISTORY = [
    {
        "action": "screen_pass",
        "reason": "Eligible: call open, sector eligible, amounts within the call's rules.",
        "actor_role": "system",
        "at": "2026-12-01T12:00:00Z",
    },
    {
        "action": "screen_fail",
        "reason": "Call closed",
        "actor_role": "system",
        "at": "2026-12-01T12:00:00Z",
        "details": {"reasons": [{"code": "call_closed", "message": "Call closed"}]},
    },
    {
        "action": "record_verified",
        "actor_role": "system",
        "at": "2026-12-02T12:00:00Z",
        "reason": "Verification 01a2 concluded 'verified' (achieved ratio 1.0000); balance 560000000 VND, recovery 0 VND.",
        "details": {
            "verified_savings_pct": 10.19,
            "claimed_savings_pct": 8,
            "balance_vnd": 560_000_000,
            "recover_vnd": 0,
        },
    },
    {
        "action": "record_not_achieved",
        "actor_role": "system",
        "at": "2026-12-02T12:00:00Z",
        "reason": "x",
        "details": {"verified_savings_pct": 2.5, "claimed_savings_pct": 8, "balance_vnd": 0, "recover_vnd": 48_000_000},
    },
]


def test_screening_and_verdict_entries_are_said_in_the_users_language() -> None:
    i18n.set_language("vi")
    passed, failed, verified, missed = timeline(HISTORY, lambda reasons: "; ".join(r["code"] for r in reasons))
    assert passed["reason"].startswith("Đủ điều kiện: đợt hỗ trợ đang mở")
    assert failed["reason"] == "call_closed"
    assert verified["reason"] == (
        "Mức tiết kiệm đã thẩm tra 10,2\u00a0% so với 8\u00a0% đã cam kết; phần còn lại "
        "được chi trả 560.000.000\u00a0₫."
    )
    assert "Số tiền tạm ứng phải hoàn trả: 48.000.000\u00a0₫." in missed["reason"]
    i18n.set_language("en")
    try:
        assert timeline(HISTORY)[2]["reason"] == (
            "Verified saving 10.2\u00a0% against the 8\u00a0% claimed; balance 560,000,000\u00a0₫."
        )
        assert timeline(HISTORY)[1]["reason"] == "Call closed"  # no call terms given: the API's text
    finally:
        i18n.set_language("vi")
