"""The verifier's screens (role `verifier`): the queue of cases assigned to them, the declaration of independence
(first: no measurement screen before it, and a declared conflict closes them), the measurements per period and
carrier (added by hand or from a CSV, line by line), the results beside a chart of baseline, adjusted baseline
and actual use, the conclusion with its review note, and the report.

Every rule is the verification API's (who may measure, what a period may hold, when a review note is required);
the portal shows its answers. The pages are also readable by officers and auditors (the API decides what they
may see); the forms are shown only to the verifier who may use them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cleanprod_kit.units import CARRIER_UNITS

from .. import security, uploads
from ..api import Api, ApiProblem, ChangedMeanwhile, Conflict, FieldErrors, NotAllowed, NotFound
from ..deps import ApiClient, require_role
from ..enterprise.baseline_csv import CsvFileError, CsvLine, parse_baseline_csv
from ..enterprise.baseline_input import (
    CARRIERS,
    carrier_label,
    csv_carrier_columns,
    period_form_context,
    send_period,
    unit_field,
)
from ..enterprise.baselines import MAX_UPLOAD_BYTES, LineResult, UploadReport
from ..enterprise.registry import if_match
from ..forms import Form
from ..i18n import N_, current_language, gettext
from ..sessions import PortalSession
from ..streaming import sandboxed_report
from ..templating import render
from ..uploads import upload_error
from .chart_data import energy_chart, period_label
from .measurement_input import CSV_EXTRA_COLUMNS, CSV_TEMPLATE_COLUMNS, FORM_FIELDS, read_measurement

router = APIRouter(prefix="/verify")
Verifier = Annotated[PortalSession, Depends(require_role("verifier"))]

# case status → (label msgid, tag colour)
CASE_STATUSES: dict[str, tuple[str, str]] = {
    "awaiting_assignment": (N_("Awaiting a verifier"), "grey"),
    "assigned": (N_("Declaration needed"), "orange"),
    "conflict": (N_("Conflict declared"), "red"),
    "measuring": (N_("Measuring"), "blue"),
    "concluded": (N_("Concluded"), "green"),
}
VERDICTS = {"verified": N_("Savings verified"), "not_achieved": N_("Savings not achieved")}
METHODS = {
    "regression": N_("Regression baseline model (IPMVP Option C / ISO 50006)"),
    "sec": N_("Specific energy consumption (SEC = E/P)"),
    "sec_capped_by_regression": N_("SEC capped by the regression (the lower of the two estimates)"),
}
METHOD_WHY = {
    "regression": N_(
        "The baseline model passes every acceptance criterion, so it adjusts the baseline to the reporting conditions."
    ),
    "sec": N_(
        "No regression model passes the acceptance criteria, so savings are computed from the specific "
        "energy consumption."
    ),
    "sec_capped_by_regression": N_(
        "The model passes the statistical criteria but the reporting conditions lie "
        "outside the baseline range: the lower estimate is used and the result needs "
        "a review."
    ),
}


def case_status_label(status: str) -> str:
    entry = CASE_STATUSES.get(status)
    return gettext(entry[0]) if entry else status


def case_status_colour(status: str) -> str:
    entry = CASE_STATUSES.get(status)
    return entry[1] if entry else "grey"


# The side navigation (the shared `_workspace.html`): the queue, then the open case's steps. Each page template
# is the step it shows (the path marked as current).
QUEUE_PATH = "/verify"
CASE_STEPS: list[tuple[str, str]] = [
    ("", N_("The case")),
    ("/declaration", N_("Declaration of independence")),
    ("/measurements", N_("Measurements")),
    ("/results", N_("Results and conclusion")),
    ("/corrections", N_("Corrections")),  # corrections.py: adjustments, withdrawals, re-freezes
]
STEP_OF_TEMPLATE = {
    "verify/case.html": "",
    "verify/declaration.html": "/declaration",
    "verify/measurements.html": "/measurements",
    "verify/results.html": "/results",
    "verify/corrections.html": "/corrections",
}


def navigation(case: dict[str, Any] | None) -> list[tuple[str, str]]:
    items = [(QUEUE_PATH, N_("My cases"))]
    if case:
        items += [(f"{QUEUE_PATH}/{case['id']}{step}", label) for step, label in CASE_STEPS]
    return items


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    case = context.get("case")
    step = STEP_OF_TEMPLATE.get(template)
    active = f"{QUEUE_PATH}/{case['id']}{step}" if case and step is not None else QUEUE_PATH
    return render(
        request,
        template,
        {
            "case_status_label": case_status_label,
            "case_status_colour": case_status_colour,
            "verdicts": VERDICTS,
            "methods": METHODS,
            "method_why": METHOD_WHY,
            "navigation": navigation(case),
            "active": active,
            **context,
        },
        status_code=status_code,
    )


async def _case(api: Api, case_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """The case, its assignment, and the case's ETag (for If-Match)."""
    case_result, assignment = await asyncio.gather(
        api.get_with_etag(f"/verifications/{case_id}"), api.get(f"/verifications/{case_id}/assignment")
    )
    return case_result.data, assignment, case_result.etag


