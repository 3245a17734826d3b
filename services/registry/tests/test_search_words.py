"""The words table behind the whole-word tier of a ranked search (migration 0004, facilities/search.py): its rows
follow every insert, rename and delete of a facility, also through plain SQL, and a search read from it returns what
the match rule and the rank order say — across pages, across the step to the later tiers, whichever query word
drives the read."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
import pytest
from registry_helpers import Actors, create_enterprise, create_facility

from cleanprod_kit.migrations import upgrade
from cleanprod_kit.testing.schema import scratch_database
from cleanprod_registry.config import MIGRATIONS
from cleanprod_registry.facilities import search

# the words table as the facilities say it should be, and the table itself: each side's rows the other lacks
DRIFT = """
WITH expected AS (
    SELECT DISTINCT word, name_trigrams, id AS facility_id, name_words
    FROM facilities, unnest(string_to_array(btrim(name_words), ' ')) AS word WHERE word <> ''
)
(SELECT 'missing', * FROM expected EXCEPT SELECT 'missing', * FROM facility_words)
UNION ALL
(SELECT 'stale', * FROM facility_words EXCEPT SELECT 'stale', * FROM expected)
"""


def marker() -> str:
    return f"w{uuid.uuid4().int % 10**12:012d}"  # digits: no search word hides in it


@pytest.fixture
def db(registry_db_url: str) -> Any:
    with psycopg.connect(registry_db_url.replace("postgresql+asyncpg", "postgresql"), autocommit=True) as conn:
        yield conn


def words_of(db: Any, facility_id: str) -> list[str]:
    rows = db.execute("SELECT word FROM facility_words WHERE facility_id = %s ORDER BY word", (facility_id,))
    return [word for (word,) in rows.fetchall()]


async def search_ids(client: httpx.AsyncClient, actors: Actors, q: str, *, limit: int = 200, **params: Any) -> list:
    """Every id of an officer's ranked search, page by page (`limit` a page)."""
    ids: list[str] = []
    cursor = None
    while True:
        page_params = {"q": q, "limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/v1/facilities", params=page_params, headers=actors.officer)
        assert response.status_code == 200, response.text
        ids += [f["id"] for f in response.json()["items"]]
        assert len(ids) <= 1000, "the pages repeat rows"
        if not (cursor := response.json()["next_cursor"]):
            return ids


async def test_words_follow_insert_rename_update_and_delete(client: httpx.AsyncClient, actors: Actors, db: Any) -> None:
    tag = marker()
    enterprise = await create_enterprise(client, actors)
    created = await create_facility(client, actors, enterprise["id"], name=f"Xưởng Gốm sứ {tag} – Hà Nội, Hà")
    fid = created["id"]
    assert words_of(db, fid) == sorted({"xuong", "gom", "su", tag, "ha", "noi"})  # a repeated word once
    assert await search_ids(client, actors, f"gom {tag}") == [fid]

    renamed = await client.patch(
        f"/api/v1/facilities/{fid}",
        json={"name": f"Nhà máy Bia {tag}"},
        headers={**actors.officer, "If-Match": '"1"'},
    )
    assert renamed.status_code == 200, renamed.text
    assert words_of(db, fid) == sorted({"nha", "may", "bia", tag})
    assert await search_ids(client, actors, f"gom {tag}") == []  # the old name's words are gone
    assert await search_ids(client, actors, f"bia {tag}") == [fid]

    before = db.execute("SELECT * FROM facility_words WHERE facility_id = %s ORDER BY word", (fid,)).fetchall()
    moved = await client.patch(
        f"/api/v1/facilities/{fid}", json={"address": "Số 1 Cao Lỗ"}, headers={**actors.officer, "If-Match": '"2"'}
    )
    assert moved.status_code == 200, moved.text
    assert db.execute("SELECT * FROM facility_words WHERE facility_id = %s ORDER BY word", (fid,)).fetchall() == before

    db.execute("DELETE FROM facilities WHERE id = %s", (fid,))
    assert words_of(db, fid) == []
    assert await search_ids(client, actors, f"bia {tag}") == []
    assert db.execute(DRIFT).fetchall() == []


