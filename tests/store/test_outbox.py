"""Outbox, audit log, links and cases in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from connectors import VendorConfig
from connectors.records import PollResult, TicketStatus
from paneglass.collect import process_gone, this_host
from paneglass.store import Actor, NewAction, PollRunInfo, Store
from paneglass.store.outbox import INTERRUPTED
from tests.store.test_store import ticket

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
RUN = PollRunInfo(NOW, NOW, True, requests=1)
KIM = Actor("kim", "/dev/pts/3 (ssh from 127.0.0.1)")


@pytest.fixture
def store(any_db_url: str) -> Iterator[Store]:
    s = Store(any_db_url)
    s.sync_vendors(
        [
            VendorConfig(name="desktop", kind="zendesk", base_url="http://127.0.0.1:1"),
            VendorConfig(name="network", kind="jira", base_url="http://127.0.0.1:2"),
        ]
    )
    s.apply("desktop", PollResult(tickets=(ticket(1, key="#4201", external_id="4201"),)), RUN, NOW)
    yield s
    s.close()


def queue_comment(store: Store, text_: str = "checked the cable") -> int:
    return store.enqueue_action(
        KIM,
        NOW,
        NewAction(
            vendor="desktop",
            kind="comment",
            payload=json.dumps({"kind": "comment", "text": text_}),
            summary=f"comment (internal): {text_}",
            detail="PUT /api/v2/tickets/4201.json",
            external_id="4201",
            ticket_key="#4201",
        ),
    )


def test_queued_action_is_due_claimed_once_and_sent_with_the_vendors_answer(store: Store) -> None:
    outbox_id = queue_comment(store)
    (due,) = store.due_actions(NOW)
    assert due.id == outbox_id and due.state == "queued" and due.vendor == "desktop"
    assert store.claim_action(outbox_id, NOW, "host:1")
    assert not store.claim_action(outbox_id, NOW, "host:2"), "a second sender must not get it"
    assert store.due_actions(NOW) == []
    store.action_sent(outbox_id, NOW + timedelta(seconds=1), "HTTP 200: ticket updated", 200)
    (item,) = store.outbox_items(vendor="desktop", external_id="4201")
    assert item.state == "sent" and item.answer == "HTTP 200: ticket updated"
    assert item.attempts == 1
    actions = [a.action for a in reversed(store.audit_rows())]
    assert actions == ["queued comment", "sent comment"]
    sent = store.audit_rows()[0]
    assert sent.user == "kim" and sent.answer == "HTTP 200: ticket updated"


def test_failure_retries_later_then_fails_and_the_operator_retries_or_cancels(store: Store) -> None:
    outbox_id = queue_comment(store)
    store.claim_action(outbox_id, NOW, "host:1")
    store.action_failed(outbox_id, NOW, "HTTP 503", 503, NOW + timedelta(seconds=30))
    assert store.due_actions(NOW) == []
    assert [d.id for d in store.due_actions(NOW + timedelta(seconds=30))] == [outbox_id]
    store.claim_action(outbox_id, NOW, "host:1")
    store.action_failed(outbox_id, NOW, "HTTP 422: closed prevents ticket update", 422, None)
    (item,) = store.outbox_items()
    assert item.state == "failed" and item.last_error == "HTTP 422: closed prevents ticket update"
    assert not store.cancel_action(outbox_id + 99, KIM, NOW)
    assert store.retry_action(outbox_id, KIM, NOW)
    assert not store.retry_action(outbox_id, KIM, NOW), "only a failed action can be retried"
    assert store.cancel_action(outbox_id, KIM, NOW)
    assert store.outbox_items()[0].state == "cancelled"
    assert store.due_actions(NOW + timedelta(hours=1)) == []
    actions = [a.action for a in reversed(store.audit_rows())]
    assert actions == [
        "queued comment",
        "attempt 1 failed",
        "failed comment",
        "retried comment",
        "cancelled comment",
    ]


def test_interrupted_sends_are_requeued_only_when_safe(store: Store) -> None:
    comment = queue_comment(store)
    status = store.enqueue_action(
        KIM,
        NOW,
        NewAction(
            vendor="desktop",
            kind="set_status",
            payload="{}",
            summary="set status → resolved",
            detail="",
            external_id="4201",
            ticket_key="#4201",
        ),
    )
    for outbox_id in (comment, status):
        store.claim_action(outbox_id, NOW, f"{this_host()}:999999999")  # a pid that cannot exist
    settled = store.settle_interrupted(
        NOW, "host:1", lambda vendor, payload: payload == "{}", process_gone
    )
    assert settled == 2
    states = {i.id: (i.state, i.last_error) for i in store.outbox_items()}
    assert states[status] == ("queued", None)
    assert states[comment] == ("failed", INTERRUPTED)


def test_a_live_senders_claim_is_left_alone(store: Store) -> None:
    outbox_id = queue_comment(store)
    store.claim_action(outbox_id, NOW, f"{this_host()}:{os.getpid()}")
    assert store.settle_interrupted(NOW, "other:1", lambda v, p: True, process_gone) == 0
    assert store.outbox_items()[0].state == "sending"
    later = NOW + timedelta(minutes=3)
    assert store.settle_interrupted(later, "other:1", lambda v, p: True, process_gone) == 1, (
        "stale claims settle"
    )


def test_audit_log_refuses_update_and_delete(store: Store) -> None:
    queue_comment(store)
    for statement in ("UPDATE auditentry SET action = 'nothing'", "DELETE FROM auditentry"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(statement))
    assert [a.action for a in store.audit_rows()] == ["queued comment"]


def test_handoff_success_links_both_tickets_and_joins_the_case(store: Store) -> None:
    case_id = store.create_case(KIM, NOW, "Cannot print, 49.4C02")
    outbox_id = store.enqueue_action(
        KIM,
        NOW,
        NewAction(
            vendor="network",
            kind="create",
            payload="{}",
            summary="hand off (create) from desktop #4201",
            detail="POST /rest/api/3/issue",
            external_id=None,
            ticket_key=None,
            source=("desktop", "4201"),
            case_id=case_id,
            mirror_comments=True,
        ),
    )
    store.claim_action(outbox_id, NOW, "host:1")
    store.action_sent(outbox_id, NOW, "HTTP 201: created OPS-7", 201, ("10007", "OPS-7"))
    (handed,) = store.outbox_items(vendor="desktop", external_id="4201")
    assert (handed.vendor, handed.kind) == ("network", "create"), "the source ticket shows it"
    (to_network,) = store.links_of("desktop", "4201")
    assert (to_network.vendor, to_network.key, to_network.direction) == ("network", "OPS-7", "to")
    assert to_network.status is None, "not polled yet"
    assert to_network.mirror_comments
    store.apply(
        "network",
        PollResult(
            tickets=(ticket(2, key="OPS-7", external_id="10007", status=TicketStatus.PENDING),)
        ),
        RUN,
        NOW,
    )
    (back,) = store.links_of("network", "10007")
    assert (back.vendor, back.key, back.status, back.direction) == (
        "desktop",
        "#4201",
        "open",
        "from",
    )
    assert store.links_of("desktop", "4201")[0].status == "pending"
    detail = store.case_detail(case_id)
    assert detail is not None
    assert [(m.vendor, m.key) for m in detail.members] == [
        ("desktop", "#4201"),
        ("network", "OPS-7"),
    ]
    texts = [e.text for e in detail.timeline]
    assert any("sent create" in t for t in texts)
    assert any(e.source == "vendor" and e.key == "OPS-7" for e in detail.timeline)
    assert store.cases_of("network", "10007") == [(case_id, "Cannot print, 49.4C02")]


def test_case_state_is_its_worst_member_and_members_come_and_go(store: Store) -> None:
    case_id = store.create_case(KIM, NOW, "printer")
    assert store.add_case_member(KIM, NOW, case_id, "desktop", "4201")
    assert not store.add_case_member(KIM, NOW, case_id, "desktop", "4201")
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO slaclock (ticket_id, metric, cycle, policy, target_seconds,"
                " elapsed_seconds, paused, state, computed_at) SELECT id, 'resolution', 9, 'p',"
                " 60, 120, false, 'breached', :now FROM ticket WHERE key = '#4201'"
            ),
            {"now": NOW},
        )
    (row,) = store.case_rows()
    assert (row.id, row.members, row.worst_state, row.vendors) == (
        case_id,
        1,
        "breached",
        ("desktop",),
    )
    assert store.remove_case_member(KIM, NOW, case_id, "desktop", "4201")
    assert not store.remove_case_member(KIM, NOW, case_id, "desktop", "4201")
    (row,) = store.case_rows()
    assert (row.members, row.worst_state) == (0, "none")
    assert store.close_case(KIM, NOW, case_id)
    assert not store.close_case(KIM, NOW, case_id)
    assert store.case_rows() == [] and store.case_detail(case_id) is not None
    actions = [a.action for a in reversed(store.audit_rows())]
    assert actions == ["case opened", "case add", "case remove", "case closed"]
