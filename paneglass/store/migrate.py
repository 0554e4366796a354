"""Bring a database's schema to this version of paneglass with Alembic.

Run by the writer when it opens a store, so a user's data survives upgrades:
every schema change ships as a migration in ``migrations/versions``.

Most starts find the schema current, and Alembic (a slow import, and a walk
of every migration script) is only loaded when a migration is due: the
newest revision is read from the migration files' ``revision`` and
``down_revision`` lines, and the database's from ``alembic_version`` with
one plain query. Anything unusual (several heads, a file that does not read
plainly) hands over to Alembic itself.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["alembic_config", "head_revision", "is_current", "stored_revision", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"
_ASSIGNMENT = re.compile(
    r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(?:\"([^\"]*)\"|'([^']*)'|(None))\s*$", re.M
)


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest revision, read from the migration files; ``None`` when that is not plain."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        found = {
            name: quoted or single or None
            for name, quoted, single, _none in _ASSIGNMENT.findall(script.read_text("utf-8"))
        }
        if "revision" not in found or found["revision"] is None or "down_revision" not in found:
            return None  # not a plain single-parent migration: let Alembic read it
        revisions.add(found["revision"])
        if found["down_revision"] is not None:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revision(connection: Connection) -> str | None:
    """The revision the database is at (``None``: a new database, or one Alembic never saw)."""
    try:
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:  # no such table (the caller's connection is rolled back on close)
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied, in one transaction (a current schema: no-op)."""
    head = head_revision()
    if head is not None:
        with engine.connect() as connection:
            if stored_revision(connection) == head:
                return
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration (viewers check, never migrate)."""
    head = head_revision()
    if head is None:
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision() == head
    with engine.connect() as connection:
        return stored_revision(connection) == head
