"""A new SQLite store is a copy of an empty migrated one, built once per schema version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from paneglass.store import Store
from paneglass.store.engine import make_engine
from paneglass.store.migrate import is_current
from paneglass.store.template import new_sqlite_store, template_path

ROOT = Path(__file__).resolve().parents[2]


def test_the_copy_is_a_current_store_that_holds_nothing(tmp_path: Path) -> None:
    new_sqlite_store(tmp_path / "a.db")
    template = template_path()
    assert template is not None and template.exists()
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}", writer=False)
    try:
        assert is_current(engine)
    finally:
        engine.dispose()
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        assert store.vendor_health() == []
    finally:
        store.close()


def test_a_second_store_is_copied_without_running_a_migration(tmp_path: Path) -> None:
    new_sqlite_store(tmp_path / "first.db")  # builds the template (in this test's own HOME)
    probe = (
        "import sys\nfrom pathlib import Path\n"
        "from paneglass.store.template import new_sqlite_store\n"
        f"new_sqlite_store(Path({str(tmp_path / 'second.db')!r}))\n"
        "print('alembic' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "False", out
    assert (tmp_path / "second.db").stat().st_size > 0


def test_a_damaged_template_is_rebuilt(tmp_path: Path) -> None:
    template = template_path()
    assert template is not None
    template.parent.mkdir(parents=True, exist_ok=True)
    template.write_bytes(b"not a database at all" * 100)
    new_sqlite_store(tmp_path / "c.db")
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        assert store.vendor_health() == []
    finally:
        store.close()
    assert template.read_bytes()[:16] == b"SQLite format 3\x00"
