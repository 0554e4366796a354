"""Small charts as inline SVG: a report stays one file, readable offline and printable.

Every label is escaped (vendor names are text from a config, titles from
vendors); no script, no external font or stylesheet. Colours are a few named
CSS variables set once in the report's own ``<style>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bar_chart", "sparkline"]


def sparkline(values: Sequence[float | None], *, width: int = 120, height: int = 28) -> str:
    """A line over the values (gaps where a value is missing), the last point marked."""
    known = [v for v in values if v is not None]
    if not known:
        return f'<svg class="spark" width="{width}" height="{height}" aria-label="no data"></svg>'
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    points: list[str] = []
    paths: list[list[str]] = []
    for index, value in enumerate(values):
        if value is None:
            if points:
                paths.append(points)
            points = []
            continue
        x = index * step
        y = height - 3 - (value - low) / span * (height - 6)
        points.append(f"{x:.1f},{y:.1f}")
    if points:
        paths.append(points)
    lines = "".join(f'<polyline points="{" ".join(p)}" />' for p in paths)
    last_x, last_y = paths[-1][-1].split(",")
    label = escape(f"from {known[0]:g} to {known[-1]:g}")
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{label}">{lines}'
        f'<circle cx="{last_x}" cy="{last_y}" r="2.5" /></svg>'
    )


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    unit: str = "",
    width: int = 520,
    bar_height: int = 18,
) -> str:
    """Horizontal bars, one per (label, value), the value written at the end of each."""
    if not bars:
        return ""
    top = max((value for _, value in bars), default=0) or 1.0
    label_width = 120
    room = width - label_width - 70
    rows = []
    for index, (label, value) in enumerate(bars):
        y = index * (bar_height + 6)
        length = max(value / top * room, 1 if value else 0)
        rows.append(
            f'<text x="0" y="{y + bar_height - 5}" class="label">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" />'
            f'<text x="{label_width + length + 6:.1f}" y="{y + bar_height - 5}" class="value">'
            f"{escape(f'{value:,.1f}'.rstrip('0').rstrip('.'))}{escape(unit)}</text>"
        )
    total_height = len(bars) * (bar_height + 6)
    return (
        f'<svg class="bars" width="{width}" height="{total_height}" '
        f'viewBox="0 0 {width} {total_height}" role="img">{"".join(rows)}</svg>'
    )
