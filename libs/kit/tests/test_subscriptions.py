"""Services receive only the events they consume: a consumer declares its event types at GET /internal/events and
the outbox's deliverer pushes it nothing else (kit subscriptions.py, issue 16)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from cleanprod_kit.app import create_service_app
from cleanprod_kit.db import Database
from cleanprod_kit.models import ProcessedEvent, utcnow
from cleanprod_kit.outbox import EventConsumer, EventEnvelope, http_deliverer
from cleanprod_kit.settings import ServiceSettings
from cleanprod_kit.testing.fixtures import running, service_settings_for
from cleanprod_kit.testing.issuer import TestIssuer

URL = "http://testserver/internal/events"


def event(event_type: str) -> EventEnvelope:
    return EventEnvelope(
        id=uuid.uuid4(), seq=1, type=event_type, aggregate_type="application", aggregate_id="a",
        occurred_at=utcnow(), source="applications", data={"n": 1},
    )  # fmt: skip


async def test_the_consumer_declares_its_types_and_receives_only_those(
    kit_db_url: str, database: Database, issuer: TestIssuer
) -> None:
    seen: list[str] = []
    consumer = EventConsumer()
    for event_type in ("application.approved", "application.completed"):

        @consumer.on(event_type)
        async def handle(session: Any, envelope: EventEnvelope) -> None:
            seen.append(envelope.type)

    settings = ServiceSettings(**service_settings_for(issuer, database_url=kit_db_url))
    app = create_service_app(settings, title="consumer", routers=[], consumer=consumer)
    async with running(app) as http:
        publisher = {"Authorization": f"Bearer {issuer.client_token('svc-applications', 'service')}"}
        declared = await http.get("/internal/events", headers=publisher)
        assert declared.json() == {"types": ["application.approved", "application.completed"]}
        officer = {"Authorization": f"Bearer {issuer.token('officer')}"}
        assert (await http.get("/internal/events", headers=officer)).status_code == 403
        assert (await http.get("/internal/events")).status_code == 401

        http.headers.update(publisher)
        deliver = http_deliverer([URL], lambda: http)
        approved, submitted = event("application.approved"), event("application.submitted")
        await deliver(approved)
        await deliver(submitted)  # consumed by nobody here: not pushed at all
    assert seen == ["application.approved"]
    async with database.session() as session:
        assert await session.get(ProcessedEvent, approved.id) is not None
        assert await session.get(ProcessedEvent, submitted.id) is None  # never sent, so not stored either


class Subscribers:
    """A stand-in HTTP client: what each subscriber URL answers to GET (its types), and the POSTs it received."""

    def __init__(self, declared: dict[str, Any]) -> None:
        self.declared = declared
        self.asked: list[str] = []
        self.pushed: list[tuple[str, str]] = []

    async def get(self, url: str) -> httpx.Response:
        self.asked.append(url)
        answer = self.declared[url]
        if isinstance(answer, int):
            return httpx.Response(answer, json={})
        return httpx.Response(200, json={"types": answer})

    async def post(self, url: str, json: dict[str, Any]) -> httpx.Response:
        self.pushed.append((url, json["type"]))
        return httpx.Response(200, json={})


async def test_a_subscriber_that_declares_nothing_gets_everything_and_types_are_asked_once() -> None:
    client = Subscribers({"http://a/internal/events": ["call.created"], "http://old/internal/events": 404})
    deliver = http_deliverer(list(client.declared), lambda: client)
    for event_type in ("call.created", "application.submitted", "call.created"):
        await deliver(event(event_type))
    assert client.pushed == [
        ("http://a/internal/events", "call.created"),
        ("http://old/internal/events", "call.created"),
        ("http://old/internal/events", "application.submitted"),
        ("http://a/internal/events", "call.created"),
        ("http://old/internal/events", "call.created"),
    ]
    assert sorted(client.asked) == sorted(client.declared)  # once each, within the TTL


async def test_a_subscriber_that_cannot_say_fails_the_delivery_so_it_is_retried() -> None:
    client = Subscribers({"http://down/internal/events": 503})
    deliver = http_deliverer(list(client.declared), lambda: client)
    with pytest.raises(RuntimeError, match="did not say which events"):
        await deliver(event("call.created"))
    assert client.pushed == []
