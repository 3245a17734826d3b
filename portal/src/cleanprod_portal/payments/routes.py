"""Payments ("Thanh toán"): the work list of tranches waiting for a step, and one tranche's page with the step the
user may take — finance prepares a payable tranche, an officer approves a prepared one (never its preparer), finance
marks an approved one paid (value date, treasury/bank reference, amount) and records the parts of a recovery
collected. Auditors read both pages. The API decides every rule (four-eyes included); the page shows its refusal
next to the button, in the user's language (docs/portal.md "Money and M&V corrections")."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import ChangedMeanwhile, Conflict, FieldErrors, NotAllowed, NotFound
from ..deps import ApiClient, require_role
from ..enterprise.application_inputs import parse_vnd
from ..enterprise.applications import TRANCHE_KINDS, TRANCHE_STATUSES
from ..enterprise.registry import if_match
from ..forms import Form
from ..i18n import N_
from ..officer.routes import NAVIGATION as OFFICER_NAVIGATION
from ..sessions import PortalSession
from ..templating import render

router = APIRouter(prefix="/payments")

PaymentReader = Annotated[PortalSession, Depends(require_role("finance", "officer", "auditor"))]
PaymentStaff = Annotated[PortalSession, Depends(require_role("finance", "officer"))]

FINANCE_NAVIGATION: list[tuple[str, str]] = [
    ("/payments", N_("Payment work list")),
    ("/payments/calls", N_("Funding of the calls")),  # each call's sources and money (officer/funding.py)
]
# The work list's sections: (status, heading msgid, who acts msgid)
SECTIONS: list[tuple[str, str, str]] = [
    ("payable", N_("To prepare"), N_("Finance prepares the payment order.")),
    ("prepared", N_("To approve"), N_("An officer other than the preparer approves it.")),
    ("approved", N_("To mark paid"), N_("Finance records the treasury's or the bank's confirmation.")),
    ("recovery_due", N_("Recoveries to collect"), N_("Finance records each part the enterprise pays back.")),
]
# status → (step of the API, the role that takes it)
STEPS: dict[str, tuple[str, str]] = {
    "payable": ("prepare", "finance"),
    "prepared": ("approve", "officer"),
    "approved": ("paid", "finance"),
    "recovery_due": ("collections", "finance"),
}
DONE = {
    "prepare": N_("The payment is prepared. An officer other than you approves it next."),
    "approve": N_("The payment is approved. Finance marks it paid once the treasury or the bank confirms it."),
    "paid": N_("The payment is recorded as paid."),
    "collections": N_("The part collected is recorded."),
}
WORK_LIST_MAX = 1000


def navigation_for(user: PortalSession) -> list[tuple[str, str]]:
    """Officers and auditors keep the officer menu (it has Payments); finance staff get the payments menu."""
    return OFFICER_NAVIGATION if {"officer", "auditor"} & set(user.roles) else FINANCE_NAVIGATION


def step_for(user: PortalSession, tranche: dict[str, Any]) -> str | None:
    """The step this user is offered on the tranche, or None (auditors, the other role, nothing left to do)."""
    step = STEPS.get(tranche["status"])
    if step is None or tranche["kind"] not in ("advance", "balance", "recovery"):
        return None
    name, role = step
    return name if role in user.roles else None


def _context(user: PortalSession, **extra: Any) -> dict[str, Any]:
    return {
        "navigation": navigation_for(user),
        "active": "/payments",
        "tranche_kinds": TRANCHE_KINDS,
        "tranche_statuses": TRANCHE_STATUSES,
        **extra,
    }


@router.get("", response_class=HTMLResponse)
async def work_list(request: Request, user: PaymentReader, api: ApiClient) -> HTMLResponse:
    items = await api.all_pages("/applications/tranches", max_items=WORK_LIST_MAX)
    by_status: dict[str, list[dict[str, Any]]] = {status: [] for status, _, _ in SECTIONS}
    for item in items:
        by_status.setdefault(item["tranche"]["status"], []).append(item)
    return render(request, "payments/work_list.html", _context(user, sections=SECTIONS, by_status=by_status))


@router.get("/calls", response_class=HTMLResponse)
async def calls(request: Request, user: PaymentReader, api: ApiClient) -> HTMLResponse:
    """The calls, each linking to its funding report (finance's way to the page officers reach from the calls)."""
    items = await api.all_pages("/calls")
    return render(request, "payments/calls.html", {**_context(user, calls=items), "active": "/payments/calls"})


async def _tranche_page(
    request: Request,
    api: Any,
    user: PortalSession,
    application_id: UUID,
    tranche_id: UUID,
    *,
    form: Form | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    application = await api.get(f"/applications/{application_id}")
    tranche = next((t for t in application["tranches"] if t["id"] == str(tranche_id)), None)
    if tranche is None:
        raise NotFound(404)
    sources = {s["id"]: s for s in await api.get(f"/calls/{application['call_id']}/funding-sources")}
    step = step_for(user, tranche)
    if form is None:
        form = Form()
        if step == "paid":
            form.values["amount_vnd"] = str(tranche["amount_vnd"])
    form.values["version"] = str(tranche["version"])  # a retry after a 412 takes the tranche as shown now
    return render(
        request,
        "payments/tranche.html",
        _context(
            user,
            a=application,
            t=tranche,
            source=sources.get(tranche["source_id"]),
            step=step,
            form=form,
            done=DONE.get(request.query_params.get("done", "")),
        ),
        status_code=status_code,
    )


@router.get("/{application_id}/{tranche_id}", response_class=HTMLResponse)
async def tranche_page(
    request: Request, application_id: UUID, tranche_id: UUID, user: PaymentReader, api: ApiClient
) -> HTMLResponse:
    return await _tranche_page(request, api, user, application_id, tranche_id)


def _body(step: str, form: Form) -> dict[str, Any] | None:
    """The step's body from the form (amounts typed as đồng, grouped or not); None for the steps without one."""
    if step == "paid":
        names = ["paid_on", "reference"]
    elif step == "collections":
        names = ["collected_on", "reference"]
    else:
        return None
    return {**form.data(names), "amount_vnd": parse_vnd(form, "amount_vnd")}


@router.post("/{application_id}/{tranche_id}/{step}", response_class=HTMLResponse)
async def take_step(
    request: Request, application_id: UUID, tranche_id: UUID, step: str, user: PaymentStaff, api: ApiClient
) -> Response:
    if step not in {name for name, _ in STEPS.values()}:
        raise NotFound(404)
    form = Form(await request.form())
    body = _body(step, form)
    if form.has_errors:  # an amount that is not a number of đồng
        return await _tranche_page(request, api, user, application_id, tranche_id, form=form, status_code=422)
    try:
        await api.post(
            f"/applications/{application_id}/tranches/{tranche_id}/{step}",
            body,
            if_match=if_match(form.get("version")),
        )
    except FieldErrors as problem:
        form.add_problem(problem)
        return await _tranche_page(request, api, user, application_id, tranche_id, form=form, status_code=422)
    except (NotAllowed, Conflict) as problem:
        # four-eyes (403) or the tranche moved on (409): the API's sentence next to the button
        if problem.errors:
            form.add_problem(problem)
        else:
            form.add_error("step", problem.summary)
        return await _tranche_page(
            request, api, user, application_id, tranche_id, form=form, status_code=problem.status
        )
    except ChangedMeanwhile:
        form.changed_meanwhile = True  # the page shows the tranche as it is now; what was typed is kept
        return await _tranche_page(request, api, user, application_id, tranche_id, form=form, status_code=409)
    return RedirectResponse(f"/payments/{application_id}/{tranche_id}?done={step}", status_code=303)
