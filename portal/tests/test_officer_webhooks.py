"""The officer's webhook page shows the dead letters (deliveries the dispatcher gave up on) in their own tab and sends
one again; an auditor sees them without the button, and a forged POST is the 403 page. The gateway is a stand-in
(making a real dead letter takes the API's three days of retries; the API's own tests do that)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request

SUBSCRIPTION = "01a230ee-c1c1-7c30-873f-d75e9b354d3d"
DEAD = "01a230ee-d2d2-7c30-873f-d75e9b354d3d"


def gateway(seen: list[tuple[str, str, dict[str, str]]]) -> FastAPI:
    app = FastAPI()
    base = f"/api/v1/integrations/webhooks/{SUBSCRIPTION}"

    @app.get(base)
    async def subscription() -> dict[str, Any]:
        return {"id": SUBSCRIPTION, "url": "https://motcua.hanoi.example.vn/hooks/sxsh", "owner_client_id": "egov-demo"}

    @app.get(f"{base}/deliveries")
    async def deliveries(request: Request) -> dict[str, Any]:
        seen.append(("GET", request.url.path, dict(request.query_params)))
        dead = {
            "id": DEAD,
            "event_seq": 41,
            "event_type": "application.submitted",
            "aggregate_type": "application",
            "aggregate_id": "01a230ee-a3a8-7c30-873f-d75e9b354d3d",
            "status": "dead",
            "attempts": 12,
            "last_status_code": 503,
            "last_error": "Dịch vụ tạm ngừng",
            "last_attempt_at": "2026-11-28T03:15:00Z",
        }
        items = [dead] if request.query_params.get("status") in (None, "dead") else []
        return {"items": items, "next_cursor": None}

    @app.post(f"{base}/deliveries/{DEAD}/redeliver")
    async def redeliver(request: Request) -> dict[str, Any]:
        seen.append(("POST", request.url.path, {}))
        return {"id": DEAD, "status": "pending"}

    return app


async def test_dead_letters_are_listed_in_their_tab_and_sent_again(make_client, log_in) -> None:
    seen: list[tuple[str, str, dict[str, str]]] = []
    async with make_client(gateway(seen)) as client:
        session = await log_in(client, roles=["officer"], username="officer1")
        page = await client.get(f"/officer/webhooks/{SUBSCRIPTION}?status=dead")
        assert page.status_code == 200
        assert seen[-1][2].get("status") == "dead"  # the tab asks the API for the dead letters only
        assert re.search(
            r'<a id="dead-letters" href="[^"]+\?status=dead" aria-current="page">Gửi thất bại</a>', page.text
        )
        row = re.search(rf'<tr id="delivery-{DEAD}" class="delivery delivery--dead">.*?</tr>', page.text, re.S)[0]
        assert "Gửi thất bại" in row and "503 Dịch vụ tạm ngừng" in row and f'id="redeliver-{DEAD}"' in row
        sent = await client.post(
            f"/officer/webhooks/{SUBSCRIPTION}/deliveries/{DEAD}/redeliver", data={"csrf_token": session.csrf_token}
        )
        assert sent.status_code == 303 and sent.headers["location"].endswith(f"?redelivered={DEAD}")
        assert seen[-1][0] == "POST"
        again = await client.get(sent.headers["location"])
        assert 'id="redelivered-banner"' in again.text


async def test_an_auditor_sees_the_dead_letters_without_the_button(make_client, log_in) -> None:
    seen: list[tuple[str, str, dict[str, str]]] = []
    async with make_client(gateway(seen)) as client:
        session = await log_in(client, roles=["auditor"], username="auditor1")
        page = await client.get(f"/officer/webhooks/{SUBSCRIPTION}?status=dead")
        assert page.status_code == 200 and f'id="delivery-{DEAD}"' in page.text
        assert "redeliver" not in page.text
        forged = await client.post(
            f"/officer/webhooks/{SUBSCRIPTION}/deliveries/{DEAD}/redeliver", data={"csrf_token": session.csrf_token}
        )
        assert forged.status_code == 403 and all(method == "GET" for method, _path, _q in seen)
