"""What the applications service still needs of delivered outbox events (kit `outbox_retention`): the events of
webhook deliveries still pending (each attempt reads its event's body from the outbox) and, while the webhook
dispatcher runs, the events its fan-out has not read yet. Everything else past the retention may go."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from .delivery import POSITION

_PENDING_DELIVERY = (
    "EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = outbox_events.id AND d.status = 'pending')"
)
_NOT_FANNED_OUT = (
    "NOT EXISTS (SELECT 1 FROM webhook_fanout_positions p WHERE p.name = :fanout_position"
    " AND (outbox_events.txid, outbox_events.seq) <= (p.last_txid, p.last_seq))"
)


def needed_by_webhooks(*, fanout_runs: bool) -> Any:
    """The `keep` condition: pending deliveries' events, and (`fanout_runs`) the events after the fan-out's position
    (all of them while the fan-out has no position yet)."""

    def keep() -> Any:
        if not fanout_runs:
            return text(_PENDING_DELIVERY)
        return text(f"({_PENDING_DELIVERY}) OR {_NOT_FANNED_OUT}").bindparams(fanout_position=POSITION)

    return keep
