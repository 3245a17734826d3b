"""Trusted internal events: POST /internal/events accepts an event only from the service account of the service
that publishes its type (token `azp`), takes `source` from that, and records nothing it refuses."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text

from cleanprod_kit.app import create_service_app
from cleanprod_kit.outbox import EventConsumer, EventEnvelope
from cleanprod_kit.publishers import DEFAULT_PUBLISHER_CLIENTS, EVENT_PUBLISHERS, merged_clients, publisher_of
from cleanprod_kit.settings import ServiceSettings
from cleanprod_kit.testing.fixtures import running, service_settings_for
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_kit.testing.publishers import UnreadableEmit, emitted_event_types, misattributed_events

CLIENTS = ("svc-registry", "svc-applications", "svc-verification", "svc-gateway", "egov-demo")
EVENTS = {
    "registry.facility.updated": "svc-registry",
    "call.created": "svc-applications",
    "application.approved": "svc-applications",
    "verification.concluded": "svc-verification",
}


def test_the_table_names_a_publisher_per_family_and_nobody_else() -> None:
    assert publisher_of("verification.concluded") == "verification"
    assert publisher_of("application.completed") == "applications"
    assert publisher_of("call.updated") == "applications"
    assert publisher_of("registry.baseline.recorded") == "registry"
    for unknown in ("gateway.anything", "verification", "verificationx.concluded", "", "application"):
        assert publisher_of(unknown) is None, unknown
    assert {service for _, service in EVENT_PUBLISHERS} == set(DEFAULT_PUBLISHER_CLIENTS)


def test_client_ids_are_settings_merged_over_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ServiceSettings().event_publisher_clients == DEFAULT_PUBLISHER_CLIENTS
    monkeypatch.setenv("X_EVENT_PUBLISHER_CLIENTS", '{"verification": "kiem-dinh-prod"}')

    class Settings(ServiceSettings):
        model_config = {**ServiceSettings.model_config, "env_prefix": "X_"}

    assert Settings().event_publisher_clients == {**DEFAULT_PUBLISHER_CLIENTS, "verification": "kiem-dinh-prod"}
    with pytest.raises(ValidationError, match="unknown publishing service"):
        ServiceSettings(event_publisher_clients={"gateway": "svc-gateway"})
    with pytest.raises(ValueError, match="its own client id"):
        merged_clients({"registry": "svc-verification"})


@pytest.fixture
async def consumer_app(kit_db_url: str, issuer: TestIssuer) -> AsyncIterator[tuple[httpx.AsyncClient, list[Any]]]:
    seen: list[EventEnvelope] = []
    consumer = EventConsumer()
    for event_type in EVENTS:

        @consumer.on(event_type)
        async def handle(session: Any, envelope: EventEnvelope) -> None:
            seen.append(envelope)

    settings = ServiceSettings(
        **service_settings_for(
            issuer, database_url=kit_db_url, event_publisher_clients={"registry": "svc-registry-renamed"}
        )
    )
    app = create_service_app(settings, title="consumer", routers=[], consumer=consumer)
    async with running(app) as http:
        yield http, seen


def envelope(event_type: str, source: str = "verification") -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "seq": 7,
        "type": event_type,
        "aggregate_type": "thing",
        "aggregate_id": "x",
        "occurred_at": "2026-11-28T10:00:00Z",
        "source": source,
        "data": {"n": 1},
    }


async def processed(kit_db_url: str, event_id: str) -> bool:
    from cleanprod_kit.db import Database

    db = Database(kit_db_url, pool_size=1, max_overflow=0)
    try:
        async with db.session() as session:
            found = await session.exec(
                text("SELECT 1 FROM processed_events WHERE event_id = :id").bindparams(id=uuid.UUID(event_id))  # type: ignore[call-overload]
            )
            return found.first() is not None
    finally:
        await db.dispose()


async def test_only_the_publishers_account_is_accepted(consumer_app, issuer: TestIssuer, kit_db_url: str) -> None:  # type: ignore[no-untyped-def]
    http, seen = consumer_app
    clients = {**dict.fromkeys(CLIENTS), "svc-registry-renamed": None}
    publishers = {**EVENTS, "registry.facility.updated": "svc-registry-renamed"}  # the settings rename it
    for event_type, publisher in publishers.items():
        for client in clients:
            body = envelope(event_type, source="gateway")
            token = issuer.client_token(client, "service")
            response = await http.post("/internal/events", json=body, headers={"Authorization": f"Bearer {token}"})
            if client == publisher:
                assert response.status_code == 200, (event_type, client, response.text)
                assert response.json() == {"id": body["id"], "duplicate": False}
                assert seen[-1].id == uuid.UUID(body["id"])
                assert seen[-1].source == publisher_of(event_type)  # from the token, not the body's "gateway"
            else:
                assert response.status_code == 403, (event_type, client, response.text)
                assert response.headers["content-type"].startswith("application/problem+json")
                problem = response.json()
                assert problem["code"] == "event_publisher_not_allowed", problem
                assert problem["type"].endswith("/event-publisher-not-allowed")
                assert not await processed(kit_db_url, body["id"]), (event_type, client)
    assert len(seen) == len(publishers)


async def test_the_publishers_client_without_the_service_role_is_refused(
    consumer_app,
    issuer: TestIssuer,  # type: ignore[no-untyped-def]
    kit_db_url: str,
) -> None:
    http, seen = consumer_app
    for roles in ((), ("officer",), ("egov",)):
        body = envelope("verification.concluded")
        token = issuer.client_token("svc-verification", *roles)
        response = await http.post("/internal/events", json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403, roles
        assert response.json()["code"] == "event_publisher_not_allowed"
        assert "no 'service' role" in response.json()["detail"]
        assert not await processed(kit_db_url, body["id"])
    # a user's token whose client happens to be the publisher's (no service role) is no better
    user = issuer.token("officer", extra={"azp": "svc-verification"})
    response = await http.post(
        "/internal/events", json=envelope("verification.concluded"), headers={"Authorization": f"Bearer {user}"}
    )
    assert response.status_code == 403
    assert seen == []
    assert (await http.post("/internal/events", json=envelope("verification.concluded"))).status_code == 401


async def test_a_refused_event_is_not_recorded_so_the_real_one_still_applies(
    consumer_app,
    issuer: TestIssuer,  # type: ignore[no-untyped-def]
    kit_db_url: str,
) -> None:
    http, seen = consumer_app
    body = envelope("verification.concluded")
    forged = await http.post(
        "/internal/events",
        json=body,
        headers={"Authorization": f"Bearer {issuer.client_token('svc-gateway', 'service')}"},
    )
    assert forged.status_code == 403
    genuine = await http.post(
        "/internal/events",
        json={**body, "source": ""},
        headers={"Authorization": f"Bearer {issuer.client_token('svc-verification', 'service')}"},
    )
    assert genuine.status_code == 200 and genuine.json()["duplicate"] is False
    assert [e.id for e in seen] == [uuid.UUID(body["id"])]


async def test_an_event_type_nobody_publishes_is_refused_even_from_a_service(
    consumer_app,
    issuer: TestIssuer,  # type: ignore[no-untyped-def]
    kit_db_url: str,
) -> None:
    http, _ = consumer_app
    for client in ("svc-applications", "svc-verification", "svc-gateway"):
        body = envelope("payment.released")
        response = await http.post(
            "/internal/events", json=body, headers={"Authorization": f"Bearer {issuer.client_token(client, 'service')}"}
        )
        assert response.status_code == 403 and response.json()["code"] == "event_publisher_not_allowed"
        assert not await processed(kit_db_url, body["id"])


def _package(tmp_path: Path, name: str, source: str) -> Any:
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "events.py").write_text(textwrap.dedent(source))
    sys.path.insert(0, str(tmp_path))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(tmp_path))


def test_the_scan_reads_literals_names_and_mappings_and_flags_other_publishers(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        "scan_ok_pkg",
        """
        from cleanprod_kit.outbox import emit
        OPENED = "verification.opened"
        TYPES = {"a": "verification.concluded", "b": "application.approved"}
        def write(session, key):
            emit(session, "verification.verifier_assigned", aggregate_type="t", aggregate_id=1, payload={})
            emit(session, OPENED, aggregate_type="t", aggregate_id=1, payload={})
            emit(session, TYPES[key], aggregate_type="t", aggregate_id=1, payload={})
    """,
    )
    assert sorted(emitted_event_types(package)) == [
        "application.approved",
        "verification.concluded",
        "verification.opened",
        "verification.verifier_assigned",
    ]
    assert misattributed_events(package, "verification") == [
        "application.approved (at events.py:8) → table says 'applications'"
    ]


def test_the_scan_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    dynamic = _package(
        tmp_path,
        "scan_dynamic_pkg",
        """
        from cleanprod_kit.outbox import emit
        def write(session, kind):
            emit(session, f"verification.{kind}", aggregate_type="t", aggregate_id=1, payload={})
    """,
    )
    with pytest.raises(UnreadableEmit, match="events.py:4"):
        emitted_event_types(dynamic)
    by_hand = _package(
        tmp_path,
        "scan_by_hand_pkg",
        """
        from cleanprod_kit.models import OutboxEvent
        def write(session):
            session.add(OutboxEvent(event_type="x.y", aggregate_type="t", aggregate_id="1", payload={}))
    """,
    )
    with pytest.raises(UnreadableEmit, match="built by hand"):
        emitted_event_types(by_hand)


async def test_a_non_service_token_is_refused_before_the_body_is_read(consumer_app, issuer: TestIssuer) -> None:  # type: ignore[no-untyped-def]
    http, _ = consumer_app
    officer = {"Authorization": f"Bearer {issuer.token('officer')}"}
    response = await http.post("/internal/events", json={"id": "not an envelope"}, headers=officer)
    assert response.status_code == 403 and response.json()["code"] == "event_publisher_not_allowed"
