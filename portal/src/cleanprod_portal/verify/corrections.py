"""The verifier's corrections of a case (issue 15): non-routine adjustments to the baseline (IPMVP; recorded here with
their reason, amount and evidence, decided by an officer on the case page), withdrawing a measurement recorded by
mistake (append-only: a withdrawing revision with its reason), and confirming a baseline re-freeze an officer proposed
(four-eyes: the figures on the old and on the new baseline both stay visible). The API decides every rule; the page
shows its answers next to the fields."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from cleanprod_kit.units import CARRIER_UNITS

from ..api import Api, ChangedMeanwhile, Conflict, FieldErrors
from ..deps import ApiClient
from ..enterprise.application_inputs import parse_decimal
from ..enterprise.baseline_input import CARRIERS, carrier_label
from ..enterprise.registry import if_match
from ..forms import Form
from ..i18n import N_, gettext
from ..sessions import PortalSession
from .chart_data import period_label
from .routes import Verifier, _case, _gate, _items, _page, _saved

router = APIRouter(prefix="/verify")
ADJUSTMENT_STATUSES = {"proposed": N_("Waiting for an officer"), "approved": N_("Approved"), "rejected": N_("Rejected")}
REFREEZE_STATUSES = {"proposed": N_("Proposed by an officer"), "confirmed": N_("Confirmed")}


def adjustment_units() -> list[tuple[str, str]]:
    """(value, label) for the unit select: every carrier's units, once each."""
    seen: dict[str, str] = {}
    for carrier in CARRIERS:
        for unit in CARRIER_UNITS[carrier]:
            seen.setdefault(unit, unit)
    return list(seen.items())


async def corrections_context(api: Api, case_id: uuid.UUID) -> dict[str, Any]:
    """What the corrections show, for the verifier's page and the officer's case tab alike."""
    adjustments, refreezes, measurements = await asyncio.gather(
        api.get(f"/verifications/{case_id}/adjustments"),
        api.get(f"/verifications/{case_id}/baseline-refreezes"),
        api.get(f"/verifications/{case_id}/measurements"),
    )
    periods = [
        {
            "id": m["id"],
            "period": period_label(m["period_start"], m["period_end"]),
            "revision": m["revision"],
            "withdrawn": m.get("withdrawn", False),
            "reason": m["current"].get("reason"),
            "choice": (f"{m['id']}:{m['revision']}", period_label(m["period_start"], m["period_end"])),
        }
        for m in sorted(_items(measurements), key=lambda m: m["period_start"])
    ]
    return {
        "adjustments": adjustments,
        "refreezes": refreezes,
        "periods": periods,
        "adjustment_statuses": ADJUSTMENT_STATUSES,
        "refreeze_statuses": REFREEZE_STATUSES,
        "carrier_options": [(c, carrier_label(c)) for c in CARRIERS],
        "unit_options": adjustment_units(),
    }


async def _corrections_page(
    request: Request, api: Api, user: PortalSession, case_id: uuid.UUID, *, form: Form | None = None, status: int = 200
) -> Response:
    case, assignment, _etag = await _case(api, case_id)
    gate = _gate(case_id, user, assignment)
    if gate:
        return gate
    form = form or Form({"unit": "kWh", "carrier": "electricity"})
    form.values["case_version"] = str(case["version"])  # a retry after a 412 takes the case as it is now
    context = await corrections_context(api, case_id)
    done = request.query_params.get("done")
    return _page(request, "verify/corrections.html", {"case": case, "form": form, "done": done, **context}, status)


@router.get("/{case_id}/corrections")
async def corrections(request: Request, case_id: uuid.UUID, user: Verifier, api: ApiClient) -> Response:
    return await _corrections_page(request, api, user, case_id)


@router.post("/{case_id}/adjustments")
async def record_adjustment(request: Request, case_id: uuid.UUID, user: Verifier, api: ApiClient) -> Response:
    form = Form(await request.form())
    quantity = parse_decimal(form, "quantity", gettext("Enter the amount as a number, like -1250,5"), signed=True)
    evidence = form.data(["document_id", "url", "description"])
    body = {**form.data(["carrier", "unit", "reason"]), "quantity": quantity, "evidence": evidence}
    if not str(form.get("reason")).strip():
        form.add_error("reason", gettext("Write what changed and how the amount was estimated"))
    if not form.has_errors:
        # the API's evidence fields are nested: evidence.url → the form's url
        field_map = {f"evidence.{name}": name for name in ("document_id", "url", "description")}
        try:
            await api.post(f"/verifications/{case_id}/adjustments", body, idempotency_key=form.idempotency_key)
        except FieldErrors as problem:
            form.add_problem(problem, field_map)
        except ChangedMeanwhile:
            form.changed_meanwhile = True
        except Conflict as problem:
            form.summary = problem.summary
        else:
            return RedirectResponse(f"/verify/{case_id}/corrections?done=adjustment#adjustments", status_code=303)
    return await _corrections_page(request, api, user, case_id, form=form, status=422)


@router.post("/{case_id}/withdrawals")
async def withdraw(request: Request, case_id: uuid.UUID, user: Verifier, api: ApiClient) -> Response:
    """One period withdrawn: `measurement` = "<id>:<revision>" (the revision shown: If-Match), with its reason."""
    form = Form(await request.form())
    measurement_id, _sep, revision = str(form.get("measurement")).partition(":")
    reason = str(form.get("withdraw_reason")).strip()
    if not measurement_id:
        form.add_error("measurement", gettext("Choose the period to withdraw"))
    if not reason:
        form.add_error("withdraw_reason", gettext("Write why this period is withdrawn"))
    if not form.has_errors:
        written = api.post(
            f"/verifications/{case_id}/measurements/{measurement_id}/withdrawal",
            {"reason": reason},
            if_match=if_match(revision),  # the revision withdrawn: a second click gets the banner
        )
        if await _saved(form, written):
            return RedirectResponse(f"/verify/{case_id}/corrections?done=withdrawal#withdrawals", status_code=303)
        if "reason" in form.errors:
            form.add_error("withdraw_reason", form.errors.pop("reason"))
    return await _corrections_page(
        request, api, user, case_id, form=form, status=409 if form.changed_meanwhile else 422
    )


@router.post("/{case_id}/refreezes/{refreeze_id}/confirmation")
async def confirm_refreeze(
    request: Request, case_id: uuid.UUID, refreeze_id: uuid.UUID, user: Verifier, api: ApiClient
) -> Response:
    form = Form(await request.form())
    name = f"confirm_note.{refreeze_id}"
    note = str(form.get(name)).strip()
    if not note:
        form.add_error(name, gettext("Write what you checked in the new baseline"))
    else:
        answer = Form()
        written = api.post(
            f"/verifications/{case_id}/baseline-refreezes/{refreeze_id}/confirmation",
            {"note": note},
            if_match=if_match(form.get("case_version")),
        )
        if await _saved(answer, written):
            return RedirectResponse(f"/verify/{case_id}/corrections?done=refreeze#refreezes", status_code=303)
        for _field, message in answer.errors.items():
            form.add_error(name, message)
        form.summary, form.changed_meanwhile = answer.summary, answer.changed_meanwhile
    return await _corrections_page(
        request, api, user, case_id, form=form, status=409 if form.changed_meanwhile else 422
    )
