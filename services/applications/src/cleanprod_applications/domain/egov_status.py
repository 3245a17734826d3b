"""Application status → national dossier status code (TrangThaiHoSo) for the National Public Service Portal.

This module is the single source of the mapping: ``docs/egov-status-mapping.md`` carries the table
rendered by :func:`render_markdown_table` (a unit test fails if the two drift); the document says how
to regenerate it.

Principles behind the rows: a dossier exists from submission (that is when it gets its code), so a draft
has no e-gov status; the automatic screening plays the role of the reception check; "decided" (9) means
a decision exists but the dossier is still open under its code (the project, verification and payments
follow), while "result delivered" (10) means the dossier is closed with a final result the enterprise
has received — the platform delivers results online the moment they exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType

from .lifecycle import ApplicationStatus


class EgovStatus(IntEnum):
    """TrangThaiHoSo codes (numeric on the wire, hence IntEnum). Code 6 (financial obligation) does not
    apply to a support programme and is not listed in DESIGN.md."""

    NEW = 1
    RECEIVED = 2
    REFUSED_AT_RECEPTION = 3
    PROCESSING = 4
    SUPPLEMENT_REQUESTED = 5
    WITHDRAWN = 7
    PROCESSING_STOPPED = 8
    DECIDED = 9
    RESULT_DELIVERED = 10

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


@dataclass(frozen=True)
class EgovMapping:
    code: EgovStatus | None
    """``None``: not exposed to e-gov systems."""
    why: str


_S, _E = ApplicationStatus, EgovStatus

MAPPING: Mapping[ApplicationStatus, EgovMapping] = MappingProxyType(
    {
        _S.DRAFT: EgovMapping(
            None, "Not a dossier yet: it gets its dossier code only on submission, so e-gov systems never see it."
        ),
        _S.SUBMITTED: EgovMapping(
            _E.NEW, "Filed online and given its code; the reception check (automatic screening) has not concluded."
        ),
        _S.INELIGIBLE: EgovMapping(
            _E.REFUSED_AT_RECEPTION,
            "Screening is the reception check, and failing it means the dossier is not accepted for processing.",
        ),
        _S.UNDER_REVIEW: EgovMapping(
            _E.PROCESSING, "Accepted by screening and being scored by reviewers: the Department is processing it."
        ),
        _S.CHANGES_REQUESTED: EgovMapping(
            _E.SUPPLEMENT_REQUESTED, "The officer asked the enterprise to supplement or correct the dossier."
        ),
        _S.WITHDRAWN: EgovMapping(
            _E.WITHDRAWN,
            "Withdrawn by the enterprise (today only drafts can be withdrawn, which have no code, "
            "so this row matters only if withdrawal after submission is ever allowed).",
        ),
        _S.REJECTED: EgovMapping(
            _E.RESULT_DELIVERED,
            "A refusal on the merits is a final decision, not a stopped dossier (8), and the enterprise "
            "receives it with reasons at once: nothing stays open.",
        ),
        _S.APPROVED: EgovMapping(
            _E.DECIDED, "Grant decided, but the dossier stays open: implementation, verification and payments follow."
        ),
        _S.IN_PROGRESS: EgovMapping(
            _E.DECIDED, "Still the decided dossier while the enterprise implements the project; no final result yet."
        ),
        _S.COMPLETED: EgovMapping(
            _E.DECIDED, "Completion reported, verification pending: the final result (the settlement) is not out yet."
        ),
        _S.VERIFIED: EgovMapping(
            _E.RESULT_DELIVERED, "Verification concluded and the balance is due in full: the final result is delivered."
        ),
        _S.NOT_ACHIEVED: EgovMapping(
            _E.RESULT_DELIVERED,
            "Verification concluded with a reduced balance or a recovery: still a final result, delivered.",
        ),
    }
)

UNUSED: Mapping[EgovStatus, str] = MappingProxyType(
    {
        _E.RECEIVED: "Reception is the automatic screening, done at once: an accepted dossier goes straight into "
        "processing (4).",
        _E.PROCESSING_STOPPED: "No application status stops processing without a decision; it would fit an expiry of an "
        "unanswered supplement request, which the lifecycle does not have.",
    }
)


SUPPLEMENT_NOTE = (
    "A dossier `under_review` with an open **supplement request** (an itemised list of what is missing, answered "
    "item by item) reports 5 while the request is open and 4 again once every item is answered: a sub-state of "
    "under_review, not a status of its own."
)


def egov_status(status: ApplicationStatus | str, *, supplement_requested: bool = False) -> EgovStatus | None:
    """The TrangThaiHoSo code to report for ``status``; ``None`` for statuses not exposed to e-gov. A dossier in
    processing with an open supplement request reports 5 (supplement requested)."""
    code = MAPPING[ApplicationStatus(status)].code
    if supplement_requested and code is EgovStatus.PROCESSING:
        return EgovStatus.SUPPLEMENT_REQUESTED
    return code


def render_markdown_table() -> str:
    """The mapping as the Markdown tables kept in ``docs/egov-status-mapping.md``."""
    lines = [
        "| application status | TrangThaiHoSo | meaning | why |",
        "|---|---|---|---|",
    ]
    for status, row in MAPPING.items():
        code, meaning = ("—", "not exposed") if row.code is None else (str(row.code.value), row.code.label)
        lines.append(f"| `{status}` | {code} | {meaning} | {row.why} |")
    lines += ["", SUPPLEMENT_NOTE]
    lines += [
        "",
        "Codes not used:",
        "",
        "| TrangThaiHoSo | meaning | why not |",
        "|---|---|---|",
    ]
    for code, why in UNUSED.items():
        lines.append(f"| {code.value} | {code.label} | {why} |")
    return "\n".join(lines) + "\n"
