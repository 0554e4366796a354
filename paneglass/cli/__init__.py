"""The ``paneglass`` command: parse the arguments and dispatch; nothing else lives here.

Command and option names are a contract with users' scripts (DESIGN, "Modes
and commands"). Errors a user can cause print one line and exit 2. Each
command family has its own module: ``console`` (console, demo, wall, serve),
``collect``, ``check``, ``export``, ``restore`` (``import``), ``report``,
``keys``; the grammar is in ``options``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from paneglass.cli.options import build_parser
from paneglass.errors import UserError
from paneglass.loading import collector_paused, loaded

__all__ = ["main"]

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        with collector_paused():
            return _dispatch(args)
    except UserError as exc:
        print(f"paneglass: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command in (None, "demo", "wall"):
        from paneglass.cli.console import run_console

        return run_console(args, force_demo=command == "demo", wall=command == "wall")
    loaded()  # only the console's start waits on its imports; other commands collect as usual
    if command == "serve":
        from paneglass.cli.console import serve

        return serve(args)
    if command == "collect":
        from paneglass.cli.collect import collect

        return collect(args)
    if command == "check":
        from paneglass.cli.check import check

        return check(args)
    if command == "export":
        from paneglass.cli.export import run_export

        return run_export(args)
    if command == "report":
        from paneglass.cli.report import run_report

        return run_report(args)
    if command == "import":
        from paneglass.cli.restore import run_import

        return run_import(args)
    if command == "screenshots":
        from paneglass.ui.screenshots import write_screenshots

        for path in write_screenshots(args.output, theme=args.theme):
            print(path)
        return 0
    if command == "keys":
        from paneglass.cli.keys import list_keys

        return list_keys(args)
    raise UserError(f"unknown command {command!r}")
