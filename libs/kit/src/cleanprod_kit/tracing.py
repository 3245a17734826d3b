"""OpenTelemetry traces (docs/observability.md): portal → gateway → services → PostgreSQL, and service-to-service
calls, joined by W3C `traceparent` headers; each server span carries the request id (`cleanprod.request_id`);
JSON log lines carry `trace_id` and `span_id` (logging.py).

Off by default (`<P>TRACING_EXPORTER=off`): then `tracing_for` returns None, nothing is instrumented and no
OpenTelemetry SDK module is even imported, so requests pay nothing. `otlp` exports over OTLP/HTTP in batches;
`memory` keeps every span in the process (`memory_exporter()`: tests, debugging).

Each process builds its own TracerProvider (with its `service.name`) and hands it to the instrumentations
explicitly instead of installing a global one, so several apps in one test process keep their own names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace
from starlette.types import ASGIApp, Receive, Scope, Send

from .requestid import RequestIdMiddleware
from .service_layer import ServiceLayer

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from sqlalchemy.ext.asyncio import AsyncEngine

    from .db import Database
    from .settings import ObservabilitySettings

REQUEST_ID_ATTRIBUTE = "cleanprod.request_id"
# Probes and scrapes are not traced: they would outnumber the requests that matter.
EXCLUDED_URLS = "/healthz$,/readyz$,/metrics$"

enabled = False  # set once a process builds a Tracing: logging.py looks for trace ids only then
_memory: InMemorySpanExporter | None = None


def memory_exporter() -> InMemorySpanExporter:
    """The process's in-memory exporter (`tracing_exporter=memory`), shared by every app of the process."""
    global _memory
    if _memory is None:
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        _memory = InMemorySpanExporter()
    return _memory


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the span being recorded now, as hex, or None."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def tracing_for(settings: ObservabilitySettings, service_name: str) -> Tracing | None:
    if settings.tracing_exporter == "off":
        return None
    return Tracing(service_name, settings)


class Tracing:
    def __init__(self, service_name: str, settings: ObservabilitySettings) -> None:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        global enabled
        self.service_name = service_name
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": service_name}),
            sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
        )
        if settings.tracing_exporter == "memory":
            self.provider.add_span_processor(SimpleSpanProcessor(memory_exporter()))
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            self.provider.add_span_processor(
                BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_traces_endpoint))
            )
        self.tracer = self.provider.get_tracer("cleanprod")
        enabled = True

    # ---- servers ------------------------------------------------------------------------------------------------
    def instrument_app(self, app: FastAPI) -> None:
        """Server spans named by route template, and the request id on each (by the kit's ServiceLayer as soon
        as it knows the id; in an app with RequestIdMiddleware instead, set just inside it)."""
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from starlette.middleware import Middleware

        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=self.provider, excluded_urls=EXCLUDED_URLS, exclude_spans=["receive", "send"]
        )
        stack = app.user_middleware
        layer = next((m for m in stack if m.cls is ServiceLayer), None)
        if layer is not None:
            layer.kwargs["on_request_id"] = request_id_on_span
            return
        position = next((i for i, m in enumerate(stack) if m.cls is RequestIdMiddleware), None)
        stack.insert(0 if position is None else position + 1, Middleware(RequestIdOnSpan))

    def wrap_asgi(self, app: ASGIApp, span_name: Callable[[Scope], str]) -> ASGIApp:
        """A plain ASGI app (the gateway's proxy) under a server span named by `span_name(scope)`."""
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        return OpenTelemetryMiddleware(
            app,
            tracer_provider=self.provider,
            excluded_urls=EXCLUDED_URLS,
            exclude_spans=["receive", "send"],
            default_span_details=lambda scope: (span_name(scope), {}),
        )

    # ---- clients ------------------------------------------------------------------------------------------------
    def instrument_client(self, client: httpx.AsyncClient) -> None:
        """Client spans for an httpx client, and `traceparent` on each of its requests."""
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=self.provider)

    @contextmanager
    def client_span(self, name: str, attributes: dict[str, Any]) -> Iterator[tuple[Any, list[tuple[str, str]]]]:
        """A client span for a call made with another HTTP library (the gateway's aiohttp): yields the span and
        the `traceparent`/`tracestate` headers that continue the trace upstream."""
        with self.tracer.start_as_current_span(name, kind=trace.SpanKind.CLIENT, attributes=attributes) as span:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            yield span, list(carrier.items())

    # ---- the database -------------------------------------------------------------------------------------------
    def _statement_span(self, engine: AsyncEngine) -> Callable[[str], Any]:
        """Starts the client span of one SQL statement of `engine`'s database, or None outside a trace (background
        loops — outbox, webhooks, mail — poll without one: no root span per poll). The statement text has
        placeholders, never the values."""
        tracer = self.tracer
        url = engine.url
        attributes = {
            "db.system.name": "postgresql",
            "db.namespace": url.database or "",
            "server.address": url.host or "",
            "server.port": url.port or 5432,
        }

        def start(statement: str) -> Any:
            if not trace.get_current_span().get_span_context().is_valid:
                return None
            operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
            return tracer.start_span(
                f"{operation} {attributes['db.namespace']}",
                kind=trace.SpanKind.CLIENT,
                attributes={**attributes, "db.operation.name": operation, "db.query.text": statement},
            )

        return start

    def instrument_engine(self, engine: AsyncEngine) -> None:
        """A client span per SQL statement (SQLAlchemy engine events; the OpenTelemetry SQLAlchemy instrumentation
        has no release matching the pinned SDK)."""
        from sqlalchemy import event

        start = self._statement_span(engine)

        def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            span = start(statement)
            if span is not None:
                context._cleanprod_span = span

        def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            span = getattr(context, "_cleanprod_span", None)
            if span is not None:
                span.end()

        def failed(exception_context: Any) -> None:
            span = getattr(exception_context.execution_context, "_cleanprod_span", None)
            if span is not None:
                span.record_exception(exception_context.original_exception)
                span.set_status(trace.StatusCode.ERROR)
                span.end()

        sync_engine = engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", before)
        event.listen(sync_engine, "after_cursor_execute", after)
        event.listen(sync_engine, "handle_error", failed)

    def instrument_database(self, db: Database) -> None:
        """Every statement of a kit `Database`: the engine's (events) and the hot reads on its read pool
        (`Database.fetch` runs them on the driver, past the engine's events)."""
        self.instrument_engine(db.engine)
        start = self._statement_span(db.engine)

        @contextmanager
        def traced(statement: str) -> Iterator[None]:
            span = start(statement)
            if span is None:
                yield
                return
            try:
                yield
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(trace.StatusCode.ERROR)
                raise
            finally:
                span.end()

        db.statement_span = traced

    def instrument_service(self, app: FastAPI) -> None:
        """What a kit service's lifespan built: its database and its client for other services."""
        self.instrument_database(app.state.db)
        if app.state.service_client is not None:
            self.instrument_client(app.state.service_client.through_httpx())


def request_id_on_span(rid: str) -> None:
    trace.get_current_span().set_attribute(REQUEST_ID_ATTRIBUTE, rid)


class RequestIdOnSpan:
    """Puts the request id (set by RequestIdMiddleware, just outside) on the server span."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            rid = scope.get("state", {}).get("request_id")
            if rid:
                request_id_on_span(rid)
        await self.app(scope, receive, send)
