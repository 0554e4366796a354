"""Mail items join the tickets their subjects name; an operator attaches the others."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors import VendorConfig
from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
from paneglass.store import Actor, PollRunInfo, Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RUN = PollRunInfo(NOW, NOW, True)
KIM = Actor("kim", "pts/3")


def ticket(external_id: str, key: str) -> TicketRecord:
    return TicketRecord(
        external_id,
        key,
        "Cannot print, 49.4C02",
        TicketStatus.OPEN,
        "open",
        Priority.P2,
        "2",
        NOW - timedelta(hours=1),
        NOW - timedelta(hours=1),
    )


def mail_item(external_id: str, *links: tuple[str, str]) -> TicketRecord:
    return TicketRecord(
        external_id,
        f"M-{external_id[:8]}",
        "Re: printer",
        TicketStatus.NEW,
        "unseen",
        None,
        None,
        NOW - timedelta(minutes=5),
        NOW - timedelta(minutes=5),
        raw={
            "kind": "mail",
            "links": [{"vendor": v, "key": k, "pattern": "x"} for v, k in links],
        },
    )


@pytest.fixture
def store(any_db_url: str) -> Iterator[Store]:
    s = Store(any_db_url)
    s.sync_vendors(
        [
            VendorConfig("hosting", "servicenow", "http://127.0.0.1:1"),
            VendorConfig("desktop", "zendesk", "http://127.0.0.1:2"),
            VendorConfig("mail", "imap", "imaps://127.0.0.1:3"),
        ]
    )
    yield s
    s.close()


def linked(store: Store, external_id: str) -> list[tuple[str, str | None]]:
    return [(link.vendor, link.key) for link in store.links_of("mail", external_id)]


def test_mail_joins_the_tickets_its_subject_names(store: Store) -> None:
    store.apply("hosting", PollResult(tickets=(ticket("sys-1", "INC0012231"),)), None, NOW)
    page = PollResult(
        tickets=(mail_item("a@acme", ("hosting", "INC0012231"), ("desktop", "#48211")),)
    )
    store.apply("mail", page, RUN, NOW)
    assert linked(store, "a@acme") == [("hosting", "INC0012231")]
    # The desk ticket arrives later: the mailbox's next poll joins it too, and only it.
    store.apply("desktop", PollResult(tickets=(ticket("48211", "#48211"),)), None, NOW)
    store.apply("mail", None, RUN, NOW + timedelta(minutes=1))
    assert linked(store, "a@acme") == [("hosting", "INC0012231"), ("desktop", "#48211")]
    joined = [r for r in store.audit_rows() if r.action == "mail joined"]
    assert len(joined) == 2 and {r.user for r in joined} == {"paneglass"}
    # The ticket's own screen lists the mail.
    assert all(link.mail for link in store.links_of("mail", "a@acme"))
    assert [(link.vendor, link.direction) for link in store.links_of("hosting", "sys-1")] == [
        ("mail", "from")
    ]


def test_an_operator_attaches_unmatched_mail(store: Store) -> None:
    store.apply("hosting", PollResult(tickets=(ticket("sys-1", "INC0012231"),)), None, NOW)
    store.apply("mail", PollResult(tickets=(mail_item("b@acme"),)), RUN, NOW)
    assert linked(store, "b@acme") == []
    mail = ("mail", "b@acme", "M-b@acme")
    assert store.attach_mail(KIM, NOW, mail, ("hosting", "sys-1", "INC0012231"))
    assert not store.attach_mail(KIM, NOW, mail, ("hosting", "sys-1", "INC0012231"))
    assert linked(store, "b@acme") == [("hosting", "INC0012231")]
    (entry,) = [r for r in store.audit_rows() if r.action == "mail attached"]
    assert (entry.user, entry.terminal, entry.detail) == ("kim", "pts/3", "to hosting INC0012231")
