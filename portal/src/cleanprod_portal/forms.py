"""Form state for server-rendered forms: what the user typed, the message next to each field, and the error
summary at the top (each entry links to `#<field id>`). Templates use the macros in `_field.html`.

    form = Form(await request.form())
    try:
        await api.patch(..., json=form.data(["title", "technology"]), if_match=form.get("etag"))
    except FieldErrors as exc:
        form.add_problem(exc)
        return render(request, "enterprise/step.html", {"form": form}, status_code=422)
    except ChangedMeanwhile:
        form.changed_meanwhile = True
        ...
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .api import ApiProblem

IDEMPOTENCY_KEY_RE = re.compile(r"[0-9a-f]{32}")


def field_id(name: str) -> str:
    """The HTML id of a field from its (dotted) name: `savings.0.percent` → `f-savings-0-percent`."""
    return "f-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


@dataclass
class FormError:
    field: str | None
    message: str

    @property
    def href(self) -> str | None:
        return f"#{field_id(self.field)}" if self.field else None


class Form:
    """values: what the user typed; errors: field name → message; summary: a message for the whole form;
    changed_meanwhile: a 412 happened (the template shows the banner)."""

    def __init__(self, values: Mapping[str, Any] | Any | None = None, errors: dict[str, str] | None = None) -> None:
        self.values = {}
        if values is not None:
            getlist = getattr(values, "getlist", None)
            for key in values.keys():
                if key == "csrf_token":
                    continue
                items = getlist(key) if getlist else [values[key]]
                self.values[key] = items[0] if len(items) == 1 else items
        self.errors = dict(errors or {})
        self.summary = None
        self.changed_meanwhile = False

    # ---- values ----------------------------------------------------------------------------------------------
    def get(self, name: str, default: Any = "") -> Any:
        value = self.values.get(name, default)
        return value if value is not None else default

    def data(self, names: Iterable[str], *, blank_as_none: bool = True) -> dict[str, Any]:
        """The named fields as an API body (trimmed; empty → None)."""
        out: dict[str, Any] = {}
        for name in names:
            value = self.values.get(name)
            if isinstance(value, str):
                value = value.strip()
                if blank_as_none and value == "":
                    value = None
            out[name] = value
        return out

    @property
    def idempotency_key(self) -> str:
        """The key a creating POST sends as `Idempotency-Key`: made when the form is first shown, posted back in a
        hidden field (macro `f.idempotency_key(form)`), so a double click or a resent form creates one record."""
        key = self.values.get("idempotency_key")
        if not isinstance(key, str) or not IDEMPOTENCY_KEY_RE.fullmatch(key):
            key = uuid.uuid4().hex
            self.values["idempotency_key"] = key
        return key

    # ---- errors ----------------------------------------------------------------------------------------------
    def error(self, name: str) -> str | None:
        return self.errors.get(name)

    def add_error(self, name: str | None, message: str) -> None:
        if name:
            self.errors.setdefault(name, message)
        else:
            self.summary = message

    def add_problem(self, problem: ApiProblem, field_map: Mapping[str, str] | None = None) -> None:
        """Take the API's field errors (renaming API paths to form names through `field_map`). With field errors
        the summary is their linked messages only: the API's detail then is a generic sentence ("some fields are
        invalid, see errors[]") written for developers. Without any, its detail is the message for the form."""
        for api_field, message in problem.errors.items():
            self.add_error((field_map or {}).get(api_field, api_field), message)
        if not problem.errors:
            self.summary = problem.summary or None

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.summary)

    @property
    def error_list(self) -> list[FormError]:
        return [FormError(name, message) for name, message in self.errors.items()]
