"""The events this service consumes at POST /internal/events (all from the verification service; the kit
accepts each only from its publisher's account, `cleanprod_kit.publishers`). Each payload is read with its
contract model (`cleanprod_contracts.v1.events`: `VerificationConcluded`, `VerifierAssigned`), the model the
verification service builds it with."""

from __future__ import annotations

from cleanprod_kit.outbox import EventConsumer

from .grants.events import build_consumer as verdict_consumer
from .verifiers import events as verifier_events


def build_consumer(recovery_threshold_bp: int) -> EventConsumer:
    """`verification.concluded` → verdicts and settlement (grants/events.py);
    `verification.verifier_assigned` → who may read the application as its verifier (verifiers/events.py)."""
    consumer = verdict_consumer(recovery_threshold_bp)
    verifier_events.register(consumer)
    return consumer
