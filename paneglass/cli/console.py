"""``paneglass``, ``paneglass demo``, ``paneglass wall`` and ``paneglass serve``: the console."""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from paneglass.cli.options import config_from
from paneglass.errors import UserError
from paneglass.paths import default_config_path, default_database_url

if TYPE_CHECKING:
    from paneglass.config import Config
    from paneglass.demo.process import DemoProcess
    from paneglass.store import Store
    from paneglass.ui.app import ConsoleBase

__all__ = ["console_app", "run_console", "serve", "served_command"]


def run_console(args: argparse.Namespace, *, force_demo: bool, wall: bool = False) -> int:
    """The console or the wall; demo mode when there is no config (or when forced)."""
    served = bool(os.environ.get("TEXTUAL_DRIVER"))  # textual-serve's web driver, not a TTY
    if not served and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("the console needs a terminal (over SSH: ssh -t)")
    with console_app(args, force_demo=force_demo, wall=wall) as app:
        app.quit_on_signals = True
        app.run()
    return 0


@contextlib.contextmanager
def console_app(
    args: argparse.Namespace, *, force_demo: bool, wall: bool = False
) -> Iterator[ConsoleBase]:
    """The app every option on the command line asked for; its store and demo close after.

    ``--config`` and ``--db`` choose the data, ``--theme`` the colours,
    ``--read-only`` drops write-back, ``--view-only`` only follows another
    collector, ``--at`` shows a past instant. ``paneglass demo`` takes display,
    keys, views, wall and notification rules from a
    ``--config`` it is given, never its vendors.
    """
    demo = None
    if force_demo or (args.config is None and not default_config_path().exists()):
        # The demo's servers, world and history run in a process of their own, forked once
        # what both processes need is imported, while this one imports Textual and the UI.
        import paneglass.config
        import paneglass.store  # noqa: F401
        from paneglass.demo.process import DemoProcess

        demo = DemoProcess.start()
    try:
        with _store_and_app(args, demo, wall=wall) as app:
            yield app
    finally:
        if demo is not None:
            demo.close()


@contextlib.contextmanager
def _store_and_app(
    args: argparse.Namespace, demo: DemoProcess | None, *, wall: bool
) -> Iterator[ConsoleBase]:
    from paneglass.store import Store
    from paneglass.ui.app import PaneglassApp, WallApp

    given = config_from(args, required=False) if demo is None or args.config else None
    if demo is not None:
        ready = demo.ready()
        config, db_url = _demo_config(ready.config, given), ready.db_url
    else:
        assert given is not None
        config, db_url = given, args.db or default_database_url()
    if args.theme:
        config = replace(
            config,
            display=replace(config.display, theme=args.theme),
            wall=replace(config.wall, theme=args.theme),
        )
    store = Store(db_url, sla=config.sla)
    try:
        # A demo always runs its own world; otherwise --view-only only ever follows.
        collect = demo is not None or not getattr(args, "view_only", False)
        at = _instant(getattr(args, "at", None), config, store)
        collect = collect and at is None  # a past instant: nothing to collect
        app: ConsoleBase = (
            WallApp(store, config, rotate=getattr(args, "rotate", None), collect=collect, at=at)
            if wall
            else PaneglassApp(
                store,
                config,
                collect=collect,
                read_only=getattr(args, "read_only", False),
                at=at,
            )
        )
        if demo is not None:
            app.when_started = demo.started
        yield app
    finally:
        store.close()


def _demo_config(demo: Config, given: Config | None) -> Config:
    """The demo world's vendors, with the operator's own display, keys, views, wall and
    notification rules (if given; the demo's own rules when the file has none)."""
    if given is None:
        return demo
    return replace(
        demo,
        display=given.display,
        keys=given.keys,
        views=given.views,
        wall=given.wall,
        notify=given.notify if given.notify.rules else demo.notify,
    )


def served_command(args: argparse.Namespace) -> list[str]:
    """The console each browser tab runs: view-only and read-only, with the options given."""
    # A browser tab has no OS user or terminal of its own to audit: served consoles never act.
    argv = [sys.executable, "-m", "paneglass", "--view-only", "--read-only"]
    if args.config is not None:
        argv += ["--config", str(args.config.resolve())]
    if args.db is not None:
        argv += ["--db", args.db]
    if args.theme is not None:
        argv += ["--theme", args.theme]
    return argv


def serve(args: argparse.Namespace) -> int:
    """Serve the console to browsers with textual-serve: one view-only console per tab."""
    try:
        from textual_serve.server import Server
    except ImportError:
        raise UserError(
            "paneglass serve needs textual-serve: pip install 'paneglass[web]'"
        ) from None
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"paneglass: warning: serving on {args.host} with no authentication of its own;"
            " put an authenticating reverse proxy in front",
            file=sys.stderr,
        )
    command = shlex.join(served_command(args))
    Server(command, host=args.host, port=args.port, title="paneglass").serve()
    return 0


def _instant(text: str | None, config: Config, store: Store) -> datetime | None:
    """``--at WHEN`` as an instant the store keeps history for (one clear error otherwise)."""
    if text is None:
        return None
    from paneglass.metrics.instants import parse_instant

    now = datetime.now(UTC)
    at = parse_instant(text, config.display.zone() or now.astimezone().tzinfo or UTC, now)
    store.as_of(at)  # refuses an instant before the history began
    return at
