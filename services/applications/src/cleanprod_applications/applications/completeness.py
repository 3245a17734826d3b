"""Save as you go: a draft may be incomplete, a submission may not.

`submission_errors` lists EVERY field that submission would refuse — missing (`required`) and inconsistent
(`eligible_exceeds_total`, `requested_exceeds_eligible`, `end_before_start`) — so the enterprise learns all of
them at once, and the same list (as field names) is the portal's task list (`missing_fields`).

Drafting (create, PATCH) already refuses the two inconsistencies screening would otherwise make final (eligible
above total, end before start) when both values are there; `requested ≤ eligible` is checked at submission only,
so a half-typed form (the request typed before the eligible cost) can still be saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from cleanprod_kit.errors import Unprocessable, field_error

from .schemas import NULLABLE, REQUIRED_TO_SUBMIT


def _present(value: Any) -> bool:
    return value is not None and value != []


def null_errors(body: BaseModel) -> list[dict[str, Any]]:
    """Fields the client explicitly set to null although only NULLABLE ones may be."""
    return [
        field_error(name, None, "null_not_allowed")
        for name in body.model_fields_set
        if getattr(body, name) is None
        and name in type(body).model_fields
        and name not in NULLABLE
        and name not in ("call_id", "facility_id")
    ]


def draft_errors(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The cross-field rules a draft must keep, each checked only when both of its values are there."""
    errors = []
    total, eligible = values.get("total_cost_vnd"), values.get("eligible_cost_vnd")
    if total is not None and eligible is not None and eligible > total:
        errors.append(field_error("eligible_cost_vnd", None, "eligible_exceeds_total", total=total))
    start, end = values.get("implementation_start"), values.get("implementation_end")
    if start is not None and end is not None and end < start:
        errors.append(field_error("implementation_end", None, "end_before_start", start=start.isoformat()))
    return errors


def submission_errors(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Everything submission refuses, in form order: missing fields first, then the cross-field rules."""
    errors = [field_error(name, None, "required") for name in REQUIRED_TO_SUBMIT if not _present(values.get(name))]
    errors += draft_errors(values)
    eligible, requested = values.get("eligible_cost_vnd"), values.get("requested_support_vnd")
    if eligible is not None and requested is not None and requested > eligible:
        errors.append(field_error("requested_support_vnd", None, "requested_exceeds_eligible", eligible=eligible))
    return errors


def missing_fields(values: Mapping[str, Any]) -> list[str]:
    """The field names of `submission_errors`, each once, in form order."""
    order = {name: i for i, name in enumerate(REQUIRED_TO_SUBMIT)}
    names = {e["field"] for e in submission_errors(values)}
    return sorted(names, key=lambda n: order.get(n, len(order)))


def ensure_complete(values: Mapping[str, Any]) -> None:
    errors = submission_errors(values)
    if errors:
        raise Unprocessable(
            code="application_incomplete",
            errors=errors,
            params={"fields": ", ".join(dict.fromkeys(e["field"] for e in errors))},
        )


def refuse(errors: list[dict[str, Any]]) -> None:
    if errors:
        raise Unprocessable(
            code="validation_failed",
            errors=errors,
            params={"fields": ", ".join(dict.fromkeys(e["field"] for e in errors))},
        )
