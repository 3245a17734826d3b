"""Which events each subscriber consumes, so the outbox pushes a subscriber only the events it handles (issue 16:
the verification service was sent, and stored as processed, every event of the applications service).

A consumer declares its event types at `GET /internal/events` (`EventConsumer.router`: the types it registered
handlers for), answered to any service account. The publisher's deliverer asks each subscriber URL once and asks
again after `ttl_seconds`; a subscriber that does not answer the question (404/405: a version from before it) is
sent everything, as before. A subscriber that cannot be asked fails the delivery, which the dispatcher retries
like any failed push.

A consumer deployed with a handler for a new type receives that type from the publisher's next look-up on (within
`ttl_seconds`); events of the type published in between are not pushed to it — as an older consumer, which
recorded them without a handler, did not apply them either.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

DEFAULT_TTL_SECONDS = 30.0


class Subscriptions:
    def __init__(self, client_factory: Callable[[], Any], *, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self.client_factory = client_factory
        self.ttl = ttl_seconds
        self._known: dict[str, tuple[frozenset[str] | None, float]] = {}

    async def wants(self, url: str, event_type: str) -> bool:
        """Whether the subscriber at `url` consumes events of `event_type`."""
        types = await self.types(url)
        return types is None or event_type in types

    def known(self, url: str) -> tuple[bool, frozenset[str] | None]:
        """What the subscriber at `url` declared, without asking: (True, its types — None for "everything") while
        the answer is fresh, (False, None) when it has not answered within `ttl`."""
        known = self._known.get(url)
        if known is None or time.monotonic() - known[1] >= self.ttl:
            return False, None
        return True, known[0]

    async def types(self, url: str) -> frozenset[str] | None:
        """The event types the subscriber declares; None when it declares none (it is sent every event)."""
        fresh, types = self.known(url)
        if fresh:
            return types
        now = time.monotonic()
        response = await self.client_factory().get(url)
        if response.status_code in (404, 405):
            types = None
        elif response.status_code >= 300:
            raise RuntimeError(f"{url} did not say which events it consumes: {response.status_code}")
        else:
            types = frozenset(str(t) for t in response.json()["types"])
        self._known[url] = (types, now)
        return types
