"""The writable console's ticket screen: the read-only view plus write-back keys.

Kept as a subclass so that a read-only console (``--read-only``, ``serve``)
and the wall never even have these actions: they use the base screen, which
has no method a key, click or command could reach.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from functools import partial
from typing import ClassVar

from textual import work
from textual.app import SystemCommand
from textual.binding import Binding, BindingType

from connectors.actions import ActionKind
from paneglass.store import MAIL_KIND, Store, TicketDetail
from paneglass.ui.screens.action_dialog import ActionDialog
from paneglass.ui.screens.case_picker import CasePicker
from paneglass.ui.screens.ticket_detail import Related, TicketDetailScreen
from paneglass.ui.screens.ticket_picker import TicketPicker
from paneglass.writeback import CaseEdits, WriteBack

__all__ = ["ActionTicketDetailScreen"]

_KEYED: dict[str, ActionKind] = {
    "comment": ActionKind.COMMENT,
    "assign": ActionKind.ASSIGN,
    "set_status": ActionKind.SET_STATUS,
    "set_priority": ActionKind.SET_PRIORITY,
    "acknowledge": ActionKind.ACKNOWLEDGE,
    "resolve": ActionKind.RESOLVE,
    "hand_off": ActionKind.CREATE,
}


class ActionTicketDetailScreen(TicketDetailScreen):
    """One ticket, with comment, assign, status, priority, acknowledge/resolve, hand-off and
    cases."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "act('comment')", "Comment", id="act.comment"),
        Binding("A", "act('assign')", "Assign", id="act.assign"),
        Binding("s", "act('set_status')", "Status", id="act.status"),
        Binding("P", "act('set_priority')", "Priority", id="act.priority"),
        Binding("k", "act('acknowledge')", "Acknowledge", id="act.acknowledge"),
        Binding("R", "act('resolve')", "Resolve", id="act.resolve"),
        Binding("h", "act('hand_off')", "Hand off", id="act.handoff"),
        Binding("C", "add_to_case", "Add to case", id="act.case"),
        Binding("M", "toggle_mirror", "Mirror comments", id="act.mirror"),
        Binding("L", "attach_mail", "Attach to ticket", id="act.attach_mail"),
    ]

    def __init__(
        self,
        store: Store,
        ticket_id: int,
        *,
        clock: Callable[[], datetime],
        zone: tzinfo | None,
        write_back: WriteBack,
        case_edits: CaseEdits,
    ) -> None:
        super().__init__(store, ticket_id, clock=clock, zone=zone)
        self.write_back = write_back
        self.case_edits = case_edits

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only what this vendor's connector supports (and hand-off where a target exists)."""
        if action == "attach_mail":
            return self.ticket is not None and self.ticket.kind == MAIL_KIND
        if action != "act" or not parameters or self.ticket is None:
            return True
        kind = _KEYED.get(str(parameters[0]))
        if kind is None:
            return False
        vendor = self.ticket.vendor
        if kind is ActionKind.CREATE:
            return bool(self.write_back.handoff_targets(vendor))
        return kind in self.write_back.supported(vendor)

    def _show(self, ticket: TicketDetail | None, related: Related | None = None) -> None:
        super()._show(ticket, related)
        self.refresh_bindings()

    def palette_commands(self) -> Iterator[SystemCommand]:
        """This ticket's actions in the command palette (only those the vendor supports)."""
        labels = {
            "comment": "Comment on this ticket",
            "assign": "Assign this ticket",
            "set_status": "Change this ticket's status",
            "set_priority": "Change this ticket's priority",
            "acknowledge": "Acknowledge this incident",
            "resolve": "Resolve this incident",
            "hand_off": "Hand this ticket to another vendor",
        }
        for name, label in labels.items():
            if self.check_action("act", (name,)):
                yield SystemCommand(
                    label, "asks for confirmation, with a dry run", partial(self.action_act, name)
                )
        yield SystemCommand(
            "Add this ticket to a case", "open or new case", self.action_add_to_case
        )
        if self.check_action("attach_mail", ()):
            yield SystemCommand(
                "Attach this mail to a ticket", "by the ticket's key", self.action_attach_mail
            )

    def action_act(self, name: str) -> None:
        """Open the confirmation dialog (with its dry run) for one action."""
        kind = _KEYED.get(name)
        if self.ticket is None or kind is None:
            return
        case_id = self.related.cases[0][0] if self.related.cases else None
        self.app.push_screen(
            ActionDialog(self.write_back, self.ticket, kind, case_id=case_id),
            lambda _queued: self.refresh_data(),
        )

    def action_add_to_case(self) -> None:
        """Put this ticket in an open case, or in a new one."""
        if self.ticket is None:
            return
        self.app.push_screen(
            CasePicker(self.store, self.case_edits, self.ticket), lambda _d: self.refresh_data()
        )

    def action_attach_mail(self) -> None:
        """Attach this mail item to the ticket it is about (a case: ``C``)."""
        if self.ticket is None or self.ticket.kind != MAIL_KIND:
            return
        self.app.push_screen(
            TicketPicker(self.store, self.case_edits, self.ticket), lambda _d: self.refresh_data()
        )

    def action_toggle_mirror(self) -> None:
        """Mirror comments over every link of this ticket, or stop mirroring."""
        if self.ticket is None or not self.related.links:
            self.notify("This ticket has no linked ticket.", markup=False)
            return
        mirror = not all(link.mirror_comments for link in self.related.links)
        self._set_mirror(self.ticket, mirror)

    @work(thread=True, exclusive=True, group="mirror", exit_on_error=False)
    def _set_mirror(self, ticket: TicketDetail, mirror: bool) -> None:
        self.case_edits.mirror_comments(ticket, mirror)
        self.app.call_from_thread(
            self.notify,
            "Comments are mirrored to linked tickets." if mirror else "Comment mirroring is off.",
            markup=False,
        )
        self.app.call_from_thread(self.refresh_data)
