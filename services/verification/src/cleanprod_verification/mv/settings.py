"""All configurable knobs of a savings computation, grouped so the service can load them from its settings."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from .criteria import AcceptanceCriteria
from .validation import ValidationLimits
from .verdict import VerdictRules


@dataclass(frozen=True)
class MVSettings:
    criteria: AcceptanceCriteria = field(default_factory=AcceptanceCriteria)
    verdict: VerdictRules = field(default_factory=VerdictRules)
    limits: ValidationLimits = field(default_factory=ValidationLimits)
    # Confidence at which the savings uncertainty is *reported* (the acceptance test uses
    # criteria.fsu_acceptance_confidence). 90 % is the usual reporting level in IPMVP/G14 practice.
    fsu_confidence: float = 0.90
    # When SEC is the method and mean production per period moved by more than this fraction, SEC's blind
    # spot (the fixed part of consumption) can create or hide savings: the result asks for a verifier's review.
    production_shift_warning: float = 0.10

    def __post_init__(self) -> None:
        # configuration mistakes, caught at start-up rather than inside a computation
        for name, value in (
            ("fsu_confidence", self.fsu_confidence),
            ("criteria.fsu_acceptance_confidence", self.criteria.fsu_acceptance_confidence),
        ):
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be strictly between 0 and 1 (got {value})")
        if self.criteria.range_tolerance < 0 or self.production_shift_warning < 0:
            raise ValueError("tolerances must not be negative")
        if self.verdict.claim_tolerance_pp < 0:
            raise ValueError("verdict.claim_tolerance_pp must not be negative")

    def to_dict(self) -> dict[str, Any]:
        # dataclasses.asdict deep-copies every value; these are flat scalars, so a shallow walk is enough.
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = {g.name: getattr(value, g.name) for g in fields(value)} if is_dataclass(value) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MVSettings:
        """Build from a (possibly partial) nested dict, e.g. service configuration; unknown keys are errors."""
        return cls(
            criteria=AcceptanceCriteria(**data.get("criteria", {})),
            verdict=VerdictRules(**data.get("verdict", {})),
            limits=ValidationLimits(**data.get("limits", {})),
            **{k: v for k, v in data.items() if k not in {"criteria", "verdict", "limits"}},
        )
