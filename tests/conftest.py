"""Test isolation, and one PostgreSQL server for the whole run.

No user config, data dir or paneglass env var leaks into a test. The
PostgreSQL server is started once by the controlling pytest process (under
pytest-xdist, before the workers exist) and every worker creates its own
databases on it; under ``CI`` a machine without PostgreSQL fails the run
instead of skipping the PostgreSQL half.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.pg_server import find_pg_bin, postgres_server

_names = itertools.count()
PG_ROOT_ENV = "PANEGLASS_TEST_PG_ROOT"
"""The shared server's URL prefix, handed from the controller to the xdist workers."""
_server: contextlib.ExitStack | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Start the run's one PostgreSQL server (in the controller only)."""
    global _server
    if hasattr(config, "workerinput") or os.environ.get(PG_ROOT_ENV):
        return  # an xdist worker: the controller's server is in the environment
    if find_pg_bin() is None:
        if os.environ.get("CI"):
            raise pytest.UsageError(
                "CI must run the PostgreSQL half too, but no PostgreSQL server binaries "
                "are installed (/usr/lib/postgresql/*/bin/initdb): install postgresql"
            )
        return
    _server = contextlib.ExitStack()
    os.environ[PG_ROOT_ENV] = _server.enter_context(postgres_server())


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the server the controller started."""
    global _server
    if _server is not None:
        _server.close()
        _server = None
        os.environ.pop(PG_ROOT_ENV, None)


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for name in ("PANEGLASS_CONFIG", "PANEGLASS_DB"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite file for one test."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(scope="session")
def pg_root() -> str | None:
    """The run's PostgreSQL server (``None`` where none is installed, outside CI)."""
    return os.environ.get(PG_ROOT_ENV)


@pytest.fixture
def pg_database(pg_root: str | None) -> str:
    """A fresh, empty PostgreSQL database of this test's own (skips where there is no server)."""
    if pg_root is None:
        pytest.skip("no PostgreSQL server binaries installed")
    name = f"t{os.getpid()}_{next(_names)}"
    admin = create_engine(pg_root + "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg_root + name


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, db_url: str) -> str:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return db_url
    return str(request.getfixturevalue("pg_database"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: xdist hands out work in collection order, so a long test
    started last would leave the other worker idle at the end of the run."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: three workers for every two cores. Many tests spend their time
    waiting (on a subprocess, a loopback vendor or an SLA clock running out), so a
    worker per core leaves the CPU a quarter idle."""
    return max(2, (os.cpu_count() or 1) * 3 // 2)
