"""What an officer asks the enterprise to change, as a list ↔ the API's decision `reason` (one text).

The API's decision body is `{outcome, reason}` only, so the list travels as the reason's lines: an optional note,
then one `- item` line per thing to change. The enterprise's application page shows those lines as a list
(`enterprise/applications/_requested_changes.html`)."""

from __future__ import annotations

from ..forms import Form
from ..i18n import _

MIN_ROWS = 3
MAX_ROWS = 10
BULLET = "- "


def item_field(index: int) -> str:
    return f"changes.{index}"


def row_count(form: Form) -> int:
    """Rows to show: the filled ones plus one empty, at least MIN_ROWS (`action=add` adds one without saving)."""
    try:
        shown = int(form.get("rows") or MIN_ROWS)
    except ValueError:
        shown = MIN_ROWS
    if form.get("action") == "add":
        shown += 1
    return max(MIN_ROWS, min(MAX_ROWS, shown))


def items(form: Form) -> list[str]:
    out = []
    for index in range(MAX_ROWS):
        text = " ".join(str(form.get(item_field(index)) or "").split())
        if text:
            out.append(text)
    return out


def reason_text(form: Form) -> str | None:
    """The reason to send, or None (with the message on the first row) when nothing to change is listed."""
    listed = items(form)
    if not listed:
        form.add_error(item_field(0), _("List at least one thing the enterprise should change."))
        return None
    note = str(form.get("note") or "").strip()
    lines = ([note, ""] if note else []) + [BULLET + item for item in listed]
    return "\n".join(lines)
