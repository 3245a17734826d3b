"""A call's money: its support types, its funding sources (nguồn kinh phí) with what each has committed, paid,
cancelled and recovered (the API's `GET /calls/{id}/funding`), and a further source added by an officer (If-Match =
the call's version; the budget grows by the source's amount) or a source changed (name, amount, conditions; the
budget moves by the difference, never below what the source committed). Officers, auditors and finance staff read
the page; only officers get the forms. The support types are chosen when the call is opened (the call editor); the API does
not change them afterwards (applications already filed name one of them)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import ChangedMeanwhile, Conflict, FieldErrors, NotFound
from ..deps import ApiClient, require_role
from ..enterprise.application_inputs import parse_vnd, vnd_input
from ..enterprise.registry import if_match
from ..forms import Form
from ..i18n import N_, _
from ..payments.routes import FINANCE_NAVIGATION
from ..sessions import PortalSession
from ..templating import render
from .routes import Officer, context

router = APIRouter(prefix="/officer/calls")
MoneyReader = Annotated[PortalSession, Depends(require_role("officer", "auditor", "finance"))]

SUPPORT_TYPES: dict[str, str] = {
    "cp_assessment": N_("Cleaner-production assessment"),
    "technology_transfer": N_("Technology transfer and equipment"),
    "replication": N_("Replication of a proven model"),
}
SOURCE_KINDS: dict[str, str] = {
    "city_budget": N_("City budget"),
    "domestic_donor": N_("Domestic donor"),
    "foreign_donor": N_("Foreign donor"),
}
# the figures of the report, in the order of the table: (key, column heading msgid)
FIGURES: list[tuple[str, str]] = [
    ("awarded_vnd", N_("Awarded")),
    ("committed_vnd", N_("Committed")),
    ("paid_vnd", N_("Paid")),
    ("outstanding_vnd", N_("Still to pay")),
    ("cancelled_vnd", N_("Cancelled")),
    ("recovery_raised_vnd", N_("Recovery raised")),
    ("recovered_vnd", N_("Recovered so far")),
]
SOURCE_FIELDS = ("code", "name", "kind", "amount_vnd", "conditions")


def navigation_for(user: PortalSession) -> tuple[list[tuple[str, str]], str]:
    """Finance staff reach this page from the payments menu; officers and auditors from the calls."""
    if {"officer", "auditor"} & set(user.roles):
        return context("/officer/calls")["navigation"], "/officer/calls"
    return FINANCE_NAVIGATION, "/payments/calls"


async def _page(
    request: Request, api: Any, user: PortalSession, call_id: UUID, *, form: Form | None = None, status_code: int = 200
) -> HTMLResponse:
    call = await api.get(f"/calls/{call_id}")
    report = await api.get(f"/calls/{call_id}/funding")
    navigation, active = navigation_for(user)
    form = form or Form({"kind": "foreign_donor"})
    form.values["version"] = str(call["version"])  # a retry after a 412 adds to the call as it is now
    chosen = form.get("support_types", [])
    return render(
        request,
        "officer/call_funding.html",
        {
            "navigation": navigation,
            "active": active,
            "call": call,
            "report": report,
            "figures": FIGURES,
            "support_types": SUPPORT_TYPES,
            "source_kinds": SOURCE_KINDS,
            "kind_options": [(k, _(v)) for k, v in SOURCE_KINDS.items()],
            "chosen_types": [chosen] if isinstance(chosen, str) else list(chosen),
            "form": form,
            "added": request.query_params.get("added"),
            "changed": request.query_params.get("changed"),
        },
        status_code=status_code,
    )


@router.get("/{call_id}/funding", response_class=HTMLResponse)
async def funding(request: Request, call_id: UUID, user: MoneyReader, api: ApiClient) -> HTMLResponse:
    return await _page(request, api, user, call_id)


@router.post("/{call_id}/funding-sources", response_class=HTMLResponse)
async def add_source(request: Request, call_id: UUID, user: Officer, api: ApiClient) -> Response:
    submitted = await request.form()
    form = Form(submitted)
    form.values["support_types"] = submitted.getlist("support_types")
    body: dict[str, Any] = form.data(["code", "name", "kind", "conditions"])
    body["amount_vnd"] = parse_vnd(form, "amount_vnd")
    body["support_types"] = list(form.values["support_types"])
    for name, message in (
        ("code", _("Enter the source's code, like donor-unido")),
        ("name", _("Enter the source's name")),
        ("amount_vnd", _("Enter the source's amount in đồng")),
    ):
        if not str(form.get(name) or "").strip():
            form.add_error(name, message)
    if form.has_errors:
        return await _page(request, api, user, call_id, form=form, status_code=422)
    try:
        await api.post(
            f"/calls/{call_id}/funding-sources",
            {k: v for k, v in body.items() if v is not None},
            if_match=if_match(form.get("version")),
            idempotency_key=form.idempotency_key,
        )
    except FieldErrors as problem:
        form.add_problem(problem)
        return await _page(request, api, user, call_id, form=form, status_code=422)
    except Conflict as problem:
        form.add_problem(problem)
        return await _page(request, api, user, call_id, form=form, status_code=409)
    except ChangedMeanwhile:
        form.changed_meanwhile = True
        return await _page(request, api, user, call_id, form=form, status_code=409)
    return RedirectResponse(f"/officer/calls/{call_id}/funding?added={body['code']}", status_code=303)


async def _edit_page(
    request: Request, api: Any, user: PortalSession, call_id: UUID, source_id: UUID, form: Form | None, status: int
) -> HTMLResponse:
    call = await api.get(f"/calls/{call_id}")
    source = next((s for s in await api.get(f"/calls/{call_id}/funding-sources") if s["id"] == str(source_id)), None)
    if source is None:
        raise NotFound(404)
    if form is None:
        form = Form(
            {
                "name": source["name"],
                "amount_vnd": vnd_input(source["amount_vnd"]),
                "conditions": source["conditions"] or "",
            }
        )
    form.values["version"] = str(call["version"])  # a retry after a 412 changes the call as it is now
    navigation, active = navigation_for(user)
    return render(
        request,
        "officer/funding_source_form.html",
        {"navigation": navigation, "active": active, "call": call, "source": source, "form": form},
        status_code=status,
    )


@router.get("/{call_id}/funding-sources/{source_id}/edit", response_class=HTMLResponse)
async def edit_source(request: Request, call_id: UUID, source_id: UUID, user: Officer, api: ApiClient) -> HTMLResponse:
    return await _edit_page(request, api, user, call_id, source_id, None, 200)


@router.post("/{call_id}/funding-sources/{source_id}/edit", response_class=HTMLResponse)
async def save_source(request: Request, call_id: UUID, source_id: UUID, user: Officer, api: ApiClient) -> Response:
    """PATCH only what differs from the source as it is (name, amount, conditions), If-Match the call's version."""
    form = Form(await request.form())
    source = next((s for s in await api.get(f"/calls/{call_id}/funding-sources") if s["id"] == str(source_id)), None)
    if source is None:
        raise NotFound(404)
    if not str(form.get("name")).strip():
        form.add_error("name", _("Enter the source's name"))
    amount = parse_vnd(form, "amount_vnd")
    if amount is None and not form.error("amount_vnd"):
        form.add_error("amount_vnd", _("Enter the source's amount in đồng"))
    if form.has_errors:
        return await _edit_page(request, api, user, call_id, source_id, form, 422)
    typed = {
        "name": str(form.get("name")).strip(),
        "amount_vnd": amount,
        "conditions": form.data(["conditions"])["conditions"],
    }
    changed = {k: v for k, v in typed.items() if v != source.get(k)}
    if changed:
        try:
            await api.patch(
                f"/calls/{call_id}/funding-sources/{source_id}", changed, if_match=if_match(form.get("version"))
            )
        except (FieldErrors, Conflict) as problem:
            form.add_problem(problem)
            return await _edit_page(request, api, user, call_id, source_id, form, problem.status)
        except ChangedMeanwhile:
            form.changed_meanwhile = True
            return await _edit_page(request, api, user, call_id, source_id, form, 409)
    return RedirectResponse(f"/officer/calls/{call_id}/funding?changed={source['code']}", status_code=303)
