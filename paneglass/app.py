"""The Textual app: wiring only — themes, the store, the collector, screens.

Behaviour lives in the screens. The collector (APScheduler) starts inside the
app's event loop on mount and stops on unmount; each committed batch comes
back as a :class:`~paneglass.messages.StoreChanged` notice that the visible
screen turns into a re-query.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from paneglass.config import Config
from paneglass.messages import StoreChanged
from paneglass.scheduler import Collector
from paneglass.screens.dashboard import DashboardScreen
from paneglass.store import Store
from paneglass.store.views import ChangeSet
from themes import BUILTIN_THEMES, DEFAULT_THEME, STYLESHEET, VARIABLE_DEFAULTS

__all__ = ["PaneglassApp"]


def _system_now() -> datetime:
    return datetime.now(UTC)


class PaneglassApp(App[None]):
    """The console: three live panes over the customer's own store."""

    TITLE = "paneglass"
    CSS_PATH = str(STYLESHEET)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        clock: Callable[[], datetime] = _system_now,
        collect: bool = True,
    ) -> None:
        super().__init__()
        self.store = store
        self.config = config
        self.clock = clock
        self.collect = collect
        self.collector: Collector | None = None
        for theme in BUILTIN_THEMES.values():
            self.register_theme(theme)
        wanted = config.display.theme
        self.theme = wanted if wanted in BUILTIN_THEMES else DEFAULT_THEME

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """paneglass colours every theme may override."""
        return dict(VARIABLE_DEFAULTS)

    def on_mount(self) -> None:
        zone = self.config.display.zone()
        zone_name = self.config.display.timezone or (
            datetime.now().astimezone().tzname() or "local"
        )
        self.push_screen(
            DashboardScreen(
                self.store, clock=self.clock, zone=zone, zone_name=zone_name, demo=self.config.demo
            )
        )
        if self.collect and self.config.vendors:
            self.collector = Collector(self.store, self.config.vendors, on_change=self._changed)
            self.collector.start()

    def _changed(self, change: ChangeSet) -> None:
        self.post_message(StoreChanged(change))

    def on_store_changed(self, message: StoreChanged) -> None:
        """Tell the visible screen to re-query (hidden screens re-query when shown)."""
        refresh = getattr(self.screen, "refresh_data", None)
        if refresh is not None:
            refresh()
        for screen in self.screen_stack:
            if screen is not self.screen and isinstance(screen, DashboardScreen):
                screen.refresh_data()

    async def on_unmount(self) -> None:
        if self.collector is not None:
            await self.collector.aclose()
