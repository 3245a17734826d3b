"""`/audit`: the auditor's home and the audit search across every entity of the three services (who, when,
what, old → new), with its CSV. Read-only by construction: no form here changes anything (GET forms only)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from cleanprod_kit.audit import audit_export_columns
from cleanprod_kit.exports import csv_chunks

from ..api import FieldErrors
from ..deps import ApiClient, require_role
from ..enterprise.application_inputs import parse_date
from ..enterprise.applications import ROLE_NAMES
from ..forms import Form
from ..i18n import N_, current_language, gettext
from ..sessions import PortalSession
from ..templating import render
from . import merge

router = APIRouter(prefix="/audit")
AUDIT_ROLES = ("auditor", "officer")
Auditor = Annotated[PortalSession, Depends(require_role(*AUDIT_ROLES))]
PER_PAGE = 25

ENTITY_TYPES: dict[str, str] = {
    "application": N_("Application"),
    "call": N_("Call for applications"),
    "verification": N_("Verification case"),
    "enterprise": N_("Enterprise"),
    "facility": N_("Facility"),
    "baseline": N_("Baseline period"),
    "sector": N_("Sector"),
    "norm": N_("Norm"),
    "webhook_subscription": N_("Webhook subscription"),
}
ACTIONS: dict[str, str] = {
    "create": N_("Created"),
    "update": N_("Changed"),
    "delete": N_("Deleted"),
    "submit": N_("Submitted"),
    "resubmit": N_("Resubmitted"),
    "approve": N_("Approved"),
    "reject": N_("Rejected"),
    "request_changes": N_("Changes requested"),
    "withdraw": N_("Withdrawn"),
    "start": N_("Start reported"),
    "assign_reviewer": N_("Reviewer assigned"),
    "declare_conflict": N_("Conflict of interest declared"),
    "submit_review": N_("Review submitted"),
    "attach_document": N_("Document attached"),
    "assign_verifier": N_("Verifier assigned"),
    "declare_independence": N_("Independence declared"),
    "record_measurement": N_("Measurement recorded"),
    "revise_measurement": N_("Measurement corrected"),
    "conclude": N_("Verification concluded"),
    "redeliver": N_("Webhook delivery repeated"),
}
# The API's query parameters → this form's fields (the form's names are the API's).
FIELD_MAP = {f"query.{name}": name for name in merge.FILTERS}


def _label(table: dict[str, str], code: str | None) -> str:
    return gettext(table[code]) if code in table else (code or "")


def _value(value: Any) -> str:
    if value is None or value == "":
        return gettext("(empty)")
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _shown(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as the table shows it: labels in the user's language, changes as (field, old, new) texts."""
    return {
        **entry,
        "entity_label": _label(ENTITY_TYPES, entry.get("entity_type")),
        "action_label": _label(ACTIONS, entry.get("action")),
        "role_label": _label(ROLE_NAMES, entry.get("actor_role")),
        "change_rows": [(c["field"], _value(c.get("old")), _value(c.get("new"))) for c in entry.get("changes") or []],
    }


def _filters(form: Form) -> dict[str, Any]:
    """What the form asks the API (blank fields left out); dates typed as dd/mm/yyyy are read too."""
    values = {name: str(form.get(name) or "").strip() for name in merge.FILTERS}
    for name in ("from", "to"):
        values[name] = parse_date(form, name) or ""
    return {name: value for name, value in values.items() if value}


@router.get("", response_class=HTMLResponse)
async def home(request: Request, user: Auditor) -> HTMLResponse:
    return render(request, "audit/home.html")


@router.get("/search", response_class=HTMLResponse)
async def search(request: Request, user: Auditor, api: ApiClient) -> HTMLResponse:
    form = Form(request.query_params)
    filters = _filters(form)
    state = {s: request.query_params.get(f"c_{s}") for s in merge.SERVICES}
    context: dict[str, Any] = {
        "form": form,
        "entity_type_options": [(k, gettext(v)) for k, v in ENTITY_TYPES.items()],
        "action_options": [(k, gettext(v)) for k, v in ACTIONS.items()],
        "entries": [],
        "next_query": None,
        "searched": bool(filters),
        "csv_query": request.url.query,
    }
    if form.has_errors:
        return render(request, "audit/search.html", context, status_code=422)
    try:
        page = await merge.search_page(api, filters, state, PER_PAGE)
    except FieldErrors as problem:
        form.add_problem(problem, FIELD_MAP)
        return render(request, "audit/search.html", context, status_code=422)
    context["entries"] = [_shown(e) for e in page.entries]
    if page.next_state is not None:
        context["next_query"] = {**filters, **{f"c_{s}": c for s, c in page.next_state.items()}}
    return render(request, "audit/search.html", context)


@router.get("/search.csv")
async def search_csv(request: Request, user: Auditor, api: ApiClient) -> StreamingResponse:
    """The whole search (the three services merged, newest first) as CSV, in the page's language; the columns
    are the services' own audit export's (kit `audit_export_columns`)."""
    form = Form(request.query_params)
    filters = _filters(form)
    entries = merge.every_entry(api, filters)
    first = await anext(entries, None)  # a refusal (403/422) is its error page, not a broken file

    async def rows() -> AsyncIterator[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = [first] if first else []
        async for entry in entries:
            batch.append(entry)
            if len(batch) == 200:
                yield batch
                batch = []
        if batch:
            yield batch

    return StreamingResponse(
        csv_chunks(audit_export_columns(), current_language(), rows()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-search.csv"'},
    )
