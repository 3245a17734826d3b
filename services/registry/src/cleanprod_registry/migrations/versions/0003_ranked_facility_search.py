"""ranked facility search: the folded name as words, its trigram count, and the indexes that serve both

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:05:00

`name_words` is the accent-folded name with every run of non-alphanumerics turned into one space and a space at
each end, so `LIKE '% ha %'` means "the whole word ha" and `LIKE '% ha%'` "a word starting with ha" — patterns
whose trigrams (padded at word boundaries) the GIN trigram index turns into precise candidate sets.
`name_trigrams` is how many distinct trigrams pg_trgm finds in the folded name: when every word of a query is a
whole word of the name, similarity(query, name) = trigrams(query) / trigrams(name), so ordering by it ascending
is ordering by similarity (docs/performance.md "Facility search"). The B-tree on (name_trigrams, id) including
`name_words` is read in order, index-only, for queries of common words.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NAME_WORDS = "' ' || regexp_replace(cp_fold(name), '[^[:alnum:]]+', ' ', 'g') || ' '"
NAME_TRIGRAMS = "coalesce(array_length(show_trgm(cp_fold(name)), 1), 0)"


def upgrade() -> None:
    op.add_column("facilities", sa.Column("name_words", sa.Text(), sa.Computed(NAME_WORDS, persisted=True)))
    op.add_column("facilities", sa.Column("name_trigrams", sa.Integer(), sa.Computed(NAME_TRIGRAMS, persisted=True)))
    op.create_index(
        "ix_facilities_name_words",
        "facilities",
        ["name_words"],
        postgresql_using="gin",
        postgresql_ops={"name_words": "gin_trgm_ops"},
    )
    op.create_index("ix_facilities_rank", "facilities", ["name_trigrams", "id"], postgresql_include=["name_words"])


def downgrade() -> None:
    op.drop_index("ix_facilities_rank", table_name="facilities")
    op.drop_index("ix_facilities_name_words", table_name="facilities")
    op.drop_column("facilities", "name_trigrams")
    op.drop_column("facilities", "name_words")
