"""E-government integration through the whole system: the gateway, real Keycloak tokens (the `egov-demo` client's
client-credentials grant), the applications service with its webhook dispatcher, PostgreSQL — and a webhook
receiver on loopback (the stack runs with environment=test, where loopback and http webhook URLs are allowed)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from infra.devstack import Stack

ROOT = Path(__file__).resolve().parents[2]
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
API = "/api/v1/integrations"
ENTERPRISE, TAX_CODE = "ent-hanoisteel", "0100109106"


def documented_verifier() -> tuple[Any, type[Exception]]:
    """The verification snippet of docs/egov-integration.md, run as printed."""
    text = (ROOT / "docs" / "egov-integration.md").read_text(encoding="utf-8")
    block = text.split("<!-- BEGIN VERIFY SNIPPET -->", 1)[1].split("<!-- END VERIFY SNIPPET -->", 1)[0]
    namespace: dict[str, Any] = {"__name__": "egov_snippet"}
    code = block.strip().removeprefix("```python").removesuffix("```")
    exec(compile(code, "egov-integration.md", "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify_webhook"], namespace["InvalidWebhook"]


class Receiver:
    """Records every POST (headers, raw body) and answers 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[Any, bytes]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append((self.headers, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cleanprod"

    def events(self, aggregate_id: str) -> list[tuple[Any, bytes, dict[str, Any]]]:
        found = []
        for headers, body in list(self.requests):
            event = json.loads(body)
            if event.get("aggregate_id") == aggregate_id:
                found.append((headers, body, event))
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def egov(tokens: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.client('egov-demo')}"}


def today() -> dt.date:
    return dt.datetime.now(HANOI).date()


def submitted_application(gateway: httpx.Client, tokens: Any) -> dict[str, Any]:
    call = gateway.post(
        "/api/v1/calls",
        headers=tokens.headers("officer1"),
        json={
            "code": f"SXSH-EGOV-{uuid.uuid4().hex[:8].upper()}",
            "title": "Hỗ trợ chuyển giao công nghệ sản xuất sạch hơn – kiểm thử liên thông một cửa",
            "opens_on": today().isoformat(),
            "closes_on": (today() + dt.timedelta(days=30)).isoformat(),
            "budget_vnd": 10_000_000_000,
            "support_rate_bp": 5_000,
            "cap_per_project_vnd": 2_000_000_000,
            "eligible_sectors": ["steel", "beer"],
            "criteria": [{"code": "tech", "name": "Mức độ phù hợp của công nghệ", "weight": 3, "max_score": 10}],
            "min_reviews": 1,
            "pass_score_pct": 60,
        },
    )
    assert call.status_code == 201, call.text
    facilities = gateway.get("/api/v1/facilities", headers=tokens.headers(ENTERPRISE))
    assert facilities.status_code == 200, facilities.text
    facility = facilities.json()["items"][0]
    draft = gateway.post(
        "/api/v1/applications",
        headers=tokens.headers(ENTERPRISE),
        json={
            "call_id": call.json()["id"],
            "facility_id": facility["id"],
            "title": "Lò cảm ứng trung tần thay lò nung, thu hồi nhiệt khí thải",
            "technology": "Lò cảm ứng trung tần, biến tần IGBT cho quạt và bơm, thu hồi nhiệt khí thải để sấy liệu.",
            "total_cost_vnd": 3_000_000_000,
            "eligible_cost_vnd": 2_000_000_000,
            "requested_support_vnd": 800_000_000,
            "claimed_savings": [
                {"carrier": "electricity", "saving_pct": 8},
                {"carrier": "natural_gas", "saving_pct": 8},
            ],
            "claimed_overall_saving_pct": 8,
            "implementation_start": (today() + dt.timedelta(days=7)).isoformat(),
            "implementation_end": (today() + dt.timedelta(days=180)).isoformat(),
        },
    )
    assert draft.status_code == 201, draft.text
    application = draft.json()
    response = gateway.post(
        f"/api/v1/applications/{application['id']}/submit",
        headers={**tokens.headers(ENTERPRISE), "If-Match": f'"{application["version"]}"'},
        json={"reason": "Nộp hồ sơ trực tuyến"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "under_review"
    return response.json()


def test_egov_client_looks_up_a_dossier_and_receives_signed_webhooks(
    stack: Stack, gateway: httpx.Client, tokens: Any, receiver: Receiver
) -> None:
    verify_webhook, invalid_webhook = documented_verifier()
    headers = egov(tokens)
    subscribed = gateway.post(
        f"{API}/webhooks",
        headers=headers,
        json={"url": receiver.url, "event_types": ["application.*"], "description": "Cổng một cửa (kiểm thử)"},
    )
    assert subscribed.status_code == 201, subscribed.text
    subscription, secret = subscribed.json(), subscribed.json()["secret"]
    try:
        application = submitted_application(gateway, tokens)
        code = application["dossier_code"]

        # Look-up through the gateway with the real egov token.
        response = gateway.get(f"{API}/dossiers/{code}", headers=headers)
        assert response.status_code == 200, response.text
        dossier = response.json()
        assert dossier["status_code"] == 4 and dossier["status_label"] == "Đang xử lý"
        assert dossier["applicant_tax_code"] == TAX_CODE and dossier["summary"] == application["title"]
        assert len(dossier["received_date"]) == 14 and dossier["due_date"] > dossier["received_date"]
        assert gateway.get(f"{API}/dossiers/000.00.01.H26-991231-9999", headers=headers).status_code == 404
        assert gateway.get(f"{API}/dossiers/not-a-code", headers=headers).status_code == 422

        # The status changes of the submission arrive, signed, in order.
        deadline = time.monotonic() + 30
        while len(receiver.events(application["id"])) < 2:
            assert time.monotonic() < deadline, "no webhook within 30 s"
            time.sleep(0.2)
        arrived = receiver.events(application["id"])
        assert [e["type"] for _, _, e in arrived] == ["application.submitted", "application.screening_passed"]
        assert [e["data"]["egov_status"] for _, _, e in arrived] == [1, 4]
        for request_headers, body, event in arrived:
            assert verify_webhook(secret, request_headers, body) == event["id"] == request_headers["Webhook-Id"]
            assert event["data"]["dossier_code"] == code
            with pytest.raises(invalid_webhook):
                verify_webhook(secret, request_headers, body.replace(b'"egov_status":', b'"egov_status":1', 1))

        # The same events are in the feed.
        cursor, seen = None, []
        while True:
            params = {"limit": 200, "type": "application.*", **({"after": cursor} if cursor else {})}
            response = gateway.get(f"{API}/events", headers=headers, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            seen += [e["id"] for e in page["items"]]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
        assert {e["id"] for _, _, e in arrived} <= set(seen) and len(seen) == len(set(seen))
    finally:
        deleted = gateway.delete(f"{API}/webhooks/{subscription['id']}", headers=headers)
        assert deleted.status_code == 204, deleted.text


def test_only_egov_officers_and_auditors_reach_the_integration(gateway: httpx.Client, tokens: Any) -> None:
    code = "000.00.01.H26-261128-0001"
    for user in (ENTERPRISE, "reviewer1", "verifier1"):
        assert gateway.get(f"{API}/dossiers/{code}", headers=tokens.headers(user)).status_code == 403
        assert gateway.get(f"{API}/events", headers=tokens.headers(user)).status_code == 403
        assert (
            gateway.post(
                f"{API}/webhooks", headers=tokens.headers(user), json={"url": "http://127.0.0.1:9/x"}
            ).status_code
            == 403
        )
    for user in ("officer1", "auditor1"):
        assert gateway.get(f"{API}/dossiers/{code}", headers=tokens.headers(user)).status_code in (200, 404)
        assert gateway.get(f"{API}/events", headers=tokens.headers(user), params={"limit": 1}).status_code == 200
    # Subscriptions are the egov clients' own: officers cannot create them (auditors cannot write at all).
    assert (
        gateway.post(
            f"{API}/webhooks", headers=tokens.headers("officer1"), json={"url": "http://127.0.0.1:9/x"}
        ).status_code
        == 403
    )
    assert (
        gateway.post(
            f"{API}/webhooks", headers=tokens.headers("auditor1"), json={"url": "http://127.0.0.1:9/x"}
        ).status_code
        == 403
    )
    refused = gateway.post(f"{API}/webhooks", headers=egov(tokens), json={"url": "http://169.254.169.254/latest/"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "metadata_address"
    assert gateway.get(f"{API}/events").status_code == 401
