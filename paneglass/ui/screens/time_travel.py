"""Time travel: the dashboard and the wall as they stood at one instant, read-only.

The screens are the live ones, given :meth:`Store.as_of` (the same queries
answered from history) and a clock stopped at the instant, so they show what
they showed then. The header carries "◷ AS OF …" in place of the product
name; nothing here can act, and tickets open in the read-only ticket screen,
as of the same instant. Data at a past instant does not change: each screen
reads once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any, ClassVar

from textual.binding import Binding, BindingType

from paneglass.config import SavedView, WallConfig
from paneglass.store import Store
from paneglass.ui.navigation import OpenTicket
from paneglass.ui.screens.dashboard import DashboardScreen
from paneglass.ui.screens.wall import WallScreen
from paneglass.ui.widgets.header_bar import HeaderBar

__all__ = ["AsOfDashboardScreen", "AsOfWallScreen", "as_of_title"]


def as_of_title(at: datetime, zone: tzinfo | None) -> str:
    """``◷ AS OF 2026-11-20 03:12:00`` in the operator's zone."""
    local = at.astimezone(zone) if zone else at.astimezone()
    return f"◷ AS OF {local:%Y-%m-%d %H:%M:%S}"


class AsOfDashboardScreen(DashboardScreen):
    """The dashboard at ``at``: ``esc`` returns to the live console."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "4,5", "not_kept", "Cases / outbox (live only)", show=False, id="timetravel.not_kept"
        ),
        Binding("escape", "leave", "Back to live", id="timetravel.leave"),
    ]

    def __init__(
        self,
        store: Store,
        at: datetime,
        *,
        zone: tzinfo | None,
        zone_name: str,
        demo: bool,
        views: tuple[SavedView, ...] = (),
        can_leave: bool = True,
    ) -> None:
        super().__init__(
            store.as_of(at),
            clock=lambda: at,
            zone=zone,
            zone_name=zone_name,
            demo=demo,
            views=views,
        )
        self.at = at
        self.can_leave = can_leave
        self._read = False

    def on_mount(self) -> None:
        self.query_one(HeaderBar).as_of = self.at

    def refresh_data(self) -> None:
        """Read once: a past instant does not change."""
        if not self._read:
            self._read = True
            super().refresh_data()

    def on_open_ticket(self, message: OpenTicket) -> None:
        """Open the ticket as it stood at the instant, in the read-only ticket screen."""
        message.stop()
        from paneglass.ui.screens.ticket_detail import TicketDetailScreen

        self.app.push_screen(
            TicketDetailScreen(self.store, message.ticket_id, clock=self.clock, zone=self.zone)
        )

    def action_not_kept(self) -> None:
        """Cases and the outbox are not kept in history."""
        self.notify(
            "Time travel shows tickets, SLA clocks and vendors; cases and outbox are live only.",
            markup=False,
        )

    def action_leave(self) -> None:
        """Back to the live console."""
        if self.can_leave:
            self.app.pop_screen()
        else:
            self.notify("Started with --at: quit (q) to leave.", markup=False)


class AsOfWallScreen(WallScreen):
    """The wall at ``at``, for a post-mortem on the big screen."""

    def __init__(self, store: Store, settings: WallConfig, at: datetime, **kwargs: Any) -> None:
        zone = kwargs.get("zone")
        title = f"{as_of_title(at, zone)} · read-only"
        if settings.title:
            title += f" · {settings.title}"
        super().__init__(
            store.as_of(at), replace(settings, title=title), clock=lambda: at, **kwargs
        )
        self._read = False

    def refresh_data(self) -> None:
        """Read once per pane shown: a past instant does not change."""
        if not self._read or self.rotate > 0:
            self._read = True
            super().refresh_data()
