"""The officer's decision screen: the award and which limit binds, the review summary, the four-eyes rule before
anything is pressed, and the decision (approve / reject with a reason; request changes with the list of what to
change).

Every figure and every refusal is the API's (`GET /applications/{id}/decision/preview`: the same computation as
`POST /decision`); the portal computes nothing. When the preview says this officer is one of the reviewers, the
screen says so and shows no decision form; a forged POST is refused by the API and the screen shows its message.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import Api, ChangedMeanwhile, Conflict, FieldErrors, NotAllowed
from ..deps import ApiClient, require_role
from ..enterprise import application_tasks as tasks
from ..enterprise.applications import AWARD_LIMITS
from ..enterprise.registry import if_match
from ..forms import Form
from ..i18n import N_, gettext
from ..officer.staff import staff_members
from ..review.score_sheet import RECOMMENDATIONS, add_problem
from ..sessions import PortalSession
from ..templating import render
from . import changes

router = APIRouter(prefix="/decide")
Officer = Annotated[PortalSession, Depends(require_role("officer"))]

LIMIT_NAMES = {
    "requested": N_("Support requested"),
    "rate": N_("Support rate × eligible cost"),
    "cap": N_("Cap per project"),
    "budget": N_("Remaining call budget"),
}
OUTCOMES = {"approve": N_("Approve"), "reject": N_("Reject")}
EMPTY_ANSWER_MESSAGES = {
    "outcome": N_("Choose whether to approve or reject the application."),
    "reason": N_("Write the reason for the decision: the enterprise receives it."),
}


async def _render(
    request: Request,
    api: Api,
    application_id: str,
    *,
    decide_form: Form | None = None,
    changes_form: Form | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    application = await tasks.load_application(api, application_id)
    application_id = application["id"]
    call = await tasks.load_call(api, application["call_id"]) or {}
    preview = await api.get(f"/applications/{application_id}/decision/preview")
    reviews = await api.get(f"/applications/{application_id}/reviews")
    # people by their full names (family name first, from Keycloak), not their logins
    reviewer_names = {m["username"]: m["full_name"] for m in await staff_members(api, "reviewer")}
    refusals = preview["refusals"]
    four_eyes = next((r for r in refusals.values() if r and r["code"] == "decider_is_reviewer"), None)
    version = {"version": preview["version"]}
    decide_form = decide_form or Form(version)
    changes_form = changes_form or Form(version)
    return render(
        request,
        "decide/decision.html",
        {
            "application": application,
            "call": call,
            "preview": preview,
            "reviews": reviews,
            "reviewer_names": reviewer_names,
            "summary": application.get("review_summary") or {},
            "four_eyes": four_eyes,
            "refusals": refusals,
            "under_review": application["status"] == "under_review",
            "limit_names": LIMIT_NAMES,
            "award_limits": AWARD_LIMITS,
            "outcomes": OUTCOMES,
            "recommendations": RECOMMENDATIONS,
            "gettext": gettext,
            "decide_form": decide_form,
            "changes_form": changes_form,
            "change_rows": [changes.item_field(i) for i in range(changes.row_count(changes_form))],
            "problem": problem,
            "decided": request.query_params.get("decided"),
        },
        status_code=status_code,
    )


@router.get("/{application_id}", response_class=HTMLResponse)
async def decision_page(request: Request, application_id: str, user: Officer, api: ApiClient) -> HTMLResponse:
    return await _render(request, api, application_id)


async def _decide(
    request: Request,
    api: Api,
    application_id: str,
    body: dict[str, Any],
    form: Form,
    form_name: str,
    field_map: dict[str, str] | None = None,
) -> Response:
    forms = {form_name: form}
    try:
        await api.post(f"/applications/{application_id}/decision", body, if_match=if_match(form.get("version")))
    except FieldErrors as problem:
        add_problem(form, problem, EMPTY_ANSWER_MESSAGES, field_map)
        return await _render(request, api, application_id, **forms, status_code=422)
    except ChangedMeanwhile:
        form.changed_meanwhile = True  # reviews or the application moved on: the screen shows the new figures
        form.values.pop("version", None)
        return await _render(request, api, application_id, **forms, status_code=409)
    except (NotAllowed, Conflict) as problem:  # four-eyes (403), too few reviews, below pass score, no budget (409)
        return await _render(request, api, application_id, problem=problem.summary, status_code=problem.status)
    return RedirectResponse(f"/decide/{application_id}?decided={body.get('outcome')}", status_code=303)


@router.post("/{application_id}", response_class=HTMLResponse)
async def decide(request: Request, application_id: str, user: Officer, api: ApiClient) -> Response:
    application_id = tasks.checked_id(application_id)
    form = Form(await request.form())
    body = {}  # what was left empty is left out: the API says it is missing
    if form.get("outcome") in OUTCOMES:
        body["outcome"] = form.get("outcome")
    if str(form.get("reason") or "").strip():
        body["reason"] = str(form.get("reason")).strip()
    return await _decide(request, api, application_id, body, form, "decide_form")


@router.post("/{application_id}/request-changes", response_class=HTMLResponse)
async def request_changes(request: Request, application_id: str, user: Officer, api: ApiClient) -> Response:
    application_id = tasks.checked_id(application_id)
    form = Form(await request.form())
    if form.get("action") == "add":  # one more row, nothing sent
        return await _render(request, api, application_id, changes_form=form)
    reason = changes.reason_text(form)
    if reason is None:
        return await _render(request, api, application_id, changes_form=form, status_code=422)
    return await _decide(
        request,
        api,
        application_id,
        {"outcome": "request_changes", "reason": reason},
        form,
        "changes_form",
        {"reason": changes.item_field(0)},
    )
