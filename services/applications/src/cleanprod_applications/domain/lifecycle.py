"""Application lifecycle: the states, the actions, and exactly the arrows DESIGN.md draws.

::

    draft ─submit─► submitted ─screen─► under_review ─decide─► approved ─start─► in_progress ─complete─► completed
      │                 │                   │  └──► rejected                                                 │
      └─withdraw        └──► ineligible     └──► changes_requested ─resubmit─► submitted                      ▼
                                                                           verified / not_achieved (from verification)

One arrow per action, so :func:`transition` is a plain lookup. Where the design draws one arrow with
several outcomes ("screen", "decide", the verification verdict) each outcome is its own action — the
caller knows the outcome before it asks for the transition, and a lookup cannot guess it.

Withdrawal is drawn from ``draft`` only and is kept that way: once submitted, the dossier is in the
Department's hands and leaves through a decision (``rejected``) or screening (``ineligible``). Allowing
withdrawal from ``submitted``/``under_review``/``changes_requested`` would be one line in ``TRANSITIONS`` plus
the e-gov code 7 that is already mapped — a programme decision for the design owner, not for this module.

Who may perform each action (object-level checks — "this enterprise owns this application", "this
officer is not a reviewer" — are the service layer's and :mod:`.grants`' business):

=================================  =============  ====================================================
action                             role           why
=================================  =============  ====================================================
submit, withdraw, resubmit         enterprise     the applicant files, pulls, and re-files its dossier
screen_pass, screen_fail           service        automatic eligibility screening, no human in the loop
decide_approve, decide_reject,     officer        grant decisions are the Department's (four-eyes
request_changes                                   and min-reviews rules in :mod:`.grants`)
start                              enterprise,    the enterprise implements the project and normally
                                   officer        reports that work began; an officer may record it
                                                  from the signed support agreement when the
                                                  enterprise reported on paper
complete                           enterprise     "report completion" (DESIGN.md, Users table)
record_verified,                   service        the verification service concludes; the
record_not_achieved                               applications service applies its event
=================================  =============  ====================================================

Reviewers, verifiers, auditors and e-gov clients never move an application directly.

A **supplement request** (``supplements/``) is not drawn here: it is a sub-state of ``under_review`` (the
application's ``open_supplement_id``), reported to e-gov as 5 and stopping the statutory clock, and closing it
returns the dossier to plain processing without an arrow. The table below stays exactly DESIGN.md's.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    VERIFIED = "verified"
    NOT_ACHIEVED = "not_achieved"
    WITHDRAWN = "withdrawn"
    INELIGIBLE = "ineligible"


class Action(StrEnum):
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    SCREEN_PASS = "screen_pass"
    SCREEN_FAIL = "screen_fail"
    DECIDE_APPROVE = "decide_approve"
    DECIDE_REJECT = "decide_reject"
    REQUEST_CHANGES = "request_changes"
    RESUBMIT = "resubmit"
    START = "start"
    COMPLETE = "complete"
    RECORD_VERIFIED = "record_verified"
    RECORD_NOT_ACHIEVED = "record_not_achieved"


class Role(StrEnum):
    """Keycloak realm roles as the lifecycle names them: the same strings as the programme's one vocabulary
    ``cleanprod_kit.roles.Role`` (pure rules import no kit; ``tests/unit/test_flows.py`` checks they agree)."""

    ENTERPRISE = "enterprise"
    REVIEWER = "reviewer"
    OFFICER = "officer"
    VERIFIER = "verifier"
    AUDITOR = "auditor"
    EGOV = "egov"
    SERVICE = "service"


_S, _A = ApplicationStatus, Action  # short aliases keep the arrow table readable

# Every allowed (current, action) → target; anything absent is refused (409 at the API).
TRANSITIONS: Mapping[tuple[ApplicationStatus, Action], ApplicationStatus] = MappingProxyType(
    {
        (_S.DRAFT, _A.SUBMIT): _S.SUBMITTED,
        (_S.DRAFT, _A.WITHDRAW): _S.WITHDRAWN,
        (_S.SUBMITTED, _A.SCREEN_PASS): _S.UNDER_REVIEW,
        (_S.SUBMITTED, _A.SCREEN_FAIL): _S.INELIGIBLE,
        (_S.UNDER_REVIEW, _A.DECIDE_APPROVE): _S.APPROVED,
        (_S.UNDER_REVIEW, _A.DECIDE_REJECT): _S.REJECTED,
        (_S.UNDER_REVIEW, _A.REQUEST_CHANGES): _S.CHANGES_REQUESTED,
        (_S.CHANGES_REQUESTED, _A.RESUBMIT): _S.SUBMITTED,
        (_S.APPROVED, _A.START): _S.IN_PROGRESS,
        (_S.IN_PROGRESS, _A.COMPLETE): _S.COMPLETED,
        (_S.COMPLETED, _A.RECORD_VERIFIED): _S.VERIFIED,
        (_S.COMPLETED, _A.RECORD_NOT_ACHIEVED): _S.NOT_ACHIEVED,
    }
)


TERMINAL_STATUSES: frozenset[ApplicationStatus] = frozenset(
    status for status in ApplicationStatus if not any(src == status for src, _ in TRANSITIONS)
)
"""States with no way out: rejected, ineligible, withdrawn, verified, not_achieved."""

DECISION_ACTIONS: frozenset[Action] = frozenset({_A.DECIDE_APPROVE, _A.DECIDE_REJECT, _A.REQUEST_CHANGES})

ROLE_ACTIONS: Mapping[Role, frozenset[Action]] = MappingProxyType(
    {
        Role.ENTERPRISE: frozenset({_A.SUBMIT, _A.WITHDRAW, _A.RESUBMIT, _A.START, _A.COMPLETE}),
        Role.OFFICER: DECISION_ACTIONS | {_A.START},
        Role.SERVICE: frozenset({_A.SCREEN_PASS, _A.SCREEN_FAIL, _A.RECORD_VERIFIED, _A.RECORD_NOT_ACHIEVED}),
        Role.REVIEWER: frozenset(),
        Role.VERIFIER: frozenset(),
        Role.AUDITOR: frozenset(),
        Role.EGOV: frozenset(),
    }
)


class IllegalTransition(Exception):
    """An action that the lifecycle does not draw from the current state (→ HTTP 409)."""

    def __init__(self, current: ApplicationStatus, action: Action) -> None:
        self.current = current
        self.action = action
        self.allowed = tuple(sorted(allowed_actions(current)))
        options = ", ".join(self.allowed) if self.allowed else f"none, '{current}' is a final status"
        super().__init__(f"cannot '{action}' an application in status '{current}'; allowed from '{current}': {options}")


def allowed_actions(current: ApplicationStatus | str) -> frozenset[Action]:
    """The actions drawn out of ``current`` (empty for a terminal state)."""
    current = ApplicationStatus(current)
    return frozenset(action for (src, action) in TRANSITIONS if src == current)


def transition(current: ApplicationStatus | str, action: Action | str) -> ApplicationStatus:
    """The status after ``action`` from ``current``; raise :class:`IllegalTransition` if not drawn.

    Plain strings are accepted (values come from the database and URLs) but must be known values:
    an unknown status or action is a programming error and raises ``ValueError``.
    """
    current, action = ApplicationStatus(current), Action(action)
    try:
        return TRANSITIONS[current, action]
    except KeyError:
        raise IllegalTransition(current, action) from None


def may_perform(role: Role | str, action: Action | str) -> bool:
    """Whether a holder of realm role ``role`` may perform ``action`` at all (unknown roles: no;
    an unknown action is a programming error and raises ``ValueError``)."""
    action = Action(action)
    try:
        role = Role(role)
    except ValueError:  # a role from some other realm/client: it grants nothing here
        return False
    return action in ROLE_ACTIONS[role]
