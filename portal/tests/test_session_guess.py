"""Reads-only pages start on the session this process read last for the cookie, while the row is read
(deps.reads_only, middleware.PortalLayer): the answer goes out only when the row confirms that session; otherwise it is
dropped unsent and the page runs again on the row, so the browser gets what it would have got without the guess."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import PlainTextResponse

from cleanprod_portal.deps import User, reads_only
from cleanprod_portal.sessions import now


class Gate:
    """Holds every session read until a route opens it, and notes what each route saw."""

    def __init__(self, store) -> None:  # noqa: ANN001
        self.open = asyncio.Event()
        self.open.set()
        self.seen: list[dict] = []
        self._load = store.load

        async def gated(session_id):  # noqa: ANN001, ANN202
            await self.open.wait()
            return await self._load(session_id)

        store.load = gated

    def note(self, request: Request, user) -> None:  # noqa: ANN001
        self.seen.append(
            {
                "guessed": getattr(request.state, "session_guess", None) is not None,
                "row_pending": not request.state.session_read.done(),
                "token": user.access_token,
            }
        )
        self.open.set()  # the route ran: now let the row come in


def _add_routes(app, gate: Gate) -> None:  # noqa: ANN001
    @app.get("/test/reads")
    @reads_only
    async def reads(request: Request, user: User) -> PlainTextResponse:
        gate.note(request, user)
        return PlainTextResponse(f"hello {user.username}", headers={"set-cookie": "x=1"})

    @app.get("/test/writes")
    async def writes(request: Request, user: User) -> PlainTextResponse:  # not marked: waits for the row
        gate.note(request, user)
        return PlainTextResponse("written")

    @app.post("/test/reads")
    @reads_only  # a POST never starts on a guess, marked or not
    async def posted(request: Request, user: User) -> PlainTextResponse:
        gate.note(request, user)
        return PlainTextResponse("posted")


async def _signed_in(client, session_tokens):  # noqa: ANN001, ANN202
    """The test routes on `client`'s app behind a Gate, and a signed-in session for `session_tokens` in the
    browser: (store, gate, cookie, session)."""
    store = client.app.state.portal.sessions
    gate = Gate(store)
    _add_routes(client.app, gate)
    cookie, session = await store.create(session_tokens, "vi")
    client.cookies.set("cp_session", cookie)
    return store, gate, cookie, session


async def _set_row(store, session, **values) -> None:  # noqa: ANN001, ANN003
    """Change the row as another replica would: behind this process's back."""
    async with store.engine.begin() as conn:
        await conn.execute(
            sa.text("UPDATE portal_sessions SET " + ", ".join(f"{k} = :{k}" for k in values) + " WHERE id_hash = :h"),
            {**values, "h": session.id_hash},
        )


async def test_a_reads_only_page_starts_before_the_row_is_in_and_answers_once_it_confirms(make_client, tokens) -> None:
    async with make_client() as client:
        store, gate, cookie, session = await _signed_in(client, tokens(access_token="token-1"))
        first = await client.get("/test/reads")  # nothing read here yet: waits for the row
        gate.open.clear()  # from now on a read waits until the route has run
        second = await client.get("/test/reads")
        await store.delete(session)
    assert first.status_code == 200 and second.status_code == 200
    assert first.text == second.text == "hello ent-hanoisteel"
    assert second.headers["set-cookie"] == "x=1" and second.headers["x-frame-options"] == "DENY"
    assert gate.seen[0] == {"guessed": False, "row_pending": False, "token": "token-1"}
    # The second page ran while its row was still being read — on the session read the first time.
    assert gate.seen[1] == {"guessed": True, "row_pending": True, "token": "token-1"}


async def test_an_answer_the_row_does_not_confirm_is_dropped_and_the_page_runs_on_the_row(make_client, tokens) -> None:
    async with make_client() as client:
        store, gate, cookie, session = await _signed_in(client, tokens(access_token="token-1"))
        assert (await client.get("/test/reads")).status_code == 200
        # Another replica refreshed the token: this page ran on the old one, so its answer is not sent.
        await _set_row(store, session, access_token="token-2")
        refreshed = await client.get("/test/reads?tab=1&x=%C4%91")
        again = await client.get("/test/reads?tab=1&x=%C4%91")  # the row read meanwhile: token-2 now
        # Another replica logged the user out: this page ran on the last session seen here; nothing of it is sent.
        async with store.engine.begin() as conn:
            await conn.execute(sa.text("DELETE FROM portal_sessions WHERE id_hash = :h"), {"h": session.id_hash})
        logged_out = await client.get("/test/reads")
        after = await client.get("/test/reads")
    assert refreshed.status_code == 200 and refreshed.text == "hello ent-hanoisteel"
    assert refreshed.headers.get_list("set-cookie") == ["x=1"]  # the second run's answer only
    assert again.status_code == 200 and again.text == "hello ent-hanoisteel"
    # The refreshed page ran on the guess (token-1, dropped), then on the row (token-2); after the logout the page
    # ran once on the guess (dropped), and on the row — none — it is the login redirect, as without a guess.
    assert [s["token"] for s in gate.seen] == ["token-1", "token-1", "token-2", "token-2", "token-2"]
    assert [s["guessed"] for s in gate.seen] == [False, True, False, True, True]
    assert logged_out.status_code == 303 and logged_out.headers["location"] == "/login?next=%2Ftest%2Freads"
    assert after.status_code == 303 and after.headers["location"] == "/login?next=%2Ftest%2Freads"


