"""The application as a task list (save as you go): the task list page, one form page per step that PATCHes
only its own fields (hidden `version` → If-Match), "check your answers" and submit / resubmit.

Every step form has two buttons: "Save and continue" (→ the next step) and "Save and come back later" (→ the
task list). A 412 re-renders the form with what was typed, the "changed meanwhile" banner and the current
version, so saving again applies the typed values to the current record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import ChangedMeanwhile, FieldErrors, NotFound
from ..carriers import carrier_name, carrier_options, units_of
from ..deps import ApiClient, Enterprise
from ..formatting import local_date, number, percent, vnd
from ..forms import Form, field_id
from ..i18n import N_, _, gettext
from ..templating import render
from . import application_tasks as tasks
from .application_inputs import decimal_input, parse_date, parse_decimal, parse_vnd, vnd_input
from .routes import NAVIGATION

router = APIRouter(prefix=tasks.APPLICATIONS_PATH)
MAX_CARRIER_ROWS = 11  # the kit knows 11 carriers; each may be claimed once


def _context(application: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "application": application,
        "navigation": NAVIGATION,
        "active": tasks.APPLICATIONS_PATH,
        "tasks_url": tasks.application_url(application["id"], "/tasks"),
        **extra,
    }


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ---- the task list ---------------------------------------------------------------------------------------------
# The task tags ("Chưa bắt đầu / Đang làm / Hoàn thành") differ in Vietnamese from the application statuses of the
# same English name ("Đã hoàn thành", "Đang thực hiện"): their own msgids, English text in the en catalogue.
TASK_TAGS = {
    "completed": N_("Completed (task status)"),
    "in_progress": N_("In progress (task status)"),
    "not_started": N_("Not started"),
    "cannot_start": N_("Cannot start yet"),
}


def _tag(row: dict[str, Any]) -> dict[str, Any]:
    msgid = TASK_TAGS[row["status"]]
    return {**row, "label": gettext(msgid)}


async def documents_of(api: ApiClient, application_id: str) -> list[dict[str, Any]]:
    return await api.all_pages(f"/applications/{application_id}/documents", limit=50, max_items=200)


def task_rows(application: dict[str, Any], documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of `_task_list.html`: call & facility, the four steps, documents, check your answers."""
    app_id = application["id"]
    rows: list[dict[str, Any]] = [
        {
            "title": _("Call and facility"),
            "href": tasks.application_url(app_id, "/call"),
            "status": "completed",
            "id": "task-call",
        }
    ]
    for step in tasks.STEPS:
        rows.append(
            {
                "title": tasks.step_title(step),
                "href": tasks.step_url(app_id, step.slug),
                "status": tasks.step_status(step, application),
                "id": f"task-{step.slug}",
            }
        )
    rows.append(
        {
            "title": _("Documents"),
            "href": tasks.application_url(app_id, "/documents"),
            "status": "completed" if documents else "not_started",
            "id": "task-documents",
            "hint": _("Optional: feasibility study, quotations, energy audit"),
        }
    )
    ready = not tasks.missing_fields(application)
    rows.append(
        {
            "title": _("Check your answers and submit"),
            "href": tasks.application_url(app_id, "/check"),
            "status": "not_started" if ready else "cannot_start",
            "id": "task-check",
            "hint": None if ready else _("Complete the tasks above first"),
        }
    )
    return [_tag(row) for row in rows]


@router.get("/{application_id}/tasks", response_class=HTMLResponse)
async def task_list(request: Request, application_id: str, user: Enterprise, api: ApiClient) -> Response:
    application = await tasks.load_application(api, application_id)
    if not tasks.is_editable(application):
        return _redirect(tasks.application_url(application_id))
    documents = await documents_of(api, application_id)
    rows = task_rows(application, documents)
    done = sum(1 for row in rows[:-1] if row["status"] == "completed")
    return render(
        request,
        "enterprise/applications/tasks.html",
        _context(
            application,
            rows=rows,
            done=done,
            total=len(rows) - 1,
            call=await tasks.load_call(api, application["call_id"]),
        ),
    )


