"""Message extraction and catalogue upkeep (Babel's API), used by the tests and by developers:

    .venv/bin/python -m cleanprod_portal.catalogues check    # every msgid used is translated in vi and en
    .venv/bin/python -m cleanprod_portal.catalogues update   # add new msgids to both .po files (vi msgstr empty)

Sources: Python files (`_`, `gettext`, `ngettext`, `N_`) and templates (`_()`, `{% trans %}`,
whitespace-trimmed like the environment's policy).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from .i18n import LANGUAGES, LOCALE_DIR

PACKAGE_DIR = Path(__file__).resolve().parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHOD_MAP = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
OPTIONS = {"templates/**.html": {"trimmed": "true", "extensions": "jinja2.ext.i18n"}}


def extracted() -> dict[str, list[str]]:
    """msgid (or (singular, plural)) → where it is used."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        PACKAGE_DIR, METHOD_MAP, options_map=OPTIONS, keywords=KEYWORDS, strip_comment_tags=True
    ):
        if filename.startswith(("tests", "locale")):
            continue
        key = message if isinstance(message, str) else tuple(message)
        if not key or (isinstance(key, tuple) and not key[0]):
            continue
        found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def load(language: str) -> Catalog:
    with po_path(language).open("rb") as fh:
        return read_po(fh, locale=language)


def problems() -> list[str]:
    """Every msgid used in code/templates that a catalogue lacks or leaves untranslated, and every msgid a
    catalogue holds twice (a union merge of two branches: only one translation can be shown)."""
    out = []
    used = extracted()
    for language in LANGUAGES:
        ids = [line for line in po_path(language).read_text(encoding="utf-8").splitlines() if line.startswith("msgid ")]
        out += [
            f"{language}: {line[6:]} appears twice; keep one translation"
            for line in sorted(set(ids))
            if ids.count(line) > 1
        ]
        catalog = load(language)
        for key, places in sorted(used.items(), key=lambda kv: str(kv[0])):
            msgid = key[0] if isinstance(key, tuple) else key
            message = catalog.get(msgid)
            translated = message is not None and (
                all(message.string) if isinstance(message.string, tuple | list) else bool(message.string)
            )
            if not translated:
                out.append(f"{language}: {msgid!r} (used at {places[0]}) has no translation")
    return out


def update() -> int:
    used = extracted()
    added = 0
    for language in LANGUAGES:
        catalog = load(language)
        for key in used:
            msgid = key if isinstance(key, str) else key
            if catalog.get(key[0] if isinstance(key, tuple) else key) is None:
                default = (
                    (key if language == "en" else ("",) * len(key))
                    if isinstance(key, tuple)
                    else (key if language == "en" else "")
                )
                catalog.add(msgid, default)
                added += 1
        with po_path(language).open("wb") as fh:
            write_po(fh, catalog, width=0, sort_output=False, omit_header=False, ignore_obsolete=True)
    return added


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        print(f"added {update()} entries")
        return 0
    issues = problems()
    print("\n".join(issues) or "catalogues complete")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
