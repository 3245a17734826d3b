"""Internal events are trusted only from their publisher (issue 9, fault 1): a `verification.concluded` forged
with the gateway's real Keycloak service-account token and posted straight to the applications service's
`/internal/events` (the gateway does not route it) is refused with 403 and changes nothing — the balance stays
withheld while the real verification case is still open."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import jwt
from e2e_helpers import HANOISTEEL, Api, assert_problem, tranches

from infra.devstack import Stack


def test_a_verdict_forged_with_the_gateway_account_is_refused(api: Api, tokens: Any, stack: Stack) -> None:
    application = api.completed(api.call(), HANOISTEEL)
    before = api.get(application["id"])
    assert before["status"] == "completed" and tranches(before)["balance"]["status"] == "withheld"

    gateway_token = tokens.client("svc-gateway")
    claims = jwt.decode(gateway_token, options={"verify_signature": False})
    assert claims["azp"] == "svc-gateway" and "service" in claims["realm_access"]["roles"]
    forged = {
        "id": str(uuid.uuid4()),
        "seq": 1,
        "type": "verification.concluded",
        "aggregate_type": "verification",
        "aggregate_id": str(uuid.uuid4()),
        "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
        "source": "verification",
        "data": {
            "application_id": application["id"],
            "verdict": "verified",
            "achieved_ratio": 1.0,
            "verified_savings_pct": 9.0,
            "claimed_savings_pct": 8.0,
            "verification_id": "forged",
        },
    }
    response = httpx.post(
        f"{stack.url('applications')}/internal/events",
        json=forged,
        timeout=30,
        headers={"Authorization": f"Bearer {gateway_token}"},
    )
    problem = assert_problem(response, 403)
    assert problem["code"] == "event_publisher_not_allowed"

    # egov's account is refused too (it has no service role at all)
    egov = httpx.post(
        f"{stack.url('applications')}/internal/events",
        json={**forged, "id": str(uuid.uuid4())},
        timeout=30,
        headers={"Authorization": f"Bearer {tokens.client('egov-demo')}"},
    )
    assert_problem(egov, 403)

    after = api.get(application["id"])
    assert after["status"] == "completed" and after["version"] == before["version"]
    assert tranches(after) == tranches(before)
    assert all(e["action"] not in ("record_verified", "verdict_deferred") for e in api.history(after))