@router.get("/{application_id}/call", response_class=HTMLResponse)
async def call_and_facility(request: Request, application_id: str, user: Enterprise, api: ApiClient) -> HTMLResponse:
    """Read-only: a dossier's call and facility never change (start another application instead)."""
    application = await tasks.load_application(api, application_id)
    call = await tasks.load_call(api, application["call_id"])
    return render(request, "enterprise/applications/call_facility.html", _context(application, call=call))


# ---- step forms ------------------------------------------------------------------------------------------------
def _values_from_application(slug: str, application: dict[str, Any]) -> dict[str, Any]:
    """What a step's form shows when opened: the saved values in the form's own notation."""
    a = application
    values: dict[str, Any] = {"version": a.get("version")}
    if slug == "technology":
        supplier = a.get("supplier") or {}
        values.update(
            {
                "title": a.get("title") or "",
                "technology": a.get("technology") or "",
                "supplier.name": supplier.get("name") or "",
                "supplier.tax_code": supplier.get("tax_code") or "",
            }
        )
    elif slug == "costs":
        for name in ("total_cost_vnd", "eligible_cost_vnd", "requested_support_vnd"):
            values[name] = vnd_input(a.get(name))
    elif slug == "savings":
        claims = a.get("claimed_savings") or []
        for i, claim in enumerate(claims or [{}]):
            annual = claim.get("annual_saving") or {}
            values[f"claimed_savings.{i}.carrier"] = claim.get("carrier") or ""
            values[f"claimed_savings.{i}.saving_pct"] = decimal_input(claim.get("saving_pct"))
            values[f"claimed_savings.{i}.annual_saving.quantity"] = decimal_input(annual.get("quantity"))
            values[f"claimed_savings.{i}.annual_saving.unit"] = annual.get("unit") or ""
        values["claimed_overall_saving_pct"] = decimal_input(a.get("claimed_overall_saving_pct"))
    elif slug == "dates":
        values["implementation_start"] = a.get("implementation_start") or ""
        values["implementation_end"] = a.get("implementation_end") or ""
    return values


def carrier_rows(form: Form) -> list[int]:
    """Indexes of the carrier rows the form holds (claimed_savings.<i>.carrier), in order."""
    indexes = sorted(
        {
            int(key.split(".")[1])
            for key in form.values
            if key.startswith("claimed_savings.") and key.split(".")[1].isdigit()
        }
    )
    return indexes or [0]


def _renumber_rows(form: Form, keep: list[int]) -> None:
    """Rows after add/remove are numbered 0..n-1 again (the API's error paths are list positions)."""
    old = {k: v for k, v in form.values.items() if k.startswith("claimed_savings.")}
    for key in old:
        del form.values[key]
    for new, i in enumerate(keep):
        for part in ("carrier", "saving_pct", "annual_saving.quantity", "annual_saving.unit"):
            form.values[f"claimed_savings.{new}.{part}"] = old.get(f"claimed_savings.{i}.{part}", "")


def _body_technology(form: Form) -> dict[str, Any]:
    data = form.data(["title", "technology", "supplier.name", "supplier.tax_code"])
    body: dict[str, Any] = {name: data[name] for name in ("title", "technology") if data[name] is not None}
    if data["supplier.name"] or data["supplier.tax_code"]:
        body["supplier"] = {"name": data["supplier.name"] or "", "tax_code": data["supplier.tax_code"]}
    else:
        body["supplier"] = None  # the supplier is optional: clearing both fields removes it
    return body


def _body_costs(form: Form) -> dict[str, Any]:
    body = {}
    for name in ("total_cost_vnd", "eligible_cost_vnd", "requested_support_vnd"):
        value = parse_vnd(form, name)
        if value is not None:
            body[name] = value
    return body


