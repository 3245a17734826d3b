"""The contract package on its own: every event any service emits has a payload model, the models refuse what
they do not name, and payloads keep the shape they had before they were typed."""

from __future__ import annotations

import uuid
from typing import get_args

import pytest
from pydantic import BaseModel, ValidationError

import cleanprod_applications
import cleanprod_registry
import cleanprod_verification
from cleanprod_applications.domain import Verdict
from cleanprod_applications.grants.verdicts import VerdictData
from cleanprod_contracts.base import EventPayload, Part
from cleanprod_contracts.testing import read_every
from cleanprod_contracts.v1 import events
from cleanprod_kit.publishers import publisher_of
from cleanprod_kit.testing.publishers import emitted_event_types

SERVICES = {
    "registry": cleanprod_registry,
    "applications": cleanprod_applications,
    "verification": cleanprod_verification,
}


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_emitted_event_type_has_a_contract(service: str) -> None:
    emitted = emitted_event_types(SERVICES[service])
    assert emitted, "the scan found no emit(...) at all"
    assert sorted(set(emitted) - set(events.EVENT_PAYLOADS)) == []


def test_every_contract_names_an_event_some_service_emits() -> None:
    emitted = {t: s for s, package in SERVICES.items() for t in emitted_event_types(package)}
    assert sorted(set(events.EVENT_PAYLOADS) - set(emitted)) == []
    assert all(publisher_of(t) == s for t, s in emitted.items())


def _models(model: type[BaseModel]) -> set[type[BaseModel]]:
    found = {model}
    for info in model.model_fields.values():
        for arg in (info.annotation, *get_args(info.annotation)):
            for inner in (arg, *get_args(arg)):
                if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in found:
                    found |= _models(inner)
    return found


@pytest.mark.parametrize(
    "model",
    sorted({m for p in events.EVENT_PAYLOADS.values() for m in _models(p)}, key=lambda m: m.__name__),
    ids=lambda m: m.__name__,
)
def test_payload_models_refuse_unknown_fields(model: type[BaseModel]) -> None:
    assert issubclass(model, EventPayload | Part)
    assert model.model_config.get("extra") == "forbid" and model.model_config.get("frozen") is True


def test_a_misspelt_field_fails_on_either_side() -> None:
    with pytest.raises(ValidationError, match="verifier_subjct"):
        events.VerifierAssigned(application_id=uuid.uuid4(), verifier_subject="v-1", verifier_subjct="v-1")
    with pytest.raises(ValidationError, match="Field required"):
        events.VerifierAssigned.model_validate({"application_id": str(uuid.uuid4()), "subject": "v-1"})


def test_a_field_only_some_events_carry_is_left_out_where_unset() -> None:
    application, verification = uuid.uuid4(), uuid.uuid4()
    assigned = events.VerifierAssigned(application_id=application, verifier_subject="v-1")
    assert assigned.payload() == {"application_id": application, "verifier_subject": "v-1"}
    concluded = events.VerificationConcluded(
        application_id=application,
        verification_id=str(verification),
        verdict="verified",
        achieved_ratio=1.0,
        verified_savings_pct=None,
        claimed_savings_pct=8.0,
    )
    assert set(concluded.payload()) == {
        "application_id",
        "verification_id",
        "verdict",
        "achieved_ratio",
        "verified_savings_pct",
        "claimed_savings_pct",
    }


def test_numbers_must_be_numbers() -> None:
    with pytest.raises(ValidationError, match="finite"):
        events.VerificationConcluded(application_id=uuid.uuid4(), verdict="not_achieved", achieved_ratio=float("nan"))


def test_the_applications_service_reads_the_verdict_values_the_contract_allows() -> None:
    """Its consumer model narrows the contract's verdict to its own enum: the two must name the same values."""
    contract = set(get_args(events.VerificationConcluded.model_fields["verdict"].annotation))
    assert contract == {str(v) for v in Verdict}
    assert issubclass(VerdictData, events.VerificationConcluded)
    assert set(VerdictData.model_fields) == set(events.VerificationConcluded.model_fields)


def test_the_contract_test_helper_fails_on_a_disagreement_or_on_nothing_written() -> None:
    good = {
        "application_id": str(uuid.uuid4()),
        "verification_id": "v",
        "verdict": "verified",
        "achieved_ratio": 1.0,
        "verified_savings_pct": 9.0,
        "claimed_savings_pct": 8.0,
    }
    assert len(read_every({"verification.concluded": [good]}, "verification.concluded")) == 1
    renamed = {k: v for k, v in good.items() if k != "verdict"} | {"outcome": "verified"}
    with pytest.raises(ValidationError, match="verdict"):
        read_every({"verification.concluded": [good, renamed]}, "verification.concluded")
    with pytest.raises(AssertionError, match="wrote no verification.concluded"):
        read_every({}, "verification.concluded")
