"""No call to the registry while this service holds a database transaction (issue 12): a transaction kept open
across an HTTP call holds its row locks and a pooled connection for as long as the other service takes.

The registry client here is the in-process one of the other tests, except that before every call it asks
PostgreSQL (`pg_stat_activity`) whether any connection of the verification database has a transaction open."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from verification_helpers import (
    Actors,
    InProcessServiceClient,
    application_event,
    conclude,
    measurement_body,
    open_case,
    post_event,
    ready_verifier,
    record_months,
    steel_line,
    steel_plant,
    steel_reporting,
)

from cleanprod_kit.testing.fixtures import running
from cleanprod_verification.config import VerificationSettings
from cleanprod_verification.main import create_app

OPEN_TRANSACTIONS = """SELECT count(*) FROM pg_stat_activity
                       WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"""


class TransactionWatchingClient(InProcessServiceClient):
    """Records, for every registry call, how many transactions the verification database had open."""

    def __init__(self, tokens: Callable[[], Any], app: FastAPI, database_url: str) -> None:
        super().__init__(tokens, app)
        self._dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._watcher: asyncpg.Connection | None = None
        self.calls: list[tuple[str, int]] = []
        self.meanwhile: dict[str, Callable[[], Awaitable[None]]] = {}  # path → done once while it is asked

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        if self._watcher is None:
            self._watcher = await asyncpg.connect(self._dsn)
        path = httpx.URL(url).path
        self.calls.append((path, int(await self._watcher.fetchval(OPEN_TRANSACTIONS))))
        if path in self.meanwhile:
            await self.meanwhile.pop(path)()
        return await super().get(url, **kw)

    async def aclose(self) -> None:
        if self._watcher is not None:
            await self._watcher.close()
        await super().aclose()


@pytest.fixture
async def watched(
    verification_settings: VerificationSettings, service_tokens: Callable[[], Any], registry_app: FastAPI
) -> AsyncIterator[tuple[httpx.AsyncClient, TransactionWatchingClient]]:
    http = TransactionWatchingClient(service_tokens, registry_app, verification_settings.database_url)
    app = create_app(verification_settings, service_client=http)
    try:
        async with running(app) as client:
            yield client, http
    finally:
        await http.aclose()


def _inside_transaction(calls: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return [(path, count) for path, count in calls if count]


async def test_no_registry_call_inside_a_transaction_from_approval_to_report(
    watched: tuple[httpx.AsyncClient, TransactionWatchingClient],
    registry: httpx.AsyncClient,
    actors: Actors,
) -> None:
    client, http = watched
    plant = await steel_plant(registry, actors)
    case_id = (await open_case(client, actors, plant, claimed=8.0))["id"]  # approved, then completed
    opened = [path for path, _ in http.calls]
    assert f"/api/v1/facilities/{plant.facility['id']}" in opened
    assert f"/api/v1/facilities/{plant.facility['id']}/baselines" in opened

    verifier = await ready_verifier(client, actors, case_id)
    await record_months(client, actors, case_id, verifier, steel_reporting(0.9))
    preview = await client.get(f"/api/v1/verifications/{case_id}/preview", headers=actors.verifier(verifier))
    assert preview.status_code == 200, preview.text
    response = await conclude(client, actors, case_id, verifier)
    assert response.status_code == 200, response.text
    assert response.json()["norm"]["status"] == "found"
    report = await client.get(f"/api/v1/verifications/{case_id}/report", headers=actors.officer)
    assert report.status_code == 200, report.text

    paths = [path for path, _ in http.calls]
    assert paths.count("/api/v1/norms/lookup") == 2  # the preview's and the conclusion's
    assert "/api/v1/sectors/steel" in paths  # the report's sector name
    assert _inside_transaction(http.calls) == []


async def test_a_duplicate_or_later_event_does_not_ask_the_registry_again(
    watched: tuple[httpx.AsyncClient, TransactionWatchingClient],
    registry: httpx.AsyncClient,
    actors: Actors,
) -> None:
    client, http = watched
    plant = await steel_plant(registry, actors)
    approved = application_event(plant)
    assert (await post_event(client, actors, approved)).status_code == 200
    asked = len(http.calls)
    assert asked >= 2
    assert (await post_event(client, actors, approved)).status_code == 200  # the same event again
    completed = application_event(
        plant, event_type="application.completed", application_id=uuid.UUID(approved["data"]["application_id"])
    )
    assert (await post_event(client, actors, completed)).status_code == 200  # the case exists already
    assert len(http.calls) == asked
    assert _inside_transaction(http.calls) == []


async def test_a_measurement_recorded_while_the_norm_is_fetched_makes_the_conclusion_stale(
    watched: tuple[httpx.AsyncClient, TransactionWatchingClient],
    registry: httpx.AsyncClient,
    actors: Actors,
) -> None:
    """The norm is fetched for the last day reported before the case is locked; a period recorded meanwhile moves
    that day, so the fetched norm may be the wrong one: 412 even with `If-Match: *`, and nothing is concluded."""
    client, http = watched
    plant = await steel_plant(registry, actors)
    case_id = (await open_case(client, actors, plant))["id"]  # approved, then completed
    verifier = await ready_verifier(client, actors, case_id)
    await record_months(client, actors, case_id, verifier, steel_reporting(0.9))
    january = measurement_body(
        2026,
        1,
        1000.0,
        {
            "electricity": (0.9 * steel_line(1000.0)["electricity"], "MWh"),
            "coal_grade_3_4": (0.9 * steel_line(1000.0)["coal_grade_3_4"], "t"),
        },
    )

    async def record_january() -> None:
        await record_months(client, actors, case_id, verifier, [january])

    http.meanwhile["/api/v1/norms/lookup"] = record_january
    stale = await client.post(
        f"/api/v1/verifications/{case_id}/conclude", headers={**actors.verifier(verifier), "If-Match": "*"}, json={}
    )
    assert stale.status_code == 412, stale.text
    assert stale.json()["code"] == "stale_version"
    assert (await client.get(f"/api/v1/verifications/{case_id}", headers=actors.officer)).json()[
        "status"
    ] == "measuring"

    response = await conclude(client, actors, case_id, verifier)
    assert response.status_code == 200, response.text
    assert response.json()["norm"]["on"] == "2026-01-31"
    assert _inside_transaction(http.calls) == []
