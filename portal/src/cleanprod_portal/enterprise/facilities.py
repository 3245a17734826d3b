"""The enterprise's facilities: list (empty state says what to do), add, edit (PATCH with If-Match), and the
facility page with its baseline grid. Another enterprise's facility is a 404 from the API, so a 404 page here."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import ChangedMeanwhile, FieldErrors
from ..deps import ApiClient, Enterprise
from ..forms import Form
from ..i18n import gettext
from . import registry
from .baselines import baseline_grid_context
from .numbers import NotANumber, parse_number, plain_number
from .routes import workspace_page

router = APIRouter(prefix="/enterprise/facilities")

TEXT_FIELDS = ("name", "sector_code", "capacity_unit", "address", "ward", "district")
NUMBER_FIELDS = ("capacity_quantity", "latitude", "longitude")
REQUIRED = ("name", "sector_code", "address", "ward")  # sent as "" when blank, so the API names them


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return workspace_page(request, template, "/enterprise/facilities", context, status_code)


def _facility_body(form: Form) -> dict[str, Any] | None:
    """The API body from the form, or None after adding the errors of values that are not numbers."""
    body: dict[str, Any] = form.data(TEXT_FIELDS)
    for name in REQUIRED:
        if body[name] is None:
            body[name] = ""
    products = str(form.get("products") or "")
    body["products"] = [line.strip() for line in products.splitlines() if line.strip()]
    for name in NUMBER_FIELDS:
        try:
            body[name] = parse_number(str(form.get(name) or ""))
        except NotANumber:
            form.add_error(name, gettext("Enter a number, for example 1.250,5"))
    if form.errors:
        form.summary = gettext("Check the values marked below.")
        return None
    return body


# The API names a bad product by its index; the form has one textarea for all of them.
PRODUCT_ERRORS = {f"products.{i}": "products" for i in range(50)}


async def _form_context(api: ApiClient, user: Enterprise) -> dict[str, Any]:
    units = await registry.enterprise_units(api)
    return {
        "sector_options": registry.sector_options(await registry.sectors(api)),
        "units": [(u["id"], f"{u['name']} ({u['tax_code']})") for u in units],
        "own": registry.own_record(user, units),
        "statuses": registry.choices(registry.FACILITY_STATUSES),
    }


def facility_form_values(facility: dict[str, Any]) -> dict[str, Any]:
    values = {name: facility.get(name) or "" for name in TEXT_FIELDS}
    values.update({name: plain_number(facility.get(name)) for name in NUMBER_FIELDS})
    values["products"] = "\n".join(facility.get("products") or [])
    values["status"] = facility.get("status") or "active"
    values["version"] = facility["version"]
    return values


@router.get("", response_class=HTMLResponse)
async def list_facilities(request: Request, user: Enterprise, api: ApiClient) -> HTMLResponse:
    facilities = await api.all_pages("/facilities", max_items=1000)
    names = {s["code"]: registry.sector_name(s) for s in await registry.sectors(api)}
    return _page(
        request,
        "enterprise/facilities.html",
        {"facilities": facilities, "sector_names": names, "statuses": registry.FACILITY_STATUSES},
    )


@router.get("/new", response_class=HTMLResponse)
async def new_facility_form(request: Request, user: Enterprise, api: ApiClient) -> HTMLResponse:
    context = await _form_context(api, user)
    own = context["own"]
    form = Form({"enterprise_id": own["id"] if own else "", "district": (own or {}).get("district") or ""})
    return _page(request, "enterprise/facility_form.html", {"form": form, "facility": None, **context})


@router.post("/new", response_class=HTMLResponse)
async def add_facility(request: Request, user: Enterprise, api: ApiClient) -> Response:
    form = Form(await request.form())
    context = await _form_context(api, user)
    body = _facility_body(form)
    unit_ids = [unit_id for unit_id, _label in context["units"]]
    enterprise_id = str(form.get("enterprise_id") or (context["own"] or {}).get("id") or "")
    if enterprise_id not in unit_ids:
        form.add_error("enterprise_id", gettext("Choose the unit that runs this facility"))
        body = None
    if body is None:
        return _page(request, "enterprise/facility_form.html", {"form": form, "facility": None, **context}, 422)
    try:
        created = await api.post(f"/enterprises/{enterprise_id}/facilities", body, idempotency_key=form.idempotency_key)
    except FieldErrors as exc:
        form.summary = gettext("Check the values marked below.")
        form.add_problem(exc, PRODUCT_ERRORS)
        return _page(request, "enterprise/facility_form.html", {"form": form, "facility": None, **context}, 422)
    return RedirectResponse(f"/enterprise/facilities/{created.data['id']}?added=1", status_code=303)


async def _facility(api: ApiClient, facility_id: uuid.UUID) -> dict[str, Any]:
    return await api.get(f"/facilities/{facility_id}")


@router.get("/{facility_id}", response_class=HTMLResponse)
async def view_facility(request: Request, facility_id: uuid.UUID, user: Enterprise, api: ApiClient) -> HTMLResponse:
    facility = await _facility(api, facility_id)
    names = {s["code"]: registry.sector_name(s) for s in await registry.sectors(api)}
    grid = await baseline_grid_context(api, facility)
    return _page(
        request,
        "enterprise/facility.html",
        {
            "facility": facility,
            "sector_name": names.get(facility["sector_code"], facility["sector_code"]),
            "status_name": registry.label(registry.FACILITY_STATUSES, facility["status"]),
            **grid,
        },
    )


@router.get("/{facility_id}/edit", response_class=HTMLResponse)
async def edit_facility_form(
    request: Request, facility_id: uuid.UUID, user: Enterprise, api: ApiClient
) -> HTMLResponse:
    facility = await _facility(api, facility_id)
    context = await _form_context(api, user)
    return _page(
        request,
        "enterprise/facility_form.html",
        {"form": Form(facility_form_values(facility)), "facility": facility, **context},
    )


@router.post("/{facility_id}/edit", response_class=HTMLResponse)
async def save_facility(request: Request, facility_id: uuid.UUID, user: Enterprise, api: ApiClient) -> Response:
    facility = await _facility(api, facility_id)
    form = Form(await request.form())
    context = await _form_context(api, user)
    body = _facility_body(form)
    if body is not None:
        status = str(form.get("status") or "").strip()
        if status:
            body["status"] = status
        try:
            await api.patch(f"/facilities/{facility['id']}", body, if_match=registry.if_match(form.get("version")))
            return RedirectResponse(f"/enterprise/facilities/{facility['id']}?saved=1", status_code=303)
        except FieldErrors as exc:
            form.summary = gettext("Check the values marked below.")
            form.add_problem(exc, PRODUCT_ERRORS)
        except ChangedMeanwhile:
            form.changed_meanwhile = True
            form.values["version"] = facility["version"]  # review, then save against the record as it is now
            return _page(request, "enterprise/facility_form.html", {"form": form, "facility": facility, **context}, 412)
    return _page(request, "enterprise/facility_form.html", {"form": form, "facility": facility, **context}, 422)
