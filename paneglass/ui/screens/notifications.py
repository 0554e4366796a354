"""The notifications pane (key 6, ``:notifications``): unacknowledged first, then recent.

Every logged notification a rule matched: what happened, to which ticket or
vendor, which rules fired, and who acknowledged or snoozed it and when (the
same for every console following the store). The base screen only shows; the
writable console's subclass adds acknowledge and snooze, so a read-only
console (or a browser tab, which has no OS user to audit) cannot reach them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, time, timedelta, tzinfo
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from paneglass.notify.events import Event
from paneglass.sla import ClockState
from paneglass.store import NotificationView, Store
from paneglass.ui.display import local_time, plain, safe_line
from paneglass.ui.navigation import OpenTicket
from paneglass.ui.screens.table_pane import TablePaneScreen
from paneglass.ui.states import NOTIFICATION, SLA, StateFace
from paneglass.writeback import Acknowledgements

__all__ = ["AckNotificationsScreen", "NotificationsScreen", "SnoozeUntil", "notification_face"]

_EVENT_FACES = {
    Event.SLA_BREACHED.value: SLA[ClockState.BREACHED],
    Event.SLA_NEAR_BREACH.value: SLA[ClockState.NEAR_BREACH],
    Event.SLA_AT_RISK.value: SLA[ClockState.AT_RISK],
}


def notification_face(item: NotificationView, now: datetime) -> StateFace:
    """Acknowledged, snoozed (until later than now) or waiting for an acknowledgement."""
    if item.acked_at is not None:
        return NOTIFICATION["acked"]
    if item.snoozed_until is not None and item.snoozed_until > now:
        return NOTIFICATION["snoozed"]
    return NOTIFICATION["open"]


class NotificationsScreen(TablePaneScreen[NotificationView]):
    """Every notification a rule matched, unacknowledged first."""

    DEFAULT_CSS = """
    NotificationsScreen DataTable { height: 1fr; }
    #notification-detail { height: auto; max-height: 6; border-top: solid $panel; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,backspace", "app.pop_screen", "Back", id="notifications.back"),
        Binding("o", "open_ticket", "Open ticket", id="notifications.open"),
    ]
    PANE_ID = "notifications-pane"
    PANE_TITLE = "Notifications"
    COLUMNS = ("State", "When", "Event", "Vendor", "Ticket", "P", "What", "Acknowledged")
    NARROW_COLUMNS = ("State", "When", "Event", "Ticket", "P", "What")
    """Below :data:`WIDE` columns: vendor and ticket share a column, the acknowledgement is
    in the state and the detail below, so the title keeps room without scrolling sideways."""
    WIDE = 120

    def __init__(self, store: Store, *, clock: Callable[[], datetime], zone: tzinfo | None) -> None:
        super().__init__(store, clock=clock, zone=zone)
        self._narrow = False
        self._title_width = 24

    def on_resize(self) -> None:
        if self._fit_columns():
            self._show(self.rows)

    def _show(self, rows: list[NotificationView]) -> None:
        self._fit_columns()
        if self._narrow:  # the title takes what the widest cell of each other column leaves
            used = 2 + 2  # the pane's borders, the vertical scrollbar
            for column in zip(*(self.cells(r)[:-1] for r in rows), strict=True):
                used += max(c.cell_len for c in column) + 2  # a cell's padding
            self._title_width = max(12, (self.size.width or 80) - used - 2)
        super()._show(rows)

    def _fit_columns(self) -> bool:
        """The column set for this width; True when it changed."""
        narrow = (self.size.width or self.WIDE) < self.WIDE
        if narrow == self._narrow:
            return False
        self._narrow = narrow
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_columns(*(self.NARROW_COLUMNS if narrow else self.COLUMNS))
        return True

    def compose_below(self) -> Iterable[Widget]:
        """The highlighted notification in full."""
        yield Static("", id="notification-detail", markup=False)

    def fetch(self) -> list[NotificationView]:
        """Unacknowledged first, then the recent acknowledged ones."""
        return self.store.notification_rows(300)

    def row_key(self, row: NotificationView) -> str:
        """Notification id."""
        return str(row.id)

    def cells(self, row: NotificationView) -> Sequence[Text]:
        """State and event as glyph and word, then where and what."""
        now = self.clock()
        variables = self.app.theme_variables
        face = notification_face(row, now)
        event = _EVENT_FACES.get(row.event)
        event_text = (
            Text(f"{event.glyph} {event.word}", style=event.rich_style(variables))
            if event is not None
            else Text(Event(row.event).words)
        )
        if row.acked_at is not None:
            who = f"{safe_line(row.acked_by, 12)} {local_time(row.acked_at, self.zone, '%H:%M')}"
        elif row.snoozed_until is not None and row.snoozed_until > now:
            until = local_time(row.snoozed_until, self.zone, "%H:%M")
            who = f"snoozed to {until} ({safe_line(row.snoozed_by, 10)})"
        else:
            who = "—"
        today = local_time(now, self.zone, "%Y-%m-%d")
        fmt = (
            "%H:%M"
            if local_time(row.recorded_at, self.zone, "%Y-%m-%d") == today
            else "%d %b %H:%M"
        )
        if self._narrow:
            where = row.ticket_key or row.vendor or ""
            return (
                Text(face.label, style=face.rich_style(variables)),
                Text(local_time(row.recorded_at, self.zone, fmt)),
                event_text,
                Text(safe_line(where, 14)),
                Text(row.priority or ""),
                Text(safe_line(row.title, self._title_width)),
            )
        title_width = max(24, (self.size.width or 120) - 112)
        return (
            Text(face.label, style=face.rich_style(variables)),
            Text(local_time(row.recorded_at, self.zone, fmt)),
            event_text,
            Text(safe_line(row.vendor or "", 14)),
            Text(safe_line(row.ticket_key or "", 14)),
            Text(row.priority or ""),
            Text(safe_line(row.title, title_width)),
            Text(who),
        )

    def shown(self, rows: list[NotificationView]) -> None:
        """Counts in the title; the highlighted notification below."""
        now = self.clock()
        waiting = sum(1 for r in rows if notification_face(r, now) is NOTIFICATION["open"])
        face = NOTIFICATION["open"]
        title = f"Notifications  {face.glyph} {waiting} {face.word}  ·  {len(rows)} shown"
        self.query_one(f"#{self.PANE_ID}").border_title = plain(title)
        self._explain()

    def on_data_table_row_highlighted(self) -> None:
        self._explain()

    def on_data_table_row_selected(self) -> None:
        self.action_open_ticket()

    def _explain(self) -> None:
        item = self.selected()
        lines: list[str] = []
        if item is None:
            lines.append(
                "Nothing notified yet. The rules in [[notify.rules]] decide what is;"
                " paneglass check --rules shows what each one does."
            )
        else:
            where = f"{item.vendor} {item.ticket_key}" if item.ticket_key else (item.vendor or "")
            lines.append(f"#{item.id} {Event(item.event).words} · {where} · {item.title}")
            if item.detail:
                lines.append(item.detail)
            lines.append(
                f"rules: {', '.join(item.rule_names) or 'none'} · happened "
                f"{local_time(item.occurred_at, self.zone)}"
            )
            if item.acked_at is not None:
                lines.append(
                    f"acknowledged by {item.acked_by} {local_time(item.acked_at, self.zone)}"
                )
            elif item.snoozed_until is not None and item.snoozed_until > self.clock():
                lines.append(
                    f"snoozed by {item.snoozed_by} until "
                    f"{local_time(item.snoozed_until, self.zone)}"
                )
        text = "\n".join(safe_line(line, 300) for line in lines)
        self.query_one("#notification-detail", Static).update(plain(text))

    def action_open_ticket(self) -> None:
        """Open the ticket behind the highlighted notification."""
        item = self.selected()
        if item is not None and item.ticket_id is not None:
            self.post_message(OpenTicket(item.ticket_id))


