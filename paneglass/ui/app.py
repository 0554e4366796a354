"""The Textual app: wiring only — themes, the store, the collector, screens.

Behaviour lives in the screens. The collector (APScheduler) starts inside the
app's event loop on mount and stops on unmount; each committed batch comes
back as a :class:`~paneglass.ui.messages.StoreChanged` notice that the visible
screen turns into a re-query.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen

from paneglass.config import Config
from paneglass.errors import UserError
from paneglass.loading import loaded
from paneglass.paths import user_themes_folder
from paneglass.store import ChangeSet, HandoverRecord, Store
from paneglass.ui.commands import TicketKeyProvider
from paneglass.ui.messages import FirstDataShown, StoreChanged
from paneglass.ui.metric_messages import OpenHandover, OpenScorecards, TimeTravel
from paneglass.ui.navigation import OpenCase, OpenPane, OpenTicket
from paneglass.ui.notification_feed import NotificationFeed
from paneglass.ui.screens.dashboard import DashboardScreen
from paneglass.ui.screens.wall import WallScreen
from paneglass.ui.widgets.header_bar import HeaderBar
from paneglass.writeback import Acknowledgements, CaseEdits, WriteBack, current_actor
from themes import BUILTIN_THEMES, DEFAULT_THEME, STYLESHEET, VARIABLE_DEFAULTS
from themes.user import load_user_themes

if TYPE_CHECKING:
    from paneglass.collect import ChangeWatcher, Collector
    from paneglass.ui.screens.cases import CasesScreen
    from paneglass.ui.screens.handover import HandoverScreen
    from paneglass.ui.screens.notifications import NotificationsScreen
    from paneglass.ui.screens.outbox import OutboxScreen
    from paneglass.ui.screens.ticket_detail import TicketDetailScreen

__all__ = ["ConsoleBase", "PaneglassApp", "WallApp"]

WATCH_SECONDS = 0.5
"""How often a viewer asks whether another process committed."""
START_DATA_AT_LATEST = 2.0
"""Seconds after mount when collecting starts even if no screen reported its first data."""


def _unbracket(text: str) -> str:
    """Text safe for places Textual parses as markup (the palette's titles)."""
    return text.replace("[", "(").replace("]", ")")


def _system_now() -> datetime:
    return datetime.now(UTC)


class ConsoleBase(App[None]):
    """Wiring shared by the console and the wall: themes, store, collector or follower."""

    TITLE = "paneglass"
    CSS_PATH = str(STYLESHEET)

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        clock: Callable[[], datetime] = _system_now,
        collect: bool = True,
        themes_folder: Path | None = None,
        default_theme: str | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.config = config
        self.clock = clock
        self.collect = collect
        self.collector: Collector | None = None
        self.following: str | None = None
        """The other process's collector this viewer follows (``None`` when we collect)."""
        self._watcher: ChangeWatcher | None = None
        self._data_started = False
        self.when_started: Callable[[], None] | None = None
        """Called once the first data is on the screen and collecting (or following) began:
        the demo's history, written from another process, waits for it."""
        self.problems: list[str] = []
        """Config problems to show once the screen is up (bad theme files, unknown theme)."""
        self.feed = NotificationFeed(
            self, store, toast_seconds=config.notify.toast_seconds, **self.feed_settings(config)
        )
        """Toasts, bell and desktop notifications for each new firing, once each."""
        for theme in BUILTIN_THEMES.values():
            self.register_theme(theme)
        user_themes, self.problems = load_user_themes(themes_folder or user_themes_folder())
        for theme in user_themes:
            self.register_theme(theme)
        wanted = default_theme or config.display.theme
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self.problems.append(f"theme {wanted!r} not found; using {DEFAULT_THEME}")
            self.theme = DEFAULT_THEME

    def feed_settings(self, config: Config) -> dict[str, bool]:
        """Whether this console toasts and rings (a console does both)."""
        return {"toasts": True, "ring": True}

    @property
    def actions_allowed(self) -> bool:
        """May this console's collector queue escalation actions at vendors?"""
        return False

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """paneglass colours every theme may override."""
        return dict(VARIABLE_DEFAULTS)

    @property
    def zone_name(self) -> str:
        """The operator's zone as shown in the header."""
        return self.config.display.timezone or (datetime.now().astimezone().tzname() or "local")

    quit_on_signals = False
    """Quit as ``q`` does on SIGTERM and SIGHUP (set for a console on a real terminal)."""

    def on_mount(self) -> None:
        """Collecting starts once the first screen shows what the store holds (or soon after)."""
        self.set_timer(START_DATA_AT_LATEST, self.start_data)
        if self.quit_on_signals:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(signum, self._quit_on_signal, signum)

    def _quit_on_signal(self, signum: int) -> None:
        """A closed terminal, a dropped SSH session or ``kill``: leave as ``q`` does, so the
        collector lets go of its lease and a demo stops its servers and removes its files.
        A second signal of the kind is not caught."""
        asyncio.get_running_loop().remove_signal_handler(signum)
        self.exit()

    def on_first_data_shown(self, _message: FirstDataShown) -> None:
        """The first data is on its way to the screen: collect once that frame is painted."""
        self.call_after_refresh(self.start_data)

    def start_data(self) -> None:
        """Collect ourselves, or follow the process that already does (one writer per store).

        Called once the first screen has shown its data (the imports it needs, APScheduler
        and every configured connector, stay off the path to the first frame); idempotent.
        """
        loaded()  # the first data is on the screen: the garbage collector may run again
        if self._data_started or getattr(self, "at", None) is not None:
            return  # an --at console shows one past instant: nothing to collect or follow
        self._data_started = True
        self.refresh_handover()
        from paneglass.collect import LEASE_STALE, Collector, watcher_for

        if self.collect and self.config.vendors:
            other = self.store.live_collector(self.clock(), LEASE_STALE)
            if other is None:
                collector = Collector(
                    self.store,
                    self.config.vendors,
                    on_change=self._changed,
                    clock=self.clock,
                    notify=self.config.notify,
                    actions_allowed=self.actions_allowed,
                )
                try:
                    collector.start()
                    self.collector = collector
                except UserError:
                    other = (
                        self.store.live_collector(self.clock(), LEASE_STALE) or "another process"
                    )
            self.following = other
        if self.collector is None:
            self._watcher = watcher_for(self.store.url)
            if self._watcher is not None:
                self.set_interval(WATCH_SECONDS, self._check_foreign_commits)
        self.feed.start()
        if self.when_started is not None:
            self.when_started()

    def _check_foreign_commits(self) -> None:
        if self._watcher is not None and self._watcher.changed():
            self.post_message(StoreChanged())

    def _changed(self, change: ChangeSet) -> None:
        self.post_message(StoreChanged(change))

    def on_store_changed(self, message: StoreChanged) -> None:
        """Tell the visible screen to re-query (hidden dashboards too, so they are current)."""
        self.feed.check()
        if not self.screen_stack:  # the app is exiting
            return
        # a notice that arrives while the app exits finds screens without their widgets
        with contextlib.suppress(NoMatches):
            refresh = getattr(self.screen, "refresh_data", None)
            if refresh is not None:
                refresh()
            for screen in self.screen_stack:
                if screen is not self.screen and hasattr(screen, "refresh_data"):
                    screen.refresh_data()
            self.refresh_handover()

    def show_problems(self) -> None:
        """Config problems as one toast each (never markup)."""
        for problem in self.problems:
            self.notify(problem, title="config", severity="warning", markup=False, timeout=15)

    # -- screens every console can open (read-only variants here) ---------------------------

    def ticket_screen(self, ticket_id: int) -> TicketDetailScreen:
        """The screen for one ticket."""
        from paneglass.ui.screens.ticket_detail import TicketDetailScreen

        return TicketDetailScreen(
            self.store, ticket_id, clock=self.clock, zone=self.config.display.zone()
        )

    def open_ticket(self, ticket_id: int) -> None:
        """Show one ticket."""
        self.push_screen(self.ticket_screen(ticket_id))

    def outbox_screen(self) -> OutboxScreen:
        """The outbox view."""
        from paneglass.ui.screens.outbox import OutboxScreen

        return OutboxScreen(self.store, clock=self.clock, zone=self.config.display.zone())

    def cases_screen(self) -> CasesScreen:
        """The cases pane."""
        from paneglass.ui.screens.cases import CasesScreen

        return CasesScreen(self.store, clock=self.clock, zone=self.config.display.zone())

    def open_outbox(self) -> None:
        """Show the outbox."""
        self.push_screen(self.outbox_screen())

    def notifications_screen(self) -> NotificationsScreen:
        """The notifications pane (read-only variant)."""
        from paneglass.ui.screens.notifications import NotificationsScreen

        return NotificationsScreen(self.store, clock=self.clock, zone=self.config.display.zone())

    def open_notifications(self) -> None:
        """Show the notifications pane."""
        self.push_screen(self.notifications_screen())

    def open_cases(self, case_id: int | None = None) -> None:
        """Show the cases pane (and one case in it)."""
        screen = self.cases_screen()
        self.push_screen(screen)
        if case_id is not None:
            screen.open_case(case_id)

    # -- navigation: every screen's request to open something lands here ------------------

    def on_open_ticket(self, message: OpenTicket) -> None:
        """A screen asked for a ticket."""
        self.open_ticket(message.ticket_id)

    def on_open_pane(self, message: OpenPane) -> None:
        """A screen asked for the cases pane or the outbox."""
        if message.pane == "cases":
            self.open_cases()
        elif message.pane == "notifications":
            self.open_notifications()
        else:
            self.open_outbox()

    def on_open_case(self, message: OpenCase) -> None:
        """A screen asked for one case."""
        self.open_cases(message.case_id)

    def action_open_cases(self) -> None:
        """Key 4: the cases pane."""
        self.open_cases()

    def action_open_outbox(self) -> None:
        """Key 5: the outbox."""
        self.open_outbox()

    def action_open_notifications(self) -> None:
        """Key 6: the notifications."""
        self.open_notifications()

    # -- metrics: scorecards, shift handover, time travel ----------------------------------------

    def scorecards_screen(self, period: str | None = None) -> Screen[None]:
        """The scorecards pane (last month, or ``period`` as typed)."""
        from paneglass.metrics.periods import last_month, parse_period
        from paneglass.metrics.scorecard import status_pages
        from paneglass.ui.screens.scorecards import ScorecardsScreen

        zone = self.config.display.zone() or self.clock().astimezone().tzinfo
        assert zone is not None
        now = self.clock()
        chosen = parse_period(period, zone, now) if period else last_month(now, zone)
        known = [(v.name, v.kind) for v in self.config.vendors]
        pages = status_pages(known, self.config.scorecards.status_pages)
        return ScorecardsScreen(
            self.store, clock=self.clock, zone=zone, status_pages=pages, period=chosen
        )

    def handover_screen(self) -> HandoverScreen:
        """The shift handover (read-only here)."""
        from paneglass.ui.screens.handover import HandoverScreen

        return HandoverScreen(self.store, clock=self.clock, zone=self.config.display.zone())

    def on_open_scorecards(self, message: OpenScorecards) -> None:
        """A screen or ``:scorecards PERIOD`` asked for the scorecards."""
        try:
            self.push_screen(self.scorecards_screen(message.period))
        except UserError as exc:
            self.notify(str(exc), severity="warning", markup=False)

    def on_open_handover(self, _message: OpenHandover) -> None:
        """A screen or ``:handover`` asked for the handover."""
        self.push_screen(self.handover_screen())

    def action_open_scorecards(self) -> None:
        """Key 7: the scorecards pane."""
        self.post_message(OpenScorecards())

    def action_open_handover(self) -> None:
        """Key 8: the shift handover."""
        self.post_message(OpenHandover())

    def refresh_handover(self) -> None:
        """Look for a handover nobody has acknowledged (the header shows it)."""
        self._load_handover()

    @work(thread=True, exclusive=True, group="handover-pending", exit_on_error=False)
    def _load_handover(self) -> None:
        pending = self.store.pending_handover()
        self.call_from_thread(self._show_handover, pending)

    def _show_handover(self, pending: HandoverRecord | None) -> None:
        for screen in self.screen_stack:
            for bar in screen.query(HeaderBar):
                bar.set_handover(pending)

    def on_time_travel(self, message: TimeTravel) -> None:
        """``:at WHEN``: the console as it stood then (``:at now`` returns)."""
        from paneglass.metrics.instants import parse_instant
        from paneglass.ui.screens.time_travel import AsOfDashboardScreen

        text = message.when.strip().lower()
        if text in ("", "now", "live"):
            while isinstance(self.screen, AsOfDashboardScreen) and self.screen.can_leave:
                self.pop_screen()
            return
        zone = self.config.display.zone() or self.clock().astimezone().tzinfo
        assert zone is not None
        try:
            at = parse_instant(message.when, zone, self.clock())
            self.push_screen(self.as_of_screen(at))
        except UserError as exc:
            self.notify(str(exc), severity="warning", markup=False)

    def as_of_screen(self, at: datetime, *, can_leave: bool = True) -> Screen[None]:
        """The dashboard as it stood at ``at``."""
        from paneglass.ui.screens.time_travel import AsOfDashboardScreen

        return AsOfDashboardScreen(
            self.store,
            at,
            zone=self.config.display.zone(),
            zone_name=self.zone_name,
            demo=self.config.demo,
            views=self.config.views,
            can_leave=can_leave,
        )

    async def on_unmount(self) -> None:
        if self.collector is not None:
            await self.collector.aclose()
        if self._watcher is not None:
            self._watcher.close()


class PaneglassApp(ConsoleBase, inherit_bindings=False):
    """The console: three live panes over the customer's own store.

    With ``read_only`` it has no write-back service at all, and opens only
    the read-only screens: no key, palette entry, click or command can reach
    an action that does not exist. Textual's own app keys are declared here
    again with ids, so ``[keys]`` can remap them too.
    """

    COMMANDS = App.COMMANDS | {TicketKeyProvider}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+q", "quit", "Quit (anywhere)", show=False, priority=True, id="app.quit_now"),
        Binding(
            "ctrl+p", "command_palette", "palette", show=False, priority=True, id="app.palette"
        ),
        Binding("ctrl+c", "help_quit", "Say how to quit", show=False, system=True, id="app.ctrl_c"),
        Binding("7", "open_scorecards", "Scorecards", id="pane.scorecards", show=False),
        Binding("8", "open_handover", "Handover", id="pane.handover", show=False),
    ]

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        read_only: bool = False,
        at: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(store, config, **kwargs)
        self.at = at
        """Started with ``--at``: the console shows only that instant."""
        self.read_only = read_only or at is not None
        self.write_back: WriteBack | None = None
        self.case_edits: CaseEdits | None = None
        self.acks: Acknowledgements | None = None
        if not read_only:
            actor = current_actor()
        self.actor = current_actor()
        """Who signs or acknowledges a handover from this console."""
        if not self.read_only:
            actor = self.actor
            self.write_back = WriteBack(
                store, config.vendors, actor, self.clock, poke=self._send_soon
            )
            self.case_edits = CaseEdits(store, actor, self.clock)
            self.acks = Acknowledgements(store, actor, self.clock)

    @property
    def actions_allowed(self) -> bool:
        """A read-only console's collector never acts at a vendor, rules or not."""
        return not self.read_only

    def notifications_screen(self) -> NotificationsScreen:
        """The notifications pane with acknowledge and snooze (read-only: the plain one)."""
        if self.acks is None:
            return super().notifications_screen()
        from paneglass.ui.screens.notifications import AckNotificationsScreen

        return AckNotificationsScreen(
            self.store, clock=self.clock, zone=self.config.display.zone(), acks=self.acks
        )

    def _send_soon(self) -> None:
        """Called from worker threads after queueing: wake the collector's outbox job."""
        if self.collector is None:
            return
        try:
            self.call_from_thread(self.collector.send_soon)
        except RuntimeError:  # already on the app's own thread
            self.collector.send_soon()

    def ticket_screen(self, ticket_id: int) -> TicketDetailScreen:
        """The ticket screen with write-back keys (read-only: the plain one)."""
        if self.write_back is None or self.case_edits is None:
            return super().ticket_screen(ticket_id)
        from paneglass.ui.screens.ticket_actions import ActionTicketDetailScreen

        return ActionTicketDetailScreen(
            self.store,
            ticket_id,
            clock=self.clock,
            zone=self.config.display.zone(),
            write_back=self.write_back,
            case_edits=self.case_edits,
        )

    def outbox_screen(self) -> OutboxScreen:
        """The outbox with retry and cancel (read-only: the plain one)."""
        if self.write_back is None:
            return super().outbox_screen()
        from paneglass.ui.screens.outbox import ManagedOutboxScreen

        return ManagedOutboxScreen(
            self.store,
            clock=self.clock,
            zone=self.config.display.zone(),
            write_back=self.write_back,
        )

    def cases_screen(self) -> CasesScreen:
        """The cases pane with editing (read-only: the plain one)."""
        if self.case_edits is None:
            return super().cases_screen()
        from paneglass.ui.screens.cases import EditableCasesScreen

        return EditableCasesScreen(
            self.store,
            clock=self.clock,
            zone=self.config.display.zone(),
            case_edits=self.case_edits,
        )

    def handover_screen(self) -> HandoverScreen:
        """The handover with sign and acknowledge (read-only: the plain one)."""
        if self.read_only:
            return super().handover_screen()
        from paneglass.ui.screens.handover import SigningHandoverScreen

        return SigningHandoverScreen(
            self.store, clock=self.clock, zone=self.config.display.zone(), actor=self.actor
        )

    def on_mount(self) -> None:
        if self.config.keys:
            self.set_keymap(self.config.keys)
            self.set_timer(0.5, self._check_keymap)  # after the first frame: it reads every screen
        if self.at is not None:  # --at: a post-mortem of one instant; nothing collects
            self.push_screen(self.as_of_screen(self.at, can_leave=False))
            self.show_problems()
            return
        self.push_screen(
            DashboardScreen(
                self.store,
                clock=self.clock,
                zone=self.config.display.zone(),
                zone_name=self.zone_name,
                demo=self.config.demo,
                views=self.config.views,
            )
        )
        self.show_problems()
        # The first look for a signed handover waits for the first data (start_data): its
        # query would queue beside the first frame's for the store.
        self.set_interval(5.0, self.refresh_handover)  # another console's signature shows here

    def _check_keymap(self) -> None:
        """Warn about ``[keys]`` ids that name nothing and remaps that collide."""
        from paneglass.ui.keymap import keymap_problems

        for problem in keymap_problems(self.config.keys):
            self.notify(problem, title="config", severity="warning", markup=False, timeout=15)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every console action in the palette (ctrl+p), beside Textual's own."""
        yield from super().get_system_commands(screen)
        if isinstance(screen, DashboardScreen):
            for name in ("tickets", "sla", "vendors"):
                yield SystemCommand(
                    f"Show {name} pane",
                    f"Bring the {name} pane forward",
                    lambda name=name: screen.action_show_pane(name),
                )
            yield SystemCommand(
                "Filter tickets", "Open the / filter prompt", lambda: screen.action_prompt("filter")
            )
            yield SystemCommand(
                "Command prompt",
                "Open the : command prompt",
                lambda: screen.action_prompt("command"),
            )
            yield SystemCommand(
                "Clear ticket filter", "Show every ticket", lambda: screen.apply_filter("")
            )
            yield SystemCommand(
                "Zoom pane", "Let the active pane fill the screen", screen.action_toggle_zoom
            )
            yield SystemCommand(
                "Requester history",
                "Every ticket of this requester, all vendors",
                lambda: screen.action_history("requester"),
            )
            yield SystemCommand(
                "Asset history",
                "Every ticket of this asset, all vendors",
                lambda: screen.action_history("asset"),
            )
            for view in screen.views:
                # The palette parses titles as markup: config text goes in without brackets.
                name, text = (_unbracket(v) for v in (view.name, view.filter))
                yield SystemCommand(
                    f"View: {name}",
                    f"Filter {text}, sort {view.sort}",
                    lambda name=view.name: screen.apply_view(name),
                )
            yield SystemCommand("Cases", "Tickets grouped by user problem", self.open_cases)
            yield SystemCommand(
                "Scorecards", "Every vendor's figures for last month", self.action_open_scorecards
            )
            yield SystemCommand(
                "Shift handover",
                "What changed this shift; sign or acknowledge",
                self.action_open_handover,
            )
            yield SystemCommand("Outbox", "Write-back actions and their state", self.open_outbox)
            yield SystemCommand(
                "Notifications",
                "What the rules fired; acknowledge or snooze",
                self.open_notifications,
            )
            yield SystemCommand("Help", "Every key in this screen", screen.action_help)
        if self.write_back is not None:
            from paneglass.ui.screens.ticket_actions import ActionTicketDetailScreen

            if isinstance(screen, ActionTicketDetailScreen):
                yield from screen.palette_commands()


