"""E-mail from the notifications (docs/notifications.md "Mail"), against a real SMTP server on loopback
(`infra/mailbox.py`, aiosmtpd) and the real PostgreSQL: every kind reaches the right people in their language
exactly once; a sender killed between the SMTP DATA and settling re-sends the same Message-ID, which the mailbox
keeps once; with the SMTP server down, mails wait and all arrive when it is back.

The registry runs in process; its Keycloak admin access is replaced by a directory of fixed accounts (the real
Keycloak answers `/internal/recipients` in tests/e2e/test_mail.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.header
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from applications_helpers import World, service_tokens
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_applications.mail.compose import message_id
from cleanprod_applications.mail.sender import MailSender
from cleanprod_applications.notifications.models import STATUTORY_KINDS, NotificationKind
from cleanprod_applications.notifications.service import Audience, notify
from cleanprod_contracts.registry_client import RegistryClient
from cleanprod_kit.db import Database
from cleanprod_kit.testing.inprocess import in_process_client
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_registry.deps import account_directory
from infra.mailbox import MailboxHandler, MailServer, messages, receipts
from infra.ports import free_port

K = NotificationKind


def _user(uid: str, email: str | None, first: str, last: str, locale: str | None, enabled: bool = True) -> dict:
    attributes = {"locale": [locale]} if locale else {}
    return {
        "id": uid,
        "username": uid,
        "email": email,
        "firstName": first,
        "lastName": last,
        "enabled": enabled,
        "attributes": attributes,
    }


class Directory:
    """Stands in for Keycloak's admin API behind the registry: fixed accounts per tax code, role and id."""

    def __init__(self) -> None:
        self.enterprises: dict[str, list[dict]] = {}
        self.roles: dict[str, list[dict]] = {}
        self.calls = 0

    def users(self) -> Iterator[dict]:
        for group in (*self.enterprises.values(), *self.roles.values()):
            yield from group

    async def list_enterprise_accounts(self, tax_code: str) -> list[dict[str, Any]]:
        self.calls += 1
        return self.enterprises.get(tax_code, [])

    async def list_role_members(self, role: str, *, with_attributes: bool = False) -> list[dict[str, Any]]:
        self.calls += 1
        assert with_attributes  # the locale is an attribute: a brief representation would lose it
        return self.roles.get(role, [])

    async def get_user(self, user_id: str) -> dict[str, Any] | None:
        self.calls += 1
        return next((u for u in self.users() if u["id"] == user_id), None)


@pytest.fixture(scope="module")
def directory(world: World, registry: tuple[FastAPI, httpx.AsyncClient]) -> Iterator[Directory]:
    found = Directory()
    found.enterprises[world.a.tax_code] = [
        _user("ent-a-vi", "ke.toan@thepdonganh.example", "Mạnh Hùng", "Đỗ", None),
        _user("ent-a-en", "director@thepdonganh.example", "Anna", "Nguyễn", "en"),
        _user("ent-a-off", "nghi.viec@thepdonganh.example", "Văn Cũ", "Lê", "vi", enabled=False),
        _user("ent-a-nomail", None, "Thị Không", "Mai", "vi"),
    ]
    found.roles["officer"] = [
        _user("off-vi", "officer1@sct-hanoi.example", "Văn An", "Nguyễn", "vi"),
        _user("off-en", "officer.en@sct-hanoi.example", "John", "Smith", "en-GB"),
    ]
    found.roles["reviewer"] = [
        _user("rev-en", "reviewer3@sct-hanoi.example", "Thu Hương", "Hoàng", "en"),
        _user("reviewer-1", "reviewer1@sct-hanoi.example", "Minh Châu", "Lê", None),  # the test actors' subjects
        _user("reviewer-2", "reviewer2@sct-hanoi.example", "Quốc Dũng", "Phạm", "en"),
    ]
    found.roles["verifier"] = [_user("ver-vi", "verifier1@sct-hanoi.example", "Đức Hải", "Vũ", "vi")]
    registry_app = registry[0]
    registry_app.dependency_overrides[account_directory] = lambda: found
    yield found
    registry_app.dependency_overrides.pop(account_directory, None)


@pytest.fixture(scope="module")
def db(app_and_client: tuple[FastAPI, httpx.AsyncClient]) -> Database:
    return app_and_client[0].state.db  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
async def recipients_client(
    registry: tuple[FastAPI, httpx.AsyncClient], issuer: TestIssuer
) -> AsyncIterator[RegistryClient]:
    http = in_process_client(service_tokens(issuer), registry[0])
    yield RegistryClient(http, "http://registry.internal", 5)
    await http.aclose()


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[MailServer]:
    server = MailServer(tmp_path / "mailbox", free_port()).start()
    yield server
    server.stop()


def mail_settings(settings: ApplicationsSettings, server: MailServer, **overrides: Any) -> ApplicationsSettings:
    values = {
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "smtp_timeout_seconds": 5,
        "portal_base_url": "http://portal.test",
        "mail_poll_seconds": 0.1,
        "mail_retry_base_seconds": 0.2,
        "mail_retry_cap_seconds": 0.5,
    }
    return settings.model_copy(update=values | overrides)


