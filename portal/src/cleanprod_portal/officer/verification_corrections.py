"""The officer's part of a case's corrections (issue 15), on the case's verification tab: approve or reject a
non-routine adjustment the verifier recorded (never one's own: the API's four-eyes rule), propose a re-freeze of a
wrong baseline (the verifier confirms it; the figures on both baselines stay visible), and approve a reporting start
other than the day after completion. Every answer of the API is shown in the corrections' own form."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ..api import ChangedMeanwhile, Conflict, FieldErrors, NotAllowed, NotFound
from ..deps import ApiClient
from ..enterprise.registry import if_match
from ..forms import Form
from ..i18n import _
from ..verify.corrections import ADJUSTMENT_STATUSES, REFREEZE_STATUSES
from ..verify.routes import VERDICTS
from .routes import Officer

router = APIRouter(prefix="/officer/applications")


async def correction_context(api: Any, case: dict[str, Any], form: Form | None) -> dict[str, Any]:
    adjustments, refreezes, start = await asyncio.gather(
        api.get(f"/verifications/{case['id']}/adjustments"),
        api.get(f"/verifications/{case['id']}/baseline-refreezes"),
        api.get(f"/verifications/{case['id']}/reporting-start"),
    )
    form = form or Form(
        {"reporting_start": start.get("reporting_start") or "", "reporting_note": start.get("note") or ""}
    )
    form.values["case_version"] = str(case["version"])  # a retry after a 412 takes the case as it is now
    return {
        "adjustments": adjustments,
        "refreezes": refreezes,
        "reporting_start": start,
        "corrections": form,
        "adjustment_statuses": ADJUSTMENT_STATUSES,
        "refreeze_statuses": REFREEZE_STATUSES,
        "verdicts": VERDICTS,
    }


async def _case_id(api: Any, application_id: UUID) -> str:
    from .case import case_of  # case.py imports this module for its tab: imported here, when a form is posted

    case = await case_of(api, application_id)
    if not case:
        raise NotFound(404)
    return case["id"]


async def _answer(
    request: Request, api: Any, user: Any, application_id: UUID, form: Form, write: Any, field_map: dict[str, str]
) -> Response:
    """Await the write (None: not sent, the form's own check failed); on success back to the tab with `done`, else
    the tab with the API's answer in the form."""
    from .case import _verification_tab  # as in _case_id

    status = 422
    try:
        if write is None:
            raise FieldErrors(422)  # nothing sent: the form's messages are already in place
        await write
    except FieldErrors as problem:
        form.add_problem(problem, field_map)
    except ChangedMeanwhile:
        form.changed_meanwhile, status = True, 409
    except (Conflict, NotAllowed) as problem:  # e.g. the four-eyes rule (403), a concluded case (409)
        target = next(iter(field_map.values()), None)
        form.add_error(target, problem.summary)
        status = problem.status
    else:
        done = form.get("done_as") or "saved"
        return RedirectResponse(f"/officer/applications/{application_id}/verification?done={done}#corrections", 303)
    return await _verification_tab(request, api, user, application_id, corrections=form, status_code=status)


@router.post("/{application_id}/verification/adjustments/{adjustment_id}/decision")
async def decide_adjustment(
    request: Request, application_id: UUID, adjustment_id: UUID, user: Officer, api: ApiClient
) -> Response:
    form = Form(await request.form())
    name = f"decision_note.{adjustment_id}"
    approve = form.get("approve") == "true"
    form.values["done_as"] = "approved" if approve else "rejected"
    case_id = await _case_id(api, application_id)
    if not str(form.get(name)).strip():
        form.add_error(name, _("Write why you approve or reject the adjustment"))
        return await _answer(request, api, user, application_id, form, None, {})
    write = api.post(
        f"/verifications/{case_id}/adjustments/{adjustment_id}/decision",
        {"approve": approve, "note": str(form.get(name)).strip()},
        if_match=if_match(form.get("adjustment_version")),
    )
    return await _answer(request, api, user, application_id, form, write, {"note": name, "approve": name})


@router.post("/{application_id}/verification/refreezes")
async def propose_refreeze(request: Request, application_id: UUID, user: Officer, api: ApiClient) -> Response:
    form = Form(await request.form())
    form.values["done_as"] = "refreeze"
    case_id = await _case_id(api, application_id)
    reason = str(form.get("refreeze_reason")).strip()
    if not reason:
        form.add_error("refreeze_reason", _("Write what was wrong with the baseline frozen at approval"))
        return await _answer(request, api, user, application_id, form, None, {})
    write = api.post(
        f"/verifications/{case_id}/baseline-refreezes",
        {"reason": reason},
        if_match=if_match(form.get("case_version")),
    )
    return await _answer(request, api, user, application_id, form, write, {"reason": "refreeze_reason"})


@router.post("/{application_id}/verification/reporting-start")
async def set_reporting_start(request: Request, application_id: UUID, user: Officer, api: ApiClient) -> Response:
    form = Form(await request.form())
    form.values["done_as"] = "reporting_start"
    case_id = await _case_id(api, application_id)
    for name, message in (
        ("reporting_start", _("Enter the first day a reporting period may start")),
        ("reporting_note", _("Write why reporting starts on this day")),
    ):
        if not str(form.get(name)).strip():
            form.add_error(name, message)
    if form.has_errors:
        return await _answer(request, api, user, application_id, form, None, {})
    write = api.put(
        f"/verifications/{case_id}/reporting-start",
        {"reporting_start": str(form.get("reporting_start")).strip(), "note": str(form.get("reporting_note")).strip()},
        if_match=if_match(form.get("case_version")),
    )
    field_map = {"reporting_start": "reporting_start", "note": "reporting_note"}
    return await _answer(request, api, user, application_id, form, write, field_map)
