"""Facility search ranked by relevance (docs/performance.md "Facility search").

A facility matches when every word of the folded query appears in its `search_text` (name, address, ward,
district), as before. Matches come in tiers, best first:

0. every query word is a whole word of the name,
1. every query word starts a word of the name,
2. every query word appears inside the name,
3. the rest (some word only in the address, ward or district);

and within a tier by the name's trigram count, fewest first — for tier 0 exactly pg_trgm's similarity order, as
the query's trigrams are then all in the name's — and then by id. The cursor is that key: (tier, trigrams, id).

A page is read so that neither a common nor a rare word makes a query scan the table, whatever the planner
estimates for LIKE (it cannot know how many names hold a word). Tier 0 comes from the words table (migration
0004): the rows of the query's least common word (by the column statistics), already in rank order, the other
words checked on the included `name_words`, index-only — a list of the tier's candidates, not of the table
(not for a narrow search: one enterprise's few facilities are found by the probe below). Tier 1 too: the words
one query word starts are a range of the table's leading column, and their lists, each in rank order, are merged.
The later tiers, tiers 0–1 of a narrow search, and tier 1 when every query word starts more than `BRANCHES` words,
are read in at most three ways, each bounded:
1. the first stretch of the B-tree `ix_facilities_rank` (the next `CHUNK` keys, index-only) and of those the
   keys of the cursor's tier: enough at once when the tier is dense (common words: "ha noi", "nha may");
2. else one probe through the GIN index of `search_text`: with at most `FEW` matches in all (rare words, one
   enterprise's facilities) they are ranked here from it;
3. else tier by tier: further stretches, each twice as long, until the page is full — after a probe through the
   GIN index of `name_words` when the first stretch says the tier is sparse (at most `PROBE` rows: sorted here).
The rows themselves are then read by id, in one statement.

One round trip for most first pages (session 7): the query's fold is guessed in Python (`guess_fold`) and the
whole-word statement carries the database's own fold, `cp_fold(:q)`, as a column and as a gate (`cp_fold(:q) =
:guess`, evaluated once), with the page's rows joined to its keys. When the guess was right — Vietnamese text
folds the same both ways — the statement is the fold, tier 0 and the rows at once; when not, it answers only the
fold, and the search goes on with that fold as before (the same pages either way). The word-prefix tier's
merge carries its rows too. A first page without list filters or punctuation (an officer's search box) runs
statements built once per process on the kit's read pool (`Database.fetch`: asyncpg, no ORM session).
"""

from __future__ import annotations

import functools
import unicodedata
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Text,
    and_,
    bindparam,
    case,
    func,
    literal,
    not_,
    text,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.sql import Select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.db import Database, Read
from cleanprod_kit.pagination import decode_cursor, encode_cursor, invalid_cursor
from cleanprod_kit.search import contains_all, fold, tokens_of, words_of

from ..enterprises.models import Enterprise
from .models import Facility, FacilityWord
from .schemas import FacilityPublic

CHUNK = 2000
"""Keys in the first stretch of the B-tree a tier is read from (each further stretch is twice as long)."""
PROBE = 2000
"""A tier with at most this many rows after the first stretch is sorted here instead of read stretch by stretch."""
FEW = 500
"""A query with at most this many matches in all is ranked from one probe."""
SCAN_LIMIT = 32_000
"""When the first stretch says the rest of the page lies within this many more keys, the probe is skipped."""
BRANCHES = 64
"""The word-prefix tier merges the words table's lists of at most this many words (the words one query word starts)."""

Filters = Callable[[Select[Any]], Select[Any]]
Position = tuple[int, uuid.UUID]  # (name trigrams, id): the key within a tier
Row = dict[str, Any]  # a facility as answered: `FacilityPublic`'s fields, from its columns (no ORM entity)
Stretch = tuple[list[Position], Position | None]  # a stretch's keys of the tier, and where it ended (None: the end)
Key = tuple[int, int, uuid.UUID]  # (tier, name trigrams, id): the order of a ranked search, and its cursor


def _opaque(column: Any) -> Any:
    """The same text as an expression no trigram index serves: a stretch is read from the B-tree, index-only, and
    not by intersecting the posting lists of common trigrams (8 ms for "nha may" at 100,000 names)."""
    return column.concat(literal(""))


