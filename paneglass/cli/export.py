"""``paneglass export``: open the store and write one export to a file or stdout."""

from __future__ import annotations

import argparse
import sys

from paneglass.errors import UserError
from paneglass.export import export
from paneglass.paths import default_database_url
from paneglass.store import Store

__all__ = ["run_export"]


def run_export(args: argparse.Namespace) -> int:
    """Write ``--what`` as ``--format`` to ``--output`` (default: stdout)."""
    store = Store(args.db or default_database_url())
    try:
        if args.what == "scorecard":
            return _scorecard(args, store)
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


def _scorecard(args: argparse.Namespace, store: Store) -> int:
    """The scorecard report's rows (``--period``, default last month) as CSV or JSON."""
    from datetime import UTC, datetime

    from paneglass.cli.report import output_to, scorecard_for
    from paneglass.export.formats import FORMATS
    from paneglass.reports.scorecard_table import SCORECARD_FIELDS, scorecard_rows

    card = scorecard_for(args, store, datetime.now(UTC))
    with output_to(args.output) as out:
        FORMATS[args.format](scorecard_rows(card), SCORECARD_FIELDS, out)
    return 0