async def test_words_follow_statements_of_many_rows(client: httpx.AsyncClient, actors: Actors, db: Any) -> None:
    """Plain SQL writing several facilities at once (as a COPY or a data fix would): the words follow."""
    tag = marker()
    enterprise = await create_enterprise(client, actors)
    ids = [
        (await create_facility(client, actors, enterprise["id"], name=f"Xưởng {tag} số {i}"))["id"] for i in range(6)
    ]
    db.execute(
        "INSERT INTO facilities (id, enterprise_id, name, sector_code, products, address, ward, status, version, "
        "created_at, updated_at) SELECT gen_random_uuid(), enterprise_id, name || ' bản sao', sector_code, products, "
        "address, ward, status, 1, now(), now() FROM facilities WHERE id = ANY(%s::uuid[])",
        (ids,),
    )
    db.execute("UPDATE facilities SET name = 'Cơ sở ' || name WHERE id = ANY(%s::uuid[]) AND name LIKE '%%3'", (ids,))
    db.execute("UPDATE facilities SET status = 'suspended' WHERE id = ANY(%s::uuid[])", (ids[:2],))
    db.execute("DELETE FROM facilities WHERE id = ANY(%s::uuid[])", (ids[4:],))
    assert db.execute(DRIFT).fetchall() == []
    assert len(await search_ids(client, actors, f"{tag} ban sao")) == 6
    assert (await search_ids(client, actors, f"co so {tag}"))[:1] == [ids[3]]  # the one renamed: whole words


@pytest.fixture(params=["words", "words-then-stretches"])
def later_tiers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """After the words table, the later tiers from one probe (few in all), or in stretches of the B-tree alone."""
    if request.param != "words":
        monkeypatch.setattr(search, "FEW", 0)
        monkeypatch.setattr(search, "CHUNK", 1)
        monkeypatch.setattr(search, "PROBE", 0)
    return str(request.param)


async def test_a_word_shared_by_many_pages_in_rank_order(
    client: httpx.AsyncClient, actors: Actors, db: Any, later_tiers: str
) -> None:
    """Forty facilities share a word, some in the name (tier 0), some only in the address (tier 3): small pages
    of every query of it neither repeat nor skip, follow the rank order, and pass from the words table to the
    later tiers — whether the shared word or the common one ("xuong") drives the read, with or without statistics."""
    tag = marker()
    enterprise = await create_enterprise(client, actors)
    for i in range(40):
        name = f"Xưởng {'Cơ khí ' * (i % 4)}{tag} {i}" if i % 5 else f"Xưởng Dệt {i}"
        await create_facility(client, actors, enterprise["id"], name=name, address=f"Số {i} đường {tag}, Hà Nội")
    in_name = db.execute(
        "SELECT id::text FROM facilities WHERE name_words LIKE %s ORDER BY name_trigrams, id", (f"% {tag} %",)
    ).fetchall()
    in_address = db.execute(
        "SELECT id::text FROM facilities WHERE search_text LIKE %s AND name_words NOT LIKE %s "
        "ORDER BY name_trigrams, id",
        (f"%{tag}%", f"%{tag}%"),
    ).fetchall()
    assert (len(in_name), len(in_address)) == (32, 8)
    expected = [i for (i,) in in_name + in_address]
    for analysed in (False, True):
        if analysed:
            db.execute("ANALYZE facility_words")
        for q in (tag, f"xuong {tag}", f"{tag} xuong"):
            assert await search_ids(client, actors, q, limit=3) == expected, (q, analysed)
            assert await search_ids(client, actors, q) == expected, (q, analysed)


@pytest.mark.parametrize("word", ["bia", "bi"], ids=["whole-word tier", "word-prefix tier"])
async def test_each_word_tier_keeps_filters_and_punctuation(
    client: httpx.AsyncClient, actors: Actors, word: str
) -> None:
    tag = marker()
    enterprise = await create_enterprise(client, actors)
    beer = await create_facility(client, actors, enterprise["id"], name=f"Xưởng {tag}-bia", sector_code="beer")
    steel = await create_facility(client, actors, enterprise["id"], name=f"Xưởng {tag} bia", sector_code="steel")
    assert set(await search_ids(client, actors, f"{tag} {word}")) == {beer["id"], steel["id"]}
    assert await search_ids(client, actors, f"{tag} {word}", sector="beer") == [beer["id"]]
    assert await search_ids(client, actors, f"{tag}-{word}") == [beer["id"]]  # the word with its hyphen must appear
    assert await search_ids(client, actors, f"{tag}-{word}", sector="steel") == []
    assert await search_ids(client, actors, f"{tag[:-1]} xuo", status="suspended") == []


