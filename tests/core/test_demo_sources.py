"""The demo's issue-17 sources: a Salesforce partner, Datto RMM alerts, a mailbox whose
vendor e-mails join the printer case's tickets, and a cloud status feed whose maintenance
window pauses the partner's clocks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from connectors.emulators._dovecot import find_dovecot
from paneglass.collect import Collector
from paneglass.demo.session import DemoSession, start_demo
from paneglass.sla import MAINTENANCE
from paneglass.store import Store, TicketQuery


@pytest.fixture(scope="module")
def polled() -> Iterator[tuple[DemoSession, Store]]:
    session = start_demo(seed=5, live=False)
    store = Store(session.db_url, sla=session.config.sla)
    store.sync_vendors(session.config.vendors)

    async def poll_all() -> None:
        collector = Collector(store, session.config.vendors)
        try:
            # Ticket vendors first, the mailbox last (a later mailbox poll would join anyway).
            for vendor in sorted(session.config.vendors, key=lambda v: v.name == "mail"):
                run = await collector.poll_once(vendor.name)
                assert run.ok, f"{vendor.name}: {run}"
        finally:
            await collector.aclose()

    asyncio.run(poll_all())
    yield session, store
    store.close()
    session.close()


def test_the_new_vendors_fill_the_queue(polled: tuple[DemoSession, Store]) -> None:
    _session, store = polled
    for vendor in ("erp-partner", "rmm-alerts"):
        assert store.ticket_count(TicketQuery(text=f"vendor:{vendor}")) >= 5, vendor


def test_the_cloud_feed_shows_its_maintenance_and_pauses_the_partners_clocks(
    polled: tuple[DemoSession, Store],
) -> None:
    _session, store = polled
    (cloud,) = [v for v in store.vendor_health() if v.name == "cloud-status"]
    windows = [i for i in cloud.incidents if i.maintenance]
    assert {i.status for i in windows} == {"in_progress", "scheduled"}
    rows = store.ticket_window(
        TicketQuery(text="vendor:erp-partner -status:resolved,closed"), 0, 50
    )
    paused = []
    for row in rows:
        detail = store.ticket_detail(row.id)
        assert detail is not None
        paused += [c for c in detail.clocks if c.pause_reason == MAINTENANCE]
    assert paused, "no erp-partner clock is paused by the cloud maintenance"
    assert any(r.action == "sla paused: vendor maintenance" for r in store.audit_rows())


def test_hosting_tickets_carry_the_hosting_incident(polled: tuple[DemoSession, Store]) -> None:
    _session, store = polled
    rows = store.ticket_window(TicketQuery(text="vendor:hosting -status:resolved,closed"), 0, 50)
    assert rows and all(r.vendor_incident for r in rows)


@pytest.mark.skipif(find_dovecot() is None, reason="Dovecot is not installed")
def test_the_printer_case_mails_join_its_tickets(polled: tuple[DemoSession, Store]) -> None:
    session, store = polled
    mails = store.ticket_window(TicketQuery(text="vendor:mail"), 0, 20)
    assert len(mails) == 4
    joined = {}
    for row in mails:
        detail = store.ticket_detail(row.id)
        assert detail is not None
        joined[row.title] = {
            (link.vendor, link.key) for link in store.links_of("mail", detail.external_id)
        }
    keys = session.world.story_keys
    assert joined["Toner delivery for 3rd floor printers"] == set()
    expected = {(v, keys[v]) for v in ("desktop", "hosting", "network")}
    assert set().union(*joined.values()) == expected


def test_without_dovecot_the_demo_starts_without_the_mailbox(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("paneglass.demo.sources.find_dovecot", lambda: None)
    session = start_demo(seed=5, live=False)
    try:
        names = {v.name for v in session.config.vendors}
        assert "mail" not in names and {"erp-partner", "rmm-alerts", "cloud-status"} <= names
        assert session.mailbox is None
    finally:
        session.close()
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "demo: no Dovecot on this machine (apt-get install -y dovecot-imapd): "
        "the mailbox is left out"
    ]
