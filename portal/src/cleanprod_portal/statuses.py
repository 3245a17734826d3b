"""Names and tag colours of the application statuses (DESIGN.md lifecycle), for `_status_tag.html`."""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup, escape

from .i18n import N_, current_language, gettext

# status → (label msgid, tag colour class)
APPLICATION_STATUSES: dict[str, tuple[str, str]] = {
    "draft": (N_("Draft"), "grey"),
    "submitted": (N_("Submitted"), "blue"),
    "under_review": (N_("Under review"), "blue"),
    "changes_requested": (N_("Changes requested"), "orange"),
    "approved": (N_("Approved"), "green"),
    "rejected": (N_("Rejected"), "red"),
    "in_progress": (N_("In progress"), "purple"),
    "completed": (N_("Completed"), "turquoise"),
    "verified": (N_("Savings verified"), "green"),
    "not_achieved": (N_("Savings not achieved"), "red"),
    "withdrawn": (N_("Withdrawn"), "grey"),
    "ineligible": (N_("Ineligible"), "red"),
}


def status_label(status: str | None) -> str:
    entry = APPLICATION_STATUSES.get(status or "")
    return gettext(entry[0]) if entry else (status or "")


def status_colour(status: str | None) -> str:
    entry = APPLICATION_STATUSES.get(status or "")
    return entry[1] if entry else "grey"


def status_tag_html(status: str | None) -> Markup:
    """The coloured tag `_status_tag.html` shows; in Python and built once per status and language because a
    list page shows one per row (a Jinja macro call per row was a large share of the dashboard's rendering)."""
    return _status_tag(status, current_language())


@lru_cache(maxsize=256)
def _status_tag(status: str | None, language: str) -> Markup:  # `language`: the cache key (gettext reads it)
    return Markup(f'<strong class="tag tag--{escape(status_colour(status))}">{escape(status_label(status))}</strong>')