@pytest.fixture
def sender(
    db: Database, settings: ApplicationsSettings, mailbox: MailServer, recipients_client: RegistryClient
) -> MailSender:
    """A mail sender on the test's mailbox, as the service builds it."""
    return MailSender(db, mail_settings(settings, mailbox), recipients_client)


@pytest.fixture
async def fresh(db: Database) -> None:
    """Notifications written by earlier tests are not this test's business: mark them resolved for mail."""
    async with db.session() as session:
        await session.exec(  # type: ignore[call-overload]
            text("""INSERT INTO mail_resolutions (notification_id, attempts, next_attempt_at, resolved_at, created_at)
                    SELECT id, 0, now(), now(), now() FROM notifications ON CONFLICT DO NOTHING""")
        )
        await session.exec(text("UPDATE mail_resolutions SET resolved_at = now() WHERE resolved_at IS NULL"))  # type: ignore[call-overload]
        await session.exec(text("UPDATE mail_deliveries SET status = 'failed' WHERE status = 'pending'"))  # type: ignore[call-overload]
        await session.commit()


PARAMS: dict[str, Any] = {
    "dossier_code": "000.00.01.H26-261201-0042",
    "title": "Thay lò nung tiết kiệm năng lượng",
    "due_on": "2027-01-14",
    "reasons": [{"code": "facility_not_active", "message": "Cơ sở chưa hoạt động"}],
    "reason": "Bổ sung báo cáo kiểm toán năng lượng",
    "outcome": "approved",
    "amount_vnd": 1_500_000_000,
    "tranche": "advance",
    "verdict": "verified",
    "achieved_pct": 104,
    "balance_vnd": 1_050_000_000,
    "recover_vnd": 0,
    "items": [{"description": "Hoá đơn điện 12 tháng"}],
    "author": "Nguyễn Văn An",
    "excerpt": "Đề nghị gửi bản gốc",
    "reviews_counted": 3,
    "event_type": "application.decided",
    "url": "https://egov.example/hook",
    "attempts": 12,
    "completed_on": "2027-03-01",
}

# Who each kind is addressed to (issue 10 "who is told what"), and who of them gets a mail in which language.
ENTERPRISE_EXPECTED = {"ke.toan@thepdonganh.example": "vi", "director@thepdonganh.example": "en"}
OFFICERS_EXPECTED = {"officer1@sct-hanoi.example": "vi", "officer.en@sct-hanoi.example": "en"}
ENTERPRISE_KINDS = {
    K.dossier_received,
    K.screening_ineligible,
    K.changes_requested,
    K.decision_made,
    K.tranche_payable,
    K.tranche_paid,
    K.verification_concluded,
    K.supplement_requested,
    K.message_received,
}
REVIEWER_KINDS = {K.review_assigned, K.review_due_soon, K.review_overdue}
VERIFIER_KINDS = {K.verifier_assigned, K.measurements_can_start}
OFFICER_KINDS = {K.ready_to_decide, K.dossier_due_soon, K.dossier_overdue, K.webhook_dead_lettered}
assert ENTERPRISE_KINDS | REVIEWER_KINDS | VERIFIER_KINDS | OFFICER_KINDS == set(K)


def audience_of(kind: K, world: World) -> tuple[Audience, dict[str, str], str]:
    if kind in ENTERPRISE_KINDS:
        return Audience.enterprise(world.a.id), ENTERPRISE_EXPECTED, "/applications/{id}"
    if kind in REVIEWER_KINDS:
        return Audience.user("rev-en"), {"reviewer3@sct-hanoi.example": "en"}, "/staff/reviews/{id}"
    if kind in VERIFIER_KINDS:
        return Audience.user("ver-vi"), {"verifier1@sct-hanoi.example": "vi"}, "/staff/verification/{id}"
    return Audience.of_role("officer"), OFFICERS_EXPECTED, "/officer/applications/{id}"


async def tell(db: Database, kind: K, audience: Audience, link: str, params: dict[str, Any] | None = None) -> uuid.UUID:
    """One notification (as a rule writes it), committed; returns its id."""
    key = f"test-mail:{uuid.uuid4()}:{kind}"
    async with db.session() as session:
        await notify(
            session,
            kind=kind,
            audience=audience,
            params=PARAMS if params is None else params,
            link=link,
            application_id=None,
            dedupe_key=key,
        )
        await session.commit()
        found = await session.scalar(text("SELECT id FROM notifications WHERE dedupe_key = :k").bindparams(k=key))
    assert found is not None
    return found


async def drain(sender: MailSender, rounds: int = 10) -> None:
    """Run the sender until it finds nothing more to do."""
    for _ in range(rounds):
        if not await sender.run_once():
            return


async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def decoded(value: str) -> str:
    return str(email.header.make_header(email.header.decode_header(value)))


def bodies(message: Any) -> tuple[str, str]:
    text_body, html_body = (message.get_body((kind,)).get_content() for kind in ("plain", "html"))
    return text_body.replace("\r\n", "\n"), html_body.replace("\r\n", "\n")


