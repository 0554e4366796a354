"""Each vendor's connector health and published status, glyph and word first.

Freshness is shown as a glyph and a word (● fresh, ◌ STALE, ✖ FAILING) as well
as colour, so it reads on a monochrome wall and to colour-blind eyes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo

from textual.content import Content
from textual.widgets import Static

from paneglass.collect import Freshness, freshness
from paneglass.store import IncidentView, VendorHealth
from paneglass.ui.display import age, local_time, safe_line
from paneglass.ui.states import FRESHNESS, MAINTENANCE

__all__ = ["VendorList", "backfill_progress", "maintenance_line", "render_vendors"]

_OVER = ("completed", "cancelled", "canceled", "resolved")
"""Maintenance statuses after which a window is no longer shown."""

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


def render_vendors(
    vendors: list[VendorHealth], now: datetime, width: int, zone: tzinfo | None = None
) -> Content:
    """The pane's whole text; vendor strings enter only as plain text (times in ``zone``)."""
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
        for incident in sorted(vendor.incidents, key=_listed_order):
            if incident.maintenance:
                line = maintenance_line(incident, now, zone, detail_width)
                if line is not None:
                    lines.append(line)
                continue
            text = safe_line(f"{incident.name} ({incident.status})", detail_width - 2)
            lines.append(Content.assemble("    ", ("! ", "bold $sla-breached"), text))
    if not lines:
        lines.append(Content("No vendors configured."))
    return Content("\n").join(lines)


def maintenance_line(
    incident: IncidentView, now: datetime, zone: tzinfo | None, width: int
) -> Content | None:
    """``▣ MAINTENANCE until 16:00`` or ``□ maintenance in 2 h``, its window in local time,
    then its name; ``None`` once the window is over."""
    start, end = incident.scheduled_for, incident.scheduled_until
    if incident.status.lower() in _OVER or (end is not None and end <= now):
        return None
    running = start is None or start <= now
    if running:
        glyph, word, style = f"{MAINTENANCE.glyph} ", MAINTENANCE.word, MAINTENANCE.style
        when = f"until {_clock(end, now, zone)}" if end is not None else "in progress"
    else:
        assert start is not None
        glyph, word, style = "□ ", "maintenance", "$sla-at-risk"
        when = f"in {_ahead(start - now)}"
    window = _window(start, end, now, zone)
    text = safe_line(f"{window}  {incident.name}", max(width - len(word) - len(when) - 5, 8))
    return Content.assemble("    ", (f"{glyph}{word} ", style), f"{when}  ", text)


def _listed_order(incident: IncidentView) -> tuple[bool, datetime]:
    """Incidents first (newest first, as read), then maintenance windows by start."""
    if not incident.maintenance:
        return (False, datetime.min.replace(tzinfo=UTC))
    return (True, incident.scheduled_for or datetime.min.replace(tzinfo=UTC))


def _ahead(delta: timedelta) -> str:
    """``25 min``, ``2 h``, ``3 d``: how far ahead a window starts."""
    minutes = max(int(delta.total_seconds() // 60), 1)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{round(minutes / 60)} h"
    return f"{round(minutes / 1440)} d"


def _clock(value: datetime | None, now: datetime, zone: tzinfo | None) -> str:
    """``14:00`` today, else ``Sat 14:00`` (local)."""
    if value is None:
        return "?"
    same_day = local_time(value, zone, "%Y-%m-%d") == local_time(now, zone, "%Y-%m-%d")
    return local_time(value, zone, "%H:%M" if same_day else "%a %d %b %H:%M")


def _window(
    start: datetime | None, end: datetime | None, now: datetime, zone: tzinfo | None
) -> str:
    """``Sat 05 Dec 14:00-16:00`` (the end's date only when it differs)."""
    if start is None:
        return f"–{_clock(end, now, zone)}"
    first = _clock(start, now, zone)
    if end is None:
        return f"{first}–"
    same = local_time(start, zone, "%Y-%m-%d") == local_time(end, zone, "%Y-%m-%d")
    return f"{first}–{local_time(end, zone, '%H:%M') if same else _clock(end, now, zone)}"


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

    def __init__(
        self, *, clock: Callable[[], datetime], id: str | None = None, zone: tzinfo | None = None
    ) -> None:
        super().__init__("", id=id, markup=False)
        self.clock = clock
        self.zone = zone
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
        width = self.content_region.width or 40
        content = render_vendors(self.vendors, self.clock(), width, self.zone)
        if content.plain == self._shown:
            return
        grows = self._shown is None or content.plain.count("\n") != self._shown.count("\n")
        self._shown = content.plain
        self.update(content, layout=grows)  # a re-layout repaints neighbours: only when needed

    def on_mount(self) -> None:
        self.set_interval(5.0, self.redraw)

    def on_resize(self) -> None:
        self.redraw()
