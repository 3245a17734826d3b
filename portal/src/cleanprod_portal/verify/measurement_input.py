"""One reporting period as the verifier typed it (the "add a period" form or a line of the CSV) → the
verification service's measurement body, and the API's field errors back to the names the user sees.

A measurement is a baseline period (same month, production and carrier columns: `enterprise/baseline_input`
reads those) plus the degree-days and the evidence the figures come from. The API accepts evidence as a
reference — a document of the application (its id) and/or a URL, with a description — not as a file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..enterprise.baseline_input import FORM_FIELDS as BASELINE_FIELDS
from ..enterprise.baseline_input import BaselineInput, read_baseline
from ..enterprise.numbers import NotANumber, parse_number
from ..i18n import gettext

EVIDENCE_FIELDS = ("evidence_document_id", "evidence_url", "evidence_description")
WEATHER_FIELDS = ("cdd", "hdd")
FORM_FIELDS: tuple[str, ...] = (*(f for f in BASELINE_FIELDS if f != "notes"), *WEATHER_FIELDS, *EVIDENCE_FIELDS)
# Columns the measurement CSV accepts besides the baseline CSV's (`notes` there = the evidence description here).
CSV_EXTRA_COLUMNS = (*WEATHER_FIELDS, *EVIDENCE_FIELDS)
CSV_TEMPLATE_COLUMNS = (
    "period",
    "production",
    "production_unit",
    "electricity (kWh)",
    "coal_grade_3_4 (t)",
    "cdd",
    "estimated",
    "evidence_document_id",
    "evidence_url",
    "evidence_description",
)

API_FIELDS = {
    "cdd": "cdd",
    "hdd": "hdd",
    "evidence": "evidence_description",
    "evidence.description": "evidence_description",
    "evidence.url": "evidence_url",
    "evidence.document_id": "evidence_document_id",
    "measurements": "period",
}


def _text(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name)
    return value.strip() if isinstance(value, str) else ""


def read_measurement(values: Mapping[str, Any], default_evidence: Mapping[str, str] | None = None) -> BaselineInput:
    """`values` use FORM_FIELDS (a CSV's `notes` column is taken as the evidence description). Evidence not given
    on the line comes from `default_evidence` (what the upload form says for the whole file)."""
    entry = read_baseline({k: v for k, v in values.items() if k != "notes"})
    entry.api_fields.update(API_FIELDS)
    errors = dict(entry.errors)
    weather: dict[str, float] = {}
    for name in WEATHER_FIELDS:
        try:
            value = parse_number(_text(values, name))
        except NotANumber:
            errors[name] = gettext("Enter a number, for example 1.250,5")
            continue
        if value is not None:
            weather[name] = value
    evidence = {name: _text(values, name) for name in EVIDENCE_FIELDS}
    if not evidence["evidence_description"]:
        evidence["evidence_description"] = _text(values, "notes")
    if not any(evidence.values()) and default_evidence:
        evidence = {name: (default_evidence.get(name) or "").strip() for name in EVIDENCE_FIELDS}
    if not evidence["evidence_document_id"] and not evidence["evidence_url"]:
        errors.setdefault(
            "evidence_document_id", gettext("Choose the document the figures come from, or give its web address")
        )
    if not evidence["evidence_description"]:
        errors.setdefault(
            "evidence_description", gettext("Describe the evidence, for example “EVN invoice for March 2025”")
        )
    if errors or entry.body is None:
        return BaselineInput(None, errors, entry.api_fields)
    body = {k: v for k, v in entry.body.items() if k != "notes"}
    body.update(weather)
    body["evidence"] = {"description": evidence["evidence_description"]}
    if evidence["evidence_document_id"]:
        body["evidence"]["document_id"] = evidence["evidence_document_id"]
    if evidence["evidence_url"]:
        body["evidence"]["url"] = evidence["evidence_url"]
    return BaselineInput(body, {}, entry.api_fields)
