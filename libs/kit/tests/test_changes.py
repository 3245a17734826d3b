"""The change pipeline (`cleanprod_kit.changes`) against real PostgreSQL, through a small service built with the
kit: read access (404) → lock → If-Match (428/412) → act + audit → commit → answer (ETag, public schema); the
body is validated before any of it; two writers with one If-Match serialise and exactly one wins."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import BaseModel, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, select

from cleanprod_kit.app import create_service_app
from cleanprod_kit.audit import record_audit
from cleanprod_kit.auth import CurrentPrincipal, Principal
from cleanprod_kit.changes import Change, IfMatch, _RowWith, created, public_from, public_of, readable_or_404
from cleanprod_kit.db import Database, SessionDep
from cleanprod_kit.errors import Conflict, NotFound
from cleanprod_kit.fields import StrictBody, Text
from cleanprod_kit.models import AuditEntry
from cleanprod_kit.settings import ServiceSettings
from cleanprod_kit.testing.fixtures import running, service_settings_for
from cleanprod_kit.testing.issuer import TestIssuer

TABLE = "kit_change_things"


class _OwnTables(SQLModel, registry=registry()):
    """A registry of this test's own, so the table stays out of `SQLModel.metadata`."""


class Thing(_OwnTables, table=True):
    __tablename__ = TABLE

    id: uuid.UUID = Field(primary_key=True)
    owner: str
    name: str
    status: str = "open"
    version: int = 1


class ThingPublic(BaseModel):
    id: uuid.UUID
    name: str
    status: str
    version: int


class Rename(StrictBody):
    name: Text(50)


def _ensure_readable(principal: Principal) -> object:
    def check(thing: Thing) -> None:
        if thing.owner != principal.subject:
            raise NotFound(code="record_not_found", params={"what": f"thing {thing.id}"})

    return check


