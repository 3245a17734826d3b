"""Every event type this service writes to its outbox is in the kit's table of publishers with this service as
its publisher, so consumers accept it from this service's account (and from no one else)."""

from __future__ import annotations

import cleanprod_registry
from cleanprod_kit.testing.publishers import emitted_event_types, misattributed_events


def test_every_emitted_event_type_is_published_by_registry() -> None:
    assert emitted_event_types(cleanprod_registry), "the scan found no emit(...) at all"
    assert misattributed_events(cleanprod_registry, "registry") == []
