"""User themes: TOML files in ``<config dir>/themes/``, validated before use.

A file is the keyword arguments of a Textual :class:`~textual.theme.Theme`
(``primary`` is required) plus an optional ``[variables]`` table for the
paneglass colours (``sla-breached``, ``priority-1``, …). A file that cannot be
used yields one clear message and is skipped; the app falls back to its
default theme.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

from themes import VARIABLE_DEFAULTS

__all__ = ["load_user_themes"]

_COLOUR_KEYS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)


def _theme(path: Path) -> Theme:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - {*_COLOUR_KEYS, "name", "dark", "variables"}
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}")
    if "primary" not in data:
        raise ValueError('needs at least primary = "#rrggbb"')
    colours = {key: str(data[key]) for key in _COLOUR_KEYS if key in data}
    variables = {str(k): str(v) for k, v in dict(data.get("variables", {})).items()}
    strange = set(variables) - set(VARIABLE_DEFAULTS)
    if strange:
        raise ValueError(f"unknown variable(s) {', '.join(sorted(strange))}")
    for key, value in {**colours, **variables}.items():
        try:
            Color.parse(value)
        except ColorParseError:
            raise ValueError(f"{key} = {value!r} is not a colour") from None
    return Theme(
        name=str(data.get("name", path.stem)),
        dark=bool(data.get("dark", True)),
        variables=variables,
        **colours,  # type: ignore[arg-type]
    )


def load_user_themes(folder: Path) -> tuple[list[Theme], list[str]]:
    """Every usable theme in ``folder``, and one message per file that is not."""
    themes: list[Theme] = []
    problems: list[str] = []
    if not folder.is_dir():
        return themes, problems
    for path in sorted(folder.glob("*.toml")):
        try:
            themes.append(_theme(path))
        except (OSError, tomllib.TOMLDecodeError, ValueError, TypeError) as exc:
            problems.append(f"theme file {path.name} ignored: {exc}")
    return themes, problems
