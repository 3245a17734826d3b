"""Jinja2 environment (autoescape, gettext, formatting filters) and `render()`, the one way a route answers HTML.

`render()` puts what every page needs in the context: the request, the language, the user (or None), the CSRF
token for forms, the current path (for the language switch and the login link) and `static()` URLs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from . import i18n
from .formatting import FILTERS
from .forms import field_id
from .staff.permissions import can
from .statuses import status_colour, status_label, status_tag_html

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
HTMX_FILE = "vendor/htmx-2.0.11.min.js"


def _build_environment() -> jinja2.Environment:
    env = jinja2.Environment(
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
    return env


environment = _build_environment()


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
    return environment.get_template(template).render({**page_context(request), **(context or {})})


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
