"""Pages render through one environment per language that translates literal `_("…")` calls when it compiles a
template: the same HTML as translating them on every render (the plain `environment`)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cleanprod_portal import i18n
from cleanprod_portal.templating import TEMPLATE_DIR, environment, page_environments

SOURCE = (
    '{{ _("Log in") }}|{{ _("The claimed overall saving must be more than 0 %%.") }}|{{ _("Log in") ~ "<b>" }}|'
    '{{ _("Welcome, %(name)s", name="<i>An</i>") }}|{{ _(label) }}|{{ gettext("Log out") }}|'
    '{{ ngettext("%(num)s answer still missing", "%(num)s answers still missing", 2) }}|'
    "{% trans %}Log in{% endtrans %}"
)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_literal_translations_compiled_in_render_as_translated_on_each_render(language: str) -> None:
    i18n.set_language(language)
    try:
        plain = environment.from_string(SOURCE).render(label="Log out")
        compiled = page_environments[language].from_string(SOURCE).render(label="Log out")
    finally:
        i18n.set_language(i18n.DEFAULT_LANGUAGE)
    assert compiled == plain
    parts = compiled.split("|")
    assert parts[0] == i18n.translations(language).gettext("Log in") and parts[1].endswith(" 0 %.")  # %% is %
    assert parts[2].endswith("&lt;b&gt;")  # the translation is safe markup; what is joined to it is escaped
    assert "&lt;i&gt;An&lt;/i&gt;" in parts[3]  # variables: at render time, escaped
    if language == "vi":
        assert parts[0] == "Đăng nhập" and parts[4] == "Đăng xuất" and parts[6] == "Còn thiếu 2 mục"


def test_a_literal_is_compiled_in_not_looked_up_again() -> None:
    template = page_environments["en"].from_string('{{ _("Log in") }}')
    i18n.set_language("vi")  # a page environment is used only for its own language (templating.render_text)
    try:
        assert template.render() == "Log in"
        assert environment.from_string('{{ _("Log in") }}').render() == "Đăng nhập"
    finally:
        i18n.set_language(i18n.DEFAULT_LANGUAGE)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_template_compiles_and_a_page_renders_the_same_both_ways(language: str) -> None:
    names = [path.relative_to(TEMPLATE_DIR).as_posix() for path in TEMPLATE_DIR.rglob("*.html")]
    assert len(names) > 100
    for name in names:
        page_environments[language].get_template(name)  # no literal breaks the compilation
    context = {
        "request": SimpleNamespace(query_params={}),
        "lang": language,
        "user": None,
        "csrf_token": "tok",
        "current_path": "/x?y=1",
        "is_htmx": False,
    }
    i18n.set_language(language)
    try:
        for name in ("errors/404.html", "errors/csrf.html", "errors/unavailable.html"):
            assert page_environments[language].get_template(name).render(context) == environment.get_template(
                name
            ).render(context)
    finally:
        i18n.set_language(i18n.DEFAULT_LANGUAGE)