def _tiers(words: list[str], tokens: list[str], *, opaque: bool = False) -> list[ColumnElement[bool]]:
    name = _opaque(Facility.name_words) if opaque else col(Facility.name_words)
    text = _opaque(Facility.search_text) if opaque else col(Facility.search_text)
    matches = contains_all(text, words)
    if not tokens:
        return [matches]
    whole = contains_all(name, tokens, before="% ", after=" %")
    prefix = contains_all(name, tokens, before="% ")
    inside = contains_all(name, tokens)
    # A query whose words are all plain tokens needs no `search_text` check in the name tiers (the name is part of
    # it); one with punctuation keeps it, so the match rule stays exactly "every word appears".
    plain = words == tokens
    name_tiers = [whole, and_(prefix, not_(whole)), and_(inside, not_(prefix))]
    return [t if plain else and_(matches, t) for t in name_tiers] + [and_(matches, not_(inside))]


def _decode(cursor: str | None, tiers: int) -> tuple[int, Position | None]:
    if not cursor:
        return 0, None
    tier, trigrams, last_id = decode_cursor(cursor, 3)
    if not (isinstance(tier, int) and 0 <= tier < tiers and isinstance(trigrams, int) and isinstance(last_id, str)):
        raise invalid_cursor(why="does not fit this list")
    try:
        return tier, (trigrams, uuid.UUID(last_id))
    except ValueError:
        raise invalid_cursor(why="does not fit this list") from None


# The answer's columns, labelled with `FacilityPublic`'s field names: a page is built from rows, not entities.
PUBLIC_COLUMNS = (
    *(
        col(getattr(Facility, name)).label(name)
        for name in FacilityPublic.model_fields
        if name != "enterprise_tax_code"
    ),
    col(Enterprise.tax_code).label("enterprise_tax_code"),
)
PUBLIC_NAMES = tuple(column.key for column in PUBLIC_COLUMNS)


def _with_tax_code() -> Select[Any]:
    return select(*PUBLIC_COLUMNS).join(Enterprise, Enterprise.id == Facility.enterprise_id)  # type: ignore[arg-type]


def guess_fold(query: str) -> str:
    """What `cp_fold` (lower(unaccent(…))) is expected to answer for `query`: the marks of the decomposed letters
    dropped, đ as d, lower case. Only a guess — the database checks it in the statement it serves (a query with
    other letters, e.g. "ß" or "æ", which unaccent spells out, is then folded by the database alone)."""
    bare = "".join(c for c in unicodedata.normalize("NFD", query) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare).replace("đ", "d").replace("Đ", "D").lower()


def _key() -> Any:
    return tuple_(*_KEY)


def _bound(position: Position) -> Any:
    return tuple_(literal(position[0], col(Facility.name_trigrams).type), literal(position[1], col(Facility.id).type))


def _within(statement: Select[Any], after: Position | None, until: Position | None = None) -> Select[Any]:
    if after is not None:
        statement = statement.where(_key() > _bound(after))
    if until is not None:
        statement = statement.where(_key() <= _bound(until))
    return statement


