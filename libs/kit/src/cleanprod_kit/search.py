"""Accent-insensitive search: the query is folded with the same `cp_fold` SQL function that fills the indexed
`search_text` columns, and every word must appear (a trigram GIN index serves the LIKE)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal

MAX_WORDS = 8


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matches_all_words(column: Any, query: str) -> ColumnElement[bool] | None:
    words = [w for w in query.split() if w][:MAX_WORDS]
    if not words:
        return None
    return and_(*[column.like(literal("%") + func.cp_fold(_escape_like(w)) + literal("%"), escape="\\") for w in words])
