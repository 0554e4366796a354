"""A new SQLite store as a copy of an empty, migrated one, kept per schema version.

Migrating a new file runs every Alembic migration: about half a second, most of
what ``paneglass demo`` spent before its first frame, and the same result every
time for one version of the schema. So the empty database is built once into
the user's cache folder, named by the newest revision, and copied (a
millisecond). A cached file that is missing, stale or unreadable is rebuilt.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import platformdirs

from paneglass.paths import APP
from paneglass.store.migrate import head_revision

__all__ = ["new_sqlite_store", "template_path"]


def template_path() -> Path | None:
    """Where the empty database of this schema version is kept (``None``: migrations that
    do not read plainly, so there is no version to name it by)."""
    head = head_revision()
    if head is None:
        return None
    return Path(platformdirs.user_cache_dir(APP)) / f"empty-store-{head}.db"


def new_sqlite_store(path: Path) -> None:
    """Create ``path`` as an empty store at the newest schema version."""
    from paneglass.store import Store

    template = template_path()
    if template is None:
        Store(f"sqlite:///{path}").close()
        return
    if not _readable(template):
        template.parent.mkdir(parents=True, exist_ok=True)
        building = template.with_name(f"{template.name}.{os.getpid()}.building")
        building.unlink(missing_ok=True)
        Store(f"sqlite:///{building}").close()
        with sqlite3.connect(building) as conn:  # everything into the main file, none in a WAL
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        for leftover in (building.with_name(building.name + s) for s in ("-wal", "-shm")):
            leftover.unlink(missing_ok=True)
        os.replace(building, template)  # atomic: a concurrent start copies a whole file
    shutil.copyfile(template, path)


def _readable(template: Path) -> bool:
    if not template.exists():
        return False
    try:
        with sqlite3.connect(f"file:{template}?mode=ro", uri=True) as conn:
            ok = bool(conn.execute("PRAGMA quick_check").fetchone()[0] == "ok")
        conn.close()
    except sqlite3.Error:
        ok = False
    if not ok:
        template.unlink(missing_ok=True)
    return ok
