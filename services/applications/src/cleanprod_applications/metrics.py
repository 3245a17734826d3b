"""The applications service's own metrics (docs/observability.md): webhook deliveries as they are attempted, and
at scrape time the webhook deliveries waiting or dead and the mails waiting to be sent."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import Counter, Gauge
from sqlalchemy import text

WEBHOOK_ATTEMPTS = Counter(
    "cleanprod_webhook_attempts_total",
    "Webhook delivery attempts by outcome: delivered, retry (failed, tried again later), dead (given up).",
    ["outcome"],
)
WEBHOOK_DELIVERIES = Gauge(
    "cleanprod_webhook_deliveries", "Webhook deliveries in the database by status (pending, dead).", ["status"]
)
MAILS_WAITING = Gauge("cleanprod_mails_waiting", "Mail deliveries not yet sent (pending, retries included).")

_COUNTS = text("""
SELECT (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'),
       (SELECT count(*) FROM webhook_deliveries WHERE status = 'dead'),
       (SELECT count(*) FROM mail_deliveries WHERE status = 'pending')
""")


def webhook_attempted(outcome: str) -> None:
    WEBHOOK_ATTEMPTS.labels(outcome).inc()


async def refresh(app: FastAPI) -> None:
    """Run before each scrape of /metrics (kit metrics.add_refresher)."""
    async with app.state.db.engine.connect() as conn:
        pending, dead, mails = (await conn.execute(_COUNTS)).one()
    WEBHOOK_DELIVERIES.labels("pending").set(pending)
    WEBHOOK_DELIVERIES.labels("dead").set(dead)
    MAILS_WAITING.set(mails)
