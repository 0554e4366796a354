"""The command line's grammar: every command and option (a contract with users' scripts)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

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
    parser.add_argument(
        "--at", metavar="WHEN", help="the console as it stood then, read-only (2026-11-20 03:12)"
    )
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
    wall.add_argument(
        "--at", metavar="WHEN", help="the wall as it stood then (a post-mortem): 2026-11-20 03:12"
    )
    collect = commands.add_parser(
        "collect", parents=[common], help="headless collector: poll and store"
    )
    collect.add_argument("--once", action="store_true", help="poll every vendor once and exit")
    collect.add_argument("--log", metavar="FILE", type=Path, help="append one line per poll here")
    check = commands.add_parser(
        "check", parents=[common], help="validate config and try every vendor's credentials"
    )
    check.add_argument(
        "--rules",
        action="store_true",
        help="show what each notification rule would do, with dry runs (nothing is sent)",
    )
    export = commands.add_parser("export", parents=[common], help="write what the store holds")
    export.add_argument("--format", choices=("json", "csv", "jsonl"), required=True)
    export.add_argument(
        "--what",
        choices=("tickets", "events", "sla", "audit", "comments", "scorecard", "all"),
        default="tickets",
        help="all: the exit pack of one --vendor (a folder of JSON Lines files, --format jsonl)",
    )
    export.add_argument("--vendor", metavar="NAME", help="only this vendor's rows")
    export.add_argument(
        "--period", metavar="PERIOD", help="scorecard period: 2026-11 (default: last month)"
    )
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
    _report_commands(commands, common)
    shots = commands.add_parser("screenshots", parents=[common], help="write an SVG of each pane")
    shots.add_argument("--output", metavar="DIR", type=Path, default=Path("screenshots"))
    return parser


def _report_commands(
    commands: argparse._SubParsersAction[Any], common: argparse.ArgumentParser
) -> None:
    """``paneglass report scorecard|handover``."""
    report = commands.add_parser("report", parents=[common], help="scorecards and shift handovers")
    kinds = report.add_subparsers(dest="report", metavar="REPORT", required=True)
    # Given again after the report's name, --config and --db win; not given, they must not
    # reset what was given before it (a subparser's defaults overwrite its parent's values).
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--config", metavar="PATH", type=Path, help="config file (TOML)")
    common.add_argument(
        "--db", metavar="URL", help="database URL (default: SQLite in the user data dir)"
    )
    scorecard = kinds.add_parser(
        "scorecard", parents=[common], help="every vendor's scorecard for a period"
    )
    scorecard.add_argument(
        "--period", metavar="PERIOD", help="2026-11, 2026-Q4, 2026-W47, 2026 (default: last month)"
    )
    scorecard.add_argument("--format", choices=("md", "csv", "json", "html"), default="md")
    scorecard.add_argument("--output", metavar="FILE", type=Path, help="default: stdout")
    handover = kinds.add_parser(
        "handover", parents=[common], help="what changed this shift and what is coming"
    )
    handover.add_argument(
        "--since", metavar="SPAN", help="the shift's length back from now (default 8h)"
    )
    handover.add_argument("--due", metavar="SPAN", help="clocks due within this span (default 4h)")
    handover.add_argument("--format", choices=("md", "json"), default="md")
    handover.add_argument("--output", metavar="FILE", type=Path, help="default: stdout")
    handover.add_argument("--sign", action="store_true", help="sign it as the outgoing operator")
    handover.add_argument("--note", help="the outgoing operator's note (with --sign)")
    handover.add_argument(
        "--acknowledge", action="store_true", help="acknowledge the waiting handover (incoming)"
    )
    handover.add_argument("--last", action="store_true", help="show the last signed handover")


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
