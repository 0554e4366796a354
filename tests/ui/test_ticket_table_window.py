"""The ticket table shows the window of its current query, whatever order reads finish in."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from textual.app import App, ComposeResult

from paneglass.store import TicketQuery, TicketRow
from paneglass.ui.screenshots import workers_done
from paneglass.ui.widgets.ticket_table import TicketTable

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
HISTORY = TicketQuery(exact=(("requester", "Maria Jensen"),))


class SlowFirstRead:
    """Every query answers at once except the pane's opening (unfiltered) one, held until told."""

    def __init__(self) -> None:
        self.release_first = threading.Event()
        self.first_started = threading.Event()

    def ticket_count(self, query: TicketQuery) -> int:
        if query == TicketQuery():
            self.first_started.set()
            self.release_first.wait(10)
            return 500
        return 2

    def ticket_window(
        self, query: TicketQuery, offset: int, limit: int, total: int | None = None
    ) -> list[TicketRow]:
        return []


class OneTable(App[None]):
    def __init__(self, source: SlowFirstRead) -> None:
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        yield TicketTable(self.source, clock=lambda: NOW, zone=UTC)


async def test_a_superseded_read_that_finishes_last_is_dropped() -> None:
    source = SlowFirstRead()
    app = OneTable(source)
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(TicketTable)
        assert source.first_started.wait(5)
        table.ticket_query = HISTORY
        for _ in range(100):
            await pilot.pause(0.02)
            if table.total == 2:
                break
        assert table.total == 2
        source.release_first.set()  # the unfiltered read now lands, after the newer one
        await workers_done(app)
        await pilot.pause(0.1)
        assert table.total == 2, "the older, unfiltered window replaced the current query's"
        assert table._window.query == HISTORY