async def thing_change(
    thing_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Change[Thing]:
    async def read() -> Thing:
        return await readable_or_404(
            session,
            Thing,
            thing_id,
            _ensure_readable(principal),  # type: ignore[arg-type]
            code="record_not_found",
            params={"what": f"thing {thing_id}"},
        )

    return Change(request, session, principal, read)


ThingChange = Annotated[Change[Thing], Depends(thing_change)]
router = APIRouter()
acted: list[str] = []  # what the routes' "act" step saw, to show how far a refused request got


def _ensure_open(thing: Thing) -> None:
    if thing.status != "open":
        raise Conflict(code="conflict")


@router.patch("/things/{thing_id}", response_model=ThingPublic)
async def rename(body: Rename, change: ThingChange, response: Response) -> ThingPublic:
    thing = await change.lock(check=_ensure_open)
    acted.append(f"{thing.name}->{body.name}")
    await asyncio.sleep(0.05)  # a slow act: a second writer must wait on the row lock, not overtake
    record_audit(
        change.session,
        change.principal,
        entity_type="kit_thing",
        entity_id=thing.id,
        action="rename",
        details={"name": body.name},
    )
    thing.name, thing.version = body.name, thing.version + 1
    return await change.answer(response, ThingPublic)


@router.post("/things/{thing_id}/close", response_model=ThingPublic)
async def close(change: ThingChange, response: Response) -> ThingPublic:
    thing = await change.lock(if_match=IfMatch.WHEN_SENT)
    thing.status, thing.version = "closed", thing.version + 1

    async def public(t: Thing) -> ThingPublic:  # an async answer, e.g. one that reads related rows
        return ThingPublic(id=t.id, name=t.name.upper(), status=t.status, version=t.version)

    return await change.answer(response, public)


@router.post("/things/{thing_id}/copies", status_code=201, response_model=ThingPublic)
async def copy(body: Rename, change: ThingChange) -> Response:
    async def create() -> object:
        original = await change.lock(if_match=IfMatch.WHEN_SENT)
        twin = Thing(id=uuid.uuid4(), owner=original.owner, name=body.name)
        change.session.add(twin)
        original.version += 1
        return created(await public_of(twin, ThingPublic), version=original.version, location=f"/things/{twin.id}")

    return await change.create_once(body, create)  # type: ignore[arg-type]


class Link(StrictBody):
    other: uuid.UUID


@router.post("/things/{thing_id}/links", status_code=204)
async def link(body: Link, change: ThingChange) -> Response:
    """If-Match names the other thing's version (a row with its own), not the locked one's."""
    thing = await change.lock(if_match=IfMatch.OTHER_ROW)
    other = await change.session.get(Thing, body.other)
    assert other is not None
    change.check_version(other.version)
    thing.name = f"{thing.name} ↔ {other.name}"
    await change.commit()
    return Response(status_code=204)


@router.delete("/things/{thing_id}", status_code=204)
async def remove(change: ThingChange) -> Response:
    thing = await change.lock(if_match=IfMatch.WHEN_SENT)
    await asyncio.sleep(0.05)  # the second remover reads the row, then waits on the lock until it is gone
    await change.session.delete(thing)
    await change.commit()
    return Response(status_code=204)


@pytest.fixture
async def client(kit_db_url: str, issuer: TestIssuer) -> AsyncIterator[httpx.AsyncClient]:
    database = Database(kit_db_url)
    async with database.engine.begin() as connection:
        await connection.run_sync(lambda sync: Thing.__table__.create(sync, checkfirst=True))  # type: ignore[attr-defined]
    await database.dispose()
    settings = ServiceSettings(**service_settings_for(issuer, service_name="changes", database_url=kit_db_url))
    app: FastAPI = create_service_app(settings, title="changes", routers=[router])
    async with running(app) as http:
        yield http


async def _thing(kit_db_url: str, owner: str, name: str = "Lò hơi số 1") -> uuid.UUID:
    database = Database(kit_db_url)
    ident = uuid.uuid4()
    async with database.session() as session:
        session.add(Thing(id=ident, owner=owner, name=name))
        await session.commit()
    await database.dispose()
    return ident


async def _stored(kit_db_url: str, ident: uuid.UUID) -> tuple[Thing, int]:
    database = Database(kit_db_url)
    async with database.session() as session:
        thing = await session.get(Thing, ident)
        audits = (
            await session.exec(
                select(AuditEntry).where(AuditEntry.entity_type == "kit_thing", AuditEntry.entity_id == str(ident))
            )
        ).all()
    await database.dispose()
    assert thing is not None
    return thing, len(audits)


def _as(issuer: TestIssuer, subject: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.token('officer', sub=subject)}", **headers}


async def test_a_change_commits_audits_and_answers_the_new_version(
    client: httpx.AsyncClient, kit_db_url: str, issuer: TestIssuer
) -> None:
    owner = f"owner-{uuid.uuid4()}"
    ident = await _thing(kit_db_url, owner)
    response = await client.patch(
        f"/things/{ident}", json={"name": "Lò hơi Đông Anh"}, headers=_as(issuer, owner, **{"If-Match": '"1"'})
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert response.json() == {"id": str(ident), "name": "Lò hơi Đông Anh", "status": "open", "version": 2}
    stored, audits = await _stored(kit_db_url, ident)
    assert (stored.name, stored.version, audits) == ("Lò hơi Đông Anh", 2, 1)  # committed, with its audit entry


async def test_if_match_missing_is_428_and_stale_is_412_nothing_changed(
    client: httpx.AsyncClient, kit_db_url: str, issuer: TestIssuer
) -> None:
    owner = f"owner-{uuid.uuid4()}"
    ident = await _thing(kit_db_url, owner)
    acted.clear()
    missing = await client.patch(f"/things/{ident}", json={"name": "x"}, headers=_as(issuer, owner))
    assert missing.status_code == 428 and missing.json()["code"] == "if_match_required"
    stale = await client.patch(
        f"/things/{ident}", json={"name": "x"}, headers=_as(issuer, owner, **{"If-Match": '"7"'})
    )
    assert stale.status_code == 412 and stale.json()["code"] == "stale_version"
    assert acted == []
    stored, audits = await _stored(kit_db_url, ident)
    assert (stored.name, stored.version, audits) == ("Lò hơi số 1", 1, 0)


async def test_not_readable_is_404_like_missing(client: httpx.AsyncClient, kit_db_url: str, issuer: TestIssuer) -> None:
    ident = await _thing(kit_db_url, f"owner-{uuid.uuid4()}")
    stranger = await client.patch(
        f"/things/{ident}", json={"name": "x"}, headers=_as(issuer, "stranger", **{"If-Match": '"1"'})
    )
    missing = await client.patch(
        f"/things/{uuid.uuid4()}", json={"name": "x"}, headers=_as(issuer, "stranger", **{"If-Match": '"1"'})
    )
    assert stranger.status_code == missing.status_code == 404
    assert stranger.json()["code"] == missing.json()["code"] == "record_not_found"


async def test_the_body_is_validated_before_read_access_and_if_match(
    client: httpx.AsyncClient, kit_db_url: str, issuer: TestIssuer
) -> None:
    ident = await _thing(kit_db_url, f"owner-{uuid.uuid4()}")
    # A stranger without If-Match and with a bad body: the bad body is what is answered (as FastAPI alone would).
    response = await client.patch(f"/things/{ident}", json={"name": "x", "extra": 1}, headers=_as(issuer, "stranger"))
    assert response.status_code == 422, response.text


async def test_a_state_check_wins_over_a_stale_if_match(
    client: httpx.AsyncClient, kit_db_url: str, issuer: TestIssuer
) -> None:
    owner = f"owner-{uuid.uuid4()}"
    ident = await _thing(kit_db_url, owner)
    closed = await client.post(f"/things/{ident}/close", headers=_as(issuer, owner))  # If-Match only when sent
    assert closed.status_code == 200 and closed.headers["etag"] == '"2"'
    assert closed.json()["name"] == "LÒ HƠI SỐ 1"  # the async answer function
    again = await client.patch(
        f"/things/{ident}", json={"name": "x"}, headers=_as(issuer, owner, **{"If-Match": '"1"'})
    )
    assert again.status_code == 409  # the check passed to lock() runs before If-Match
    stale = await client.post(f"/things/{ident}/close", headers=_as(issuer, owner, **{"If-Match": '"1"'}))
    assert stale.status_code == 412  # WHEN_SENT: a header that was sent is still checked


async def test_two_writers_with_one_if_match_serialise_and_one_wins(
    client: httpx.AsyncClient, kit_db_url: str, issuer: TestIssuer
) -> None:
    owner = f"owner-{uuid.uuid4()}"
    ident = await _thing(kit_db_url, owner)
    answers = await asyncio.gather(
        *(
            client.patch(
                f"/things/{ident}", json={"name": f"Tên {n}"}, headers=_as(issuer, owner, **{"If-Match": '"1"'})
            )
            for n in range(4)
        )
    )
    assert sorted(r.status_code for r in answers) == [200, 412, 412, 412]
    stored, audits = await _stored(kit_db_url, ident)
    assert (stored.version, audits) == (2, 1)


async def test_create_once_answers_created_and_replays(
    client: httpx.AsyncClient, kit_db_url: str, issuer: TestIssuer
) -> None:
    owner = f"owner-{uuid.uuid4()}"
    ident = await _thing(kit_db_url, owner)
    headers = _as(issuer, owner, **{"Idempotency-Key": f"copy-{ident}"})
    first = await client.post(f"/things/{ident}/copies", json={"name": "Bản sao"}, headers=headers)
    assert first.status_code == 201, first.text
    assert first.headers["etag"] == '"2"' and first.headers["location"] == f"/things/{first.json()['id']}"
    replay = await client.post(f"/things/{ident}/copies", json={"name": "Bản sao"}, headers=headers)
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    database = Database(kit_db_url)
    async with database.session() as session:
        copies = (
            await session.exec(
                text(f"SELECT count(*) FROM {TABLE} WHERE owner = :o AND name = 'Bản sao'").bindparams(o=owner)
            )
        ).one()  # type: ignore[call-overload]
    await database.dispose()
    assert copies[0] == 1


async def test_if_match_of_another_row_is_checked_by_the_route(
    client: httpx.AsyncClient, kit_db_url: str, issuer: TestIssuer
) -> None:
    owner = f"owner-{uuid.uuid4()}"
    ident, other = await _thing(kit_db_url, owner), await _thing(kit_db_url, owner, "Lò hơi số 2")
    url = f"/things/{ident}/links"
    database = Database(kit_db_url)
    async with database.session() as session:  # the other row moves to version 5; the locked one stays at 1
        await session.exec(text(f"UPDATE {TABLE} SET version = 5 WHERE id = :i").bindparams(i=other))  # type: ignore[call-overload]
        await session.commit()
    await database.dispose()
    missing = await client.post(url, json={"other": str(other)}, headers=_as(issuer, owner))
    assert missing.status_code == 428
    locked_rows_version = await client.post(
        url, json={"other": str(other)}, headers=_as(issuer, owner, **{"If-Match": '"1"'})
    )
    assert locked_rows_version.status_code == 412  # "1" is the locked row's version, not the other row's
    done = await client.post(url, json={"other": str(other)}, headers=_as(issuer, owner, **{"If-Match": '"5"'}))
    assert done.status_code == 204, done.text
    stored, _ = await _stored(kit_db_url, ident)
    assert stored.name == "Lò hơi số 1 ↔ Lò hơi số 2"  # committed by change.commit()


async def test_openapi_documents_if_match_and_idempotency_of_change_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    rename = paths["/things/{thing_id}"]["patch"]
    headers = {p["name"].lower() for p in rename["parameters"] if p["in"] == "header"}
    assert "if-match" in headers
    assert {"404", "409", "412", "428"} <= set(rename["responses"])  # 404: the path parameter of the dependency
    copies = paths["/things/{thing_id}/copies"]["post"]
    assert "idempotency-key" in {p["name"].lower() for p in copies["parameters"] if p["in"] == "header"}
    assert "idempotency-key" not in headers  # only a route that calls change.create_once


async def test_a_row_deleted_while_waiting_for_the_lock_is_the_services_own_404(
    client: httpx.AsyncClient, kit_db_url: str, issuer: TestIssuer
) -> None:
    owner = f"owner-{uuid.uuid4()}"
    ident = await _thing(kit_db_url, owner)
    answers = await asyncio.gather(*(client.delete(f"/things/{ident}", headers=_as(issuer, owner)) for _ in range(3)))
    assert sorted(r.status_code for r in answers) == [204, 404, 404]
    for gone in (r for r in answers if r.status_code == 404):
        assert gone.json()["code"] == "record_not_found"
        assert f"thing {ident}" in gone.json()["detail"]  # the read function's own 404, not a 500 nor a bare one


async def test_answer_before_lock_is_a_programming_error() -> None:
    async def read() -> Thing:
        raise AssertionError("not read")

    change: Change[Thing] = Change(None, None, None, read)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="before Change.lock"):
        await change.answer(Response(), ThingPublic)
    with pytest.raises(RuntimeError, match="before Change.lock"):
        await change.commit()


def test_public_from_takes_columns_by_name_and_only_lists_what_is_derived() -> None:
    class Shown(BaseModel):
        id: uuid.UUID
        name: str
        version: int
        label: str

    thing = Thing(id=uuid.uuid4(), owner="o", name="Xưởng dệt Hà Đông", version=3)
    shown = public_from(Shown, thing, label="Hà Đông", name="Xưởng dệt")
    assert shown == Shown(id=thing.id, name="Xưởng dệt", version=3, label="Hà Đông")  # derived wins over the row
    with pytest.raises(ValueError, match="label"):
        public_from(Shown, thing)  # a field neither the row nor `derived` has is an error, not a silent default


def test_public_from_answers_what_validating_the_row_from_its_attributes_answers() -> None:
    """`public_from` reads the fields into a dict first (issue 16): the same model — values, the fields counted as
    set, nested objects read from their attributes — as `model_validate(row, from_attributes=True)` gave; a schema
    with an alias or a model validator that sees the input is still validated from the row itself."""

    class Place:
        def __init__(self, ward: str) -> None:
            self.ward = ward

    class PlacePublic(BaseModel):
        ward: str

    class Shown(BaseModel):
        id: uuid.UUID
        name: str
        version: int
        note: str | None = None  # the row has none: the default, and not counted as set
        place: PlacePublic  # nested, from the derived object's attributes
        tags: list[str] = PydanticField(default_factory=list)

    class Aliased(BaseModel):
        title: str = PydanticField(alias="name")
        version: int

    class SeesInput(BaseModel):
        name: str
        version: int

        @model_validator(mode="before")
        @classmethod
        def _kind(cls, data: Any) -> Any:
            assert not isinstance(data, dict)  # given the row
            return data

    thing = Thing(id=uuid.uuid4(), owner="o", name="Xưởng dệt Hà Đông", version=3)
    for schema, derived in (
        (Shown, {"place": Place("Bồ Đề")}),
        (Shown, {"place": {"ward": "Long Biên"}, "tags": ["a"], "note": None}),
        (Aliased, {}),
        (SeesInput, {}),
    ):
        old = schema.model_validate(_RowWith(thing, derived), from_attributes=True)
        new = public_from(schema, thing, **derived)
        assert new.model_dump_json() == old.model_dump_json()
        assert new.model_fields_set == old.model_fields_set
        assert new.model_dump_json(exclude_unset=True) == old.model_dump_json(exclude_unset=True)
