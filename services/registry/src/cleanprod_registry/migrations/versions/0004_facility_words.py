"""facility words: one row per word of a facility's folded name, in rank order, kept by triggers

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:50:00

The whole-word tier of a ranked search (docs/performance.md "Facility search") reads the rarest query word's rows
from the B-tree `(word, name_trigrams, facility_id) INCLUDE (name_words)` — already in the list's order — and
checks the other words on `name_words`, index-only: at a million facilities neither a GIN probe of common trigrams
nor a long range of the rank index is needed. The rows are the distinct space-separated words of `name_words`, so
"`w` is a row of the facility" is exactly "`name_words LIKE '% w %'`".

Statement-level triggers with transition tables keep the table in step in the same transaction — for the service's
writes, for COPY (the benchmark's seed), plain SQL and TRUNCATE — and a rename rewrites only the renamed rows' words.
`word` sorts bytewise (collation "C"): equality needs no locale, and a prefix is a range. Its statistics target is
raised so the most common words are known (the search drives with the least common one).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The distinct words of each row of a transition table `rows` (name_words is ' w1 w2 … ').
WORDS_OF = """
    SELECT DISTINCT word, r.name_trigrams, r.id AS facility_id, r.name_words
    FROM {rows} r, unnest(string_to_array(btrim(r.name_words), ' ')) AS word
    WHERE word <> '' {changed}
"""
# an update's rows whose name changed (their words are replaced; other updates leave the words alone)
RENAMED = (
    "AND NOT EXISTS (SELECT 1 FROM {other} o WHERE o.id = r.id AND o.name_words = r.name_words "
    "AND o.name_trigrams = r.name_trigrams)"
)

SYNC = f"""
CREATE FUNCTION facility_words_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO facility_words (word, name_trigrams, facility_id, name_words)
        {WORDS_OF.format(rows="new_rows", changed="")};
    ELSIF TG_OP = 'UPDATE' THEN
        DELETE FROM facility_words w USING ({WORDS_OF.format(rows="old_rows", changed=RENAMED.format(other="new_rows"))}) d
        WHERE w.word = d.word AND w.name_trigrams = d.name_trigrams AND w.facility_id = d.facility_id;
        INSERT INTO facility_words (word, name_trigrams, facility_id, name_words)
        {WORDS_OF.format(rows="new_rows", changed=RENAMED.format(other="old_rows"))};
    ELSIF TG_OP = 'TRUNCATE' THEN
        TRUNCATE facility_words;
    ELSE
        DELETE FROM facility_words w USING ({WORDS_OF.format(rows="old_rows", changed="")}) d
        WHERE w.word = d.word AND w.name_trigrams = d.name_trigrams AND w.facility_id = d.facility_id;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "facility_words",
        sa.Column("word", sa.Text(collation="C"), nullable=False),
        sa.Column("name_trigrams", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Uuid(), nullable=False),
        sa.Column("name_words", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "word", "name_trigrams", "facility_id", name="facility_words_pkey", postgresql_include=["name_words"]
        ),
    )
    op.execute("ALTER TABLE facility_words ALTER COLUMN word SET STATISTICS 1000")
    op.execute(SYNC)
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER facility_words_{event.lower()} AFTER {event} ON facilities "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION facility_words_sync()"
        )
    op.execute(
        "CREATE TRIGGER facility_words_truncate AFTER TRUNCATE ON facilities "
        "FOR EACH STATEMENT EXECUTE FUNCTION facility_words_sync()"
    )
    op.execute(
        "INSERT INTO facility_words (word, name_trigrams, facility_id, name_words) "
        + WORDS_OF.format(rows="facilities", changed="")
    )


def downgrade() -> None:
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER facility_words_{event} ON facilities")
    op.execute("DROP FUNCTION facility_words_sync()")
    op.drop_table("facility_words")