class _Tier:
    """One tier of one query: `probed` is its condition for the GIN indexes, `scanned` the same for a stretch."""

    def __init__(
        self, session: AsyncSession, filters: Filters, probed: ColumnElement[bool], scanned: ColumnElement[bool]
    ) -> None:
        self.session, self.filters, self.probed, self.scanned = session, filters, probed, scanned

    async def _keys(self, statement: Select[Any]) -> list[Position]:
        return [(t, i) for t, i in (await self.session.exec(statement)).all()]

    async def stretch_end(self, after: Position | None, size: int) -> Position | None:
        """The key `size` keys on from `after` in the B-tree (an index-only range scan); None past the end."""
        statement = _within(select(Facility.name_trigrams, Facility.id), after)
        found = await self._keys(statement.order_by(*_KEY).offset(size - 1).limit(1))
        return found[0] if found else None

    async def stretch(self, after: Position | None, until: Position | None, n: int) -> list[Position]:
        """The tier's first `n` keys in (after, until]: bounded by keys, so read from the B-tree whatever the
        planner guesses for LIKE."""
        statement = _within(self.filters(select(Facility.name_trigrams, Facility.id)).where(self.scanned), after, until)
        return await self._keys(statement.order_by(*_KEY).limit(n))

    async def first_stretch(self, after: Position | None, wanted: int) -> Stretch:
        until = await self.stretch_end(after, CHUNK)
        return await self.stretch(after, until, wanted), until

    async def probe(self, after: Position | None) -> tuple[bool, list[Position]]:
        """The tier's keys after `after`, sorted: all of them (True) when at most `PROBE`, else a sample."""
        statement = _within(self.filters(select(Facility.name_trigrams, Facility.id)).where(self.probed), after)
        keys = sorted(await self._keys(statement.limit(PROBE + 1)))
        return len(keys) <= PROBE, keys

    async def read(
        self,
        after: Position | None,
        wanted: int,
        first: Stretch | None = None,
        sample: list[Position] | None = None,
    ) -> list[Position]:
        """Up to `wanted` of the tier's keys after `after`, in order (continuing its `first` stretch if read);
        `sample`: some of the tier's keys, sorted, if known."""
        found, until = first or await self.first_stretch(after, wanted)
        if until is None or len(found) >= wanted:
            return found
        need = wanted - len(found)
        if not _dense(found, wanted) and len(ahead := _beyond(sample, until)) < need:
            # a sparse or empty tier, as far as one can tell: probed
            complete, keys = await self.probe(until)
            if complete:
                return found + keys[:need]
            sample = sorted({*(sample or ()), *keys})
        # a sample of the tier: when `n` of its keys lie beyond the stretch, the next `n` rows lie at most as far,
        # so one stretch up to the `n`-th key reads them; else further stretches, each twice as long
        if len(ahead := _beyond(sample, until)) >= need:
            return found + await self.stretch(until, ahead[need - 1], need)
        size = CHUNK
        while until is not None and len(found) < wanted:
            after, size = until, size * 2
            until = await self.stretch_end(after, size)
            found += await self.stretch(after, until, wanted - len(found))
        return found


_KEY = (col(Facility.name_trigrams), col(Facility.id))


def _beyond(sample: list[Position] | None, until: Position) -> list[Position]:
    return [key for key in sample or () if key > until]


def _dense(first: list[Position], wanted: int) -> bool:
    """By the first stretch, the rest of the page lies within `SCAN_LIMIT` more keys of the B-tree."""
    return bool(first) and (wanted - len(first)) * CHUNK / len(first) <= SCAN_LIMIT


async def ranked_page(
    session: AsyncSession,
    filters: Filters,
    q: str,
    *,
    limit: int,
    cursor: str | None,
    narrow: bool = False,
    database: Database | None = None,
) -> tuple[list[Row], str | None]:
    """One page of the facilities matching `q`, best first, with their enterprise's tax code. `filters` adds the
    caller's rights and the list filters to a statement on `Facility` (as conditions on its columns); `narrow`: they
    keep few facilities (one enterprise's), so the GIN probe comes first — a stretch would read other rows.
    `database`: a first page without filters is read on its read pool."""
    keys: list[Key] = []
    rows: dict[uuid.UUID, Row] = {}
    folded: str | None = None
    guess = guess_fold(q)
    if tokens_of(guess) and not narrow:  # the whole-word tier with the fold and the rows, in one statement
        start = _decode(cursor, 4)  # as the fold's decode would: a guess with tokens has four tiers
        unfiltered = words_of(guess) == tokens_of(guess) and filters(select(Facility.id)).whereclause is None
        found: list[tuple[Position, Row]] = []
        if start[0] == 0 and database is not None and start[1] is None and unfiltered:
            folded, found = await _first_page(database, q, guess, limit + 1)
        elif start[0] == 0:
            folded, found = await _whole_words_with_rows(session, filters, q, guess, start[1], limit + 1)
        if folded == guess:
            keys = [(0, *key) for key, _ in found]
            rows = {key[1]: row for key, row in found}
    whole_words_read = folded == guess
    if folded is None:
        folded = await fold(session, q)
    words, tokens = words_of(folded), tokens_of(folded)
    tiers = 4 if tokens else 1
    start = _decode(cursor, tiers)
    if whole_words_read:
        start = (1, None)
    elif tokens and not narrow and start[0] == 0:  # the whole-word tier, from the words table
        keys = [(0, *key) for key in await _whole_words(session, filters, words, tokens, start[1], limit + 1)]
        start = (1, None)
    if tokens and not narrow and start[0] == 1 and len(keys) <= limit:  # the word-prefix tier, from it too
        prefixed = await _word_prefixes(session, filters, words, tokens, start[1], limit + 1 - len(keys), database)
        if prefixed is not None:
            keys += [(1, *key) for key, _ in prefixed]
            rows |= {key[1]: row for key, row in prefixed}
            start = (2, None)
    if len(keys) <= limit and start[0] < tiers:  # only then the tiers' conditions are built (costly to compile)
        probed, scanned = _tiers(words, tokens), _tiers(words, tokens, opaque=True)
        keys += await _later_tiers(session, filters, words, probed, scanned, start, limit + 1 - len(keys), narrow)
    if missing := [key[2] for key in keys[:limit] if key[2] not in rows]:
        statement = filters(_with_tax_code()).where(col(Facility.id).in_(missing))
        rows |= {row.id: dict(zip(PUBLIC_NAMES, row, strict=True)) for row in (await session.exec(statement)).all()}
    next_cursor = encode_cursor(list(keys[limit - 1])) if len(keys) > limit else None
    return [rows[key[2]] for key in keys[:limit] if key[2] in rows], next_cursor  # a row deleted meanwhile: left out