async def written_directly(db: Database, kind: str, recipient_column: str, recipient: str) -> uuid.UUID:
    """A notification row written with SQL, as no rule of this version would write it (a kind it does not know, a
    role nobody is mailed for); returns its id."""
    assert recipient_column in ("recipient_user_id", "recipient_role")
    notification_id = uuid.uuid4()
    async with db.session() as session:
        await session.exec(  # type: ignore[call-overload]
            text(f"""INSERT INTO notifications (id, dedupe_key, kind, statutory, {recipient_column}, params, created_at)
                     VALUES (:id, :key, :kind, false, :recipient, '{{}}', now())""").bindparams(
                id=notification_id, key=f"test-mail:{notification_id}", kind=kind, recipient=recipient
            )
        )
        await session.commit()
    return notification_id


async def delivery_rows(db: Database, notification_id: uuid.UUID) -> list[Any]:
    async with db.session() as session:
        result = await session.exec(  # type: ignore[call-overload]
            text("SELECT * FROM mail_deliveries WHERE notification_id = :n ORDER BY user_id").bindparams(
                n=notification_id
            )
        )
        return list(result.all())


# ---- every kind: the right people, their language, once ---------------------------------------------------------
@pytest.mark.parametrize("kind", list(K))
async def test_each_kind_mails_its_audience_once_in_their_language(
    kind: K,
    world: World,
    directory: Directory,
    db: Database,
    mailbox: MailServer,
    fresh: None,
    sender: MailSender,
) -> None:
    audience, expected, link_pattern = audience_of(kind, world)
    link = link_pattern.format(id=uuid.uuid4())
    notification_id = await tell(db, kind, audience, link)
    await drain(sender)
    await drain(sender)  # a second pass finds nothing to send again

    received = messages(mailbox.directory)
    assert len(received) == len(expected) == len(receipts(mailbox.directory))
    by_address = {m["To"].addresses[0].addr_spec: m for m in received}
    assert set(by_address) == set(expected)  # not the disabled login, not the one without an address
    for address, language in expected.items():
        message = by_address[address]
        assert message["Content-Language"] == language
        assert message["X-Cleanprod-Notification"].split()[0] == str(notification_id)
        subject = message["Subject"]
        text_body, html_body = bodies(message)
        if kind != K.webhook_dead_lettered:  # the one kind about no dossier
            code = "000.00.01.H26-261201-0042"
            assert code in subject
            assert f"{'Mã hồ sơ' if language == 'vi' else 'Dossier code'}: {code}" in text_body and code in html_body
        assert f"http://portal.test{link}" in text_body and f'href="http://portal.test{link}"' in html_body
        greeting = "Kính gửi" if language == "vi" else "Dear"
        assert greeting in text_body and greeting in html_body
        # Only optional kinds say they can be switched off.
        switch_off = "tắt loại thông báo" if language == "vi" else "switch off"
        assert (switch_off in text_body) == (kind not in STATUTORY_KINDS)
        settings_page = "http://portal.test/notifications/preferences"
        assert (settings_page in text_body and f'href="{settings_page}"' in html_body) == (kind not in STATUTORY_KINDS)
    rows = await delivery_rows(db, notification_id)
    assert [r.status for r in rows] == ["sent"] * len(expected)
    assert all(r.attempts == 1 and r.sent_at is not None for r in rows)


async def test_dossiers_lifecycles_mail_who_the_rules_tell(
    world: World,
    directory: Directory,
    db: Database,
    mailbox: MailServer,
    fresh: None,
    sender: MailSender,
) -> None:
    """The real rules (notifications/rules.py) through the API — one dossier submitted, reviewed twice, approved and
    its advance paid; one found ineligible; one sent back for changes. Every notification they write reaches its
    audience once, in each person's language: the enterprise's two reachable logins, the assigned reviewer, the
    officers."""
    approved = await world.reviewed(reviewers=(1, 2))
    approved = await world.decide(approved, "approve", "Dự án khả thi, đề nghị hỗ trợ.")
    assert (await world.pay(approved))["status"] == "paid"
    ineligible = await world.at("ineligible")
    sent_back = await world.reviewed()
    await world.act(
        sent_back,
        "decision",
        world.actors.officer(9),
        json={"outcome": "request_changes", "reason": "Bổ sung báo giá."},
    )
    await drain(sender)
    ids = [uuid.UUID(a["id"]) for a in (approved, ineligible, sent_back)]
    async with db.session() as session:
        rows = (
            await session.exec(  # type: ignore[call-overload]
                text(
                    "SELECT id, kind, recipient_user_id FROM notifications WHERE application_id = ANY(:ids)"
                ).bindparams(ids=ids)
            )
        ).all()
    kinds = {row.kind for row in rows}
    assert {
        "dossier_received",
        "review_assigned",
        "ready_to_decide",
        "decision_made",
        "tranche_payable",
        "tranche_paid",
        "screening_ineligible",
        "changes_requested",
    } <= kinds
    expected = set()
    for row in rows:
        if row.kind in ENTERPRISE_KINDS:
            expected |= {(str(row.id), address, language) for address, language in ENTERPRISE_EXPECTED.items()}
        elif row.kind in OFFICER_KINDS:
            expected |= {(str(row.id), address, language) for address, language in OFFICERS_EXPECTED.items()}
        else:  # the reviewer it names
            person = next(u for u in directory.users() if u["id"] == row.recipient_user_id)
            language = (person["attributes"].get("locale") or ["vi"])[0]
            expected.add((str(row.id), person["email"], language))
    received = [
        (m["X-Cleanprod-Notification"].split()[0], m["To"].addresses[0].addr_spec, m["Content-Language"])
        for m in messages(mailbox.directory)
    ]
    assert len(received) == len(set(received)) == len(receipts(mailbox.directory))  # each once
    assert set(received) == expected
    codes = {a["id"]: (await world.get(a))["dossier_code"] for a in (approved, ineligible, sent_back)}
    subjects = {m["Subject"] for m in messages(mailbox.directory)}
    assert f"Đã tiếp nhận hồ sơ {codes[approved['id']]}" in subjects
    assert f"Dossier {codes[ineligible['id']]} is not eligible" in subjects
    english = next(
        m for m in messages(mailbox.directory) if m["Subject"] == f"Dossier {codes[ineligible['id']]} is not eligible"
    )
    assert "the facility's sector is not supported by this call" in bodies(english)[0]  # the reason, in English


