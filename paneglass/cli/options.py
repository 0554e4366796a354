"""The command line's grammar: every command and option (a contract with users' scripts)."""

from __future__ import annotations

import argparse
from pathlib import Path

from paneglass import __version__
from paneglass.config import Config, load_config
from paneglass.errors import UserError
from paneglass.paths import default_config_path

__all__ = ["build_parser", "config_from"]


def build_parser() -> argparse.ArgumentParser:
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
    export.add_argument("--format", choices=("json", "csv", "jsonl"), required=True)
    export.add_argument(
        "--what",
        choices=("tickets", "events", "sla", "audit", "comments", "all"),
        default="tickets",
        help="all: the exit pack of one --vendor (a folder of JSON Lines files, --format jsonl)",
    )
    export.add_argument("--vendor", metavar="NAME", help="only this vendor's rows")
    export.add_argument(
        "--output",
        metavar="FILE",
        type=Path,
        help="file to write (default: stdout); the folder for --what all",
    )
    restore = commands.add_parser(
        "import", parents=[common], help="restore an exit pack (export --what all) into the store"
    )
    restore.add_argument("folder", metavar="DIR", type=Path, help="the exit pack's folder")
    restore.add_argument("--as", dest="name", metavar="NAME", help="restore under this vendor name")
    serve = commands.add_parser("serve", parents=[common], help="the console in a web browser")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    shots = commands.add_parser("screenshots", parents=[common], help="write an SVG of each pane")
    shots.add_argument("--output", metavar="DIR", type=Path, default=Path("screenshots"))
    return parser


def config_from(args: argparse.Namespace, *, required: bool) -> Config | None:
    """The config named by ``--config`` (else the default file; ``None`` when there is none)."""
    path: Path | None = args.config
    if path is None:
        default = default_config_path()
        if not default.exists():
            if required:
                raise UserError(f"no config file: pass --config PATH or create {default}")
            return None
        path = default
    return load_config(path)
