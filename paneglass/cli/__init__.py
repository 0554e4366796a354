"""The ``paneglass`` command: console, demo, collect, check, export, screenshots.

Command and option names are a contract with users' scripts (DESIGN, "Modes
and commands"). Errors a user can cause print one line and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from paneglass import __version__
from paneglass.config import Config, load_config
from paneglass.errors import UserError
from paneglass.paths import default_config_path, default_database_url

__all__ = ["main"]

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", type=Path, help="config file (TOML)")
    common.add_argument(
        "--db", metavar="URL", help="database URL (default: SQLite in the user data dir)"
    )
    parser = argparse.ArgumentParser(
        prog="paneglass",
        description="One live terminal view of every vendor's tickets, SLAs and status.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"paneglass {__version__}")
    parser.add_argument(
        "--view-only", action="store_true", help="never collect: only follow a running collector"
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="no write-back: no comment, assign, status, hand-off or case editing",
    )
    parser.add_argument("--theme", help="colour theme (noc-dark, light, high-contrast, colorblind)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo", parents=[common], help="the console on built-in vendor emulators"
    )
    demo.add_argument("--theme", help=argparse.SUPPRESS)
    demo.add_argument(
        "--read-only", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    wall = commands.add_parser("wall", parents=[common], help="read-only kiosk for wall screens")
    wall.add_argument("--rotate", metavar="SECONDS", type=float, help="rotate the panes")
    wall.add_argument("--theme", help="colour theme (default: colorblind)")
    collect = commands.add_parser(
        "collect", parents=[common], help="headless collector: poll and store"
    )
    collect.add_argument("--once", action="store_true", help="poll every vendor once and exit")
    collect.add_argument("--log", metavar="FILE", type=Path, help="append one line per poll here")
    commands.add_parser(
        "check", parents=[common], help="validate config and try every vendor's credentials"
    )
    export = commands.add_parser("export", parents=[common], help="write what the store holds")
    export.add_argument("--format", choices=("json", "csv"), required=True)
    export.add_argument("--what", choices=("tickets", "events", "sla", "audit"), default="tickets")
    export.add_argument(
        "--output", metavar="FILE", type=Path, help="file to write (default: stdout)"
    )
    serve = commands.add_parser("serve", parents=[common], help="the console in a web browser")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    shots = commands.add_parser("screenshots", parents=[common], help="write an SVG of each pane")
    shots.add_argument("--output", metavar="DIR", type=Path, default=Path("screenshots"))
    return parser


def _config(args: argparse.Namespace, *, required: bool) -> Config | None:
    path: Path | None = args.config
    if path is None:
        default = default_config_path()
        if not default.exists():
            if required:
                raise UserError(f"no config file: pass --config PATH or create {default}")
            return None
        path = default
    return load_config(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except UserError as exc:
        print(f"paneglass: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command in (None, "demo", "wall"):
        return _console(args, force_demo=command == "demo", wall=command == "wall")
    if command == "collect":
        return _collect(args)
    if command == "check":
        return _check(args)
    if command == "export":
        return _export(args)
    if command == "serve":
        return _serve(args)
    if command == "screenshots":
        from paneglass.ui.screenshots import write_screenshots

        for path in write_screenshots(args.output):
            print(path)
        return 0
    raise UserError(f"unknown command {command!r}")


def _console(args: argparse.Namespace, *, force_demo: bool, wall: bool = False) -> int:
    """The console or the wall; demo mode when there is no config (or when forced)."""
    from dataclasses import replace

    from paneglass.store import Store
    from paneglass.ui.app import ConsoleBase, PaneglassApp, WallApp

    served = bool(os.environ.get("TEXTUAL_DRIVER"))  # textual-serve's web driver, not a TTY
    if not served and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("the console needs a terminal (over SSH: ssh -t)")
    config = None if force_demo else _config(args, required=False)
    session = None
    if config is None:
        from paneglass.demo.session import start_demo

        session = start_demo()
        config, db_url = session.config, session.db_url
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
            app: ConsoleBase = (
                WallApp(store, config, rotate=args.rotate, collect=collect)
                if wall
                else PaneglassApp(
                    store, config, collect=collect, read_only=getattr(args, "read_only", False)
                )
            )
            app.run()
        finally:
            store.close()
    finally:
        if session is not None:
            session.close()
    return 0


def _serve(args: argparse.Namespace) -> int:
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


def _collect(args: argparse.Namespace) -> int:
    from paneglass.store import Store

    config = _config(args, required=True)
    assert config is not None
    if not any(v.enabled for v in config.vendors):
        raise UserError("the config has no enabled vendor to collect from")
    store = Store(args.db or default_database_url(), sla=config.sla)
    try:
        if args.once:
            return asyncio.run(_collect_once(store, config))
        _log_to(args.log)
        asyncio.run(_collect_forever(store, config))
        return 0
    finally:
        store.close()


def _log_to(path: Path | None) -> None:
    """One line per poll, to the file named (or stderr); never a secret (none is logged)."""
    handler: logging.Handler
    if path is None:
        handler = logging.StreamHandler()
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write the log {path}: {exc.strerror}") from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("paneglass")
    root.addHandler(handler)
    root.setLevel(logging.INFO)


async def _collect_once(store: object, config: Config) -> int:
    from paneglass.collect import Collector
    from paneglass.store import Store

    assert isinstance(store, Store)
    collector = Collector(store, config.vendors)
    try:
        outcomes = await collector.poll_all_once()
    finally:
        await collector.aclose()
    width = max(len(o.vendor) for o in outcomes)
    for outcome in outcomes:
        state = "ok" if outcome.ok else "error"
        detail = "" if outcome.ok else f"  {outcome.error}"
        counts = f"{outcome.records:>6} records  {outcome.seconds:6.2f} s"
        print(f"{outcome.vendor:<{width}}  {state:5}  {counts}{detail}")
    return 0 if all(o.ok for o in outcomes) else 1


async def _collect_forever(store: object, config: Config) -> None:
    from paneglass.collect import Collector
    from paneglass.store import Store

    assert isinstance(store, Store)
    collector = Collector(store, config.vendors)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    collector.start()
    try:
        await stop.wait()
    finally:
        await collector.aclose()


def _check(args: argparse.Namespace) -> int:
    config = _config(args, required=True)
    assert config is not None
    return asyncio.run(_check_vendors(config))


async def _check_vendors(config: Config) -> int:
    from connectors import load_connector
    from connectors.errors import ConnectorError

    print(f"config {config.source}: ok, {len(config.vendors)} vendor(s)")
    failures = 0
    width = max((len(v.name) for v in config.vendors), default=4)

    async def one(vendor: object) -> str:
        from connectors import VendorConfig

        assert isinstance(vendor, VendorConfig)
        cls = load_connector(vendor.kind)
        client = cls.make_client(vendor)
        try:
            async with asyncio.timeout(30):
                return "ok     " + await cls(vendor, client).check()
        except ConnectorError as exc:
            return f"FAIL   {exc.kind}: {exc}"
        except TimeoutError:
            return "FAIL   timeout: no answer within 30 s"
        finally:
            await client.aclose()

    results = await asyncio.gather(*(one(v) for v in config.vendors))
    for vendor, result in zip(config.vendors, results, strict=True):
        failures += result.startswith("FAIL")
        print(f"{vendor.name:<{width}}  {vendor.kind:<11} {result}")
    return 1 if failures else 0


def _export(args: argparse.Namespace) -> int:
    from paneglass.export import export
    from paneglass.store import Store

    store = Store(args.db or default_database_url())
    try:
        if args.output is None:
            export(store, args.what, args.format, sys.stdout)
        else:
            try:
                with args.output.open("w", encoding="utf-8", newline="") as out:
                    count = export(store, args.what, args.format, out)
            except OSError as exc:
                raise UserError(f"cannot write {args.output}: {exc.strerror}") from None
            print(f"{count} {args.what} written to {args.output}", file=sys.stderr)
    finally:
        store.close()
    return 0