def _body_savings(form: Form) -> dict[str, Any]:
    claims = []
    form.claim_rows = []  # type: ignore[attr-defined] # the form row of each claim sent (for the API's error paths)
    for i in carrier_rows(form):
        prefix = f"claimed_savings.{i}"
        carrier = str(form.get(f"{prefix}.carrier") or "").strip()
        pct = parse_decimal(form, f"{prefix}.saving_pct", _("Enter the saving in percent, like 8 or 7,5"))
        quantity = parse_decimal(form, f"{prefix}.annual_saving.quantity")
        unit = str(form.get(f"{prefix}.annual_saving.unit") or "").strip()
        if not carrier:
            if pct is not None or quantity is not None:
                form.add_error(f"{prefix}.carrier", _("Choose the carrier this saving is on"))
            continue
        claim: dict[str, Any] = {"carrier": carrier}
        if pct is not None:
            claim["saving_pct"] = pct
        else:
            form.add_error(f"{prefix}.saving_pct", _("Enter the saving in percent, like 8 or 7,5"))
        if quantity is not None:
            if not unit:
                form.add_error(f"{prefix}.annual_saving.unit", _("Choose the unit of the yearly saving"))
            elif unit not in units_of(carrier):  # the kit's vocabulary, as the unit list offers it
                form.add_error(
                    f"{prefix}.annual_saving.unit",
                    _("Choose one of this carrier's units: %(units)s", units=", ".join(units_of(carrier))),
                )
            claim["annual_saving"] = {"quantity": quantity, "unit": unit}
        claims.append(claim)
        form.claim_rows.append(i)  # type: ignore[attr-defined]
    body: dict[str, Any] = {}
    if claims:
        body["claimed_savings"] = claims
    overall = parse_decimal(form, "claimed_overall_saving_pct", _("Enter the saving in percent, like 8 or 7,5"))
    if overall is not None:
        body["claimed_overall_saving_pct"] = overall
    return body


def _body_dates(form: Form) -> dict[str, Any]:
    body = {}
    for name in ("implementation_start", "implementation_end"):
        value = parse_date(form, name)
        if value is not None:
            body[name] = value
    return body


BODIES = {"technology": _body_technology, "costs": _body_costs, "savings": _body_savings, "dates": _body_dates}


def _next_url(application_id: str, slug: str) -> str:
    slugs = [s.slug for s in tasks.STEPS]
    position = slugs.index(slug)
    if position + 1 < len(slugs):
        return tasks.step_url(application_id, slugs[position + 1])
    return tasks.application_url(application_id, "/documents")


async def _render_step(
    request: Request, api: ApiClient, application: dict[str, Any], step: tasks.Step, form: Form, status_code: int = 200
) -> HTMLResponse:
    extra: dict[str, Any] = {
        "step": step,
        "form": form,
        "title": tasks.step_title(step),
        "action": tasks.step_url(application["id"], step.slug),
    }
    if step.slug == "costs":
        extra["call"] = await tasks.load_call(api, application["call_id"])
    if step.slug == "savings":
        rows = carrier_rows(form)
        extra.update(
            rows=rows,
            carriers=carrier_options(),
            units_of=units_of,
            carrier_name=carrier_name,
            all_units=sorted({u for c, _n in carrier_options() for u in units_of(c)}),
            can_add=len(rows) < MAX_CARRIER_ROWS,
        )
    return render(
        request,
        f"enterprise/applications/step_{step.slug}.html",
        _context(application, **extra),
        status_code=status_code,
    )


def _step_or_404(slug: str) -> tasks.Step:
    step = tasks.STEPS_BY_SLUG.get(slug)
    if step is None:
        raise NotFound(404)
    return step


@router.get("/{application_id}/steps/{slug}", response_class=HTMLResponse)
async def step_form(request: Request, application_id: str, slug: str, user: Enterprise, api: ApiClient) -> Response:
    step = _step_or_404(slug)
    application = await tasks.load_application(api, application_id)
    if not tasks.is_editable(application):
        return _redirect(tasks.application_url(application_id))
    return await _render_step(request, api, application, step, Form(_values_from_application(slug, application)))


