"""Test isolation: no user config, data dir or paneglass env var leaks into a test."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.pg_server import find_pg_bin, postgres_server

_names = itertools.count()


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    for name in ("PANEGLASS_CONFIG", "PANEGLASS_DB"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite file for one test."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(scope="session")
def pg_root() -> Iterator[str | None]:
    """A PostgreSQL server for the session (``None`` where none is installed, outside CI)."""
    if find_pg_bin() is None:
        if os.environ.get("CI"):
            raise RuntimeError("CI must run the store suite on PostgreSQL too")
        yield None
        return
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, db_url: str, pg_root: str | None) -> str:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return db_url
    if pg_root is None:
        pytest.skip("no PostgreSQL server binaries installed")
    name = f"t{os.getpid()}_{next(_names)}"
    admin = create_engine(pg_root + "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg_root + name
