"""Every message the templates and the code use is in both catalogues, translated (Babel's extractor)."""

from __future__ import annotations

from cleanprod_portal import catalogues, i18n


def test_every_msgid_is_translated_in_vi_and_en() -> None:
    used = catalogues.extracted()
    assert len(used) > 100  # the extractor really read the templates and the code
    assert "Look up a dossier" in used and "Draft" in used  # a template string and an N_() in Python
    assert catalogues.problems() == []


def test_vietnamese_catalogue_is_vietnamese() -> None:
    i18n.set_language("vi")
    assert i18n.gettext("Look up a dossier") == "Tra cứu hồ sơ"
    assert i18n.gettext("Hanoi Department of Industry and Trade") == "Sở Công Thương Hà Nội"
    i18n.set_language("en")
    assert i18n.gettext("Look up a dossier") == "Look up a dossier"
    i18n.set_language("vi")


def test_language_codes_are_normalised() -> None:
    assert i18n.normalise("vi-VN") == "vi" and i18n.normalise("EN") == "en"
    assert i18n.normalise("fr") is None and i18n.normalise("") is None