async def test_vietnamese_subject_and_body_round_trip_with_diacritics(
    world: World,
    directory: Directory,
    db: Database,
    settings: ApplicationsSettings,
    mailbox: MailServer,
    fresh: None,
    sender: MailSender,
) -> None:
    notification_id = await tell(db, K.dossier_received, Audience.user("ent-a-vi"), "/applications/x")
    await drain(sender)
    [message] = messages(mailbox.directory)
    raw = next(mailbox.directory.glob("*.eml")).read_bytes()
    assert b"Subject: =?utf-8?" in raw  # RFC 2047 encoded word, not raw 8-bit in a header
    assert message["Subject"] == "Đã tiếp nhận hồ sơ 000.00.01.H26-261201-0042"
    assert decoded(message["To"]) == "Đỗ Mạnh Hùng <ke.toan@thepdonganh.example>"
    text_body, html_body = bodies(message)
    assert "Kính gửi Đỗ Mạnh Hùng," in text_body
    assert 'Hồ sơ "Thay lò nung tiết kiệm năng lượng" đã được tiếp nhận với mã 000.00.01.H26-261201-0042' in text_body
    assert "Hạn giải quyết: 14/01/2027" in text_body
    assert "Thay lò nung tiết kiệm năng lượng" in html_body and 'lang="vi"' in html_body
    assert message["Message-ID"].strip() == message_id(notification_id, "ent-a-vi", settings.mail_from)


async def test_lists_are_listed_and_escaped_in_html(
    world: World,
    directory: Directory,
    db: Database,
    mailbox: MailServer,
    fresh: None,
    sender: MailSender,
) -> None:
    params = {**PARAMS, "reasons": [{"message": "Thiếu <script>alert(1)</script>"}, "Cơ sở ngoài Hà Nội"]}
    await tell(db, K.screening_ineligible, Audience.user("ent-a-en"), "/applications/y", params)
    await drain(sender)
    [message] = messages(mailbox.directory)
    text_body, html_body = bodies(message)
    assert "Reasons:\n  - Thiếu <script>alert(1)</script>\n  - Cơ sở ngoài Hà Nội" in text_body
    assert "<script>" not in html_body and "<li>Thiếu &lt;script&gt;alert(1)&lt;/script&gt;</li>" in html_body
    assert message["Subject"] == "Dossier 000.00.01.H26-261201-0042 is not eligible"


async def test_opted_out_users_get_no_mail_for_optional_kinds_only(
    world: World,
    directory: Directory,
    db: Database,
    mailbox: MailServer,
    fresh: None,
    sender: MailSender,
) -> None:
    async with db.session() as session:
        for kind in (K.tranche_paid, K.decision_made):  # decision_made is statutory: a stored "off" is ignored
            await session.exec(  # type: ignore[call-overload]
                text("""INSERT INTO notification_preferences (user_id, kind, channel, enabled)
                        VALUES ('ent-a-en', :k, 'email', false) ON CONFLICT DO NOTHING""").bindparams(k=kind.value)
            )
        # The in-app channel switched off says nothing about e-mail.
        await session.exec(  # type: ignore[call-overload]
            text("""INSERT INTO notification_preferences (user_id, kind, channel, enabled)
                    VALUES ('ent-a-vi', 'tranche_paid', 'in_app', false) ON CONFLICT DO NOTHING""")
        )
        await session.commit()
    try:
        optional = await tell(db, K.tranche_paid, Audience.enterprise(world.a.id), "/applications/z")
        statutory = await tell(db, K.decision_made, Audience.enterprise(world.a.id), "/applications/z")
        await drain(sender)
        sent = {
            (m["X-Cleanprod-Notification"].split()[0], m["To"].addresses[0].addr_spec)
            for m in messages(mailbox.directory)
        }
        assert sent == {
            (str(optional), "ke.toan@thepdonganh.example"),
            (str(statutory), "ke.toan@thepdonganh.example"),
            (str(statutory), "director@thepdonganh.example"),
        }
        assert [r.user_id for r in await delivery_rows(db, optional)] == ["ent-a-vi"]  # no row for the opted-out
    finally:
        async with db.session() as session:
            await session.exec(text("DELETE FROM notification_preferences WHERE user_id IN ('ent-a-en', 'ent-a-vi')"))  # type: ignore[call-overload]
            await session.commit()