def _my_assignment(user: PortalSession, assignment: dict[str, Any]) -> dict[str, Any] | None:
    current = assignment.get("current")
    return current if current and current.get("verifier_subject") == user.subject else None


def _gate(case_id: uuid.UUID, user: PortalSession, assignment: dict[str, Any]) -> RedirectResponse | None:
    """The declaration comes first: before it, every measurement or results page leads to it."""
    mine = _my_assignment(user, assignment)
    if mine is None:
        raise NotAllowed(403, gettext("This case is not assigned to you."))
    if mine["status"] == "awaiting_declaration":
        return RedirectResponse(f"/verify/{case_id}/declaration", status_code=303)
    if mine["status"] == "conflict":
        return RedirectResponse(f"/verify/{case_id}", status_code=303)
    return None


# ---- queue and case page --------------------------------------------------------------------------------------
@router.get("", response_class=HTMLResponse)
async def queue(request: Request, user: Verifier, api: ApiClient) -> HTMLResponse:
    cases = await api.all_pages("/verifications", max_items=1000)  # the API lists a verifier's own cases only
    order = {"assigned": 0, "measuring": 1, "conflict": 2, "concluded": 3}
    cases.sort(key=lambda c: (order.get(c["status"], 9), c.get("dossier_code") or ""))
    return _page(request, "verify/queue.html", {"cases": cases})


