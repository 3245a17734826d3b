"""One request through the gateway: what its steps (admission, relay, control app) share, and what the access log
records of it, in one small object instead of values handed back through lists."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Scope, Send

from cleanprod_kit.errors import Problem

from .problems import send_problem
from .tokens import VerifiedToken


@dataclass(slots=True)
class Exchange:
    scope: Scope
    send: Send  # the client's, with the CORS headers added when its origin is allowed
    request_id: str
    status: int = 0  # the status answered (499: the client went away), for the access log
    verified: VerifiedToken | None = None  # the caller, once its token is verified (None: anonymous so far)

    @property
    def subject(self) -> str | None:
        return None if self.verified is None else self.verified.principal.subject

    @property
    def method(self) -> str:
        return self.scope["method"]

    @property
    def path(self) -> str:
        return self.scope["path"]

    @property
    def head(self) -> bool:
        return self.scope["method"] == "HEAD"

    @property
    def client_ip(self) -> str:
        client = self.scope.get("client")
        return client[0] if client else "unknown"

    async def fail(self, problem: Problem, extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
        """Answer with `problem` (problem+json in the request's language)."""
        self.status = problem.status
        await send_problem(
            self.send, problem, path=self.path, request_id=self.request_id, head=self.head, extra_headers=extra_headers
        )
