"""The architecture's boundaries, checked on every run (so in CI) rather than by review.

``lint-imports`` checks the import-linter contracts in pyproject.toml
(connectors import no paneglass, Textual, database or scheduler; the SLA
engine and the store no Textual and nothing of the UI; the UI reaches the
store only through its facade). A headless import of the collector must not
load Textual at all.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports() -> str:
    beside = Path(sys.executable).with_name("lint-imports")
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert found, "lint-imports is not installed: pip install -e '.[dev]'"
    return found


def test_every_import_contract_is_kept() -> None:
    result = subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    expected = len(contracts["contracts"])
    assert re.search(rf"Contracts: {expected} kept, 0 broken", report), report


@pytest.mark.parametrize(
    "module",
    [
        "paneglass.collect",
        "paneglass.store",
        "paneglass.sla",
        "paneglass.writeback",
        "paneglass.cli",
    ],
)
def test_headless_packages_do_not_load_textual(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"importing {module} loaded Textual:\n{result.stderr}"
