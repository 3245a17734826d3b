"""The mail sender: a loop in every replica (started by the lifespan when `smtp_host` is set), in two steps that
each follow the outbox's claim → work → settle shape (`cleanprod_kit.outbox`), with the work done outside any
database transaction and rows claimed `FOR UPDATE SKIP LOCKED`, so replicas never work on the same row at once:

1. **Resolve**: due resolutions are claimed (their `next_attempt_at` moved `mail_claim_seconds` ahead) and, as far
   as the batch has room, notifications the sender has not seen get a `mail_resolutions` row already claimed —
   one statement; the audiences of the whole batch are asked of the registry in one call (each distinct
   enterprise, role, user once — HTTP, no transaction open); the opt-outs of every (person, kind) are read in one
   query, and every delivery of the batch is inserted `ON CONFLICT DO NOTHING` and the resolutions marked done in
   one statement. Registry trouble: back-off.
2. **Send**: due pending deliveries are claimed the same way, composed (one `Composer` per batch) and sent over
   one SMTP session (`smtp.py`, one thread hand-off per batch); then the batch is settled in one statement: the
   sent ones, the failed ones (back-off and again — server down, 4xx, timeouts — until `mail_max_age_seconds`,
   then failed; failed at once when refused for good, 5xx), the ones not tried (the connection was lost before
   them, or the sender is stopping) due again at once.

Each of these statements runs alone in autocommit (a single statement is atomic): no BEGIN and COMMIT round trips
(issue 16).

A sender that dies after the SMTP server accepted a mail but before settling its batch leaves the claims to expire;
those mails are then sent again with the same Message-IDs (at least once; docs/notifications.md "Mail" says what
that guarantees). The window is one batch's SMTP session (at most `mail_batch_size` mails), not one mail.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from sqlalchemy import text

from cleanprod_contracts.v1.registry import Recipient as RegistryRecipient
from cleanprod_kit.db import Database
from cleanprod_kit.outbox import backoff_seconds, stop_task

from ..config import ApplicationsSettings
from ..notifications.models import NotificationKind
from ..notifications.preferences import switched_off
from .compose import Composer, NotificationView, Recipient, message_id
from .smtp import NOT_TRIED, Outcome, SendFailure, SmtpTransport

log = logging.getLogger("cleanprod.mail")


class RecipientSource(Protocol):
    """The registry's `recipient_sets` (cleanprod_contracts.registry_client.RegistryClient): per audience
    (`enterprise:<id>`, `role:<name>`, `user:<id>`) its people, or why that audience cannot be answered."""

    async def recipient_sets(self, audiences: list[str]) -> dict[str, list[RegistryRecipient] | str]: ...


class Transport(Protocol):
    async def send_all(
        self, batch: Sequence[tuple[EmailMessage, str]], keep_going: Callable[[], bool]
    ) -> list[Outcome]: ...


# Claim due resolutions and discover new notifications in one autocommitted statement (issue 16: it was BEGIN,
# the discovery, the claim, COMMIT). Due ones first (retries after their back-off are not starved by new mail),
# then as many new notifications as the batch has room for, each given its resolution row already leased. The
# INSERT does not see what the UPDATE leased, nor the UPDATE what the INSERT adds: the two sets are disjoint.
CLAIM_RESOLUTIONS_SQL = text("""
WITH claimed AS (
    UPDATE mail_resolutions r SET next_attempt_at = now() + make_interval(secs => :lease)
    FROM notifications n
    WHERE n.id = r.notification_id AND r.notification_id IN (
        SELECT notification_id FROM mail_resolutions
        WHERE resolved_at IS NULL AND next_attempt_at <= now()
        ORDER BY next_attempt_at LIMIT :batch
        FOR UPDATE SKIP LOCKED)
    RETURNING r.notification_id, r.attempts
), discovered AS (
    INSERT INTO mail_resolutions (notification_id, attempts, next_attempt_at, created_at)
    SELECT n.id, 0, now() + make_interval(secs => :lease), now() FROM notifications n
    WHERE n.created_at > now() - make_interval(secs => :max_age)
      AND NOT EXISTS (SELECT 1 FROM mail_resolutions r WHERE r.notification_id = n.id)
    ORDER BY n.created_at
    LIMIT greatest(:batch - (SELECT count(*) FROM claimed), 0)
    ON CONFLICT DO NOTHING
    RETURNING notification_id, attempts
)
SELECT n.id, n.kind, n.statutory, n.recipient_user_id, n.recipient_enterprise_id, n.recipient_role, c.attempts
FROM (SELECT * FROM claimed UNION ALL SELECT * FROM discovered) AS c JOIN notifications n ON n.id = c.notification_id
""")

CLAIM_DELIVERIES_SQL = text("""
UPDATE mail_deliveries d SET next_attempt_at = now() + make_interval(secs => :lease), last_attempt_at = now()
FROM notifications n
WHERE n.id = d.notification_id AND (d.notification_id, d.user_id) IN (
    SELECT notification_id, user_id FROM mail_deliveries
    WHERE status = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at LIMIT :batch
    FOR UPDATE SKIP LOCKED)
