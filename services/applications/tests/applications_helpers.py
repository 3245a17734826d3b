"""Helpers for the applications tests (importable by name: this folder is in pytest's `pythonpath`)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from cleanprod_applications.domain import local_date
from cleanprod_kit.models import utcnow
from cleanprod_kit.testing.data import call_terms, random_tax_code
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_kit.testing.problems import assert_problem  # noqa: F401 - the tests import it from here
from infra.ports import free_port

MAX_DOCUMENT_BYTES = 1_048_576  # 1 MiB in tests (default 20 MiB), so the 413 test moves little data
TODAY = local_date(utcnow())


def days(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


class Actors:
    """Bearer headers per role, with stable subjects so the same person can act twice."""

    def __init__(self, issuer: TestIssuer) -> None:
        self.issuer = issuer

    def headers(
        self, *roles: str, sub: str | None = None, username: str | None = None, tax_code: str | None = None
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.token(*roles, sub=sub, username=username, tax_code=tax_code)}"}

    def officer(self, n: int = 1) -> dict[str, str]:
        return self.headers("officer", sub=f"officer-{n}", username=f"officer{n}")

    def reviewer(self, n: int = 1) -> dict[str, str]:
        return self.headers("reviewer", sub=f"reviewer-{n}", username=f"reviewer{n}")

    def enterprise(self, tax_code: str, n: int = 1) -> dict[str, str]:
        return self.headers("enterprise", sub=f"ent-{tax_code}-{n}", username=f"staff{n}-{tax_code}", tax_code=tax_code)

    def finance(self, n: int = 1) -> dict[str, str]:
        return self.headers("finance", sub=f"finance-{n}", username=f"finance{n}")

    @property
    def auditor(self) -> dict[str, str]:
        return self.headers("auditor", sub="auditor-1", username="auditor1")

    @property
    def verifier(self) -> dict[str, str]:
        return self.verifier_n(1)

    def verifier_n(self, n: int) -> dict[str, str]:
        return self.headers("verifier", sub=f"verifier-{n}", username=f"verifier{n}")

    @property
    def egov(self) -> dict[str, str]:
        return self.headers("egov", sub="service-account-egov-demo", username="service-account-egov-demo")

    @property
    def service(self) -> dict[str, str]:
        """The verification service's account: the publisher of the events this service consumes."""
        return self.client("svc-verification")

    def client(self, client_id: str, *roles: str) -> dict[str, str]:
        """A client-credentials token of `client_id` (roles default to `service`)."""
        return {"Authorization": f"Bearer {self.issuer.client_token(client_id, *(roles or ('service',)))}"}


def service_tokens(issuer: TestIssuer) -> Callable[[], Awaitable[str]]:
    """The applications service's own client-credentials token, as a token source."""

    async def token() -> str:
        return issuer.client_token("svc-applications", "service")

    return token


def if_match(headers: dict[str, str], version: int | str) -> dict[str, str]:
    return {**headers, "If-Match": f'"{version}"'}


CRITERIA = [
    {"code": "tech", "name": "Mức độ hoàn thiện công nghệ", "weight": 3, "max_score": 10},
    {"code": "saving", "name": "Tiềm năng tiết kiệm năng lượng", "weight": 2, "max_score": 5},
]
GOOD_SCORES = [{"criterion": "tech", "score": 8}, {"criterion": "saving", "score": 4}]  # 32/40 = 80 %


def call_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": f"SXSH-{uuid.uuid4().hex[:10].upper()}",
        "title": "Hỗ trợ chuyển giao công nghệ sản xuất sạch hơn năm 2026",
        "description": "Đợt hỗ trợ thứ nhất cho các ngành ưu tiên của Thành phố Hà Nội.",
        "opens_on": days(-10),
        "closes_on": days(30),
        "criteria": CRITERIA,
        **call_terms(),
    }
    body.update(overrides)
    return body


