"""Write-back from the console on the demo world, and the read-only console offering none.

The writable console: a key opens the confirmation with the dry run, Queue
stores the action, the in-process collector sends it to the emulator, and the
ticket screen and the outbox show it sent. The read-only console (``--read-only``)
uses screens that have no action at all.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from textual.widgets import Button, Input, Label, Select, Static

from connectors.records import Priority
from paneglass.demo.session import DemoSession, start_demo
from paneglass.store import Store, TicketQuery
from paneglass.ui.app import PaneglassApp
from paneglass.ui.screens.action_dialog import ActionDialog
from paneglass.ui.screens.cases import CaseScreen, CasesScreen
from paneglass.ui.screens.outbox import OutboxScreen
from paneglass.ui.screens.ticket_detail import TicketDetailScreen

ACTION_KEYS = ("m", "A", "s", "P", "k", "R", "h", "C", "M", "L")
SYSTEM_AUDIT = {"mail joined", "sla paused: vendor maintenance"}
"""What paneglass itself audits (by policy, as user ``paneglass``), in any console."""


async def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.1)


@pytest.fixture
def demo() -> Iterator[tuple[DemoSession, Any, Store]]:
    session = start_demo(seed=5, live=False)
    fast = tuple(replace(v, poll_interval=5.0) for v in session.config.vendors)
    config = replace(session.config, vendors=fast)
    store = Store(session.db_url)
    yield session, config, store
    store.close()
    session.close()


def printer_ticket(store: Store) -> int:
    rows = store.ticket_window(TicketQuery(text='vendor:desktop "49.4C02"'), 0, 5)
    assert rows, "the printer story's desktop ticket is not in the store"
    return rows[0].id


@pytest.mark.slow
async def test_comment_is_confirmed_with_a_dry_run_queued_sent_and_shown(demo: Any) -> None:
    session, config, store = demo
    app = PaneglassApp(store, config)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(lambda: store.ticket_count(TicketQuery()) >= 40)
        ticket_id = printer_ticket(store)
        app.open_ticket(ticket_id)
        detail = app.screen
        assert isinstance(detail, TicketDetailScreen)
        await wait_for(lambda: detail.ticket is not None)
        assert detail.ticket is not None
        external_id = detail.ticket.external_id
        await pilot.press("m")
        await pilot.pause(0.3)
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        dialog.query_one("#text", Input).value = "Replaced the toner, please test"

        def planned() -> str:
            return str(dialog.query_one("#action-preview", Static).render())

        await wait_for(lambda: "PUT " in planned(), 10)  # the plan is made off-thread
        preview = planned()
        assert f"PUT /api/v2/tickets/{external_id}.json" in preview
        assert "Replaced the toner, please test" in preview
        assert "Authorization" not in preview and "demo-token" not in preview
        emulator = session.emulators["desktop"]
        assert emulator.comments_on(external_id) == [], "the dry run sent nothing"
        await pilot.press("ctrl+s")
        await wait_for(lambda: bool(emulator.comments_on(external_id)), 10)
        assert [c.text for c in emulator.comments_on(external_id)] == [
            "Replaced the toner, please test"
        ]
        assert not emulator.comments_on(external_id)[0].public
        await wait_for(lambda: store.outbox_items()[0].state == "sent", 10)
        assert app.screen is detail
        await wait_for(lambda: "✔ sent" in str(detail.query_one("#related", Static).render()), 10)
        audit = store.audit_rows()
        assert {a.action for a in audit} >= {"queued comment", "sent comment"}
        assert all(a.user for a in audit)
        await pilot.press("escape")
        await pilot.press("5")
        await pilot.pause(0.5)
        assert isinstance(app.screen, OutboxScreen)
        assert type(app.screen).__name__ == "ManagedOutboxScreen"
        await pilot.press("escape", "q")


async def test_status_change_goes_out_and_the_next_poll_shows_it(demo: Any) -> None:
    _session, config, store = demo
    app = PaneglassApp(store, config)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(lambda: store.ticket_count(TicketQuery()) >= 40)
        ticket_id = printer_ticket(store)
        app.open_ticket(ticket_id)
        await wait_for(lambda: getattr(app.screen, "ticket", None) is not None)
        await pilot.press("s")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ActionDialog)
        await pilot.press("ctrl+s")  # the default choice: resolved
        await wait_for(lambda: store.ticket_detail(ticket_id).status == "resolved", 15)  # type: ignore[union-attr]
        await pilot.press("escape", "q")


@pytest.mark.slow
async def test_set_priority_is_confirmed_with_a_dry_run_queued_sent_and_read_back(
    demo: Any,
) -> None:
    session, config, store = demo
    app = PaneglassApp(store, config)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(lambda: store.ticket_count(TicketQuery()) >= 40)
        ticket_id = printer_ticket(store)
        app.open_ticket(ticket_id)
        detail = app.screen
        assert isinstance(detail, TicketDetailScreen)
        await wait_for(lambda: detail.ticket is not None)
        assert detail.ticket is not None and detail.ticket.priority == "P2"
        external_id = detail.ticket.external_id
        titles = [c.title for c in app.get_system_commands(detail)]
        assert "Change this ticket's priority" in titles
        await pilot.press("P")
        await pilot.pause(0.3)
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        assert not dialog.query("#text"), "a priority change carries no note"
        now = str(dialog.query_one("#current-priority", Label).render())
        assert now == "Now P2 (the vendor's high)"
        choice = dialog.query_one("#priority", Select)
        assert choice.value is Priority.P1  # one step up is offered first
        choice.value = Priority.P5

        def shown_plan() -> str:
            return str(dialog.query_one("#action-preview", Static).render())

        await wait_for(lambda: "Cannot send" in shown_plan(), 10)  # the plan is made off-thread
        refused = shown_plan()
        assert "Cannot send: zendesk: no priority here reads as P5" in refused
        assert dialog.query_one("#queue", Button).disabled
        choice.value = Priority.P1
        await wait_for(lambda: "Cannot send" not in shown_plan(), 10)
        preview = str(dialog.query_one("#action-preview", Static).render())
        assert f"PUT /api/v2/tickets/{external_id}.json" in preview
        assert '"priority": "urgent"' in preview
        assert "Authorization" not in preview and "demo-token" not in preview
        emulator = session.emulators["desktop"]
        await pilot.press("ctrl+s")
        await wait_for(lambda: emulator._tickets[int(external_id)]["priority"] == "urgent", 10)
        await wait_for(lambda: store.outbox_items()[0].state == "sent", 10)
        item = store.outbox_items()[0]
        assert (item.kind, item.summary) == ("set_priority", "set priority → P1")
        await wait_for(
            lambda: store.ticket_detail(ticket_id).priority == "P1",  # type: ignore[union-attr]
            15,
        )
        audit = {a.action for a in store.audit_rows()}
        assert {"queued set_priority", "sent set_priority"} <= audit
        await pilot.press("escape", "q")


@pytest.mark.slow
async def test_cases_pane_and_case_timeline(demo: Any) -> None:
    _session, config, store = demo
    app = PaneglassApp(store, config)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(lambda: store.ticket_count(TicketQuery()) >= 40)
        ticket_id = printer_ticket(store)
        ticket = store.ticket_detail(ticket_id)
        assert ticket is not None
        wb = app.write_back
        assert wb is not None
        case_id = store.create_case(wb.actor, wb.clock(), "Maria cannot print")
        store.add_case_member(wb.actor, wb.clock(), case_id, "desktop", ticket.external_id)
        await pilot.press("colon")
        await pilot.press(*"cases", "enter")
        await pilot.pause(0.5)
        assert isinstance(app.screen, CasesScreen)
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert isinstance(app.screen, CaseScreen)
        timeline = str(app.screen.query_one("#case-timeline", Static).render())
        assert "case add" in timeline and "first seen" in timeline
        await pilot.press("escape", "escape", "q")


@pytest.mark.slow
async def test_read_only_console_offers_no_action_anywhere(demo: Any) -> None:
    _session, config, store = demo
    app = PaneglassApp(store, config, read_only=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(lambda: store.ticket_count(TicketQuery()) >= 40)
        assert app.write_back is None
        app.open_ticket(printer_ticket(store))
        screen = app.screen
        await wait_for(lambda: getattr(screen, "ticket", None) is not None)
        assert type(screen) is TicketDetailScreen, "read-only uses the screen without actions"
        for key in ACTION_KEYS:
            await pilot.press(key)
            await pilot.pause(0.1)
            assert not isinstance(app.screen, ActionDialog)
            if app.screen is not screen:  # r/a history lists are fine; come back
                await pilot.press("escape")
        bound = {b.action for b in screen.active_bindings.values() for b in [b.binding]}
        assert not {
            a for a in bound if a.startswith(("act", "add_to_case", "toggle_mirror", "attach"))
        }
        titles = [c.title for c in app.get_system_commands(screen)]
        assert not [t for t in titles if "Comment" in t or "Hand" in t or "case" in t.lower()]
        for method in (
            "action_act",
            "action_add_to_case",
            "action_toggle_mirror",
            "action_attach_mail",
        ):
            assert not hasattr(screen, method)
        await pilot.press("escape")
        await pilot.press("5")
        await pilot.pause(0.3)
        assert type(app.screen) is OutboxScreen
        assert not hasattr(app.screen, "action_retry")
        await pilot.press("escape", "4")
        await pilot.pause(0.3)
        assert type(app.screen) is CasesScreen
        assert not hasattr(app.screen, "action_new_case")
        await pilot.press("escape", "q")
    assert store.outbox_items() == []
    assert {a.action for a in store.audit_rows()} <= SYSTEM_AUDIT


def test_read_only_flag_reaches_the_console(monkeypatch: pytest.MonkeyPatch) -> None:
    from paneglass import cli

    seen: dict[str, Any] = {}

    def fake_run(self: PaneglassApp) -> None:
        seen["read_only"] = self.read_only
        seen["write_back"] = self.write_back

    monkeypatch.setattr(PaneglassApp, "run", fake_run)
    monkeypatch.setitem(os.environ, "TEXTUAL_DRIVER", "headless")
    assert cli.main(["--read-only", "demo"]) == 0
    assert seen == {"read_only": True, "write_back": None}
    assert cli.main(["demo", "--read-only"]) == 0
    assert seen == {"read_only": True, "write_back": None}
    assert cli.main(["demo"]) == 0
    assert seen["read_only"] is False and seen["write_back"] is not None


async def test_wall_has_no_write_back_and_only_read_only_screens(demo: Any) -> None:
    from paneglass.ui.app import WallApp

    _session, config, store = demo
    app = WallApp(store, config, collect=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert not hasattr(app, "write_back")
        assert type(app.ticket_screen(1)) is TicketDetailScreen
        assert type(app.outbox_screen()) is OutboxScreen
        assert type(app.cases_screen()) is CasesScreen
        for key in (*ACTION_KEYS, "4", "5", "enter", "colon", "ctrl+p"):
            await pilot.press(key)
            await pilot.pause(0.05)
        assert type(app.screen).__name__ == "WallScreen", "no key leaves the wall"
    assert store.outbox_items() == [] and store.audit_rows() == []


@pytest.mark.skipif(
    __import__("connectors.emulators._dovecot", fromlist=["x"]).find_dovecot() is None,
    reason="Dovecot is not installed",
)
async def test_an_unmatched_mail_is_attached_to_a_ticket(demo: Any) -> None:
    from paneglass.ui.screens.ticket_picker import TicketPicker

    _session, config, store = demo
    app = PaneglassApp(store, config)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(lambda: store.ticket_count(TicketQuery(text="vendor:mail")) >= 4, 30)
        (toner,) = store.ticket_window(TicketQuery(text="vendor:mail toner"), 0, 5)
        target = printer_ticket(store)
        key = store.ticket_detail(target).key  # type: ignore[union-attr]
        app.open_ticket(toner.id)
        await wait_for(lambda: getattr(app.screen, "ticket", None) is not None)
        await pilot.press("L")
        await pilot.pause(0.3)
        picker = app.screen
        assert isinstance(picker, TicketPicker)
        picker.query_one("#key", Input).value = key
        await wait_for(lambda: bool(picker.matches), 10)
        await pilot.press("enter")
        mail = store.ticket_detail(toner.id)
        assert mail is not None
        await wait_for(lambda: bool(store.links_of("mail", mail.external_id)), 10)
        (link,) = store.links_of("mail", mail.external_id)
        assert (link.vendor, link.key) == ("desktop", key)
        assert any(a.action == "mail attached" for a in store.audit_rows())
        await pilot.press("escape", "q")
