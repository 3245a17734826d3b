"""Round trips of a ranked search (facilities/search.py, docs/performance.md "Facility search" → "Session 7"): the
fold guessed in Python is checked by the database in the whole-word statement, which also carries the page's rows —
one statement for a first page of whole words — and a wrong guess changes no page, only adds the fold's own
statement."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from registry_helpers import Actors, create_enterprise, create_facility
from sqlalchemy import event
from sqlalchemy.engine import Engine

from cleanprod_kit.db import Database, Read
from cleanprod_registry.facilities import search, service

NAMES = [
    "Nhà máy Thép Hà Nội",
    "NHÀ MÁY BIA ĐÔNG ANH",
    "Xưởng Dệt may Ứng Hòa",
    "Cơ sở sản xuất Thủy sản Long Biên",
    "Dây chuyền Nhựa Đức Giang",
    "Công ty Gốm sứ Bát Tràng",
    "Phân xưởng Cơ khí Thạch Thất",
]


def marker() -> str:
    return f"r{uuid.uuid4().int % 10**12:012d}"


@pytest.fixture
def db(registry_db_url: str) -> Iterator[Any]:
    with psycopg.connect(registry_db_url.replace("postgresql+asyncpg", "postgresql"), autocommit=True) as conn:
        yield conn


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL of every statement run while the test runs: through SQLAlchemy (the service's session) and on the
    kit's read pool (`Database.fetch`, marked "read pool: ")."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    fetch = Database.fetch

    async def fetched(database: Database, read: Read, **params: Any) -> list[dict[str, Any]]:
        seen.append("read pool: " + read.statement.compile(dialect=database.engine.dialect).string)
        return await fetch(database, read, **params)

    monkeypatch.setattr(Database, "fetch", fetched)
    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


async def pages(client: httpx.AsyncClient, actors: Actors, q: str, limit: int) -> list[list[str]]:
    """Every page of an officer's ranked search, as lists of ids."""
    found: list[list[str]] = []
    cursor = None
    while True:
        params = {"q": q, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/v1/facilities", params=params, headers=actors.officer)
        assert response.status_code == 200, response.text
        found.append([f["id"] for f in response.json()["items"]])
        assert len(found) <= 100, "the pages repeat rows"
        if not (cursor := response.json()["next_cursor"]):
            return found


@pytest.fixture
async def tagged(client: httpx.AsyncClient, actors: Actors) -> str:
    """Facilities whose names hold a fresh tag: as a whole word, as the start of a word, inside one, in the address."""
    tag = marker()
    enterprise = await create_enterprise(client, actors)
    names = [
        *(f"{name} {tag}" for name in NAMES),
        *(f"Xưởng {tag}b{i}" for i in range(3)),
        f"Xưởng x{tag} 1",
    ]
    for i, name in enumerate(names):
        await create_facility(client, actors, enterprise["id"], name=name, address=f"Số {i}, Hà Nội")
    await create_facility(client, actors, enterprise["id"], name="Nhà máy Giấy", address=f"Ngõ {tag}, Hà Nội")
    return tag


def test_the_guess_is_the_database_fold_for_vietnamese(db: Any) -> None:
    queries = [*NAMES, "thep ha noi", "Thép  Đông Anh", "bia, ha noi", "%_", "ĐỨC GIANG 12", "ỨNG HÒA"]
    for q in queries:
        (folded,) = db.execute("SELECT cp_fold(%s)", (q,)).fetchone()
        assert search.guess_fold(q) == folded, q
    # letters and signs unaccent spells out are not guessed right: the database's fold answers (see the last test)
    for q, folded_by_database in (("Straße", "strasse"), ("Ứng Hòa – Mê Linh", "ung hoa - me linh")):
        (folded,) = db.execute("SELECT cp_fold(%s)", (q,)).fetchone()
        assert search.guess_fold(q) != folded == folded_by_database


async def test_a_first_page_of_whole_words_is_one_statement(
    client: httpx.AsyncClient, actors: Actors, tagged: str, statements: list[str]
) -> None:
    statements.clear()
    response = await client.get("/api/v1/facilities", params={"q": tagged, "limit": 3}, headers=actors.officer)
    assert len(response.json()["items"]) == 3 and response.json()["next_cursor"]
    assert len(statements) == 1 and statements[0].startswith("read pool: ") and "cp_fold" in statements[0]
    # the same page with a list filter: also one statement (through the session, not the read pool)
    statements.clear()
    params = {"q": tagged, "limit": 3, "status": "active"}
    assert (await client.get("/api/v1/facilities", params=params, headers=actors.officer)).json() == response.json()
    assert len(statements) == 1 and not statements[0].startswith("read pool: ") and "cp_fold" in statements[0]
    # a first page of word prefixes: tier 0 with the fold, the words, the merge with its rows — all on the read pool
    statements.clear()
    response = await client.get("/api/v1/facilities", params={"q": tagged[:-2], "limit": 3}, headers=actors.officer)
    assert len(response.json()["items"]) == 3 and response.json()["next_cursor"]
    assert len(statements) == 3 and all(s.startswith("read pool: ") for s in statements), statements
    # a page that goes on past the whole words: the fold is still not a statement of its own
    for q, matches in ((f"thép {tagged}", 1), (tagged, len(NAMES) + 5)):
        statements.clear()
        response = await client.get("/api/v1/facilities", params={"q": q, "limit": 50}, headers=actors.officer)
        assert len(response.json()["items"]) == matches, q
        assert len(statements) > 1 and sum("cp_fold" in s for s in statements) == 1, statements


@pytest.mark.parametrize("limit", [1, 3, 50])
async def test_a_wrong_guess_changes_no_page(
    client: httpx.AsyncClient, actors: Actors, tagged: str, limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = [tagged, f"thep {tagged}", f"xuong {tagged}", f"{tagged[:-3]}", f"nha may {tagged[:-2]}", "%", "ha-noi"]
    guessed = {q: await pages(client, actors, q, limit) for q in queries}
    assert any(len(p) > 1 for p in guessed.values()) or limit == 50
    monkeypatch.setattr(search, "guess_fold", lambda q: "not " + q)  # every guess wrong: the database's fold only
    for q in queries:
        assert await pages(client, actors, q, limit) == guessed[q], q


@pytest.mark.parametrize("limit", [2, 50])
async def test_the_read_pool_answers_what_the_session_answers(
    client: httpx.AsyncClient, actors: Actors, tagged: str, limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first page without filters is read on the read pool (asyncpg); the same page through the session."""
    queries = [tagged, f"thep {tagged}", f"nha may {tagged}", f"xuong {tagged}", f"ha noi {tagged}", f"{tagged} 1"]
    queries += [tagged[:-2], f"xuo {tagged[:-3]}", f"{tagged}b", f"nha ma {tagged[:-1]}"]  # word prefixes
    pooled = {q: await pages(client, actors, q, limit) for q in queries}
    ranked_page = service.ranked_page

    def without_read_pool(*args: Any, database: Any = None, **kwargs: Any) -> Any:
        return ranked_page(*args, **kwargs)

    monkeypatch.setattr(service, "ranked_page", without_read_pool)
    for q in queries:
        assert await pages(client, actors, q, limit) == pooled[q], q


async def test_a_query_the_guess_misses_is_answered_by_the_database_fold(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    enterprise = await create_enterprise(client, actors)
    tag = marker()
    facility = await create_facility(client, actors, enterprise["id"], name=f"Straße {tag}", address="Hà Nội")
    for q in (f"STRASSE {tag}", f"Straße {tag}", f"straße {tag[:-2]}"):
        found = await pages(client, actors, q, 50)
        assert found == [[facility["id"]]], q


async def test_the_first_page_read_behind_transaction_pooling(registry_db_url: str, tagged: str) -> None:
    """Behind PgBouncer (statement cache 0) the kit runs a `Read` on a Core connection: the same fold and rows."""
    answers = []
    for cache in (None, 0):
        database = Database(registry_db_url, statement_cache_size=cache)
        try:
            answers.append(await search._first_page(database, tagged, search.guess_fold(tagged), 4))
        finally:
            await database.dispose()
    folded, found = answers[0]
    assert folded == tagged and len(found) == 4 and answers[1] == answers[0]


async def test_odd_and_hostile_queries_are_answered_not_failed(client: httpx.AsyncClient, actors: Actors) -> None:
    """Whatever the guess meets — SQL, LIKE signs, a backslash, a NUL, letters unaccent spells out — the answer is a
    page or a 422, never a 500, for an officer (read pool, session) and an enterprise user (narrow)."""
    enterprise = await create_enterprise(client, actors)
    for headers in (actors.officer, actors.enterprise(enterprise["tax_code"])):
        for q in ("'; DROP TABLE enterprises; --", "50% _x", "a\\b c", "th\x00ep", "ß æ œ", "Ạ" * 300, "   "):
            response = await client.get("/api/v1/facilities", params={"q": q}, headers=headers)
            assert response.status_code in (200, 422), (q, response.status_code, response.text)
            if response.status_code == 422:
                assert response.headers["content-type"].startswith("application/problem+json"), q
