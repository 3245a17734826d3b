"""Every kit service's one ASGI layer: what four middlewares did, outermost first, for each HTTP request (issue 16;
each was a coroutine and a wrapped `send` per request, ~4 % of a create + submit's CPU — docs/performance.md
"Create + submit", session 7):

1. metrics: the request timed and counted by method, route template and status, the guards' 400/413 included,
   an app that raised as 500, one that never answered as 499 (metrics.py);
2. the request id: the caller's X-Request-ID when well-formed or a new one, in a contextvar and the scope's state,
   on every answer, and one access-log line (requestid.py);
3. headers whose duplicates change meaning refused with 400 before any route sees them (headerchecks.py);
4. the JSON body limit: 413 for a declared or a read body over it, paths with an exempt suffix not limited, a
   request without a body not wrapped at all (limits.py).

The pieces are the modules' own functions; the gateway and the portal still stack the separate middlewares.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .headerchecks import header_problem, refusal
from .limits import declared_too_large, empty_receive, read_limited, too_large_answer, without_body
from .metrics import IN_PROGRESS, RequestTimings, route_template
from .requestid import log_request, request_id_of, request_id_var, with_request_id


class ServiceLayer:
    """See the module. `on_request_id(rid)` is called as soon as the id is known, within the request (tracing puts
    it on the server span: tracing.Tracing.instrument_app)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        body_limit_exempt_suffixes: Sequence[str] = (),
        log_requests: bool = True,
        route_of: Callable[[Scope], str] = route_template,
        on_request_id: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_body_bytes
        self.exempt = tuple(body_limit_exempt_suffixes)
        self.log_requests = log_requests
        self.route_of = route_of
        self.on_request_id = on_request_id
        self.timings = RequestTimings()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = request_id_of(scope["headers"])
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        if self.on_request_id is not None:
            self.on_request_id(rid)
        status = 0

        async def answer(message: Message) -> None:  # the one wrapped `send`
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = with_request_id(message.get("headers", []), rid)
            await send(message)

        IN_PROGRESS.value += 1
        raised = False
        try:
            problem = header_problem(scope["headers"])
            if problem is not None:
                await refusal(problem, scope)(scope, receive, answer)
            elif without_body(scope, self.exempt):
                await self.app(scope, receive, answer)
            elif declared_too_large(scope, self.max_bytes):
                await too_large_answer(self.max_bytes)(scope, empty_receive, answer)
            else:
                await self._limited(scope, receive, answer)
        except BaseException:
            raised = True
            raise
        finally:
            IN_PROGRESS.value -= 1
            if self.log_requests:
                log_request(scope, status, started)
            request_id_var.reset(token)
            # No answer and no error: the client went away first (499, as nginx calls it).
            final = status or (500 if raised else 499)
            self.timings.observe(scope["method"], self.route_of(scope), final, time.perf_counter() - started)

    async def _limited(self, scope: Scope, receive: Receive, answer: Send) -> None:
        """The app reading a body through the limit (limits.read_limited, as limits.BodyLimitMiddleware)."""
        await read_limited(self.app, scope, receive, answer, self.max_bytes)
