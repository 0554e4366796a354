"""The console's write-back service: plan an action for the dry run, then queue it.

The UI never talks to a vendor: it asks this service for the dry-run text of
an action (the connector's :meth:`~connectors.base.Connector.plan`, nothing
sent) and, once the operator confirms, stores it in the outbox. The collector
sends it. Comments on a ticket whose links mirror comments are queued for the
linked tickets too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from connectors import Connector, VendorConfig, load_connector
from connectors.actions import Action, ActionKind, Handoff
from connectors.errors import ConnectorError
from connectors.records import Priority
from paneglass.store import Actor, NewAction, Store, TicketDetail

__all__ = [
    "HANDOFF_CONVERSATION_LIMIT",
    "Preview",
    "WriteBack",
    "conversation_text",
    "handoff_from",
]


@dataclass(frozen=True)
class Preview:
    """The dry run of one action: what would be sent, or why it cannot be."""

    vendor: str
    kind: str
    target: str
    """``desktop (zendesk) #4201``, or ``network (jira): new ticket``."""
    requests: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the action can be queued."""
        return self.error is None


HANDOFF_CONVERSATION_LIMIT = 6000
"""Characters of conversation a hand-off carries (the newest entries; the rest stays linked)."""
_SAID = {"public": "reply", "internal": "internal note"}


def handoff_from(ticket: TicketDetail, note: str = "", *, conversation: bool = False) -> Handoff:
    """What a hand-off of ``ticket`` carries to another vendor.

    The new ticket's description is the operator's note, then the ticket's own
    description (the title when there is neither) and, when asked for, the
    conversation so far (replies and notes, oldest first, times in UTC; the
    newest :data:`HANDOFF_CONVERSATION_LIMIT` characters). Each connector adds
    the reference back, requester, asset and link (``Handoff.body_text`` or its
    own fields), so every vendor's create plan shows all of it.
    """
    parts = [text for text in (note.strip(), (ticket.description or "").strip()) if text]
    if not parts:
        parts.append(ticket.title)
    if conversation:
        told = conversation_text(ticket)
        if told:
            parts.append(told)
    return Handoff(
        title=ticket.title,
        description="\n\n".join(parts),
        source_vendor=ticket.vendor,
        source_key=ticket.key,
        source_external_id=ticket.external_id,
        correlation=f"{ticket.vendor}:{ticket.external_id}",
        requester=ticket.requester,
        asset=ticket.asset,
        priority=Priority(ticket.priority) if ticket.priority else None,
        source_url=ticket.url,
    )


def conversation_text(ticket: TicketDetail, limit: int = HANDOFF_CONVERSATION_LIMIT) -> str:
    """The ticket's replies and notes as plain text for another vendor (no system entries)."""
    entries = [
        item.entry
        for item in ticket.timeline
        if item.entry is not None and item.entry.visibility != "system" and item.entry.body.strip()
    ]
    blocks: list[str] = []
    used = 0
    for entry in reversed(entries):  # the newest first, until the limit
        said = _SAID.get(entry.visibility, entry.visibility)
        head = f"— {entry.created_at:%Y-%m-%d %H:%M} UTC · {entry.author or 'unknown'} · {said}"
        block = f"{head}\n{entry.body.strip()}"
        if blocks and used + len(block) > limit:
            break
        blocks.append(block[:limit])
        used += len(block)
    if not blocks:
        return ""
    left = len(entries) - len(blocks)
    count = f"{len(blocks)} of {len(entries)}" if left else str(len(entries))
    header = f"Conversation so far at {ticket.vendor} {ticket.key} ({count} entries, oldest first):"
    return "\n\n".join([header, *reversed(blocks)])