class WallApp(ConsoleBase, inherit_bindings=False):
    """``paneglass wall``: a read-only kiosk: no palette, no actions, quit only if configured.

    Its one binding, ``wall.quit``, is off unless ``[wall] quit_key`` names
    a key (which becomes its key); ``[keys]`` may move it like any other.
    """

    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", show=False, id="wall.quit"),
    ]

    def feed_settings(self, config: Config) -> dict[str, bool]:
        """A wall toasts unless told not to, and never rings unless ``[wall] bell`` says so."""
        return {"toasts": config.wall.toasts, "ring": config.wall.bell}

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        rotate: float | None = None,
        at: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("default_theme", config.wall.theme)
        super().__init__(store, config, **kwargs)
        self.rotate = rotate
        self.at = at
        """``wall --at``: the wall as it stood at that instant (a post-mortem)."""
        self.animation_level = "none"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No key quits a wall unless ``[wall] quit_key`` (or ``[keys]``) names one."""
        if action == "quit":
            return bool(self.config.wall.quit_key or "wall.quit" in self.config.keys)
        return True

    def on_mount(self) -> None:
        keymap = dict(self.config.keys)
        if self.config.wall.quit_key:
            keymap.setdefault("wall.quit", self.config.wall.quit_key)
        if keymap:
            self.set_keymap(keymap)
        if self.at is not None:
            from paneglass.ui.screens.time_travel import AsOfWallScreen

            self.push_screen(
                AsOfWallScreen(
                    self.store,
                    self.config.wall,
                    self.at,
                    zone=self.config.display.zone(),
                    zone_name=self.zone_name,
                    demo=self.config.demo,
                    rotate=self.rotate,
                )
            )
            self.show_problems()
            return
        self.push_screen(
            WallScreen(
                self.store,
                self.config.wall,
                clock=self.clock,
                zone=self.config.display.zone(),
                zone_name=self.zone_name,
                demo=self.config.demo,
                rotate=self.rotate,
            )
        )
        self.show_problems()
