"""The enterprise's applications: the list, "start an application" (an open call + one of its facilities → a draft
with only those two), the application page (status, dossier code, timeline, screening reasons, requested changes,
decision, tranches, start and completion reports, verification result) and the confirmation after submitting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import messaging
from ..api import ApiProblem, ChangedMeanwhile, Conflict, FieldErrors, NotFound
from ..deps import ApiClient, Enterprise, reads_only
from ..formatting import basis_points, local_date, percent, vnd
from ..forms import Form
from ..i18n import N_, _, gettext
from ..public.routes import _sector_names as public_sector_names
from ..streaming import sandboxed_report
from ..templating import render
from . import application_tasks as tasks
from .application_inputs import parse_date
from .application_steps import answer_sections, documents_of
from .routes import APPLICATION_SUMMARIES, NAVIGATION

router = APIRouter(prefix=tasks.APPLICATIONS_PATH)

# History actions (audit entries) as the timeline names them. Saving a draft (`update`) is not a step of the
# dossier's life and is left out; the review entries are never shown to enterprises by the API.
TIMELINE_ACTIONS: dict[str, str] = {
    "create": N_("Draft started"),
    "submit": N_("Submitted"),
    "screen_pass": N_("Screening passed: under review"),
    "screen_fail": N_("Screening failed: ineligible"),
    "request_changes": N_("Changes requested"),
    "resubmit": N_("Resubmitted"),
    "decide_approve": N_("Approved"),
    "decide_reject": N_("Rejected"),
    "withdraw": N_("Withdrawn"),
    "start": N_("Project started"),
    "complete": N_("Completion reported"),
    "record_verified": N_("Savings verified"),
    "record_not_achieved": N_("Savings not achieved"),
    "attach_document": N_("Document attached"),
    "request_supplement": N_("Supplement requested"),
    "supplement_answered": N_("Supplement answered: back to processing"),
}
ROLE_NAMES: dict[str, str] = {
    "enterprise": N_("Enterprise"),
    "officer": N_("Programme officer"),
    "reviewer": N_("Reviewer"),
    "verifier": N_("Verifier"),
    "auditor": N_("Auditor"),
    "service": N_("System"),
    "egov": N_("E-government system"),
}
TRANCHE_KINDS = {"advance": N_("Advance"), "balance": N_("Balance"), "recovery": N_("Recovery")}
TRANCHE_STATUSES = {
    "payable": N_("Payable"),
    "prepared": N_("Payment prepared"),
    "approved": N_("Payment approved"),
    "paid": N_("Paid"),
    "withheld": N_("Withheld until verification"),
    "cancelled": N_("Cancelled"),
    "recovery_due": N_("To be recovered"),
    "recovered": N_("Recovered"),
}
# Screening reason codes (services/applications domain/screening.py) in the user's language. The API stores its
# reasons in English; the portal says them with the call's terms it shows anyway.
SCREENING_REASONS: dict[str, str] = {
    "call_not_yet_open": N_("The call opens on %(opens)s: the application was submitted before that."),
    "call_closed": N_("The call closed on %(closes)s, before the application was submitted."),
    "sector_not_eligible": N_("The facility's sector is not one this call supports (%(sectors)s)."),
    "amount_not_positive": N_(
        "The total cost, the eligible cost and the requested support must each be more than 0 đồng."
    ),
    "eligible_cost_exceeds_total": N_("The eligible cost is more than the total cost."),
    "request_exceeds_support_rate": N_("The requested support is more than %(rate)s of the eligible cost."),
    "request_exceeds_cap": N_("The requested support is more than the call's cap of %(cap)s per project."),
    "implementation_dates_out_of_order": N_("The end date is before the start date."),
    "claimed_saving_not_positive": N_("The claimed overall saving must be more than 0 %%."),
}
AWARD_LIMITS = {
    "requested": N_("the amount requested"),
    "rate": N_("the call's support rate"),
    "cap": N_("the call's cap per project"),
    "budget": N_("the call's remaining budget"),
}


def _context(**extra: Any) -> dict[str, Any]:
    return {"navigation": NAVIGATION, "active": tasks.APPLICATIONS_PATH, **extra}


# ---- list and start ----------------------------------------------------------------------------------------------
@router.get("", response_class=HTMLResponse)
async def application_list(request: Request, user: Enterprise, api: ApiClient) -> HTMLResponse:
    applications = await api.all_pages(APPLICATION_SUMMARIES, max_items=1000)
    return render(request, "enterprise/applications/list.html", _context(applications=applications))


async def _start_choices(api: ApiClient) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Open calls (from the calls the enterprise may read) and the enterprise's active facilities."""
    calls = [c for c in await api.all_pages("/calls", max_items=500) if c.get("is_open")]
    calls.sort(key=lambda c: c.get("closes_on") or "")
    facilities = [f for f in await api.all_pages("/facilities", max_items=500) if f.get("status", "active") == "active"]
    return calls, facilities


