"""Showcase projects: the public list (`/showcase`, anyone) of verified projects their enterprises consented to
show, and the enterprise's consent page for one of its verified applications
(`/enterprise/applications/{id}/showcase`, give or withdraw; If-Match = the consent's own version)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import ChangedMeanwhile, Conflict
from ..deps import ApiClient, Enterprise
from ..enterprise.routes import NAVIGATION
from ..forms import Form
from ..templating import render
from .routes import _sector_names

router = APIRouter()
PER_PAGE = 20


@router.get("/showcase", response_class=HTMLResponse)
async def showcase(
    request: Request,
    api: ApiClient,
    sector: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=600)] = None,
) -> HTMLResponse:
    page = await api.get("/public/showcase", sector=sector or None, limit=PER_PAGE, cursor=cursor)
    names = await _sector_names(api)
    return render(
        request,
        "public/showcase.html",
        {
            "projects": page.get("items", []),
            "next_cursor": page.get("next_cursor"),
            "names": names,
            "sector": sector or "",
            "sector_options": sorted(names.items(), key=lambda item: item[1]),
        },
    )


async def _consent_page(
    request: Request, api: ApiClient, application_id: UUID, form: Form, status_code: int = 200
) -> HTMLResponse:
    application = await api.get(f"/applications/{application_id}")
    consent = await api.get_with_etag(f"/applications/{application_id}/showcase-consent")
    form.values.setdefault("etag", consent.etag or "")
    return render(
        request,
        "enterprise/applications/showcase_consent.html",
        {
            "navigation": NAVIGATION,
            "active": "/enterprise/applications",
            "application": application,
            "consent": consent.data,
            "form": form,
        },
        status_code=status_code,
    )


@router.get("/enterprise/applications/{application_id}/showcase", response_class=HTMLResponse)
async def consent_page(request: Request, application_id: UUID, user: Enterprise, api: ApiClient) -> HTMLResponse:
    return await _consent_page(request, api, application_id, Form())


@router.post("/enterprise/applications/{application_id}/showcase")
async def change_consent(request: Request, application_id: UUID, user: Enterprise, api: ApiClient) -> Response:
    form = Form(await request.form())
    given = form.get("given") == "true"
    try:
        await api.post(
            f"/applications/{application_id}/showcase-consent", {"given": given}, if_match=form.get("etag") or None
        )
    except ChangedMeanwhile:
        form = Form()
        form.changed_meanwhile = True  # the current answer is shown again with its current version
        return await _consent_page(request, api, application_id, form, status_code=409)
    except Conflict as problem:
        form = Form()
        form.summary = problem.summary
        return await _consent_page(request, api, application_id, form, status_code=409)
    return RedirectResponse(f"/enterprise/applications/{application_id}/showcase?saved=1", status_code=303)
