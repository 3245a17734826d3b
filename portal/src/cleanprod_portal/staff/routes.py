"""Staff landing page (officers, reviewers, verifiers, auditors). Their screens come with "Web portal II"."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..deps import User
from ..templating import render

router = APIRouter(prefix="/staff")


@router.get("", response_class=HTMLResponse)
async def landing(request: Request, user: User) -> HTMLResponse:
    return render(request, "staff/landing.html")
