"""``paneglass report scorecard`` and ``export --what scorecard`` through the real CLI.

The store is the hand-checked November world (``scorecard_world``); the
reports must carry the figures the store computes, in every format, and the
HTML must stand alone (no script, no fetch from the network).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from paneglass.cli import main
from tests.metrics.scorecard_world import build_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('reports') / 'world.db'}"
    build_world(url).close()
    return url


@pytest.fixture(autouse=True)
def no_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PANEGLASS_CONFIG", str(tmp_path / "none.toml"))


def _report(world: str, fmt: str, out: Path, *before: str) -> Path:
    path = out / f"november.{fmt}"
    argv = ["report", *before, "scorecard", "--period", "2026-11", "--format", fmt]
    argv += ["--output", str(path)] + ([] if before else ["--db", world])
    assert main(argv) == 0
    return path


def test_csv_and_json_carry_the_figures(world: str, tmp_path: Path) -> None:
    rows = {r["vendor"]: r for r in csv.DictReader(_report(world, "csv", tmp_path).open())}
    assert set(rows) == {"alpha", "beta"}
    # The hand-worked November (test_scorecard_figures): alpha opened 4, resolved 4, re-opened 1.
    alpha = rows["alpha"]
    assert (alpha["opened"], alpha["resolved"], alpha["reopened"], alpha["backlog"]) == (
        "4",
        "4",
        "1",
        "2",
    )
    assert rows["beta"]["opened"] == "3"
    data = json.loads(_report(world, "json", tmp_path).read_text())
    by_vendor = {row["vendor"]: row for row in data}
    assert by_vendor["alpha"]["opened"] == 4 and by_vendor["beta"]["resolved"] == 3


def test_db_given_before_the_report_name_is_kept(world: str, tmp_path: Path) -> None:
    path = _report(world, "csv", tmp_path, "--db", world)
    assert {r["vendor"] for r in csv.DictReader(path.open())} == {"alpha", "beta"}


def test_html_is_self_contained_with_charts(world: str, tmp_path: Path) -> None:
    page = _report(world, "html", tmp_path).read_text()
    assert "<svg" in page and "alpha" in page and "November 2026" in page
    lowered = page.lower()
    for fetch in ("<script", "<link", "src=", "@import", "url("):
        assert fetch not in lowered, fetch


def test_markdown_names_every_vendor(world: str, tmp_path: Path) -> None:
    text = _report(world, "md", tmp_path).read_text()
    assert text.startswith("# Vendor scorecard: November 2026")
    assert "| alpha |" in text and "| beta |" in text


def test_export_gives_the_report_rows(world: str, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    argv = ["export", "--db", world, "--what", "scorecard", "--period", "2026-11"]
    assert main([*argv, "--format", "csv", "--output", str(path)]) == 0
    exported = list(csv.DictReader(path.open()))
    reported = list(csv.DictReader(_report(world, "csv", tmp_path).open()))
    assert exported == reported
