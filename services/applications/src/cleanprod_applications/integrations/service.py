"""The e-government integration's plain functions: dossier look-up, event feed, webhook subscriptions and their
deliveries. Routes (views.py) call these with the request's session; the dispatcher lives in delivery.py."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, func, text, tuple_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.audit import audit_page, field_changes, record_audit, snapshot
from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from, readable_or_404
from cleanprod_kit.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, Unprocessable, field_error
from cleanprod_kit.models import AuditEntry, OutboxEvent, utcnow
from cleanprod_kit.outbox import EventEnvelope
from cleanprod_kit.pagination import decode_cursor, encode_cursor, keyset_page, page_by_id
from cleanprod_kit.roles import OVERSIGHT

from ..applications.models import Application
from ..applications.schemas import HistoryEntry
from ..config import ApplicationsSettings
from ..db_types import touch
from ..domain import ApplicationStatus, InvalidDossierCode, egov_status, parse_dossier_code
from .dossier import LABELS_VI, DossierFacts, dossier_times, national_timestamp
from .events import exposed, pattern_problem, type_filter
from .models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from .schemas import (
    DeliveryPublic,
    DossierPublic,
    EventFeed,
    EventPublic,
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionUpdate,
)
from .signing import box_from_settings, generate_secret
from .urls import UrlPolicy, UrlRefused, check_url

SUBSCRIPTION = "webhook_subscription"
SOURCE = "applications"
READ_ALL_ROLES = OVERSIGHT

HORIZON = text("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
"""The oldest transaction id still running: every event written by an older transaction is committed (or gone)
for good, so serving only those never skips an event that commits late with a lower `seq`."""


# ---- dossier look-up -------------------------------------------------------------------------------------------
async def find_dossier(session: AsyncSession, dossier_code: str) -> DossierFacts | None:
    """The look-up rules shared by the e-gov and the public look-up: a dossier exists once the application was
    submitted and while its status is reported to e-gov. None for an unknown or malformed code."""
    try:
        parse_dossier_code(dossier_code)
    except InvalidDossierCode:
        return None
    application = (await session.exec(select(Application).where(Application.dossier_code == dossier_code))).first()
    if application is None or application.first_submitted_at is None or egov_status(application.status) is None:
        return None
    return DossierFacts(
        dossier_code=dossier_code,
        status=ApplicationStatus(application.status),
        enterprise_name=application.enterprise_name,
        enterprise_tax_code=application.enterprise_tax_code,
        title=application.title,
        first_submitted_at=application.first_submitted_at,
        submitted_at=application.submitted_at,
        due_at=application.due_at,
        decided_at=application.decided_at,
        verified_at=application.verified_at,
        version=application.version,
        supplement_requested=application.open_supplement_id is not None,
    )


async def dossier(session: AsyncSession, settings: ApplicationsSettings, dossier_code: str) -> DossierPublic:
    try:
        parse_dossier_code(dossier_code)
    except InvalidDossierCode as exc:
        raise Unprocessable(
            str(exc),
            code="invalid_dossier_code",
            errors=[field_error("path.dossier_code", str(exc), "invalid_dossier_code")],
        ) from None
    facts = await find_dossier(session, dossier_code)
    if facts is None:
        raise NotFound(code="dossier_not_found", params={"dossier_code": dossier_code})
    code = egov_status(facts.status, supplement_requested=facts.supplement_requested)
    assert code is not None
    times = dossier_times(facts)
    return DossierPublic(
        dossier_code=dossier_code,
        procedure_code=settings.procedure_code,
        procedure_name=settings.procedure_name,
        applicant_name=facts.enterprise_name,
        applicant_tax_code=facts.enterprise_tax_code,
        summary=facts.title,
        received_date=national_timestamp(times.received),
        due_date=national_timestamp(times.due),
        decided_date=national_timestamp(times.decided),
        returned_date=national_timestamp(times.returned),
        handling_unit=settings.handling_unit,
        status_code=code.value,
        status_name=code.label,
        status_label=LABELS_VI[code],
        version=facts.version,
    )


# ---- event feed -----------------------------------------------------------------------------------------------
def envelope(event: OutboxEvent) -> EventPublic:
    """The envelope the dispatcher sends (`EventEnvelope.of`), as the feed shows it: without the request id."""
    return EventPublic.model_validate(EventEnvelope.of(event, SOURCE), from_attributes=True)


def _position(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return (0, 0)
    txid, seq = decode_cursor(cursor, 2, field="query.after")
    if not (isinstance(txid, int) and isinstance(seq, int)) or txid < 0 or seq < 0:
        raise Unprocessable(code="invalid_cursor", errors=[field_error("query.after", None, "invalid_cursor")])
    return txid, seq


SCAN_WINDOW = 2_000
"""At most this many events past the cursor are looked at for one page, matching the filter or not: a type filter
that matches little costs one window per poll, not a scan of the stream (docs/egov-integration.md)."""


async def event_feed(session: AsyncSession, *, after: str | None, limit: int, types: list[str]) -> EventFeed:
    """Events in commit-safe order — (txid, seq) among events whose transaction is older than every running one —
    so each event is served exactly once across pages, also while others are writing.

    A page looks at the next SCAN_WINDOW events at most. When fewer than `limit` of them match, the cursor moves
    past every event it looked at, not only past the last match — past the window (`has_more`: the stream goes on)
    or to the end of the stream (caught up) — so a poller filtering on a rare type never rescans what it has seen.
    Every statement of a page uses one horizon, read once, so no event between them can be stepped over."""
    position = _position(after)
    horizon = (await session.exec(select(HORIZON))).one()  # type: ignore[call-overload]
    key = tuple_(OutboxEvent.txid, OutboxEvent.seq)
    ahead = and_(OutboxEvent.txid < horizon, key > tuple_(*position))  # type: ignore[operator]
    # The window's last event (index-only along (txid, seq)); None when the stream ends within the window.
    window_end = (
        await session.exec(
            select(OutboxEvent.txid, OutboxEvent.seq)  # type: ignore[call-overload]
            .where(ahead)
            .order_by(OutboxEvent.txid, OutboxEvent.seq)
            .offset(SCAN_WINDOW - 1)
            .limit(1)
        )
    ).first()
    statement = (
        select(OutboxEvent)
        .where(ahead, exposed())  # type: ignore[arg-type]
        .order_by(OutboxEvent.txid, OutboxEvent.seq)  # type: ignore[arg-type]
        .limit(limit + 1)
    )
    if window_end is not None:
        statement = statement.where(key <= tuple_(*window_end))
    condition = type_filter(types)
    if condition is not None:
        statement = statement.where(condition)
    rows = list((await session.exec(statement)).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        position = (rows[-1].txid or 0, rows[-1].seq or 0)
    if not has_more and window_end is not None:
        position, has_more = (window_end[0], window_end[1]), True  # the window is done; the stream goes on
    elif not has_more:
        scanned = (
            await session.exec(
                select(OutboxEvent.txid, OutboxEvent.seq)  # type: ignore[call-overload]
                .where(OutboxEvent.txid < horizon, key > tuple_(*position))  # type: ignore[operator]
                .order_by(OutboxEvent.txid.desc(), OutboxEvent.seq.desc())  # type: ignore[union-attr]
                .limit(1)
            )
        ).first()
        if scanned is not None:
            position = (scanned[0], scanned[1])
    return EventFeed(items=[envelope(e) for e in rows], next_cursor=encode_cursor(list(position)), has_more=has_more)


# ---- subscriptions ---------------------------------------------------------------------------------------------
def to_public(subscription: WebhookSubscription) -> SubscriptionPublic:
    return SubscriptionPublic.model_validate(subscription, from_attributes=True)


def reads_all(principal: Principal) -> bool:
    return principal.has(*READ_ALL_ROLES)


async def check_webhook_url(url: str, settings: ApplicationsSettings) -> None:
    """422 unless the URL passes the allow-list rules (DNS included). Runs before any database work."""
    try:
        await check_url(url, UrlPolicy.from_settings(settings))
    except UrlRefused as exc:
        raise Unprocessable(
            slug="webhook-url-refused",
            params={"reason": exc.message},
            errors=[field_error("url", exc.message, exc.code)],
        ) from None


async def readable_subscription(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID
) -> WebhookSubscription:
    """The subscription if the caller owns it or reads everything (officer, auditor); 404 otherwise."""
    params = {"subscription_id": str(subscription_id)}

    def ensure_readable(subscription: WebhookSubscription) -> None:
        if not (reads_all(principal) or subscription.owner_subject == principal.subject):
            raise NotFound(code="subscription_not_found", params=params)

    return await readable_or_404(
        session, WebhookSubscription, subscription_id, ensure_readable, code="subscription_not_found", params=params
    )


async def create_subscription(
    session: AsyncSession, principal: Principal, settings: ApplicationsSettings, body: SubscriptionCreate
) -> tuple[WebhookSubscription, str]:
    """The new subscription (added, not committed) and its secret in clear (shown once)."""
    box = box_from_settings(settings)
    if box is None:
        raise ServiceUnavailable(slug="webhook-key-missing")
    # One client's subscriptions are created one at a time (so the limit holds under concurrency).
    await session.exec(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))").bindparams(
            k=f"webhook-subscriptions:{principal.subject}"
        )
    )
    count = (
        await session.exec(
            select(func.count())
            .select_from(WebhookSubscription)
            .where(WebhookSubscription.owner_subject == principal.subject)
        )
    ).one()
    if count >= settings.webhook_max_subscriptions:
        raise Conflict(slug="subscription-limit", params={"count": count})
    secret = body.secret or generate_secret()
    from_txid = int((await session.exec(select(HORIZON))).one())
    subscription = WebhookSubscription(
        owner_subject=principal.subject,
        owner_client_id=principal.client_id,
        url=body.url,
        description=body.description,
        event_types=list(body.event_types),
        secret_ciphertext="",
        from_txid=from_txid,
    )
    subscription.secret_ciphertext = box.encrypt(secret, str(subscription.id))
    session.add(subscription)
    record_audit(
        session,
        principal,
        entity_type=SUBSCRIPTION,
        entity_id=subscription.id,
        action="create",
        to_state="active",
        details={"url": body.url, "event_types": list(body.event_types), "secret_given": body.secret is not None},
    )
    return subscription, secret


async def update_subscription(
    session: AsyncSession, principal: Principal, subscription: WebhookSubscription, body: SubscriptionUpdate
) -> None:
    changes = body.model_dump(exclude_unset=True)
    nulls = [
        field_error(k, None, "null_not_allowed")
        for k in ("url", "event_types", "active")
        if k in changes and changes[k] is None
    ]
    if nulls:
        raise Unprocessable(code="validation_failed", errors=nulls)
    owner = subscription.owner_subject == principal.subject
    if not owner and set(changes) - {"active"}:
        raise Forbidden(code="officer_may_only_pause")
    before = {k: getattr(subscription, k) for k in changes}
    old = snapshot(subscription, changes)
    for key, value in changes.items():
        setattr(subscription, key, list(value) if key == "event_types" else value)
    touch(subscription)
    state = "active" if subscription.active else "paused"
    record_audit(
        session,
        principal,
        entity_type=SUBSCRIPTION,
        entity_id=subscription.id,
        action="update",
        from_state="active" if before.get("active", subscription.active) else "paused",
        to_state=state,
        details={"changed": {k: {"from": before[k], "to": changes[k]} for k in changes}},
        changes=field_changes(old, snapshot(subscription, changes)),
    )


async def delete_subscription(session: AsyncSession, principal: Principal, subscription: WebhookSubscription) -> None:
    record_audit(
        session,
        principal,
        entity_type=SUBSCRIPTION,
        entity_id=subscription.id,
        action="delete",
        from_state="active" if subscription.active else "paused",
        to_state="deleted",
        details={"url": subscription.url},
    )
    await session.delete(subscription)


async def list_subscriptions(
    session: AsyncSession, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[SubscriptionPublic], str | None]:
    statement = select(WebhookSubscription)
    if not reads_all(principal):
        statement = statement.where(WebhookSubscription.owner_subject == principal.subject)
    rows, next_cursor = await page_by_id(session, statement, WebhookSubscription.id, limit=limit, cursor=cursor)
    return [to_public(s) for s in rows], next_cursor


async def subscription_history(
    session: AsyncSession, subscription_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[HistoryEntry], str | None]:
    condition = and_(AuditEntry.entity_type == SUBSCRIPTION, AuditEntry.entity_id == str(subscription_id))
    records, next_cursor = await audit_page(session, condition, limit=limit, cursor=cursor)
    return [HistoryEntry.of(r) for r in records], next_cursor


# ---- deliveries ------------------------------------------------------------------------------------------------
def delivery_public(delivery: WebhookDelivery) -> DeliveryPublic:
    return public_from(
        DeliveryPublic,
        delivery,
        status=DeliveryStatus(delivery.status),
        next_attempt_at=delivery.next_attempt_at if delivery.status == DeliveryStatus.PENDING else None,
    )


async def list_deliveries(
    session: AsyncSession,
    subscription: WebhookSubscription,
    *,
    status: DeliveryStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[DeliveryPublic], str | None]:
    statement = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    rows, next_cursor = await keyset_page(
        session,
        statement,
        order_by=[WebhookDelivery.event_seq],  # type: ignore[list-item]
        key=lambda d: [d.event_seq],
        limit=limit,
        cursor=cursor,
    )
    return [delivery_public(d) for d in rows], next_cursor


async def redeliver(
    session: AsyncSession, principal: Principal, subscription: WebhookSubscription, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """A dead (or delivered) delivery goes back to pending with a fresh retry window."""
    statement = (
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.subscription_id == subscription.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    delivery = (await session.exec(statement)).first()
    if delivery is None:
        raise NotFound(
            code="delivery_not_found", params={"delivery_id": str(delivery_id), "subscription_id": str(subscription.id)}
        )
    if delivery.status == DeliveryStatus.PENDING:
        raise Conflict(slug="delivery-pending")
    previous = str(delivery.status)
    now = utcnow()
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.retry_since = now
    delivery.locked_until = None
    delivery.claim_token = None
    delivery.dead_at = None
    delivery.updated_at = now
    record_audit(
        session,
        principal,
        entity_type=SUBSCRIPTION,
        entity_id=subscription.id,
        action="redeliver",
        from_state=previous,
        to_state="pending",
        details={"delivery_id": str(delivery.id), "event_id": str(delivery.event_id)},
    )
    return delivery


def feed_types(values: list[str] | None) -> list[str]:
    types = [v for v in (values or []) if v]
    problems = [
        field_error("query.type", f"{t!r}: {why}", "invalid_pattern") for t in types if (why := pattern_problem(t))
    ]
    if problems:
        raise Unprocessable(code="validation_failed", errors=problems)
    return types
