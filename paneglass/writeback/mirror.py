"""Mirroring replies written at a vendor: each one reaches the linked tickets once, never back.

A comment an operator writes in paneglass is mirrored when it is queued
(:meth:`paneglass.writeback.service.WriteBack.queue`). A reply written in a
vendor's own tool arrives as a new conversation entry; the store ledgers it
as ``pending`` in the transaction that stores it (:mod:`paneglass.store.mirroring`)
when its ticket has a link that mirrors comments. The collector asks
:meth:`ReplyMirror.settle_pending` every second, which settles each one in
one store transaction:

* ``own``: paneglass wrote it: a comment sent from the outbox to this ticket
  (an operator's, or a mirrored copy, which starts ``[from …]``), or the text
  of the hand-off that created the ticket. Mirroring it would bounce it back
  to where it came from;
* ``mirrored``: an internal comment ``[from network ITSD-4] Ana Ruiz: …`` is
  queued for every other linked ticket whose vendor takes comments;
* ``skipped``: no linked ticket can take it.

The ledger row is the dedupe: it survives restarts, and only one process can
move it out of ``pending``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from connectors import VendorConfig
from connectors.actions import Action, ActionKind
from paneglass.store import Actor, NewAction, OutboxItem, PendingMirror, Store
from paneglass.writeback.service import WriteBack

__all__ = ["MIRROR_ACTOR", "MIRROR_LIMIT", "ReplyMirror", "mirrored_text", "written_by_paneglass"]

MIRROR_ACTOR = Actor("paneglass", "reply mirroring")
"""Who the audit log says queued a mirrored copy of a vendor-side reply."""
MIRROR_LIMIT = 8000
"""Characters of a reply carried in a mirrored copy (the rest stays at the source vendor)."""
_COPY_MARK = re.compile(r"^\[from [^\]\n]{1,120}\]")
_RUN = re.compile(r"[^\W_]+")


def _normal(text: str) -> str:
    """Text reduced to its words, to compare what was sent with what the vendor shows."""
    return " ".join(_RUN.findall(text.casefold()))


def mirrored_text(vendor: str, key: str | None, author: str | None, body: str) -> str:
    """The copy's text: where it comes from and who wrote it, then the reply."""
    where = f"{vendor} {key}" if key else vendor
    text = body.strip()
    if len(text) > MIRROR_LIMIT:
        text = text[: MIRROR_LIMIT - 1] + "… (cut: the whole reply is at the vendor)"
    return f"[from {where}] {author}: {text}" if author else f"[from {where}] {text}"


def written_by_paneglass(body: str, sent: list[OutboxItem]) -> OutboxItem | None:
    """The outbox action that wrote this entry, if paneglass wrote it (else ``None``).

    ``sent`` are the actions aimed at the entry's ticket. A comment matches
    when the vendor shows the same words (it may wrap or sign them); a
    hand-off matches when the entry holds its description (vendors open the
    ticket with it, as its first comment or note).
    """
    seen = _normal(body)
    if not seen:
        return None
    for item in sent:
        try:
            action = Action.from_json(item.payload)
        except (ValueError, TypeError, KeyError):
            continue
        if action.kind is ActionKind.COMMENT:
            wrote = _normal(action.text)
        elif action.kind is ActionKind.CREATE and action.handoff is not None:
            wrote = _normal(action.handoff.description)
        else:
            continue
        if not wrote:
            continue
        if wrote == seen or (len(wrote) >= 12 and (wrote in seen or seen in wrote)):
            return item
    return None


class ReplyMirror:
    """Settles the replies waiting in the mirroring ledger (run by the collector)."""

    def __init__(
        self,
        store: Store,
        vendors: tuple[VendorConfig, ...] | list[VendorConfig],
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.clock = clock
        self.planner = WriteBack(store, vendors, MIRROR_ACTOR, clock)
        """Dry runs of the copies (the same plans an operator's comment gets)."""

    def settle_pending(self) -> int:
        """Settle every pending reply once; return how many copies were queued."""
        queued = 0
        for reply in self.store.pending_mirrors():
            queued += self._settle(reply)
        return queued

    def _settle(self, reply: PendingMirror) -> int:
        aimed = [
            item
            for item in self.store.outbox_items(
                500, vendor=reply.vendor, external_id=reply.ticket_external_id
            )
            if item.vendor == reply.vendor and item.state in ("sent", "sending", "queued")
        ]
        source = written_by_paneglass(reply.body, aimed)
        if source is not None or _COPY_MARK.match(reply.body):
            why = f"own: outbox {source.id}" if source is not None else "own: a mirrored copy"
            self.store.settle_mirror(reply.entry_id, "own", why, self.clock())
            return 0
        copies: list[tuple[Actor, NewAction]] = []
        targets: list[str] = []
        refused: list[str] = []
        text = mirrored_text(reply.vendor, reply.ticket_key, reply.author, reply.body)
        for link in self.store.links_of(reply.vendor, reply.ticket_external_id):
            if not link.mirror_comments:
                continue
            label = f"{link.vendor} {link.key or link.external_id}"
            copy = Action(ActionKind.COMMENT, link.external_id, link.key, text=text, public=False)
            preview = self.planner.preview(link.vendor, copy, link.key)
            if not preview.ok:
                refused.append(f"{label}: {preview.error}")
                continue
            targets.append(label)
            copies.append(
                (
                    MIRROR_ACTOR,
                    NewAction(
                        vendor=link.vendor,
                        kind=copy.kind.value,
                        payload=copy.to_json(),
                        summary=f"mirrored reply {copy.summary()}",
                        detail=preview.requests,
                        external_id=copy.ticket_id,
                        ticket_key=link.key,
                    ),
                )
            )
        detail = "; ".join([*(f"to {t}" for t in targets), *refused]) or "no mirrored link"
        state = "mirrored" if copies else "skipped"
        if not self.store.settle_mirror(reply.entry_id, state, detail, self.clock(), copies):
            return 0
        return len(copies)
