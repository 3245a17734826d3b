"""The two kinds of contract model (see the package docstring for why they differ on unknown fields)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

Finite = Annotated[float, Field(allow_inf_nan=False)]
"""A number that is a number: NaN and ±infinity are refused."""


class EventPayload(BaseModel):
    """The `data` of one event type. Unknown fields are refused, on both sides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def payload(self) -> dict[str, Any]:
        """What the producer hands to `cleanprod_kit.outbox.emit` (which encodes it to JSON). Fields left at
        their default are left out, so an event carries a field named "only on some events" only when its
        producer set it — the shape events had before they were typed."""
        return self.model_dump(exclude_unset=True)


class Part(BaseModel):
    """An object nested in an event payload (same rules; emitted only as a field of its event)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadModel(BaseModel):
    """The part of a registry answer that another service reads; the registry's other fields are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)
