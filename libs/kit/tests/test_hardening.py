"""Input hardening at the root: text without control characters, strict dates and booleans, one PATCH null rule,
unforgeable cursors, 413 however a body is framed, 503 when the database is down, request_id on every 5xx, and an
OpenAPI document that describes the problem+json answers."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator

import asyncpg
import httpx
import orjson
import pytest
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy import BigInteger, Column, Integer, String, Table, Uuid, select, text
from sqlalchemy import MetaData as SAMetaData
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.orm import registry
from sqlmodel import AutoString, SQLModel
from sqlmodel import Field as SQLField

from cleanprod_kit import guard_codes
from cleanprod_kit.app import create_service_app
from cleanprod_kit.auth import CurrentPrincipal
from cleanprod_kit.concurrency import check_if_match
from cleanprod_kit.db import SessionDep, database_unavailable
from cleanprod_kit.errors import Unprocessable
from cleanprod_kit.fields import Flag, PatchBody, ProgrammeDate, StrictBody, Text, programme_window
from cleanprod_kit.limits import BodyLimitMiddleware
from cleanprod_kit.models import AuditEntry
from cleanprod_kit.pagination import (
    DEV_CURSOR_KEY,
    CursorParam,
    _typed,
    cursor_key_var,
    decode_cursor,
    encode_cursor,
)
from cleanprod_kit.settings import ServiceSettings
from cleanprod_kit.testing.contracts import loose_fields, nullability_mismatches
from cleanprod_kit.testing.fixtures import free_port, running

PROBLEM = "application/problem+json"


# ---- fields ---------------------------------------------------------------------------------------------------


class Thing(StrictBody):
    name: Text(50)
    notes: Text(500, multiline=True) | None = None
    tags: list[Text(20)] = []
    started_on: ProgrammeDate | None = None
    active: Flag = True
    free_text: str | None = None  # a field someone forgot to type: the body guard still refuses NUL


class ThingUpdate(PatchBody):
    name: Text(50) = None
    notes: Text(500, multiline=True) | None = None


def _errors(model: type, data: object) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate_json(orjson.dumps(data))
    return [(".".join(str(p) for p in e["loc"]), e["type"]) for e in caught.value.errors()]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "Công ty\x00"}, ("name", guard_codes.CONTROL_CHARACTERS)),
        ({"name": "line\nbreak"}, ("name", guard_codes.CONTROL_CHARACTERS)),
        ({"name": "bell\x07"}, ("name", guard_codes.CONTROL_CHARACTERS)),
        ({"name": "c1\x85c1"}, ("name", guard_codes.CONTROL_CHARACTERS)),
        ({"name": "ok", "notes": "two\x00"}, ("notes", guard_codes.CONTROL_CHARACTERS)),
        ({"name": "ok", "tags": ["a", "b\x00"]}, ("tags.1", guard_codes.CONTROL_CHARACTERS)),
        ({"name": "ok", "free_text": "x\x00y"}, ("free_text", guard_codes.CONTROL_CHARACTERS)),
        ({"name": "ok", "started_on": 0}, ("started_on", guard_codes.STRICT_DATE)),
        ({"name": "ok", "started_on": "2026-12-01T00:00:00"}, ("started_on", guard_codes.STRICT_DATE)),
        ({"name": "ok", "started_on": "0001-01-01"}, ("started_on", guard_codes.DATE_OUT_OF_RANGE)),
        ({"name": "ok", "started_on": "9999-12-31"}, ("started_on", guard_codes.DATE_OUT_OF_RANGE)),
        ({"name": "ok", "active": 0}, ("active", guard_codes.STRICT_BOOLEAN)),
        ({"name": "ok", "active": "true"}, ("active", guard_codes.STRICT_BOOLEAN)),
        ({"name": None}, ("name", guard_codes.NULL_NOT_ALLOWED)),
        ({"name": "ok", "active": None}, ("active", guard_codes.NULL_NOT_ALLOWED)),
    ],
)
def test_bodies_refuse_hostile_values_naming_the_field(data: dict, expected: tuple[str, str]) -> None:
    assert expected in _errors(Thing, data)


def test_good_values_pass_and_multiline_text_keeps_its_lines() -> None:
    thing = Thing.model_validate_json(
        orjson.dumps({"name": "Thép Hà Nội", "notes": "dòng 1\n\tdòng 2", "started_on": "2026-12-01", "active": False})
    )
    assert thing.notes == "dòng 1\n\tdòng 2" and thing.started_on == dt.date(2026, 12, 1) and thing.active is False


def test_programme_window_is_2000_to_ten_years_ahead() -> None:
    earliest, latest = programme_window(dt.date(2026, 12, 1))
    assert (earliest, latest) == (dt.date(2000, 1, 1), dt.date(2036, 12, 1))
    assert programme_window(dt.date(2028, 2, 29))[1] == dt.date(2038, 2, 28)
    assert Thing.model_validate({"name": "x", "started_on": "2000-01-01"}).started_on == dt.date(2000, 1, 1)
    assert ("started_on", guard_codes.DATE_OUT_OF_RANGE) in _errors(Thing, {"name": "x", "started_on": "1999-12-31"})


def test_patch_null_only_where_nullable() -> None:
    assert ("name", guard_codes.NULL_NOT_ALLOWED) in _errors(ThingUpdate, {"name": None})
    cleared = ThingUpdate.model_validate_json(b'{"notes": null}')
    assert cleared.model_dump(exclude_unset=True) == {"notes": None}
    assert ThingUpdate.model_validate_json(b"{}").model_dump(exclude_unset=True) == {}


# ---- cursors --------------------------------------------------------------------------------------------------


def _unsigned(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _signed_with_dev_key(value: object) -> str:
    payload = _unsigned(value)
    mac = hmac.new(DEV_CURSOR_KEY, payload.encode(), hashlib.sha256).digest()[:16]
    return f"{payload}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


FORGED_VALUES = [
    1,
    1.5,
    True,
    None,
    "x",
    {"a": 1},
    [],
    [1],
    [True],
    [None, None],
    [2**70],
    [1e308 * 10],
    [{"a": 1}],
    [[1]],
    [[1, 2]],
    ["x", "y", "z"],
    [-(2**63) - 1],
]


@pytest.mark.parametrize("value", FORGED_VALUES, ids=repr)
def test_unsigned_cursors_of_every_json_type_are_refused(value: object) -> None:
    with pytest.raises(Unprocessable) as caught:
        decode_cursor(_unsigned(value), 1)
    assert caught.value.errors[0] == {
        "field": "query.cursor",
        "message": "invalid cursor",
        "code": guard_codes.INVALID_CURSOR,
    }
    assert caught.value.code == guard_codes.INVALID_CURSOR


def test_a_cursor_with_an_edited_payload_is_refused() -> None:
    good = encode_cursor([41])
    payload, _, signature = good.partition(".")
    assert decode_cursor(good, 1) == [41]
    with pytest.raises(Unprocessable):
        decode_cursor(f"{_unsigned([42])}.{signature}", 1)
    with pytest.raises(Unprocessable):
        decode_cursor(payload, 1)


@pytest.mark.parametrize("text", ["Hà.Nội", "W10.ü", "ä", "e30", ".", "....", "a" * 600])
def test_cursors_that_are_not_even_base64_are_refused(text: str) -> None:
    with pytest.raises(Unprocessable):
        decode_cursor(text, 1)


def test_a_cursor_signed_with_another_key_is_refused() -> None:
    token = cursor_key_var.set(b"another deployment")
    try:
        foreign = encode_cursor([1])
    finally:
        cursor_key_var.reset(token)
    with pytest.raises(Unprocessable):
        decode_cursor(foreign, 1)


_columns = Table(
    "t",
    SAMetaData(),
    Column("n", Integer),
    Column("b", BigInteger),
    Column("s", String),
    Column("u", Uuid),
    Column("a", AutoString),
)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        (_columns.c.n, "12"),
        (_columns.c.n, True),
        (_columns.c.n, 1.5),
        (_columns.c.n, 2**31),
        (_columns.c.n, 2**70),
        (_columns.c.b, 2**63),
        (_columns.c.s, 5),
        (_columns.c.s, False),
        (_columns.c.s, 1.5e21),
        (_columns.c.u, "not-a-uuid"),
        (_columns.c.u, 7),
        (_columns.c.a, 5),
        (_columns.c.a, ["x"]),
    ],
)
def test_signed_values_must_fit_the_column_type(column: Column, value: object) -> None:
    """Even with a leaked key, a value of the wrong type never reaches PostgreSQL."""
    with pytest.raises(Unprocessable):
        _typed(column, value)
    for signed in (_signed_with_dev_key([{"a": 1}]), _signed_with_dev_key([[1]]), _signed_with_dev_key([True])):
        with pytest.raises(Unprocessable):
            decode_cursor(signed, 1)


def test_a_text_key_without_a_python_type_takes_text() -> None:
    """SQLModel's AutoString names no Python type; a signed text position on it (sectors are paged by code) is
    accepted as text."""
    assert _typed(_columns.c.a, "steel").value == "steel"


# ---- body size ------------------------------------------------------------------------------------------------


def _echo_app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(body: dict) -> dict:
        return {"keys": len(body)}

    app.add_middleware(BodyLimitMiddleware, max_bytes=1000)
    return app


async def _chunks(total: int) -> AsyncIterator[bytes]:
    yield b'{"a": "'
    for _ in range(total // 100):
        yield b"x" * 100
    yield b'"}'


async def test_an_over_limit_chunked_body_is_413_not_400() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_echo_app()), base_url="http://t") as client:
        small = await client.post("/echo", content=_chunks(300), headers={"Content-Type": "application/json"})
        assert small.status_code == 200, small.text
        big = await client.post("/echo", content=_chunks(5000), headers={"Content-Type": "application/json"})
        assert "content-length" not in big.request.headers
        assert big.status_code == 413 and big.headers["content-type"] == PROBLEM
        assert big.json()["code"] == guard_codes.PAYLOAD_TOO_LARGE
        declared = await client.post(
            "/echo", content=b"{" + b" " * 5000 + b"}", headers={"Content-Type": "application/json"}
        )
        assert declared.status_code == 413


# ---- a service app: parameters, database down, 5xx request ids, OpenAPI ----------------------------------------

probe = APIRouter()


class Renaming(PatchBody):
    name: Text(50) = None


@probe.get("/probe/db")
async def probe_db(session: SessionDep) -> dict:
    return {"one": (await session.exec(select(text("1")))).one()[0]}


@probe.get("/probe/things/{code}")
async def probe_thing(code: str, q: str | None = None, cursor: CursorParam = None) -> dict:
    return {"code": code, "q": q}


@probe.post("/probe/audit")
async def probe_audit(session: SessionDep) -> dict:
    session.add(
        AuditEntry(
            actor_subject=None,
            actor_role="officer",
            entity_type="x",
            entity_id="1",  # type: ignore[arg-type]
            action="poke",
        )
    )
    await session.commit()
    return {}


@probe.get("/probe/raise/{sqlstate}")
async def probe_raise(sqlstate: str, session: SessionDep) -> dict:
    # PostgreSQL itself raises the error with that SQLSTATE (22003 out of range, 40P01 deadlock, ...).
    await session.exec(text(f"DO $$ BEGIN RAISE EXCEPTION 'probe' USING ERRCODE = '{sqlstate}'; END $$"))
    return {}


@probe.get("/probe/overflow")
async def probe_overflow(session: SessionDep) -> dict:
    return {"n": (await session.exec(select(text("2147483648::int4")))).one()[0]}


@probe.get("/probe/boom")
async def probe_boom() -> dict:
    raise RuntimeError("secret internals")


@probe.patch("/probe/things/{code}")
async def probe_rename(code: str, body: Renaming, request: Request, principal: CurrentPrincipal) -> dict:
    check_if_match(request, 1)
    return {"code": code}


def _settings(database_url: str) -> ServiceSettings:
    return ServiceSettings(
        service_name="probe",
        database_url=database_url,
        outbox_enabled=False,
        log_json=False,
        log_level="WARNING",
        db_unavailable_retry_after=7,
    )


@pytest.fixture
async def closed_port_client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(
        _settings(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"), title="probe", routers=[probe]
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


async def test_database_down_is_503_with_retry_after_and_one_log_line(
    closed_port_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = await closed_port_client.get("/probe/db", headers={"X-Request-ID": "db-down-1"})
    assert response.status_code == 503 and response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "7"
    body = response.json()
    assert body["code"] == guard_codes.DATABASE_UNAVAILABLE and body["request_id"] == "db-down-1"
    faults = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(faults) == 1 and faults[0].exc_info is None and "ConnectionRefusedError" in faults[0].getMessage()


def test_only_database_trouble_counts_as_unavailable() -> None:
    try:
        open("/nonexistent/cleanprod/file")  # noqa: SIM115 - an OSError that is not the database's
    except OSError as exc:
        assert not database_unavailable(exc)
    assert database_unavailable(SATimeoutError("QueuePool limit reached"))
    assert database_unavailable(asyncpg.exceptions.CannotConnectNowError("the database system is starting up"))
    assert database_unavailable(asyncpg.exceptions.TooManyConnectionsError("too many clients"))
    assert not database_unavailable(asyncpg.exceptions.UniqueViolationError("duplicate key"))
    assert not database_unavailable(RuntimeError("a bug"))


async def test_database_up_still_answers(kit_db_url: str) -> None:
    app = create_service_app(_settings(kit_db_url), title="probe", routers=[probe])
    async with running(app) as client:
        assert (await client.get("/probe/db")).json() == {"one": 1}


async def test_a_null_that_slips_past_its_schema_is_422_not_409(kit_db_url: str) -> None:
    app = create_service_app(_settings(kit_db_url), title="probe", routers=[probe])
    async with running(app) as client:
        response = await client.post("/probe/audit")
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert response.json()["errors"] == [
        {"field": "actor_subject", "message": "This field cannot be null", "code": guard_codes.NULL_NOT_ALLOWED}
    ]


async def test_an_unexpected_error_still_carries_the_request_id(closed_port_client: httpx.AsyncClient) -> None:
    response = await closed_port_client.get("/probe/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500 and response.headers["content-type"] == PROBLEM
    assert response.json()["request_id"] == "boom-1" and "secret internals" not in response.text
    generated = await closed_port_client.get("/probe/boom")
    assert len(generated.json()["request_id"]) == 32


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/probe/things/a%00b", "path.code"),
        ("/probe/things/ok?q=th%C3%A9p%00", "query.q"),
        ("/probe/things/ok?q=a%0Ab", "query.q"),
        ("/probe/things/ok?cursor=%00", "query.cursor"),
    ],
)
async def test_control_characters_in_any_parameter_are_422(
    closed_port_client: httpx.AsyncClient, url: str, field: str
) -> None:
    response = await closed_port_client.get(url)
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == guard_codes.CONTROL_CHARACTERS
    assert body["errors"] == [
        {"field": field, "message": body["errors"][0]["message"], "code": guard_codes.CONTROL_CHARACTERS}
    ]
    assert (await closed_port_client.get("/probe/things/th%C3%A9p?q=H%C3%A0%20N%E1%BB%99i")).json() == {
        "code": "thép",
        "q": "Hà Nội",
    }


async def test_openapi_documents_problem_responses_per_route(closed_port_client: httpx.AsyncClient) -> None:
    document = (await closed_port_client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in orjson.dumps(document).decode()
    assert "ValidationError" not in document["components"]["schemas"]
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance", "request_id", "errors", "code"} <= set(
        problem["properties"]
    )
    field_error = document["components"]["schemas"]["FieldError"]
    assert set(field_error["properties"]) == {"field", "message", "code"}

    def statuses(path: str, method: str) -> set[str]:
        responses = document["paths"][path][method]["responses"]
        for status, response in responses.items():
            if int(status) >= 400:
                assert list(response["content"]) == [PROBLEM], (path, method, status)
        return {s for s in responses if int(s) >= 400}

    assert statuses("/probe/db", "get") == {"400", "422", "500", "503"}
    assert statuses("/probe/things/{code}", "get") == {"400", "404", "422", "500", "503"}
    assert statuses("/probe/things/{code}", "patch") == {
        "400",
        "401",
        "403",
        "404",
        "409",
        "412",
        "413",
        "415",
        "422",
        "428",
        "500",
        "503",
    }
    assert "Retry-After" in document["paths"]["/probe/db"]["get"]["responses"]["503"]["headers"]


# ---- the contract checks themselves ------------------------------------------------------------------------------


class _Table(SQLModel, registry=registry()):
    pass


class Widget(_Table, table=True):
    id: int | None = SQLField(default=None, primary_key=True)
    name: str
    note: str | None = None


class WidgetUpdate(PatchBody):
    name: Text(50) | None = None  # wrong: null would reach a NOT NULL column
    note: Text(50) = None  # wrong: a nullable column that can never be cleared


class WidgetPublic(BaseModel):
    name: str
    note: str  # wrong: a row with no note could not be read


class LooseBody(StrictBody):
    title: str
    on: dt.date
    done: bool


def test_the_contract_checks_find_what_they_are_for() -> None:
    assert nullability_mismatches(Widget, WidgetUpdate, WidgetPublic) == [
        "WidgetUpdate.name: admits null=True, column nullable=False",
        "WidgetUpdate.note: admits null=False, column nullable=True",
        "WidgetPublic.note: admits null=False, column nullable=True",
    ]
    assert [f.split(":")[0] for f in loose_fields(LooseBody)] == ["LooseBody.title", "LooseBody.on", "LooseBody.done"]
    assert loose_fields(Thing) == ["Thing.free_text: str (use Text(...), or Param for a parameter)"]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/probe/overflow", 422, guard_codes.VALUE_NOT_STORABLE),  # integer out of range (22003)
        ("/probe/raise/22001", 422, guard_codes.VALUE_NOT_STORABLE),  # string too long for its column
        ("/probe/raise/22008", 422, guard_codes.VALUE_NOT_STORABLE),  # date/time field overflow
        ("/probe/raise/40P01", 409, guard_codes.CONCURRENT_WRITE),  # deadlock detected
        ("/probe/raise/40001", 409, guard_codes.CONCURRENT_WRITE),  # serialization failure
        ("/probe/raise/XX000", 500, "internal_error"),  # an internal error stays a 500 (logged with its traceback)
    ],
)
async def test_values_and_lost_races_the_database_refuses_are_4xx(
    kit_db_url: str, path: str, status: int, code: str
) -> None:
    app = create_service_app(_settings(kit_db_url), title="probe", routers=[probe])
    async with running(app) as client:
        response = await client.get(path)
    assert response.status_code == status and response.headers["content-type"] == PROBLEM
    assert response.json().get("code") == code


async def test_the_body_limit_lets_the_lifespan_and_bodiless_requests_through_untouched() -> None:
    seen: list[tuple[str, object, object]] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append((scope["type"], receive, send))

    async def receive():  # type: ignore[no-untyped-def]
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):  # type: ignore[no-untyped-def]
        pass

    limited = BodyLimitMiddleware(app, max_bytes=10, exempt_path_suffixes=("/content",))
    await limited({"type": "lifespan"}, receive, send)  # no path: a lifespan scope reaches the app as it is
    get = {"type": "http", "http_version": "1.1", "method": "GET", "path": "/x", "headers": [(b"host", b"t")]}
    await limited(get, receive, send)
    assert seen == [("lifespan", receive, send), ("http", receive, send)]  # not wrapped: nothing to limit
    post = {**get, "method": "POST", "headers": [(b"content-length", b"5")]}
    await limited(post, receive, send)
    assert seen[-1][1] is not receive  # a body: read through the limit
    http2 = {**get, "http_version": "2"}  # HTTP/2 may send a body without Content-Length
    await limited(http2, receive, send)
    assert seen[-1][1] is not receive
