"""The command line's grammar: every command and option (a contract with users' scripts).

Options that several commands share (``--config``, ``--db``, ``--theme``,
``--read-only``, ``--view-only``, ``--at``) may be written before or after the command
name: ``paneglass --db URL export`` and ``paneglass export --db URL`` are the
same, and when one is written on both sides the one after the command wins.
Every command accepts ``--config`` and ``--db`` (DESIGN: a contract; a
command that has no use for one says so in its ``--help``). The others are
accepted after a command only where that command uses them (anything else
is an error naming it); written before the command, an option the command
does not use is ignored, so a shell alias such as ``paneglass --config
~/work.toml --theme light`` serves every command.

The trick that makes this work with argparse: a command's copy of a shared
option has no default of its own (``SUPPRESS``), so it sets the value only
when written, and never overwrites what was written before the command.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paneglass import __version__
from paneglass.errors import UserError
from paneglass.paths import default_config_path

if TYPE_CHECKING:
    from paneglass.config import Config

__all__ = ["COMMAND_OPTIONS", "SHARED_OPTIONS", "UNUSED", "build_parser", "config_from"]


SHARED_OPTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "config": ("--config", {"metavar": "PATH", "type": Path, "help": "config file (TOML)"}),
    "db": (
        "--db",
        {
            "metavar": "URL",
            "help": "database URL (default: $PANEGLASS_DB, else SQLite in the user data dir)",
        },
    ),
    "theme": ("--theme", {"help": "colour theme (noc-dark, light, high-contrast, colorblind)"}),
    "read_only": (
        "--read-only",
        {
            "action": "store_true",
            "help": "no write-back: no comment, assign, status, hand-off or case editing",
        },
    ),
    "view_only": (
        "--view-only",
        {"action": "store_true", "help": "never collect: only follow a running collector"},
    ),
    "at": (
        "--at",
        {
            "metavar": "WHEN",
            "help": "the console or wall as it stood then, read-only (2026-11-20 03:12)",
        },
    ),
}
"""Options every command may be given before its name: dest → (flag, argparse keywords)."""

COMMAND_OPTIONS: dict[str | None, tuple[str, ...]] = {
    None: ("config", "db", "theme", "read_only", "view_only", "at"),
    "demo": ("config", "db", "theme", "read_only"),
    "wall": ("config", "db", "theme", "view_only", "at"),
    "collect": ("config", "db"),
    "check": ("config", "db"),
    "export": ("config", "db"),
    "import": ("config", "db"),
    "serve": ("config", "db", "theme"),
    "report": ("config", "db"),
    "screenshots": ("config", "db", "theme"),
    "keys": ("config", "db"),
}
"""The shared options each command accepts after its name (``None``: the console)."""

UNUSED: dict[tuple[str, str], str] = {
    ("demo", "db"): "not used: the demo world lives in a throwaway database",
    ("export", "config"): "not used: an export needs only the database",
    ("import", "config"): "not used: an import needs only the database",
    ("screenshots", "config"): "not used: screenshots show a fixed sample world",
    ("screenshots", "db"): "not used: screenshots show a fixed sample world",
    ("keys", "db"): "not used: keys come from the config",
}
"""``--config`` and ``--db`` where a command has no use for them (they are accepted anyway)."""


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help: str
) -> argparse.ArgumentParser:
    """A subcommand that accepts, after its name, the shared options it takes."""
    parser = commands.add_parser(name, help=help, description=help)
    for dest in COMMAND_OPTIONS[name]:
        flag, keywords = SHARED_OPTIONS[dest]
        keywords = {**keywords, "default": argparse.SUPPRESS}
        if (name, dest) in UNUSED:
            keywords["help"] = UNUSED[name, dest]
        parser.add_argument(flag, **keywords)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``paneglass`` parser: shared options, then one subcommand (or none: the console)."""
    parser = argparse.ArgumentParser(
        prog="paneglass",
        description="One live terminal view of every vendor's tickets, SLAs and status.",
        epilog="Shared options work before or after the command name.",
    )
    parser.add_argument("--version", action="version", version=f"paneglass {__version__}")
    for flag, keywords in SHARED_OPTIONS.values():
        parser.add_argument(flag, **keywords)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _command(commands, "demo", "the console on built-in vendor emulators")
    wall = _command(commands, "wall", "read-only kiosk for wall screens")
    wall.add_argument("--rotate", metavar="SECONDS", type=float, help="rotate the panes")
    collect = _command(commands, "collect", "headless collector: poll and store")
    collect.add_argument("--once", action="store_true", help="poll every vendor once and exit")
    collect.add_argument("--log", metavar="FILE", type=Path, help="append one line per poll here")
    check = _command(commands, "check", "validate config and try every vendor's credentials")
    check.add_argument(
        "--rules",
        action="store_true",
        help="show what each notification rule would do, with dry runs (nothing is sent)",
    )
    export = _command(commands, "export", "write what the store holds")
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
    restore = _command(
        commands, "import", "restore an exit pack (export --what all) into the store"
    )
    restore.add_argument("folder", metavar="DIR", type=Path, help="the exit pack's folder")
    restore.add_argument("--as", dest="name", metavar="NAME", help="restore under this vendor name")
    serve = _command(commands, "serve", "the console in a web browser")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    _report_commands(commands)
    shots = _command(commands, "screenshots", "write an SVG of each pane (fixed sample world)")
    shots.add_argument("--output", metavar="DIR", type=Path, default=Path("screenshots"))
    _command(commands, "keys", "list every key binding's id and its key (after [keys] remaps)")
    return parser


def _report_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``paneglass report scorecard|handover``.

    ``--config`` and ``--db`` are accepted before ``report``, between it and the
    report's name, and after the name; each copy has no default, so a later one
    wins and a missing one never resets an earlier one.
    """
    report = _command(commands, "report", "scorecards and shift handovers")
    kinds = report.add_subparsers(dest="report", metavar="REPORT", required=True)

    def kind(name: str, help: str) -> argparse.ArgumentParser:
        parser = kinds.add_parser(name, help=help, description=help)
        for dest in COMMAND_OPTIONS["report"]:
            flag, keywords = SHARED_OPTIONS[dest]
            parser.add_argument(flag, **{**keywords, "default": argparse.SUPPRESS})
        return parser

    scorecard = kind("scorecard", "every vendor's scorecard for a period")
    scorecard.add_argument(
        "--period", metavar="PERIOD", help="2026-11, 2026-Q4, 2026-W47, 2026 (default: last month)"
    )
    scorecard.add_argument("--format", choices=("md", "csv", "json", "html"), default="md")
    scorecard.add_argument("--output", metavar="FILE", type=Path, help="default: stdout")
    handover = kind("handover", "what changed this shift and what is coming")
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
    from paneglass.config import load_config

    path: Path | None = args.config
    if path is None:
        default = default_config_path()
        if not default.exists():
            if required:
                raise UserError(f"no config file: pass --config PATH or create {default}")
            return None
        path = default
    return load_config(path)
