"""The confirmation dialog of every write-back action, with its dry run.

The operator fills in the action; below, the exact request the connector
would send is shown as it changes (the dry run: nothing leaves until Queue).
Queue stores it in the outbox; the collector sends it. Only the writable
console ever opens this dialog.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from connectors.actions import Action, ActionKind
from connectors.records import Priority, TicketStatus
from paneglass.store import TicketDetail
from paneglass.ui.display import plain, safe_line
from paneglass.writeback import WriteBack, handoff_from

__all__ = ["ActionDialog"]

_STATUSES = [
    (s.value, s)
    for s in (TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.RESOLVED, TicketStatus.CLOSED)
]
_PRIORITIES = [(p.value, p) for p in Priority]
_INTERNAL_ONLY = frozenset({"pagerduty", "opsgenie"})
"""Vendors whose notes are never shown to a requester."""


class ActionDialog(ModalScreen[bool]):
    """Fill in one action for one ticket, see its dry run, queue it or cancel."""

    DEFAULT_CSS = """
    ActionDialog, CasePicker { align: center middle; }
    #action-dialog {
        width: 100; max-width: 96%; height: auto; max-height: 94%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    #action-dialog > Input, #action-dialog > Select { margin: 1 0 0 0; }
    #action-preview-scroll {
        height: auto; max-height: 16; border: tall $panel; margin: 0 0 1 0;
    }
    #action-buttons { height: auto; align-horizontal: right; }
    #action-buttons > Button { margin: 0 0 0 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("ctrl+s", "queue", "Queue", id="dialog.queue"),
    ]

    def __init__(
        self,
        write_back: WriteBack,
        ticket: TicketDetail,
        kind: ActionKind,
        *,
        case_id: int | None = None,
    ) -> None:
        super().__init__()
        self.write_back = write_back
        self.ticket = ticket
        self.kind = kind
        self.case_id = case_id
        """For a hand-off from a case ticket: the case the new ticket joins."""

    def compose(self) -> ComposeResult:
        ticket = self.ticket
        with Vertical(id="action-dialog"):
            yield Label(plain(self._title()), id="action-title")
            if self.kind is ActionKind.CREATE:
                targets = self.write_back.handoff_targets(ticket.vendor)
                yield Select(
                    [(name, name) for name in targets],
                    prompt="hand to vendor…",
                    id="target",
                    value=targets[0] if targets else Select.BLANK,
                )
            if self.kind is ActionKind.ASSIGN:
                yield Input(placeholder="assignee (as the vendor names agents)", id="assignee")
            if self.kind is ActionKind.SET_STATUS:
                yield Select(
                    _STATUSES, prompt="new status…", id="status", value=TicketStatus.RESOLVED
                )
            if self.kind is ActionKind.SET_PRIORITY:
                yield Label(plain(_current_priority(ticket)), id="current-priority")
                yield Select(
                    _PRIORITIES,
                    prompt="new priority…",
                    id="priority",
                    value=_one_up(ticket.priority),
                    allow_blank=False,
                )
            else:  # a priority change carries no note (a comment is its own action)
                label = "comment" if self.kind is ActionKind.COMMENT else "note (optional)"
                yield Input(placeholder=label, id="text")
            if self.kind is ActionKind.COMMENT and ticket.kind not in _INTERNAL_ONLY:
                yield Checkbox("public: the requester sees it", id="public")
            if self.kind is ActionKind.CREATE:
                said = sum(
                    1
                    for item in ticket.timeline
                    if item.entry is not None and item.entry.visibility != "system"
                )
                if said:
                    yield Checkbox(
                        f"include the conversation so far ({said} replies and notes)",
                        id="conversation",
                    )
                yield Checkbox("mirror comments between the two tickets", id="mirror", value=True)
                if self.case_id is not None:
                    yield Label(plain(f"The new ticket joins case {self.case_id}."))
            yield Label("Dry run: this is what would be sent. Nothing leaves until you queue it.")
            with VerticalScroll(id="action-preview-scroll"):
                yield Static("", id="action-preview", markup=False)
            with Horizontal(id="action-buttons"):
                yield Button("Queue  ctrl+s", id="queue", variant="primary")
                yield Button("Cancel  esc", id="cancel")

    def _title(self) -> str:
        ticket = self.ticket
        where = f"{ticket.vendor} ({ticket.kind}) {safe_line(ticket.key, 24)}"
        if self.kind is ActionKind.CREATE:
            return f"Hand off {where} to another vendor"
        return f"{self.kind.label.capitalize()}: {where}"

    def on_mount(self) -> None:
        self.query_one("#action-dialog").border_title = "Confirm action"
        self._update_preview()
        focus = (
            self.query("#assignee")
            or self.query("#target")
            or self.query("#priority")
            or self.query("#text")
        )
        focus.first().focus()

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self._update_preview()

    def _target(self) -> str | None:
        if self.kind is not ActionKind.CREATE:
            return self.ticket.vendor
        value = self.query_one("#target", Select).value
        return value if isinstance(value, str) else None

    def build(self) -> Action:
        """The action as filled in (ValueError when something required is missing)."""
        ticket = self.ticket
        text = self.query_one("#text", Input).value if self.query("#text") else ""
        if self.kind is ActionKind.CREATE:
            talk = bool(
                self.query("#conversation") and self.query_one("#conversation", Checkbox).value
            )
            return Action(ActionKind.CREATE, handoff=handoff_from(ticket, text, conversation=talk))
        public = bool(self.query("#public") and self.query_one("#public", Checkbox).value)
        assignee = (
            self.query_one("#assignee", Input).value if self.kind is ActionKind.ASSIGN else ""
        )
        status = None
        if self.kind is ActionKind.SET_STATUS:
            chosen = self.query_one("#status", Select).value
            status = chosen if isinstance(chosen, TicketStatus) else None
        priority = None
        if self.kind is ActionKind.SET_PRIORITY:
            picked = self.query_one("#priority", Select).value
            priority = picked if isinstance(picked, Priority) else None
        return Action(
            self.kind,
            ticket.external_id,
            ticket.key,
            text=text,
            public=public,
            assignee=assignee,
            status=status,
            priority=priority,
        )

    def _update_preview(self) -> None:
        preview = self.query_one("#action-preview", Static)
        target = self._target()
        button = self.query_one("#queue", Button)
        if target is None:
            preview.update(plain("Choose the vendor to hand the ticket to."))
            button.disabled = True
            return
        try:
            action = self.build()
        except ValueError as exc:
            preview.update(plain(str(exc)))
            button.disabled = True
            return
        key = None if self.kind is ActionKind.CREATE else self.ticket.key
        dry_run = self.write_back.preview(target, action, key)
        if not dry_run.ok:
            preview.update(
                Content.styled(safe_line(f"Cannot send: {dry_run.error}", 300), "bold $error")
            )
            button.disabled = True
            return
        preview.update(plain(f"→ {dry_run.target}\n\n{dry_run.requests}"))
        button.disabled = False

    @on(Button.Pressed, "#queue")
    def action_queue(self) -> None:
        """Store the action in the outbox (the collector sends it)."""
        if self.query_one("#queue", Button).disabled:
            return
        target = self._target()
        if target is None:
            return
        action = self.build()
        mirror = bool(self.query("#mirror") and self.query_one("#mirror", Checkbox).value)
        self._queue(target, action, mirror)

    @work(thread=True, exclusive=True, group="queue-action", exit_on_error=False)
    def _queue(self, target: str, action: Action, mirror: bool) -> None:
        key = None if action.kind is ActionKind.CREATE else self.ticket.key
        try:
            ids = self.write_back.queue(
                target, action, key, case_id=self.case_id, mirror_comments=mirror
            )
        except (ValueError, KeyError) as exc:
            self.app.call_from_thread(
                self.notify, f"Not queued: {exc}", severity="error", markup=False
            )
            return
        extra = f" (+{len(ids) - 1} mirrored)" if len(ids) > 1 else ""
        self.app.call_from_thread(
            self.notify,
            f"Queued {action.kind.label} for {target}{extra}: the collector sends it",
            title="outbox",
            markup=False,
        )
        self.app.call_from_thread(self.dismiss, True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without queueing anything."""
        self.dismiss(False)


def _current_priority(ticket: TicketDetail) -> str:
    """What the ticket is at now, as paneglass reads it and as the vendor calls it."""
    now = ticket.priority or "no priority"
    raw = safe_line(ticket.raw_priority, 40) if ticket.raw_priority else None
    return f"Now {now}" + (f" (the vendor's {raw})" if raw and raw != now else "")


def _one_up(current: str | None) -> Priority:
    """The choice offered first: one step above the current priority (P1 stays P1)."""
    try:
        level = int(Priority(current).value[1:]) if current else 4
    except ValueError:
        level = 4
    return Priority(f"P{max(level - 1, 1)}")
