"""Public pages (no login): the programme, open calls and a call's rules, and the dossier look-up."""

from __future__ import annotations

import re
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ..api import NotFound
from ..deps import ApiClient
from ..i18n import _
from ..templating import render

router = APIRouter()

# Circular 01/2018/TT-VPCP art. 19: <agency e-identifier>-<YYMMDD>-<4-digit sequence>, e.g. 000.00.01.H26-261128-0001
DOSSIER_CODE_RE = re.compile(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}-[0-9]{6}-[0-9]{4}")
CALLS_PER_PAGE = 20


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return render(request, "public/home.html")


async def _sector_names(api: ApiClient) -> dict[str, str]:
    """code → name in the user's language (the public sector list)."""
    from ..i18n import current_language

    key = "name_en" if current_language() == "en" else "name_vi"
    return {s["code"]: s.get(key) or s.get("name_vi") or s["code"] for s in await api.all_pages("/public/sectors")}


@router.get("/calls", response_class=HTMLResponse)
async def calls(
    request: Request, api: ApiClient, cursor: Annotated[str | None, Query(max_length=500)] = None
) -> HTMLResponse:
    page = await api.get("/public/calls", limit=CALLS_PER_PAGE, cursor=cursor)
    return render(
        request, "public/calls.html", {"calls": page.get("items", []), "next_cursor": page.get("next_cursor")}
    )


@router.get("/calls/{call_id}", response_class=HTMLResponse)
async def call_detail(request: Request, call_id: UUID, api: ApiClient) -> HTMLResponse:
    call = await api.get(f"/public/calls/{call_id}")
    sectors = await _sector_names(api)
    return render(request, "public/call_detail.html", {"call": call, "sector_names": sectors})


@router.get("/dossiers", response_class=HTMLResponse)
async def dossier_lookup(
    request: Request, api: ApiClient, code: Annotated[str | None, Query(max_length=200)] = None
) -> HTMLResponse:
    """'Tra cứu hồ sơ': a plain GET form (bookmarkable, no CSRF needed); status and dates only."""
    from ..forms import Form

    form = Form({"code": code} if code is not None else None)
    dossier = None
    status_code = 200
    if code is not None:
        value = code.strip().upper()
        form.values["code"] = value
        if not value:
            form.add_error("code", _("Enter the dossier code."))
        elif not DOSSIER_CODE_RE.fullmatch(value):
            form.add_error(
                "code", _("Enter the dossier code as printed on your receipt, for example 000.00.01.H26-261128-0001.")
            )
        else:
            try:
                dossier = await api.get(f"/public/dossiers/{value}")
            except NotFound:
                form.add_error("code", _("No dossier has this code. Check it and try again."))
        if form.has_errors:
            form.summary = None
            status_code = 404 if form.errors.get("code") and DOSSIER_CODE_RE.fullmatch(value) else 422
    return render(request, "public/dossier_lookup.html", {"form": form, "dossier": dossier}, status_code=status_code)