async def _render_start(request: Request, api: ApiClient, form: Form, status_code: int = 200) -> HTMLResponse:
    calls, facilities = await _start_choices(api)
    return render(
        request,
        "enterprise/applications/start.html",
        _context(form=form, calls=calls, facilities=facilities),
        status_code=status_code,
    )


@router.get("/new", response_class=HTMLResponse)
async def start_form(
    request: Request, user: Enterprise, api: ApiClient, call_id: Annotated[str | None, Query(max_length=64)] = None
) -> HTMLResponse:
    return await _render_start(request, api, Form({"call_id": call_id or ""}))


@router.post("/new", response_class=HTMLResponse)
async def start(request: Request, user: Enterprise, api: ApiClient) -> Response:
    form = Form(await request.form())
    data = form.data(["call_id", "facility_id"])
    if not data["call_id"]:
        form.add_error("call_id", _("Choose the call you are applying to"))
    if not data["facility_id"]:
        form.add_error("facility_id", _("Choose the facility where the project will be carried out"))
    if form.has_errors:
        return await _render_start(request, api, form, status_code=422)
    try:
        created = await api.post("/applications", json=data, idempotency_key=form.idempotency_key)
    except (FieldErrors, NotFound) as problem:
        # A closed call (call_closed) or a facility the enterprise may not use (404 on facility_id) come back as
        # field errors; show them at the choice.
        if isinstance(problem, NotFound) and not problem.errors:
            raise
        form.add_problem(problem)
        return await _render_start(request, api, form, status_code=422)
    return RedirectResponse(tasks.application_url(created.data["id"], "/tasks"), status_code=303)


# ---- the application page ----------------------------------------------------------------------------------------
# The screening's own reason texts are the API's English sentences: the timeline says them in the user's language.
SCREENING_PASSED = N_("Eligible: the call is open, the sector is eligible and the amounts are within the call's rules.")


def verdict_text(details: dict[str, Any]) -> str:
    """The verdict's settlement as the enterprise reads it (the API's reason is an English log line)."""
    text = _(
        "Verified saving %(verified)s against the %(claimed)s claimed; balance %(balance)s.",
        verified=percent(details.get("verified_savings_pct")),
        claimed=percent(details.get("claimed_savings_pct")),
        balance=vnd(details.get("balance_vnd") or 0),
    )
    if details.get("recover_vnd"):
        text += " " + _("To pay back from the advance: %(amount)s.", amount=vnd(details["recover_vnd"]))
    return text


def timeline(
    history: list[dict[str, Any]], screening_text: Callable[[list[dict[str, Any]]], str] | None = None
) -> list[dict[str, Any]]:
    """The history entries the enterprise follows; `screening_text` says a failed screening's reasons (codes)."""
    items = []
    for entry in history:
        action = entry.get("action")
        if action not in TIMELINE_ACTIONS:
            continue
        reason = entry.get("reason")
        details = entry.get("details") or {}
        if action == "screen_pass":
            reason = gettext(SCREENING_PASSED)
        elif action == "screen_fail" and screening_text:
            reason = screening_text(details.get("reasons") or []) or reason
        elif action in ("record_verified", "record_not_achieved") and "balance_vnd" in details:
            reason = verdict_text(details)
        items.append(
            {
                "at": entry.get("at"),
                "action": action,
                "label": gettext(TIMELINE_ACTIONS[action]),
                "role": gettext(ROLE_NAMES.get(entry.get("actor_role") or "", entry.get("actor_role") or "")),
                "name": entry.get("actor_name"),
                "reason": reason,
                "from_status": entry.get("from_status"),
                "to_status": entry.get("to_status"),
                "filename": (entry.get("details") or {}).get("filename"),
            }
        )
    return items


