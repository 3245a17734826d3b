"""Event payloads, version 1: the `data` of every event a service writes to its outbox (`cleanprod_kit.outbox`).

Who publishes which type is `cleanprod_kit.publishers`; who consumes it is named on each model. Fields are
required unless the model says a field appears only on some events (then it defaults to None and is left out
of the payload where it does not apply).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import Field

from ..base import EventPayload, Finite, Part

# ---- registry (publisher: registry; no service consumes them yet: e-government feeds and audit trails) ----------


class EnterpriseRegistered(EventPayload):
    id: uuid.UUID
    tax_code: str
    name: str


class EnterpriseUpdated(EventPayload):
    id: uuid.UUID
    fields: list[str]
    """The names of the fields the change touched."""


class FacilityRegistered(EventPayload):
    id: uuid.UUID
    enterprise_id: uuid.UUID
    sector_code: str


class FacilityUpdated(EventPayload):
    id: uuid.UUID
    fields: list[str]


class BaselineRecorded(EventPayload):
    facility_id: uuid.UUID
    baseline_id: uuid.UUID


class NormCreated(EventPayload):
    id: uuid.UUID
    sector_code: str
    product: str


# ---- calls (publisher: applications; e-government feeds) --------------------------------------------------------


class CallEvent(EventPayload):
    """`call.created` and `call.updated`: the call's terms after the change."""

    call_id: uuid.UUID
    code: str
    title: str
    opens_on: dt.date
    closes_on: dt.date
    budget_vnd: int
    support_rate_bp: int
    cap_per_project_vnd: int
    eligible_sectors: list[str]
    version: int


# ---- applications (publisher: applications; consumers: verification for approved/completed, e-gov webhooks) -----


class Actor(Part):
    subject: str
    name: str
    role: str | None


class Supplier(Part):
    name: str = Field(max_length=300)
    tax_code: str | None = Field(max_length=20)


class Quantity(Part):
    quantity: Finite
    unit: str


class ClaimedSaving(Part):
    """The saving promised on one carrier, in percent of its baseline use (and optionally a yearly quantity)."""

    carrier: str = Field(max_length=32)
    saving_pct: Finite
    annual_saving: Quantity | None = None


class TrancheState(Part):
    kind: str
    planned_vnd: int
    amount_vnd: int | None
    status: str
    source_code: str | None = None
    """The funding source that pays it (applications since migration 0014 always say)."""
    paid_vnd: int | None = None
    paid_on: dt.date | None = None


class ScreeningReason(Part):
    code: str
    message: str
    field: str | None


class VerdictApplied(Part):
    """What a verification verdict did to the grant (on `application.verified` / `application.not_achieved`)."""

    verification_id: str | None
    verdict: str
    achieved_ratio: Finite
    verified_savings_pct: Finite | None
    claimed_savings_pct: Finite | None
    balance_vnd: int
    recover_vnd: int
    total_support_vnd: int
    event_id: str | None


class SupplementItem(Part):
    position: int
    needed: str
    answer: str | None
    document_id: str | None


class SupplementState(Part):
    request_id: str
    status: str
    items: list[SupplementItem]


class ApplicationEvent(EventPayload):
    """Every `application.*` event: a full snapshot of the dossier after the transition, so a consumer needs no
    call back (verification opens its case from `application.approved` / `application.completed`)."""

    application_id: uuid.UUID
    dossier_code: str | None = Field(max_length=64)
    action: str
    previous_status: str
    status: str
    egov_status: int | None
    version: int
    reason: str | None
    actor: Actor
    call_id: uuid.UUID
    call_code: str
    facility_id: uuid.UUID
    facility_name: str = Field(max_length=300)
    enterprise_id: uuid.UUID
    enterprise_tax_code: str = Field(max_length=20)
    enterprise_name: str = Field(max_length=300)
    sector_code: str = Field(max_length=32)
    title: str | None = Field(max_length=300)
    technology: str | None
    supplier: Supplier | None
    total_cost_vnd: int | None
    eligible_cost_vnd: int | None
    requested_support_vnd: int | None
    claimed_savings: list[ClaimedSaving]
    claimed_overall_saving_pct: Finite | None
    implementation_start: dt.date | None
    implementation_end: dt.date | None
    submitted_at: dt.datetime | None
    approved_support_vnd: int | None
    award_limit: str | None
    decided_at: dt.datetime | None
    started_on: dt.date | None
    completed_on: dt.date | None
    tranches: list[TrancheState]
    support_type: str = Field(max_length=32)
    """cp_assessment | technology_transfer | replication (domain/support_types.py of the applications service)."""
    savings_verified: bool
    """Whether the support type's savings are verified (an assessment's are not: no verification case is opened for
    it)."""
    # Only on some events:
    screening_reasons: list[ScreeningReason] | None = None
    """On the screening events (`application.screening_passed` / `_failed`)."""
    review_score_pct: Finite | None = None
    """On the decisions (approved, rejected, changes requested)."""
    verification: VerdictApplied | None = None
    """On the verdicts (`application.verified` / `application.not_achieved`)."""
    supplement: SupplementState | None = None
    """On `application.supplement_requested` / `_answered`."""


