"""Shared helpers for the end-to-end tests of the applications and verification flows (issues #4 and #5).

Everything goes through the gateway with real Keycloak tokens (the `tokens` fixture of tests/conftest.py).
Each test makes its own call with a unique code, so the tests do not depend on each other's data.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import psycopg

from cleanprod_kit.testing.data import call_terms, random_tax_code
from cleanprod_kit.testing.problems import assert_problem  # noqa: F401 - the tests import it from here
from infra.devstack import Stack

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
DOSSIER = re.compile(r"^000\.00\.01\.H26-(\d{6})-(\d{4})$")
HANOISTEEL, THANGLONG = "ent-hanoisteel", "ent-thanglong"
TAX_CODES = {HANOISTEEL: "0100109106", THANGLONG: "0101243150"}

CRITERIA = [
    {"code": "tech", "name": "Mức độ hoàn thiện và phù hợp của công nghệ", "weight": 3, "max_score": 10},
    {"code": "saving", "name": "Tiềm năng tiết kiệm năng lượng, nguyên liệu", "weight": 2, "max_score": 5},
]
GOOD_SCORES = [{"criterion": "tech", "score": 8}, {"criterion": "saving", "score": 4}]  # 32/40 = 80 %

# What each demo facility burns (infra seed: services/registry/src/cleanprod_registry/seed/demo.py).
CLAIMS = {
    HANOISTEEL: [{"carrier": "electricity", "saving_pct": 8}, {"carrier": "natural_gas", "saving_pct": 8}],
    THANGLONG: [{"carrier": "electricity", "saving_pct": 8}, {"carrier": "coal_grade_3_4", "saving_pct": 8}],
}

T = TypeVar("T")


def today() -> dt.date:
    """Today on the Hanoi calendar (the services' calendar for calls and dossier codes)."""
    return dt.datetime.now(HANOI).date()


def days(n: int) -> str:
    return (today() + dt.timedelta(days=n)).isoformat()


def unique_code(prefix: str = "E2E") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


def if_match(headers: dict[str, str], version: int | str) -> dict[str, str]:
    return {**headers, "If-Match": version if str(version).startswith('"') else f'"{version}"'}


def poll(fetch: Callable[[], T | None], *, timeout: float = 30.0, interval: float = 0.2, what: str = "") -> T:
    """Call `fetch` until it returns something truthy (events travel through outboxes every ~0.2 s)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or fetch}")
        time.sleep(interval)


def call_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": unique_code("SXSH-E2E"),
        "title": "Hỗ trợ chuyển giao công nghệ sản xuất sạch hơn – đợt thử nghiệm đầu cuối",
        "description": "Đợt hỗ trợ cho các ngành ưu tiên của Thành phố Hà Nội (kiểm thử đầu cuối).",
        "opens_on": today().isoformat(),
        "closes_on": days(30),
        "criteria": CRITERIA,
        **call_terms(),
    }
    body.update(overrides)
    return body


def application_body(call_id: str, facility_id: str, enterprise: str = HANOISTEEL, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "call_id": call_id,
        "facility_id": facility_id,
        "title": "Thay lò nung bằng lò cảm ứng trung tần và thu hồi nhiệt khí thải",
        "technology": "Lò cảm ứng trung tần, biến tần IGBT cho quạt và bơm, thu hồi nhiệt khí thải để sấy liệu.",
        "supplier": {"name": "Công ty TNHH Thiết bị Nhiệt Hà Nội", "tax_code": random_tax_code()},
        "total_cost_vnd": 3_000_000_000,
        "eligible_cost_vnd": 2_000_000_000,
        "requested_support_vnd": 800_000_000,
        "claimed_savings": CLAIMS[enterprise],
        "claimed_overall_saving_pct": 8,
        "implementation_start": days(7),
        "implementation_end": days(180),
    }
    body.update(overrides)
    return body


class Api:
    """The gateway with the real Keycloak demo users, and shortcuts along the application lifecycle."""

    def __init__(self, gateway: httpx.Client, tokens: Any, stack: Stack) -> None:
        self.client = gateway
        self.tokens = tokens
        self.stack = stack
        self._subjects: dict[str, str] = {}
        self._facilities: dict[str, dict[str, Any]] = {}

    # ---- people ----------------------------------------------------------------------------------------------
    def h(self, username: str, **extra: str) -> dict[str, str]:
        return self.tokens.headers(username, **extra)

    def subject(self, username: str) -> str:
        if username not in self._subjects:
            me = self.client.get("/api/v1/me", headers=self.h(username))
            assert me.status_code == 200, me.text
            self._subjects[username] = me.json()["subject"]
        return self._subjects[username]

    def facility(self, enterprise: str) -> dict[str, Any]:
        """The demo enterprise's facility, as the enterprise itself sees it in the registry."""
        if enterprise not in self._facilities:
            page = self.client.get("/api/v1/facilities", params={"limit": 200}, headers=self.h(enterprise))
            assert page.status_code == 200, page.text
            # The seeded one: other tests (the portal's) add facilities to the demo enterprises in the same run.
            own = [f for f in page.json()["items"] if f["enterprise_tax_code"] == TAX_CODES[enterprise]]
            facility = min(own, key=lambda f: f["created_at"])
            self._facilities[enterprise] = facility
        return self._facilities[enterprise]

    # ---- calls and drafts ------------------------------------------------------------------------------------
    def call(self, officer: str = "officer1", **overrides: Any) -> dict[str, Any]:
        """A call; one that `closes_on` in the past is created open until today, then closed early (a call cannot
        be created already closed)."""
        body = call_body(**overrides)
        closed_on = body["closes_on"] if body["closes_on"] < days(0) else None
        if closed_on:
            body["closes_on"] = days(0)
        response = self.client.post("/api/v1/calls", json=body, headers=self.h(officer))
        assert response.status_code == 201, response.text
        if closed_on is None:
            return response.json()
        closed = self.client.patch(
            f"/api/v1/calls/{response.json()['id']}",
            json={"closes_on": closed_on},
            headers={**self.h(officer), "If-Match": f'"{response.json()["version"]}"'},
        )
        assert closed.status_code == 200, closed.text
        return closed.json()

    def get_call(self, call_id: str, user: str = "officer1") -> dict[str, Any]:
        response = self.client.get(f"/api/v1/calls/{call_id}", headers=self.h(user))
        assert response.status_code == 200, response.text
        return response.json()

    def draft(self, call: dict[str, Any], enterprise: str = HANOISTEEL, **overrides: Any) -> dict[str, Any]:
        body = application_body(call["id"], self.facility(enterprise)["id"], enterprise, **overrides)
        response = self.client.post("/api/v1/applications", json=body, headers=self.h(enterprise))
        assert response.status_code == 201, response.text
        return response.json()

    def owner(self, application: dict[str, Any]) -> str:
        return next(user for user, tax in TAX_CODES.items() if tax == application["enterprise_tax_code"])

    def act(
        self, application: dict[str, Any], action: str, user: str, json: Any = None, expect: int = 200
    ) -> dict[str, Any]:
        response = self.post_action(application, action, user, json)
        assert response.status_code == expect, response.text
        return response.json()

    def post_action(self, application: dict[str, Any], action: str, user: str, json: Any = None) -> httpx.Response:
        return self.client.post(
            f"/api/v1/applications/{application['id']}/{action}",
            json=json,
            headers=if_match(self.h(user), application["version"]),
        )

    def get(self, application: dict[str, Any] | str, user: str = "officer1") -> dict[str, Any]:
        app_id = application if isinstance(application, str) else application["id"]
        response = self.client.get(f"/api/v1/applications/{app_id}", headers=self.h(user))
        assert response.status_code == 200, response.text
        return response.json()

    def history(self, application: dict[str, Any], user: str = "auditor1") -> list[dict[str, Any]]:
        response = self.client.get(
            f"/api/v1/applications/{application['id']}/history", params={"limit": 200}, headers=self.h(user)
        )
        assert response.status_code == 200, response.text
        return response.json()["items"]

    # ---- lifecycle -------------------------------------------------------------------------------------------
    def submitted(self, call: dict[str, Any], enterprise: str = HANOISTEEL, **overrides: Any) -> dict[str, Any]:
        application = self.draft(call, enterprise, **overrides)
        application = self.act(application, "submit", enterprise, json={"reason": "Nộp hồ sơ trực tuyến"})
        assert application["status"] == "under_review", application
        return application

    def assign(self, application: dict[str, Any], reviewer: str, officer: str = "officer1") -> httpx.Response:
        return self.client.post(
            f"/api/v1/applications/{application['id']}/assignments",
            headers=self.h(officer),
            json={"reviewer_subject": self.subject(reviewer), "reviewer_username": reviewer},
        )

    def declare(self, application: dict[str, Any], reviewer: str, conflict: bool = False) -> httpx.Response:
        statement = (
            "Tôi từng làm tư vấn cho doanh nghiệp này trong năm 2025."
            if conflict
            else "Tôi không có quan hệ với doanh nghiệp, cơ sở hay nhà cung cấp công nghệ."
        )
        return self.client.post(
            f"/api/v1/applications/{application['id']}/reviews/declaration",
            headers=self.h(reviewer),
            json={"conflict": conflict, "statement": statement},
        )

    def score(
        self, application: dict[str, Any], reviewer: str, scores: list[dict[str, Any]] | None = None
    ) -> httpx.Response:
        return self.client.post(
            f"/api/v1/applications/{application['id']}/reviews",
            headers=self.h(reviewer),
            json={
                "scores": scores or GOOD_SCORES,
                "recommendation": "approve",
                "comment": "Công nghệ phù hợp, mức tiết kiệm khả thi.",
            },
        )

    def review(self, application: dict[str, Any], reviewer: str) -> None:
        assigned = self.assign(application, reviewer)
        assert assigned.status_code == 201, assigned.text
        declared = self.declare(application, reviewer)
        assert declared.status_code == 201, declared.text
        scored = self.score(application, reviewer)
        assert scored.status_code == 201, scored.text

    def reviewed(
        self, application: dict[str, Any], reviewers: tuple[str, ...] = ("reviewer1", "reviewer2")
    ) -> dict[str, Any]:
        for reviewer in reviewers:
            self.review(application, reviewer)
        return self.get(application)

    def approved(self, call: dict[str, Any], enterprise: str = HANOISTEEL, **overrides: Any) -> dict[str, Any]:
        application = self.reviewed(self.submitted(call, enterprise, **overrides))
        application = self.act(
            application,
            "decision",
            "officer2",
            json={"outcome": "approve", "reason": "Đạt điểm, phù hợp mục tiêu chương trình."},
        )
        assert application["status"] == "approved", application
        return application

    def completed(self, call: dict[str, Any], enterprise: str = HANOISTEEL, **overrides: Any) -> dict[str, Any]:
        application = self.approved(call, enterprise, **overrides)
        application = self.act(application, "start", enterprise, json={"reason": "Đã ký hợp đồng với nhà cung cấp."})
        return self.act(application, "completion", enterprise, json={"reason": "Đã nghiệm thu lắp đặt, vận hành."})

    # ---- the applications database (read only: counting outbox rows) -----------------------------------------
    def outbox_types(self, application_id: str) -> list[str]:
        with psycopg.connect(self.stack.pg.dsn("cleanprod_applications")) as conn:
            rows = conn.execute(
                "SELECT event_type FROM outbox_events WHERE aggregate_type = 'application' "
                "AND aggregate_id = %s ORDER BY seq",
                (application_id,),
            ).fetchall()
        return [row[0] for row in rows]


def tranches(application: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["kind"]: t for t in application["tranches"]}


def minimal_pdf(text: str = "Bao cao kiem toan nang luong 2025") -> bytes:
    """A small but well-formed PDF (one page of text, correct cross-reference table)."""
    content = f"BT /F1 14 Tf 72 770 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
