"""Free-word search over titles, descriptions and conversations, kept fast by real indexes.

The filter's free words (``cannot print``, ``INC0012231``, ``49.4C02``,
``OPS-812``) are answered by full-text indexes, never by scanning rows:

* **SQLite**: one FTS5 index, ``ticket_search``, with one document per
  ticket: key, title, description, requester, assignee and the whole
  conversation (the view ``ticket_document``), over external content (no
  second copy of the text). Its rowids are ticket ids, so a search over
  five million conversation entries needs no lookup per entry, every free
  word of a filter is one ``MATCH`` (the index intersects them), and a
  filter of free words alone is counted in the index without reading a row.
  Triggers keep it when a ticket is written, whichever code path writes it;
  :func:`forget_conversations` and :func:`index_conversations` keep it when
  entries are written (:mod:`paneglass.store.conversations`), both in the
  writing transaction.
* **PostgreSQL**: GIN indexes over ``to_tsvector('simple', …)`` of the
  ticket's text and of each entry's body, which the server keeps in the
  writing transaction.

Tokenizer, chosen for words *and* ticket numbers: runs of letters and digits,
everything else a separator, case folded (SQLite ``unicode61
remove_diacritics 2``; PostgreSQL the ``simple`` configuration over the text
with every non-alphanumeric run replaced by a space, because its own parser
reads ``OPS-812`` as ``ops`` and ``-812`` and ``49.4C02`` as ``49.4`` and
``c02``). A query word is cut the same way and its runs must follow each
other, the last one as a prefix: ``print`` finds ``printer``, ``INC0012231``
finds itself, ``49.4C02`` is ``49`` then ``4c02…``, ``OPS-812`` is ``ops``
then ``812…`` (and ``812`` alone finds it too). A stemmer (porter, ``english``)
was not used: it folds words but mangles codes and names, which are most of
what a service desk searches for. The trigram tokenizer would find any
substring, but its index is several times the text's size, too much for
millions of conversation entries.

Each free word must match the ticket somewhere: its own fields or its
conversation (each word on its own, as the filter always worked). Regular
expressions still scan key, title, description, requester and assignee
(never the conversations: that would read every body).

A migration that rebuilds the ``ticket`` table (Alembic batch mode on SQLite)
must re-create the triggers of ``ticket_search`` (migration 0004).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.sql.elements import ColumnElement

from paneglass.store.tables import ENTRIES, TICKETS
from paneglass.store.views import SearchMatch

__all__ = [
    "SEARCH_OBJECTS",
    "Plan",
    "SearchWord",
    "count_matching",
    "declared_in_models",
    "forget_conversations",
    "index_conversations",
    "matches_for",
    "rebuild",
    "runs_of",
    "search_word",
    "words_condition",
]

SEARCH_OBJECTS = frozenset(
    {"ticket_search", "ticket_document", "ix_ticket_search", "ix_entry_search"}
)
"""Search tables and indexes the migration makes outside the models (FTS5, GIN expressions)."""

_RUN = re.compile(r"[^\W_]+")
_PG_TICKET_WORDS = (
    "to_tsvector('simple'::regconfig, regexp_replace(coalesce(ticket.key, '') || ' ' || "
    "coalesce(ticket.title, '') || ' ' || coalesce(ticket.description, '') || ' ' || "
    "coalesce(ticket.requester, '') || ' ' || coalesce(ticket.assignee, ''), "
    "'[^[:alnum:]]+', ' ', 'g'))"
)
_PG_ENTRY_WORDS = (
    "to_tsvector('simple'::regconfig, regexp_replace(ticketentry.body, '[^[:alnum:]]+', ' ', 'g'))"
)
_TICKET_FTS = table("ticket_search", column("rowid"), column("ticket_search"))
_WHERE = {"public": "reply", "internal": "note", "system": "system entry"}
_SNIPPET_WORDS = 14


def declared_in_models(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name``: False for the search objects, which no model declares."""
    if name is None:
        return True
    return not any(name == obj or name.startswith(f"{obj}_") for obj in SEARCH_OBJECTS)


