"""Baselines of a facility: the grid (one row per period, production and each carrier's consumption with its
unit), a period added by hand (a form row; with htmx the grid is swapped in place, without it the page is
posted and reloaded), and the CSV upload with a report line by line.

The upload saves each line that is right and reports every line that is not (its number, the column and the
reason, in the user's language) — the page says so. The registry has no bulk endpoint, so each line is one
POST with an Idempotency-Key made from the facility and the line's values: uploading the corrected file again
saves the corrected lines and replays the lines saved the first time (no "overlapping period" for them); a
line that changes an already recorded month is refused as overlapping.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cleanprod_kit.units import CARRIER_UNITS

from ..api import Api, ApiProblem, ChangedMeanwhile, FieldErrors, NotFound
from ..deps import ApiClient, Enterprise
from ..forms import Form
from ..i18n import gettext
from ..templating import render
from .baseline_csv import CsvFileError, CsvLine, parse_baseline_csv, template_csv
from .baseline_input import (
    CARRIERS,
    FORM_FIELDS,
    carrier_label,
    csv_carrier_columns,
    period_form_context,
    quantity_field,
    read_baseline,
    send_period,
    unit_field,
)
from .numbers import month_of, plain_number
from .registry import if_match
from .routes import workspace_page

router = APIRouter(prefix="/enterprise")
MAX_UPLOAD_BYTES = 1024 * 1024 + 4096  # the CSV limit plus the multipart envelope


def _period_label(start: str, end: str) -> str:
    """`2025-01` for a calendar month (how the grid and the CSV name periods), else `dd/mm/yyyy – dd/mm/yyyy`."""
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    if first.day == 1 and last == first.replace(day=calendar.monthrange(first.year, first.month)[1]):
        return month_of(first)
    return f"{first:%d/%m/%Y} – {last:%d/%m/%Y}"


def empty_row_form() -> Form:
    """The add-a-period form with each carrier's first unit chosen."""
    return Form({"production_unit": "t", **{unit_field(c): CARRIER_UNITS[c][0] for c in CARRIERS}})


async def baseline_grid_context(
    api: Api, facility: dict[str, Any], form: Form | None = None, added: str | None = None, corrected: str | None = None
) -> dict[str, Any]:
    """What `_baseline_grid.html` shows: the periods in order, the carriers any period uses, the add form."""
    baselines = await api.all_pages(f"/facilities/{facility['id']}/baselines", max_items=2000)
    baselines.sort(key=lambda b: b["period_start"])
    used = {c["carrier"] for b in baselines for c in b["consumption"]}
    rows = [
        {
            "id": b["id"],
            "period": _period_label(b["period_start"], b["period_end"]),
            "production": b["production"],
            "consumption": {c["carrier"]: c for c in b["consumption"]},
            "estimated": b["estimated"],
            "notes": b["notes"],
        }
        for b in baselines
    ]
    return {
        "facility": facility,
        "baseline_rows": rows,
        "carriers_used": [(c, carrier_label(c)) for c in CARRIERS if c in used],
        "row_form": form or empty_row_form(),
        "added": added,
        "corrected": corrected,
        **period_form_context(),
    }


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return workspace_page(request, template, "/enterprise/baselines", context, status_code)


@router.get("/baselines", response_class=HTMLResponse)
async def choose_facility(request: Request, user: Enterprise, api: ApiClient) -> HTMLResponse:
    facilities = await api.all_pages("/facilities", max_items=1000)
    return _page(request, "enterprise/baselines_index.html", {"facilities": facilities})


@router.get("/baselines/template.csv")
async def baseline_template(user: Enterprise) -> Response:
    return Response(
        template_csv().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="baseline-template.csv"'},
    )


