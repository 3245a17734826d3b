"""The portal's traces: a page is a server span named by its route template, with the request id, and its gateway
calls carry the page's trace onward in `traceparent` (the gateway here is a recording upstream on loopback)."""

from __future__ import annotations

import httpx
from gateway_upstream import Upstream
from opentelemetry.trace import SpanKind

from cleanprod_kit.tracing import REQUEST_ID_ATTRIBUTE, memory_exporter
from cleanprod_portal.config import PortalSettings
from cleanprod_portal.main import create_app


async def test_a_page_and_its_gateway_call_are_one_trace(settings: PortalSettings) -> None:
    gateway = Upstream("gateway").start()
    try:
        app = create_app(settings.model_copy(update={"tracing_exporter": "memory", "gateway_url": gateway.url}))
        exporter = memory_exporter()
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
                exporter.clear()
                response = await client.get("/calls", headers={"X-Request-ID": "portal-trace-1"})
        assert response.status_code == 200, response.text
        calls = [r for r in gateway.requests if r["path"].endswith("/public/calls")]
        assert len(calls) == 1
        [traceparent] = [v for k, v in calls[0]["headers"] if k == "traceparent"]
    finally:
        gateway.stop()
    spans = [s for s in exporter.get_finished_spans() if s.resource.attributes["service.name"] == "portal"]
    page = next(s for s in spans if s.kind is SpanKind.SERVER)
    call = next(s for s in spans if s.kind is SpanKind.CLIENT)
    assert page.name == "GET /calls" and page.attributes[REQUEST_ID_ATTRIBUTE] == "portal-trace-1"
    _, trace_id, parent, _ = traceparent.split("-")
    assert trace_id == format(page.context.trace_id, "032x") == format(call.context.trace_id, "032x")
    assert parent == format(call.context.span_id, "016x") and call.parent.span_id == page.context.span_id
