"""``paneglass export``: open the store and write one export to a file or stdout, or a pack."""

from __future__ import annotations

import argparse
import sys

from paneglass.errors import UserError
from paneglass.export import export
from paneglass.export.pack import write_pack
from paneglass.paths import default_database_url
from paneglass.store import PackError, Store

__all__ = ["run_export"]


def run_export(args: argparse.Namespace) -> int:
    """Write ``--what`` as ``--format`` to ``--output`` (default: stdout), or the exit pack."""
    if args.what == "all":
        _check_pack_arguments(args)
    store = Store(args.db or default_database_url())
    try:
        if args.what == "scorecard":
            return _scorecard(args, store)
        if args.what == "all":
            return _write_pack(store, args)
        if args.vendor is not None and args.vendor not in {v.name for v in store.vendor_health()}:
            raise UserError(f"there is no vendor {args.vendor!r} in {args.db or 'the store'}")
        if args.output is None:
            export(store, args.what, args.format, sys.stdout, args.vendor)
        else:
            try:
                with args.output.open("w", encoding="utf-8", newline="") as out:
                    count = export(store, args.what, args.format, out, args.vendor)
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


def _check_pack_arguments(args: argparse.Namespace) -> None:
    if args.vendor is None:
        raise UserError("--what all writes one vendor's exit pack: name it with --vendor NAME")
    if args.format != "jsonl":
        raise UserError("--what all writes a folder of JSON Lines files: use --format jsonl")
    if args.output is None:
        raise UserError("--what all writes a folder: name it with --output DIR")
    if args.output.exists() and (not args.output.is_dir() or any(args.output.iterdir())):
        raise UserError(f"{args.output} already exists and is not an empty folder")


def _write_pack(store: Store, args: argparse.Namespace) -> int:
    try:
        manifest = write_pack(store, args.vendor, args.output)
    except PackError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot write {args.output}: {exc.strerror}") from None
    counts = ", ".join(f"{n:,} {kind}" for kind, n in manifest["counts"].items())
    print(f"exit pack of {args.vendor} written to {args.output}: {counts}", file=sys.stderr)
    return 0
