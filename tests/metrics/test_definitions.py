"""Every scorecard figure is defined in the README, word for word as the reports print it."""

from __future__ import annotations

from pathlib import Path

from paneglass.metrics.figures import FIGURES

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_figure_is_defined_in_the_readme() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    missing = [f.id for f in FIGURES if f"* {f.definition}" not in text]
    assert missing == []
