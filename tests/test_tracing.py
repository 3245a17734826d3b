"""One request, one trace: the real gateway, applications and registry apps, each served by uvicorn on loopback with
traces kept in memory (`*_TRACING_EXPORTER=memory`) and real PostgreSQL under both services. Creating an
application draft goes gateway → applications → registry (the facility's facts) and writes to the applications
database; every span of it shares one trace id, joined by `traceparent`, and carries the request id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from applications_helpers import Actors, World, application_body, service_tokens
from gateway_helpers import serve_gateway
from opentelemetry.trace import SpanKind

from cleanprod_applications.config import MIGRATIONS as APPLICATIONS_MIGRATIONS
from cleanprod_applications.config import ApplicationsSettings
from cleanprod_applications.main import create_app as create_applications_app
from cleanprod_gateway.settings import GatewaySettings
from cleanprod_kit.testing.fixtures import service_settings_for
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_kit.testing.servers import serving
from cleanprod_kit.tracing import REQUEST_ID_ATTRIBUTE, memory_exporter
from cleanprod_registry.config import MIGRATIONS as REGISTRY_MIGRATIONS
from cleanprod_registry.config import RegistrySettings
from cleanprod_registry.main import create_app as create_registry_app
from infra.ports import free_port

TRACED = {"tracing_exporter": "memory"}


@asynccontextmanager
async def served(app: Any, what: str) -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", loop="none")
    async with serving(uvicorn.Server(config), what):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def databases(make_database: Callable[[str, str], str]) -> dict[str, str]:
    return {
        "registry": make_database("registry_tracing", REGISTRY_MIGRATIONS),
        "applications": make_database("applications_tracing", APPLICATIONS_MIGRATIONS),
    }


@pytest.fixture
async def traced_stack(
    databases: dict[str, str], issuer: TestIssuer, tmp_path: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """(the gateway's client, the registry's own client) with every part tracing into memory."""
    registry_settings = RegistrySettings(**service_settings_for(issuer, database_url=databases["registry"], **TRACED))
    async with AsyncExitStack() as stack:
        registry_url = await stack.enter_async_context(served(create_registry_app(registry_settings), "registry"))
        applications_settings = ApplicationsSettings(
            **service_settings_for(
                issuer,
                database_url=databases["applications"],
                registry_url=registry_url,
                document_dir=tmp_path,
                **TRACED,
            )
        )
        applications = create_applications_app(applications_settings, token_source=service_tokens(issuer))
        applications_url = await stack.enter_async_context(served(applications, "applications"))
        gateway = await stack.enter_async_context(
            serve_gateway(
                GatewaySettings(
                    registry_url=registry_url,
                    applications_url=applications_url,
                    verification_url=f"http://127.0.0.1:{free_port()}",
                    oidc_issuer=issuer.issuer,
                    oidc_jwks_url=issuer.jwks_url,
                    access_log=False,
                    log_json=False,
                    log_level="WARNING",
                    metrics_port=0,
                    **TRACED,
                )
            )
        )
        registry = await stack.enter_async_context(httpx.AsyncClient(base_url=registry_url, timeout=30))
        yield gateway.client, registry


async def test_one_trace_spans_gateway_service_service_and_database(
    traced_stack: tuple[httpx.AsyncClient, httpx.AsyncClient], issuer: TestIssuer
) -> None:
    gateway, registry = traced_stack
    actors = Actors(issuer)
    world = World(gateway, registry, actors)
    enterprise = await world.new_enterprise("Công ty TNHH Dệt Nhuộm Hà Đông")
    call = await world.call()
    exporter = memory_exporter()
    exporter.clear()

    response = await gateway.post(
        "/api/v1/applications",
        json=application_body(call["id"], enterprise.steel_facility),
        headers={**actors.enterprise(enterprise.tax_code), "X-Request-ID": "trace-one-draft"},
    )
    assert response.status_code == 201, response.text

    spans = list(exporter.get_finished_spans())
    entry = [s for s in spans if s.resource.attributes["service.name"] == "gateway" and s.kind is SpanKind.SERVER]
    assert len(entry) == 1, [s.name for s in spans]
    trace_id = entry[0].context.trace_id
    ours = [s for s in spans if s.context.trace_id == trace_id]
    assert len(ours) == len(spans), "every span of this request is in the one trace"
    by_id = {s.context.span_id: s for s in ours}

    def service(span: Any) -> str:
        return str(span.resource.attributes["service.name"])

    def chain(span: Any) -> list[str]:
        """The services from the trace's root down to `span`, each hop's service once."""
        hops: list[str] = []
        while span is not None:
            if not hops or hops[0] != service(span):
                hops.insert(0, service(span))
            span = by_id.get(span.parent.span_id) if span.parent is not None else None
        return hops

    servers = {service(s): s for s in ours if s.kind is SpanKind.SERVER}
    assert set(servers) == {"gateway", "applications", "registry"}
    assert entry[0].parent is None or entry[0].parent.span_id not in by_id  # the gateway's span is the root here
    assert chain(servers["registry"]) == ["gateway", "applications", "registry"]
    for span in servers.values():
        assert span.attributes[REQUEST_ID_ATTRIBUTE] == "trace-one-draft", service(span)
    assert servers["applications"].name == "POST /api/v1/applications"  # the route template

    statements = [s for s in ours if s.attributes.get("db.system.name") == "postgresql"]
    databases = {s.attributes["db.namespace"] for s in statements}
    assert databases == {"applications_tracing", "registry_tracing"}
    # The draft is written with its audit entry and idempotency record in one statement (kit rows.py: data-modifying
    # CTEs, so it may begin with WITH): it is in the trace.
    assert any(
        'INSERT INTO "applications"' in str(s.attributes["db.query.text"])
        and s.attributes["db.operation.name"] in ("INSERT", "WITH")
        for s in statements
        if service(s) == "applications"
    )
    for statement in statements:
        assert chain(statement)[:2] == ["gateway", "applications"]
        assert "Dệt Nhuộm" not in str(statement.attributes["db.query.text"])  # placeholders, not values
    registry_statements = [s for s in statements if service(s) == "registry"]
    assert registry_statements and all(chain(s) == ["gateway", "applications", "registry"] for s in registry_statements)