@router.post("/{application_id}/steps/{slug}", response_class=HTMLResponse)
async def save_step(request: Request, application_id: str, slug: str, user: Enterprise, api: ApiClient) -> Response:
    step = _step_or_404(slug)
    form = Form(await request.form())
    action = str(form.get("action") or "continue")
    application = await tasks.load_application(api, application_id)
    if slug == "savings" and (action in ("add", "refresh") or action.startswith("remove-")):
        # Rows added, removed or a carrier changed (htmx, for its units): shown again, nothing saved yet.
        rows = carrier_rows(form)
        if action == "add":
            rows = [*rows, max(rows) + 1][:MAX_CARRIER_ROWS]
        elif action.startswith("remove-"):
            index = action.removeprefix("remove-")
            rows = [i for i in rows if str(i) != index] or [0]
        _renumber_rows(form, rows)
        form.values.pop("action", None)
        return await _render_step(request, api, application, step, form)

    body = BODIES[slug](form)
    if form.has_errors:
        form.summary = None
        return await _render_step(request, api, application, step, form, status_code=422)
    if body:
        try:
            await api.patch(f"/applications/{application_id}", json=body, if_match=tasks.etag_of(form.get("version")))
        except FieldErrors as problem:
            form.add_problem(problem, field_map=_savings_field_map(form))
            return await _render_step(request, api, application, step, form, status_code=422)
        except ChangedMeanwhile:
            form.changed_meanwhile = True
            current = await tasks.load_application(api, application_id)
            form.values["version"] = current.get("version")  # saving again applies the typed values
            return await _render_step(request, api, current, step, form, status_code=409)
    if action == "later":
        return _redirect(tasks.application_url(application_id, "/tasks"))
    return _redirect(_next_url(application_id, slug))


def _savings_field_map(form: Form) -> dict[str, str]:
    """API error paths → form fields. The API numbers the claims it received (empty rows are not sent), the form
    its rows; a whole-claim error (unknown carrier, unit not of the carrier, carrier twice) goes to that row's
    carrier select, a list error to the first row."""
    mapping = {"claimed_savings": "claimed_savings.0.carrier"}
    for position, row in enumerate(getattr(form, "claim_rows", [])):
        api, mine = f"claimed_savings.{position}", f"claimed_savings.{row}"
        mapping[api] = f"{mine}.carrier"
        for part in ("carrier", "saving_pct", "annual_saving.quantity", "annual_saving.unit"):
            mapping[f"{api}.{part}"] = f"{mine}.{part}"
        mapping[f"{api}.annual_saving"] = f"{mine}.annual_saving.quantity"
    return mapping


# ---- check your answers, submit, resubmit ----------------------------------------------------------------------
@dataclass
class LinkedError:
    field: str
    message: str
    href: str | None


