"""How the portal writes numbers, money, dates and times (Babel's CLDR data; Jinja filters of the same names).

- money: integer VND, `1.234.567 ₫` in Vietnamese, `1,234,567 ₫` in English (no decimals; a no-break space
  before the sign so it never wraps onto its own line);
- dates: `dd/mm/yyyy` in both languages (what Vietnamese forms use, and unambiguous in English too);
- times: converted to Asia/Ho_Chi_Minh, `HH:MM dd/mm/yyyy`;
- percentages: `6,5 %` in Vietnamese (decimal comma), `6.5 %` in English.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern

from cleanprod_kit.local_time import LOCAL_TZ

from .i18n import current_language

NBSP = "\u00a0"
BABEL_LOCALES = {"vi": "vi_VN", "en": "en_GB"}


def _locale(language: str | None) -> str:
    return BABEL_LOCALES.get(language or current_language(), "vi_VN")


# A page with 200 amounts formats 200 values: Babel's `format_decimal` would parse the locale and the pattern
# each time, so both are parsed once here (and each value once per language and number of decimals).
@lru_cache(maxsize=8)
def _babel_locale(identifier: str) -> Locale:
    return Locale.parse(identifier)


@lru_cache(maxsize=8)
def _pattern(decimals: int) -> NumberPattern:
    return parse_pattern("#,##0" + ("." + "#" * decimals if decimals else ""))


@lru_cache(maxsize=4096, typed=True)  # typed: 1, 1.0 and Decimal(1) are formatted each on their own
def _format(value: int | float | Decimal, decimals: int, locale: str) -> str:
    return _pattern(decimals).apply(value, _babel_locale(locale))


def number(value: int | float | Decimal | None, decimals: int = 0, language: str | None = None) -> str:
    if value is None:
        return ""
    return _format(value, decimals, _locale(language))


def vnd(value: int | None, language: str | None = None) -> str:
    """1234567 → '1.234.567 ₫' (vi) / '1,234,567 ₫' (en)."""
    if value is None:
        return ""
    return f"{number(int(value), language=language)}{NBSP}₫"


def percent(value: float | Decimal | None, decimals: int = 1, language: str | None = None) -> str:
    """6.5 → '6,5 %' (vi) / '6.5 %' (en). `value` is already in percent."""
    if value is None:
        return ""
    return f"{number(value, decimals, language)}{NBSP}%"


def basis_points(value: int | None, language: str | None = None) -> str:
    """5000 bp → '50 %'."""
    return "" if value is None else percent(Decimal(value) / 100, 2, language)


def _parse(value: date | datetime | str) -> date | datetime:
    if isinstance(value, str):
        text = value.strip()
        if "T" in text or " " in text:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        return date.fromisoformat(text)
    return value


def local_date(value: date | datetime | str | None) -> str:
    """'2026-11-28' → '28/11/2026'; a datetime is first converted to Hà Nội time."""
    if value in (None, ""):
        return ""
    parsed = _parse(value)
    if isinstance(parsed, datetime):
        parsed = to_local(parsed).date()
    return parsed.strftime("%d/%m/%Y")


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None:  # the API always sends an offset; a naive value is taken as UTC
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ)


def local_datetime(value: datetime | str | None) -> str:
    """An instant → 'HH:MM dd/mm/yyyy' in Asia/Ho_Chi_Minh."""
    if value in (None, ""):
        return ""
    parsed = _parse(value)
    if not isinstance(parsed, datetime):
        return local_date(parsed)
    return to_local(parsed).strftime("%H:%M %d/%m/%Y")


FILTERS = {
    "number": number,
    "vnd": vnd,
    "percent": percent,
    "basis_points": basis_points,
    "local_date": local_date,
    "local_datetime": local_datetime,
}
