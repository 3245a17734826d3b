"""Facility search ranked by relevance (docs/performance.md "Facility search").

A facility matches when every word of the folded query appears in its `search_text` (name, address, ward,
district), as before. Matches come in tiers, best first:

0. every query word is a whole word of the name,
1. every query word starts a word of the name,
2. every query word appears inside the name,
3. the rest (some word only in the address, ward or district);

and within a tier by the name's trigram count, fewest first — for tier 0 exactly pg_trgm's similarity order, as
the query's trigrams are then all in the name's — and then by id. The cursor is that key: (tier, trigrams, id).

Each tier is read in one of two ways, so that neither a rare nor a common word makes a query scan the table:
a probe through the GIN trigram indexes returns the tier's keys when it has at most `PROBE` rows (then sorted
here), otherwise the tier is dense and read in key order from the B-tree `ix_facilities_rank`, filtered
index-only, until the page is full.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, and_, literal, not_, tuple_
from sqlalchemy.sql import Select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.pagination import decode_cursor, encode_cursor, invalid_cursor
from cleanprod_kit.search import contains_all, fold, tokens_of, words_of

from ..enterprises.models import Enterprise
from .models import Facility

PROBE = 500
"""A tier with more rows than this is read in key order from the B-tree instead of sorted."""

Filters = Callable[[Select[Any]], Select[Any]]
Key = tuple[int, int, uuid.UUID]


def _opaque(column: Any) -> Any:
    """The same text, as an expression no trigram index matches: the dense read must walk the B-tree."""
    return column.concat(literal(""))


def _tiers(words: list[str], tokens: list[str], opaque: bool) -> list[ColumnElement[bool]]:
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


def _decode(cursor: str | None, tiers: int) -> tuple[int, tuple[int, uuid.UUID] | None]:
    if not cursor:
        return 0, None
    tier, trigrams, last_id = decode_cursor(cursor, 3)
    if not (isinstance(tier, int) and 0 <= tier < tiers and isinstance(trigrams, int) and isinstance(last_id, str)):
        raise invalid_cursor(why="does not fit this list")
    try:
        return tier, (trigrams, uuid.UUID(last_id))
    except ValueError:
        raise invalid_cursor(why="does not fit this list") from None


def _after(after: tuple[int, uuid.UUID] | None) -> ColumnElement[bool] | None:
    if after is None:
        return None
    trigrams, last_id = col(Facility.name_trigrams), col(Facility.id)
    return tuple_(trigrams, last_id) > tuple_(literal(after[0], trigrams.type), literal(after[1], last_id.type))


async def _tier_keys(
    session: AsyncSession, filters: Filters, condition: ColumnElement[bool], after: ColumnElement[bool] | None
) -> list[tuple[int, uuid.UUID]] | None:
    """The tier's (trigrams, id) keys in order, or None when it has more than `PROBE` rows."""
    probe = filters(select(Facility.name_trigrams, Facility.id)).where(condition)
    if after is not None:
        probe = probe.where(after)
    keys = sorted((t, i) for t, i in (await session.exec(probe.limit(PROBE + 1))).all())
    return None if len(keys) > PROBE else keys


async def _dense_rows(
    session: AsyncSession,
    filters: Filters,
    condition: ColumnElement[bool],
    after: ColumnElement[bool] | None,
    limit: int,
) -> list[tuple[Facility, str]]:
    statement = filters(select(Facility, Enterprise.tax_code)).where(condition)
    if after is not None:
        statement = statement.where(after)
    statement = statement.order_by(col(Facility.name_trigrams), col(Facility.id)).limit(limit)
    return [(f, t) for f, t in (await session.exec(statement)).all()]


async def ranked_page(
    session: AsyncSession, filters: Filters, q: str, *, limit: int, cursor: str | None
) -> tuple[list[tuple[Facility, str]], str | None]:
    """One page of the facilities matching `q`, best first; `filters` adds the join, rights and list filters."""
    folded = await fold(session, q)
    words, tokens = words_of(folded), tokens_of(folded)
    probed, dense = _tiers(words, tokens, opaque=False), _tiers(words, tokens, opaque=True)
    tier, last = _decode(cursor, len(probed))
    page: list[tuple[Key, tuple[Facility, str] | None]] = []
    while tier < len(probed) and len(page) <= limit:
        after = _after(last)
        wanted = limit + 1 - len(page)
        keys = await _tier_keys(session, filters, probed[tier], after)
        if keys is None:
            rows = await _dense_rows(session, filters, dense[tier], after, wanted)
            page += [((tier, f.name_trigrams or 0, f.id), (f, t)) for f, t in rows]
        else:
            page += [((tier, t, i), None) for t, i in keys[:wanted]]
        tier, last = tier + 1, None
    missing = [key[2] for key, row in page if row is None]
    if missing:
        found = await session.exec(filters(select(Facility, Enterprise.tax_code)).where(col(Facility.id).in_(missing)))
        by_id = {f.id: (f, t) for f, t in found.all()}
        page = [(key, row or by_id.get(key[2])) for key, row in page]  # a row deleted meanwhile is left out
    next_cursor = encode_cursor(list(page[limit - 1][0])) if len(page) > limit else None
    return [row for _, row in page[:limit] if row is not None], next_cursor
