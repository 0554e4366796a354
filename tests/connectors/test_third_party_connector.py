"""A connector shipped as its own package is found through the entry point, and works.

The example package in ``tests/connectors/example_package`` is what a third
party publishes (see docs/connectors.md). It is installed here with pip into
a folder of its own, never into the test environment, and the real
``paneglass`` commands then run with that folder on the path: ``check``
reaches its API, ``collect --once`` stores its tickets, ``export`` shows them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from connectors.emulators.base import Emulator, Reply, Request

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(__file__).parent / "example_package"
TOKEN = "example-token-7f3a"


class ExampleDeskApi(Emulator):
    """The imaginary Example Desk API the example connector reads (see its docstring)."""

    kind: ClassVar[str] = "example-desk"

    def __init__(self) -> None:
        super().__init__()
        now = datetime.now(UTC)
        old = (now - timedelta(days=400)).isoformat()
        self.tickets: list[dict[str, Any]] = [
            {
                "id": n,
                "title": f"printer {n}",
                "state": "open",
                "priority": "P2",
                "created": old,
                "updated": old,
            }
            for n in range(1, 8)
        ]

    def vendor_settings(self) -> dict[str, Any]:
        return {"kind": "example-desk", "token": TOKEN, "page_size": 3}

    def route(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Reply(401, {"error": "bad token"})
        after = int(request.param("after", "0") or 0)
        limit = int(request.param("limit", "100") or 100)
        rows = [t for t in self.tickets if t["id"] > after]
        if request.param("open") == "1":
            rows = [t for t in rows if t["state"] != "done"]
        page = rows[:limit]
        more = len(rows) > limit
        return Reply(200, {"tickets": page, "next_after": page[-1]["id"] if more else None})


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",  # the dev extras carry setuptools: no index needed
            "--target",
            str(target),
            str(PACKAGE),
        ],
        check=True,
        capture_output=True,
    )
    return target


def _paneglass(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", "paneglass", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_installed_package_is_a_vendor_kind(installed: Path, tmp_path: Path) -> None:
    with ExampleDeskApi() as api:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[vendors.partner]\nkind = "example-desk"\nbase_url = "{api.base_url}"\n'
            f'token = "{TOKEN}"\npage_size = 3\n'
        )
        db = f"sqlite:///{tmp_path / 'store.db'}"
        checked = _paneglass(installed, "check", "--config", str(config))
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "partner" in checked.stdout and "example-desk" in checked.stdout
        assert "ok" in checked.stdout
        collected = _paneglass(installed, "collect", "--once", "--config", str(config), "--db", db)
        assert collected.returncode == 0, collected.stdout + collected.stderr
        exported = _paneglass(installed, "export", "--format", "json", "--db", db)
    tickets = json.loads(exported.stdout)
    # Every open ticket, although all are older than the backfill window, paged 3 at a time.
    assert sorted(t["key"] for t in tickets) == [f"EX-{n}" for n in range(1, 8)]
    assert {t["vendor"] for t in tickets} == {"partner"} and {t["kind"] for t in tickets} == {
        "example-desk"
    }
    assert TOKEN not in exported.stdout + collected.stdout + checked.stdout


def test_without_the_package_the_kind_is_unknown_and_named(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[vendors.partner]\nkind = "example-desk"\nbase_url = "http://127.0.0.1:9"\n')
    result = _paneglass(tmp_path, "check", "--config", str(config))
    assert result.returncode == 2
    assert "unknown vendor kind 'example-desk'" in result.stderr
