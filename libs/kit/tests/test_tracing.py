"""Tracing in the kit's app factory: off by default (nothing instrumented, the SDK not even imported); when on,
server spans named by route template with the request id, a span per SQL statement under it, and JSON log lines
carrying the trace and span ids."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from fastapi import APIRouter, Request
from opentelemetry.trace import SpanKind
from sqlalchemy import column, func, select, table, text

from cleanprod_kit.app import create_service_app
from cleanprod_kit.auth import CurrentPrincipal
from cleanprod_kit.db import Read, SessionDep
from cleanprod_kit.logging import JsonFormatter
from cleanprod_kit.settings import ServiceSettings
from cleanprod_kit.testing.fixtures import running, service_settings_for
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_kit.tracing import REQUEST_ID_ATTRIBUTE, memory_exporter


def test_off_by_default_instruments_nothing() -> None:
    program = """
import sys
from cleanprod_kit.app import create_service_app
from cleanprod_kit.settings import ServiceSettings
app = create_service_app(ServiceSettings(log_json=False), title="t", routers=[])
names = [m.cls.__name__ for m in app.user_middleware]
assert "OpenTelemetryMiddleware" not in names and "RequestIdOnSpan" not in names, names
assert not [m for m in sys.modules if m.startswith("opentelemetry.sdk")], "the SDK was imported"
assert not [m for m in sys.modules if m.startswith("opentelemetry.instrumentation")], "an instrumentation was imported"
print("untraced")
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "untraced"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter("things"))
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


async def test_spans_and_logs_of_a_traced_request(kit_db_url: str, issuer: TestIssuer) -> None:
    router = APIRouter()
    # A hot read runs on the driver's read pool, past the engine's events: it is traced all the same.
    hot_read = Read(select(func.count().label("n")).select_from(table("outbox_events", column("seq"))))

    @router.get("/things/{thing_id}")
    async def thing(
        thing_id: str, principal: CurrentPrincipal, session: SessionDep, request: Request
    ) -> dict[str, object]:
        count = (await session.exec(text("SELECT count(*) FROM outbox_events"))).scalar_one()  # type: ignore[call-overload]
        hot = await request.app.state.db.fetch_one(hot_read)
        logging.getLogger("cleanprod.things").warning("looked up %s", thing_id)
        return {"id": thing_id, "events": count, "hot": hot["n"]}

    settings = ServiceSettings(
        **service_settings_for(issuer, service_name="things", database_url=kit_db_url, tracing_exporter="memory")
    )
    app = create_service_app(settings, title="things", routers=[router])
    capture = Capture()
    exporter = memory_exporter()
    async with running(app) as client:
        logging.getLogger().addHandler(capture)
        exporter.clear()
        try:
            response = await client.get(
                "/things/t-7",
                headers={"Authorization": f"Bearer {issuer.token('officer')}", "X-Request-ID": "traced-7"},
            )
        finally:
            logging.getLogger().removeHandler(capture)
        assert response.status_code == 200, response.text
        assert (await client.get("/healthz")).status_code == 200  # probes are not traced

    spans = [s for s in exporter.get_finished_spans() if s.resource.attributes["service.name"] == "things"]
    server = [s for s in spans if s.kind is SpanKind.SERVER]
    assert [s.name for s in server] == ["GET /things/{thing_id}"]
    assert server[0].attributes[REQUEST_ID_ATTRIBUTE] == "traced-7"
    assert response.json()["hot"] == response.json()["events"]
    statements = [s for s in spans if s.attributes.get("db.system.name") == "postgresql"]
    assert [s.attributes["db.query.text"] for s in statements] == ["SELECT count(*) FROM outbox_events", hot_read.sql]
    for statement in statements:
        assert statement.parent is not None and statement.parent.span_id == server[0].context.span_id
        assert statement.name == "SELECT kit_test"

    line = next(e for e in capture.lines if e["msg"] == "looked up t-7")
    assert line["trace_id"] == format(server[0].context.trace_id, "032x")
    assert line["request_id"] == "traced-7"
    assert isinstance(line["span_id"], str) and len(line["span_id"]) == 16


async def test_otlp_exporter_sends_the_spans_to_the_configured_endpoint() -> None:
    """`tracing_exporter=otlp`: batches of spans POSTed as OTLP/HTTP protobuf to `otlp_traces_endpoint` (here a
    loopback receiver that decodes them with the OTLP protobuf definitions)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from cleanprod_kit.settings import ObservabilitySettings
    from cleanprod_kit.tracing import Tracing

    received: list[ExportTraceServiceRequest] = []
    paths: list[str] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            paths.append(self.path)
            received.append(ExportTraceServiceRequest.FromString(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
        tracing = Tracing("exported", ObservabilitySettings(tracing_exporter="otlp", otlp_traces_endpoint=endpoint))
        with tracing.tracer.start_as_current_span("Hà Nội request") as span:
            trace_id = span.get_span_context().trace_id
        tracing.provider.force_flush()
        tracing.provider.shutdown()
    finally:
        server.shutdown()
        server.server_close()
    assert paths == ["/v1/traces"]
    [resource_spans] = received[0].resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}["service.name"]
    [exported] = [s for scope in resource_spans.scope_spans for s in scope.spans]
    assert service == "exported" and exported.name == "Hà Nội request"
    assert exported.trace_id == trace_id.to_bytes(16, "big")