async def test_a_notification_resolved_again_never_mails_twice(
    world: World,
    directory: Directory,
    db: Database,
    mailbox: MailServer,
    fresh: None,
    sender: MailSender,
) -> None:
    """The same cause twice is one notification (N1's dedupe key); its audience resolved a second time (a claim
    that expired after the deliveries were written) adds no delivery: (notification, user) is the key."""
    key = f"test-mail:{uuid.uuid4()}"
    async with db.session() as session:
        for _ in range(2):
            await notify(
                session,
                kind=K.review_assigned,
                audience=Audience.user("rev-en"),
                params=PARAMS,
                link="/r",
                application_id=None,
                dedupe_key=key,
            )
        await session.commit()
    await drain(sender)
    async with db.session() as session:
        await session.exec(
            text(
                "UPDATE mail_resolutions SET resolved_at = NULL, next_attempt_at = now()"  # type: ignore[call-overload]
                " WHERE notification_id = (SELECT id FROM notifications WHERE dedupe_key = :k)"
            ).bindparams(k=key)
        )
        await session.commit()
    await drain(sender)
    assert len(receipts(mailbox.directory)) == 1


async def test_a_kind_this_replica_does_not_know_waits_and_blocks_nothing(
    world: World,
    directory: Directory,
    db: Database,
    mailbox: MailServer,
    fresh: None,
    sender: MailSender,
) -> None:
    """A kind this version does not know (written by a newer replica during a rolling update) waits — for a
    replica that knows it — and stops nothing else."""
    good = await tell(db, K.review_assigned, Audience.user("rev-en"), "/r")
    bad = await written_directly(db, "kind_from_the_future", "recipient_user_id", "ver-vi")
    await drain(sender)
    assert await delivery_rows(db, bad) == []
    async with db.session() as session:
        waiting = (
            await session.exec(  # type: ignore[call-overload]
                text("SELECT * FROM mail_resolutions WHERE notification_id = :n").bindparams(n=bad)
            )
        ).one()
    assert waiting.resolved_at is None and "kind_from_the_future" in waiting.last_error
    [sent] = await delivery_rows(db, good)
    assert sent.status == "sent" and len(messages(mailbox.directory)) == 1


async def test_registry_down_then_back_resolves_later(
    world: World,
    directory: Directory,
    db: Database,
    settings: ApplicationsSettings,
    registry: tuple[FastAPI, httpx.AsyncClient],
    mailbox: MailServer,
    fresh: None,
    sender: MailSender,
) -> None:
    class Broken:
        async def recipients(self, *_: Any, **__: Any) -> list[Any]:
            raise RuntimeError("registry unreachable")

        recipient_sets = recipients  # the batched form (one call per batch) fails the same way

    notification_id = await tell(db, K.verifier_assigned, Audience.user("ver-vi"), "/v")
    await drain(MailSender(db, mail_settings(settings, mailbox), Broken()))  # type: ignore[arg-type]
    async with db.session() as session:
        row = (
            await session.exec(  # type: ignore[call-overload]
                text("SELECT * FROM mail_resolutions WHERE notification_id = :n").bindparams(n=notification_id)
            )
        ).one()
    assert row.resolved_at is None and row.attempts >= 1 and "registry unreachable" in row.last_error
    assert messages(mailbox.directory) == []
    sender.start()
    try:
        await until(lambda: len(messages(mailbox.directory)) == 1)
    finally:
        await sender.stop()
    assert messages(mailbox.directory)[0]["To"].addresses[0].addr_spec == "verifier1@sct-hanoi.example"