def test_the_migration_fills_the_words_of_existing_facilities(pg_instance: Any) -> None:
    """Facilities registered before migration 0004 get their words from it; a TRUNCATE empties the words too."""
    url = scratch_database(pg_instance, "registry_words_migration")
    upgrade(MIGRATIONS, url, "0003")
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO enterprises (id, tax_code, name, legal_form, size_class, address, ward, province, version, "
            "created_at, updated_at) VALUES (gen_random_uuid(), '0101234567', 'Công ty Sạch', 'joint_stock', "
            "'medium', 'Hà Nội', 'Phường Láng', 'Thành phố Hà Nội', 1, now(), now())"
        )
        for name in ("Nhà máy Bia Hà Nội", "Xưởng Thép Đông Anh 2", "Cơ sở Gốm sứ Bát Tràng – Gia Lâm"):
            conn.execute(
                "INSERT INTO facilities (id, enterprise_id, name, sector_code, products, address, ward, status, "
                "version, created_at, updated_at) SELECT gen_random_uuid(), id, %s, 'beer', '[]', 'Hà Nội', "
                "'Phường Láng', 'active', 1, now(), now() FROM enterprises",
                (name,),
            )
    upgrade(MIGRATIONS, url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM facility_words").fetchone() == (5 + 5 + 8,)
        assert conn.execute(DRIFT).fetchall() == []
        conn.execute("TRUNCATE facilities CASCADE")
        assert conn.execute("SELECT count(*) FROM facility_words").fetchone() == (0,)


# the ranked order the doc promises, computed here from the facilities alone: tier, name trigrams, id
RANKED = """
WITH q AS (SELECT %(words)s::text[] AS words, %(tokens)s::text[] AS tokens)
SELECT f.id::text FROM facilities f, q
WHERE (SELECT bool_and(f.search_text LIKE '%%' || w || '%%') FROM unnest(q.words) w)
ORDER BY CASE
    WHEN (SELECT bool_and(f.name_words LIKE '%% ' || t || ' %%') FROM unnest(q.tokens) t) THEN 0
    WHEN (SELECT bool_and(f.name_words LIKE '%% ' || t || '%%') FROM unnest(q.tokens) t) THEN 1
    WHEN (SELECT bool_and(f.name_words LIKE '%%' || t || '%%') FROM unnest(q.tokens) t) THEN 2
    ELSE 3 END, f.name_trigrams, f.id
"""


@pytest.fixture(params=[64, 1])
def branches(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """The word-prefix tier merges the lists of up to 64 words, or of one: then a query word starting several
    words cannot drive it, and a query of such words alone reads the tier from the rank index."""
    monkeypatch.setattr(search, "BRANCHES", request.param)
    return int(request.param)


async def test_word_prefix_pages_across_tiers(
    client: httpx.AsyncClient, actors: Actors, db: Any, later_tiers: str, branches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Facilities whose names hold a word (tier 0), words starting with it (tier 1: one such word, or two, which
    must not repeat the facility), the word inside a longer one (tier 2), or it only in the address (tier 3): small
    pages of queries typed in part neither repeat nor skip, follow the rank order, and pass from the words table's
    merged lists to the later tiers — whichever query word drives the merge, with or without statistics."""
    merged: list[bool] = []  # per read of tier 1: from the words table's lists (True) or the rank index
    prefixes = search._word_prefixes

    async def recorded(*args: Any) -> Any:
        found = await prefixes(*args)
        merged.append(found is not None)
        return found

    monkeypatch.setattr(search, "_word_prefixes", recorded)
    tag = marker()
    enterprise = await create_enterprise(client, actors)
    names = [
        *(f"Xưởng {tag} {i}" for i in range(4)),
        *(f"Xưởng Cơ khí {tag}b{i}" for i in range(7)),
        *(f"Xưởng {tag}c{i} {tag}d Hà Nội" for i in range(5)),
        *(f"Nhà máy x{tag} {i}" for i in range(3)),
    ]
    for i, name in enumerate(names):
        await create_facility(client, actors, enterprise["id"], name=name, address=f"Số {i}, Hà Nội")
    for i in range(3):
        await create_facility(client, actors, enterprise["id"], name=f"Xưởng số {i}", address=f"Ngõ {tag}, Hà Nội")
    for analysed in (False, True):
        if analysed:
            db.execute("ANALYZE facility_words")
        # tag[1:] starts no word (only inside words): tier 1 is empty at once, tier 2 follows
        for q in (tag[:-2], tag, f"xuo {tag}", f"{tag[:-1]} xuong", f"{tag[:-3]} ha n", tag[1:]):
            tokens = q.split()  # already folded: plain ASCII, lower case
            expected = [i for (i,) in db.execute(RANKED, {"words": tokens, "tokens": tokens}).fetchall()]
            assert expected, q
            assert await search_ids(client, actors, q, limit=3) == expected, (q, analysed)
            assert await search_ids(client, actors, q) == expected, (q, analysed)
    # every tier is met on the way: the whole words first, the two-word names once each
    everything = await search_ids(client, actors, tag, limit=2)
    assert len(everything) == len(set(everything)) == len(names) + 3
    # with one list per merge, the tag's prefix (it starts many words) drives no merge, "xuo" ("xuong") does
    assert any(merged) and (branches > 1 or not all(merged))
