"""The reviewer's screens: the queue of assigned applications, the conflict-of-interest declaration (always first),
and the dossier beside the call's rubric with the score sheet (save draft / submit).

The page's state is the reviewer's own assignment as the API gives it (`GET /applications/{id}/reviews` answers a
reviewer with their entry only): not declared → the declaration form and nothing else; recused → a notice and no
score form; declared → dossier + score sheet; submitted → the review as sent. A POST the page would not offer
(scoring while recused or before declaring) still goes to the API, which refuses it; the page then shows why.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import Api, ApiProblem, ChangedMeanwhile, Conflict, FieldErrors, NotAllowed, NotFound
from ..carriers import carrier_name
from ..deps import ApiClient, require_role
from ..enterprise import application_tasks as tasks
from ..enterprise.application_steps import documents_of
from ..enterprise.documents import MEDIA_TYPES, document_file, file_size, kind_name
from ..enterprise.registry import if_match
from ..forms import Form
from ..i18n import gettext
from ..sessions import PortalSession
from ..templating import render
from . import score_sheet

router = APIRouter(prefix="/review")

Reviewer = Annotated[PortalSession, Depends(require_role("reviewer"))]


async def own_assignment(api: Api, application_id: str) -> dict[str, Any]:
    entries = await api.get(f"/applications/{application_id}/reviews")
    if not entries:
        raise NotFound(404)
    return entries[0]


def assignment_state(assignment: dict[str, Any]) -> str:
    if assignment.get("recused"):
        return "recused"
    if assignment.get("conflict_declared") is None:
        return "declare"
    if assignment.get("reviewed_at"):
        return "submitted"
    return "score"


async def _dossier_due(api: Api, application: dict[str, Any]) -> str | None:
    """The dossier's statutory due date (public look-up `due_at`); the API has no review due date."""
    if not application.get("dossier_code"):
        return None
    try:
        return (await api.get(f"/public/dossiers/{application['dossier_code']}")).get("due_at")
    except ApiProblem:
        return None


def _version(etag: str | None) -> str:
    """The draft's ETag as the form's hidden `version` (digits; `if_match` quotes it again)."""
    return (etag or "").removeprefix("W/").strip('"')


# ---- the queue ---------------------------------------------------------------------------------------------------
@router.get("", response_class=HTMLResponse)
async def queue(request: Request, user: Reviewer, api: ApiClient) -> HTMLResponse:
    applications = await api.all_pages("/applications", limit=100, max_items=500)
    rows = []
    for application in applications:
        assignment = await own_assignment(api, application["id"])
        rows.append(
            {
                "application": application,
                "assignment": assignment,
                "state": assignment_state(assignment),
                "due_at": await _dossier_due(api, application),
            }
        )
    # what still needs doing first, then by the dossier's due date
    rows.sort(key=lambda r: (r["state"] in ("submitted", "recused"), r["due_at"] or "9999"))
    return render(request, "review/queue.html", {"rows": rows})


