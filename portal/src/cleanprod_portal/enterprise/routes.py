"""The enterprise's pages: the dashboard ("what needs doing" and the applications with their status) and the
navigation the other enterprise pages plug into (profile.py, facilities.py, baselines.py) — see docs/portal.md."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..deps import ApiClient, Enterprise, reads_only
from ..i18n import N_
from ..templating import render

router = APIRouter(prefix="/enterprise")
APPLICATION_SUMMARIES = "/applications/summaries"
"""The applications list as summary lines: id, status, dossier code, facility, title, requested support, open
supplement request and missing fields — all the dashboard and the applications table show."""

# The enterprise navigation: (path, label msgid). Pages added later append here (and their templates use the
# same `enterprise/_layout.html`), so the menu is one list.
NAVIGATION: list[tuple[str, str]] = [
    ("/enterprise", N_("Overview")),
    ("/enterprise/applications", N_("Applications")),
    ("/enterprise/facilities", N_("Facilities")),
    ("/enterprise/baselines", N_("Baselines")),
    ("/enterprise/profile", N_("Enterprise profile")),
]


def workspace_page(
    request: Request, template: str, active: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A page of the enterprise's workspace: its menu, with `active` (a menu path) marked."""
    return render(request, template, {"navigation": NAVIGATION, "active": active, **context}, status_code=status_code)


# "What needs doing" on the dashboard: (key, heading msgid, what to tell the enterprise msgid), derived from the
# applications the API returns — their status and, where the API gives it, `missing_fields`.
TODO_GROUPS: list[tuple[str, str, str]] = [
    ("supplement", N_("Supplement requested"), N_("The Department asks for more: answer each item")),
    ("drafts", N_("Drafts to finish"), N_("Finish and submit this draft")),
    ("changes_requested", N_("Changes requested"), N_("The Department asked for changes: edit and resubmit")),
    ("documents_missing", N_("Documents missing"), N_("Upload the documents the application still needs")),
    ("completion", N_("Completion to report"), N_("Report completion when the project is finished")),
]
TODO_STATUSES = {"draft": "drafts", "changes_requested": "changes_requested", "in_progress": "completion"}
# A dashboard is a summary: the newest applications and the newest few of each to-do group, each with its count and
# a link to the whole list (an enterprise with hundreds of dossiers got a page of hundreds of rows, issue 13).
DASHBOARD_APPLICATIONS = 10
TODO_SHOWN = 5


def _missing_documents(application: dict) -> bool:
    return any(str(name).split(".", 1)[0] == "documents" for name in application.get("missing_fields") or [])


def what_needs_doing(applications: list[dict]) -> list[dict]:
    """The non-empty groups, in TODO_GROUPS order, each with its applications (one may be in two groups)."""
    grouped: dict[str, list[dict]] = {key: [] for key, _heading, _what in TODO_GROUPS}
    for application in applications:
        group = TODO_STATUSES.get(application["status"])
        if group:
            grouped[group].append(application)
        if application.get("open_supplement_id"):
            grouped["supplement"].append(application)
        if application["status"] in ("draft", "changes_requested") and _missing_documents(application):
            grouped["documents_missing"].append(application)
    return [
        {
            "key": key,
            "heading": heading,
            "what": what,
            "count": len(grouped[key]),
            "applications": grouped[key][-TODO_SHOWN:][::-1],  # the newest first, as in the table below
        }
        for key, heading, what in TODO_GROUPS
        if grouped[key]
    ]


@router.get("", response_class=HTMLResponse)
@reads_only
async def dashboard(request: Request, user: Enterprise, api: ApiClient) -> HTMLResponse:
    # The API shows an enterprise only its own records: its enterprise, its facilities, its applications.
    applications, enterprises, facilities = await asyncio.gather(
        # Summary lines (what the table and "what needs doing" read): about a sixth of the full objects' bytes.
        api.all_pages(APPLICATION_SUMMARIES, max_items=1000),
        api.get("/enterprises", tax_code=user.tax_code, limit=1),  # its own record, not one of its branch units
        api.get("/facilities", limit=1),
    )
    enterprise = (enterprises.get("items") or [None])[0]
    return render(
        request,
        "enterprise/dashboard.html",
        {
            "applications": applications[-DASHBOARD_APPLICATIONS:][::-1],  # the newest first
            "application_count": len(applications),
            "todo": what_needs_doing(applications),
            "enterprise": enterprise,
            "has_facility": bool(facilities.get("items")),
            "navigation": NAVIGATION,
            "active": "/enterprise",
        },
    )