class TrancheEvent(EventPayload):
    """A payment step of a tranche (`application.payment_prepared`, `…payment_approved`, `…tranche_paid`) or a
    recovery step (`application.recovery_collected`): aggregate `application`, so e-government subscribers of the
    dossier (`application.*`) see them; the tranche after the step."""

    application_id: uuid.UUID
    dossier_code: str | None = Field(max_length=64)
    action: str
    actor: Actor
    tranche_id: uuid.UUID
    kind: str
    source_code: str
    tranche_status: str
    """Named apart from an application's `status`, which these events do not change."""
    previous_tranche_status: str
    amount_vnd: int | None
    paid_vnd: int | None
    paid_on: dt.date | None
    payment_reference: str | None
    collected_vnd: int
    version: int
    collection: dict[str, Any] | None = None
    """On `application.recovery_collected`: the part collected (amount_vnd, collected_on, reference)."""


# ---- verification (publisher: verification; consumer: applications for concluded and verifier_assigned) --------


class VerificationOpened(EventPayload):
    verification_id: uuid.UUID
    application_id: uuid.UUID
    dossier_code: str | None
    status: str
    baseline_periods: int


class VerifierAssigned(EventPayload):
    """The case's verifier (the applications service lets them read the application). `verifier_username`,
    `replaced_subject` and `status` may be missing; `verification_id` is kept as text (a column of 64)."""

    verification_id: str | None = Field(default=None, max_length=64)
    application_id: uuid.UUID
    verifier_subject: str = Field(min_length=1, max_length=255)
    verifier_username: str | None = Field(default=None, max_length=255)
    replaced_subject: str | None = Field(default=None, max_length=255)
    status: str | None = None


class VerifierDeclared(EventPayload):
    verification_id: uuid.UUID
    application_id: uuid.UUID
    independent: bool
    status: str


class VerificationConcluded(EventPayload):
    """The verdict (the applications service settles the grant by it). A `not_achieved` verdict needs
    `achieved_ratio`, or `verified_savings_pct` and `claimed_savings_pct` to compute it (the consumer's rule)."""

    application_id: uuid.UUID
    verification_id: str | None = Field(default=None, max_length=64)
    verdict: Literal["verified", "not_achieved"]
    achieved_ratio: Finite | None = Field(default=None, description="verified / claimed")
    verified_savings_pct: Finite | None = None
    claimed_savings_pct: Finite | None = None


# ---- every event type → its payload model -----------------------------------------------------------------------

APPLICATION_EVENT_TYPES = (
    "application.submitted",
    "application.withdrawn",
    "application.screening_passed",
    "application.screening_failed",
    "application.approved",
    "application.rejected",
    "application.changes_requested",
    "application.resubmitted",
    "application.started",
    "application.completed",
    "application.verified",
    "application.not_achieved",
    "application.supplement_requested",
    "application.supplement_answered",
)

PAYMENT_EVENT_TYPES = (
    "application.payment_prepared",
    "application.payment_approved",
    "application.tranche_paid",
    "application.recovery_collected",
)

EVENT_PAYLOADS: dict[str, type[EventPayload]] = {
    "registry.enterprise.registered": EnterpriseRegistered,
    "registry.enterprise.updated": EnterpriseUpdated,
    "registry.facility.registered": FacilityRegistered,
    "registry.facility.updated": FacilityUpdated,
    "registry.baseline.recorded": BaselineRecorded,
    "registry.norm.created": NormCreated,
    "call.created": CallEvent,
    "call.updated": CallEvent,
    **dict.fromkeys(APPLICATION_EVENT_TYPES, ApplicationEvent),
    **dict.fromkeys(PAYMENT_EVENT_TYPES, TrancheEvent),
    "verification.opened": VerificationOpened,
    "verification.verifier_assigned": VerifierAssigned,
    "verification.verifier_declared": VerifierDeclared,
    "verification.concluded": VerificationConcluded,
}
"""Every event type any service publishes (a test per service checks each of its `emit(...)` is here)."""


def read_payload(event_type: str, data: Any) -> EventPayload:
    """`data` read with the model of `event_type`; raises pydantic's ValidationError (KeyError: unknown type)."""
    return EVENT_PAYLOADS[event_type].model_validate(data)