# ---- crashes and outages ----------------------------------------------------------------------------------------
async def test_sender_killed_after_data_resends_the_same_message_id_kept_once(
    world: World,
    directory: Directory,
    db: Database,
    settings: ApplicationsSettings,
    recipients_client: RegistryClient,
    tmp_path: Path,
    fresh: None,
) -> None:
    """The first sender dies after the SMTP server has taken the mail (DATA done) and before the 250 reaches it,
    so nothing is settled. A restarted sender sends it again once the claim expires — with the same Message-ID —
    and the mailbox, like a mail client, keeps that id once: two transmissions, one mail, for one event."""
    loop = asyncio.get_running_loop()
    first_sender: dict[str, MailSender] = {}

    def kill_on_first(message_id: str) -> None:
        if len(receipts(server.directory)) == 1:
            task = first_sender["sender"]._task
            assert task is not None
            loop.call_soon_threadsafe(task.cancel)  # the server answers 250 only after this returns

    server = MailServer(tmp_path / "mailbox", free_port(), on_message=kill_on_first).start()
    try:
        fast = mail_settings(settings, server, mail_claim_seconds=1.0)
        notification_id = await tell(db, K.decision_made, Audience.user("ent-a-vi"), "/applications/k")
        first_sender["sender"] = sender = MailSender(db, fast, recipients_client)
        sender.start()
        await until(lambda: sender._task is not None and sender._task.done())
        [row] = await delivery_rows(db, notification_id)
        assert row.status == "pending" and row.attempts == 0 and row.last_attempt_at is not None  # in doubt
        assert len(messages(server.directory)) == 1

        restarted = MailSender(db, fast, recipients_client)
        restarted.start()
        try:
            await until(lambda: len(receipts(server.directory)) == 2)
            for _ in range(100):
                [row] = await delivery_rows(db, notification_id)
                if row.status == "sent":
                    break
                await asyncio.sleep(0.05)
        finally:
            await restarted.stop()
        first, second = receipts(server.directory)
        assert first["message_id"] == second["message_id"] == row.message_id
        assert (first["duplicate"], second["duplicate"]) == (False, True)
        assert len(messages(server.directory)) == 1
        assert row.status == "sent" and row.attempts == 1
    finally:
        server.stop()


async def test_smtp_server_down_mails_wait_and_all_arrive_once_it_returns(
    world: World,
    directory: Directory,
    db: Database,
    settings: ApplicationsSettings,
    recipients_client: RegistryClient,
    tmp_path: Path,
    fresh: None,
) -> None:
    server = MailServer(tmp_path / "mailbox", free_port())  # not started: nothing listens on its port
    ids = [
        await tell(db, K.dossier_received, Audience.enterprise(world.a.id), "/applications/1"),
        await tell(db, K.ready_to_decide, Audience.of_role("officer"), "/officer/applications/1"),
    ]
    sender = MailSender(db, mail_settings(settings, server), recipients_client)
    sender.start()
    try:

        async def failed_attempts() -> int:
            async with db.session() as session:
                return int(
                    await session.scalar(
                        text("SELECT min(attempts) FROM mail_deliveries WHERE notification_id = ANY(:ids)").bindparams(
                            ids=ids
                        )
                    )
                    or 0
                )

        for _ in range(200):
            if await failed_attempts() >= 2:
                break
            await asyncio.sleep(0.05)
        rows = [r for n in ids for r in await delivery_rows(db, n)]
        assert len(rows) == 4 and all(r.status == "pending" and r.attempts >= 2 for r in rows)
        assert all("Connection refused" in r.last_error or "ConnectionRefused" in r.last_error for r in rows)
        server.start()
        await until(lambda: len(messages(server.directory)) == 4)
        await asyncio.sleep(0.5)  # nothing more arrives
    finally:
        await sender.stop()
        server.stop()
    assert len(receipts(server.directory)) == 4
    assert {m["To"].addresses[0].addr_spec for m in messages(server.directory)} == {
        *ENTERPRISE_EXPECTED,
        *OFFICERS_EXPECTED,
    }


async def test_starttls_and_auth_are_used_when_set(
    world: World,
    directory: Directory,
    db: Database,
    settings: ApplicationsSettings,
    recipients_client: RegistryClient,
    tmp_path: Path,
    fresh: None,
) -> None:
    cert, key = self_signed(tmp_path)
    server = MailServer(
        tmp_path / "mailbox", free_port(), cert=cert, key=key, user="mailer", password="Bí-mật-2026"
    ).start()
    try:
        secure = mail_settings(
            settings,
            server,
            smtp_security="starttls",
            smtp_ca_file=cert,
            smtp_username="mailer",
            smtp_password=SecretStr("Bí-mật-2026"),
        )
        await tell(db, K.review_due_soon, Audience.user("rev-en"), "/r")
        await drain(MailSender(db, secure, recipients_client))
        assert len(messages(server.directory)) == 1
        # A wrong password: the server refuses AUTH, the mail waits (not failed: the setting is at fault).
        wrong = secure.model_copy(update={"smtp_password": SecretStr("sai")})
        other = await tell(db, K.review_overdue, Audience.user("rev-en"), "/r")
        await drain(MailSender(db, wrong.model_copy(update={"smtp_timeout_seconds": 1}), recipients_client), rounds=1)
        [row] = await delivery_rows(db, other)
        assert row.status == "pending" and row.attempts == 1 and row.last_error  # refused or cut off: again later
        assert len(messages(server.directory)) == 1
    finally:
        server.stop()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (the sender checks it against this file as its CA)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_a_claim_must_outlast_a_send() -> None:
    """A claim shorter than an SMTP transaction could take would let a second sender send a mail in flight."""
    with pytest.raises(ValueError, match="MAIL_CLAIM_SECONDS"):
        ApplicationsSettings(smtp_timeout_seconds=20, mail_claim_seconds=60)
    assert ApplicationsSettings(smtp_timeout_seconds=5, mail_claim_seconds=60).mail_claim_seconds == 60


