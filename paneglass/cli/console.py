"""``paneglass``, ``paneglass demo``, ``paneglass wall`` and ``paneglass serve``: the console."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from paneglass.cli.options import config_from
from paneglass.config import Config
from paneglass.errors import UserError
from paneglass.paths import default_database_url

if TYPE_CHECKING:
    from paneglass.store import Store

__all__ = ["run_console", "serve"]


def run_console(args: argparse.Namespace, *, force_demo: bool, wall: bool = False) -> int:
    """The console or the wall; demo mode when there is no config (or when forced)."""
    from dataclasses import replace

    from paneglass.store import Store
    from paneglass.ui.app import ConsoleBase, PaneglassApp, WallApp

    served = bool(os.environ.get("TEXTUAL_DRIVER"))  # textual-serve's web driver, not a TTY
    if not served and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("the console needs a terminal (over SSH: ssh -t)")
    config = None if force_demo else config_from(args, required=False)
    session = None
    if config is None:
        from paneglass.demo.session import start_demo

        # ``paneglass demo --config FILE``: the demo world with the file's rules, views, keys.
        overlay = config_from(args, required=True) if force_demo and args.config else None
        session = start_demo()
        config, db_url = session.config, session.db_url
        if overlay is not None:
            config = replace(
                config,
                display=overlay.display,
                views=overlay.views,
                keys=overlay.keys,
                wall=overlay.wall,
                notify=overlay.notify if overlay.notify.rules else config.notify,
            )
    else:
        db_url = args.db or default_database_url()
    if args.theme:
        config = replace(
            config,
            display=replace(config.display, theme=args.theme),
            wall=replace(config.wall, theme=args.theme),
        )
    try:
        store = Store(db_url, sla=config.sla)
        try:
            # A demo always runs its own world; otherwise --view-only only ever follows.
            collect = session is not None or not getattr(args, "view_only", False)
            at = _instant(getattr(args, "at", None), config, store)
            collect = collect and at is None  # a past instant: nothing to collect
            app: ConsoleBase = (
                WallApp(store, config, rotate=args.rotate, collect=collect, at=at)
                if wall
                else PaneglassApp(
                    store,
                    config,
                    collect=collect,
                    read_only=getattr(args, "read_only", False),
                    at=at,
                )
            )
            app.run()
        finally:
            store.close()
    finally:
        if session is not None:
            session.close()
    return 0


def serve(args: argparse.Namespace) -> int:
    """Serve the console to browsers with textual-serve: one view-only console per tab."""
    try:
        from textual_serve.server import Server
    except ImportError:
        raise UserError(
            "paneglass serve needs textual-serve: pip install 'paneglass[web]'"
        ) from None
    # A browser tab has no OS user or terminal of its own to audit: served consoles never act.
    argv = [sys.executable, "-m", "paneglass", "--view-only", "--read-only"]
    if args.config is not None:
        argv += ["--config", str(args.config.resolve())]
    if args.db is not None:
        argv += ["--db", args.db]
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"paneglass: warning: serving on {args.host} with no authentication of its own;"
            " put an authenticating reverse proxy in front",
            file=sys.stderr,
        )
    Server(shlex.join(argv), host=args.host, port=args.port, title="paneglass").serve()
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
