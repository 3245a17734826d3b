"""The mail sender: a loop in every replica (started by the lifespan when `smtp_host` is set), in two steps that
each follow the outbox's claim → work → settle shape (`cleanprod_kit.outbox`), with the work done outside any
database transaction and rows claimed `FOR UPDATE SKIP LOCKED`, so replicas never work on the same row at once:

1. **Resolve**: notifications the sender has not seen get a `mail_resolutions` row; due ones are claimed (their
   `next_attempt_at` moved `mail_claim_seconds` ahead), their audience is asked of the registry (an enterprise's
   logins, a role's holders, one user — HTTP, no transaction open), and one `mail_deliveries` row per person with an
   e-mail address, an enabled login and the e-mail channel not switched off (statutory kinds cannot be) is inserted
   `ON CONFLICT DO NOTHING` with the resolution marked done, in one transaction. Registry trouble: back-off, again.
2. **Send**: due pending deliveries are claimed the same way, each composed in its recipient's language and sent
   with its fixed Message-ID, then settled on its own: sent; or back-off and again (server down, 4xx, timeouts)
   until `mail_max_age_seconds`, then failed; or failed at once when the server refuses it for good (5xx).

A sender that dies after the SMTP server accepted a mail but before settling it leaves the claim to expire; the mail
is then sent again with the same Message-ID (at least once; docs/notifications.md "Mail" says what that guarantees).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1.registry import Recipient as RegistryRecipient
from cleanprod_kit.db import Database
from cleanprod_kit.outbox import backoff_seconds, stop_task

from ..config import ApplicationsSettings
from ..notifications.preferences import wants
from .compose import NotificationView, Recipient, compose, message_id
from .smtp import SendFailure, SmtpTransport

log = logging.getLogger("cleanprod.mail")


class RecipientSource(Protocol):
    """The registry's `recipients` (cleanprod_contracts.registry_client.RegistryClient)."""

    async def recipients(
        self, *, enterprise_id: uuid.UUID | str | None = None, role: str | None = None, user_id: str | None = None
    ) -> list[RegistryRecipient]: ...


class Transport(Protocol):
    async def send(self, message: Any, to: str) -> None: ...


DISCOVER_SQL = text("""
INSERT INTO mail_resolutions (notification_id, attempts, next_attempt_at, created_at)
SELECT n.id, 0, now(), now() FROM notifications n
WHERE n.created_at > now() - make_interval(secs => :max_age)
  AND NOT EXISTS (SELECT 1 FROM mail_resolutions r WHERE r.notification_id = n.id)
ORDER BY n.created_at
LIMIT :batch
ON CONFLICT DO NOTHING
""")