class SnoozeUntil(ModalScreen[time | None]):
    """Ask for the time (HH:MM, the operator's zone) to snooze until."""

    DEFAULT_CSS = """
    SnoozeUntil { align: center middle; }
    SnoozeUntil > Vertical {
        width: 44; height: auto; border: round $primary; background: $surface; padding: 0 1;
    }
    SnoozeUntil #snooze-error { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Cancel", id="snooze.cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Snooze until"
            yield Static("A time today (or tomorrow if past), HH:MM", markup=False)
            yield Input(placeholder="17:30", id="snooze-time")
            yield Static("", id="snooze-error", markup=False)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            hours, minutes = (int(part) for part in event.value.strip().split(":"))
            self.dismiss(time(hours, minutes))
        except ValueError:
            self.query_one("#snooze-error", Static).update("Write the time as HH:MM, e.g. 17:30")

    def action_dismiss_none(self) -> None:
        """Close without snoozing."""
        self.dismiss(None)


class AckNotificationsScreen(NotificationsScreen):
    """The pane with acknowledge and snooze (the writable console only)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "ack", "Acknowledge", id="notifications.ack"),
        Binding("A", "ack_ticket", "Ack whole ticket", id="notifications.ack_ticket"),
        Binding("s", "snooze(15)", "Snooze 15 min", id="notifications.snooze15"),
        Binding("S", "snooze(60)", "Snooze 1 h", id="notifications.snooze60"),
        Binding("u", "snooze_until", "Snooze until…", id="notifications.snooze_until"),
    ]

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime],
        zone: tzinfo | None,
        acks: Acknowledgements,
    ) -> None:
        super().__init__(store, clock=clock, zone=zone)
        self.acks = acks

    def action_ack(self) -> None:
        """Acknowledge the highlighted notification."""
        item = self.selected()
        if item is not None:
            self._operate("ack", item.id, None, None)

    def action_ack_ticket(self) -> None:
        """Acknowledge every open notification of the highlighted one's ticket."""
        item = self.selected()
        if item is None or item.ticket_id is None:
            self.notify("This notification is about no ticket.", markup=False)
            return
        self._operate("ack-ticket", None, item.ticket_id, None)

    def action_snooze(self, minutes: int) -> None:
        """Snooze the highlighted notification for ``minutes``."""
        item = self.selected()
        if item is not None:
            self._operate("snooze", item.id, None, self.clock() + timedelta(minutes=minutes))

    def action_snooze_until(self) -> None:
        """Snooze the highlighted notification until a time the operator types."""
        item = self.selected()
        if item is None:
            return

        def chosen(when: time | None) -> None:
            if when is None:
                return
            now = self.clock()
            zone = self.zone or now.astimezone().tzinfo
            local = now.astimezone(zone)
            until = datetime.combine(local.date(), when, zone)
            if until <= local:
                until += timedelta(days=1)
            self._operate("snooze", item.id, None, until)

        self.app.push_screen(SnoozeUntil(), chosen)

    @work(thread=True, group="notification-ack", exit_on_error=False)
    def _operate(
        self,
        what: str,
        notification_id: int | None,
        ticket_id: int | None,
        until: datetime | None,
    ) -> None:
        if what == "ack" and notification_id is not None:
            changed = self.acks.acknowledge(notification_id)
            message = "Acknowledged." if changed else "Already acknowledged."
        elif what == "ack-ticket" and ticket_id is not None:
            changed = self.acks.acknowledge_ticket(ticket_id)
            message = f"Acknowledged {changed} notification(s) of the ticket."
        else:
            assert until is not None
            changed = self.acks.snooze(until, notification_id=notification_id)
            shown = local_time(until, self.zone, "%H:%M")
            message = f"Snoozed until {shown}." if changed else "Nothing to snooze."
        self.app.call_from_thread(self.notify, message, markup=False)
        self.app.call_from_thread(self.refresh_data)
