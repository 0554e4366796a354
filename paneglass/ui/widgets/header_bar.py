"""The one-line header: product, demo banner, headline counters, data age, clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from textual.content import Content
from textual.widgets import Static

from paneglass.collect import Freshness, freshness
from paneglass.sla import ClockState
from paneglass.store import HandoverRecord, Headline, VendorHealth
from paneglass.ui.display import age
from paneglass.ui.states import FRESHNESS, NOTIFICATION, SLA

__all__ = ["HeaderBar"]


class HeaderBar(Static):
    """Counters that matter from across the room, and how old the data is."""

    DEFAULT_CSS = """
    HeaderBar { height: 1; width: 1fr; }
    """

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        zone: tzinfo | None,
        zone_name: str,
        demo: bool,
        id: str | None = None,
    ) -> None:
        super().__init__("", id=id, markup=False)
        self.clock = clock
        self.zone = zone
        self.zone_name = zone_name
        self.demo = demo
        self.headline: Headline | None = None
        self._shown = ""
        self.vendors: list[VendorHealth] = []
        self.unacked = 0
        """Notifications waiting for an acknowledgement."""
        self.handover: HandoverRecord | None = None
        """A signed handover nobody has acknowledged yet (shown until someone does)."""
        self.as_of: datetime | None = None
        """Set in time travel: the instant shown, read-only."""

    def set_data(self, headline: Headline, vendors: list[VendorHealth], unacked: int = 0) -> None:
        """New counters from the store."""
        self.headline = headline
        self.vendors = vendors
        self.unacked = unacked
        self.redraw()

    def set_handover(self, handover: HandoverRecord | None) -> None:
        """The handover waiting to be acknowledged (``None`` when there is none)."""
        if handover != self.handover:
            self.handover = handover
            self.redraw()

    def on_mount(self) -> None:
        self.redraw()
        self.set_interval(1.0, self.redraw)

    def redraw(self) -> None:
        """Repaint (the clock ticks every second)."""
        line = self.compose_line(self.size.width or 120)
        if line.plain != self._shown:  # repaint only what changed; one line never re-lays out
            self._shown = line.plain
            self.update(line, layout=False)

    def compose_line(self, width: int) -> Content:
        """The header for ``width`` cells; the least important parts drop out first."""
        now = self.clock()
        local = now.astimezone(self.zone) if self.zone else now.astimezone()
        wide = width >= 110
        brand = Content.styled(" paneglass", "bold $primary")
        if self.demo:
            brand = Content.assemble(
                brand, " ", Content.styled(" DEMO DATA ", "bold reverse $demo-banner")
            )
        parts: list[tuple[int, Content]] = []  # (importance: lower drops first, piece)
        if self.as_of is not None:  # time travel: the banner replaces the brand, never drops
            stamp = f"{local:%Y-%m-%d %H:%M:%S}"
            brand = Content.styled(
                f" ◷ AS OF {stamp} · read-only " if wide else f" ◷ AS OF {stamp} ",
                "bold reverse $accent",
            )
        parts.append((9, brand))
        if self.handover is not None and self.as_of is None:
            signed = (
                self.handover.signed_at.astimezone(self.zone)
                if self.zone
                else (self.handover.signed_at.astimezone())
            )
            who = self.handover.signed_by[:16]
            text = (
                f"✎ handover from {who} {signed:%H:%M} not acknowledged"
                if wide
                else "✎ handover waiting"
            )
            parts.append((8, Content.styled(text, "bold reverse $sla-at-risk")))
        if self.headline is not None:
            h = self.headline
            breached, at_risk = SLA[ClockState.BREACHED], SLA[ClockState.AT_RISK]
            parts.append(
                (
                    10,
                    Content.styled(
                        f"{breached.glyph} {h.breached}" + (f" {breached.word}" if wide else ""),
                        breached.style if h.breached else "$text-muted",
                    ),
                )
            )
            parts.append(
                (
                    10,
                    Content.styled(
                        f"{at_risk.glyph} {h.at_risk}" + (f" {at_risk.word}" if wide else ""),
                        at_risk.style if h.at_risk else "$text-muted",
                    ),
                )
            )
            if self.unacked:
                face = NOTIFICATION["open"]
                label = f"{face.glyph} {self.unacked}" + (f" {face.word}" if wide else "")
                parts.append((8, Content.styled(label, face.style)))
            degraded = sum(1 for v in self.vendors if v.indicator not in (None, "none"))
            if degraded:
                parts.append((6, Content.styled(f"{degraded} degraded", "bold $sla-at-risk")))
            unhealthy = sum(
                1 for v in self.vendors if freshness(v, now) in (Freshness.STALE, Freshness.FAILING)
            )
            if unhealthy:
                glyph = FRESHNESS[Freshness.STALE].glyph
                label = (
                    f"{glyph} {unhealthy} stale/failing" if wide else f"{glyph} {unhealthy} stale"
                )
                parts.append((9, Content.styled(label, "bold reverse $vendor-failing")))
            parts.append((7, Content.styled(f"data {age(h.last_ok_at, now)} old", "$text-muted")))
        clock = f"{local:%H:%M:%S}" + (f" {self.zone_name}" if wide else "") + " "
        parts.append((10, Content.styled(clock, "bold")))
        while True:
            used = sum(piece.cell_length for _, piece in parts) + 2 * (len(parts) - 1)
            if used <= width or len(parts) <= 1:
                break
            weakest = min(range(len(parts)), key=lambda i: (parts[i][0], -i))
            parts.pop(weakest)
        gap = max(width - used, 0)
        pieces = [piece for _, piece in parts]
        # Counters sit together; spare space goes around them.
        head, body, tail = pieces[:1], pieces[1:-1], pieces[-1:]
        left = Content("  ").join(head)
        middle = Content("  ").join(body)
        return Content.assemble(
            left, " " * (gap // 2 + 2), middle, " " * (gap - gap // 2 + (2 if body else 0)), *tail
        )
