"""The events this service consumes at POST /internal/events (all from the verification service; the kit
accepts each only from its publisher's account, `cleanprod_kit.publishers`)."""

from __future__ import annotations

from cleanprod_kit.outbox import EventConsumer

from .grants.verdicts import build_consumer as verdict_consumer


def build_consumer(recovery_threshold_bp: int) -> EventConsumer:
    """`verification.concluded` → verdicts and settlement (grants/verdicts.py)."""
    return verdict_consumer(recovery_threshold_bp)