@router.get("/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: uuid.UUID, user: Verifier, api: ApiClient) -> HTMLResponse:
    case, assignment, _etag = await _case(api, case_id)
    measurements = await api.get(f"/verifications/{case_id}/measurements")
    return _page(
        request,
        "verify/case.html",
        {
            "case": case,
            "assignment": assignment,
            "mine": _my_assignment(user, assignment),
            "measurement_count": len(_items(measurements)),
        },
    )


def _items(answer: Any) -> list[dict[str, Any]]:
    return answer.get("items", []) if isinstance(answer, dict) else list(answer or [])


# ---- declaration of independence ------------------------------------------------------------------------------
@router.get("/{case_id}/declaration", response_class=HTMLResponse)
async def declaration_form(request: Request, case_id: uuid.UUID, user: Verifier, api: ApiClient) -> HTMLResponse:
    case, assignment, etag = await _case(api, case_id)
    return _page(
        request,
        "verify/declaration.html",
        {"case": case, "mine": _my_assignment(user, assignment), "form": Form({"version": case["version"]})},
    )


async def _saved(form: Form, write: Awaitable[object]) -> bool:
    """Awaits one of the verifier's writes (it carries the case's version); what the API refuses goes to the form:
    field messages, the changed-meanwhile banner (412), or the API's reason (409). True when it was saved."""
    try:
        await write
    except FieldErrors as problem:
        form.add_problem(problem)
    except ChangedMeanwhile:
        form.changed_meanwhile = True
    except Conflict as problem:
        form.summary = problem.summary
    else:
        return True
    return False


@router.post("/{case_id}/declaration", response_class=HTMLResponse)
async def declare(request: Request, case_id: uuid.UUID, user: Verifier, api: ApiClient) -> Response:
    form = Form(await request.form())
    choice = form.get("independent")
    if choice not in ("true", "false"):
        form.add_error("independent", gettext("Say whether you are independent of the enterprise and its supplier"))
    if not str(form.get("statement")).strip():
        form.add_error("statement", gettext("Write what you declare (for a conflict: what the link is)"))
    if not form.has_errors:
        declared = api.post(
            f"/verifications/{case_id}/assignment/declaration",
            {"independent": choice == "true", "statement": form.get("statement").strip()},
            if_match=if_match(form.get("version")),
        )
        if await _saved(form, declared):
            target = "measurements" if choice == "true" else ""
            return RedirectResponse(f"/verify/{case_id}/{target}".rstrip("/"), status_code=303)
    case, assignment, _etag = await _case(api, case_id)
    form.values["version"] = case["version"]  # after a 412: save again against the case as it is now
    if not form.summary and not form.changed_meanwhile:
        form.summary = gettext("The declaration was not saved. Check the answers marked below.")
    return _page(
        request,
        "verify/declaration.html",
        {"case": case, "mine": _my_assignment(user, assignment), "form": form},
        status_code=409 if form.changed_meanwhile else 422,
    )


# ---- measurements ---------------------------------------------------------------------------------------------
def _empty_period_form() -> Form:
    return Form({"production_unit": "t", **{unit_field(c): CARRIER_UNITS[c][0] for c in CARRIERS}})


async def _documents(api: Api, case: dict[str, Any]) -> list[dict[str, Any]]:
    """The application's documents the verifier may cite as evidence (empty when the API lets them read none)."""
    try:
        answer = await api.get(f"/applications/{case['application_id']}/documents")
    except (NotFound, NotAllowed):
        return []
    return _items(answer)


def _grid(measurements: list[dict[str, Any]], documents: list[dict[str, Any]]) -> dict[str, Any]:
    names = {d["id"]: d.get("filename") or d.get("name") or d["id"] for d in documents}
    rows = []
    for m in sorted(measurements, key=lambda m: m["period_start"]):
        current = m["current"]
        evidence = current.get("evidence") or {}
        rows.append(
            {
                "id": m["id"],
                "period": period_label(m["period_start"], m["period_end"]),
                "revision": m["revision"],
                "revisions": len(m.get("revisions") or []),
                "production": current["production"],
                "consumption": {c["carrier"]: c for c in current["consumption"]},
                "cdd": current.get("cdd"),
                "hdd": current.get("hdd"),
                "estimated": current.get("estimated"),
                "evidence": evidence,
                "evidence_name": names.get(evidence.get("document_id"), evidence.get("document_id")),
                "reason": current.get("reason"),
            }
        )
    used = {c for row in rows for c in row["consumption"]}
    return {"rows": rows, "carriers_used": [(c, carrier_label(c)) for c in CARRIERS if c in used]}


async def _measurements_page(
    request: Request,
    api: Api,
    user: PortalSession,
    case_id: uuid.UUID,
    *,
    form: Form | None = None,
    upload_form: Form | None = None,
    report: UploadReport | None = None,
    added: str | None = None,
    evidence_form: Form | None = None,
    status_code: int = 200,
) -> Response:
    case, assignment, _etag = await _case(api, case_id)
    gate = _gate(case_id, user, assignment)
    if gate:
        return gate
    measurements, documents = await asyncio.gather(
        api.get(f"/verifications/{case_id}/measurements"), _documents(api, case)
    )
    return _page(
        request,
        "verify/measurements.html",
        {
            "case": case,
            **_grid(_items(measurements), documents),
            "form": form or _empty_period_form(),
            "upload_form": upload_form or Form(),
            "report": report,
            "added": added,
            "documents": [(d["id"], d.get("filename") or d["id"]) for d in documents],
            "evidence_form": evidence_form or Form(),
            "evidence_added": next(
                (d.get("filename") for d in documents if d["id"] == request.query_params.get("evidence")), None
            ),
            **period_form_context(),
            "csv_columns": CSV_TEMPLATE_COLUMNS,
            "csv_carriers": csv_carrier_columns(),
        },
        status_code=status_code,
    )


@router.get("/{case_id}/measurements", response_class=HTMLResponse)
async def measurements_page(request: Request, case_id: uuid.UUID, user: Verifier, api: ApiClient) -> Response:
    return await _measurements_page(request, api, user, case_id, added=request.query_params.get("added"))


@router.post("/{case_id}/measurements", response_class=HTMLResponse)
async def add_measurement(request: Request, case_id: uuid.UUID, user: Verifier, api: ApiClient) -> Response:
    submitted = await request.form()
    form = Form({k: submitted.get(k) for k in (*FORM_FIELDS, "idempotency_key") if k in submitted})
    path = f"/verifications/{case_id}/measurements"
    if await send_period(
        form, read_measurement(form.values), lambda body: api.post(path, body, idempotency_key=form.idempotency_key)
    ):
        month = form.get("period").strip()
        return RedirectResponse(f"/verify/{case_id}/measurements?added={month}#measurements", status_code=303)
    return await _measurements_page(request, api, user, case_id, form=form, status_code=422)


def _line_key(case_id: uuid.UUID, body: dict[str, Any]) -> str:
    """The same line sent again (the corrected file uploaded whole) replays its first answer."""
    canonical = json.dumps({"case": str(case_id), "body": body}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


async def _save_line(api: Api, case_id: uuid.UUID, line: CsvLine) -> LineResult:
    result = LineResult(line.line, line.period)
    if line.baseline.body is None:
        result.problems = [(line.column_of(n), m) for n, m in line.baseline.errors.items()]
        return result
    try:
        await api.post(
            f"/verifications/{case_id}/measurements",
            line.baseline.body,
            idempotency_key=_line_key(case_id, line.baseline.body),
        )
    except FieldErrors as exc:
        result.problems = [(line.column_of(line.baseline.field_for(p)), m) for p, m in exc.errors.items()]
        if not result.problems:
            result.problems = [("", exc.summary)]
    except ApiProblem as exc:
        if exc.status >= 500 or exc.status in (401, 403, 404):
            raise
        result.problems = [("", exc.summary)]
    return result


@router.post("/{case_id}/measurements/upload", response_class=HTMLResponse)
async def upload_measurements(request: Request, case_id: uuid.UUID, user: Verifier, api: ApiClient) -> Response:
    submitted = await request.form()
    upload = submitted.get("file")
    upload_form = Form(
        {
            k: submitted.get(k)
            for k in ("evidence_document_id", "evidence_url", "evidence_description")
            if k in submitted
        }
    )
    filename = getattr(upload, "filename", "") or ""
    report = UploadReport(filename)
    if upload is None or isinstance(upload, str) or not filename:
        report.file_error = gettext("Choose a CSV file to upload")
        return await _measurements_page(
            request, api, user, case_id, upload_form=upload_form, report=report, status_code=422
        )
    data = await upload.read(MAX_UPLOAD_BYTES)
    default_evidence = {k: str(v) for k, v in upload_form.values.items()}
    try:
        lines = parse_baseline_csv(
            data, extra_columns=CSV_EXTRA_COLUMNS, read=lambda values: read_measurement(values, default_evidence)
        )
    except CsvFileError as exc:
        report.file_error = str(exc)
        return await _measurements_page(
            request, api, user, case_id, upload_form=upload_form, report=report, status_code=422
        )
    for line in lines:
        report.lines.append(await _save_line(api, case_id, line))
    return await _measurements_page(
        request, api, user, case_id, upload_form=upload_form, report=report, status_code=200 if report.saved else 422
    )


@router.post("/{case_id}/evidence", response_class=HTMLResponse)
@security.checks_csrf_itself
async def attach_evidence(request: Request, case_id: uuid.UUID, user: Verifier, api: ApiClient) -> Response:
    """A file of evidence (meter readings, bills, photos) attached to the application as `measurement_evidence`;
    the measurement forms then offer it. Streamed on as it arrives by the portal's one upload relay (`uploads`,
    as the enterprise's documents); the API checks size and type, and its refusals (413, 415, 409, 403) are shown
    next to the field."""
    incoming = await uploads.receive(request, user.csrf_token, file_field="evidence_file")
    case, assignment, _etag = await _case(api, case_id)
    gate = _gate(case_id, user, assignment)
    if gate:
        return gate
    evidence_form = Form()
    if not incoming.has_file:
        evidence_form.add_error("evidence_file", gettext("Choose a file to upload"))
    else:
        try:
            added = await incoming.send(
                api, f"/applications/{case['application_id']}/documents", {"kind": "measurement_evidence"}
            )
        except ApiProblem as problem:  # what the file or the case's state made the API refuse: said at the field
            if not isinstance(problem, (FieldErrors, Conflict, NotAllowed)) and problem.status not in (413, 415):
                raise
            evidence_form.add_error("evidence_file", upload_error(problem))
        else:
            url = f"/verify/{case_id}/measurements?evidence={added.data['id']}#evidence-heading"
            return RedirectResponse(url, status_code=303)
    return await _measurements_page(request, api, user, case_id, evidence_form=evidence_form, status_code=422)


@router.get("/measurements/template.csv")
async def measurement_template(user: Verifier) -> Response:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_TEMPLATE_COLUMNS)
    writer.writerow(
        (
            "2026-01",
            "1250,5",
            "t",
            "412000",
            "55,2",
            "0",
            "",
            "",
            "https://evn.example/hd-0126",
            "Hóa đơn EVN tháng 1/2026",
        )
    )
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="measurements-template.csv"'},
    )