def application_body(call_id: str, facility_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "call_id": call_id,
        "facility_id": facility_id,
        "title": "Thay lò nung bằng lò cảm ứng trung tần tiết kiệm điện",
        "technology": "Lò cảm ứng trung tần 5 tấn/mẻ, biến tần IGBT, thu hồi nhiệt khí thải để sấy liệu.",
        "supplier": {"name": "Công ty TNHH Thiết bị Nhiệt Hà Nội", "tax_code": random_tax_code()},
        "total_cost_vnd": 3_000_000_000,
        "eligible_cost_vnd": 2_000_000_000,
        "requested_support_vnd": 800_000_000,
        "claimed_savings": [
            {"carrier": "electricity", "saving_pct": 12.5, "annual_saving": {"quantity": 1_200_000, "unit": "kWh"}},
            {"carrier": "coal_grade_3_4", "saving_pct": 6},
        ],
        "claimed_overall_saving_pct": 8.5,
        "implementation_start": days(20),
        "implementation_end": days(200),
    }
    body.update(overrides)
    return body


@dataclass
class Enterprise:
    id: str
    tax_code: str
    name: str
    steel_facility: str
    paper_facility: str


class World:
    """Registry data and API shortcuts that walk an application along its lifecycle."""

    def __init__(self, client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors) -> None:
        self.client = client
        self.registry = registry
        self.actors = actors
        self.a: Enterprise
        self.b: Enterprise

    @classmethod
    async def build(cls, client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors) -> World:
        world = cls(client, registry, actors)
        world.a = await world.new_enterprise("Công ty Cổ phần Thép Đông Anh")
        world.b = await world.new_enterprise("Công ty TNHH Giấy Phú Thượng")
        return world

    async def new_enterprise(self, name: str) -> Enterprise:
        officer = self.actors.officer()
        tax_code = random_tax_code()
        response = await self.registry.post(
            "/api/v1/enterprises",
            headers=officer,
            json={
                "tax_code": tax_code,
                "name": name,
                "legal_form": "joint_stock",
                "size_class": "medium",
                "address": "Khu công nghiệp Thăng Long, Hà Nội",
                "ward": "Xã Đông Anh",
                "district": "Huyện Đông Anh",
            },
        )
        assert response.status_code == 201, response.text
        enterprise = response.json()
        facilities = []
        for sector, label in (("steel", "Nhà máy cán thép"), ("paper", "Nhà máy giấy")):
            response = await self.registry.post(
                f"/api/v1/enterprises/{enterprise['id']}/facilities",
                headers=officer,
                json={
                    "name": f"{label} {name}",
                    "sector_code": sector,
                    "address": "Lô B2, KCN Thăng Long",
                    "ward": "Xã Đông Anh",
                },
            )
            assert response.status_code == 201, response.text
            facilities.append(response.json()["id"])
        return Enterprise(enterprise["id"], enterprise["tax_code"], name, *facilities)

    # ---- calls and drafts ------------------------------------------------------------------------------------
    async def call(self, **overrides: Any) -> dict[str, Any]:
        """A call; one that `closes_on` in the past is created open until today, then closed early (a call cannot
        be created already closed)."""
        body = call_body(**overrides)
        closed_on = body["closes_on"] if body["closes_on"] < days(0) else None
        if closed_on:
            body["closes_on"] = days(0)
        response = await self.client.post("/api/v1/calls", json=body, headers=self.actors.officer())
        assert response.status_code == 201, response.text
        if closed_on is None:
            return response.json()
        closed = await self.client.patch(
            f"/api/v1/calls/{response.json()['id']}",
            json={"closes_on": closed_on},
            headers={**self.actors.officer(), "If-Match": f'"{response.json()["version"]}"'},
        )
        assert closed.status_code == 200, closed.text
        return closed.json()

    async def draft(
        self,
        call: dict[str, Any] | None = None,
        enterprise: Enterprise | None = None,
        facility: str | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        call = call or await self.call()
        enterprise = enterprise or self.a
        body = application_body(call["id"], facility or enterprise.steel_facility, **overrides)
        response = await self.client.post(
            "/api/v1/applications", json=body, headers=self.actors.enterprise(enterprise.tax_code)
        )
        assert response.status_code == 201, response.text
        return response.json()

    def owner(self, application: dict[str, Any]) -> dict[str, str]:
        return self.actors.enterprise(application["enterprise_tax_code"])

    async def act(
        self, application: dict[str, Any], action: str, headers: dict[str, str], json: Any = None, expect: int = 200
    ) -> dict[str, Any]:
        response = await self.client.post(
            f"/api/v1/applications/{application['id']}/{action}",
            json=json,
            headers=if_match(headers, application["version"]),
        )
        assert response.status_code == expect, response.text
        return response.json()

    async def get(self, application: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = await self.client.get(
            f"/api/v1/applications/{application['id']}", headers=headers or self.actors.officer()
        )
        assert response.status_code == 200, response.text
        return response.json()

    # ---- the lifecycle ---------------------------------------------------------------------------------------
    async def submitted(self, **kw: Any) -> dict[str, Any]:
        application = await self.draft(**kw)
        application = await self.act(application, "submit", self.owner(application))
        assert application["status"] == "under_review", application
        return application

    async def assign(self, application: dict[str, Any], reviewer: int, officer: int = 1) -> None:
        response = await self.client.post(
            f"/api/v1/applications/{application['id']}/assignments",
            headers=self.actors.officer(officer),
            json={"reviewer_subject": f"reviewer-{reviewer}", "reviewer_username": f"reviewer{reviewer}"},
        )
        assert response.status_code == 201, response.text

    async def declare(self, application: dict[str, Any], reviewer: int, conflict: bool = False) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/applications/{application['id']}/reviews/declaration",
            headers=self.actors.reviewer(reviewer),
            json={
                "conflict": conflict,
                "statement": "Tôi có quan hệ với doanh nghiệp."
                if conflict
                else "Tôi không có quan hệ với doanh nghiệp, cơ sở hay nhà cung cấp.",
            },
        )

    async def score(
        self, application: dict[str, Any], reviewer: int, scores: list[dict[str, Any]] | None = None
    ) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/applications/{application['id']}/reviews",
            headers=self.actors.reviewer(reviewer),
            json={
                "scores": scores or GOOD_SCORES,
                "recommendation": "approve",
                "comment": "Công nghệ phù hợp, mức tiết kiệm khả thi.",
            },
        )

    async def reviewed(
        self, application: dict[str, Any] | None = None, reviewers: tuple[int, ...] = (1, 2), **kw: Any
    ) -> dict[str, Any]:
        application = application or await self.submitted(**kw)
        for n in reviewers:
            await self.assign(application, n)
            assert (await self.declare(application, n)).status_code == 201
            response = await self.score(application, n)
            assert response.status_code == 201, response.text
        return await self.get(application)

    async def decide(self, application: dict[str, Any], outcome: str, reason: str) -> dict[str, Any]:
        """The decision, by an officer who is not among the reviewers."""
        return await self.act(
            application, "decision", self.actors.officer(9), json={"outcome": outcome, "reason": reason}
        )

    async def reviewed_then_cap_lowered(self) -> dict[str, Any]:
        """An application reviewed under a 1 000 M cap per project, then the call's cap lowered to 500 M."""
        call = await self.call(cap_per_project_vnd=1_000_000_000)
        application = await self.reviewed(call=call)
        await self.client.patch(
            f"/api/v1/calls/{call['id']}",
            json={"cap_per_project_vnd": 500_000_000},
            headers=if_match(self.actors.officer(), call["version"]),
        )
        return application

    async def approved(self, **kw: Any) -> dict[str, Any]:
        application = await self.reviewed(**kw)
        application = await self.decide(application, "approve", "Đạt điểm, phù hợp mục tiêu chương trình.")
        assert application["status"] == "approved"
        return application

    async def in_progress(self, **kw: Any) -> dict[str, Any]:
        application = await self.approved(**kw)
        return await self.act(application, "start", self.owner(application), json={"reason": "Đã ký hợp đồng."})

    async def completed(self, **kw: Any) -> dict[str, Any]:
        application = await self.in_progress(**kw)
        return await self.act(
            application, "completion", self.owner(application), json={"reason": "Đã nghiệm thu lắp đặt."}
        )

    async def conclude(
        self,
        application: dict[str, Any],
        verdict: str,
        ratio: float | None = None,
        event_id: str | None = None,
        expect: int = 200,
    ) -> httpx.Response:
        data: dict[str, Any] = {
            "application_id": application["id"],
            "verdict": verdict,
            "verification_id": str(uuid.uuid4()),
            "claimed_savings_pct": 8.5,
        }
        if ratio is not None:
            data |= {"achieved_ratio": ratio, "verified_savings_pct": round(8.5 * ratio, 4)}
        else:
            data |= {"achieved_ratio": 1.0, "verified_savings_pct": 9.1}
        envelope = {
            "id": event_id or str(uuid.uuid4()),
            "seq": 1,
            "type": "verification.concluded",
            "aggregate_type": "verification",
            "aggregate_id": data["verification_id"],
            "occurred_at": utcnow().isoformat(),
            "source": "verification",
            "data": data,
        }
        response = await self.client.post("/internal/events", json=envelope, headers=self.actors.service)
        assert response.status_code == expect, response.text
        return response

    async def tranche_step(
        self, application: dict[str, Any], tranche: dict[str, Any], step: str, headers: dict[str, str], json: Any = None
    ) -> dict[str, Any]:
        """One payment step of a tranche (prepare, approve, paid, collections); the tranche after it."""
        response = await self.client.post(
            f"/api/v1/applications/{application['id']}/tranches/{tranche['id']}/{step}",
            json=json,
            headers=if_match(headers, tranche["version"]),
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def pay(self, application: dict[str, Any], kind: str = "advance") -> dict[str, Any]:
        """The first tranche of `kind` prepared (finance 1), approved (officer 2) and paid (finance 1)."""
        tranche = next(t for t in (await self.get(application))["tranches"] if t["kind"] == kind)
        tranche = await self.tranche_step(application, tranche, "prepare", self.actors.finance(1))
        tranche = await self.tranche_step(application, tranche, "approve", self.actors.officer(2))
        return await self.pay_approved(application, tranche)

    async def pay_approved(self, application: dict[str, Any], tranche: dict[str, Any]) -> dict[str, Any]:
        """An approved tranche marked paid by finance 1 (today, a treasury reference, its amount)."""
        body = {"paid_on": TODAY.isoformat(), "reference": "KBNN-HN/2026/000123", "amount_vnd": tranche["amount_vnd"]}
        return await self.tranche_step(application, tranche, "paid", self.actors.finance(1), json=body)

    async def assign_verifier(
        self,
        application: dict[str, Any],
        subject: str = "verifier-1",
        username: str = "verifier1",
        headers: dict[str, str] | None = None,
        occurred_at: str | None = None,
    ) -> httpx.Response:
        """The verification service announcing the verifier of the application's case (its outbox event)."""
        body = {
            "verification_id": str(uuid.uuid4()),
            "application_id": application["id"],
            "status": "assigned",
            "verifier_subject": subject,
            "verifier_username": username,
        }
        envelope = {
            "id": str(uuid.uuid4()),
            "seq": 1,
            "type": "verification.verifier_assigned",
            "aggregate_type": "verification",
            "aggregate_id": body["verification_id"],
            "occurred_at": occurred_at or utcnow().isoformat(),
            "source": "verification",
            "data": {k: v for k, v in body.items() if v is not None},
        }
        return await self.client.post("/internal/events", json=envelope, headers=headers or self.actors.service)

    async def at(self, status: str) -> dict[str, Any]:
        """A fresh application in `status` (reached through the API)."""
        if status == "draft":
            return await self.draft()
        if status == "withdrawn":
            application = await self.draft()
            return await self.act(application, "withdraw", self.owner(application))
        if status == "ineligible":
            application = await self.draft(facility=self.a.paper_facility)
            application = await self.act(application, "submit", self.owner(application))
            assert application["status"] == "ineligible"
            return application
        if status == "under_review":
            return await self.submitted()
        if status in ("rejected", "changes_requested"):
            application = await self.reviewed()
            outcome = "reject" if status == "rejected" else "request_changes"
            return await self.act(
                application,
                "decision",
                self.actors.officer(9),
                json={"outcome": outcome, "reason": "Chưa đạt yêu cầu."},
            )
        if status == "approved":
            return await self.approved()
        if status == "in_progress":
            return await self.in_progress()
        if status == "completed":
            return await self.completed()
        if status in ("verified", "not_achieved"):
            application = await self.completed()
            await self.conclude(application, status, ratio=0.6 if status == "not_achieved" else None)
            application = await self.get(application)
            assert application["status"] == status
            return application
        raise AssertionError(f"no recipe for {status}")


# ---- e-government integration (webhooks) ---------------------------------------------------------------------------
import random  # noqa: E402 - this section was appended; its imports stay with it
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import orjson  # noqa: E402

EGOV_DOC = Path(__file__).resolve().parents[3] / "docs" / "egov-integration.md"


def documented_verifier() -> tuple[Callable[..., str], type[Exception]]:
    """`verify_webhook` and `InvalidWebhook` exactly as docs/egov-integration.md prints them (the code block between
    the VERIFY SNIPPET markers), so the tests check the snippet receivers will copy."""
    text = EGOV_DOC.read_text(encoding="utf-8")
    block = text.split("<!-- BEGIN VERIFY SNIPPET -->", 1)[1].split("<!-- END VERIFY SNIPPET -->", 1)[0]
    code = block.strip().removeprefix("```python").removesuffix("```")
    namespace: dict[str, Any] = {"__name__": "egov_snippet"}
    exec(compile(code, str(EGOV_DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify_webhook"], namespace["InvalidWebhook"]


@dataclass
class Received:
    path: str
    headers: Any  # case-insensitive (aiohttp CIMultiDictProxy)
    body: bytes
    status: int = 0
    started: float = 0.0
    finished: float = 0.0

    @property
    def event(self) -> dict[str, Any]:
        return orjson.loads(self.body)


class Receiver:
    """A real HTTP server on loopback that records every webhook request. `mode`: "ok" (200), "fail" (500), "hang"
    (never answers); `delay` seconds before answering; `stop()`/`start()` take it off the network and back on the
    same port. Requests that overlap for the same event id or the same aggregate are recorded in `overlaps`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mode = "ok"
        self.delay = 0.0
        self.fail_ratio = 0.0  # in mode "ok": answer 500 to this share of requests, at random
        self.jitter = 0.0  # and wait a random 0…jitter seconds more before answering
        self.requests: list[Received] = []
        self.overlaps: list[tuple[str, str]] = []
        self._in_flight_events: set[str] = set()
        self._in_flight_aggregates: set[str] = set()
        self._runner: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/cleanprod"

    async def start(self) -> Receiver:
        from aiohttp import web

        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.2)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: Any) -> Any:
        import asyncio

        from aiohttp import web

        record = Received(request.path, request.headers, await request.read(), started=time.monotonic())
        event_id = request.headers.get("Webhook-Id", "")
        try:
            aggregate = str(orjson.loads(record.body).get("aggregate_id"))
        except orjson.JSONDecodeError:
            aggregate = ""
        if event_id in self._in_flight_events:
            self.overlaps.append(("event", event_id))
        if aggregate in self._in_flight_aggregates:
            self.overlaps.append(("aggregate", aggregate))
        self._in_flight_events.add(event_id)
        self._in_flight_aggregates.add(aggregate)
        self.requests.append(record)
        try:
            mode = self.mode
            if mode == "hang":
                await asyncio.sleep(3600)
            if self.delay or self.jitter:
                await asyncio.sleep(self.delay + random.uniform(0, self.jitter))
            failing = mode == "fail" or (self.fail_ratio > 0 and random.random() < self.fail_ratio)
            record.status = 500 if failing else 200
            return web.Response(status=record.status, text="lỗi tạm thời" if failing else "ok")
        finally:
            record.finished = time.monotonic()
            self._in_flight_events.discard(event_id)
            self._in_flight_aggregates.discard(aggregate)

    def for_aggregates(self, aggregate_ids: set[str]) -> list[Received]:
        return [r for r in self.requests if r.event.get("aggregate_id") in aggregate_ids]

    def delivered(self, aggregate_ids: set[str]) -> list[Received]:
        return [r for r in self.for_aggregates(aggregate_ids) if r.status == 200]