# The query word whose rows are fewest by the words table's statistics (most common values, target 1000): a word
# not among them is rarer than all of them. Without statistics (a table never analysed) the first word. Stale
# statistics only make the read longer, never change what it returns.
_RAREST = (
    text(
        """
        SELECT t.word FROM unnest(CAST(:tokens AS text[])) WITH ORDINALITY AS t(word, n)
        LEFT JOIN pg_stats s
          ON s.schemaname = current_schema() AND s.tablename = 'facility_words' AND s.attname = 'word'
        ORDER BY coalesce(s.most_common_freqs[array_position(s.most_common_vals::text::text[], t.word)], 0), t.n
        LIMIT 1
        """
    )
    .columns(word=Text)
    .subquery("rarest")
)


def _words_read(
    filters: Filters,
    words: list[str],
    tokens: list[str],
    word: ColumnElement[bool],
    name: ColumnElement[bool],
    after: Position | None,
    n: int,
) -> Select[Any]:
    """The first `n` keys after `after` of one word's rows in the words table's B-tree, which holds them in rank
    order, the name's tier test `name` checked on the included `name_words` (index-only). The facility itself is
    read only when the list filters or a query word with punctuation need its columns."""
    key = (col(FacilityWord.name_trigrams), col(FacilityWord.facility_id))
    statement = select(*key).where(word, name)
    if after is not None:
        statement = statement.where(tuple_(*key) > _bound(after))
    if words != tokens or filters(select(Facility.id)).whereclause is not None:
        statement = filters(statement.join(Facility, col(Facility.id) == FacilityWord.facility_id)).where(
            contains_all(col(Facility.search_text), words)
        )
    return statement.order_by(*key).limit(n)


async def _whole_words(
    session: AsyncSession, filters: Filters, words: list[str], tokens: list[str], after: Position | None, n: int
) -> list[Position]:
    """The first `n` keys of tier 0 after `after`: the rows of the least common query word, the other words checked
    as whole words."""
    rarest = FacilityWord.word == select(_RAREST.c.word).scalar_subquery()
    whole = contains_all(col(FacilityWord.name_words), tokens, before="% ", after=" %")
    statement = _words_read(filters, words, tokens, rarest, whole, after, n)  # type: ignore[arg-type]
    found = await session.exec(statement, params={"tokens": tokens})
    return [(t, i) for t, i in found.all()]


