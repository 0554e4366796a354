"""Themes own every colour: the state tables use theme variables every shipped theme defines."""

from __future__ import annotations

import re
from pathlib import Path

from paneglass.ui.states import FRESHNESS, OUTBOX, PAUSED, SLA
from themes import BUILTIN_THEMES, DEFAULT_THEME, VARIABLE_DEFAULTS

UI = Path(__file__).resolve().parents[2] / "paneglass" / "ui"
TEXTUAL_VARIABLES = {"text-muted"}


def test_every_state_colour_is_a_variable_each_shipped_theme_defines() -> None:
    faces = [*SLA.values(), PAUSED, *FRESHNESS.values(), *OUTBOX.values()]
    used = {face.colour.removeprefix("$") for face in faces if face.colour}
    assert all(face.colour.startswith("$") for face in faces if face.colour)
    assert used - TEXTUAL_VARIABLES <= set(VARIABLE_DEFAULTS)
    for theme in BUILTIN_THEMES.values():
        if theme.name != DEFAULT_THEME:  # the default theme is VARIABLE_DEFAULTS itself
            assert set(VARIABLE_DEFAULTS) <= set(theme.variables), theme.name


def test_no_colour_is_written_in_the_ui_code() -> None:
    named = re.compile(r"""["'][^"'\n]*\b(red|green|yellow|blue|magenta|cyan|white|black)\b""")
    hexed = re.compile(r"#[0-9a-fA-F]{6}\b")
    found = [
        f"{path.relative_to(UI)}:{number}: {line.strip()}"
        for path in sorted(UI.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if named.search(line) or hexed.search(line)
    ]
    assert found == []
