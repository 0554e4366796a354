"""Types and lint, checked on every run of the suite (so a plain ``pytest`` catches them too).

``.ci/run`` runs the same tools again after the suite; mypy then finds its cache
warm from this test and answers in a second or two, so CI pays for the type
check once, while the suite's slower tests wait on their clocks and processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    if not found.exists():
        missing = f"{name} is not installed beside this Python: pip install -e '.[dev]'"
        assert not os.environ.get("CI"), missing  # CI never skips its checks
        pytest.skip(missing)
    return str(found)


@pytest.mark.slow
def test_mypy_finds_no_type_error() -> None:
    run = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


@pytest.mark.parametrize(
    "args", [["check", "."], ["format", "--check", "."]], ids=["lint", "format"]
)
def test_ruff_is_clean(args: list[str]) -> None:
    run = subprocess.run([_tool("ruff"), *args], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
