"""Staff landing page (officers, reviewers, verifiers, auditors). Their screens come with "Web portal II"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ..deps import require_role
from ..sessions import STAFF_ROLES, PortalSession
from ..templating import render

router = APIRouter(prefix="/staff")


@router.get("", response_class=HTMLResponse)
async def landing(request: Request, user: Annotated[PortalSession, Depends(require_role(*STAFF_ROLES))]
                  ) -> HTMLResponse:
    return render(request, "staff/landing.html")