async def _verification(api: ApiClient, application: dict[str, Any]) -> dict[str, Any] | None:
    """The concluded verification result (the enterprise reads its own), or None while there is none."""
    case_id = application.get("verification_id")
    if not case_id:
        return None
    try:
        return await api.get(f"/verifications/{case_id}/result")
    except ApiProblem:  # not concluded yet, or the verification service is down: the page shows the rest
        return None


def screening_reasons(
    application: dict[str, Any], call: dict[str, Any] | None, sector_names: dict[str, str]
) -> list[str]:
    sectors = [sector_names.get(code, code) for code in (call or {}).get("eligible_sectors") or []]
    terms = {
        "opens": local_date((call or {}).get("opens_on")),
        "closes": local_date((call or {}).get("closes_on")),
        "sectors": ", ".join(sectors),
        "rate": basis_points((call or {}).get("support_rate_bp")),
        "cap": vnd((call or {}).get("cap_per_project_vnd")),
    }
    out = []
    for reason in application.get("screening_reasons") or []:
        msgid = SCREENING_REASONS.get(reason.get("code"))
        out.append(gettext(msgid) % terms if msgid else reason.get("message") or "")
    return out


def requested_changes(application: dict[str, Any], history: list[dict[str, Any]]) -> str | None:
    """The officer's reason on the latest "changes requested"."""
    for entry in reversed(history):
        if entry.get("action") == "request_changes":
            return entry.get("reason")
    return application.get("decision_reason")


async def funding_sources_of(api: Any, application: dict[str, Any]) -> list[dict[str, Any]]:
    """The call's funding sources, to name the source of each payment (asked only once there are tranches)."""
    if not application.get("tranches"):
        return []
    return await api.get(f"/calls/{application['call_id']}/funding-sources")


