"""The case page: one application seen by the Department, with tabs as links to sub-pages (each a server-rendered
section): summary, documents, reviews, history (old → new values from the audit's `changes`), tranches,
verification (with the verifier assignment). The decision screen is `/decide/applications/{id}` (reviewer helper).

Also the verification cases list with single and bulk verifier assignment (`/officer/verifications`)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import ChangedMeanwhile, Conflict, FieldErrors, NotFound
from ..deps import ApiClient
from ..enterprise.applications import AWARD_LIMITS, ROLE_NAMES, TIMELINE_ACTIONS, TRANCHE_KINDS, TRANCHE_STATUSES
from ..forms import Form
from ..i18n import N_, _
from ..streaming import pass_on, sandboxed_report
from ..templating import render
from .routes import Officer, OfficerReader, context
from .staff import sector_names, staff_members
from .verification_corrections import correction_context

router = APIRouter(prefix="/officer")
CASE_PATH = "/officer/applications"

TABS: list[tuple[str, str]] = [
    ("", N_("Summary")),
    ("documents", N_("Documents")),
    ("reviews", N_("Reviews")),
    ("history", N_("History")),
    ("tranches", N_("Tranches")),
    ("verification", N_("Verification")),
    ("messages", N_("Messages")),
    ("supplements", N_("Supplement requests")),
]
CASE_STATUSES = {
    "awaiting_assignment": N_("Awaiting a verifier"),
    "assigned": N_("Verifier assigned"),
    "conflict": N_("Verifier declared a conflict"),
    "measuring": N_("Measuring"),
    "concluded": N_("Concluded"),
}
HISTORY_ACTIONS = {
    **TIMELINE_ACTIONS,
    "update": N_("Draft saved"),
    "assign_reviewer": N_("Reviewer assigned"),
    "declare_conflict": N_("Conflict of interest declared"),
    "submit_review": N_("Review submitted"),
    "update_call": N_("Call changed"),
}


def shown_value(value: Any) -> str:
    """An old or new value of the history, readable: text as is, lists and objects as compact JSON."""
    if value is None:
        return "–"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


async def _case(request: Request, api: Any, application_id: UUID, tab: str, **extra: Any) -> HTMLResponse:
    application = await api.get(f"/applications/{application_id}")
    names = await sector_names(api)
    return render(
        request,
        f"officer/case_{tab or 'summary'}.html",
        context(
            CASE_PATH,
            a=application,
            tabs=TABS,
            tab=tab,
            base=f"{CASE_PATH}/{application_id}",
            sector_name=names.get(application["sector_code"], application["sector_code"]),
            award_limits=AWARD_LIMITS,
            tranche_kinds=TRANCHE_KINDS,
            tranche_statuses=TRANCHE_STATUSES,
            role_names=ROLE_NAMES,
            history_actions=HISTORY_ACTIONS,
            case_statuses=CASE_STATUSES,
            shown_value=shown_value,
            **extra,
        ),
    )


@router.get("/applications/{application_id}", response_class=HTMLResponse)
async def summary(request: Request, application_id: UUID, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    return await _case(request, api, application_id, "")


@router.get("/applications/{application_id}/documents", response_class=HTMLResponse)
async def documents(request: Request, application_id: UUID, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    items = await api.all_pages(f"/applications/{application_id}/documents")
    return await _case(request, api, application_id, "documents", documents=items)


@router.get("/applications/{application_id}/documents/{document_id}")
async def document_file(application_id: UUID, document_id: UUID, user: OfficerReader, api: ApiClient) -> Response:
    return await pass_on(api, f"/applications/{application_id}/documents/{document_id}")


@router.get("/applications/{application_id}/dossier.zip")
async def dossier_zip(application_id: UUID, user: OfficerReader, api: ApiClient) -> Response:
    """The API's dossier ZIP (data, history, reviews, decision, documents, verification report) passed on."""
    return await pass_on(api, f"/applications/{application_id}/dossier.zip")


