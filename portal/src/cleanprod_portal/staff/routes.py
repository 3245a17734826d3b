"""Staff landing page: each role's entry to its screens (officers, reviewers, verifiers, auditors).

`WORKSPACES` is the one list of those entries; a helper adding an audience adds its line here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ..deps import require_role
from ..i18n import N_
from ..sessions import STAFF_ROLES, PortalSession
from ..templating import render

router = APIRouter(prefix="/staff")

# (role, path, title msgid, what it is for msgid): officers → dashboard, reviewers → their queue, …
WORKSPACES: list[tuple[str, str, str, str]] = [
    (
        "officer",
        "/officer",
        N_("Programme officer dashboard"),
        N_("Pipeline, overdue items, budget per call, calls, applications, assignments and the programme's settings."),
    ),
    (
        "reviewer",
        "/review",
        N_("Review queue"),
        N_("The applications assigned to you for review, with their due dates."),
    ),
    (
        "verifier",
        "/verify",
        N_("Verification queue"),
        N_("The verification cases assigned to you: measurements, savings and conclusions."),
    ),
    ("auditor", "/audit", N_("Audit"), N_("Everything read-only: audit search across all records, and exports.")),
    (
        "finance",
        "/payments",
        N_("Payment work list"),
        N_("Tranches to prepare, to mark paid and recoveries to collect; the funding reports of the calls."),
    ),
]


def workspaces_for(user: PortalSession) -> list[tuple[str, str, str, str]]:
    return [entry for entry in WORKSPACES if entry[0] in user.roles]


@router.get("", response_class=HTMLResponse)
async def landing(
    request: Request, user: Annotated[PortalSession, Depends(require_role(*STAFF_ROLES))]
) -> HTMLResponse:
    return render(request, "staff/landing.html", {"workspaces": workspaces_for(user)})