async def test_posts_unmarked_pages_and_tokens_due_for_refresh_wait_for_the_row(make_client, tokens) -> None:
    async with make_client() as client:
        store, gate, cookie, session = await _signed_in(client, tokens())
        await client.get("/test/reads")  # this process has now read the session
        written = await client.get("/test/writes")
        posted = await client.post("/test/reads", data={"csrf_token": session.csrf_token})
        # A token inside the refresh margin needs the row (under its lock) to be refreshed: no guess.
        await _set_row(store, session, access_expires_at=now() + timedelta(seconds=5))
        await client.get("/test/reads")  # runs on the guess (dropped), then on the row: the nearly expired token
        client.app.state.portal.keycloak.refresh = _no_refresh  # Keycloak refuses: the session ends
        due = await client.get("/test/reads")
    assert written.text == "written" and posted.text == "posted"
    assert [s["guessed"] for s in gate.seen] == [False, False, False, True, False]
    assert due.status_code == 303 and due.headers["location"].startswith("/login?")


async def _no_refresh(refresh_token: str) -> None:
    return None


async def test_a_failed_row_read_is_not_guessed_past_twice(make_client, tokens) -> None:
    """The database fails after a guess: the guessed answer is dropped and the page meets the failure itself, as
    without a guess; the guess is forgotten."""
    async with make_client() as client:
        store, gate, cookie, session = await _signed_in(client, tokens())
        await client.get("/test/reads")
        load = store.load

        async def failing(session_id):  # noqa: ANN001, ANN202
            await gate.open.wait()
            raise OSError("database gone")

        store.load = failing
        gate.open.clear()  # the read fails after the route ran on the guess
        retried = await client.get("/test/reads")
        guess_after = store.guess(cookie)
        failed = await client.get("/test/reads")
        store.load = load
        await store.delete(session)
    assert retried.status_code == 500 and "hello" not in retried.text
    assert guess_after is None  # forgotten: the next request waits for its row and meets the failure
    assert failed.status_code == 500 and "hello" not in failed.text
    assert [s["guessed"] for s in gate.seen] == [False, True]


def test_recent_sessions_keep_the_most_recently_read_and_hand_out_copies(tokens) -> None:
    from cleanprod_portal.sessions import PortalSession, RecentSessions

    t = tokens()

    def session(n: int) -> PortalSession:
        return PortalSession(
            id_hash=f"h{n}",
            subject=t.subject,
            username=t.username,
            display_name=t.display_name,
            roles=list(t.roles),
            tax_code=t.tax_code,
            language="vi",
            csrf_token="c",
            access_token=f"token-{n}",
            access_expires_at=t.access_expires_at,
        )

    recent = RecentSessions(size=2)
    recent.put(session(1))
    recent.put(session(2))
    recent.put(session(1))  # read again: now the most recent
    recent.put(session(3))
    assert recent.get("h2") is None and recent.get("h1").access_token == "token-1" and recent.get("h3") is not None
    copy = recent.get("h1")
    copy.roles.append("officer")
    copy.language = "en"
    assert recent.get("h1").roles == ["enterprise"] and recent.get("h1").language == "vi"
    assert recent.get("h1").same_as(session(1)) and not recent.get("h1").same_as(session(3))
    recent.forget("h1")
    assert recent.get("h1") is None


async def test_the_row_of_a_guessed_page_is_read_behind_the_page_an_unguessed_one_ahead_of_it(
    make_client, tokens
) -> None:
    order: list[str] = []
    async with make_client() as client:
        store = client.app.state.portal.sessions
        load = store.load

        async def noted(session_id):  # noqa: ANN001, ANN202
            order.append("row read")
            return await load(session_id)

        store.load = noted

        @client.app.get("/test/ordered")
        @reads_only
        async def ordered(request: Request, user: User) -> PlainTextResponse:
            order.append("page")
            return PlainTextResponse("ok")

        cookie, session = await store.create(tokens(), "vi")
        client.cookies.set("cp_session", cookie)
        first = await client.get("/test/ordered")  # no guess yet: the read starts first and the page waits for it
        unguessed, order[:] = list(order), []
        second = await client.get("/test/ordered")  # the page (its gateway calls) first, the row read behind it
        await store.delete(session)
    assert first.status_code == second.status_code == 200
    assert unguessed == ["row read", "page"]
    assert order == ["page", "row read"]
