"""Every notification kind says itself in Vietnamese and English with the params its rule writes: no placeholder
left unfilled, amounts grouped the local way, dates dd/mm/yyyy, lists joined."""

from __future__ import annotations

import pytest

from cleanprod_applications.notifications.models import NotificationKind as K
from cleanprod_applications.notifications.texts import TEXTS, language_of, render
from cleanprod_kit.messages import placeholders

CODE = "000.00.01.H26-261201-0007"
# The params each rule writes (rules.py, scheduler.py; messages and supplement requests: the portal's branch).
PARAMS: dict[K, dict[str, object]] = {
    K.dossier_received: {"dossier_code": CODE, "title": "Lò cảm ứng", "due_on": "2027-01-14"},
    K.screening_ineligible: {"dossier_code": CODE, "reasons": [{"code": "call_closed", "message": "closed"}]},
    K.changes_requested: {"dossier_code": CODE, "reason": "Bổ sung báo giá."},
    K.decision_made: {"dossier_code": CODE, "outcome": "approved", "amount_vnd": 800_000_000, "reason": "Đạt."},
    K.tranche_payable: {"dossier_code": CODE, "tranche": "advance", "amount_vnd": 240_000_000},
    K.tranche_paid: {"dossier_code": CODE, "tranche": "balance", "amount_vnd": 560_000_000, "paid_on": "2027-03-02"},
    K.verification_concluded: {
        "dossier_code": CODE,
        "verdict": "not_achieved",
        "achieved_pct": 75.0,
        "balance_vnd": 420_000_000,
        "recover_vnd": 0,
    },
    K.supplement_requested: {"dossier_code": CODE, "items": ["Báo cáo kiểm toán", "Báo giá"]},
    K.message_received: {"dossier_code": CODE, "author": "Nguyễn Văn An", "excerpt": "Đề nghị gửi bản gốc."},
    K.review_assigned: {"dossier_code": CODE, "title": "Lò cảm ứng", "due_on": "2026-12-15"},
    K.review_due_soon: {"dossier_code": CODE, "due_on": "2026-12-15"},
    K.review_overdue: {"dossier_code": CODE, "due_on": "2026-12-15"},
    K.ready_to_decide: {"dossier_code": CODE, "reviews_counted": 2},
    K.dossier_due_soon: {"dossier_code": CODE, "due_on": "2027-01-14"},
    K.dossier_overdue: {"dossier_code": CODE, "due_on": "2027-01-14"},
    K.webhook_dead_lettered: {"event_type": "application.approved", "url": "https://egov.example.vn/h", "attempts": 9},
    K.verifier_assigned: {"dossier_code": CODE, "verification_id": "v-1"},
    K.measurements_can_start: {"dossier_code": CODE, "completed_on": "2027-02-01"},
}


@pytest.mark.parametrize("kind", list(K))
def test_every_kind_renders_in_both_languages(kind: K) -> None:
    entry = TEXTS[kind]
    assert placeholders(entry.title_en) == placeholders(entry.title_vi)
    assert placeholders(entry.en) == placeholders(entry.vi)
    for language in ("vi", "en"):
        title, body = render(kind, PARAMS[kind], language)
        assert "…" not in title + body and "{" not in title + body, (kind, language, title, body)


def test_amounts_dates_lists_and_codes_in_the_readers_language() -> None:
    assert render(K.tranche_paid, PARAMS[K.tranche_paid], "vi")[1] == (
        "Khoản quyết toán 560.000.000 đồng đã được chi trả ngày 02/03/2027."
    )
    assert render(K.tranche_paid, PARAMS[K.tranche_paid], "en")[1] == (
        "The balance of 560,000,000 VND was paid on 02/03/2027."
    )
    assert render(K.supplement_requested, PARAMS[K.supplement_requested], "vi")[1].endswith(
        "Báo cáo kiểm toán; Báo giá"
    )
    assert "không đạt mức tiết kiệm" in render(K.verification_concluded, PARAMS[K.verification_concluded], "vi")[1]
    assert render(K.screening_ineligible, PARAMS[K.screening_ineligible], "en")[1].endswith("the call had closed")


def test_vietnamese_unless_english_is_asked_for() -> None:
    assert language_of(None) == "vi" and language_of("") == "vi"
    assert language_of("en-GB,en;q=0.9") == "en" and language_of("vi-VN, en;q=0.5") == "vi"
