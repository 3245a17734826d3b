"""Notifications through the gateway with real Keycloak tokens (issue 10): an enterprise is told of its dossier's
receipt right after submitting, reads it in its language, marks it read; another enterprise cannot see or mark it;
every role that logs in has an inbox."""

from __future__ import annotations

from e2e_helpers import HANOISTEEL, THANGLONG, Api, assert_problem, today


def test_enterprise_gets_its_receipt_after_submit(api: Api) -> None:
    facility = api.facility(HANOISTEEL)
    call = api.call(opens_on=today().isoformat(), eligible_sectors=[facility["sector_code"]])
    application = api.submitted(call, HANOISTEEL)
    code = application["dossier_code"]

    before = api.client.get("/api/v1/notifications/unread-count", headers=api.h(HANOISTEEL))
    assert before.status_code == 200 and before.json()["unread"] >= 1
    page = api.client.get("/api/v1/notifications", params={"unread": "true", "limit": 200}, headers=api.h(HANOISTEEL))
    assert page.status_code == 200, page.text
    mine = [i for i in page.json()["items"] if i["application_id"] == application["id"]]
    assert [i["kind"] for i in mine] == ["dossier_received"]
    receipt = mine[0]
    assert receipt["title"] == f"Đã tiếp nhận hồ sơ {code}" and receipt["dossier_code"] == code
    assert receipt["link"] == f"/enterprise/applications/{application['id']}" and receipt["read"] is False
    english = api.client.get(
        "/api/v1/notifications", params={"limit": 200}, headers=api.h(HANOISTEEL, **{"Accept-Language": "en"})
    )
    assert any(i["title"] == f"Dossier {code} received" for i in english.json()["items"])

    # Another enterprise neither sees nor marks it.
    other = api.client.get("/api/v1/notifications", params={"limit": 200}, headers=api.h(THANGLONG))
    assert other.status_code == 200 and all(i["id"] != receipt["id"] for i in other.json()["items"])
    refused = api.client.post(f"/api/v1/notifications/{receipt['id']}/read", headers=api.h(THANGLONG))
    assert assert_problem(refused, 404)["code"] == "notification_not_found"

    read = api.client.post(f"/api/v1/notifications/{receipt['id']}/read", headers=api.h(HANOISTEEL))
    assert read.status_code == 204
    after = api.client.get("/api/v1/notifications/unread-count", headers=api.h(HANOISTEEL)).json()["unread"]
    assert after == before.json()["unread"] - 1

    # Every role that logs in reaches its own inbox and preferences through the gateway.
    for user in ("officer1", "reviewer1", "verifier1", "auditor1"):
        assert api.client.get("/api/v1/notifications/unread-count", headers=api.h(user)).status_code == 200
        assert api.client.get("/api/v1/notification-preferences", headers=api.h(user)).status_code == 200