class WriteBack:
    """Plans and queues write-back actions for one console."""

    def __init__(
        self,
        store: Store,
        vendors: tuple[VendorConfig, ...] | list[VendorConfig],
        actor: Actor,
        clock: Callable[[], datetime],
        *,
        poke: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.vendors = {v.name: v for v in vendors if v.enabled}
        self.actor = actor
        self.clock = clock
        self.poke = poke
        """Tells an in-process collector to look at the outbox now."""

    def planner(self, vendor: str) -> type[Connector] | None:
        """The vendor's connector class: dry runs come from its settings, no client is built."""
        if vendor not in self.vendors:
            return None
        return load_connector(self.vendors[vendor].kind)

    def supported(self, vendor: str) -> frozenset[ActionKind]:
        """What this vendor's connector can do."""
        planner = self.planner(vendor)
        return planner.supported_actions if planner is not None else frozenset()

    def handoff_targets(self, source_vendor: str) -> list[str]:
        """Vendors a ticket can be handed to (those that can create tickets)."""
        return [
            name
            for name in self.vendors
            if name != source_vendor and ActionKind.CREATE in self.supported(name)
        ]

    def preview(self, vendor: str, action: Action, key: str | None) -> Preview:
        """The dry run: the exact requests, or the reason the action cannot be sent."""
        config = self.vendors.get(vendor)
        kind = config.kind if config else "?"
        target = f"{vendor} ({kind}) {key}" if key else f"{vendor} ({kind}): new ticket"
        planner = self.planner(vendor)
        if planner is None:
            return Preview(vendor, action.kind, target, "", f"vendor {vendor!r} is not configured")
        if action.kind not in planner.supported_actions:
            return Preview(
                vendor, action.kind, target, "", f"{kind} does not support {action.kind.label}"
            )
        try:
            planned = planner.plan_action(self.vendors[vendor], action)
        except ConnectorError as exc:
            return Preview(vendor, action.kind, target, "", str(exc))
        return Preview(vendor, action.kind, target, "\n\n".join(p.describe() for p in planned))

    def queue(
        self,
        vendor: str,
        action: Action,
        key: str | None,
        *,
        case_id: int | None = None,
        mirror_comments: bool = False,
    ) -> list[int]:
        """Store the action (and mirrored copies of a comment); return the outbox ids."""
        preview = self.preview(vendor, action, key)
        if not preview.ok:
            raise ValueError(preview.error)
        source = None
        if action.handoff is not None:
            source = (action.handoff.source_vendor, action.handoff.source_external_id)
        ids = [
            self.store.enqueue_action(
                self.actor,
                self.clock(),
                NewAction(
                    vendor=vendor,
                    kind=action.kind.value,
                    payload=action.to_json(),
                    summary=action.summary(),
                    detail=preview.requests,
                    external_id=action.ticket_id,
                    ticket_key=key,
                    source=source,
                    case_id=case_id,
                    mirror_comments=mirror_comments,
                ),
            )
        ]
        if action.kind is ActionKind.COMMENT and action.ticket_id:
            ids += self._mirror(vendor, action, key)
        self.poke()
        return ids

    def _mirror(self, vendor: str, action: Action, key: str | None) -> list[int]:
        ids: list[int] = []
        for link in self.store.links_of(vendor, action.ticket_id or ""):
            if not link.mirror_comments:
                continue
            copy = Action(
                ActionKind.COMMENT,
                link.external_id,
                link.key,
                text=f"[from {vendor} {key}] {action.text}",
                public=False,
            )
            preview = self.preview(link.vendor, copy, link.key)
            if not preview.ok:
                continue
            ids.append(
                self.store.enqueue_action(
                    self.actor,
                    self.clock(),
                    NewAction(
                        vendor=link.vendor,
                        kind=copy.kind.value,
                        payload=copy.to_json(),
                        summary=f"mirrored {copy.summary()}",
                        detail=preview.requests,
                        external_id=copy.ticket_id,
                        ticket_key=link.key,
                    ),
                )
            )
        return ids

    def retry(self, outbox_id: int) -> bool:
        """Send a failed action again."""
        done = self.store.retry_action(outbox_id, self.actor, self.clock())
        self.poke()
        return done

    def cancel(self, outbox_id: int) -> bool:
        """Drop a queued or failed action."""
        return self.store.cancel_action(outbox_id, self.actor, self.clock())
