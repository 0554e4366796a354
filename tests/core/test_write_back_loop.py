"""The whole write-back loop on real parts: queue → outbox → vendor emulator → poll → store.

Two Zendesk accounts on loopback stand in for two vendors; the collector
sends what the console queued and the next poll brings the result back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors import VendorConfig
from connectors.actions import Action, ActionKind
from connectors.emulators.base import Reply, WorldTicket
from connectors.emulators.zendesk import ZendeskEmulator
from connectors.records import Priority, TicketStatus
from paneglass.collect import Collector
from paneglass.store import Actor, Store, TicketDetail
from paneglass.writeback import WriteBack, handoff_from

ANA = Actor("ana", "/dev/pts/7")


def _world(ref: str, title: str) -> WorldTicket:
    now = datetime.now(UTC) - timedelta(hours=1)
    return WorldTicket(
        ref, title, TicketStatus.OPEN, Priority.P2, now, now,
        assignee="Kim Lee", requester="Maria Jensen", asset="PRN-0042",
    )  # fmt: skip


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    desk, other = ZendeskEmulator(), ZendeskEmulator(first_ticket_id=9001)
    desk.start()
    other.start()
    key = desk.put_ticket(_world("printer", "Cannot print, 49.4C02"))
    vendors = [
        VendorConfig("desktop", "zendesk", desk.base_url, 1.0, settings=desk.vendor_settings()),
        VendorConfig("network", "zendesk", other.base_url, 1.0, settings=other.vendor_settings()),
    ]
    store = Store(f"sqlite:///{tmp_path / 'loop.db'}")
    collector = Collector(store, vendors)
    write_back = WriteBack(store, vendors, ANA, lambda: datetime.now(UTC))
    yield {
        "desk": desk,
        "other": other,
        "key": key,
        "store": store,
        "collector": collector,
        "wb": write_back,
    }
    desk.stop()
    other.stop()
    store.close()


def _detail(store: Store, key: str) -> TicketDetail:
    found = store.find_tickets(key, 1)
    assert found, f"{key} not in the store"
    detail = store.ticket_detail(found[0][0])
    assert detail is not None
    return detail


async def test_comment_and_status_go_out_once_and_come_back_in_the_next_poll(world: Any) -> None:
    store, collector, wb, desk = world["store"], world["collector"], world["wb"], world["desk"]
    await collector.poll_all_once()
    ticket = _detail(store, world["key"])
    preview = wb.preview(
        "desktop",
        Action(ActionKind.COMMENT, ticket.external_id, ticket.key, text="on site"),
        ticket.key,
    )
    assert preview.ok and f"PUT /api/v2/tickets/{ticket.external_id}.json" in preview.requests
    assert desk.comments_on(ticket.external_id) == [], "a dry run sends nothing"
    wb.queue(
        "desktop",
        Action(ActionKind.COMMENT, ticket.external_id, ticket.key, text="on site"),
        ticket.key,
    )
    wb.queue(
        "desktop",
        Action(ActionKind.SET_STATUS, ticket.external_id, ticket.key, status=TicketStatus.PENDING),
        ticket.key,
    )
    report = await collector.send_actions()
    assert (report.sent, report.failed) == (2, 0)
    assert [c.text for c in desk.comments_on(ticket.external_id)] == ["on site"]
    again = await collector.send_actions()
    assert again.sent == 0, "a sent action is never sent again"
    await collector.poll_all_once()
    assert _detail(store, world["key"]).status == "pending"
    states = [(i.kind, i.state) for i in store.outbox_items()]
    assert states == [("set_status", "sent"), ("comment", "sent")]
    audit = [(a.user, a.action) for a in reversed(store.audit_rows())]
    assert audit == [
        ("ana", "queued comment"),
        ("ana", "queued set_status"),
        ("ana", "sent comment"),
        ("ana", "sent set_status"),
    ]
    assert all(a.terminal == "/dev/pts/7" for a in store.audit_rows())
    await collector.aclose()


async def test_vendor_refusal_fails_with_reason_and_operator_retry_sends_it(world: Any) -> None:
    store, collector, wb, desk = world["store"], world["collector"], world["wb"], world["desk"]
    await collector.poll_all_once()
    ticket = _detail(store, world["key"])
    desk.inject(Reply(500, {"error": "InternalError", "description": "try later"}))
    (outbox_id,) = wb.queue(
        "desktop", Action(ActionKind.COMMENT, ticket.external_id, ticket.key, text="x"), ticket.key
    )
    await collector.send_actions()
    (item,) = store.outbox_items()
    assert item.state == "failed", "a comment is not retried by itself after an ambiguous 5xx"
    assert "try later" in (item.last_error or "")
    assert desk.comments_on(ticket.external_id) == []
    assert wb.retry(outbox_id)
    await collector.send_actions()
    assert store.outbox_items()[0].state == "sent"
    assert len(desk.comments_on(ticket.external_id)) == 1
    await collector.aclose()


async def test_rate_limited_action_waits_and_goes_later(world: Any) -> None:
    store, collector, wb, desk = world["store"], world["collector"], world["wb"], world["desk"]
    await collector.poll_all_once()
    ticket = _detail(store, world["key"])
    desk.inject(Reply(429, {"error": "APIRateLimitExceeded"}, headers={"Retry-After": "1"}))
    wb.queue(
        "desktop", Action(ActionKind.COMMENT, ticket.external_id, ticket.key, text="y"), ticket.key
    )
    await collector.send_actions()
    assert store.outbox_items()[0].state == "queued", "429 means not applied: safe to retry"
    sent = len(desk.requests)
    await collector.send_actions()
    assert len(desk.requests) == sent, "nothing is sent inside the Retry-After window"
    await asyncio.sleep(1.2)
    await collector.send_actions()
    assert store.outbox_items()[0].state == "sent"
    assert len(desk.comments_on(ticket.external_id)) == 1
    await collector.aclose()


async def test_handoff_creates_once_links_joins_the_case_and_mirrors_comments(world: Any) -> None:
    store, collector, wb = world["store"], world["collector"], world["wb"]
    desk, other = world["desk"], world["other"]
    await collector.poll_all_once()
    ticket = _detail(store, world["key"])
    case_id = store.create_case(ANA, datetime.now(UTC), "Cannot print")
    store.add_case_member(ANA, datetime.now(UTC), case_id, "desktop", ticket.external_id)
    action = Action(ActionKind.CREATE, handoff=handoff_from(ticket, "VLAN 40 looks down"))
    preview = wb.preview("network", action, None)
    assert preview.ok and '"external_id": "desktop:' in preview.requests
    other.inject(Reply(502, {"error": "BadGateway"}))
    wb.queue("network", action, None, case_id=case_id, mirror_comments=True)
    await collector.send_actions()
    item = store.outbox_items()[0]
    assert item.state == "queued" and item.attempts == 1, "a create with a dedupe key retries"
    # As if the first attempt had landed and only its answer was lost: the vendor has it.
    landed = await collector.connector("network").perform(action)
    await asyncio.sleep(5.1)  # the first backoff step
    await collector.send_actions()
    item = store.outbox_items()[0]
    assert item.state == "sent" and item.created_key == landed.created_key
    assert "already" in (item.answer or "")
    assert len(other.created) == 1, "the retry found the ticket instead of making a second"
    await collector.poll_all_once()
    (link,) = store.links_of("desktop", ticket.external_id)
    assert (link.vendor, link.key, link.status) == ("network", item.created_key, "new")
    detail = store.case_detail(case_id)
    assert detail is not None
    assert {(m.vendor, m.key) for m in detail.members} == {
        ("desktop", ticket.key),
        ("network", item.created_key),
    }
    wb.queue(
        "desktop",
        Action(ActionKind.COMMENT, ticket.external_id, ticket.key, text="user says it works"),
        ticket.key,
    )
    await collector.send_actions()
    assert [c.text for c in desk.comments_on(ticket.external_id)] == ["user says it works"]
    mirrored = other.comments_on(other.created[0])
    assert [c.text for c in mirrored] == [f"[from desktop {ticket.key}] user says it works"]
    await collector.aclose()
