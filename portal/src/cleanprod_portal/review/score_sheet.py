"""The score sheet as typed ↔ the API's draft body. Field names are the API's error paths (`scores.<criterion>`,
`recommendation`, `comment`), so its field errors land next to the inputs without a map. The portal only reads
numbers as people type them (`7,5` / `7.5`); every rule about a score (range, criterion) is the API's."""

from __future__ import annotations

from typing import Any

from ..api import ApiProblem
from ..enterprise.application_inputs import decimal_input
from ..enterprise.numbers import NotANumber, parse_number
from ..forms import Form
from ..i18n import N_, _

RECOMMENDATIONS: dict[str, str] = {
    "approve": N_("Approve"),
    "reject": N_("Reject"),
    "request_changes": N_("Request changes"),
}


# What to do when a required answer was left empty: the API refuses it (its message is generic, "no value"); the
# form says what is needed. Used only for fields the reviewer left empty, so other refusals keep the API's text.
EMPTY_ANSWER_MESSAGES: dict[str, str] = {
    "conflict": N_("Choose whether you have a conflict of interest with this application."),
    "statement": N_("Write what links you, or does not link you, to the enterprise, its facility or its supplier."),
    "recommendation": N_("Choose your recommendation."),
    "comment": N_("Write why you recommend this."),
}


def add_problem(
    form: Form,
    problem: ApiProblem,
    empty_messages: dict[str, str] = EMPTY_ANSWER_MESSAGES,
    field_map: dict[str, str] | None = None,
) -> None:
    """The API's field errors on the form; an empty required answer gets its own message (also the decision
    screen's forms)."""
    form.add_problem(problem, field_map)
    for name, message in empty_messages.items():
        if form.error(name) and not str(form.get(name) or "").strip():
            form.errors[name] = _(message)


def score_field(code: str) -> str:
    return f"scores.{code}"


def form_from_draft(criteria: list[dict[str, Any]], draft: dict[str, Any] | None, etag: str | None) -> Form:
    """The form as the reviewer last saved it (empty without a draft)."""
    values: dict[str, Any] = {"version": etag or ""}
    if draft:
        by_code = {s["criterion"]: s["score"] for s in draft.get("scores") or []}
        for criterion in criteria:
            if criterion["code"] in by_code:
                values[score_field(criterion["code"])] = decimal_input(by_code[criterion["code"]])
        values["recommendation"] = draft.get("recommendation") or ""
        values["comment"] = draft.get("comment") or ""
    return Form(values)


def draft_body(form: Form, criteria: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The PUT draft body, or None when a score cannot be read (the message is on the field)."""
    scores = []
    for criterion in criteria:
        name = score_field(criterion["code"])
        try:
            value = parse_number(form.get(name))
        except NotANumber:
            form.add_error(name, _("Enter the score as a number, for example 7 or 7,5."))
            continue
        if value is not None:
            scores.append({"criterion": criterion["code"], "score": value})
    if form.has_errors:
        return None
    body: dict[str, Any] = {"scores": scores}
    if form.get("recommendation") in RECOMMENDATIONS:
        body["recommendation"] = form.get("recommendation")
    comment = str(form.get("comment") or "").strip()
    if comment:
        body["comment"] = comment
    return body
