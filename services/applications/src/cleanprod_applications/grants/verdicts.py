"""Verification verdicts (event `verification.concluded` from the verification service): what the event says
(`VerdictData`) and who it is recorded as (`service_actor`). The event is handled in `.events`; the transition
`completed` → `verified` / `not_achieved`, with the balance settled, is `applications/flows.py` (`record_verdict`).

A verdict for an application that is not `completed` yet (`approved` or `in_progress`: the completion report is
late, or events crossed) is **stored** and applied by the transaction that completes the application. It is not
refused for a retry: the sender's outbox delivers in order and would hold back every later event behind it. A
verdict for an application that can never take one (rejected, withdrawn, already verified, …) is acknowledged,
audited as ignored and logged, for the same reason.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from pydantic import ValidationError

from cleanprod_contracts.v1.events import VerificationConcluded
from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import Unprocessable, field_error, validation_errors
from cleanprod_kit.roles import Role

from ..domain import Verdict, achieved_ratio

EVENT_TYPE = "verification.concluded"


class VerdictData(VerificationConcluded):
    """The contract's payload, its verdict read as this service's `Verdict` (the same two values)."""

    verdict: Verdict  # type: ignore[assignment]

    def ratio(self) -> Fraction | float | None:
        if self.verdict is Verdict.VERIFIED:
            return None
        if self.achieved_ratio is not None:
            return self.achieved_ratio
        if self.verified_savings_pct is not None and self.claimed_savings_pct:
            return achieved_ratio(self.verified_savings_pct, self.claimed_savings_pct)
        raise Unprocessable(
            "A not_achieved verdict needs achieved_ratio (or verified_savings_pct and claimed_savings_pct).",
            code="verdict_unreadable",
            errors=[field_error("data.achieved_ratio", None, "required")],
        )


def service_actor(source: str) -> Principal:
    name = source or "verification"
    return Principal(subject=f"service:{name}", username=name, roles=frozenset({Role.SERVICE}))


def parse(data: dict[str, Any]) -> VerdictData:
    try:
        return VerdictData.model_validate(data)
    except ValidationError as exc:
        raise Unprocessable(code="verdict_unreadable", errors=validation_errors(exc.errors(), "data.")) from None
