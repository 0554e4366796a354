"""Keys and commands the README promises, each driven the way an operator does.

``:vendor``, ``:ticket``, ``:view`` (its sort too), ``:case N``; the SLA pane's
``v`` / ``p`` / ``x``; ``z`` and ``S``; in a ticket ``c`` / ``o`` / ``p``; and
the ``≠`` marker where the vendor's own SLA disagrees with the contract clock.
The store is the fixed sample world (a real SQLite file) at a fixed clock.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.widgets import Collapsible, Static

from connectors.records import PollResult, Priority, TicketRecord, TicketStatus
from paneglass.config import SavedView
from paneglass.demo.fixture import FIXTURE_NOW
from paneglass.store import Actor
from paneglass.ui.screens.cases import CaseScreen
from paneglass.ui.screens.ticket_detail import TicketDetailScreen
from paneglass.ui.widgets.sla_list import SlaList, disagrees
from paneglass.ui.widgets.ticket_table import TicketTable
from tests.ui.test_ticket_pane import make_app, settle


def rows(table: TicketTable) -> list[Any]:
    return [table._window.row(i) for i in range(min(table.total, 60))]


async def test_vendor_command_filters_tickets_to_that_vendor(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        everything = table.total
        await pilot.press("colon", *"vendor hosting", "enter")
        await settle(pilot)
        assert 0 < table.total < everything
        assert {r.vendor for r in rows(table)} == {"hosting"}


async def test_ticket_command_opens_that_ticket(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        key = next(r.key for r in rows(app.screen.query_one(TicketTable)) if r.vendor == "hosting")
        await pilot.press("colon", *f"ticket {key}", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert app.screen.ticket is not None and app.screen.ticket.key == key


async def test_view_command_switches_filter_and_sort(tmp_path: Path) -> None:
    views = (SavedView("mine", "status:open,new", "priority", False),)
    app = make_app(tmp_path, views=views)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        await pilot.press("colon", *"view mine", "enter")
        await settle(pilot)
        query = table.ticket_query
        assert query.text == "status:open,new"
        assert query.sort.value == "priority" and not query.descending
        shown = rows(table)
        assert shown and {r.status for r in shown} <= {"open", "new"}
        order = ["P1", "P2", "P3", "P4", "P5", None]
        ranks = [order.index(r.priority) for r in shown]
        assert ranks == sorted(ranks) and ranks[0] < ranks[-1]  # P1 first, ascending


async def test_case_command_opens_case_n(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    store = app.store
    first = store.create_case(Actor("kim"), FIXTURE_NOW, "Printing on floor 3")
    second = store.create_case(Actor("kim"), FIXTURE_NOW, "VPN drops")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("colon", *f"case {second}", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == second != first


async def test_sla_pane_filters_by_vendor_and_priority_and_clears(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        sla = app.screen.query_one(SlaList)
        assert sla.has_focus
        everything = list(sla.rows)
        assert {r.vendor for r in everything} == {"hosting", "desktop"}

        await pilot.press("v")
        await settle(pilot)
        vendor = sla.vendor_filter
        assert vendor is not None and sla.rows and {r.vendor for r in sla.rows} == {vendor}
        assert len(sla.rows) < len(everything)

        await pilot.press("x", "p")
        await settle(pilot)
        assert sla.vendor_filter is None and sla.priority_filter is not None
        assert {r.priority for r in sla.rows} <= {sla.priority_filter}
        assert len(sla.rows) < len(everything)

        await pilot.press("x")
        await settle(pilot)
        assert sla.vendor_filter is None and sla.priority_filter is None
        assert list(sla.rows) == everything


async def test_z_zooms_the_active_pane_and_back(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        tickets = app.screen.query_one("#tickets-pane")
        normal = tickets.size.width
        await pilot.press("z")
        await settle(pilot)
        assert tickets.size.width > normal and tickets.size.width >= 158
        assert (
            not app.screen.query_one(SlaList).display
            or not app.screen.query_one(SlaList).region.area
        )
        await pilot.press("z")
        await settle(pilot)
        assert tickets.size.width == normal


async def test_capital_s_reverses_the_ticket_order(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        before = table.ticket_query.descending
        first = [r.key for r in rows(table)]
        await pilot.press("S")
        await settle(pilot)
        assert table.ticket_query.descending is not before
        after = [r.key for r in rows(table)]
        assert after[0] == first[-1] if table.total <= 60 else after[0] != first[0]


async def test_ticket_screen_copies_opens_and_folds(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    copied: list[str] = []
    opened: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    app.open_url = lambda url, **_: opened.append(url)  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketDetailScreen) and screen.ticket is not None
        ticket = screen.ticket
        await pilot.press("c")
        assert copied == [ticket.key]
        await pilot.press("o")
        assert opened == [ticket.url] and ticket.url and ticket.url.startswith("http")
        raw = screen.query_one("#raw", Collapsible)
        folded = raw.collapsed
        await pilot.press("p")
        await settle(pilot)
        assert raw.collapsed is not folded
        await pilot.press("p")
        await settle(pilot)
        assert raw.collapsed is folded


async def test_not_equal_marks_vendor_disagreement_in_sla_pane_and_ticket(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    # The vendor says six hours to go; the contract clock breached hours ago.
    created = FIXTURE_NOW - timedelta(hours=10)
    disputed = TicketRecord(
        external_id="disputed-1",
        key="INC0099001",
        title="Payroll export fails at night",
        status=TicketStatus.OPEN,
        raw_status="2",
        priority=Priority.P1,
        raw_priority="1",
        created_at=created,
        updated_at=created + timedelta(minutes=5),
        assignee=None,
        requester="Kim Lee",
        vendor_due_at=FIXTURE_NOW + timedelta(hours=6),
    )
    app.store.apply("hosting", PollResult(tickets=(disputed,)), None, FIXTURE_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        sla = app.screen.query_one(SlaList)
        assert "INC0099001" in {r.key for r in sla.rows}
        marked = [i for i, r in enumerate(sla.rows) if disagrees(r, FIXTURE_NOW)]
        agreeing = [i for i, r in enumerate(sla.rows) if not disagrees(r, FIXTURE_NOW)]
        assert marked and agreeing
        lines = {i: sla.render_line(i).text for i in range(len(sla.rows))}
        assert all("≠" in lines[i] for i in marked)
        assert not any("≠" in lines[i] for i in agreeing)

        key = sla.rows[marked[0]].key
        assert key == "INC0099001" or "INC0099001" in {sla.rows[i].key for i in marked}
        await pilot.press("colon", *f"ticket {key}", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        body = str(app.screen.query_one("#detail", Static).render())
        assert "≠ the vendor's SLA disagrees with the contract clock" in body