# ---- a batch: one registry call, one SMTP session (issue 16) ----------------------------------------------------
class Watching(MailboxHandler):
    """The mailbox, also noting each message's SMTP session (the client's port), refusing the recipients in
    `refuse` (address → reply) and cutting the connection, without an answer, at the `drop_at`-th message."""

    def __init__(self, directory: Path, refuse: dict[str, str] | None = None, drop_at: int | None = None) -> None:
        super().__init__(directory)
        self.sessions: list[Any] = []
        self.refuse = refuse or {}
        self.drop_at = drop_at
        self.data = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.data += 1
        self.sessions.append(session.peer)
        answer = await super().handle_DATA(server, session, envelope)
        if self.data == self.drop_at:  # stored, but the sender never hears the 250: that mail is in doubt
            server.transport.close()
        return answer


def watched(tmp_path: Path, **options: Any) -> tuple[MailServer, Watching]:
    server = MailServer(tmp_path / "mailbox", free_port())
    server.handler = handler = Watching(server.directory, **options)
    return server.start(), handler


class CountingRegistry:
    """The real registry client, counting the calls the sender makes."""

    def __init__(self, client: RegistryClient) -> None:
        self.client = client
        self.asked: list[list[str]] = []

    async def recipient_sets(self, audiences: list[str]) -> dict[str, Any]:
        self.asked.append(audiences)
        return await self.client.recipient_sets(audiences)


async def test_a_batch_is_one_registry_call_and_one_smtp_session(
    world: World,
    directory: Directory,
    db: Database,
    settings: ApplicationsSettings,
    recipients_client: RegistryClient,
    tmp_path: Path,
    fresh: None,
) -> None:
    """Six notifications to three audiences (the enterprise three times, the officers twice, one reviewer):
    one registry call naming each audience once, Keycloak asked once per audience, then the eleven mails over one
    SMTP connection — each to the right person, once."""
    server, handler = watched(tmp_path)
    registry = CountingRegistry(recipients_client)
    try:
        ids = [
            await tell(db, K.dossier_received, Audience.enterprise(world.a.id), f"/applications/{n}") for n in range(3)
        ]
        ids += [
            await tell(db, K.ready_to_decide, Audience.of_role("officer"), "/officer/applications/1") for _ in range(2)
        ]
        ids.append(await tell(db, K.review_assigned, Audience.user("rev-en"), "/r"))
        before = directory.calls
        sender = MailSender(db, mail_settings(settings, server), registry)  # type: ignore[arg-type]
        await drain(sender)
        [asked] = registry.asked  # one call, each audience once
        assert sorted(asked) == sorted([f"enterprise:{world.a.id}", "role:officer", "user:rev-en"])
        assert directory.calls - before <= 3  # at most once per audience (the registry may have kept an answer)
        received = messages(server.directory)
        assert len(received) == 3 * 2 + 2 * 2 + 1 == len(receipts(server.directory))
        assert len(set(handler.sessions)) == 1  # one connection for the batch
        sent = {(m["X-Cleanprod-Notification"].split()[0], m["To"].addresses[0].addr_spec) for m in received}
        assert sent == {(str(n), a) for n in ids[:3] for a in ENTERPRISE_EXPECTED} | {
            (str(n), a) for n in ids[3:5] for a in OFFICERS_EXPECTED
        } | {(str(ids[5]), "reviewer3@sct-hanoi.example")}
        rows = [r for n in ids for r in await delivery_rows(db, n)]
        assert len(rows) == 11 and all(r.status == "sent" and r.attempts == 1 for r in rows)
    finally:
        server.stop()


