"""Jinja2 environment (autoescape, gettext, formatting filters) and `render()`, the one way a route answers HTML.

`render()` puts what every page needs in the context: the request, the language, the user (or None), the CSRF
token for forms, the current path (for the language switch and the login link) and `static()` URLs.

Pages are rendered by one environment per language (`page_environments`), which translates every `_("…")` of a
literal without variables once, when it compiles the template, instead of on every render (three nested calls
each; a page has 30–70 of them). Everything else — `_()` of a variable or with variables, `ngettext`, `{% trans %}`
— is translated at render time in the request's language, as `environment` (the plain one, for fragments and
tests) does for all of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import nodes
from jinja2.visitor import NodeTransformer

from . import i18n
from .formatting import FILTERS
from .forms import field_id
from .staff.permissions import can
from .statuses import status_colour, status_label, status_tag_html

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
HTMX_FILE = "vendor/htmx-2.0.11.min.js"


class _TranslateLiterals(NodeTransformer):
    """`_("literal")` / `gettext("literal")` with no variables → its translation, as the newstyle gettext would
    answer it at render time (formatted with no variables, so `%%` is `%`; safe when autoescaping). No template
    names a variable `_` or `gettext`, so these names are always the gettext callables."""

    def __init__(self, language: str) -> None:
        self.language = language

    def visit_Call(self, node: nodes.Call) -> nodes.Node:  # noqa: N802 - the visitor's naming
        node = self.generic_visit(node)
        if not (
            isinstance(node.node, nodes.Name)
            and node.node.name in ("_", "gettext")
            and len(node.args) == 1
            and isinstance(node.args[0], nodes.Const)
            and isinstance(node.args[0].value, str)
            and not node.kwargs
            and node.dyn_args is None
            and node.dyn_kwargs is None
        ):
            return node
        try:
            text = i18n.translations(self.language).gettext(node.args[0].value) % {}
        except (KeyError, TypeError, ValueError):  # a malformed msgstr fails at render time, as it always did
            return node
        return nodes.MarkSafeIfAutoescape(nodes.Const(text, lineno=node.lineno), lineno=node.lineno)


class _Environment(jinja2.Environment):
    """Each template's globals as one flat dict instead of Jinja2's ChainMap over the environment's: every
    `{% import %}` / `{% from … import %}` compares the importing context's globals with the imported template's,
    a set difference that checked each name through the ChainMap — 7–9 % of a page's render (measured on the
    dashboard and the application page). The environment's globals are all set before a template is loaded (as
    Jinja2 asks), so the copy is the same map."""

    def make_globals(self, d: dict[str, Any] | None) -> dict[str, Any]:  # type: ignore[override]
        return {**self.globals, **(d or {})}


class _PageEnvironment(_Environment):
    """The environment of one language: literal translations are part of the compiled templates."""

    language: str = i18n.DEFAULT_LANGUAGE

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        return _TranslateLiterals(self.language).visit(super()._parse(source, name, filename))


def _build_environment(language: str | None = None) -> jinja2.Environment:
    env = (_Environment if language is None else _PageEnvironment)(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,  # a typo in a template is an error in the tests, not a blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks: whitespace collapsed (msgids stay one line)
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(FILTERS)
    env.filters["status_tag"] = status_tag_html  # a filter: called directly, not through the context
    env.globals.update(
        field_id=field_id,
        static=lambda path: f"/static/{path}",
        htmx_file=HTMX_FILE,
        language_names=i18n.LANGUAGE_NAMES,
        languages=i18n.LANGUAGES,
        current_language=i18n.current_language,
        quote=lambda value: quote(str(value), safe=""),
        status_label=status_label,
        status_colour=status_colour,
        can=can,  # staff buttons by role (staff/permissions.py)
    )
    if language is not None:
        env.language = language
    return env


environment = _build_environment()
page_environments = {language: _build_environment(language) for language in i18n.LANGUAGES}


def set_auto_reload(auto_reload: bool) -> None:
    """Templates change only while developing: elsewhere no file is stat'ed on each render."""
    for env in (environment, *page_environments.values()):
        env.auto_reload = auto_reload


def page_context(request: Request) -> dict[str, Any]:
    session = getattr(request.state, "portal_session", None)
    path = request.url.path
    if request.url.query:
        path = f"{path}?{request.url.query}"
    return {
        "request": request,
        "lang": i18n.current_language(),
        "user": session,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "current_path": path,
        "is_htmx": request.headers.get("hx-request") == "true",
    }


def render_text(request: Request, template: str, context: dict[str, Any] | None = None) -> str:
    compiled = page_environments[i18n.current_language()].get_template(template)
    return compiled.render({**page_context(request), **(context or {})})


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return HTMLResponse(
        render_text(request, template, context),
        status_code=status_code,
        headers=headers,
        media_type="text/html; charset=utf-8",
    )


def error_page(request: Request, status: int, template: str, **context: Any) -> HTMLResponse:
    """An error page: also for a request that failed before its session was read (no user, no CSRF token)."""
    if not hasattr(request.state, "csrf_token"):
        request.state.csrf_token = ""
    if not hasattr(request.state, "portal_session"):
        request.state.portal_session = None
    return render(request, template, context, status_code=status)
