"""Each vendor's connector health and published status, glyph and word first.

Freshness is shown as a glyph and a word (● fresh, ◌ STALE, ✖ FAILING) as well
as colour, so it reads on a monochrome wall and to colour-blind eyes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.content import Content
from textual.widgets import Static

from paneglass.collect import Freshness, freshness
from paneglass.store import VendorHealth
from paneglass.ui.display import age, safe_line
from paneglass.ui.states import FRESHNESS

__all__ = ["VendorList", "backfill_progress", "render_vendors"]

_INDICATOR_WORD = {
    "none": "operational",
    "minor": "degraded",
    "major": "partial outage",
    "critical": "major outage",
    "maintenance": "maintenance",
}
_COMPONENT_WORD = {
    "degraded_performance": "degraded",
    "partial_outage": "partial outage",
    "major_outage": "major outage",
    "under_maintenance": "maintenance",
}


def render_vendors(vendors: list[VendorHealth], now: datetime, width: int) -> Content:
    """The pane's whole text; vendor strings enter only as plain text."""
    lines: list[Content] = []
    # A narrow pane shortens names before anything wraps (state, age and count stay whole).
    name_width = min(max((len(v.name) for v in vendors), default=8), 16, max(width - 24, 6))
    detail_width = max(width - 4, 10)
    for vendor in vendors:
        state = freshness(vendor, now)
        face = FRESHNESS[state]
        parts: list[tuple[str, str] | str] = [
            (f"{face.glyph} ", face.style),
            (safe_line(vendor.name, name_width).ljust(name_width), "bold"),
            " ",
            (f"{face.word:<8}", face.style),
            (f"{age(_last_good(vendor), now, seconds_precision=False):>4}", "$text-muted"),
        ]
        if vendor.indicator is not None:
            published = _INDICATOR_WORD.get(vendor.indicator, vendor.indicator)
            pub_style = "$vendor-fresh" if vendor.indicator == "none" else "bold $sla-at-risk"
            parts += ["  ", (published, pub_style)]
        else:
            parts.append((f"  {vendor.open_tickets} open", "$text-muted"))
        lines.append(Content.assemble(*parts))
        if vendor.backfilling:
            lines.append(Content.assemble("    ", (backfill_progress(vendor), "$text-muted")))
        if state is Freshness.FAILING and vendor.last_error_message:
            kind = vendor.last_error_kind or "error"
            failures = f" ×{vendor.consecutive_failures}" if vendor.consecutive_failures > 1 else ""
            text = safe_line(f"{kind}{failures}: {vendor.last_error_message}", detail_width)
            lines.append(Content.assemble("    ", (text, "$vendor-failing")))
        for component in vendor.components:
            label = _COMPONENT_WORD.get(component.state, component.state)
            group = f"{component.group_name} / " if component.group_name else ""
            text = safe_line(f"{group}{component.name}: {label}", detail_width - 2)
            lines.append(Content.assemble("    ", ("▲ ", "$sla-at-risk"), text))
        for incident in vendor.incidents:
            text = safe_line(f"{incident.name} ({incident.status})", detail_width - 2)
            lines.append(Content.assemble("    ", ("! ", "bold $sla-breached"), text))
    if not lines:
        lines.append(Content("No vendors configured."))
    return Content("\n").join(lines)


def backfill_progress(vendor: VendorHealth) -> str:
    """``backfill 12,400 / ~40,000``: how far the first full read has come."""
    done = f"{vendor.sync_done or 0:,}"
    return f"backfill {done} / ~{vendor.sync_total:,}" if vendor.sync_total else f"backfill {done}"


def _last_good(vendor: VendorHealth) -> datetime | None:
    """The newest good news: a finished good poll, or a page that landed since."""
    times = [t for t in (vendor.last_ok_at, vendor.last_page_at) if t is not None]
    return max(times, default=None)


class VendorList(Static):
    """The Vendors pane body; re-rendered on change and as ages move."""

    DEFAULT_CSS = """
    VendorList { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *, clock: Callable[[], datetime], id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.clock = clock
        self.vendors: list[VendorHealth] = []
        self._shown: str | None = None
        self._has_data = False

    def set_vendors(self, vendors: list[VendorHealth]) -> None:
        """Replace the data and repaint."""
        self.vendors = vendors
        self._has_data = True
        self.redraw()

    def redraw(self) -> None:
        """Repaint with ages as of now — only when the text changed (repaints cost bytes)."""
        if not self._has_data:  # nothing to show until the screen hands data over
            return
        content = render_vendors(self.vendors, self.clock(), self.content_region.width or 40)
        if content.plain == self._shown:
            return
        grows = self._shown is None or content.plain.count("\n") != self._shown.count("\n")
        self._shown = content.plain
        self.update(content, layout=grows)  # a re-layout repaints neighbours: only when needed

    def on_mount(self) -> None:
        self.set_interval(5.0, self.redraw)

    def on_resize(self) -> None:
        self.redraw()
