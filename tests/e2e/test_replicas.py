"""Issue 11, "Must show": with two replicas of every service (each running its outbox and webhook dispatchers) and
two gateways behind the loopback balancer, 1,000 events of 50 dossiers reach an e-government webhook receiver in
order per dossier, never two of one dossier at once, none lost — also while the receiver answers slowly and now and
then fails. The events are made through the real API: 50 dossiers submitted (submitted, screening_passed), then
nine supplement requests each, asked by an officer and answered by the enterprise (two events per round)."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from e2e_helpers import HANOISTEEL, Api, if_match

from infra.devstack import Stack

API = "/api/v1/integrations"
DOSSIERS = 50
ROUNDS = 9  # supplement request + answer: 2 events each, after the submission's 2 → 20 per dossier


class OrderedReceiver:
    """A threaded HTTP receiver that answers after a random delay, fails a share of requests with 503, and notes
    any request that overlaps another one of the same dossier (or of the same event)."""

    def __init__(self, fail_ratio: float = 0.05, max_delay: float = 0.02) -> None:
        self.lock = threading.Lock()
        self.attempts: list[dict[str, Any]] = []  # every request's event, in arrival order
        self.accepted: list[dict[str, Any]] = []  # the events answered 2xx, in order of answer
        self.overlaps: list[str] = []
        self.in_flight: set[str] = set()
        self.failed = 0
        rng = random.Random(2026)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                event = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                keys = {f"dossier {event['aggregate_id']}", f"event {event['id']}"}
                with receiver.lock:
                    receiver.overlaps += sorted(keys & receiver.in_flight)
                    receiver.in_flight |= keys
                    receiver.attempts.append(event)
                    delay, fail = rng.uniform(0, max_delay), rng.random() < fail_ratio
                time.sleep(delay)
                with receiver.lock:
                    receiver.in_flight -= keys
                    if fail:
                        receiver.failed += 1
                    else:
                        receiver.accepted.append(event)
                self.send_response(503 if fail else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cleanprod"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[OrderedReceiver]:
    server = OrderedReceiver()
    yield server
    server.close()


def _etag_version(response: httpx.Response) -> int:
    return int(response.headers["ETag"].strip('W/"'))


def _dossier_with_supplement_rounds(api: Api, call: dict[str, Any]) -> str:
    """A submitted dossier, then ROUNDS supplement requests each answered at once; returns its id."""
    application = api.submitted(call)
    version = application["version"]
    for round_number in range(1, ROUNDS + 1):
        asked = api.client.post(
            f"/api/v1/applications/{application['id']}/supplement-requests",
            headers=if_match(api.h("officer1"), version),
            json={"items": [{"needed": f"Bổ sung hoá đơn điện tháng {round_number} (bản chụp rõ nét)"}]},
        )
        assert asked.status_code == 201, asked.text
        item = asked.json()["items"][0]
        answered = api.client.post(
            f"/api/v1/applications/{application['id']}/supplement-requests/{asked.json()['id']}"
            f"/items/{item['id']}/answer",
            headers=api.h(HANOISTEEL),
            json={"answer": f"Đã nộp hoá đơn tháng {round_number} qua cổng một cửa"},
        )
        assert answered.status_code == 200, answered.text
        version = _etag_version(answered)
    return str(application["id"])


def _feed(api: Api, headers: dict[str, str], dossiers: set[str]) -> dict[str, list[int]]:
    """Every event of these dossiers in the e-gov feed (the source of the webhooks), seqs in order per dossier."""
    cursor, found = None, {d: [] for d in dossiers}
    while True:
        params = {"limit": 200, "type": "application.*", **({"after": cursor} if cursor else {})}
        response = api.client.get(f"{API}/events", headers=headers, params=params)
        assert response.status_code == 200, response.text
        for event in response.json()["items"]:
            if event["aggregate_id"] in found:
                found[event["aggregate_id"]].append(event["seq"])
        cursor = response.json()["next_cursor"]
        if not response.json()["has_more"]:
            break
    return {d: sorted(seqs) for d, seqs in found.items()}


@pytest.fixture(scope="module")
def replicated_api(replicated_gateway: httpx.Client, replicated_tokens: Any, replicated_stack: Stack) -> Api:
    return Api(replicated_gateway, replicated_tokens, replicated_stack)


def test_a_thousand_events_of_fifty_dossiers_arrive_in_order_per_dossier(
    replicated_stack: Stack, replicated_api: Api, receiver: OrderedReceiver
) -> None:
    stack, api = replicated_stack, replicated_api
    for name in ("applications", "gateway"):  # really two of each, each ready on its own port
        assert [n for n in stack.processes if n.startswith(f"{name}-")] == [f"{name}-1", f"{name}-2"]
    egov = {"Authorization": f"Bearer {api.tokens.client('egov-demo')}"}
    subscribed = api.client.post(
        f"{API}/webhooks",
        headers=egov,
        json={"url": receiver.url, "event_types": ["application.*"], "description": "Một cửa — kiểm thử nhân bản"},
    )
    assert subscribed.status_code == 201, subscribed.text
    try:
        call = api.call()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            dossiers = set(pool.map(lambda _: _dossier_with_supplement_rounds(api, call), range(DOSSIERS)))
        made = time.monotonic() - started
        expected = _feed(api, egov, dossiers)
        assert sum(len(seqs) for seqs in expected.values()) == DOSSIERS * (2 + 2 * ROUNDS) == 1000

        deadline = time.monotonic() + 90
        while True:
            with receiver.lock:
                accepted = {e["id"] for e in receiver.accepted if e["aggregate_id"] in dossiers}
            if len(accepted) >= 1000:
                break
            assert time.monotonic() < deadline, f"{len(accepted)} of 1000 events arrived within 90 s"
            time.sleep(0.2)
        print(
            f"\n1000 events of {DOSSIERS} dossiers made in {made:.1f} s, all delivered after "
            f"{time.monotonic() - started:.1f} s; {receiver.failed} answers were 503 and retried"
        )
    finally:
        deleted = api.client.delete(f"{API}/webhooks/{subscribed.json()['id']}", headers=egov)
        assert deleted.status_code == 204, deleted.text

    with receiver.lock:
        attempts = [e for e in receiver.attempts if e["aggregate_id"] in dossiers]
        delivered = [e for e in receiver.accepted if e["aggregate_id"] in dossiers]
        overlaps = list(receiver.overlaps)
    assert overlaps == [], "two requests of one dossier (or one event) were in flight at the same time"
    assert receiver.failed > 0, "the receiver never failed: the retries were not exercised"
    first_delivery: dict[str, list[int]] = {d: [] for d in dossiers}
    seen: set[str] = set()
    for event in delivered:
        if event["id"] not in seen:
            seen.add(event["id"])
            first_delivery[event["aggregate_id"]].append(event["seq"])
    assert first_delivery == expected, "a dossier's events arrived out of order, or one was lost"
    for dossier in dossiers:
        tried = [e["seq"] for e in attempts if e["aggregate_id"] == dossier]
        assert tried == sorted(tried), f"dossier {dossier}: a later event was tried before an earlier one arrived"