# ---- results, chart and conclusion ----------------------------------------------------------------------------
async def _results_page(
    request: Request,
    api: Api,
    user: PortalSession,
    case_id: uuid.UUID,
    *,
    form: Form | None = None,
    status_code: int = 200,
) -> Response:
    case, assignment, _etag = await _case(api, case_id)
    if case["status"] != "concluded":
        gate = _gate(case_id, user, assignment)
        if gate:
            return gate
    problem = None
    result = None
    try:
        if case["status"] == "concluded":
            result = await api.get(f"/verifications/{case_id}/result")
        else:
            result = await api.get(f"/verifications/{case_id}/preview")
    except (FieldErrors, Conflict) as exc:  # e.g. no reporting period yet: the API says what is missing
        problem = exc.summary
    form = form or Form()
    form.values["version"] = case["version"]
    chart = energy_chart(result, current_language()) if result else None
    return _page(
        request,
        "verify/results.html",
        {"case": case, "result": result, "problem": problem, "chart": chart, "form": form},
        status_code=status_code,
    )


@router.get("/{case_id}/results", response_class=HTMLResponse)
async def results_page(request: Request, case_id: uuid.UUID, user: Verifier, api: ApiClient) -> Response:
    return await _results_page(request, api, user, case_id)


@router.post("/{case_id}/conclude", response_class=HTMLResponse)
async def conclude(request: Request, case_id: uuid.UUID, user: Verifier, api: ApiClient) -> Response:
    form = Form(await request.form())
    note = str(form.get("review_note")).strip()
    concluded = api.post(
        f"/verifications/{case_id}/conclude",
        {"review_note": note} if note else {},
        if_match=if_match(form.get("version")),
    )
    if await _saved(form, concluded):
        return RedirectResponse(f"/verify/{case_id}/results?concluded=1", status_code=303)
    return await _results_page(
        request, api, user, case_id, form=form, status_code=409 if form.changed_meanwhile else 422
    )


# ---- the report -----------------------------------------------------------------------------------------------
@router.get("/{case_id}/report")
async def report(request: Request, case_id: uuid.UUID, user: Verifier, api: ApiClient) -> Response:
    # In the page's language, fetched with the user's token: the API decides who may read it (enterprise owner,
    # officers, auditors, the assigned verifier).
    return await sandboxed_report(api, str(case_id))
