"""The enterprise's pages. This release: the dashboard (applications with their status) and the navigation
the other enterprise pages (facilities, baselines, applications, profile) plug into — see docs/portal.md."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..deps import ApiClient, Enterprise
from ..i18n import N_
from ..templating import render

router = APIRouter(prefix="/enterprise")

# The enterprise navigation: (path, label msgid). Pages added later append here (and their templates use the
# same `enterprise/_layout.html`), so the menu is one list.
NAVIGATION: list[tuple[str, str]] = [
    ("/enterprise", N_("Overview")),
    ("/enterprise/applications", N_("Applications")),
    ("/enterprise/facilities", N_("Facilities")),
    ("/enterprise/baselines", N_("Baselines")),
    ("/enterprise/profile", N_("Enterprise profile")),
]

# Which statuses need the enterprise to act, and what to tell it (dashboard "what needs doing").
TODO_STATUSES = {
    "draft": N_("Finish and submit this draft"),
    "changes_requested": N_("The Department asked for changes: edit and resubmit"),
    "in_progress": N_("Report completion when the project is finished"),
}


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, user: Enterprise, api: ApiClient) -> HTMLResponse:
    # The API shows an enterprise only its own records: its enterprise and its applications.
    applications, enterprises = await asyncio.gather(api.all_pages("/applications", max_items=1000),
                                                     api.get("/enterprises", limit=1))
    todo = [(a, TODO_STATUSES[a["status"]]) for a in applications if a["status"] in TODO_STATUSES]
    enterprise = (enterprises.get("items") or [None])[0]
    return render(request, "enterprise/dashboard.html", {
        "applications": applications, "todo": todo, "enterprise": enterprise, "navigation": NAVIGATION,
        "active": "/enterprise"})
