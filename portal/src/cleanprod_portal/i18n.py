"""Languages and message catalogues (gettext through Babel).

Catalogues are `locale/<lang>/LC_MESSAGES/messages.po`, compiled in memory at start-up (no .mo files in the
repository). The current request's language lives in a context variable set by `middleware.PortalLayer`, so Python
code (`_()`), templates (`{% trans %}`, `_()`) and the API client (`Accept-Language`) all read the same value.
"""

from __future__ import annotations

import io
from contextvars import ContextVar, Token
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_COOKIE = "cp_lang"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}

_current: ContextVar[str] = ContextVar("portal_language", default=DEFAULT_LANGUAGE)


def normalise(value: str | None) -> str | None:
    """'vi', 'vi-VN', 'EN' → a supported language code, else None."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return code if code in LANGUAGES else None


def current_language() -> str:
    return _current.get()


def set_language(language: str) -> None:
    _current.set(normalise(language) or DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> Translations:
    """The compiled catalogue of `language` (English msgids are their own translation when a msgstr is empty)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain="messages")


def gettext(message: str, **variables: object) -> str:
    text = translations(current_language()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(current_language()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the conventional name extractors look for
    """Marks a string for extraction without translating it here (translated later with `_()`)."""
    return message


def language_of_cookies(cookie_headers: list[str], default: str) -> str:
    """The request's language from the `cp_lang` cookie (the switch writes it; login copies the session's language
    into it), else the default: Vietnamese first, whatever the browser prefers. Set by middleware.PortalLayer."""
    language = default
    for value in cookie_headers:
        for part in value.split(";"):
            key, _sep, val = part.strip().partition("=")
            if key == LANGUAGE_COOKIE and normalise(val):
                language = normalise(val)
    return language


def enter_language(language: str) -> Token[str]:
    return _current.set(language)


def leave_language(token: Token[str]) -> None:
    _current.reset(token)
