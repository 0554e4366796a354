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
