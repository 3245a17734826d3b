"""CSRF on every state-changing request, the Content-Security-Policy and the other headers, server-side
sessions (opaque cookie, expiry → login and back), safe `next` paths."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import Request
from fastapi.responses import PlainTextResponse

from cleanprod_portal.deps import User, safe_next
from cleanprod_portal.sessions import hash_id


def _add_test_routes(app) -> None:
    @app.post("/test/form")
    async def form(request: Request) -> PlainTextResponse:
        data = await request.form()
        return PlainTextResponse(f"ok {data.get('name')}")

    @app.get("/test/form-page")
    async def page(request: Request) -> PlainTextResponse:
        from cleanprod_portal.deps import current_session

        await current_session(request)
        return PlainTextResponse(request.state.csrf_token)

    @app.get("/test/private")
    async def private(user: User) -> PlainTextResponse:
        return PlainTextResponse(f"hello {user.username}")


async def test_security_headers_on_pages_static_and_errors(make_client) -> None:
    async with make_client() as client:
        for path in ("/", "/static/css/portal.css", "/no-such-page"):
            response = await client.get(path)
            csp = response.headers["content-security-policy"]
            directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
            assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
            assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
            assert directives["form-action"] == "'self' http://kc.test"  # Keycloak's origin: login/logout
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "same-origin"
            assert response.headers["x-frame-options"] == "DENY"
        page = await client.get("/")
        assert page.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in page.headers  # only in production (TLS)
        missing = await client.get("/no-such-page")
        assert missing.status_code == 404 and "Không tìm thấy trang" in missing.text


async def test_every_answer_says_the_portals_own_time_and_nothing_else(make_client) -> None:
    async with make_client() as client:

        @client.app.get("/test/slow")
        async def slow() -> PlainTextResponse:
            await asyncio.sleep(0.05)  # stands for the page's gateway calls
            return PlainTextResponse("done")

        for path in ("/", "/static/css/portal.css", "/no-such-page", "/test/slow"):
            timing = (await client.get(path)).headers["server-timing"]
            assert re.fullmatch(r"app;dur=\d+\.\d\d", timing), timing
        # The figure spans the page's work, not just the layer: the 50 ms the route waited are in it.
        assert float((await client.get("/test/slow")).headers["server-timing"].split("=")[1]) >= 50


async def test_pages_have_no_inline_script_or_style(make_client) -> None:
    async with make_client() as client:
        for path in ("/", "/dossiers", "/dossiers?code=abc"):
            body = (await client.get(path)).text
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), path
            assert " style=" not in body and "<style" not in body and " on" + "click=" not in body


async def test_anonymous_post_needs_the_signed_double_submit_token(make_client) -> None:
    async with make_client() as client:
        _add_test_routes(client.app)
        assert (await client.post("/test/form", data={"name": "x"})).status_code == 403
        page = await client.get("/test/form-page")  # renders the token matching the browser's cp_csrf cookie
        token = page.text
        cookie = client.cookies.get("cp_csrf")  # set by the first answer that needed one
        assert cookie and token and token != cookie
        client.cookies.set("cp_csrf", cookie)
        refused = await client.post("/test/form", data={"name": "x", "csrf_token": "f" * 64})
        assert refused.status_code == 403 and "Không gửi được biểu mẫu" in refused.text
        ok = await client.post("/test/form", data={"name": "Hà Nội", "csrf_token": token})
        assert ok.status_code == 200 and ok.text == "ok Hà Nội"  # the route still reads the parsed form
        by_header = await client.post("/test/form", data={"name": "y"}, headers={"X-CSRF-Token": token})
        assert by_header.status_code == 200
        client.cookies.set("cp_csrf", "another-cookie")  # a token minted for another browser's cookie
        assert (await client.post("/test/form", data={"csrf_token": token})).status_code == 403


async def test_session_token_protects_logged_in_posts(make_client, tokens) -> None:
    async with make_client() as client:
        _add_test_routes(client.app)
        store = client.app.state.portal.sessions
        cookie, session = await store.create(tokens(), "vi")
        client.cookies.set("cp_session", cookie)
        assert (await client.get("/test/private")).text == "hello ent-hanoisteel"
        assert (await client.post("/test/form", data={"name": "x"})).status_code == 403
        ok = await client.post("/test/form", data={"name": "x", "csrf_token": session.csrf_token})
        assert ok.status_code == 200
        page = await client.get("/")
        assert session.csrf_token in page.text and "Nguyễn Văn An" in page.text
        for secret in ("access-xyz", "refresh-xyz", "id-xyz", cookie):
            assert secret not in page.text
        await store.delete(session)


async def test_the_session_row_is_read_once_per_request_and_started_before_the_route(make_client, tokens) -> None:
    """SessionReadAhead starts the read when the request comes in; the dependencies use that read, so a page reads
    the row once — also a page that never asks for the session (a 404) finishes the read, and static files read
    nothing."""
    async with make_client() as client:
        _add_test_routes(client.app)
        store = client.app.state.portal.sessions
        cookie, session = await store.create(tokens(), "vi")
        reads: list[str | None] = []
        load = store.load

        async def counted(session_id):  # noqa: ANN001, ANN202
            reads.append(session_id)
            return await load(session_id)

        store.load = counted
        client.cookies.set("cp_session", cookie)
        assert (await client.get("/test/private")).text == "hello ent-hanoisteel"
        assert reads == [cookie]
        assert (await client.get("/no-such-page")).status_code == 404
        assert (await client.get("/static/css/portal.css")).status_code == 200
        assert reads == [cookie, cookie]
        client.cookies.delete("cp_session")
        assert (await client.get("/test/private")).status_code == 303  # no cookie: off to log in
        assert reads == [cookie, cookie, None]  # load(None) answers None without asking the database
        store.load = load
        await store.delete(session)


async def test_cookie_holds_an_opaque_id_and_the_row_its_hash(make_client, tokens, portal_database_url: str) -> None:
    async with make_client() as client:
        store = client.app.state.portal.sessions
        cookie, session = await store.create(tokens(), "en")
        assert session.id_hash == hash_id(cookie) != cookie
        assert await store.load(cookie) is not None
        assert await store.load(session.id_hash) is None  # the stored value is not a valid cookie
        assert await store.load("nonsense") is None and await store.load(None) is None
        await store.delete(session)


async def test_expired_or_unknown_session_goes_to_login_and_remembers_the_page(make_client, tokens) -> None:
    import sqlalchemy as sa

    from cleanprod_portal.models import portal_sessions

    async with make_client() as client:
        _add_test_routes(client.app)
        response = await client.get("/test/private?tab=2")
        assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Ftest%2Fprivate%3Ftab%3D2"
        htmx = await client.get("/test/private", headers={"HX-Request": "true"})
        assert htmx.status_code == 204 and htmx.headers["hx-redirect"] == "/login?next=%2Ftest%2Fprivate"
        store = client.app.state.portal.sessions
        cookie, session = await store.create(tokens(), "vi")
        client.cookies.set("cp_session", cookie)
        assert (await client.get("/test/private")).status_code == 200
        async with store.engine.begin() as conn:
            await conn.execute(
                portal_sessions.update()
                .where(portal_sessions.c.id_hash == session.id_hash)
                .values(last_seen_at=datetime.now(UTC) - timedelta(hours=1))
            )
        expired = await client.get("/test/private")
        assert expired.status_code == 303 and expired.headers["location"].startswith("/login?next=")
        async with store.engine.connect() as conn:  # an idle session is deleted, not kept around
            rows = (
                await conn.execute(
                    sa.select(portal_sessions.c.id_hash).where(portal_sessions.c.id_hash == session.id_hash)
                )
            ).all()
        assert rows == []


async def test_a_connection_the_database_dropped_is_replaced_without_the_user_noticing(
    make_client, tokens, portal_database_url
) -> None:
    """The pool does not ping before each use (a round trip on every page): when the database drops the pooled
    connections (restart, failover), the next statement fails once inside the store and runs again on a new
    connection — for the session read every page makes (on the driver) and for the store's other statements."""
    import asyncio

    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    async def drop_pooled_connections(engine) -> set[int]:  # noqa: ANN001
        async with engine.connect() as conn:  # the one pooled connection, back in the pool afterwards
            pid = (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar()
        admin = create_async_engine(portal_database_url, poolclass=NullPool)
        async with admin.connect() as conn:
            assert (await conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})).scalar()
        await admin.dispose()
        await asyncio.sleep(0.2)
        return {pid}

    async with make_client() as client:
        _add_test_routes(client.app)
        store = client.app.state.portal.sessions
        cookie, session = await store.create(tokens(), "vi")
        client.cookies.set("cp_session", cookie)
        assert (await client.get("/test/private")).status_code == 200
        dropped = await drop_pooled_connections(store.engine)
        page = await client.get("/test/private")
        assert page.status_code == 200 and page.text == "hello ent-hanoisteel"
        async with store.engine.connect() as conn:
            assert (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar() not in dropped
        dropped = await drop_pooled_connections(store.engine)
        await store.set_language(session, "en")  # a SQLAlchemy statement: SQLAlchemy renews the pool, once more
        assert (await store.load(cookie)).language == "en"
        await store.delete(session)


async def test_refresh_before_expiry_and_end_of_session_when_keycloak_refuses(make_client, tokens) -> None:
    async with make_client() as client:
        store = client.app.state.portal.sessions
        cookie, session = await store.create(tokens(access_expires_at=datetime.now(UTC) + timedelta(seconds=5)), "vi")
        calls = []

        async def refresher(refresh_token: str):
            calls.append(refresh_token)
            return tokens(access_token="access-new", access_expires_at=datetime.now(UTC) + timedelta(minutes=5))

        fresh = await store.refresh_if_needed(session, timedelta(seconds=30), refresher)
        assert fresh.access_token == "access-new" and calls == ["refresh-xyz"]
        again = await store.refresh_if_needed(fresh, timedelta(seconds=30), refresher)
        assert again.access_token == "access-new" and len(calls) == 1  # still fresh: no second refresh
        loaded = await store.load(cookie)
        assert loaded.access_token == "access-new"

        async def refused(refresh_token: str):
            return None

        loaded.access_expires_at = datetime.now(UTC)
        import sqlalchemy as sa

        from cleanprod_portal.models import portal_sessions

        async with store.engine.begin() as conn:
            await conn.execute(
                sa.update(portal_sessions)
                .where(portal_sessions.c.id_hash == loaded.id_hash)
                .values(access_expires_at=datetime.now(UTC))
            )
        assert await store.refresh_if_needed(loaded, timedelta(seconds=30), refused) is None
        assert await store.load(cookie) is None


@pytest.mark.parametrize(
    "value, expected",
    [
        ("/enterprise", "/enterprise"),
        ("/enterprise/applications?step=2", "/enterprise/applications?step=2"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_next_is_only_a_path_on_this_site(value, expected) -> None:
    assert safe_next(value) == expected


async def test_login_redirects_to_keycloak_with_pkce_and_stores_the_pending_login(make_client) -> None:
    from urllib.parse import parse_qs, urlsplit

    async with make_client() as client:
        response = await client.get("/login?next=/enterprise/facilities")
        assert response.status_code == 303
        location = response.headers["location"]
        assert location.startswith("http://kc.test/realms/cleanprod/protocol/openid-connect/auth?")
        query = parse_qs(urlsplit(location).query)
        assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
        assert query["redirect_uri"] == ["http://portal.test/auth/callback"] and query["ui_locales"] == ["vi"]
        assert response.cookies.get("cp_login") == query["state"][0]
        pending = await client.app.state.portal.sessions.take_login(query["state"][0])
        assert pending["next_path"] == "/enterprise/facilities" and pending["code_verifier"] not in location
        # A callback whose state this browser did not start is refused (no login CSRF), as is a replay.
        client.cookies.set("cp_login", query["state"][0])
        replay = await client.get(f"/auth/callback?code=abc&state={query['state'][0]}")
        assert replay.status_code == 400 and "Bạn chưa đăng nhập" in replay.text


async def test_an_unexpected_error_is_a_page_with_the_headers_never_a_trace(make_client) -> None:
    async with make_client() as client:

        @client.app.get("/test/boom")
        async def boom() -> None:
            raise RuntimeError("secret internals")

        response = await client.get("/test/boom")
    assert response.status_code == 500
    assert "Rất tiếc, hệ thống đang gặp sự cố" in response.text and "secret internals" not in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["content-type"] == "text/html; charset=utf-8"


async def test_staff_landing_is_for_staff_roles_only(make_client, tokens) -> None:
    async with make_client() as client:
        store = client.app.state.portal.sessions
        enterprise_cookie, enterprise = await store.create(tokens(), "vi")
        officer_cookie, officer = await store.create(
            tokens(username="officer1", roles=["officer"], tax_code=None, display_name="Trần Thị Bình"), "vi"
        )
        client.cookies.set("cp_session", enterprise_cookie)
        refused = await client.get("/staff")
        client.cookies.set("cp_session", officer_cookie)
        landing = await client.get("/staff")
        to_enterprise = await client.get("/enterprise")
        await store.delete(enterprise)
        await store.delete(officer)
    assert refused.status_code == 403 and "Bạn không có quyền mở trang này" in refused.text
    assert landing.status_code == 200 and "Xin chào, Trần Thị Bình" in landing.text
    assert 'href="/officer"' in landing.text and 'href="/review"' not in landing.text  # issue 14: the real landing
    assert to_enterprise.status_code == 403


async def test_keycloak_down_during_refresh_keeps_the_session(make_client, tokens) -> None:
    async with make_client(oidc_server_url="http://127.0.0.1:9") as client:  # nothing listens there
        _add_test_routes(client.app)
        store = client.app.state.portal.sessions
        soon = datetime.now(UTC) + timedelta(seconds=5)  # inside the refresh margin, still valid
        cookie, session = await store.create(tokens(access_expires_at=soon), "vi")
        client.cookies.set("cp_session", cookie)
        still = await client.get("/test/private")
        assert still.status_code == 200 and still.text == "hello ent-hanoisteel"

        import sqlalchemy as sa

        from cleanprod_portal.models import portal_sessions

        async with store.engine.begin() as conn:
            await conn.execute(
                sa.update(portal_sessions)
                .where(portal_sessions.c.id_hash == session.id_hash)
                .values(access_expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        down = await client.get("/test/private")
        assert down.status_code == 503 and "Hệ thống tạm thời gián đoạn" in down.text
        assert await store.load(cookie) is not None  # not logged out by an outage
        await store.delete(session)
