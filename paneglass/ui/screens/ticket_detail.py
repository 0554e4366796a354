"""One ticket: every normalized field, its description, contract clocks and one timeline.

The timeline tells the ticket's story oldest first: what the vendor's people
wrote (public replies and internal notes, the vendor's system entries), what
changed as polls saw it, and what operators did through paneglass. ``e``
unfolds long entries and quoted earlier replies; ``t`` keeps only what
people wrote.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.style import Style
from textual.widgets import Collapsible, Footer, Static

from paneglass.sla import MAINTENANCE, ClockState, live_state, vendor_disagrees
from paneglass.store import ClockView, LinkView, OutboxItem, Store, TicketDetail
from paneglass.ui.display import countdown, local_time, plain, safe_line
from paneglass.ui.states import SLA, VENDOR_INCIDENT, outbox_face
from paneglass.ui.widgets.timeline import TimelineView, legend, render_timeline, summary

__all__ = ["Related", "TicketDetailScreen", "render_detail", "render_related"]

_LABEL_WIDTH = 16
_DESCRIPTION_LINES = 8


def safe_url(url: str | None) -> str | None:
    """The connector's own ``url`` if it is a plain http(s) URL, else ``None``.

    Only this field ever becomes a hyperlink: a link is never built from
    titles, comments or any other vendor text.
    """
    if not url:
        return None
    text = safe_line(url)
    if not text.startswith(("https://", "http://")) or any(c in text for c in ' "<>'):
        return None
    return text


def _link(url: str | None) -> Content:
    target = safe_url(url)
    if target is None:
        return _field("Link", None)
    # A style object, not markup: the URL can never be parsed as markup or actions.
    link = Content.styled(target, Style(link=target, underline=True))
    return Content.assemble((f"{'Link':<{_LABEL_WIDTH}}", "$text-muted"), link)


def _field(label: str, value: object) -> Content:
    text = "—" if value is None or value == "" else safe_line(value)
    return Content.assemble((f"{label:<{_LABEL_WIDTH}}", "$text-muted"), text)


def _disagrees(ticket: TicketDetail, clock: ClockView, now: datetime) -> bool:
    return vendor_disagrees(
        state=clock.state,
        due_at=clock.due_at,
        vendor_breached=ticket.vendor_breached,
        vendor_due_at=ticket.vendor_due_at,
        now=now,
    )


def pretty_payload(raw: str | None) -> str:
    """The stored vendor payload, indented, for reading (cleaned; never markup)."""
    if not raw:
        return "(the connector kept no payload for this ticket)"
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False, sort_keys=True)
    except ValueError:
        return raw


@dataclass(frozen=True)
class Related:
    """What paneglass itself knows around a ticket: links, cases, write-back actions."""

    links: tuple[LinkView, ...] = ()
    cases: tuple[tuple[int, str], ...] = ()
    actions: tuple[OutboxItem, ...] = ()


def render_related(related: Related, zone: tzinfo | None) -> Content:
    """Linked tickets with their live status, cases, and this ticket's outbox actions."""
    lines: list[Content] = [Content.styled("Linked tickets", "bold underline")]
    if not related.links:
        lines.append(Content.styled("  none", "$text-muted"))
    for link in related.links:
        if link.mail:
            arrow = "→ mail about" if link.direction == "to" else "← mail"
        else:
            arrow = "→ handed to" if link.direction == "to" else "← handed over from"
        status = link.status or "not polled yet"
        mirror = "  · comments mirrored" if link.mirror_comments else ""
        lines.append(
            Content.assemble(
                f"  {arrow} ",
                (f"{link.vendor} {safe_line(link.key or link.external_id, 30)}", "bold"),
                f"  status: {status}{mirror}",
            )
        )
    lines += [Content(""), Content.styled("Cases", "bold underline")]
    if not related.cases:
        lines.append(Content.styled("  in no case", "$text-muted"))
    for case_id, title in related.cases:
        lines.append(Content.assemble(f"  case {case_id}  ", safe_line(title, 80)))
    lines += [Content(""), Content.styled("Actions from paneglass (outbox)", "bold underline")]
    if not related.actions:
        lines.append(Content.styled("  none", "$text-muted"))
    for item in related.actions:
        face = outbox_face(item.state)
        answer = f"  [{safe_line(item.answer, 80)}]" if item.answer else ""
        where = f"{item.vendor}: " if item.kind == "create" else ""
        who = safe_line(item.requested_by, 24)
        lines.append(
            Content.assemble(
                (f"  {face.glyph} {face.word:<9}", face.style),
                f" {local_time(item.created_at, zone)}  {who}: {where}",
                safe_line(item.summary, 80),
                (answer, "$text-muted"),
            )
        )
    return Content("\n").join(lines)


