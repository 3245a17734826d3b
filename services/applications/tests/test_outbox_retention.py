"""Outbox retention in the applications service (integrations/retention.py): of the delivered events past the
retention, those a webhook delivery still waits for and those the webhook fan-out has not read stay; the rest go.
And the retention cannot be set shorter than twice the webhooks' retry window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import httpx
import pytest
from applications_helpers import Receiver, World
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import or_, text
from test_integrations_webhooks import Subscriptions, receiver, subscriptions  # noqa: F401 - fixtures

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_applications.integrations.delivery import WebhookDispatcher
from cleanprod_applications.integrations.retention import needed_by_webhooks
from cleanprod_kit.models import OutboxEvent, utcnow
from cleanprod_kit.outbox_retention import prune_outbox


async def _sql(app: FastAPI, statement: str, **params: object) -> list[tuple]:
    async with app.state.db.session() as session:
        result = await session.exec(text(statement).bindparams(**params))  # type: ignore[call-overload]
        rows = list(result.all()) if result.returns_rows else []
        await session.commit()
    return [tuple(r) for r in rows]


async def test_pruning_keeps_what_the_webhooks_still_need(
    world: World,
    receiver: Receiver,  # noqa: F811
    subscriptions: Subscriptions,  # noqa: F811
    settings: ApplicationsSettings,
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app = app_and_client[0]
    await subscriptions.add(receiver.url)
    delivered, waiting = await world.submitted(), await world.submitted()
    dispatcher = WebhookDispatcher(app.state.db, settings, name="retention-test")
    await dispatcher.fanout()  # one pending delivery per exposed event of both; nothing is POSTed (not started)
    await _sql(app, "UPDATE webhook_deliveries SET status = 'delivered' WHERE aggregate_id = :a", a=delivered["id"])
    unread = await world.submitted()  # written after the fan-out's last read
    mine = [delivered["id"], waiting["id"], unread["id"]]
    # All three delivered to the services long ago (as if 40 days had passed).
    await _sql(
        app,
        "UPDATE outbox_events SET occurred_at = now() - interval '40 days', published_at = now() - interval '40 days' "
        "WHERE aggregate_id = ANY(:ids)",
        ids=mine,
    )
    pending = {
        r[0]
        for r in await _sql(
            app,
            "SELECT event_id::text FROM webhook_deliveries WHERE status = 'pending' AND aggregate_id = :a",
            a=waiting["id"],
        )
    }
    assert pending  # the submission at least is exposed to e-gov
    events = await _sql(
        app, "SELECT id::text, aggregate_id FROM outbox_events WHERE aggregate_id = ANY(:ids)", ids=mine
    )
    needed = needed_by_webhooks(fanout_runs=True)
    others = OutboxEvent.aggregate_id.not_in(mine)  # type: ignore[attr-defined] # other tests' events: not ours to prune
    deleted = await prune_outbox(
        app.state.db, older_than=utcnow() - dt.timedelta(days=30), keep=lambda: or_(needed(), others)
    )
    left = {
        r[0] for r in await _sql(app, "SELECT id::text FROM outbox_events WHERE aggregate_id = ANY(:ids)", ids=mine)
    }
    assert left == pending | {e for e, a in events if a == unread["id"]}
    assert deleted == len(events) - len(left) > 0

    # Once the fan-out has read them (and with no delivery pending), the unread ones may go too.
    await _sql(app, "UPDATE webhook_deliveries SET status = 'delivered' WHERE aggregate_id = ANY(:ids)", ids=mine)
    await dispatcher.fanout()
    await _sql(app, "UPDATE webhook_deliveries SET status = 'delivered' WHERE aggregate_id = ANY(:ids)", ids=mine)
    await prune_outbox(app.state.db, older_than=utcnow() - dt.timedelta(days=30), keep=lambda: or_(needed(), others))
    assert await _sql(app, "SELECT id FROM outbox_events WHERE aggregate_id = ANY(:ids)", ids=mine) == []
    await dispatcher.sender.aclose()


def test_the_retention_covers_twice_the_webhook_retry_window(settings: ApplicationsSettings) -> None:
    values: Callable[..., dict] = lambda **kw: {**settings.model_dump(), **kw}  # noqa: E731
    with pytest.raises(ValidationError, match="OUTBOX_RETENTION_DAYS"):
        ApplicationsSettings(**values(outbox_retention_days=5, webhook_max_age_seconds=3 * 86400))
    assert ApplicationsSettings(**values(outbox_retention_days=6, webhook_max_age_seconds=3 * 86400))
    assert ApplicationsSettings(**values(outbox_retention_days=0))  # 0: keep everything
