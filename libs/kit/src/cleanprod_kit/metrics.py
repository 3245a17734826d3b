"""Prometheus metrics of every process (docs/observability.md): the request middleware, the `/metrics` endpoint
of the services, a separate metrics listener for the public processes (gateway, portal), database pool use,
outbox backlog and lag, token-verification failures by reason.

One registry per process (prometheus_client's default): in production each process runs one app. Values that
live in the database (outbox backlog, webhooks, mails) are read when `/metrics` is scraped, by the app's
refreshers, so requests never pay for them.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("cleanprod.metrics")

UNMATCHED = "unmatched"  # requests no route matched: one label value, whatever the path (bounded cardinality)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds; from a fast cached read (~2 ms) to the proxy's read timeout (30 s).
LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_SECONDS = Histogram(
    "cleanprod_http_request_duration_seconds",
    "HTTP requests by method, route template and status: _count is the request rate, status 5xx the errors.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
TOKEN_FAILURES = Counter("cleanprod_token_verification_failures_total", "Bearer tokens refused, by reason.", ["reason"])
OUTBOX_BACKLOG = Gauge("cleanprod_outbox_backlog_events", "Outbox events not yet delivered to every subscriber.")
OUTBOX_LAG = Gauge("cleanprod_outbox_lag_seconds", "Age of the oldest undelivered outbox event (0: none waiting).")
REFRESH_FAILURES = Counter(
    "cleanprod_metrics_refresh_failures_total", "Scrapes whose database-backed values could not be read."
)

Refresher = Callable[[FastAPI], Awaitable[None]]


class _InProgress(Collector):
    """Requests being served now: a plain integer the middleware moves (one event loop per process), read at
    scrape time; a prometheus Gauge's inc()/dec() would take a lock twice per request (0.8 us)."""

    def __init__(self) -> None:
        self.value = 0

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("cleanprod_http_requests_in_progress", "HTTP requests being served now.", self.value)


IN_PROGRESS = _InProgress()
REGISTRY.register(IN_PROGRESS)


# ---- requests ------------------------------------------------------------------------------------------------------
def route_template(scope: Scope) -> str:
    """The template of the route that served the request (`/api/v1/applications/{application_id}`), as Starlette
    records it in the scope while routing; never the raw path, so ids do not become label values."""
    route = scope.get("route")
    if route is not None:
        return getattr(route, "path_format", None) or UNMATCHED
    if "endpoint" in scope and scope.get("root_path"):  # a Mount (/static): FastAPI's router does not record it
        return scope["root_path"]
    return UNMATCHED


class RequestTimings:
    """The request histogram as the middleware fills it: one child per (method, route, status), looked up in a
    dict instead of through `labels()`."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], Any] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method if method in _METHODS else "other", route, status)
        child = self._children.get(key)
        if child is None:
            child = REQUEST_SECONDS.labels(key[0], route, str(status))
            self._children[key] = child
        child.observe(seconds)


class MetricsMiddleware(RequestTimings):
    """Pure ASGI: times every HTTP request and counts it by method, route template and status. Cheap by design
    (measured in docs/observability.md). A kit service does the same inside its one layer (service_layer.py)."""

    def __init__(self, app: ASGIApp, route_of: Callable[[Scope], str] = route_template) -> None:
        super().__init__()
        self.app = app
        self.route_of = route_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        IN_PROGRESS.value += 1
        try:
            await self.app(scope, receive, send_and_note)
        except BaseException:
            status = status or 500  # what the server answers for an app that raised before answering
            raise
        finally:
            IN_PROGRESS.value -= 1
            # No answer and no error: the client went away first (499, as nginx calls it).
            self.observe(scope["method"], self.route_of(scope), status or 499, time.perf_counter() - started)


# ---- token verification ---------------------------------------------------------------------------------------
def token_refused(problem: Exception) -> None:
    """Count a refused bearer token; `reason` is set by auth.TokenRefused (missing, expired, audience, ...)."""
    TOKEN_FAILURES.labels(getattr(problem, "reason", "invalid")).inc()


# ---- database pools -------------------------------------------------------------------------------------------
class PoolCollector(Collector):
    """Connections of every watched SQLAlchemy pool, read at scrape time (no per-request cost). Pools are held
    weakly (a disposed app's engine goes away with it); pools watched under one name (several apps of one kind in
    a test process) are added up."""

    def __init__(self) -> None:
        self._engines: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

    def watch(self, name: str, engine: AsyncEngine) -> None:
        self._engines[engine.sync_engine] = name

    def collect(self) -> Iterator[GaugeMetricFamily]:
        totals: dict[str, list[int]] = {}
        for engine, name in list(self._engines.items()):
            pool: Any = engine.pool
            total = totals.setdefault(name, [0, 0, 0])
            total[0] += pool.checkedout()
            total[1] += pool.checkedin()
            total[2] += pool.size() + getattr(pool, "_max_overflow", 0)
        for index, (suffix, help_text) in enumerate(
            (
                ("in_use", "Connections checked out of the pool."),
                ("idle", "Connections idle in the pool."),
                ("max", "Most connections the pool opens (size + overflow)."),
            )
        ):
            family = GaugeMetricFamily(f"cleanprod_db_pool_connections_{suffix}", help_text, labels=["pool"])
            for name, values in totals.items():
                family.add_metric([name], values[index])
            yield family


POOLS = PoolCollector()
REGISTRY.register(POOLS)


def watch_pool(name: str, engine: AsyncEngine) -> None:
    POOLS.watch(name, engine)


# ---- scrape-time values from the database --------------------------------------------------------------------
def add_refresher(app: FastAPI, refresher: Refresher) -> None:
    """Run `refresher(app)` before each scrape of this app's /metrics (e.g. to count rows)."""
    if not hasattr(app.state, "metric_refreshers"):
        app.state.metric_refreshers = []
    app.state.metric_refreshers.append(refresher)


async def refresh_outbox(app: FastAPI) -> None:
    async with app.state.db.engine.connect() as conn:
        backlog, oldest = (
            await conn.execute(
                text(
                    "SELECT count(*), EXTRACT(EPOCH FROM now() - min(occurred_at)) "
                    "FROM outbox_events WHERE published_at IS NULL"
                )
            )
        ).one()
    OUTBOX_BACKLOG.set(backlog)
    OUTBOX_LAG.set(float(oldest or 0.0))


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text format. Never routed by the gateway (routes.py), so only the internal network reaches it."""
    for refresher in getattr(request.app.state, "metric_refreshers", ()):
        try:
            await refresher(request.app)
        except Exception:  # noqa: BLE001 - a database hiccup must not hide every other metric
            REFRESH_FAILURES.inc()
            log.warning("metrics refresher %s failed", getattr(refresher, "__name__", refresher), exc_info=True)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


# ---- a separate listener for the public processes -------------------------------------------------------------
class MetricsListener:
    """/metrics on its own port (prometheus_client's WSGI server in a daemon thread) for the processes whose main
    port is public (gateway, portal): the Ingress routes only the main port. Serves only what needs no event loop
    (request metrics, pools, token failures). A port that cannot be bound is logged, not fatal: metrics are not
    worth an outage."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._server: Any = None

    def start(self) -> None:
        if not self.port or self._server is not None:  # 0: none
            return
        from prometheus_client import start_http_server

        try:
            self._server, _ = start_http_server(self.port, addr=self.host)
        except OSError as exc:
            log.error("metrics listener not started on %s:%s: %s", self.host, self.port, exc)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
