"""Reading what a person typed into the application forms: money in đồng written the Vietnamese way
(`1.234.567`, `1 234 567 ₫`) or as plain digits, percentages with a decimal comma or point, quantities, and
dates (the browser's `yyyy-mm-dd`, or `dd/mm/yyyy` typed by hand). A value that cannot be read gets a message
next to its field in the user's language; the API then judges the values (ranges, consistency, completeness).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from ..forms import Form
from ..i18n import _, current_language

_GROUPED = re.compile(r"^\d{1,3}([.,  ]\d{3})+$")
_PLAIN = re.compile(r"^\d+$")
_CURRENCY = re.compile(r"\s*(₫|đ|đồng|vnd|vnđ)\s*$", re.IGNORECASE)
_DECIMAL = re.compile(r"^\d+([.,]\d+)?$")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_vnd(form: Form, name: str) -> int | None:
    """'1.234.567', '1 234 567 ₫', '1234567' → 1234567; blank → None; anything else → an error on `name`."""
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    text = _CURRENCY.sub("", raw).strip()
    if _PLAIN.match(text) or _GROUPED.match(text):
        return int(re.sub(r"\D", "", text))
    form.add_error(name, _("Enter the amount in đồng as a whole number, like 1.234.567"))
    return None


def parse_decimal(form: Form, name: str, message: str | None = None, *, signed: bool = False) -> float | None:
    """'7,5' or '7.5' → 7.5; blank → None. With `signed`, a leading '-' (or the typographic '−') is read too."""
    raw = str(form.get(name) or "").strip().replace(" ", "").rstrip("%").strip()
    if not raw:
        return None
    sign = 1
    if signed and raw[:1] in ("-", "−"):
        sign, raw = -1, raw[1:]
    if _DECIMAL.match(raw):
        try:
            return sign * float(Decimal(raw.replace(",", ".")))
        except InvalidOperation:  # pragma: no cover - the pattern already excludes it
            pass
    form.add_error(name, message or _("Enter a number, like 7,5"))
    return None


def parse_date(form: Form, name: str) -> str | None:
    """'2026-12-31' or '31/12/2026' → '2026-12-31'; blank → None."""
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    try:
        match = _DMY.match(raw)
        value = dt.date(int(match[3]), int(match[2]), int(match[1])) if match else dt.date.fromisoformat(raw)
    except ValueError:
        form.add_error(name, _("Enter a real date, like 31/12/2026"))
        return None
    return value.isoformat()


def vnd_input(value: Any) -> str:
    """An amount as the form shows it again: 1234567 → '1.234.567' (the Vietnamese grouping in both languages,
    which the parser reads back)."""
    if value in (None, ""):
        return ""
    return f"{int(value):,}".replace(",", ".")


def decimal_input(value: Any) -> str:
    """7.5 → '7,5' in Vietnamese, '7.5' in English (both read back)."""
    if value in (None, ""):
        return ""
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if current_language() == "vi" else text