@router.get("/applications/{application_id}/reviews", response_class=HTMLResponse)
async def reviews(request: Request, application_id: UUID, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    assignments = await api.get(f"/applications/{application_id}/assignments")
    return await _case(request, api, application_id, "reviews", assignments=assignments)


@router.get("/applications/{application_id}/history", response_class=HTMLResponse)
async def history(request: Request, application_id: UUID, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    entries = await api.all_pages(f"/applications/{application_id}/history")
    return await _case(request, api, application_id, "history", entries=entries)


@router.get("/applications/{application_id}/tranches", response_class=HTMLResponse)
async def tranches(request: Request, application_id: UUID, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    return await _case(request, api, application_id, "tranches")


async def _verification_tab(
    request: Request,
    api: Any,
    user: Any,
    application_id: UUID,
    *,
    form: Form | None = None,
    corrections: Form | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    case = await case_of(api, application_id)
    state = await api.get(f"/verifications/{case['id']}/assignment") if case else None
    verifiers = await staff_members(api, "verifier") if "officer" in user.roles and case else []
    form = form or Form({"version": str(case["version"]) if case else ""})
    options = [(m["user_id"], f"{m['full_name']} ({m['username']})") for m in verifiers]
    # the corrections (verification_corrections.py): adjustments to decide, re-freezes, the reporting start
    extra = await correction_context(api, case, corrections) if case else {}
    response = await _case(
        request,
        api,
        application_id,
        "verification",
        case=case,
        assignment=state,
        verifier_options=options,
        form=form,
        **extra,
    )
    response.status_code = status_code
    return response


async def case_of(api: Any, application_id: UUID) -> dict[str, Any] | None:
    """The application's verification case (opened when the completion is reported; the application's own
    `verification_id` is only set once the case is concluded)."""
    page = await api.get("/verifications", application_id=str(application_id), limit=1)
    return (page.get("items") or [None])[0]


@router.get("/applications/{application_id}/verification", response_class=HTMLResponse)
async def verification(request: Request, application_id: UUID, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    return await _verification_tab(request, api, user, application_id)


@router.get("/applications/{application_id}/verification-report")
async def verification_report(application_id: UUID, user: OfficerReader, api: ApiClient) -> Response:
    case = await case_of(api, application_id)
    if not case:
        raise NotFound(404)
    return await sandboxed_report(api, str(case["id"]))


@router.post("/applications/{application_id}/verification", response_class=HTMLResponse)
async def assign_verifier(request: Request, application_id: UUID, user: Officer, api: ApiClient) -> Response:
    """Assign (or replace) the verifier of the case: PUT with the case's version as If-Match (412 → banner)."""
    form = Form(await request.form())
    case = await case_of(api, application_id)
    if not case:
        raise NotFound(404)
    case_id = case["id"]
    verifiers = {m["user_id"]: m for m in await staff_members(api, "verifier")}
    member = verifiers.get(form.get("verifier_subject"))
    if member is None:
        form.add_error("verifier_subject", _("Choose a verifier."))
        return await _verification_tab(request, api, user, application_id, form=form, status_code=422)
    body = {
        "verifier_subject": member["user_id"],
        "verifier_username": member["username"],
        "note": form.data(["note"])["note"],
    }
    try:
        await api.put(f"/verifications/{case_id}/assignment", body, if_match=f'"{form.get("version")}"')
    except FieldErrors as exc:
        form.add_problem(exc, {"verifier_username": "verifier_subject"})
        return await _verification_tab(request, api, user, application_id, form=form, status_code=422)
    except ChangedMeanwhile:
        current = await api.get(f"/verifications/{case_id}")
        form.changed_meanwhile = True
        form.values["version"] = str(current["version"])
        return await _verification_tab(request, api, user, application_id, form=form, status_code=409)
    except Conflict as exc:
        form.add_problem(exc)
        return await _verification_tab(request, api, user, application_id, form=form, status_code=409)
    return RedirectResponse(f"{CASE_PATH}/{application_id}/verification?assigned=1", status_code=303)


# ---- verification cases: bulk assignment ---------------------------------------------------------------------------
async def _cases_page(
    request: Request,
    api: Any,
    user: Any,
    *,
    form: Form | None = None,
    results: list[dict] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    status = request.query_params.get("status") or None
    if status not in CASE_STATUSES:
        status = None
    cases = await api.all_pages("/verifications", max_items=400, status=status)
    verifiers = await staff_members(api, "verifier") if "officer" in user.roles else []
    return render(
        request,
        "officer/verifications.html",
        context(
            "/officer/verifications",
            cases=cases,
            form=form or Form(),
            results=results,
            verifier_options=[(m["user_id"], f"{m['full_name']} ({m['username']})") for m in verifiers],
            case_statuses=CASE_STATUSES,
            status=status or "",
        ),
        status_code=status_code,
    )


@router.get("/verifications", response_class=HTMLResponse)
async def verification_cases(request: Request, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    return await _cases_page(request, api, user)


@router.get("/verifications/export")
async def export_verification_results(request: Request, user: OfficerReader, api: ApiClient) -> Response:
    """The verification results of the cases listed (same status filter), the API's `/verifications/export`."""
    status = request.query_params.get("status")
    fmt = "xlsx" if request.query_params.get("format") == "xlsx" else "csv"
    return await pass_on(
        api, "/verifications/export", {"status": status if status in CASE_STATUSES else None, "format": fmt}
    )


@router.post("/verifications", response_class=HTMLResponse)
async def assign_verifiers(request: Request, user: Officer, api: ApiClient) -> HTMLResponse:
    """One verifier for every chosen case (each item carries the case's version as it was listed)."""
    submitted = await request.form()
    form = Form(submitted)
    chosen = [v for v in submitted.getlist("case") if v]  # "<case id>:<version>"
    verifiers = {m["user_id"]: m for m in await staff_members(api, "verifier")}
    member = verifiers.get(form.get("verifier_subject"))
    if not chosen:
        form.add_error("case", _("Choose at least one case."))
    if member is None:
        form.add_error("verifier_subject", _("Choose a verifier."))
    items = []
    for value in chosen:
        case_id, _sep, version = value.partition(":")
        if not version.isdigit():
            form.add_error("case", _("Choose cases from the list."))
            break
        items.append(
            {
                "verification_id": case_id,
                "version": int(version),
                "verifier_subject": member["user_id"] if member else "",
                "verifier_username": member["username"] if member else "",
            }
        )
    if form.has_errors:
        return await _cases_page(request, api, user, form=form, status_code=422)
    try:
        answer = (
            await api.post(
                "/verifications/bulk-assignments", {"assignments": items}, idempotency_key=form.idempotency_key
            )
        ).data
    except FieldErrors as exc:
        form.add_problem(exc)
        return await _cases_page(request, api, user, form=form, status_code=422)
    results = [
        {
            "case_id": items[r["index"]]["verification_id"],
            "ok": r["status"] < 300,
            "reason": (r.get("problem") or {}).get("detail") or (r.get("problem") or {}).get("title") or "",
        }
        for r in answer["results"]
    ]
    return await _cases_page(request, api, user, form=Form(), results=results)
