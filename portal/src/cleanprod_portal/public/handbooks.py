"""The handbooks library: `/handbooks` (anyone) lists the published cleaner-production handbooks by sector with
their vi/en titles and every version to download; `/handbooks/manage` (officers) creates a handbook and uploads
its next version (PDF). The API decides everything (type by content, size, who may write)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import security, uploads
from ..api import ApiProblem, FieldErrors
from ..deps import ApiClient, require_role
from ..forms import Form
from ..i18n import current_language, gettext
from ..sessions import PortalSession
from ..streaming import streamed
from ..templating import render
from ..uploads import upload_error
from .routes import _sector_names

router = APIRouter(prefix="/handbooks")
Officer = Annotated[PortalSession, Depends(require_role("officer"))]
PASSED_HEADERS = ("content-type", "content-length", "content-disposition", "etag", "repr-digest")


def _by_sector(handbooks: list[dict[str, Any]], names: dict[str, str]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for handbook in handbooks:
        groups.setdefault(handbook["sector_code"], []).append(handbook)
    return sorted(((names.get(code, code), items) for code, items in groups.items()), key=lambda g: g[0])


@router.get("", response_class=HTMLResponse)
async def library(
    request: Request, api: ApiClient, sector: Annotated[str | None, Query(max_length=32)] = None
) -> HTMLResponse:
    handbooks = await api.all_pages("/public/handbooks", sector=sector or None, max_items=1000)
    names = await _sector_names(api)
    return render(
        request,
        "public/handbooks.html",
        {
            "groups": _by_sector(handbooks, names),
            "sector": sector or "",
            "language": current_language(),
            "sector_options": sorted(names.items(), key=lambda item: item[1]),
        },
    )


@router.get("/{handbook_id}/versions/{number}")
async def download(handbook_id: UUID, api: ApiClient, number: int = Path(ge=1, le=1_000_000)) -> Response:
    response = await api.raw("GET", f"/public/handbooks/{handbook_id}/versions/{number}", headers={"Accept": "*/*"})
    return streamed(response, PASSED_HEADERS, default_type="application/pdf", private=False)


async def _manage_page(
    request: Request,
    api: ApiClient,
    form: Form,
    upload_form: Form | None = None,
    upload_for: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    handbooks = await api.all_pages("/handbooks", max_items=1000)
    names = await _sector_names(api)
    return render(
        request,
        "public/handbooks_manage.html",
        {
            "handbooks": handbooks,
            "names": names,
            "form": form,
            "upload_form": upload_form or Form(),
            "upload_for": upload_for,
            "sector_options": sorted(names.items(), key=lambda item: item[1]),
            "created": request.query_params.get("created"),
            "uploaded": request.query_params.get("uploaded"),
        },
        status_code=status_code,
    )


@router.get("/manage", response_class=HTMLResponse)
async def manage(request: Request, user: Officer, api: ApiClient) -> HTMLResponse:
    return await _manage_page(request, api, Form())


@router.post("/manage")
async def create(request: Request, user: Officer, api: ApiClient) -> Response:
    form = Form(await request.form())
    try:
        await api.post(
            "/handbooks", form.data(["sector_code", "title_vi", "title_en"]), idempotency_key=form.idempotency_key
        )
    except FieldErrors as problem:
        form.add_problem(problem)
        return await _manage_page(request, api, form, status_code=422)
    return RedirectResponse("/handbooks/manage?created=1", status_code=303)


@router.post("/manage/{handbook_id}/versions")
@security.checks_csrf_itself
async def upload(request: Request, handbook_id: UUID, user: Officer, api: ApiClient) -> Response:
    """The officer's upload, streamed on as it arrives by the portal's one upload relay (`uploads`)."""
    incoming = await uploads.receive(request, user.csrf_token)
    upload_form = Form()
    if not incoming.has_file:
        upload_form.add_error("file", gettext("Choose the PDF file of the handbook."))
        return await _manage_page(request, api, Form(), upload_form, str(handbook_id), status_code=422)
    try:
        await incoming.send(api, f"/handbooks/{handbook_id}/versions", {})
    except ApiProblem as problem:
        if problem.status not in (400, 413, 415, 422):
            raise
        message = gettext("The handbook must be a PDF file.") if problem.status == 415 else upload_error(problem)
        upload_form.add_error("file", message)
        return await _manage_page(request, api, Form(), upload_form, str(handbook_id), status_code=422)
    return RedirectResponse(f"/handbooks/manage?uploaded={handbook_id}", status_code=303)
