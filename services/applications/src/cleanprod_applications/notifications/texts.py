"""The title and body of every notification kind in Vietnamese and English, rendered like the kit's error catalogue
(`cleanprod_kit.messages`: same `Entry`, same `{placeholder}` formatting, đồng grouped the local way, dates
dd/mm/yyyy). Params are stored JSON-native; dates (`*_on`) arrive as ISO strings and lists as lists."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType
from typing import Any

from cleanprod_kit.messages import Entry, format_text, preferred_language

from .models import NotificationKind as K


def _e(title_en: str, title_vi: str, en: str, vi: str) -> Entry:
    return Entry(title_en, title_vi, en, vi)


_TEXTS: dict[K, Entry] = {
    K.dossier_received: _e(
        "Dossier {dossier_code} received",
        "Đã tiếp nhận hồ sơ {dossier_code}",
        'Your dossier "{title}" was received with code {dossier_code}. It is due to be processed by {due_on}.',
        'Hồ sơ "{title}" đã được tiếp nhận với mã {dossier_code}. Hạn giải quyết: {due_on}.',
    ),
    K.screening_ineligible: _e(
        "Dossier {dossier_code} is not eligible",
        "Hồ sơ {dossier_code} không đủ điều kiện",
        "Your dossier did not pass eligibility screening: {reasons}",
        "Hồ sơ không đạt kiểm tra điều kiện: {reasons}",
    ),
    K.changes_requested: _e(
        "Changes requested on dossier {dossier_code}",
        "Yêu cầu chỉnh sửa hồ sơ {dossier_code}",
        "The department asks you to change your dossier and submit it again: {reason}",
        "Sở đề nghị doanh nghiệp chỉnh sửa hồ sơ và nộp lại: {reason}",
    ),
    K.decision_made: _e(
        "Decision on dossier {dossier_code}: {outcome}",
        "Quyết định về hồ sơ {dossier_code}: {outcome}",
        "Outcome: {outcome}. Support granted: {amount_vnd} VND. {reason}",
        "Kết quả xét duyệt: {outcome}. Mức hỗ trợ: {amount_vnd} đồng. {reason}",
    ),
    K.tranche_payable: _e(
        "Payment due on dossier {dossier_code}",
        "Khoản hỗ trợ của hồ sơ {dossier_code} đến hạn chi trả",
        "The {tranche} of {amount_vnd} VND is now payable.",
        "Khoản {tranche} {amount_vnd} đồng đã đến hạn chi trả.",
    ),
    K.tranche_paid: _e(
        "Payment made on dossier {dossier_code}",
        "Đã chi trả khoản hỗ trợ của hồ sơ {dossier_code}",
        "The {tranche} of {amount_vnd} VND was paid on {paid_on}.",
        "Khoản {tranche} {amount_vnd} đồng đã được chi trả ngày {paid_on}.",
    ),
    K.verification_concluded: _e(
        "Verification of dossier {dossier_code} concluded",
        "Đã có kết luận thẩm tra hồ sơ {dossier_code}",
        "Verification concluded: {verdict} (achieved {achieved_pct}% of the claimed savings). "
        "Balance: {balance_vnd} VND; to be returned: {recover_vnd} VND.",
        "Kết luận thẩm tra: {verdict} (đạt {achieved_pct}% mức tiết kiệm đã đăng ký). "
        "Khoản còn lại: {balance_vnd} đồng; phải hoàn trả: {recover_vnd} đồng.",
    ),
    K.supplement_requested: _e(
        "Dossier {dossier_code}: documents or information to supplement",
        "Hồ sơ {dossier_code}: yêu cầu bổ sung",
        "The department asks you to supplement your dossier: {items}",
        "Sở đề nghị doanh nghiệp bổ sung hồ sơ: {items}",
    ),
    K.message_received: _e(
        "New message on dossier {dossier_code}",
        "Tin nhắn mới về hồ sơ {dossier_code}",
        "{author} wrote: {excerpt}",
        "{author} đã viết: {excerpt}",
    ),
    K.review_assigned: _e(
        "Review assigned: dossier {dossier_code}",
        "Được phân công đánh giá hồ sơ {dossier_code}",
        'You are asked to review "{title}" ({dossier_code}) by {due_on}.',
        'Bạn được phân công đánh giá hồ sơ "{title}" ({dossier_code}), hạn {due_on}.',
    ),
    K.review_due_soon: _e(
        "Review of dossier {dossier_code} due on {due_on}",
        "Sắp đến hạn đánh giá hồ sơ {dossier_code} ({due_on})",
        "Your review of {dossier_code} is due on {due_on}.",
        "Hạn nộp đánh giá hồ sơ {dossier_code} là ngày {due_on}.",
    ),
    K.review_overdue: _e(
        "Review of dossier {dossier_code} is overdue",
        "Quá hạn đánh giá hồ sơ {dossier_code}",
        "Your review of {dossier_code} was due on {due_on}.",
        "Đánh giá hồ sơ {dossier_code} đã quá hạn (hạn {due_on}).",
    ),
    K.ready_to_decide: _e(
        "Dossier {dossier_code}: reviews complete, ready to decide",
        "Hồ sơ {dossier_code}: đã đủ đánh giá, chờ quyết định",
        "{reviews_counted} reviews are in for {dossier_code}; it is ready for a decision.",
        "Hồ sơ {dossier_code} đã có {reviews_counted} đánh giá và sẵn sàng để quyết định.",
    ),
    K.dossier_due_soon: _e(
        "Dossier {dossier_code} due on {due_on}",
        "Hồ sơ {dossier_code} sắp đến hạn giải quyết ({due_on})",
        "Dossier {dossier_code} must be settled by {due_on}.",
        "Hồ sơ {dossier_code} phải được giải quyết trước ngày {due_on}.",
    ),
    K.dossier_overdue: _e(
        "Dossier {dossier_code} is overdue",
        "Hồ sơ {dossier_code} quá hạn giải quyết",
        "Dossier {dossier_code} was due on {due_on}.",
        "Hồ sơ {dossier_code} đã quá hạn giải quyết (hạn {due_on}).",
    ),
    K.webhook_dead_lettered: _e(
        "Webhook delivery given up",
        "Ngừng gửi webhook",
        "Event {event_type} could not be delivered to {url} after {attempts} attempts.",
        "Không gửi được sự kiện {event_type} tới {url} sau {attempts} lần thử.",
    ),
    K.verifier_assigned: _e(
        "Verification assigned: dossier {dossier_code}",
        "Được phân công thẩm tra hồ sơ {dossier_code}",
        "You are assigned to verify the savings of dossier {dossier_code}.",
        "Bạn được phân công thẩm tra mức tiết kiệm của hồ sơ {dossier_code}.",
    ),
    K.measurements_can_start: _e(
        "Dossier {dossier_code}: completion reported",
        "Hồ sơ {dossier_code}: đã báo cáo hoàn thành",
        "The enterprise reported completion on {completed_on}; measurements can start.",
        "Doanh nghiệp đã báo cáo hoàn thành ngày {completed_on}; có thể bắt đầu đo đạc.",
    ),
}

TEXTS: MappingProxyType[K, Entry] = MappingProxyType(_TEXTS)
assert set(TEXTS) == set(K), "every notification kind has its text"

# Words that params carry as codes (outcome, tranche, verdict), in both languages.
_WORDS: dict[str, tuple[str, str]] = {
    "approved": ("approved", "phê duyệt"),
    "rejected": ("rejected", "từ chối"),
    "advance": ("advance", "tạm ứng"),
    "balance": ("balance", "quyết toán"),
    "verified": ("savings verified", "đạt mức tiết kiệm"),
    "not_achieved": ("savings not achieved", "không đạt mức tiết kiệm"),
}


# Screening reason codes (domain/screening.py) in both languages: the screening stores English sentences only.
_REASONS: dict[str, tuple[str, str]] = {
    "call_not_yet_open": ("the call was not open yet", "đợt hỗ trợ chưa mở"),
    "call_closed": ("the call had closed", "đợt hỗ trợ đã kết thúc"),
    "sector_not_eligible": (
        "the facility's sector is not supported by this call",
        "ngành của cơ sở không thuộc đợt hỗ trợ",
    ),
    "amount_not_positive": ("the amounts must be more than 0 đồng", "các khoản kinh phí phải lớn hơn 0 đồng"),
    "eligible_cost_exceeds_total": (
        "the eligible cost is more than the total cost",
        "chi phí hợp lệ lớn hơn tổng chi phí",
    ),
    "request_exceeds_support_rate": (
        "the requested support is above the call's support rate",
        "mức đề nghị hỗ trợ vượt tỷ lệ hỗ trợ của đợt",
    ),
    "request_exceeds_cap": (
        "the requested support is above the cap per project",
        "mức đề nghị hỗ trợ vượt mức trần mỗi dự án",
    ),
    "implementation_dates_out_of_order": ("the end date is before the start date", "ngày kết thúc trước ngày bắt đầu"),
    "claimed_saving_not_positive": (
        "the claimed overall saving must be more than 0 %",
        "mức tiết kiệm đăng ký phải lớn hơn 0 %",
    ),
}


def reason_text(reason: object, language: str) -> str:
    """One screening reason (or any listed item) as the reader's language says it (the mail body lists them too)."""
    if isinstance(reason, dict):
        known = _REASONS.get(str(reason.get("code")))
        if known is not None:
            return known[1] if language == "vi" else known[0]
        return str(reason.get("message") or reason.get("code") or "")
    return str(reason)


def language_of(accept_language: str | None) -> str:
    """Vietnamese unless the request asks for English (the portal's default language is Vietnamese)."""
    return preferred_language(accept_language) if accept_language else "vi"


def _shown(params: dict[str, Any], language: str) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, value in params.items():
        if key.endswith("_on") and isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                pass
        elif isinstance(value, list):
            value = "; ".join(reason_text(v, language) for v in value) or "—"
        elif value is None:
            value = "—"
        shown[key] = value
    for key in ("outcome", "tranche", "verdict"):  # codes said as words of the reader's language
        if isinstance(params.get(key), str) and params[key] in _WORDS:
            en, vi = _WORDS[params[key]]
            shown[key] = vi if language == "vi" else en
    return shown


def render(kind: str, params: dict[str, Any], language: str) -> tuple[str, str]:
    """(title, body) of a notification in `language` ("vi" or "en")."""
    entry = TEXTS[K(kind)]
    shown = _shown(params, language)
    return format_text(entry.title(language), shown, language), format_text(entry.message(language), shown, language)
