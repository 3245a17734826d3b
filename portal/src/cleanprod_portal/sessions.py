"""Server-side sessions (backend-for-frontend): the browser holds only an opaque random id in an HttpOnly cookie;
the tokens, their expiry and who the user is live in the `portal_sessions` row keyed by the id's SHA-256.

The access token is refreshed with the refresh token shortly before it expires, on the request that needs it,
under a row lock so two parallel requests of one browser refresh once.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .models import portal_logins, portal_sessions

STAFF_ROLES = ("officer", "reviewer", "verifier", "auditor", "finance")
PORTAL_ROLES = frozenset({"enterprise", *STAFF_ROLES})
"""The realm roles a portal session keeps (the others, e.g. Keycloak's defaults, mean nothing here)."""
SESSION_COLUMNS = (
    "id_hash",
    "subject",
    "username",
    "display_name",
    "roles",
    "tax_code",
    "language",
    "csrf_token",
    "access_token",
    "access_expires_at",
    "refresh_token",
    "refresh_expires_at",
    "id_token",
    "expires_at",
    "last_seen_at",
)
# What every page runs, on the driver (asyncpg) itself, which prepares and caches each statement per connection:
# through SQLAlchemy's statement and result layers the read took ~0.6 ms (Core select) or ~0.3 ms (driver SQL)
# against ~0.15 ms — mostly the round trip — measured on this machine.
LOAD_SESSION_SQL = f"SELECT {', '.join(SESSION_COLUMNS)} FROM portal_sessions WHERE id_hash = $1"
DELETE_SESSION_SQL = "DELETE FROM portal_sessions WHERE id_hash = $1"
TOUCH_SESSION_SQL = "UPDATE portal_sessions SET last_seen_at = $2 WHERE id_hash = $1"


def now() -> datetime:
    return datetime.now(UTC)


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass
class PortalSession:
    """One logged-in browser (what handlers and templates may read; tokens are for the API client only)."""

    id_hash: str
    subject: str
    username: str
    display_name: str
    roles: list[str]
    tax_code: str | None
    language: str
    csrf_token: str
    access_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_token: str | None = field(repr=False, default=None)
    refresh_expires_at: datetime | None = None
    id_token: str | None = field(repr=False, default=None)
    expires_at: datetime | None = None
    last_seen_at: datetime | None = None

    @property
    def is_enterprise(self) -> bool:
        return "enterprise" in self.roles

    @property
    def home_path(self) -> str:
        return "/enterprise" if self.is_enterprise else "/staff"

    @classmethod
    def from_row(cls, row: Any) -> PortalSession:
        m = getattr(row, "_mapping", row)  # a SQLAlchemy row, or an asyncpg record
        return cls(**{name: m[name] for name in SESSION_COLUMNS if name != "roles"}, roles=list(m["roles"]))

    def same_as(self, other: PortalSession | None) -> bool:
        """The same session in every field a page reads (tokens, user, roles, language, CSRF token, limits); only
        `last_seen_at`, which each read may move, is left out."""
        return other is not None and dataclasses.replace(other, last_seen_at=self.last_seen_at) == self


@dataclass(frozen=True)
class TokenSet:
    """What Keycloak's token endpoint answered, with who the tokens are for (read from them)."""

    access_token: str
    access_expires_at: datetime
    refresh_token: str | None
    refresh_expires_at: datetime | None
    id_token: str | None
    subject: str
    username: str
    display_name: str
    roles: list[str]
    tax_code: str | None


class ConnectionDropped(Exception):
    """A statement run on the driver itself met a connection the database had closed."""


def reconnecting(method):  # noqa: ANN001, ANN201 - a decorator for SessionStore's methods
    """Runs the method once more when its connection turned out dead. The portal's engine does not ping a pooled
    connection before each use (a round trip on every page); a connection the database dropped (restart,
    failover) fails its statement instead, the pool is renewed (by SQLAlchemy for its own statements; here for
    the driver's), and the second try runs on a new connection — the user sees nothing of it."""

    @functools.wraps(method)
    async def wrapper(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        try:
            return await method(self, *args, **kwargs)
        except ConnectionDropped:
            await self.engine.dispose()  # every pooled connection went with the one that failed
        except sa.exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        return await method(self, *args, **kwargs)

    return wrapper


class RecentSessions:
    """The session each recent cookie had when this process last read its row (by id hash; at most `size`, the
    least recently read dropped first). Only a guess: a page that reads (deps.reads_only) may start on it while
    the row is read, and its answer waits for the row (deps.SessionReadAhead) — another replica's logout or token
    refresh shows up there, so nothing here is trusted on its own. Copies in and out: callers may change theirs."""

    def __init__(self, size: int = 2_000) -> None:  # a few KB of tokens each: ~10 MB at most
        self.size = size
        self._sessions: OrderedDict[str, PortalSession] = OrderedDict()

    def get(self, id_hash: str) -> PortalSession | None:
        session = self._sessions.get(id_hash)
        return dataclasses.replace(session, roles=list(session.roles)) if session is not None else None

    def put(self, session: PortalSession) -> None:
        self._sessions[session.id_hash] = dataclasses.replace(session, roles=list(session.roles))
        self._sessions.move_to_end(session.id_hash)
        while len(self._sessions) > self.size:
            self._sessions.popitem(last=False)

    def forget(self, id_hash: str) -> None:
        self._sessions.pop(id_hash, None)

    def __contains__(self, id_hash: str) -> bool:
        return id_hash in self._sessions


class SessionStore:
    def __init__(
        self, engine: AsyncEngine, *, idle_seconds: int, lifetime_seconds: int, login_state_seconds: int
    ) -> None:
        self.engine = engine
        self.idle = timedelta(seconds=idle_seconds)
        self.lifetime = timedelta(seconds=lifetime_seconds)
        self.login_state_ttl = timedelta(seconds=login_state_seconds)
        self.recent = RecentSessions()

    def guess(self, session_id: str | None) -> PortalSession | None:
        """What this cookie's session was at its last read here (deps.reads_only pages start on it), or None."""
        if not session_id or len(session_id) > 128:
            return None
        return self.recent.get(hash_id(session_id))

    def seen(self, session_id: str) -> bool:
        """Whether this process has a guess for the cookie (cheaper than `guess`: no copy)."""
        return len(session_id) <= 128 and hash_id(session_id) in self.recent

    # ---- sessions --------------------------------------------------------------------------------------------
    @reconnecting
    async def create(self, tokens: TokenSet, language: str) -> tuple[str, PortalSession]:
        """A new session; returns the cookie value (only ever sent to the browser) and the session."""
        session_id = new_secret()
        at = now()
        expires = at + self.lifetime  # Keycloak's own idle/max limits show up as a refused refresh
        values = dict(
            id_hash=hash_id(session_id),
            created_at=at,
            last_seen_at=at,
            expires_at=expires,
            subject=tokens.subject,
            username=tokens.username,
            display_name=tokens.display_name,
            roles=tokens.roles,
            tax_code=tokens.tax_code,
            language=language,
            csrf_token=new_secret(),
            access_token=tokens.access_token,
            access_expires_at=tokens.access_expires_at,
            refresh_token=tokens.refresh_token,
            refresh_expires_at=tokens.refresh_expires_at,
            id_token=tokens.id_token,
        )
        async with self.engine.begin() as conn:
            await conn.execute(portal_sessions.insert().values(**values))
        row = {k: v for k, v in values.items() if k != "created_at"}
        return session_id, PortalSession(**row)

    @reconnecting
    async def load(self, session_id: str | None) -> PortalSession | None:
        """The live session for a cookie value, or None (unknown, idle too long or past its lifetime: deleted)."""
        if not session_id or len(session_id) > 128:
            return None
        id_hash = hash_id(session_id)
        at = now()
        # Every page reads this row: one prepared statement outside a transaction (the driver autocommits: no
        # BEGIN/COMMIT round trips); the rare writes below are single statements too, and a last_seen_at written
        # twice by parallel requests is harmless.
        async with self.engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            try:
                row = await driver.fetchrow(LOAD_SESSION_SQL, id_hash)
            except Exception as exc:
                if driver.is_closed():  # SQLAlchemy's own test for a dropped connection
                    await conn.invalidate()
                    raise ConnectionDropped from exc
                raise
            if row is None:
                self.recent.forget(id_hash)
                return None
            session = PortalSession.from_row(row)
            if session.expires_at <= at or session.last_seen_at + self.idle <= at:
                self.recent.forget(id_hash)
                await driver.execute(DELETE_SESSION_SQL, id_hash)
                return None
            # Sliding idle timeout; written at most once a minute so page views stay reads.
            if at - session.last_seen_at > timedelta(seconds=60):
                await driver.execute(TOUCH_SESSION_SQL, id_hash, at)
                session.last_seen_at = at
        self.recent.put(session)
        return session

    async def refresh_if_needed(self, session: PortalSession, margin: timedelta, refresher) -> PortalSession | None:  # noqa: ANN001
        """Make sure the access token lives at least `margin` longer; `refresher(refresh_token)` returns a new
        TokenSet or None when Keycloak refuses (session ended there) — then the portal session ends too."""
        if session.access_expires_at - now() > margin:
            return session
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    sa.select(portal_sessions).where(portal_sessions.c.id_hash == session.id_hash).with_for_update()
                )
            ).first()
            if row is None:
                return None
            current = PortalSession.from_row(row)
            if current.access_expires_at - now() > margin:  # a parallel request refreshed meanwhile
                return current
            tokens = await refresher(current.refresh_token) if current.refresh_token else None
            if tokens is None:
                self.recent.forget(session.id_hash)
                await conn.execute(portal_sessions.delete().where(portal_sessions.c.id_hash == session.id_hash))
                return None
            values = dict(
                access_token=tokens.access_token,
                access_expires_at=tokens.access_expires_at,
                refresh_token=tokens.refresh_token or current.refresh_token,
                refresh_expires_at=tokens.refresh_expires_at or current.refresh_expires_at,
                id_token=tokens.id_token or current.id_token,
                roles=tokens.roles,
                tax_code=tokens.tax_code,
                display_name=tokens.display_name,
            )
            await conn.execute(
                portal_sessions.update().where(portal_sessions.c.id_hash == session.id_hash).values(**values)
            )
        for key, value in values.items():
            setattr(current, key, value)
        self.recent.put(current)
        return current

    @reconnecting
    async def set_language(self, session: PortalSession, language: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                portal_sessions.update().where(portal_sessions.c.id_hash == session.id_hash).values(language=language)
            )
        session.language = language
        self.recent.forget(session.id_hash)

    @reconnecting
    async def delete(self, session: PortalSession) -> None:
        self.recent.forget(session.id_hash)
        async with self.engine.begin() as conn:
            await conn.execute(portal_sessions.delete().where(portal_sessions.c.id_hash == session.id_hash))

    @reconnecting
    async def purge_expired(self) -> int:
        at = now()
        async with self.engine.begin() as conn:
            result = await conn.execute(
                portal_sessions.delete().where(
                    sa.or_(portal_sessions.c.expires_at <= at, portal_sessions.c.last_seen_at <= at - self.idle)
                )
            )
            await conn.execute(portal_logins.delete().where(portal_logins.c.created_at <= at - self.login_state_ttl))
        return result.rowcount or 0

    # ---- logins in progress ----------------------------------------------------------------------------------
    @reconnecting
    async def start_login(self, *, code_verifier: str, nonce: str, next_path: str, language: str) -> str:
        state = new_secret()
        async with self.engine.begin() as conn:
            await conn.execute(
                portal_logins.insert().values(
                    state=state,
                    code_verifier=code_verifier,
                    nonce=nonce,
                    next_path=next_path,
                    language=language,
                    created_at=now(),
                )
            )
        return state

    @reconnecting
    async def take_login(self, state: str) -> dict[str, str] | None:
        """The pending login for `state`, removed so a code can be redeemed once; None if unknown or too old."""
        if not state or len(state) > 64:
            return None
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    portal_logins.delete().where(portal_logins.c.state == state).returning(portal_logins)
                )
            ).first()
        if row is None or row._mapping["created_at"] <= now() - self.login_state_ttl:
            return None
        return dict(row._mapping)
