"""The call editor: open a call and change it — title, description, dates, budget, support rate (typed as %), cap,
eligible sectors (checkboxes by name), minimum reviews, pass score and the rubric (criteria rows: code, name, weight,
maximum score). Rows are added and removed with submit buttons (`action=add_criterion` / `remove_criterion-<i>`,
nothing saved; htmx swaps only `#criteria`). Editing PATCHes only the fields that differ from the call as it is,
with the version the form was loaded with as If-Match (412 → the banner, typed values kept)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..api import ChangedMeanwhile, Conflict, FieldErrors
from ..deps import ApiClient
from ..enterprise.application_inputs import decimal_input, parse_date, parse_decimal, parse_vnd, vnd_input
from ..forms import Form
from ..i18n import N_, _, gettext
from ..templating import render
from .funding import SUPPORT_TYPES
from .routes import Officer, OfficerReader, context
from .staff import sector_names

router = APIRouter(prefix="/officer/calls")
ACTIVE = "/officer/calls"
CRITERION_FIELDS = ("code", "name", "weight", "max_score")
# API field → form field, for the API's errors
FIELD_MAP = {"support_rate_bp": "support_rate_pct"}
# An empty required answer says what is needed (the API's "no value" message is generic).
REQUIRED: dict[str, str] = {
    "code": N_("Enter the call's code"),
    "title": N_("Enter the call's title"),
    "opens_on": N_("Enter the date the call opens"),
    "closes_on": N_("Enter the date the call closes"),
    "budget_vnd": N_("Enter the budget in đồng"),
    "support_rate_pct": N_("Enter the support rate as a percentage, like 30"),
    "cap_per_project_vnd": N_("Enter the cap per project in đồng"),
    "min_reviews": N_("Enter how many reviews each application needs"),
    "pass_score_pct": N_("Enter the pass score as a percentage, like 60"),
}
CRITERION_REQUIRED: dict[str, str] = {
    "code": N_("Enter the criterion's code"),
    "name": N_("Enter the criterion's name"),
    "weight": N_("Enter the criterion's weight, like 0,4"),
    "max_score": N_("Enter the criterion's maximum score, like 10"),
}


def form_of_call(call: dict[str, Any]) -> Form:
    """The call as the editor shows it (money grouped, rate in %, decimals in the language's way)."""
    values: dict[str, Any] = {
        "code": call["code"],
        "title": call["title"],
        "description": call.get("description") or "",
        "opens_on": call["opens_on"],
        "closes_on": call["closes_on"],
        "budget_vnd": vnd_input(call["budget_vnd"]),
        "cap_per_project_vnd": vnd_input(call["cap_per_project_vnd"]),
        "support_rate_pct": decimal_input(call["support_rate_bp"] / 100),
        "min_reviews": str(call["min_reviews"]),
        "pass_score_pct": decimal_input(call["pass_score_pct"]),
        "eligible_sectors": list(call["eligible_sectors"]),
        "version": str(call["version"]),
    }
    for i, c in enumerate(call["criteria"]):
        values.update(
            {
                f"criteria.{i}.code": c["code"],
                f"criteria.{i}.name": c["name"],
                f"criteria.{i}.weight": decimal_input(c["weight"]),
                f"criteria.{i}.max_score": decimal_input(c["max_score"]),
            }
        )
    form = Form(values)
    form.values["eligible_sectors"] = list(call["eligible_sectors"])
    return form


def criterion_count(form: Form) -> int:
    count = 0
    while any(f"criteria.{count}.{name}" in form.values for name in CRITERION_FIELDS):
        count += 1
    return count


def renumber_criteria(form: Form, *, add: bool = False, remove: int | None = None) -> None:
    rows = [{name: form.get(f"criteria.{i}.{name}") for name in CRITERION_FIELDS} for i in range(criterion_count(form))]
    if remove is not None and 0 <= remove < len(rows):
        rows.pop(remove)
    if add or not rows:
        rows.append(dict.fromkeys(CRITERION_FIELDS, ""))
    for key in [k for k in form.values if k.startswith("criteria.")]:
        del form.values[key]
    for i, row in enumerate(rows):
        for name, value in row.items():
            form.values[f"criteria.{i}.{name}"] = value


def check_required(form: Form, *, creating: bool) -> None:
    for name, message in REQUIRED.items():
        if (creating or name != "code") and not str(form.get(name) or "").strip():
            form.add_error(name, gettext(message))
    if not form.get("eligible_sectors"):
        form.add_error("eligible_sectors", _("Choose at least one sector"))
    for i in range(criterion_count(form)):
        for name, message in CRITERION_REQUIRED.items():
            if not str(form.get(f"criteria.{i}.{name}") or "").strip():
                form.add_error(f"criteria.{i}.{name}", gettext(message))


def body_of(form: Form) -> dict[str, Any]:
    """The API body from the form; unreadable values get their message and are left out."""
    body: dict[str, Any] = form.data(["code", "title", "description", "min_reviews"])
    body["opens_on"], body["closes_on"] = parse_date(form, "opens_on"), parse_date(form, "closes_on")
    body["budget_vnd"] = parse_vnd(form, "budget_vnd")
    body["cap_per_project_vnd"] = parse_vnd(form, "cap_per_project_vnd")
    rate = parse_decimal(form, "support_rate_pct", _("Enter the support rate as a percentage, like 30"))
    body["support_rate_bp"] = round(rate * 100) if rate is not None else None
    body["pass_score_pct"] = parse_decimal(form, "pass_score_pct")
    if isinstance(body["min_reviews"], str):
        if body["min_reviews"].isdigit():
            body["min_reviews"] = int(body["min_reviews"])
        else:
            form.add_error("min_reviews", _("Enter a whole number, like 2"))
    sectors = form.get("eligible_sectors", [])
    body["eligible_sectors"] = [sectors] if isinstance(sectors, str) else list(sectors)
    criteria = []
    for i in range(criterion_count(form)):
        criteria.append(
            {
                "code": (form.get(f"criteria.{i}.code") or "").strip(),
                "name": (form.get(f"criteria.{i}.name") or "").strip(),
                "weight": parse_decimal(form, f"criteria.{i}.weight"),
                "max_score": parse_decimal(form, f"criteria.{i}.max_score"),
            }
        )
    body["criteria"] = criteria
    return body


async def _editor(request: Request, api: Any, form: Form, *, call: dict | None, status_code: int = 200) -> HTMLResponse:
    names = await sector_names(api)
    chosen = form.get("eligible_sectors", [])
    chosen = [chosen] if isinstance(chosen, str) else list(chosen)
    return render(
        request,
        "officer/call_form.html",
        context(
            ACTIVE,
            form=form,
            call=call,
            sectors=list(names.items()),
            chosen_sectors=chosen,
            criteria_rows=range(criterion_count(form)),
            support_types=SUPPORT_TYPES,
            chosen_types=list(form.get("support_types", [])) if call is None else list(call["support_types"]),
        ),
        status_code=status_code,
    )


async def _posted(request: Request) -> tuple[Form, str]:
    submitted = await request.form()
    form = Form(submitted)
    form.values["eligible_sectors"] = submitted.getlist("eligible_sectors")
    form.values["support_types"] = submitted.getlist("support_types")
    return form, str(submitted.get("action") or "save")


def _row_action(form: Form, action: str) -> bool:
    """Add or remove a criterion row (nothing saved); True when the action was one of those."""
    if action == "add_criterion":
        renumber_criteria(form, add=True)
        return True
    if action.startswith("remove_criterion-") and action.removeprefix("remove_criterion-").isdigit():
        renumber_criteria(form, remove=int(action.removeprefix("remove_criterion-")))
        return True
    return False


@router.get("", response_class=HTMLResponse)
async def call_list(request: Request, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    calls = await api.all_pages("/calls")
    return render(request, "officer/calls.html", context(ACTIVE, calls=calls))


@router.get("/new", response_class=HTMLResponse)
async def new_call(request: Request, user: Officer, api: ApiClient) -> HTMLResponse:
    form = Form({"min_reviews": "2"})
    form.values["support_types"] = ["technology_transfer"]
    renumber_criteria(form)
    return await _editor(request, api, form, call=None)


@router.post("/new", response_class=HTMLResponse)
async def create_call(request: Request, user: Officer, api: ApiClient) -> Response:
    form, action = await _posted(request)
    if _row_action(form, action):
        return await _editor(request, api, form, call=None)
    check_required(form, creating=True)
    body = body_of(form)
    # chosen once (the API does not change them later); none ticked → the API's default, technology transfer
    body["support_types"] = list(form.get("support_types", [])) or None
    if form.has_errors:
        return await _editor(request, api, form, call=None, status_code=422)
    try:
        created = await api.post(
            "/calls", {k: v for k, v in body.items() if v is not None}, idempotency_key=form.idempotency_key
        )
    except FieldErrors as exc:
        form.add_problem(exc, FIELD_MAP)
        return await _editor(request, api, form, call=None, status_code=422)
    return RedirectResponse(f"{ACTIVE}?saved={created.data['code']}", status_code=303)


@router.get("/{call_id}/edit", response_class=HTMLResponse)
async def edit_call(request: Request, call_id: UUID, user: Officer, api: ApiClient) -> HTMLResponse:
    call = await api.get(f"/calls/{call_id}")
    return await _editor(request, api, form_of_call(call), call=call)


@router.post("/{call_id}/edit", response_class=HTMLResponse)
async def save_call(request: Request, call_id: UUID, user: Officer, api: ApiClient) -> Response:
    call = await api.get(f"/calls/{call_id}")
    form, action = await _posted(request)
    form.values["code"] = call["code"]  # the code never changes
    if _row_action(form, action):
        return await _editor(request, api, form, call=call)
    check_required(form, creating=False)
    body = body_of(form)
    if form.has_errors:
        return await _editor(request, api, form, call=call, status_code=422)
    current = body_of(form_of_call(call))
    changed = {k: v for k, v in body.items() if k != "code" and v != current.get(k)}
    if not changed:
        return RedirectResponse(f"{ACTIVE}?saved={call['code']}", status_code=303)
    try:
        await api.patch(f"/calls/{call_id}", changed, if_match=f'"{form.get("version")}"')
    except FieldErrors as exc:
        form.add_problem(exc, FIELD_MAP)
        return await _editor(request, api, form, call=call, status_code=422)
    except ChangedMeanwhile:
        form.changed_meanwhile = True
        form.values["version"] = str(call["version"])
        return await _editor(request, api, form, call=call, status_code=409)
    except Conflict as exc:
        form.add_problem(exc)
        return await _editor(request, api, form, call=call, status_code=409)
    return RedirectResponse(f"{ACTIVE}?saved={call['code']}", status_code=303)
