"""Engines tuned per backend: SQLite in WAL mode with a single immediate-mode writer.

SQLite (Python 3.11 bundles 3.40): WAL so viewers read while the collector
writes; ``synchronous=NORMAL`` (committed data survives a killed process);
a busy timeout; writers open transactions with ``BEGIN IMMEDIATE`` so a
read-then-write transaction never fails with SQLITE_BUSY half-way. pysqlite's
own transaction handling is switched off so SQLAlchemy's ``begin`` event
decides (the recipe from SQLAlchemy's SQLite dialect notes).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from paneglass.errors import UserError

__all__ = ["READ_ONLY", "make_engine", "reading", "sqlite_path", "yield_to_waiting_writers"]

BUSY_TIMEOUT_MS = 10_000
WRITER_CACHE_KIB = 32 * 1024
"""A writer's page cache (SQLite's default is 2 MB): a page of tickets touches a leaf of
each of the ticket table's ten indexes and its full-text index, all over a large store."""
WRITER_CHECKPOINT_PAGES = 10_000
"""Pages (4 kB) the WAL grows to before a writer copies it into the database (default
1,000): index pages that change in every commit are copied back once, not every few."""
READ_ONLY = "paneglass_read_only"
"""Execution option of a connection that only reads: its transaction starts deferred."""


_waiting: Counter[Path] = Counter()
"""Per SQLite file, how many writers of this process wait for its write lock right now."""
_waiting_lock = threading.Lock()


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or ``None`` for other backends and memory DBs."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str, *, writer: bool) -> Engine:
    """An engine for ``url``; ``writer`` selects ``BEGIN IMMEDIATE`` on SQLite."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(
            f"--db {url!r} is not a database URL (e.g. sqlite:///path/file.db)"
        ) from None
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    path = sqlite_path(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"cannot create database folder {path.parent}: {exc.strerror}"
            ) from None
    engine = create_engine(url, connect_args={"check_same_thread": False})
    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the 'begin' hook below decide
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if path is not None:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        if writer and path is not None:
            cursor.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A read (see :func:`reading`) never queues for the write lock, even on a writer.
        reads = connection.get_execution_options().get(READ_ONLY, False)
        if reads or not writer or path is None:
            connection.exec_driver_sql("BEGIN" if reads else begin)
            return
        key = path.resolve()
        with _waiting_lock:
            _waiting[key] += 1
        try:
            connection.exec_driver_sql(begin)
        finally:
            with _waiting_lock:
                _waiting[key] -= 1

    return engine


def yield_to_waiting_writers(engine: Engine, *, longest: float = 5.0) -> None:
    """Wait (at most ``longest`` seconds) while another writer of this process waits for the
    write lock of ``engine``'s SQLite file: a long series of commits (a replay) calls it
    between commits so a collector beside it gets its turn at once, where SQLite's busy wait,
    which is no queue, could leave it starving (it failed with "database is locked")."""
    path = sqlite_path(str(engine.url))
    if path is None:
        return
    key = path.resolve()
    deadline = time.monotonic() + longest
    while _waiting.get(key, 0) > 0 and time.monotonic() < deadline:
        time.sleep(0.005)


def reading(engine: Engine) -> Connection:
    """A connection for reads only: on SQLite it starts a deferred transaction, so a check
    made while another process writes (a replay, a collector's page) reads the last commit
    instead of waiting for the write lock and failing with "database is locked"."""
    if not isinstance(engine, Engine):  # a stand-in (time travel's) reads in its own way
        return cast(Connection, engine.connect())
    return engine.connect().execution_options(**{READ_ONLY: True})