async def _baselines_page(
    request: Request,
    api: Api,
    facility: dict[str, Any],
    *,
    form: Form | None = None,
    added: str | None = None,
    corrected: str | None = None,
    report: UploadReport | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    grid = await baseline_grid_context(api, facility, form, added, corrected)
    return _page(
        request,
        "enterprise/baselines.html",
        {
            **grid,
            "report": report,
            "csv_carriers": csv_carrier_columns(),
        },
        status_code,
    )


@router.get("/facilities/{facility_id}/baselines", response_class=HTMLResponse)
async def baselines_page(request: Request, facility_id: uuid.UUID, user: Enterprise, api: ApiClient) -> HTMLResponse:
    facility = await api.get(f"/facilities/{facility_id}")
    return await _baselines_page(
        request, api, facility, added=request.query_params.get("added"), corrected=request.query_params.get("corrected")
    )


@router.post("/facilities/{facility_id}/baselines", response_class=HTMLResponse)
async def add_period(request: Request, facility_id: uuid.UUID, user: Enterprise, api: ApiClient) -> Response:
    facility = await api.get(f"/facilities/{facility_id}")
    submitted = await request.form()
    form = Form({k: submitted.get(k) for k in (*FORM_FIELDS, "idempotency_key") if k in submitted})
    path = f"/facilities/{facility['id']}/baselines"
    if await send_period(
        form, read_baseline(form.values), lambda body: api.post(path, body, idempotency_key=form.idempotency_key)
    ):
        month = form.get("period").strip()
        if request.headers.get("hx-request") == "true":
            grid = await baseline_grid_context(api, facility, None, month)
            return render(request, "enterprise/_baseline_grid.html", grid)
        return RedirectResponse(
            f"/enterprise/facilities/{facility['id']}/baselines?added={month}#baselines", status_code=303
        )
    if request.headers.get("hx-request") == "true":
        return render(
            request, "enterprise/_baseline_grid.html", await baseline_grid_context(api, facility, form), status_code=422
        )
    return await _baselines_page(request, api, facility, form=form, status_code=422)


# ---- correcting a recorded period ---------------------------------------------------------------------------
def _period_form_values(baseline: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "period": month_of(baseline["period_start"]),
        "production_quantity": plain_number(baseline["production"]["quantity"]),
        "production_unit": baseline["production"]["unit"],
        "estimated": "1" if baseline["estimated"] else "",
        "notes": baseline["notes"] or "",
        "version": baseline["version"],
    }
    values.update(empty_row_form().values)
    for item in baseline["consumption"]:
        values[quantity_field(item["carrier"])] = plain_number(item["quantity"])
        values[unit_field(item["carrier"])] = item["unit"]
    return values


async def _correction_page(
    request: Request, api: Api, facility: dict[str, Any], baseline: dict[str, Any], form: Form, status_code: int = 200
) -> HTMLResponse:
    grid = await baseline_grid_context(api, facility, form)
    return _page(
        request,
        "enterprise/baseline_edit.html",
        {**grid, "baseline": baseline, "period": _period_label(baseline["period_start"], baseline["period_end"])},
        status_code,
    )


@router.get("/facilities/{facility_id}/baselines/{baseline_id}/edit", response_class=HTMLResponse)
async def correct_period_form(
    request: Request, facility_id: uuid.UUID, baseline_id: uuid.UUID, user: Enterprise, api: ApiClient
) -> HTMLResponse:
    facility = await api.get(f"/facilities/{facility_id}")
    baseline = await api.get(f"/facilities/{facility_id}/baselines/{baseline_id}")
    return await _correction_page(request, api, facility, baseline, Form(_period_form_values(baseline)))


@router.post("/facilities/{facility_id}/baselines/{baseline_id}/edit", response_class=HTMLResponse)
async def correct_period(
    request: Request, facility_id: uuid.UUID, baseline_id: uuid.UUID, user: Enterprise, api: ApiClient
) -> Response:
    facility = await api.get(f"/facilities/{facility_id}")
    path = f"/facilities/{facility_id}/baselines/{baseline_id}"
    baseline = await api.get(path)
    submitted = await request.form()
    form = Form({k: submitted.get(k) for k in (*FORM_FIELDS, "version") if k in submitted})
    try:
        saved = await send_period(
            form, read_baseline(form.values), lambda body: api.put(path, body, if_match=if_match(form.get("version")))
        )
    except ChangedMeanwhile:
        form.changed_meanwhile = True
        form.values["version"] = baseline["version"]  # review, then save against the period as it is now
        return await _correction_page(request, api, facility, baseline, form, 412)
    if saved:
        month = form.get("period").strip()
        return RedirectResponse(
            f"/enterprise/facilities/{facility_id}/baselines?corrected={month}#baselines", status_code=303
        )
    return await _correction_page(request, api, facility, baseline, form, 422)


# ---- CSV upload ---------------------------------------------------------------------------------------------
@dataclass
class LineResult:
    line: int
    period: str
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column as written in the file, message)

    @property
    def saved(self) -> bool:
        return not self.problems


@dataclass
class UploadReport:
    filename: str
    file_error: str | None = None
    lines: list[LineResult] = field(default_factory=list)

    @property
    def saved(self) -> list[LineResult]:
        return [r for r in self.lines if r.saved]

    @property
    def failed(self) -> list[LineResult]:
        return [r for r in self.lines if not r.saved]


def _column_name(line: CsvLine, field_name: str) -> str:
    if field_name == "consumption":
        return gettext("consumption columns")
    return line.column_of(field_name)


def _line_key(facility_id: str, body: dict[str, Any]) -> str:
    """The same line uploaded again (the corrected file, sent whole) is the same request: the registry answers
    the first result instead of refusing the period as overlapping."""
    canonical = json.dumps({"facility": facility_id, "body": body}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


async def _save_line(api: Api, facility_id: str, line: CsvLine) -> LineResult:
    result = LineResult(line.line, line.period)
    if line.baseline.body is None:
        result.problems = [(_column_name(line, n), m) for n, m in line.baseline.errors.items()]
        return result
    try:
        await api.post(
            f"/facilities/{facility_id}/baselines",
            line.baseline.body,
            idempotency_key=_line_key(facility_id, line.baseline.body),
        )
    except NotFound:
        raise
    except FieldErrors as exc:
        result.problems = [(_column_name(line, line.baseline.field_for(p)), m) for p, m in exc.errors.items()]
        if not result.problems:
            result.problems = [("", exc.summary)]
    except ApiProblem as exc:
        if exc.status >= 500 or exc.status in (401, 403):
            raise
        result.problems = [("", exc.summary)]
    return result


@router.post("/facilities/{facility_id}/baselines/upload", response_class=HTMLResponse)
async def upload_baselines(request: Request, facility_id: uuid.UUID, user: Enterprise, api: ApiClient) -> HTMLResponse:
    facility = await api.get(f"/facilities/{facility_id}")
    submitted = await request.form()
    upload = submitted.get("file")
    filename = getattr(upload, "filename", "") or ""
    report = UploadReport(filename)
    if upload is None or isinstance(upload, str) or not filename:
        report.file_error = gettext("Choose a CSV file to upload")
        return await _baselines_page(request, api, facility, report=report, status_code=422)
    data = await upload.read(MAX_UPLOAD_BYTES)
    try:
        lines = parse_baseline_csv(data)
    except CsvFileError as exc:
        report.file_error = str(exc)
        return await _baselines_page(request, api, facility, report=report, status_code=422)
    for line in lines:
        report.lines.append(await _save_line(api, str(facility["id"]), line))
    return await _baselines_page(request, api, facility, report=report, status_code=200 if report.saved else 422)
