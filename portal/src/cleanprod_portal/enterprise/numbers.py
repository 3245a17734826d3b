"""Numbers and months as people type them into a form or a spreadsheet: Vietnamese `1.234,5`, English
`1,234.5`, Excel's plain `1234,5` or `1234.5`. The portal only reads what was typed; the API decides whether
the value is allowed."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from ..i18n import current_language

_MONTH_ISO = re.compile(r"^(\d{4})-(\d{1,2})$")
_MONTH_VN = re.compile(r"^(\d{1,2})/(\d{4})$")


class NotANumber(ValueError):
    pass


class NotAMonth(ValueError):
    pass


def parse_number(text: str | None, language: str | None = None) -> float | None:
    """'' → None; '1.234,5' / '1,234.5' / '1234,5' / '1 234,5' → 1234.5; else NotANumber.

    With both separators the last one is the decimal mark. A number grouped in threes with the language's
    thousands separator is whole ('120.000' in Vietnamese, '120,000' in English; several groups in either
    language); otherwise a lone comma or a lone dot is the decimal mark ('1250,5', '1250.5', '0.125')."""
    if text is None:
        return None
    raw = text.strip().replace("\u00a0", "").replace(" ", "")
    if raw == "":
        return None
    thousands_mark = "," if (language or current_language()) == "en" else "."
    if re.fullmatch(rf"[+-]?[1-9]\d{{0,2}}({re.escape(thousands_mark)}\d{{3}})+", raw):
        raw = raw.replace(thousands_mark, "")
    elif "," in raw and "." in raw:
        decimal_mark = "," if raw.rfind(",") > raw.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        raw = raw.replace(thousands, "").replace(decimal_mark, ".")
    elif "," in raw:
        if raw.count(",") > 1:
            raw = raw.replace(",", "")
        else:
            raw = raw.replace(",", ".")
    elif raw.count(".") > 1:
        raw = raw.replace(".", "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", raw):
        raise NotANumber(text)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise NotANumber(text) from None
    if not value.is_finite():
        raise NotANumber(text)
    return float(value)


def parse_month(text: str | None) -> tuple[dt.date, dt.date]:
    """'2025-01' or '01/2025' → (first day, last day) of that month; else NotAMonth."""
    raw = (text or "").strip()
    match = _MONTH_ISO.match(raw)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
    elif (match := _MONTH_VN.match(raw)) is not None:
        month, year = int(match.group(1)), int(match.group(2))
    else:
        raise NotAMonth(text)
    if not 1 <= month <= 12 or year < 1900:
        raise NotAMonth(text)
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def month_of(period_start: str | dt.date) -> str:
    """The `yyyy-mm` a period starts in (how the grid and the CSV name periods)."""
    value = dt.date.fromisoformat(period_start) if isinstance(period_start, str) else period_start
    return f"{value.year:04d}-{value.month:02d}"


def plain_number(value: float | None, language: str | None = None) -> str:
    """A number as a form field shows it back for editing: no grouping, no trailing '.0', the language's
    decimal mark ('1250,5' in Vietnamese, '1250.5' in English) — `parse_number` reads both back."""
    if value is None:
        return ""
    text = f"{Decimal(str(value)).normalize():f}"
    return text.replace(".", ",") if (language or current_language()) == "vi" else text