def _with_fold_and_rows(read: Select[Any]) -> Select[Any]:
    """`read` (tier 0's keys) behind the one-time gate `cp_fold(:q) = :guess`, with the fold as a column and the
    keys' facilities' answers joined, in rank order; one row of the fold alone when the gate is shut or tier 0
    is empty."""
    keys = read.where(func.cp_fold(bindparam("q", type_=Text)) == bindparam("guess", type_=Text)).subquery("keys")
    found = keys.join(Facility, col(Facility.id) == keys.c.facility_id).join(
        Enterprise,
        Enterprise.id == Facility.enterprise_id,  # type: ignore[arg-type]
    )
    one = select(literal(1).label("one")).subquery("one")
    return (
        select(func.cp_fold(bindparam("q", type_=Text)).label("folded"), keys.c.name_trigrams, *PUBLIC_COLUMNS)
        .select_from(one.outerjoin(found, true()))
        .order_by(keys.c.name_trigrams, keys.c.facility_id)
    )


def _folded_and_found(result: list[Any]) -> tuple[str, list[tuple[Position, Row]]]:
    pages = [((r[1], r[2]), dict(zip(PUBLIC_NAMES, r[2:], strict=True))) for r in result]
    return str(result[0][0]), [(key, row) for key, row in pages if key[1] is not None]


async def _whole_words_with_rows(
    session: AsyncSession, filters: Filters, q: str, guess: str, after: Position | None, n: int
) -> tuple[str, list[tuple[Position, Row]]]:
    """The database's fold of `q`, and — when it is `guess` — the first `n` keys of tier 0 after `after` (as
    `_whole_words` reads them, for the guess's words) with their facilities' answers, in rank order: one statement,
    whose one-time gate `cp_fold(:q) = :guess` leaves only the fold when the guess was wrong. The rows come from
    the same snapshot as the keys, so they pass the filters the keys passed."""
    words, tokens = words_of(guess), tokens_of(guess)
    rarest = FacilityWord.word == select(_RAREST.c.word).scalar_subquery()
    whole = contains_all(col(FacilityWord.name_words), tokens, before="% ", after=" %")
    read = _words_read(filters, words, tokens, rarest, whole, after, n)  # type: ignore[arg-type]
    statement = _with_fold_and_rows(read)
    return _folded_and_found(list(await session.exec(statement, params={"tokens": tokens, "q": q, "guess": guess})))


@functools.cache
def _first_page_read(count: int) -> Read:
    """The statement of `_whole_words_with_rows` for a first page (no cursor) of `count` query words without
    punctuation and without list filters — an officer's plain search, the most frequent — built and compiled once
    per process and run on the kit's read pool (`Database.fetch`: asyncpg, no ORM session)."""
    key = (col(FacilityWord.name_trigrams), col(FacilityWord.facility_id))
    whole = [col(FacilityWord.name_words).like(bindparam(f"whole{i}", type_=Text)) for i in range(count)]
    rarest = FacilityWord.word == select(_RAREST.c.word).scalar_subquery()
    read = select(*key).where(rarest, *whole).order_by(*key).limit(bindparam("n", type_=Integer))
    return Read(_with_fold_and_rows(read))


async def _first_page(database: Database, q: str, guess: str, n: int) -> tuple[str, list[tuple[Position, Row]]]:
    """What `_whole_words_with_rows` answers for a first page without filters, from `_first_page_read`."""
    tokens = tokens_of(guess)
    # tokens are letters and digits only: nothing to escape in the pattern
    patterns = {f"whole{i}": f"% {token} %" for i, token in enumerate(tokens)}
    found = await database.fetch(_first_page_read(len(tokens)), q=q, guess=guess, tokens=tokens, n=n, **patterns)
    return _folded_and_found([tuple(row.values()) for row in found])


# For each query word (its place in the query), up to `most` + 1 of the distinct words of the words table it starts
# — one index descent each, a skip over the B-tree's leading column — with their share of the table's rows by its
# statistics (0 for a word not among the most common values).
_STARTED = text(
    """
    WITH RECURSIVE started(n, word, bound, k) AS (
        SELECT t.n, (SELECT min(f.word) FROM facility_words f WHERE f.word >= t.token AND f.word < t.bound),
               t.bound, 1
        FROM unnest(CAST(:tokens AS text[]), CAST(:bounds AS text[])) WITH ORDINALITY AS t(token, bound, n)
        UNION ALL
        SELECT s.n, (SELECT min(f.word) FROM facility_words f WHERE f.word > s.word AND f.word < s.bound),
               s.bound, s.k + 1
        FROM started s WHERE s.word IS NOT NULL AND s.k <= :most
    )
    SELECT started.n, started.word,
           coalesce(s.most_common_freqs[array_position(s.most_common_vals::text::text[], started.word::text)], 0)
    FROM started
    LEFT JOIN pg_stats s
      ON s.schemaname = current_schema() AND s.tablename = 'facility_words' AND s.attname = 'word'
    WHERE started.word IS NOT NULL
    """
).columns(n=Integer, word=Text, share=Float)