class LinkedForm(Form):
    """A form whose error summary links each error to another page (the step holding the field)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.links: dict[str, str | None] = {}

    @property
    def error_list(self) -> list[LinkedError]:  # type: ignore[override]
        return [LinkedError(name, message, self.links.get(name)) for name, message in self.errors.items()]


def answer_sections(
    application: dict[str, Any], call: dict[str, Any] | None, documents: list[dict[str, Any]], *, editable: bool = True
) -> list[dict[str, Any]]:
    """The summary lists of "check your answers" (and of the application page, without the Change links)."""
    a = application
    app_id = a["id"]

    def step_section(slug: str, *answers: tuple[str, Any, str]) -> dict[str, Any]:
        """A step's answers (label, value, field), each with its "Change" link to the step's field (when the answers can be changed)."""
        return {
            "title": tasks.step_title(tasks.STEPS_BY_SLUG[slug]),
            "rows": [
                {
                    "key": key,
                    "value": value,
                    "href": f"{tasks.step_url(app_id, slug)}#{field_id(field)}" if editable else None,
                }
                for key, value, field in answers
            ],
        }

    supplier = a.get("supplier") or {}
    supplier_text = supplier.get("name") or ""
    if supplier.get("tax_code"):
        supplier_text += " (" + _("tax code %(code)s", code=supplier["tax_code"]) + ")"
    claims = a.get("claimed_savings") or []
    claim_lines = []
    for claim in claims:
        line = f"{carrier_name(claim.get('carrier'))}: {percent(claim.get('saving_pct'))}"
        annual = claim.get("annual_saving")
        if annual:
            line += " – " + _(
                "%(quantity)s %(unit)s a year", quantity=number(annual.get("quantity"), 3), unit=annual.get("unit")
            )
        claim_lines.append(line)
    return [
        {
            "title": _("Call and facility"),
            "rows": [
                {"key": _("Call"), "value": f"{call['code']} – {call['title']}" if call else a.get("call_id")},
                {"key": _("Facility"), "value": a.get("facility_name")},
            ],
        },
        step_section(
            "technology",
            (_("Project title"), a.get("title"), "title"),
            (_("Technology"), a.get("technology"), "technology"),
            (_("Supplier"), supplier_text, "supplier.name"),
        ),
        step_section(
            "costs",
            (_("Total investment cost"), vnd(a.get("total_cost_vnd")), "total_cost_vnd"),
            (_("Eligible cost"), vnd(a.get("eligible_cost_vnd")), "eligible_cost_vnd"),
            (_("Requested support"), vnd(a.get("requested_support_vnd")), "requested_support_vnd"),
        ),
        step_section(
            "savings",
            (_("Savings per carrier"), "; ".join(claim_lines), "claimed_savings.0.carrier"),
            (_("Overall saving"), percent(a.get("claimed_overall_saving_pct")), "claimed_overall_saving_pct"),
        ),
        step_section(
            "dates",
            (_("Start date"), local_date(a.get("implementation_start")), "implementation_start"),
            (_("End date"), local_date(a.get("implementation_end")), "implementation_end"),
        ),
        {
            "title": _("Documents"),
            "rows": [
                {
                    "key": _("Uploaded documents"),
                    "value": ", ".join(d["filename"] for d in documents) or _("None uploaded"),
                    "href": tasks.application_url(app_id, "/documents") if editable else None,
                },
            ],
        },
    ]


def submission_errors(form: LinkedForm, problem: FieldErrors, application_id: str) -> None:
    """Every field the API refused, labelled and linked to the step (and field) that holds it."""
    for api_field, message in problem.errors.items():
        step = tasks.step_for_field(api_field)
        target = "claimed_savings.0.carrier" if api_field == "claimed_savings" else api_field
        form.errors[api_field] = f"{tasks.field_label(api_field)}: {message}"
        form.links[api_field] = f"{tasks.step_url(application_id, step.slug)}#{field_id(target)}" if step else None


async def _render_check(
    request: Request, api: ApiClient, application: dict[str, Any], form: Form, status_code: int = 200
) -> HTMLResponse:
    documents = await documents_of(api, application["id"])
    call = await tasks.load_call(api, application["call_id"])
    return render(
        request,
        "enterprise/applications/check.html",
        _context(
            application,
            form=form,
            sections=answer_sections(application, call, documents),
            resubmit=application["status"] == "changes_requested",
        ),
        status_code=status_code,
    )


@router.get("/{application_id}/check", response_class=HTMLResponse)
async def check_answers(request: Request, application_id: str, user: Enterprise, api: ApiClient) -> Response:
    application = await tasks.load_application(api, application_id)
    if not tasks.is_editable(application):
        return _redirect(tasks.application_url(application_id))
    return await _render_check(request, api, application, LinkedForm({"version": application["version"]}))


@router.post("/{application_id}/submit", response_class=HTMLResponse)
async def submit(request: Request, application_id: str, user: Enterprise, api: ApiClient) -> Response:
    """Submit a draft, or resubmit a dossier sent back with changes requested (the same page, the API decides)."""
    form = LinkedForm(await request.form())
    application = await tasks.load_application(api, application_id)
    if not tasks.is_editable(application):  # e.g. the second click of a double click: already submitted
        return _redirect(_after_submission(application))
    action = "resubmit" if application["status"] == "changes_requested" else "submit"
    try:
        await api.post(f"/applications/{application_id}/{action}", json={}, if_match=tasks.etag_of(form.get("version")))
    except FieldErrors as problem:
        submission_errors(form, problem, application_id)
        # The API's detail names the fields in its own terms; the list below names them as the steps do.
        form.summary = (
            _("The application cannot be submitted yet. Complete or correct each item below.")
            if problem.errors
            else problem.summary or None
        )
        return await _render_check(request, api, application, form, status_code=422)
    except ChangedMeanwhile:
        current = await tasks.load_application(api, application_id)
        if not tasks.is_editable(current):
            return _redirect(_after_submission(current))
        fresh = LinkedForm({"version": current["version"]})
        fresh.changed_meanwhile = True  # review the current answers, then submit again
        return await _render_check(request, api, current, fresh, status_code=409)
    return _redirect(tasks.application_url(application_id, "/confirmation"))


def _after_submission(application: dict[str, Any]) -> str:
    suffix = "/confirmation" if application.get("dossier_code") else ""
    return tasks.application_url(application["id"], suffix)
