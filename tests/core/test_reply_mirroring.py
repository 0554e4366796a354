"""Mirroring both ways, on real parts: a reply written at one vendor reaches the linked ticket
at the other once, and never comes back, even across a restart.

The network team's Jira and the desktop vendor's Zendesk run as loopback
emulators; the desktop ticket was handed to the network team with comment
mirroring on (a link in the store, as a hand-off makes it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors import VendorConfig
from connectors.actions import Action, ActionKind
from connectors.emulators.base import WorldEntry, WorldTicket
from connectors.emulators.jira import JiraEmulator
from connectors.emulators.zendesk import ZendeskEmulator
from connectors.records import Priority, TicketStatus
from paneglass.collect import Collector
from paneglass.store import Actor, NewAction, OutboxItem, Store
from paneglass.writeback import WriteBack, handoff_from
from paneglass.writeback.mirror import mirrored_text, written_by_paneglass

KIM = Actor("kim", "/dev/pts/4")


def _ticket(ref: str, title: str) -> WorldTicket:
    at = datetime.now(UTC) - timedelta(hours=1)
    return WorldTicket(
        ref, title, TicketStatus.OPEN, Priority.P2, at, at, requester="Maria Jensen"
    )  # fmt: skip


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    desk, network = ZendeskEmulator(), JiraEmulator()
    desk.start()
    network.start()
    desk_key = desk.put_ticket(_ticket("printer", "Cannot print, error code 49.4C02"))
    net_key = network.put_ticket(_ticket("vlan", "Printer VLAN unreachable from 3rd floor"))
    vendors = [
        VendorConfig("desktop", "zendesk", desk.base_url, 1.0, settings=desk.vendor_settings()),
        VendorConfig(
            "network",
            "jira",
            network.base_url,
            1.0,
            settings={**network.vendor_settings(), "project": "ITSD"},
        ),
    ]
    store = Store(f"sqlite:///{tmp_path / 'mirror.db'}")
    yield {
        "desk": desk,
        "network": network,
        "keys": (desk_key, net_key),
        "vendors": vendors,
        "store": store,
    }
    desk.stop()
    network.stop()
    store.close()


def _id(store: Store, key: str) -> tuple[int, str]:
    found = store.find_tickets(key, 1)
    assert found, key
    detail = store.ticket_detail(found[0][0])
    assert detail is not None
    return detail.id, detail.external_id


async def _linked(world: dict[str, Any]) -> tuple[Collector, str, str]:
    """Poll both vendors, then link the two tickets the way a sent hand-off does."""
    store: Store = world["store"]
    collector = Collector(store, world["vendors"])
    await collector.poll_all_once()
    desk_key, net_key = world["keys"]
    desk_row, desk_id = _id(store, desk_key)
    _net_row, net_id = _id(store, net_key)
    desk = store.ticket_detail(desk_row)
    assert desk is not None
    now = datetime.now(UTC)
    outbox_id = store.enqueue_action(
        KIM,
        now,
        NewAction(
            vendor="network",
            kind="create",
            payload=Action(ActionKind.CREATE, handoff=handoff_from(desk)).to_json(),
            summary="hand off (create) from desktop",
            source=("desktop", desk_id),
            mirror_comments=True,
        ),
    )
    store.claim_action(outbox_id, now, "test:1")
    store.action_sent(outbox_id, now, "HTTP 201", 201, (net_id, net_key))
    return collector, desk_id, net_id


async def test_a_reply_at_one_vendor_reaches_the_linked_ticket_once(world: Any) -> None:
    store, desk, network = world["store"], world["desk"], world["network"]
    collector, desk_id, net_id = await _linked(world)
    _desk_key, net_key = world["keys"]
    network.put_entry(
        "vlan",
        WorldEntry(
            "r1", "Ana Ruiz", "VLAN 40 was pruned by last night's change; restored.",
            datetime.now(UTC),
        ),
    )  # fmt: skip
    await collector.poll_all_once()  # the reply arrives (and waits in the mirroring ledger)
    await collector.send_actions()  # its copy is queued and sent to the desktop ticket
    copies = [c.text for c in desk.comments_on(desk_id)]
    assert copies == [
        f"[from network {net_key}] Ana Ruiz: VLAN 40 was pruned by last night's change; restored."
    ]
    assert not desk.comments_on(desk_id)[0].public, "a mirrored copy is an internal note"

    for _ in range(3):  # the copy comes back from the desktop vendor: it must not bounce
        await collector.poll_all_once()
        await collector.send_actions()
    assert network.comments_on(net_id) == [], "the copy was sent back to where it came from"
    assert len(desk.comments_on(desk_id)) == 1, "the reply was mirrored more than once"

    await collector.aclose()
    again = Collector(store, world["vendors"])  # a restart: the ledger is in the store
    for _ in range(2):
        await again.poll_all_once()
        await again.send_actions()
    assert len(desk.comments_on(desk_id)) == 1 and network.comments_on(net_id) == []
    mirrored = [i for i in store.outbox_items() if i.summary.startswith("mirrored reply")]
    assert [(i.vendor, i.state) for i in mirrored] == [("desktop", "sent")]
    audit = [a for a in store.audit_rows() if a.action == "queued comment"]
    assert {a.user for a in audit} == {"paneglass"}, "the audit says paneglass mirrored it"
    await again.aclose()


async def test_an_operator_comment_is_mirrored_when_queued_and_never_again(world: Any) -> None:
    store, desk, network = world["store"], world["desk"], world["network"]
    collector, desk_id, net_id = await _linked(world)
    desk_key, _ = world["keys"]
    write_back = WriteBack(store, world["vendors"], KIM, lambda: datetime.now(UTC))
    action = Action(ActionKind.COMMENT, desk_id, desk_key, text="Maria confirms: jobs stop")
    assert len(write_back.queue("desktop", action, desk_key)) == 2  # itself and the mirror
    for _ in range(4):
        await collector.send_actions()
        await collector.poll_all_once()
    assert [c.text for c in desk.comments_on(desk_id)] == ["Maria confirms: jobs stop"]
    assert [c.text for c in network.comments_on(net_id)] == [
        f"[from desktop {desk_key}] Maria confirms: jobs stop"
    ]
    entries = {(e["vendor"], e["body"]) for e in store.iter_entries()}
    assert ("desktop", "Maria confirms: jobs stop") in entries, "both came back in polls"
    assert ("network", f"[from desktop {desk_key}] Maria confirms: jobs stop") in entries
    assert store.pending_mirrors() == []
    await collector.aclose()


def test_what_paneglass_wrote_is_recognised_however_the_vendor_shows_it() -> None:
    def item(action: Action, n: int = 1) -> OutboxItem:
        at = datetime.now(UTC)
        return OutboxItem(
            n, "desktop", "1", "#1", action.kind.value, action.to_json(), "", "sent", 1,
            at, at, "kim", None, None, None, None,
        )  # fmt: skip

    sent = [item(Action(ActionKind.COMMENT, "1", text="Toner replaced, please test."))]
    assert written_by_paneglass("Toner replaced,\n\nplease test.", sent) is not None
    assert written_by_paneglass("Toner replaced, please test.\n--\nKim, Desk", sent) is not None
    assert written_by_paneglass("Please test the toner.", sent) is None
    assert written_by_paneglass("ok", [item(Action(ActionKind.COMMENT, "1", text="ok"))])
    assert (
        written_by_paneglass("ok then", [item(Action(ActionKind.COMMENT, "1", text="ok"))]) is None
    )
    text = mirrored_text("network", "ITSD-4", "Ana Ruiz", "x" * 9000)
    assert text.startswith("[from network ITSD-4] Ana Ruiz: xxx") and len(text) < 8100