def _after_prefix(token: str) -> str:
    """The first string after every string starting with `token`, bytewise (collation "C"; UTF-8's byte order is
    the code points' order)."""
    return token[:-1] + chr(ord(token[-1]) + 1)


_STARTED_READ = Read(_STARTED)  # the same, on the read pool


@functools.lru_cache(maxsize=256)
def _merge_read(branches: int, count: int) -> Read:
    """The merge of `_word_prefixes` with its rows, for a read from the tier's start of `count` query words
    without punctuation and without list filters over `branches` words: built and compiled once per process."""
    key = (col(FacilityWord.name_trigrams), col(FacilityWord.facility_id))
    name, word_type = col(FacilityWord.name_words), col(FacilityWord.word).type
    prefix = and_(*[name.like(bindparam(f"prefix{i}", type_=Text)) for i in range(count)])
    whole = and_(*[name.like(bindparam(f"whole{i}", type_=Text)) for i in range(count)])
    limit = bindparam("n", type_=Integer)
    reads = [
        select(*key)
        .where(FacilityWord.word == bindparam(f"word{j}", type_=word_type), prefix, not_(whole))
        .order_by(*key)
        .limit(limit)
        for j in range(branches)
    ]
    merged = union_all(*reads).subquery("merged")
    merged_key = (merged.c.name_trigrams, merged.c.facility_id)
    return Read(_rows_of(select(*merged_key).distinct().order_by(*merged_key).limit(limit).subquery("page")))


async def _word_prefixes(
    session: AsyncSession,
    filters: Filters,
    words: list[str],
    tokens: list[str],
    after: Position | None,
    n: int,
    database: Database | None = None,
) -> list[tuple[Position, Row]] | None:
    """The first `n` keys of tier 1 after `after` with their facilities' answers (read with them), from the words
    table: the words the driving query word starts
    (a range of the B-tree's leading column, collation "C") each hold their rows in rank order, so the lists are
    merged (`UNION ALL` of per-word reads under the outer `ORDER BY … LIMIT`: a Merge Append that reads each list
    only as far as the page needs) and a facility with two such words kept once. The driver is the query word
    whose words are least common by the statistics; a query word starting more than `BRANCHES` words (a digit, a
    single letter) does not drive. None when none can: the tier is read from the rank index instead.
    `database`: its read pool runs the words statement, and the merge too from the tier's start without filters."""
    params = {"tokens": tokens, "bounds": [_after_prefix(t) for t in tokens], "most": BRANCHES}
    if database is not None:
        found = [tuple(row.values()) for row in await database.fetch(_STARTED_READ, **params)]
    else:
        found = list((await session.exec(_STARTED, params=params)).all())  # type: ignore[call-overload]
    started: dict[int, list[tuple[str, float]]] = {n: [] for n in range(1, len(tokens) + 1)}
    for place, word, share in found:
        started[place].append((word, share))
    usable = [(sum(s for _, s in ws), len(ws), n) for n, ws in started.items() if len(ws) <= BRANCHES]
    if not usable:
        return None
    driver = started[min(usable)[2]]
    if not driver:  # the query word starts no word of any name: tier 1 is empty
        return []
    if database is not None and after is None and words == tokens and filters(select(Facility.id)).whereclause is None:
        # tokens are letters and digits only: nothing to escape in the patterns
        patterns = {f"prefix{i}": f"% {t}%" for i, t in enumerate(tokens)} | {
            f"whole{i}": f"% {t} %" for i, t in enumerate(tokens)
        }
        merge = _merge_read(len(driver), len(tokens))
        rows = await database.fetch(merge, n=n, **patterns, **{f"word{j}": w for j, (w, _) in enumerate(driver)})
        return _keyed([tuple(row.values()) for row in rows])
    prefix = contains_all(col(FacilityWord.name_words), tokens, before="% ")
    whole = contains_all(col(FacilityWord.name_words), tokens, before="% ", after=" %")
    in_tier = and_(prefix, not_(whole))
    reads = [_words_read(filters, words, tokens, FacilityWord.word == w, in_tier, after, n) for w, _ in driver]  # type: ignore[arg-type]
    merged = union_all(*reads).subquery("merged")
    key = (merged.c.name_trigrams, merged.c.facility_id)
    page = select(*key).distinct().order_by(*key).limit(n).subquery("page")
    return await _with_rows(session, page)


