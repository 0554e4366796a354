"""The shift handover screen: what changed since the shift began, and what is coming.

Opens on the handover that waits to be acknowledged, when there is one (as
its outgoing operator signed it); otherwise on the live report for the
shift so far. In a console that may act, the outgoing operator writes a note
and signs (``S``), the incoming one acknowledges (``a``); both are audited,
and the header of every console on the store shows a handover nobody has
acknowledged yet.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from paneglass.metrics.handover import HandoverReport, build_handover
from paneglass.reports.handover_text import handover_lines
from paneglass.sla import ClockState
from paneglass.store import Actor, HandoverRecord, Store
from paneglass.ui.display import plain, safe_line
from paneglass.ui.messages import StoreChanged
from paneglass.ui.states import SLA

__all__ = ["HandoverScreen", "SigningHandoverScreen"]

SHIFT = timedelta(hours=8)
"""The default shift: the live report looks this far back."""


class HandoverScreen(Screen[None]):
    """The handover, read-only: the waiting one, or the live report (``l`` switches)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "toggle_live", "Live / signed", id="handover.toggle"),
        Binding("plus,equals_sign", "span(1)", "Longer shift", id="handover.longer", show=False),
        Binding("minus", "span(-1)", "Shorter shift", id="handover.shorter", show=False),
        Binding("escape,q,backspace", "app.pop_screen", "Back", id="handover.back"),
    ]
    DEFAULT_CSS = """
    #handover-body { height: 1fr; }
    #handover-text { width: 100%; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    #handover-note { dock: bottom; display: none; }
    """

    def __init__(self, store: Store, *, clock: Callable[[], datetime], zone: tzinfo | None) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.zone = zone
        self.shift = SHIFT
        self.live = False
        """Showing the live report (True) or the last signed handover (False)."""
        self.record: HandoverRecord | None = None
        self.report: HandoverReport | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="handover-pane", classes="pane"):
            with VerticalScroll(id="handover-body"):
                yield Static("", id="handover-text", markup=False)
            yield Input(placeholder="note for the next shift, Enter to sign", id="handover-note")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        """Re-read (after a change notice)."""
        self._load(self.live, self.shift)

    @work(thread=True, exclusive=True, group="handover-query", exit_on_error=False)
    def _load(self, live: bool, shift: timedelta) -> None:
        now = self.clock()
        record = None if live else self.store.pending_handover()
        if record is not None:
            report = HandoverReport.from_json(record.summary)
        else:
            report = build_handover(self.store, now - shift, now)
        self.app.call_from_thread(self._show, record, report)

    def _show(self, record: HandoverRecord | None, report: HandoverReport) -> None:
        self.record, self.report = record, report
        pane = self.query_one("#handover-pane")
        counts = report.counts
        summary = " · ".join(
            f"{counts[key]} {word}"
            for key, word in (
                ("breaches", "breached"),
                ("due", "due soon"),
                ("urgent", "open P1/P2"),
                ("new", "new"),
                ("vendors", "vendor" if counts["vendors"] == 1 else "vendors"),
                ("failed", "failed"),
                ("cases", "case" if counts["cases"] == 1 else "cases"),
            )
        )
        if record is not None:
            when = record.signed_at.astimezone(self.zone).strftime("%a %d %b %H:%M")
            title = f"Handover from {safe_line(record.signed_by, 24)}, signed {when}"
            title += "  ·  waiting to be acknowledged" if record.acknowledged_at is None else ""
        else:
            hours = self.shift.total_seconds() / 3600
            title = f"Handover  ·  the last {hours:g} h (+ -), live"
        pane.border_title = plain(title)
        pane.border_subtitle = plain(summary)
        lines: list[Content] = []
        if record is not None and record.note:
            lines.append(Content.styled("Note from the outgoing shift", "bold underline"))
            lines += [plain("  " + line) for line in record.note.splitlines()]
            lines.append(Content(""))
        faces = (SLA[ClockState.BREACHED], SLA[ClockState.AT_RISK])  # breaches, then due soon
        for index, (section, items) in enumerate(handover_lines(report, self.zone)):
            heading = Content.styled(f"{section}  ({len(items)})", "bold underline")
            if index < len(faces) and items:
                face = faces[index]
                heading = Content.assemble((f"{face.glyph} ", face.style), heading)
            lines.append(heading)
            lines += [plain("  " + safe_line(item)) for item in items] or [
                Content.styled("  none", "$text-muted")
            ]
            lines.append(Content(""))
        self.query_one("#handover-text", Static).update(Content("\n").join(lines))

    def action_toggle_live(self) -> None:
        """Switch between the waiting handover and the live report."""
        self.live = not self.live
        self.refresh_data()

    def action_span(self, hours: int) -> None:
        """Lengthen or shorten the live report's shift by an hour."""
        self.shift = max(self.shift + timedelta(hours=hours), timedelta(hours=1))
        self.live = True
        self.refresh_data()


class SigningHandoverScreen(HandoverScreen):
    """The handover with sign (outgoing) and acknowledge (incoming): writable consoles only."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("S", "sign", "Sign", id="handover.sign"),
        Binding("a", "acknowledge", "Acknowledge", id="handover.acknowledge"),
    ]

    def __init__(
        self, store: Store, *, clock: Callable[[], datetime], zone: tzinfo | None, actor: Actor
    ) -> None:
        super().__init__(store, clock=clock, zone=zone)
        self.actor = actor

    def action_sign(self) -> None:
        """Write a note, then Enter signs the live report as the outgoing operator."""
        if not self.live:
            self.live = True
            self.refresh_data()
        box = self.query_one("#handover-note", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#handover-note")
    def _signed(self, event: Input.Submitted) -> None:
        event.input.display = False
        self._sign(event.value.strip(), self.shift)
        event.input.value = ""

    @work(thread=True, exclusive=True, group="handover-write", exit_on_error=False)
    def _sign(self, note: str, shift: timedelta) -> None:
        now = self.clock()
        report = build_handover(self.store, now - shift, now)
        handover_id = self.store.sign_handover(self.actor, now, now - shift, note, report.to_json())
        self.app.call_from_thread(
            self.notify, f"Handover {handover_id} signed for the next shift.", markup=False
        )
        self.live = False
        self.app.post_message(StoreChanged())

    def action_acknowledge(self) -> None:
        """Acknowledge the waiting handover as the incoming operator."""
        if self.record is None or self.record.acknowledged_at is not None:
            self.notify("No handover is waiting to be acknowledged.", markup=False)
            return
        self._acknowledge(self.record.id)

    @work(thread=True, exclusive=True, group="handover-write", exit_on_error=False)
    def _acknowledge(self, handover_id: int) -> None:
        done = self.store.acknowledge_handover(self.actor, self.clock(), handover_id)
        text = f"Handover {handover_id} acknowledged." if done else "Already acknowledged."
        self.app.call_from_thread(self.notify, text, markup=False)
        self.app.post_message(StoreChanged())  # every pane, and the header, look again