RETURNING d.notification_id, d.user_id, d.email, d.full_name, d.locale, d.attempts, d.created_at,
          n.kind, n.statutory, n.params, n.link
""")

# A batch's writes, one statement each whatever the batch's size (the rows are JSON parameters), autocommitted:
# one statement is atomic, so no BEGIN and COMMIT round trips are needed around it (issue 16).
WRITE_DELIVERIES_SQL = text("""
WITH deliveries AS (
    INSERT INTO mail_deliveries (notification_id, user_id, email, full_name, locale, status, attempts,
                                 next_attempt_at, message_id, created_at)
    SELECT d.notification_id, d.user_id, d.email, d.full_name, d.locale, 'pending', 0, now(), d.message_id, now()
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS d(notification_id uuid, user_id text, email text,
                                                      full_name text, locale text, message_id text)
    ON CONFLICT (notification_id, user_id) DO NOTHING
)
UPDATE mail_resolutions r SET resolved_at = now(), recipients = v.n, last_error = NULL
FROM jsonb_to_recordset(CAST(:done AS jsonb)) AS v(notification_id uuid, n int)
WHERE r.notification_id = v.notification_id AND r.resolved_at IS NULL
""")

NOT_RESOLVED_SQL = text("""
UPDATE mail_resolutions r SET attempts = r.attempts + 1, last_error = v.error,
       next_attempt_at = now() + make_interval(secs => v.delay)
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(notification_id uuid, error text, delay float8)
WHERE r.notification_id = v.notification_id AND r.resolved_at IS NULL
""")

# A send batch's outcomes: sent, failed (retried after a back-off, or given up) and not tried (due again at once)
# — three disjoint sets of rows, one statement.
SETTLE_SQL = text("""
WITH sent AS (
    UPDATE mail_deliveries d SET status = 'sent', sent_at = now(), attempts = d.attempts + 1, last_error = NULL
    FROM jsonb_to_recordset(CAST(:sent AS jsonb)) AS v(notification_id uuid, user_id text)
    WHERE d.notification_id = v.notification_id AND d.user_id = v.user_id
), failed AS (
    UPDATE mail_deliveries d SET attempts = d.attempts + 1, last_error = v.error,
           status = CASE WHEN v.give_up THEN 'failed' ELSE 'pending' END,
           next_attempt_at = now() + make_interval(secs => v.delay)
    FROM jsonb_to_recordset(CAST(:failed AS jsonb)) AS v(notification_id uuid, user_id text, error text,
                                                        give_up boolean, delay float8)
    WHERE d.notification_id = v.notification_id AND d.user_id = v.user_id AND d.status = 'pending'
)
UPDATE mail_deliveries d SET next_attempt_at = now()
FROM jsonb_to_recordset(CAST(:untried AS jsonb)) AS v(notification_id uuid, user_id text)
WHERE d.notification_id = v.notification_id AND d.user_id = v.user_id AND d.status = 'pending'
""")


def audience_of(row: Any) -> str:
    """The registry's name for a notification's audience."""
    if row.recipient_user_id is not None:
        return f"user:{row.recipient_user_id}"
    if row.recipient_enterprise_id is not None:
        return f"enterprise:{row.recipient_enterprise_id}"
    return f"role:{row.recipient_role}"


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, default=str)


@dataclass(frozen=True)
class ClaimedDelivery:
    notification: NotificationView
    recipient: Recipient
    attempts: int
    created_at: dt.datetime


class MailSender:
    def __init__(
        self,
        db: Database,
        settings: ApplicationsSettings,
        directory: RecipientSource,
        transport: Transport | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.directory = directory
        self.transport: Transport = transport or SmtpTransport(settings)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()

    # ---- 1. audiences → deliveries ---------------------------------------------------------------------------
    async def _claim_resolutions(self) -> Sequence[Any]:
        return await self.db.autocommit(
            CLAIM_RESOLUTIONS_SQL,
            {
                "lease": self.settings.mail_claim_seconds,
                "batch": self.settings.mail_batch_size,
                "max_age": self.settings.mail_max_age_seconds,
            },
        )

    async def _write_deliveries(self, rows: Sequence[Any], people: dict[uuid.UUID, list[RegistryRecipient]]) -> None:
        """Every resolved notification's deliveries and its resolution: the opt-outs of all (user, kind) pairs in
        one read, then the deliveries and the resolutions in one statement."""
        reachable = {row.id: {p.user_id: p for p in people[row.id] if p.enabled and p.email} for row in rows}
        kinds = {row.id: row.kind for row in rows}
        deliveries: list[dict[str, Any]] = []
        asked = {(user_id, kinds[nid]) for nid, persons in reachable.items() for user_id in persons}
        async with self.db.read_session() as session:
            off = await switched_off(session, asked, "email")  # never a statutory kind
        for row in rows:
            persons = {u: p for u, p in reachable[row.id].items() if (u, row.kind) not in off}
            reachable[row.id] = persons
            deliveries += [
                {
                    "notification_id": row.id,
                    "user_id": person.user_id,
                    "email": person.email,
                    "full_name": person.full_name[:300],
                    "locale": person.locale,
                    "message_id": message_id(row.id, person.user_id, self.settings.mail_from),
                }
                for person in persons.values()
            ]
        done = [{"notification_id": nid, "n": len(persons)} for nid, persons in reachable.items()]
        await self.db.autocommit(WRITE_DELIVERIES_SQL, {"rows": _json(deliveries), "done": _json(done)})

    async def _not_resolved(self, rows: Sequence[Any], errors: dict[uuid.UUID, str]) -> None:
        for row in rows:
            if row.id in errors:
                log.warning(
                    "mail audience not resolved", extra={"notification_id": str(row.id), "error": errors[row.id]}
                )
        failed = [
            {"notification_id": row.id, "error": errors[row.id][:2000], "delay": self._delay(row.attempts + 1)}
            for row in rows
            if row.id in errors
        ]
        await self.db.autocommit(NOT_RESOLVED_SQL, {"rows": _json(failed)})

    async def resolve_batch(self) -> int:
        """Turn due notifications into deliveries; returns how many notifications were resolved. The registry is
        asked once for the batch (each distinct audience once), with no transaction open."""
        rows = await self._claim_resolutions()
        if not rows:
            return 0
        try:
            answers = await self.directory.recipient_sets(list(dict.fromkeys(audience_of(row) for row in rows)))
        except Exception as exc:  # noqa: BLE001 - registry down or refusing: the whole batch again later
            await self._not_resolved(rows, {row.id: f"{type(exc).__name__}: {exc}" for row in rows})
            return 0
        errors: dict[uuid.UUID, str] = {}
        people: dict[uuid.UUID, list[RegistryRecipient]] = {}
        for row in rows:
            answer = answers.get(audience_of(row), "not answered")
            if isinstance(answer, str):
                errors[row.id] = f"registry: {answer}"
                continue
            try:
                NotificationKind(row.kind)
            except ValueError as exc:  # a kind only a newer replica knows (rolling update): later, maybe elsewhere
                errors[row.id] = f"{type(exc).__name__}: {exc}"
                continue
            people[row.id] = answer
        resolved = [row for row in rows if row.id in people]
        if resolved:
            await self._write_deliveries(resolved, people)
        if errors:
            await self._not_resolved(rows, errors)
        return len(resolved)

    # ---- 2. deliveries → SMTP --------------------------------------------------------------------------------
    def _delay(self, attempts: int) -> float:
        return backoff_seconds(attempts, self.settings.mail_retry_base_seconds, self.settings.mail_retry_cap_seconds)

    async def _claim_deliveries(self) -> list[ClaimedDelivery]:
        rows = await self.db.autocommit(
            CLAIM_DELIVERIES_SQL, {"lease": self.settings.mail_claim_seconds, "batch": self.settings.mail_batch_size}
        )
        return [
            ClaimedDelivery(
                NotificationView(row.notification_id, row.kind, row.statutory, row.params or {}, row.link),
                Recipient(row.user_id, row.email, row.full_name, row.locale),
                row.attempts,
                row.created_at,
            )
            for row in rows
        ]

    async def _settle(self, claimed: Sequence[ClaimedDelivery], outcomes: Sequence[Outcome]) -> None:
        """A batch's outcomes in one statement: the sent ones, the failed ones, the ones not tried given back (due
        again at once, no attempt counted)."""
        sent, failed, untried = [], [], []
        now = dt.datetime.now(dt.UTC)
        for item, outcome in zip(claimed, outcomes, strict=True):
            key = {"notification_id": item.notification.id, "user_id": item.recipient.user_id}
            if outcome is None:
                sent.append(key)
            elif isinstance(outcome, SendFailure):
                give_up = (
                    outcome.permanent or (now - item.created_at).total_seconds() >= self.settings.mail_max_age_seconds
                )
                failed.append(
                    key | {"error": outcome.reason[:2000], "give_up": give_up, "delay": self._delay(item.attempts + 1)}
                )
                log.warning(
                    "mail not sent",
                    extra={**{k: str(v) for k, v in key.items()}, "error": outcome.reason, "given_up": give_up},
                )
            else:
                untried.append(key)
        await self.db.autocommit(SETTLE_SQL, {"sent": _json(sent), "failed": _json(failed), "untried": _json(untried)})

    async def send_batch(self) -> int:
        """Send the due deliveries over one SMTP session, then settle the batch's outcomes together; returns how
        many were claimed. A message is started only while the claim still has room for a whole SMTP transaction
        (`mail_claim_seconds` − 5 × `smtp_timeout_seconds`), so no other sender can claim a mail in flight; the
        rest of the batch is given back. Cancelling the task in the middle is a crash: nothing is settled, the
        claims expire and the batch is sent again, with the same Message-IDs."""
        claimed = await self._claim_deliveries()
        if not claimed:
            return 0
        started = time.monotonic()
        claim = self.settings.mail_claim_seconds  # validated ≥ 10 × the timeout: the first term, but never < half
        room = max(claim - 5 * self.settings.smtp_timeout_seconds, claim / 2)
        outcomes: list[Outcome] = [NOT_TRIED] * len(claimed)
        outgoing: list[tuple[int, EmailMessage, str]] = []
        composer = Composer(sender=self.settings.mail_from, portal_base_url=self.settings.portal_base_url)
        for position, item in enumerate(claimed):
            try:
                outgoing.append((position, composer.compose(item.notification, item.recipient), item.recipient.email))
            except Exception as exc:  # noqa: BLE001 - e.g. no text for the kind in this replica: again, maybe elsewhere
                outcomes[position] = SendFailure(f"not composed: {type(exc).__name__}: {exc}")
        if outgoing and not self._stopping:
            sent = await self.transport.send_all(
                [(message, to) for _, message, to in outgoing],
                lambda: not self._stopping and time.monotonic() - started < room,
            )
            for (position, _, _), outcome in zip(outgoing, sent, strict=True):
                outcomes[position] = outcome
        await self._settle(claimed, outcomes)
        return len(claimed)

    # ---- the loop --------------------------------------------------------------------------------------------
    async def run_once(self) -> int:
        return await self.resolve_batch() + await self.send_batch()

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - database hiccup: log and keep the loop alive
                log.exception("mail sender iteration failed")
                busy = 0
            if not busy and not self._stopping:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.mail_poll_seconds)
                except TimeoutError:
                    pass

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._loop(), name="mail-sender")

    async def stop(self) -> None:
        """Let the mail being sent finish and be settled (bounded by the SMTP timeout), then end the loop."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=self.settings.smtp_timeout_seconds + 5)
        except TimeoutError:
            await stop_task(self._task)
        self._task = None

    async def kill(self) -> None:
        """Stop at once, as a crash would: a send in flight is not settled (tests)."""
        await stop_task(self._task)
        self._task = None
