"""The gateway and W3C trace context: without tracing a client's `traceparent` passes through untouched; with it the
gateway continues the client's trace, tells the upstream its own span as the parent, and its access-log lines
carry the trace id."""

from __future__ import annotations

import io
import json
from typing import Any

from gateway_helpers import RunningGateway, bearer, serve_gateway
from gateway_upstream import Upstream
from opentelemetry.trace import SpanKind

from cleanprod_gateway.accesslog import AccessLog
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_kit.tracing import REQUEST_ID_ATTRIBUTE, memory_exporter

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CLIENT_SPAN}-01"


def received(upstream: Upstream, name: str) -> list[str]:
    return [value for key, value in upstream.last["headers"] if key == name]


async def test_without_tracing_traceparent_passes_through(
    gw: RunningGateway, registry_upstream: Upstream, issuer: TestIssuer
) -> None:
    headers = {**bearer(issuer.token("officer")), "traceparent": TRACEPARENT}
    assert (await gw.client.get("/api/v1/sectors", headers=headers)).status_code == 200
    assert received(registry_upstream, "traceparent") == [TRACEPARENT]


async def test_with_tracing_the_upstream_is_told_the_gateways_span(
    make_settings: Any, registry_upstream: Upstream, issuer: TestIssuer
) -> None:
    exporter = memory_exporter()
    async with serve_gateway(make_settings(tracing_exporter="memory")) as running:
        exporter.clear()
        headers = {**bearer(issuer.token("officer")), "traceparent": TRACEPARENT, "X-Request-ID": "gw-trace-1"}
        assert (await running.client.get("/api/v1/sectors", headers=headers)).status_code == 200
    [sent] = received(registry_upstream, "traceparent")
    version, trace_id, parent, flags = sent.split("-")
    assert (version, trace_id, flags) == ("00", TRACE_ID, "01") and parent != CLIENT_SPAN
    spans = [s for s in exporter.get_finished_spans() if s.resource.attributes["service.name"] == "gateway"]
    server = next(s for s in spans if s.kind is SpanKind.SERVER)
    client = next(s for s in spans if s.kind is SpanKind.CLIENT)
    assert format(server.parent.span_id, "016x") == CLIENT_SPAN  # the client's span is the gateway's parent
    assert format(client.context.span_id, "016x") == parent  # and the gateway's call is the upstream's
    assert server.name == "GET /api/v1/sectors" and server.attributes[REQUEST_ID_ATTRIBUTE] == "gw-trace-1"
    assert client.attributes["http.response.status_code"] == 200


async def test_access_log_lines_carry_the_trace_id(make_settings: Any) -> None:
    from cleanprod_kit.tracing import Tracing

    tracing = Tracing("gateway", make_settings(tracing_exporter="memory"))
    stream = io.BytesIO()
    log = AccessLog("gateway", stream=stream)  # type: ignore[arg-type]
    with tracing.tracer.start_as_current_span("request") as span:
        log.log("GET", "/api/v1/sectors", 200, 1.5, "rid-1", "sub-1", "127.0.0.1")
    log.flush()
    line = json.loads(stream.getvalue().splitlines()[0])
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["span_id"] == format(span.get_span_context().span_id, "016x")
