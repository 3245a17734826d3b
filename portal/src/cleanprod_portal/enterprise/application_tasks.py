"""What the application task list is made of: the steps (their URL slug, title and the API fields each one
writes), how a step's status follows from the application the API returned, and the shared look-ups every
application page needs (the application with its ETag, its call).

The API decides what is missing (`missing_fields` of ApplicationPublic); the portal only groups those fields by
step. While an API without `missing_fields` answers, an empty value counts as missing (same grouping).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from ..api import Api, NotFound
from ..i18n import N_, gettext

APPLICATIONS_PATH = "/enterprise/applications"
EDITABLE_STATUSES = ("draft", "changes_requested")


@dataclass(frozen=True)
class Step:
    slug: str  # URL part: /enterprise/applications/{id}/steps/{slug}
    title: str  # msgid
    fields: tuple[str, ...]  # the API fields this step PATCHes (top-level names)
    optional: tuple[str, ...] = ()  # fields that may stay empty (supplier)


STEPS: tuple[Step, ...] = (
    Step("technology", N_("Technology and supplier"), ("title", "technology", "supplier"), optional=("supplier",)),
    Step("costs", N_("Costs and requested support"), ("total_cost_vnd", "eligible_cost_vnd", "requested_support_vnd")),
    Step("savings", N_("Claimed savings per carrier"), ("claimed_savings", "claimed_overall_saving_pct")),
    Step("dates", N_("Implementation dates"), ("implementation_start", "implementation_end")),
)
STEPS_BY_SLUG = {step.slug: step for step in STEPS}

# API field → its label (msgid), for error summaries that link to the step holding the field.
FIELD_LABELS: dict[str, str] = {
    "title": N_("Project title"),
    "technology": N_("Technology"),
    "supplier": N_("Supplier"),
    "supplier.name": N_("Supplier name"),
    "supplier.tax_code": N_("Supplier tax code"),
    "total_cost_vnd": N_("Total investment cost"),
    "eligible_cost_vnd": N_("Eligible cost"),
    "requested_support_vnd": N_("Requested support"),
    "claimed_savings": N_("Savings per carrier"),
    "claimed_overall_saving_pct": N_("Overall saving"),
    "implementation_start": N_("Start date"),
    "implementation_end": N_("End date"),
}


def field_label(field: str) -> str:
    """`claimed_savings.1.saving_pct` → 'Savings per carrier'; unknown names are shown as they are."""
    if field in FIELD_LABELS:
        return gettext(FIELD_LABELS[field])
    top = field.split(".", 1)[0]
    return gettext(FIELD_LABELS[top]) if top in FIELD_LABELS else field


def application_url(application_id: str, suffix: str = "") -> str:
    return f"{APPLICATIONS_PATH}/{application_id}{suffix}"


def step_url(application_id: str, slug: str) -> str:
    return application_url(application_id, f"/steps/{slug}")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def missing_fields(application: dict[str, Any]) -> set[str]:
    """Top-level API fields still missing or invalid for submission (`claimed_savings.0.unit` → `claimed_savings`)."""
    if "missing_fields" in application and application["missing_fields"] is not None:
        return {str(name).split(".", 1)[0] for name in application["missing_fields"]}
    return {
        name for step in STEPS for name in step.fields if name not in step.optional and _empty(application.get(name))
    }


def step_status(step: Step, application: dict[str, Any]) -> str:
    """completed | in_progress | not_started, from what the API says is missing and what is filled in."""
    missing = missing_fields(application) & set(step.fields)
    filled = [name for name in step.fields if not _empty(application.get(name))]
    if not missing and filled:
        return "completed"
    return "in_progress" if filled else "not_started"


def step_for_field(field: str) -> Step | None:
    top = field.split(".", 1)[0]
    return next((step for step in STEPS if top in step.fields), None)


def is_editable(application: dict[str, Any]) -> bool:
    return application.get("status") in EDITABLE_STATUSES


def etag_of(version: Any) -> str | None:
    """The If-Match value for a `version` a form carried (the API's ETag is the quoted version)."""
    text = str(version or "").strip()
    if not text:
        return None
    return text if text.startswith(('"', "W/")) else f'"{text}"'


def checked_id(value: str) -> str:
    """An id from the URL: a UUID, else the page does not exist (rather than the API's 422 for a bad path)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise NotFound(404) from None


async def load_application(api: Api, application_id: str) -> dict[str, Any]:
    """The application (another enterprise's answers 404 → the portal's 404 page)."""
    return await api.get(f"/applications/{checked_id(application_id)}")


async def load_call(api: Api, call_id: str) -> dict[str, Any] | None:
    try:
        return await api.get(f"/calls/{call_id}")
    except NotFound:
        return None


def step_title(step: Step) -> str:
    return gettext(step.title)