async def render_page(
    request: Request,
    api: ApiClient,
    application_id: str,
    *,
    forms: dict[str, Form] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    application_id = tasks.checked_id(application_id)  # a malformed id is a 404 before anything is asked

    async def application_and_what_it_names() -> tuple[dict[str, Any], Any, list[dict[str, Any]], Any]:
        application = await tasks.load_application(api, application_id)
        call, requests, sources = await asyncio.gather(
            tasks.load_call(api, application["call_id"]),
            messaging.supplement_requests(api, application),  # asked only in the statuses that can have them
            funding_sources_of(api, application),  # asked only once there are tranches
        )
        return application, call, requests, sources

    # Everything at once: what needs only the application's id is asked beside the application itself, what the
    # application names (its call; by its status, supplement requests and funding sources) as soon as it is in.
    (application, call, requests, sources), history_page, documents, messages = await asyncio.gather(
        application_and_what_it_names(),
        api.get(f"/applications/{application_id}/history", limit=200),
        documents_of(api, application_id),
        messaging.thread_of(api, application_id),
    )
    history = history_page.get("items", [])
    allowed = set(application.get("allowed_actions") or [])
    forms = forms or {}
    for name in ("start", "complete"):
        forms.setdefault(name, Form({"version": application["version"]}))
    forms.setdefault("message", Form())
    # Sector names only say why a screening failed: asked for only when the page shows such reasons.
    failed = application["status"] == "ineligible" or any(e.get("action") == "screen_fail" for e in history)
    sector_names = await public_sector_names(api) if failed else {}

    def screening_text(reasons: list[dict[str, Any]]) -> str:
        return "; ".join(screening_reasons({"screening_reasons": reasons}, call, sector_names))

    return render(
        request,
        "enterprise/applications/page.html",
        _context(
            application=application,
            call=call,
            events=timeline(history, screening_text),
            documents=documents,
            sections=answer_sections(application, call, documents, editable=False),
            changes=requested_changes(application, history) if application["status"] == "changes_requested" else None,
            reasons=screening_reasons(application, call, sector_names) if application["status"] == "ineligible" else [],
            verification=await _verification(api, application),
            forms=forms,
            can_start="start" in allowed,
            can_complete="complete" in allowed,
            tranche_kinds=TRANCHE_KINDS,
            tranche_statuses=TRANCHE_STATUSES,
            source_names={source["id"]: source["name"] for source in sources},
            award_limits=AWARD_LIMITS,
            editable=tasks.is_editable(application),
            messages=messages,
            role_names=ROLE_NAMES,
            supplements=requests,
            item_forms=messaging.item_forms(requests, forms.get("items")),
            documents_by_id={d["id"]: d for d in documents},
        ),
        status_code=status_code,
    )


@router.get("/{application_id}", response_class=HTMLResponse)
@reads_only
async def application_page(request: Request, application_id: str, user: Enterprise, api: ApiClient) -> HTMLResponse:
    return await render_page(request, api, application_id)


async def _transition(request: Request, api: ApiClient, application_id: str, action: str, date_field: str) -> Response:
    """Report start (`start`, `started_on`) or completion (`completion`, `completed_on`): date + optional note."""
    form = Form(await request.form())
    form_name = "start" if action == "start" else "complete"
    body: dict[str, Any] = {}
    day = parse_date(form, date_field)
    if day:
        body[date_field] = day
    reason = form.data(["reason"])["reason"]
    if reason:
        body["reason"] = reason
    if not form.has_errors:
        try:
            await api.post(
                f"/applications/{application_id}/{action}", json=body, if_match=tasks.etag_of(form.get("version"))
            )
            return RedirectResponse(tasks.application_url(application_id) + "#timeline", status_code=303)
        except FieldErrors as problem:
            form.add_problem(problem)
        except ChangedMeanwhile:
            form.changed_meanwhile = True
            current = await tasks.load_application(api, application_id)
            form.values["version"] = current["version"]
        except Conflict as problem:
            form.add_error(None, problem.summary)
    return await render_page(
        request, api, application_id, forms={form_name: form}, status_code=409 if form.changed_meanwhile else 422
    )


@router.post("/{application_id}/start", response_class=HTMLResponse)
async def report_start(request: Request, application_id: str, user: Enterprise, api: ApiClient) -> Response:
    return await _transition(request, api, application_id, "start", "started_on")


@router.post("/{application_id}/completion", response_class=HTMLResponse)
async def report_completion(request: Request, application_id: str, user: Enterprise, api: ApiClient) -> Response:
    return await _transition(request, api, application_id, "completion", "completed_on")


@router.get("/{application_id}/confirmation", response_class=HTMLResponse)
async def confirmation(request: Request, application_id: str, user: Enterprise, api: ApiClient) -> Response:
    """After submitting: the dossier code and the promised result date (the public dossier look-up's `due_at`)."""
    application = await tasks.load_application(api, application_id)
    if not application.get("dossier_code"):
        return RedirectResponse(tasks.application_url(application_id), status_code=303)
    dossier = None
    try:
        dossier = await api.get(f"/public/dossiers/{application['dossier_code']}")
    except NotFound:
        pass
    return render(
        request,
        "enterprise/applications/confirmation.html",
        _context(application=application, dossier=dossier, due=local_date(dossier.get("due_at")) if dossier else ""),
    )


@router.get("/{application_id}/verification-report")
async def verification_report(request: Request, application_id: str, user: Enterprise, api: ApiClient) -> Response:
    """The API's printable verification report, fetched with the user's token and shown as a sandboxed page."""
    application = await tasks.load_application(api, application_id)
    case_id = application.get("verification_id")
    if not case_id:
        raise NotFound(404)
    return await sandboxed_report(api, case_id)