# ---- one application ---------------------------------------------------------------------------------------------
async def _render(
    request: Request,
    api: Api,
    application_id: str,
    *,
    form: Form | None = None,
    declaration: Form | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    application = await tasks.load_application(api, application_id)
    assignment = await own_assignment(api, application["id"])
    state = assignment_state(assignment)
    call = await tasks.load_call(api, application["call_id"]) or {}
    criteria = call.get("criteria") or []
    draft = None
    if state == "score":
        try:
            result = await api.get_with_etag(f"/applications/{application['id']}/reviews/draft")
            draft = result.data
            if form is None:
                form = score_sheet.form_from_draft(criteria, draft, _version(result.etag))
        except NotFound:
            form = form or score_sheet.form_from_draft(criteria, None, None)
    documents = await documents_of(api, application["id"]) if state in ("score", "submitted") else []
    return render(
        request,
        "review/application.html",
        {
            "application": application,
            "assignment": assignment,
            "state": state,
            "call": call,
            "criteria": criteria,
            "draft": draft,
            "form": form or Form(),
            "declaration": declaration or Form(),
            "problem": problem,
            "documents": documents,
            "recommendations": score_sheet.RECOMMENDATIONS,
            "score_field": score_sheet.score_field,
            "carrier_name": carrier_name,
            "kind_name": kind_name,
            "file_size": file_size,
            "media_types": MEDIA_TYPES,
            "saved": request.query_params.get("saved") == "1",
            "submitted": request.query_params.get("submitted") == "1",
            "gettext": gettext,
        },
        status_code=status_code,
    )


@router.get("/{application_id}", response_class=HTMLResponse)
async def application_page(request: Request, application_id: str, user: Reviewer, api: ApiClient) -> HTMLResponse:
    return await _render(request, api, application_id)


@router.post("/{application_id}/declaration", response_class=HTMLResponse)
async def declare(request: Request, application_id: str, user: Reviewer, api: ApiClient) -> Response:
    form = Form(await request.form())
    body: dict[str, Any] = {}
    if str(form.get("statement")).strip():
        body["statement"] = str(form.get("statement")).strip()
    if form.get("conflict") in ("yes", "no"):
        body["conflict"] = form.get("conflict") == "yes"
    try:
        await api.post(
            f"/applications/{tasks.checked_id(application_id)}/reviews/declaration",
            body,
            idempotency_key=form.idempotency_key,
        )
    except FieldErrors as problem:
        score_sheet.add_problem(form, problem)
        return await _render(request, api, application_id, declaration=form, status_code=422)
    except (Conflict, NotAllowed) as problem:
        return await _render(request, api, application_id, problem=problem.summary, status_code=problem.status)
    return RedirectResponse(f"/review/{application_id}", status_code=303)


@router.post("/{application_id}/score", response_class=HTMLResponse)
async def score(request: Request, application_id: str, user: Reviewer, api: ApiClient) -> Response:
    """Save the draft (PUT + If-Match) and, with `action=submit`, submit it (the draft's new ETag as If-Match)."""
    application_id = tasks.checked_id(application_id)
    form = Form(await request.form())
    call = await tasks.load_call(api, (await tasks.load_application(api, application_id))["call_id"]) or {}
    body = score_sheet.draft_body(form, call.get("criteria") or [])
    if body is None:
        return await _render(request, api, application_id, form=form, status_code=422)
    draft_url = f"/applications/{application_id}/reviews/draft"
    try:
        saved = await api.put(draft_url, body, if_match=if_match(form.get("version")))
        form.values["version"] = _version(saved.etag)
        if form.get("action") == "submit":
            await api.post(f"{draft_url}/submit", None, if_match=saved.etag)
    except FieldErrors as problem:
        score_sheet.add_problem(form, problem)
        return await _render(request, api, application_id, form=form, status_code=422)
    except (Conflict, NotAllowed) as problem:  # recused, not declared, already submitted: the API says which
        return await _render(request, api, application_id, problem=problem.summary, status_code=problem.status)
    except ApiProblem as problem:
        # stale version (412), or a draft saved meanwhile in another tab while this one had none (428): keep what
        # was typed; the current draft's version makes "save again" work
        if not isinstance(problem, ChangedMeanwhile) and problem.status != 428:
            raise
        form.changed_meanwhile = True
        current = await api.get_with_etag(draft_url)
        form.values["version"] = _version(current.etag)
        return await _render(request, api, application_id, form=form, status_code=409)
    if form.get("action") == "submit":
        return RedirectResponse(f"/review/{application_id}?submitted=1", status_code=303)
    return RedirectResponse(f"/review/{application_id}?saved=1#score-sheet", status_code=303)


@router.get("/{application_id}/documents/{document_id}")
async def download(request: Request, application_id: str, document_id: str, user: Reviewer, api: ApiClient) -> Response:
    return await document_file(api, application_id, document_id)
