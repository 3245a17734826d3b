"""The officer's applications list: filters kept in the URL (a GET form), cursor paging, CSV/XLSX export of the same
filtered list (the API's `/applications/export` streamed through), and bulk assignment of reviewers (the API's
`/applications/bulk-assignments`, one result per application × reviewer)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ..api import FieldErrors
from ..deps import ApiClient
from ..forms import Form
from ..i18n import _
from ..statuses import APPLICATION_STATUSES, status_label
from ..streaming import pass_on
from ..templating import render
from .routes import Officer, OfficerReader, context
from .staff import sector_names, staff_members

router = APIRouter(prefix="/officer/applications")
ACTIVE = "/officer/applications"
FILTERS = ("status", "call_id", "sector_code", "ward", "district", "dossier_code", "q")
PAGE_SIZE = 50


def filters_of(values: Any) -> dict[str, str]:
    """The list's filters as the URL (and the API) take them; empty ones left out."""
    return {name: str(values.get(name)).strip() for name in FILTERS if str(values.get(name) or "").strip()}


async def _choices(api: Any) -> dict[str, Any]:
    calls = await api.all_pages("/calls")
    return {
        "statuses": [(s, status_label(s)) for s in APPLICATION_STATUSES],
        "calls": [(c["id"], f"{c['code']} – {c['title']}") for c in calls],
        "sectors": list((names := await sector_names(api)).items()),
        "sector_name": names,
    }


async def _list_page(
    request: Request,
    user: Any,
    api: Any,
    *,
    results: list[dict] | None = None,
    form: Form | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    filters = filters_of(request.query_params)
    cursor = request.query_params.get("cursor") or None
    form_filters = Form(filters)
    problem = None
    try:
        page = await api.get("/applications", limit=PAGE_SIZE, cursor=cursor, **filters)
    except FieldErrors as exc:  # a filter the API refuses (e.g. a malformed call id): said next to the filter
        form_filters.add_problem(exc)
        page, problem = {"items": [], "next_cursor": None}, exc
    applications = page.get("items", [])
    next_url = None
    if page.get("next_cursor"):
        next_url = f"{ACTIVE}?{urlencode({**filters, 'cursor': page['next_cursor']})}"
    query = urlencode(filters)
    reviewers = await staff_members(api, "reviewer") if user and "officer" in user.roles else []
    return render(
        request,
        "officer/applications.html",
        context(
            ACTIVE,
            applications=applications,
            filters=form_filters,
            next_url=next_url,
            problem=problem,
            export_csv=f"{ACTIVE}/export?{urlencode({**filters, 'format': 'csv'})}",
            export_xlsx=f"{ACTIVE}/export?{urlencode({**filters, 'format': 'xlsx'})}",
            tranches_csv=f"{ACTIVE}/tranches-export?{urlencode({**filters, 'format': 'csv'})}",
            tranches_xlsx=f"{ACTIVE}/tranches-export?{urlencode({**filters, 'format': 'xlsx'})}",
            query=query,
            reviewers=reviewers,
            results=results,
            labels={a["id"]: a.get("dossier_code") or a.get("title") or a["id"][:8] for a in applications},
            form=form or Form(),
            **await _choices(api),
        ),
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
async def application_list(request: Request, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    return await _list_page(request, user, api)


@router.get("/export")
async def export(request: Request, user: OfficerReader, api: ApiClient) -> Response:
    fmt = "xlsx" if request.query_params.get("format") == "xlsx" else "csv"
    return await pass_on(api, "/applications/export", {**filters_of(request.query_params), "format": fmt})


@router.get("/tranches-export")
async def export_tranches(request: Request, user: OfficerReader, api: ApiClient) -> Response:
    """The payment tranches of the applications the same filters select (the API's `/applications/tranches/export`)."""
    fmt = "xlsx" if request.query_params.get("format") == "xlsx" else "csv"
    return await pass_on(api, "/applications/tranches/export", {**filters_of(request.query_params), "format": fmt})


@router.post("/assign", response_class=HTMLResponse)
async def bulk_assign(request: Request, user: Officer, api: ApiClient) -> HTMLResponse:
    """Every chosen application × every chosen reviewer, in one request; the answer lists each item's result."""
    submitted = await request.form()
    form = Form(submitted)
    application_ids = [v for v in submitted.getlist("application_id") if v]
    reviewer_values = [v for v in submitted.getlist("reviewer") if v]
    if not application_ids:
        form.add_error("application_id", _("Choose at least one application."))
    if not reviewer_values:
        form.add_error("reviewer", _("Choose at least one reviewer."))
    if form.has_errors:
        return await _list_page(request, user, api, form=form, status_code=422)
    reviewers = {m["user_id"]: m for m in await staff_members(api, "reviewer")}
    items = []
    for application_id in application_ids:
        for subject in reviewer_values:
            member = reviewers.get(subject)
            if member is None:
                form.add_error("reviewer", _("Choose reviewers from the list."))
                return await _list_page(request, user, api, form=form, status_code=422)
            items.append(
                {"application_id": application_id, "reviewer_subject": subject, "reviewer_username": member["username"]}
            )
    try:
        answer = (
            await api.post(
                "/applications/bulk-assignments", {"assignments": items}, idempotency_key=form.idempotency_key
            )
        ).data
    except FieldErrors as exc:
        form.add_problem(exc)
        return await _list_page(request, user, api, form=form, status_code=422)
    results = []
    for result in answer["results"]:
        item = items[result["index"]]
        member = reviewers[item["reviewer_subject"]]
        problem = result.get("problem") or {}
        results.append(
            {
                "application_id": item["application_id"],
                "reviewer": member["full_name"],
                "ok": result["status"] < 300,
                "status": result["status"],
                "reason": problem.get("detail") or problem.get("title") or "",
            }
        )
    return await _list_page(request, user, api, results=results, form=Form())