CLAIM_RESOLUTIONS_SQL = text("""
UPDATE mail_resolutions r SET next_attempt_at = now() + make_interval(secs => :lease)
FROM notifications n
WHERE n.id = r.notification_id AND r.notification_id IN (
    SELECT notification_id FROM mail_resolutions
    WHERE resolved_at IS NULL AND next_attempt_at <= now()
    ORDER BY next_attempt_at LIMIT :batch
    FOR UPDATE SKIP LOCKED)
RETURNING n.id, n.kind, n.statutory, n.recipient_user_id, n.recipient_enterprise_id, n.recipient_role, r.attempts
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

INSERT_DELIVERY_SQL = text("""
INSERT INTO mail_deliveries (notification_id, user_id, email, full_name, locale, status, attempts, next_attempt_at,
                             message_id, created_at)
VALUES (:notification_id, :user_id, :email, :full_name, :locale, 'pending', 0, now(), :message_id, now())
ON CONFLICT (notification_id, user_id) DO NOTHING
""")


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
        async with self.db.session() as session:
            batch = {"batch": self.settings.mail_batch_size}
            await session.exec(DISCOVER_SQL.bindparams(max_age=self.settings.mail_max_age_seconds, **batch))  # type: ignore[call-overload]
            rows = (
                await session.exec(CLAIM_RESOLUTIONS_SQL.bindparams(lease=self.settings.mail_claim_seconds, **batch))  # type: ignore[call-overload]
            ).all()
            await session.commit()
        return rows

    async def _audience(self, row: Any) -> list[RegistryRecipient]:
        """Who the notification is addressed to, from the registry (no transaction is open here)."""
        if row.recipient_user_id is not None:
            return await self.directory.recipients(user_id=row.recipient_user_id)
        if row.recipient_enterprise_id is not None:
            return await self.directory.recipients(enterprise_id=row.recipient_enterprise_id)
        return await self.directory.recipients(role=row.recipient_role)

    async def _write_deliveries(self, row: Any, people: list[RegistryRecipient]) -> int:
        reachable = {p.user_id: p for p in people if p.enabled and p.email}
        async with self.db.session() as session:
            for user_id in list(reachable):  # switched off for e-mail (never a statutory kind: `wants` says yes)
                if not await wants(session, user_id, row.kind, "email"):
                    del reachable[user_id]
            for person in reachable.values():
                await session.exec(  # type: ignore[call-overload]
                    INSERT_DELIVERY_SQL.bindparams(
                        notification_id=row.id,
                        user_id=person.user_id,
                        email=person.email,
                        full_name=person.full_name[:300],
                        locale=person.locale,
                        message_id=message_id(row.id, person.user_id, self.settings.mail_from),
                    )
                )
            await self._settle_resolution(session, row.id, recipients=len(reachable))
            await session.commit()
        return len(reachable)

    async def _settle_resolution(
        self, session: AsyncSession, notification_id: uuid.UUID, *, recipients: int | None = None, error: str = ""
    ) -> None:
        if error:
            statement = text("""UPDATE mail_resolutions SET attempts = attempts + 1, last_error = :error,
                                next_attempt_at = now() + make_interval(secs => :delay)
                                WHERE notification_id = :id AND resolved_at IS NULL""")
            attempts = await session.scalar(
                text("SELECT attempts + 1 FROM mail_resolutions WHERE notification_id = :id").bindparams(
                    id=notification_id
                )
            )
            delay = self._delay(int(attempts or 1))
            await session.exec(statement.bindparams(id=notification_id, error=error[:2000], delay=delay))  # type: ignore[call-overload]
        else:
            statement = text("""UPDATE mail_resolutions SET resolved_at = now(), recipients = :n, last_error = NULL
                                WHERE notification_id = :id AND resolved_at IS NULL""")
            await session.exec(statement.bindparams(id=notification_id, n=recipients))  # type: ignore[call-overload]

    async def resolve_batch(self) -> int:
        """Turn due notifications into deliveries; returns how many notifications were resolved."""
        resolved = 0
        for row in await self._claim_resolutions():
            try:
                await self._write_deliveries(row, await self._audience(row))
            except Exception as exc:  # noqa: BLE001 - registry down or refusing, or a kind this replica does not
                # know yet (a newer one wrote it during a rolling update): try this notification again later
                log.warning("mail audience not resolved", extra={"notification_id": str(row.id), "error": str(exc)})
                async with self.db.session() as session:
                    await self._settle_resolution(session, row.id, error=f"{type(exc).__name__}: {exc}")
                    await session.commit()
                continue
            resolved += 1
        return resolved

    # ---- 2. deliveries → SMTP --------------------------------------------------------------------------------
    def _delay(self, attempts: int) -> float:
        return backoff_seconds(attempts, self.settings.mail_retry_base_seconds, self.settings.mail_retry_cap_seconds)

    async def _claim_deliveries(self) -> list[ClaimedDelivery]:
        async with self.db.session() as session:
            rows = (
                await session.exec(  # type: ignore[call-overload]
                    CLAIM_DELIVERIES_SQL.bindparams(
                        lease=self.settings.mail_claim_seconds, batch=self.settings.mail_batch_size
                    )
                )
            ).all()
            await session.commit()
        return [
            ClaimedDelivery(
                NotificationView(row.notification_id, row.kind, row.statutory, row.params or {}, row.link),
                Recipient(row.user_id, row.email, row.full_name, row.locale),
                row.attempts,
                row.created_at,
            )
            for row in rows
        ]

    async def _settle_delivery(self, claimed: ClaimedDelivery, failure: SendFailure | None) -> None:
        key = {"nid": claimed.notification.id, "uid": claimed.recipient.user_id}
        if failure is None:
            statement = text("""UPDATE mail_deliveries SET status = 'sent', sent_at = now(), attempts = attempts + 1,
                                last_error = NULL WHERE notification_id = :nid AND user_id = :uid""").bindparams(**key)
        else:
            age = (dt.datetime.now(dt.UTC) - claimed.created_at).total_seconds()
            give_up = failure.permanent or age >= self.settings.mail_max_age_seconds
            statement = text("""UPDATE mail_deliveries SET attempts = attempts + 1, last_error = :error,
                                status = CASE WHEN :give_up THEN 'failed' ELSE 'pending' END,
                                next_attempt_at = now() + make_interval(secs => :delay)
                                WHERE notification_id = :nid AND user_id = :uid AND status = 'pending'""").bindparams(
                error=failure.reason[:2000], give_up=give_up, delay=self._delay(claimed.attempts + 1), **key
            )
            log.warning(
                "mail not sent",
                extra={**{k: str(v) for k, v in key.items()}, "error": failure.reason, "given_up": give_up},
            )
        async with self.db.session() as session:
            await session.exec(statement)  # type: ignore[call-overload]
            await session.commit()

    async def _give_back(self, claimed: Sequence[ClaimedDelivery]) -> None:
        """Claimed but not tried (the sender is stopping): due again at once."""
        async with self.db.session() as session:
            for item in claimed:
                await session.exec(  # type: ignore[call-overload]
                    text("""UPDATE mail_deliveries SET next_attempt_at = now()
                            WHERE notification_id = :nid AND user_id = :uid AND status = 'pending'""").bindparams(
                        nid=item.notification.id, uid=item.recipient.user_id
                    )
                )
            await session.commit()

    async def send_batch(self) -> int:
        """Send the due deliveries, each settled right after its SMTP transaction; returns how many were tried.
        Cancelling the task in the middle of a send is a crash: nothing is settled, the claim expires."""
        claimed = await self._claim_deliveries()
        for position, item in enumerate(claimed):
            if self._stopping:
                await self._give_back(claimed[position:])
                return position
            failure = None
            try:
                message = compose(
                    item.notification,
                    item.recipient,
                    sender=self.settings.mail_from,
                    portal_base_url=self.settings.portal_base_url,
                )
            except Exception as exc:  # noqa: BLE001 - e.g. no text for the kind in this replica: again, maybe elsewhere
                failure = SendFailure(f"not composed: {type(exc).__name__}: {exc}")
            else:
                try:
                    await self.transport.send(message, item.recipient.email)
                except SendFailure as exc:
                    failure = exc
            await self._settle_delivery(item, failure)
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
