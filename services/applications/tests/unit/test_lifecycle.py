"""The lifecycle against the DESIGN.md diagram, written out here independently of the module's table."""

from itertools import product

import pytest

from cleanprod_applications.domain.lifecycle import (
    TERMINAL_STATUSES,
    Action,
    IllegalTransition,
    allowed_actions,
    may_perform,
    transition,
)
from cleanprod_applications.domain.lifecycle import (
    ApplicationStatus as S,
)

A = Action

# Every arrow of the diagram, and nothing else.
DRAWN = {
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.DRAFT, A.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, A.SCREEN_PASS): S.UNDER_REVIEW,
    (S.SUBMITTED, A.SCREEN_FAIL): S.INELIGIBLE,
    (S.UNDER_REVIEW, A.DECIDE_APPROVE): S.APPROVED,
    (S.UNDER_REVIEW, A.DECIDE_REJECT): S.REJECTED,
    (S.UNDER_REVIEW, A.REQUEST_CHANGES): S.CHANGES_REQUESTED,
    (S.CHANGES_REQUESTED, A.RESUBMIT): S.SUBMITTED,
    (S.APPROVED, A.START): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.COMPLETE): S.COMPLETED,
    (S.COMPLETED, A.RECORD_VERIFIED): S.VERIFIED,
    (S.COMPLETED, A.RECORD_NOT_ACHIEVED): S.NOT_ACHIEVED,
}

ALL_PAIRS = list(product(S, A))


def test_enums_have_exactly_the_designed_members():
    assert {s.value for s in S} == {
        "draft",
        "submitted",
        "under_review",
        "changes_requested",
        "approved",
        "rejected",
        "in_progress",
        "completed",
        "verified",
        "not_achieved",
        "withdrawn",
        "ineligible",
    }
    assert len(ALL_PAIRS) == 12 * 12


@pytest.mark.parametrize(("current", "action"), ALL_PAIRS, ids=[f"{s}-{a}" for s, a in ALL_PAIRS])
def test_every_state_action_pair(current, action):
    if (current, action) in DRAWN:
        assert transition(current, action) is DRAWN[current, action]
    else:
        with pytest.raises(IllegalTransition) as caught:
            transition(current, action)
        error = caught.value
        assert error.current is current and error.action is action
        assert set(error.allowed) == {a for (s, a) in DRAWN if s is current}
        message = str(error)
        assert f"'{action}'" in message and f"'{current}'" in message
        for allowed in error.allowed:
            assert allowed in message


def test_illegal_transition_message_lists_allowed_actions():
    with pytest.raises(
        IllegalTransition, match=r"allowed from 'under_review': decide_approve, decide_reject, request_changes$"
    ):
        transition(S.UNDER_REVIEW, A.START)


def test_illegal_transition_from_terminal_state_says_so():
    with pytest.raises(IllegalTransition, match="'withdrawn' is a final status"):
        transition(S.WITHDRAWN, A.SUBMIT)


def test_withdraw_is_only_drawn_from_draft():
    for status in S:
        if status is not S.DRAFT:
            with pytest.raises(IllegalTransition):
                transition(status, A.WITHDRAW)


def test_terminal_statuses():
    assert TERMINAL_STATUSES == {S.REJECTED, S.INELIGIBLE, S.WITHDRAWN, S.VERIFIED, S.NOT_ACHIEVED}


@pytest.mark.parametrize("status", list(S))
def test_allowed_actions(status):
    assert allowed_actions(status) == {a for (s, a) in DRAWN if s is status}


def test_plain_strings_are_accepted_and_unknown_values_are_errors():
    assert transition("draft", "submit") is S.SUBMITTED
    with pytest.raises(ValueError):
        transition("archived", "submit")
    with pytest.raises(ValueError):
        transition("draft", "approve")


def test_every_state_is_reachable_from_draft():
    reached, frontier = {S.DRAFT}, [S.DRAFT]
    while frontier:
        status = frontier.pop()
        for action in allowed_actions(status):
            target = transition(status, action)
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(S)


# Who may do what: enterprise files and implements, officer decides (and may record a start),
# the service itself screens and applies verification verdicts; nobody else moves an application.
ROLES = {
    "enterprise": {A.SUBMIT, A.WITHDRAW, A.RESUBMIT, A.START, A.COMPLETE},
    "officer": {A.DECIDE_APPROVE, A.DECIDE_REJECT, A.REQUEST_CHANGES, A.START},
    "service": {A.SCREEN_PASS, A.SCREEN_FAIL, A.RECORD_VERIFIED, A.RECORD_NOT_ACHIEVED},
    "reviewer": set(),
    "verifier": set(),
    "auditor": set(),
    "egov": set(),
}
ROLE_PAIRS = [(role, action) for role in ROLES for action in A]


@pytest.mark.parametrize(("role", "action"), ROLE_PAIRS, ids=[f"{r}-{a}" for r, a in ROLE_PAIRS])
def test_role_permissions(role, action):
    assert may_perform(role, action) is (action in ROLES[role])


def test_every_action_has_a_role():
    assert set().union(*ROLES.values()) == set(A)


def test_unknown_role_may_do_nothing_but_unknown_action_is_a_bug():
    assert may_perform("admin", A.SUBMIT) is False
    with pytest.raises(ValueError):
        may_perform("officer", "approve")
