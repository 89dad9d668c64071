"""Indexed search of needs' titles and descriptions, for Chinese two-character words too.

Chinese text has no spaces, and the trigram tokenizers of SQLite FTS5 and pg_trgm cannot
look up a two-character word such as 焊接. So every need stores, in `needs.search_terms`,
the distinct character bigrams of its title and description (焊接工艺 -> 焊接 接工 工艺),
computed in Python when the row is written, identically on both databases. The index over
them is SQLite's FTS5 (table `needs_fts`, kept in step by triggers, so bulk INSERTs and
DELETEs are covered too) or a PostgreSQL GIN index on the array of terms.

A query's bigrams must all be present (a necessary condition for containing the query);
the candidate rows are then checked with the same case-insensitive substring test as
before, so results are exactly those of `LIKE '%q%'`, only found through the index.
Queries without any bigram (one character) fall back to the substring test alone.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import DDL, Table, and_, event, func, literal_column, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Text

FTS_TABLE = "needs_fts"
PG_INDEX = "ix_needs_search_terms"
# Database objects the models do not describe (autogenerate must leave them alone).
SEARCH_OBJECTS = frozenset({PG_INDEX, FTS_TABLE})

SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(search_terms, "
    "content='needs', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON needs BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, search_terms) VALUES (new.id, new.search_terms); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON needs BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_terms) "
    "VALUES ('delete', old.id, old.search_terms); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF search_terms ON needs BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_terms) "
    "VALUES ('delete', old.id, old.search_terms); "
    f"INSERT INTO {FTS_TABLE}(rowid, search_terms) VALUES (new.id, new.search_terms); END",
]
SQLITE_DROP = [f"DROP TABLE IF EXISTS {FTS_TABLE}"]
PG_DDL = [
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON needs USING gin (string_to_array(search_terms, ' '))"
]
PG_DROP = [f"DROP INDEX IF EXISTS {PG_INDEX}"]


def _is_word_char(ch: str) -> bool:
    # Letters and digits are what FTS5's unicode61 tokenizer keeps inside a token; using
    # the same rule here means a bigram is always exactly one token there.
    return unicodedata.category(ch)[0] in "LN"


def _fold(ch: str) -> str:
    low = ch.lower()
    # A few characters lower-case to two; keeping them as they are keeps one char per char.
    return low if len(low) == 1 else ch


def bigrams(value: str) -> list[str]:
    """Distinct lower-cased two-character bigrams of each run of letters/digits in value."""
    out: dict[str, None] = {}
    run: list[str] = []
    for ch in [*value, " "]:
        if _is_word_char(ch):
            run.append(_fold(ch))
            continue
        for i in range(len(run) - 1):
            out[run[i] + run[i + 1]] = None
        run = []
    return list(out)


def search_terms(*texts: str | None) -> str:
    """The value of needs.search_terms for a title and description: space-separated bigrams."""
    out: dict[str, None] = {}
    for value in texts:
        for term in bigrams(value or ""):
            out[term] = None
    return " ".join(out)


def default_search_terms(context: Any) -> str:
    """Column default: terms of the row's title and description (single and bulk INSERTs)."""
    params = context.get_current_parameters()
    return search_terms(params.get("title"), params.get("description"))


def indexed_match(dialect: str, column: Any, id_column: Any, terms: list[str]) -> ColumnElement:
    if dialect == "sqlite":
        expr = " ".join(f'"{t}"' for t in terms)
        ids = (
            select(literal_column("rowid"))
            .select_from(text(FTS_TABLE))
            .where(text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=expr))
        )
        return id_column.in_(ids)
    if dialect == "postgresql":
        # The expression must be the index's own, with the separator inlined, to use it.
        array = func.string_to_array(column, literal_column("' '"), type_=ARRAY(Text))
        # A subquery of ids (one GIN bitmap scan, hashed), not a per-row test: beside the
        # company-name OR, the planner otherwise split every row's terms (5 s at 300,000).
        ids = select(id_column).where(array.op("@>")(func.cast(terms, ARRAY(Text))))
        return id_column.in_(ids.correlate(None))
    return and_(*(column.contains(t, autoescape=True) for t in terms))


def need_text_clause(dialect: str, q: str) -> ColumnElement:
    """Need rows whose title or description contains q (case-insensitively), via the index."""
    from needs_tracker.needs.models import Need

    exact = or_(
        Need.title.icontains(q, autoescape=True), Need.description.icontains(q, autoescape=True)
    )
    terms = bigrams(q)
    if not terms:
        return exact
    return and_(indexed_match(dialect, Need.search_terms, Need.id, terms), exact)


def install(table: Table) -> None:
    """Create and drop the search index with the needs table (create_all, drop_all)."""
    for stmt in SQLITE_DDL:
        event.listen(table, "after_create", DDL(stmt).execute_if(dialect="sqlite"))
    for stmt in PG_DDL:
        event.listen(table, "after_create", DDL(stmt).execute_if(dialect="postgresql"))
    for stmt in SQLITE_DROP:
        event.listen(table, "before_drop", DDL(stmt).execute_if(dialect="sqlite"))


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic autogenerate filter: skip the search index objects the models do not list."""
    return not (name and (name == PG_INDEX or name.startswith(FTS_TABLE)))