def render_detail(
    ticket: TicketDetail,
    now: datetime,
    zone: tzinfo | None,
    *,
    width: int = 100,
    view: TimelineView | None = None,
) -> Content:
    """The detail text; every vendor string enters as plain text."""
    view = view or TimelineView()

    def when(value: datetime | None) -> str:
        return local_time(value, zone)

    lines: list[Content] = [
        Content.assemble(
            (safe_line(ticket.key), "bold $primary"), "  ", (safe_line(ticket.title), "bold")
        ),
        Content(""),
    ]
    if ticket.vendor_incident is not None:
        lines += [
            Content.assemble(
                (f"{VENDOR_INCIDENT.glyph} {VENDOR_INCIDENT.word}  ", VENDOR_INCIDENT.style),
                "the vendor's status page: ",
                safe_line(ticket.vendor_incident, 100),
            ),
            Content(""),
        ]
    lines += [
        _field("Vendor", f"{ticket.vendor} ({ticket.kind})"),
        _field("External id", ticket.external_id),
        _field("Status", f"{ticket.status}  (vendor: {ticket.raw_status})"),
        _field("Priority", f"{ticket.priority or '—'}  (vendor: {ticket.raw_priority or '—'})"),
        _field("Assignee", ticket.assignee),
        _field("Group", ticket.group_name),
        _field("Requester", ticket.requester),
        _field("Asset / CI", ticket.asset),
        _field("Created", when(ticket.created_at)),
        _field("Updated", when(ticket.updated_at)),
        _field("Resolved", when(ticket.resolved_at) if ticket.resolved_at else None),
        _field(
            "First response", when(ticket.first_response_at) if ticket.first_response_at else None
        ),
        _field("Vendor due", when(ticket.vendor_due_at) if ticket.vendor_due_at else None),
        _field(
            "Vendor breached",
            None if ticket.vendor_breached is None else ("yes" if ticket.vendor_breached else "no"),
        ),
        _link(ticket.url),
        _field("First seen", when(ticket.first_seen_at)),
        Content(""),
        Content.styled("Description", "bold underline"),
        *_description(ticket.description, width, view.expanded),
        Content(""),
        Content.styled("Contract clocks", "bold underline"),
    ]
    if not ticket.clocks:
        lines.append(Content.styled("  no contract policy matches this ticket", "$text-muted"))
    for clock in ticket.clocks:
        name = clock.metric if not clock.cycle else f"{clock.metric} #{clock.cycle + 1}"
        if clock.state is ClockState.UNKNOWN:
            face = SLA[clock.state]
            lines.append(
                Content.assemble(
                    f"  {name:<14}",
                    (f"{face.glyph} {face.word:<11}", face.style),
                    " first seen past New and the vendor gives no response time",
                    f"  ({clock.policy})",
                )
            )
            continue
        if clock.stopped_at is not None:
            remaining = f"stopped {when(clock.stopped_at)}"
        elif clock.due_at is not None:
            remaining = f"due {when(clock.due_at)}  ({countdown(clock.due_at - now).strip()})"
        elif clock.pause_reason == MAINTENANCE:
            remaining = f"paused: {MAINTENANCE}"
        else:
            remaining = "paused"
        target_h = clock.target_seconds / 3600
        used = clock.elapsed_seconds / clock.target_seconds * 100 if clock.target_seconds else 0
        face = SLA[live_state(clock.state, clock.due_at, now, clock.near_breach_at)]
        lines.append(
            Content.assemble(
                f"  {name:<14}",
                (f"{face.label:<13}", f"bold {face.colour}".strip()),
                f" {used:4.0f}% of {target_h:g}h  {remaining}  ({clock.policy})",
            )
        )
    if ticket.vendor_due_at is not None or ticket.vendor_breached is not None:
        said = []
        if ticket.vendor_due_at is not None:
            said.append(f"due {when(ticket.vendor_due_at)}")
        if ticket.vendor_breached is not None:
            said.append("breached" if ticket.vendor_breached else "not breached")
        lines.append(Content.assemble("  vendor says   ", ", ".join(said)))
        running = [c for c in ticket.clocks if c.metric == "resolution" and c.stopped_at is None]
        if running and _disagrees(ticket, running[-1], now):
            lines.append(
                Content.styled(
                    "  ≠ the vendor's SLA disagrees with the contract clock", "bold $sla-at-risk"
                )
            )
    lines += [
        Content(""),
        Content.assemble(
            ("Timeline", "bold underline"),
            (f"  oldest first · {summary(ticket.timeline)}", "$text-muted"),
        ),
        Content.assemble("  ", legend()),
        render_timeline(
            ticket.timeline, zone=zone, width=width, view=view, omitted=ticket.timeline_omitted
        ),
    ]
    return Content("\n").join(lines)


def _description(text: str | None, width: int, expanded: bool) -> list[Content]:
    """The ticket's own text, folded to its first lines unless unfolded."""
    if not text or not text.strip():
        return [Content.styled("  the vendor gives no description", "$text-muted")]
    lines = [
        line
        for paragraph in text.strip().split("\n")
        for line in (textwrap.wrap(paragraph, max(width - 2, 20)) or [""])
    ]
    shown = [Content("  " + line) for line in lines]
    if not expanded and len(lines) > _DESCRIPTION_LINES + 2:
        more = len(lines) - _DESCRIPTION_LINES
        shown = shown[:_DESCRIPTION_LINES]
        shown.append(Content.styled(f"  … {more} more lines  (e unfolds)", "$text-muted"))
    return shown