async def test_a_refused_recipient_in_the_middle_of_a_batch_stops_nobody_else(
    world: World,
    directory: Directory,
    db: Database,
    settings: ApplicationsSettings,
    recipients_client: RegistryClient,
    tmp_path: Path,
    fresh: None,
) -> None:
    """In one session: the officer refused for good (550) fails at once, the English officer refused for now (450)
    is retried later, the enterprise's two logins around them are sent — RSET keeps the session usable."""
    server, handler = watched(
        tmp_path,
        refuse={
            "officer1@sct-hanoi.example": "550 5.1.1 No such user",
            "officer.en@sct-hanoi.example": "450 4.2.1 Busy",
        },
    )
    try:
        first = await tell(db, K.dossier_received, Audience.enterprise(world.a.id), "/applications/1")
        officers = await tell(db, K.dossier_overdue, Audience.of_role("officer"), "/officer/applications/1")
        last = await tell(db, K.decision_made, Audience.enterprise(world.a.id), "/applications/1")
        sender = MailSender(db, mail_settings(settings, server), recipients_client)
        await sender.resolve_batch()
        async with db.session() as session:  # the batch's order: the enterprise's, the officers', the enterprise's
            for position, notification_id in enumerate((first, officers, last)):
                await session.exec(  # type: ignore[call-overload]
                    text("""UPDATE mail_deliveries SET next_attempt_at = now() - make_interval(secs => :s)
                            WHERE notification_id = :n""").bindparams(s=10 - position, n=notification_id)
                )
            await session.commit()
        assert await sender.send_batch() == 6
        assert len(set(handler.sessions)) == 1
        assert {
            (m["X-Cleanprod-Notification"].split()[0], m["To"].addresses[0].addr_spec)
            for m in messages(server.directory)
        } == {(str(n), a) for n in (first, last) for a in ENTERPRISE_EXPECTED}
        rows = {r.email: r for r in await delivery_rows(db, officers)}
        gone, busy = rows["officer1@sct-hanoi.example"], rows["officer.en@sct-hanoi.example"]
        assert gone.status == "failed" and gone.attempts == 1 and "550" in gone.last_error
        assert busy.status == "pending" and busy.attempts == 1 and "450" in busy.last_error
        assert [r.status for n in (first, last) for r in await delivery_rows(db, n)] == ["sent"] * 4
        handler.refuse.clear()  # the busy one is taken on its next attempt
        await asyncio.sleep(0.6)  # past its back-off (base 0.2 s, cap 0.5 s)
        await drain(sender)
        rows = {r.email: r for r in await delivery_rows(db, officers)}
        assert (
            rows["officer.en@sct-hanoi.example"].status == "sent" and rows["officer.en@sct-hanoi.example"].attempts == 2
        )
        assert rows["officer1@sct-hanoi.example"].status == "failed"  # never tried again
        assert len(receipts(server.directory)) == 5
    finally:
        server.stop()


async def test_a_connection_lost_mid_batch_leaves_the_rest_to_be_retried(
    world: World,
    directory: Directory,
    db: Database,
    settings: ApplicationsSettings,
    recipients_client: RegistryClient,
    tmp_path: Path,
    fresh: None,
) -> None:
    """The server takes the 2nd mail of a batch of 4 and drops the connection before answering: the 1st is sent,
    the 2nd is in doubt (a failed attempt, retried after back-off — the same Message-ID, kept once), the 3rd and
    4th were never tried (no attempt counted) and go in the next round over a new connection."""
    server, handler = watched(tmp_path, drop_at=2)
    try:
        ids = [
            await tell(db, K.dossier_received, Audience.enterprise(world.a.id), f"/applications/{n}") for n in range(2)
        ]
        sender = MailSender(db, mail_settings(settings, server), recipients_client)
        await sender.resolve_batch()
        assert await sender.send_batch() == 4
        rows = sorted(
            [r for n in ids for r in await delivery_rows(db, n)],
            key=lambda r: (r.status, r.attempts, r.last_error or ""),
        )
        assert [(r.status, r.attempts) for r in rows] == [("pending", 0), ("pending", 0), ("pending", 1), ("sent", 1)]
        assert rows[2].last_error and len(receipts(server.directory)) == 2
        await asyncio.sleep(0.6)  # past the in-doubt one's back-off
        await drain(sender)
        rows = [r for n in ids for r in await delivery_rows(db, n)]
        assert all(r.status == "sent" for r in rows)
        assert len(messages(server.directory)) == 4  # the one in doubt arrived twice, kept once
        assert len(receipts(server.directory)) == 5 and sum(r["duplicate"] for r in receipts(server.directory)) == 1
        assert len(set(handler.sessions)) >= 2  # the rest went over a new connection
    finally:
        server.stop()


async def test_an_audience_the_registry_cannot_answer_waits_and_the_rest_of_the_batch_resolves(
    world: World,
    directory: Directory,
    db: Database,
    recipients_client: RegistryClient,
    sender: MailSender,
    mailbox: MailServer,
    fresh: None,
) -> None:
    """A role nobody is mailed for is that notification's error (again later); an enterprise the registry does not
    know resolves to nobody; the other notifications of the same registry call are resolved and mailed."""
    good = await tell(db, K.verifier_assigned, Audience.user("ver-vi"), "/v")
    nobody = await tell(db, K.tranche_paid, Audience.enterprise(uuid.uuid4()), "/applications/q")
    odd = await written_directly(db, "ready_to_decide", "recipient_role", "service")
    await drain(sender)
    async with db.session() as session:
        rows = {
            row.notification_id: row
            for row in await session.exec(  # type: ignore[call-overload]
                text("SELECT * FROM mail_resolutions WHERE notification_id = ANY(:ids)").bindparams(
                    ids=[good, nobody, odd]
                )
            )
        }
    assert rows[good].resolved_at is not None and rows[good].recipients == 1
    assert rows[nobody].resolved_at is not None and rows[nobody].recipients == 0
    # ≥ 1: with the tests' 0.2 s back-off, a slow drain may already have tried it again (still refused)
    assert rows[odd].resolved_at is None and "role_not_mailed" in rows[odd].last_error and rows[odd].attempts >= 1
    assert [m["To"].addresses[0].addr_spec for m in messages(mailbox.directory)] == ["verifier1@sct-hanoi.example"]
