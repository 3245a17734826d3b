"""Accent-insensitive search: the query is folded with the same `cp_fold` SQL function that fills the indexed
`search_text` columns, and every word must appear (a trigram GIN index serves the LIKE).

`fold` folds a query once, in one round trip, so a statement compares columns with plain parameters:
`cp_fold(:word)` inside a generically prepared statement is evaluated once per rechecked row."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, select
from sqlmodel.ext.asyncio.session import AsyncSession

MAX_WORDS = 8
_TOKEN = re.compile(r"[^\W_]+")  # runs of letters and digits, as pg_trgm and `[[:alnum:]]` split words


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matches_all_words(column: Any, query: str) -> ColumnElement[bool] | None:
    words = [w for w in query.split() if w][:MAX_WORDS]
    if not words:
        return None
    return and_(*[column.like(literal("%") + func.cp_fold(_escape_like(w)) + literal("%"), escape="\\") for w in words])


async def fold(session: AsyncSession, query: str) -> str:
    """`query` folded by `cp_fold` itself (the fold of the indexed columns), in one statement."""
    return str(await session.scalar(select(func.cp_fold(query))))


def words_of(folded: str) -> list[str]:
    """The words of a folded query that must each appear (at most `MAX_WORDS`)."""
    return folded.split()[:MAX_WORDS]


def tokens_of(folded: str) -> list[str]:
    """The letters-and-digits runs of a folded query, for whole-word and prefix matches (at most `MAX_WORDS`)."""
    return _TOKEN.findall(folded)[:MAX_WORDS]


def contains_all(column: Any, words: list[str], *, before: str = "%", after: str = "%") -> ColumnElement[bool]:
    """Every already folded word appears in `column`, between `before` and `after` (LIKE; the words' own `%` and
    `_` are literal): on space-padded words, `before="% "` with `after=" %"` means a whole word, `before="% "` alone
    a word prefix."""
    return and_(*[column.like(f"{before}{_escape_like(w)}{after}", escape="\\") for w in words])