def _fold(text: str) -> str:
    """Lower case without diacritics, as ``unicode61 remove_diacritics 2`` compares."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class SearchWord:
    """One free word of the filter, cut into runs of letters and digits."""

    text: str
    runs: tuple[str, ...]
    """Lower-cased runs (PostgreSQL compares accents as they are)."""
    folded: tuple[str, ...]
    """The runs also without diacritics (as SQLite's index and the labels compare)."""

    def fts5(self) -> str:
        """The FTS5 query: ``"print"*``, ``"49 4c02"*`` (runs are alphanumeric: no syntax)."""
        return '"' + " ".join(self.folded) + '"*'

    def tsquery(self) -> Any:
        """The PostgreSQL query for the same word: ``'49' <-> '4c02':*``."""
        return func.to_tsquery("simple", " <-> ".join(self.runs) + ":*")

    def found_in(self, text: str | None) -> bool:
        """Whether ``text`` holds this word as the index would find it (for labels only)."""
        if not text:
            return False
        folded = _fold(text)
        return self.folded[-1] in folded and self.found_in_runs(_RUN.findall(folded))

    def found_in_runs(self, runs: Sequence[str]) -> bool:
        """The same, on text already cut by :func:`runs_of`."""
        *whole, last = self.folded
        for start in range(len(runs) - len(whole)):
            if runs[start : start + len(whole)] == whole and runs[start + len(whole)].startswith(
                last
            ):
                return True
        return False


def runs_of(text: str) -> list[str]:
    """Text cut and folded as the index cuts it: runs of letters and digits."""
    return _RUN.findall(_fold(text))


def search_word(text: str) -> SearchWord | None:
    """The searchable form of one free word; ``None`` when it holds no letter or digit."""
    runs = tuple(run.lower() for run in _RUN.findall(text))
    if not runs:
        return None
    return SearchWord(text, runs, tuple(_fold(run) for run in runs))


def _pg_tickets_matching(word: SearchWord) -> Any:
    """PostgreSQL: ids of tickets whose own text holds ``word`` or one of whose entries does."""
    query = word.tsquery()
    own = select(TICKETS.c.id).where(literal_column(_PG_TICKET_WORDS).op("@@")(query))
    talk = select(ENTRIES.c.ticket_id).where(
        literal_column(_PG_ENTRY_WORDS).op("@@")(query), ENTRIES.c.ticket_id.is_not(None)
    )
    return own.union(talk)


def _fts5_query(words: Sequence[SearchWord]) -> Any:
    """One FTS5 query holding every word (FTS5 intersects them itself)."""
    return bindparam("fts", " AND ".join(word.fts5() for word in words), unique=True)


class Plan(StrEnum):
    """How a window finds the tickets that hold the free words (SQLite)."""

    MATCHES_FIRST = "matches first"
    """Collect every match, then sort them: the way for words few tickets hold."""
    LIST_WALK = "list walk"
    """Collect the matches into a list once, then walk the sort index and keep the tickets
    on the list: the first rows come after a short walk when many tickets match."""
    PROBE_WALK = "probe walk"
    """Walk the sort index and ask the index about each ticket: only for words nearly
    every ticket holds (a probe that misses a prefix word costs milliseconds)."""


def words_condition(
    dialect: str, words: Sequence[SearchWord], plan: Plan = Plan.MATCHES_FIRST
) -> ColumnElement[bool]:
    """A WHERE condition on ``ticket``: every word is in its fields or its conversation."""
    if dialect == "postgresql":
        return and_(*(TICKETS.c.id.in_(_pg_tickets_matching(word)) for word in words))
    matched = _TICKET_FTS.c.ticket_search.op("MATCH")(_fts5_query(words))
    if plan is Plan.PROBE_WALK:
        return exists().select_from(_TICKET_FTS).where(matched, _TICKET_FTS.c.rowid == TICKETS.c.id)
    found = select(_TICKET_FTS.c.rowid).where(matched)
    if plan is Plan.LIST_WALK:
        # ``id + 0`` is no indexed column: SQLite cannot drive the query from the list and
        # so walks the ORDER BY's index, testing each ticket against the list built once.
        return (TICKETS.c.id + 0).in_(found)
    return TICKETS.c.id.in_(found)


def count_matching(conn: Connection, words: Sequence[SearchWord]) -> int | None:
    """Tickets holding every word, counted in the index alone (SQLite); ``None`` elsewhere."""
    if conn.dialect.name != "sqlite" or not words:
        return None
    stmt = (
        select(func.count())
        .select_from(_TICKET_FTS)
        .where(_TICKET_FTS.c.ticket_search.op("MATCH")(_fts5_query(words)))
    )
    return int(conn.execute(stmt).scalar_one())


def forget_conversations(conn: Connection, ticket_ids: Iterable[int]) -> None:
    """Before these tickets' entries change: take their documents out of the index (SQLite).

    The text removed is read from the same view the index was filled from,
    so it is exactly what was indexed. PostgreSQL indexes each entry itself.
    """
    _reindex(
        conn,
        ticket_ids,
        "INSERT INTO ticket_search(ticket_search, rowid, {0}) SELECT 'delete', id, {0}",
    )


def index_conversations(conn: Connection, ticket_ids: Iterable[int]) -> None:
    """After these tickets' entries changed: index their documents as they are now (SQLite)."""
    _reindex(conn, ticket_ids, "INSERT INTO ticket_search(rowid, {0}) SELECT id, {0}")


_DOCUMENT = "key, title, description, requester, assignee, conversation"


def _reindex(conn: Connection, ticket_ids: Iterable[int], head: str) -> None:
    if conn.dialect.name != "sqlite":
        return
    for chunk in _chunks(sorted(set(ticket_ids))):
        conn.exec_driver_sql(
            head.format(_DOCUMENT) + f" FROM ticket_document WHERE id IN ({_marks(chunk)})",
            tuple(chunk),
        )


def rebuild(conn: Connection) -> None:
    """Re-index every ticket document from scratch (after a bulk load that bypassed the store)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO ticket_search(ticket_search) VALUES ('rebuild')")


def _chunks(items: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _marks(chunk: Sequence[int]) -> str:
    return ", ".join("?" * len(chunk))


def snippet(text: str, words: Sequence[SearchWord]) -> tuple[tuple[str, bool], ...]:
    """A few words of ``text`` around the first match, as (text, matched) parts, on one line."""
    tokens = list(re.finditer(r"\S+", text))
    hits = [index for index, token in enumerate(tokens) if any(w.found_in(token[0]) for w in words)]
    if not hits:
        return ()
    start = max(hits[0] - 4, 0)
    end = min(start + _SNIPPET_WORDS, len(tokens))
    parts: list[tuple[str, bool]] = [("…", False)] if start else []
    for index in range(start, end):
        if index > start:
            parts.append((" ", False))
        parts.append((tokens[index][0], index in hits))
    if end < len(tokens):
        parts.append(("…", False))
    return tuple(parts)


def matches_for(
    conn: Connection, words: Sequence[SearchWord], rows: Iterable[Any], most: int = 5000
) -> dict[int, SearchMatch]:
    """Where the words matched each of a window's tickets, for its second line.

    The ticket's own fields when they hold every word (the row shows them);
    else the newest conversation entry holding any of the words; else the
    description. Only the window's entries are read (newest first, at most
    ``most``) and matched here, the way the index cuts words: asking the index
    about each entry would cost more than the search itself.
    """
    rows = list(rows)
    if not words or not rows:
        return {}
    found: dict[int, SearchMatch] = {}
    for row in rows:
        fields = {
            name: value
            for name, value in (
                ("key", row.key),
                ("title", row.title),
                ("requester", row.requester),
                ("assignee", row.assignee),
            )
            if any(word.found_in(value) for word in words)
        }
        if fields and all(any(w.found_in(v) for v in fields.values()) for w in words):
            found[row.id] = SearchMatch(", ".join(fields), None, None, ())
    rest = [row.id for row in rows if row.id not in found]
    if not rest:
        return found
    entries = conn.execute(
        select(
            ENTRIES.c.ticket_id,
            ENTRIES.c.author,
            ENTRIES.c.created_at,
            ENTRIES.c.visibility,
            ENTRIES.c.body,
        )
        .where(ENTRIES.c.ticket_id.in_(rest))
        .order_by(ENTRIES.c.created_at.desc(), ENTRIES.c.id.desc())
        .limit(most)
    )
    for ticket_id, author, at, visibility, body in entries:
        if ticket_id in found:
            continue
        if any(word.found_in(body) for word in words):
            parts = snippet(body, words) or ((" ".join(body.split()[:_SNIPPET_WORDS]), False),)
            found[ticket_id] = SearchMatch(_WHERE.get(visibility, "reply"), author, at, parts)
    missing = [ticket_id for ticket_id in rest if ticket_id not in found]
    if missing:
        for ticket_id, description in conn.execute(
            select(TICKETS.c.id, TICKETS.c.description).where(
                and_(TICKETS.c.id.in_(missing), TICKETS.c.description.is_not(None))
            )
        ):
            parts = snippet(description, words)
            if parts:
                found[ticket_id] = SearchMatch("description", None, None, parts)
    for ticket_id in missing:
        found.setdefault(ticket_id, SearchMatch("ticket", None, None, ()))
    return found