def _rows_of(keys: Any) -> Select[Any]:
    """The keys of a subquery (`name_trigrams`, `facility_id`, in rank order) with their facilities' answers, in
    the same statement: the rows come from the keys' snapshot, so they pass the filters the keys passed."""
    return (
        select(keys.c.name_trigrams, *PUBLIC_COLUMNS)
        .join_from(keys, Facility, col(Facility.id) == keys.c.facility_id)
        .join(Enterprise, Enterprise.id == Facility.enterprise_id)  # type: ignore[arg-type]
        .order_by(keys.c.name_trigrams, keys.c.facility_id)
    )


def _keyed(found: list[Any]) -> list[tuple[Position, Row]]:
    return [((r[0], r[1]), dict(zip(PUBLIC_NAMES, r[1:], strict=True))) for r in found]


async def _with_rows(session: AsyncSession, keys: Any) -> list[tuple[Position, Row]]:
    return _keyed(list((await session.exec(_rows_of(keys))).all()))


async def _later_tiers(
    session: AsyncSession,
    filters: Filters,
    words: list[str],
    probed: list[ColumnElement[bool]],
    scanned: list[ColumnElement[bool]],
    start: tuple[int, Position | None],
    wanted: int,
    narrow: bool,
) -> list[Key]:
    """Up to `wanted` keys from `start` on (tier, position), through the rank index and the GIN indexes."""
    first: Stretch | None = None
    if not narrow:
        first = await _Tier(session, filters, probed[start[0]], scanned[start[0]]).first_stretch(start[1], wanted)
    sample: list[Key] = []
    if first is not None and len(first[0]) >= wanted:  # common words: the first stretch of the first tier holds it
        return [(start[0], *position) for position in first[0]]
    if first is None or not _dense(first[0], wanted):  # few matches in all? one probe ranks them, else samples
        complete, sample = await _few(session, filters, contains_all(col(Facility.search_text), words), probed, start)
        if complete:
            return sample[:wanted]
    keys: list[Key] = []
    tier, after, stretch = start[0], start[1], first
    while tier < len(probed) and len(keys) < wanted:
        reader = _Tier(session, filters, probed[tier], scanned[tier])
        tier_sample = [(n, i) for t, n, i in sample if t == tier]
        read = await reader.read(after, wanted - len(keys), stretch, tier_sample)
        keys += [(tier, *position) for position in read]
        tier, after, stretch = tier + 1, None, None
    return keys


async def _few(
    session: AsyncSession,
    filters: Filters,
    matches: ColumnElement[bool],
    tiers: list[ColumnElement[bool]],
    start: tuple[int, Position | None],
) -> tuple[bool, list[Key]]:
    """The matches after the cursor, ranked, from one probe through the GIN index of `search_text`: all of them
    (True) when there are at most `FEW` in all (rare words, one enterprise's facilities), else a sample."""
    whens = [(condition, number) for number, condition in enumerate(tiers[:-1])]
    tier = case(*whens, else_=len(tiers) - 1) if whens else literal(0)  # one tier: a query without letters or digits
    statement = filters(select(tier, Facility.name_trigrams, Facility.id)).where(matches).limit(FEW + 1)
    found = [(t, n, i) for t, n, i in (await session.exec(statement)).all()]
    first = (start[0], *start[1]) if start[1] is not None else None
    after = [key for key in found if (key > first if first is not None else key[0] >= start[0])]
    return len(found) <= FEW, sorted(after)
