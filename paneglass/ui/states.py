"""Every state the console shows, as a glyph, a word and a theme colour, in one place.

One table per family: SLA clock states, vendor freshness, write-back
(outbox) states. Glyph and word carry the state on their own (a monochrome
wall, colour-blind eyes); the colour is a theme variable, so each theme owns
it (``themes/__init__.py`` defines every one, each theme may override it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

from textual.color import Color, ColorParseError

from paneglass.collect import Freshness
from paneglass.metrics.figures import TREND_MARKS, Trend
from paneglass.sla import ClockState

__all__ = [
    "FRESHNESS",
    "MAINTENANCE",
    "METRIC_TREND",
    "NOTIFICATION",
    "OUTBOX",
    "PAUSED",
    "SLA",
    "TIMELINE",
    "VENDOR_INCIDENT",
    "StateFace",
    "outbox_face",
]


@dataclass(frozen=True)
class StateFace:
    """How one state looks: glyph and word first, colour on top, never instead."""

    glyph: str
    word: str
    colour: str = ""
    """A theme variable (``$sla-breached``), or ``""`` for the text's own colour."""
    emphasis: str = ""
    """``bold``, ``dim`` or ``""``."""

    @property
    def label(self) -> str:
        """Glyph and word, e.g. ``✖ breached``."""
        return f"{self.glyph} {self.word}"

    @property
    def style(self) -> str:
        """A Textual content style, e.g. ``bold $sla-breached`` (resolved by the theme)."""
        return " ".join(part for part in (self.emphasis, self.colour) if part)

    def rich_style(self, variables: Mapping[str, str]) -> str:
        """The same style for Rich text (table cells), its colour taken from the theme now."""
        parts = [self.emphasis] if self.emphasis else []
        if self.colour:
            with contextlib.suppress(KeyError, ColorParseError):  # not a plain colour: none
                parts.append(Color.parse(variables[self.colour.removeprefix("$")]).hex)
        return " ".join(parts)


SLA: dict[ClockState, StateFace] = {
    ClockState.BREACHED: StateFace("✖", "breached", "$sla-breached", "bold"),
    ClockState.NEAR_BREACH: StateFace("◆", "near breach", "$sla-near-breach", "bold"),
    ClockState.AT_RISK: StateFace("▲", "at risk", "$sla-at-risk", "bold"),
    ClockState.OK: StateFace("●", "ok"),
    ClockState.MET: StateFace("✔", "met"),
    ClockState.MISSED: StateFace("✖", "missed", "$sla-breached"),
    ClockState.NONE: StateFace("·", "no clock", emphasis="dim"),
    ClockState.UNKNOWN: StateFace("?", "unknown", "$text-muted"),
}
"""Contract clock states (a ticket's or a case's worst, or one clock's)."""

PAUSED = StateFace("‖", "paused", "$text-muted")
"""A running clock that does not count now (the ticket waits on the customer)."""

VENDOR_INCIDENT = StateFace("!", "vendor incident", "$sla-at-risk", "bold")
"""A ticket opened or open during its vendor's own published incident."""

MAINTENANCE = StateFace("▣", "MAINTENANCE", "$sla-at-risk", "bold")
"""A vendor's announced maintenance window, in progress (``□ maintenance`` when ahead).
Squares, not the near-breach diamond: a monochrome wall must tell the two apart."""

FRESHNESS: dict[Freshness, StateFace] = {
    Freshness.FRESH: StateFace("●", "fresh", "$vendor-fresh"),
    Freshness.STALE: StateFace("◌", "STALE", "$vendor-stale", "bold"),
    Freshness.FAILING: StateFace("✖", "FAILING", "$vendor-failing", "bold"),
    Freshness.WAITING: StateFace("…", "WAITING", "$text-muted"),
}
"""How much to trust a vendor's data right now."""

OUTBOX: dict[str, StateFace] = {
    "queued": StateFace("…", "queued", emphasis="bold"),
    "sending": StateFace("→", "sending", emphasis="bold"),
    "sent": StateFace("✔", "sent", "$outbox-sent"),
    "failed": StateFace("✖", "FAILED", "$outbox-failed", "bold"),
    "cancelled": StateFace("−", "cancelled", emphasis="dim"),
}
"""A write-back action's state, in the order an action moves through them."""


def outbox_face(state: str) -> StateFace:
    """The face of an outbox state (an unknown one reads as itself)."""
    return OUTBOX.get(state) or StateFace("?", state, emphasis="bold")


NOTIFICATION: dict[str, StateFace] = {
    "open": StateFace("⚑", "to ack", "$notify-unacked", "bold"),
    "snoozed": StateFace("‖", "snoozed", "$text-muted"),
    "acked": StateFace("✔", "acked", emphasis="dim"),
}
"""Where a notification stands for the operators: waiting for an ack, snoozed, acknowledged."""
METRIC_TREND: dict[Trend, StateFace] = {
    Trend.BETTER: StateFace(*TREND_MARKS[Trend.BETTER], "$metric-better", "bold"),
    Trend.WORSE: StateFace(*TREND_MARKS[Trend.WORSE], "$metric-worse", "bold"),
    Trend.SAME: StateFace(*TREND_MARKS[Trend.SAME], "$text-muted"),
    Trend.UP: StateFace(*TREND_MARKS[Trend.UP]),
    Trend.DOWN: StateFace(*TREND_MARKS[Trend.DOWN]),
    Trend.NONE: StateFace(*TREND_MARKS[Trend.NONE]),
}
"""A scorecard figure against the previous period (colour on top of the glyph)."""
TIMELINE: dict[str, StateFace] = {
    "public": StateFace("●", "public", "$entry-public", "bold"),
    "internal": StateFace("■", "internal", "$entry-internal", "bold"),
    "system": StateFace("○", "system", "$text-muted"),
    "change": StateFace("·", "change", "$text-muted"),
    "paneglass": StateFace("◆", "paneglass", "$primary", "bold"),
}
"""A timeline item: a reply the requester sees, an agents-only note, a vendor's system entry,
a field change seen in a poll, or an action taken through paneglass."""