class TicketDetailScreen(Screen[None]):
    """A full-screen view of one ticket."""

    DEFAULT_CSS = """
    #detail-scroll { scrollbar-gutter: stable; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,backspace", "app.pop_screen", "Back", id="detail.back"),
        Binding("c", "copy_key", "Copy key", id="detail.copy"),
        Binding("o", "open_link", "Open in vendor UI", id="detail.open"),
        Binding("p", "toggle_raw", "Raw payload", id="detail.raw"),
        Binding("r", "history('requester')", "Requester history", id="detail.requester"),
        Binding("a", "history('asset')", "Asset history", id="detail.asset"),
        Binding("e", "unfold", "Unfold entries", id="detail.unfold"),
        Binding("t", "people_only", "Replies & notes only", id="detail.people"),
    ]

    def __init__(
        self, store: Store, ticket_id: int, *, clock: Callable[[], datetime], zone: tzinfo | None
    ) -> None:
        super().__init__()
        self.store = store
        self.ticket_id = ticket_id
        self.clock = clock
        self.zone = zone
        self.ticket: TicketDetail | None = None
        self.related = Related()
        self.view = TimelineView()
        """How the timeline is shown (unfolded, replies and notes only)."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-scroll"):
            yield Static("Loading…", id="detail", markup=False)
            yield Static("", id="related", markup=False)
            with Collapsible(title="Raw vendor payload (p)", collapsed=True, id="raw"):
                yield Static("", id="raw-body", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail-scroll").border_title = "Ticket"
        self.query_one("#detail-scroll").focus()
        self.refresh_data()

    def refresh_data(self) -> None:
        """Re-read the ticket (after a change notice)."""
        self._load()

    @work(thread=True, exclusive=True, group="detail-query", exit_on_error=False)
    def _load(self) -> None:
        ticket = self.store.ticket_detail(self.ticket_id)
        related = Related()
        if ticket is not None:
            related = Related(
                links=tuple(self.store.links_of(ticket.vendor, ticket.external_id)),
                cases=tuple(self.store.cases_of(ticket.vendor, ticket.external_id)),
                actions=tuple(
                    self.store.outbox_items(
                        20, vendor=ticket.vendor, external_id=ticket.external_id
                    )
                ),
            )
        self.app.call_from_thread(self._show, ticket, related)

    def _show(self, ticket: TicketDetail | None, related: Related | None = None) -> None:
        self.ticket = ticket
        self.related = related or Related()
        self.query_one("#related", Static).update(
            Content("\n").join([Content(""), render_related(self.related, self.zone)])
        )
        body = self.query_one("#detail", Static)
        if ticket is None:
            body.update(Content("This ticket is no longer in the store."))
            return
        self.query_one("#detail-scroll").border_title = plain(
            f"Ticket  {safe_line(ticket.key, 30)}"
        )
        self._render_body()
        self.query_one("#raw-body", Static).update(plain(pretty_payload(ticket.raw)))

    def _render_body(self) -> None:
        if self.ticket is None:
            return
        # The gutter is reserved (stable), so the text's width is known before it is laid out.
        width = self.query_one("#detail-scroll").scrollable_content_region.width - 1
        self.query_one("#detail", Static).update(
            render_detail(self.ticket, self.clock(), self.zone, width=width, view=self.view)
        )

    def on_resize(self) -> None:
        self._render_body()

    def action_unfold(self) -> None:
        """Unfold long entries and quoted earlier replies (or fold them again)."""
        self.view = replace(self.view, expanded=not self.view.expanded)
        self._render_body()

    def action_people_only(self) -> None:
        """Show only what people wrote (or everything again)."""
        self.view = replace(self.view, people_only=not self.view.people_only)
        self._render_body()
        note = "Only replies and notes." if self.view.people_only else "The whole timeline."
        self.notify(note, markup=False, timeout=2)

    def action_copy_key(self) -> None:
        """Copy the ticket key to the clipboard (OSC 52 of our own, base64-encoded text)."""
        if self.ticket is not None:
            self.app.copy_to_clipboard(safe_line(self.ticket.key))
            self.notify(f"Copied {safe_line(self.ticket.key)}", markup=False)

    def action_open_link(self) -> None:
        """Open the ticket in the vendor's own UI (the connector's URL only)."""
        url = safe_url(self.ticket.url) if self.ticket is not None else None
        if url is None:
            self.notify("This vendor gives no link for the ticket.", markup=False)
            return
        self.app.open_url(url)

    def action_toggle_raw(self) -> None:
        """Fold or unfold the vendor's raw payload."""
        raw = self.query_one("#raw", Collapsible)
        raw.collapsed = not raw.collapsed

    def action_history(self, column: str) -> None:
        """Every ticket of this requester (or asset) across vendors."""
        from paneglass.ui.screens.ticket_list import open_history

        if self.ticket is None:
            return
        value = self.ticket.requester if column == "requester" else self.ticket.asset
        open_history(self, self.store, column, value, clock=self.clock, zone=self.zone)
