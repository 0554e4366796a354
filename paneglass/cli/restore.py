"""``paneglass import DIR``: restore an exit pack into the store (all of it, or nothing)."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import SQLAlchemyError

from paneglass.errors import UserError
from paneglass.export.pack import read_pack, restore_pack
from paneglass.paths import default_database_url
from paneglass.store import PackError, Store

__all__ = ["run_import"]


def run_import(args: argparse.Namespace) -> int:
    """Check the pack (manifest, checksums), then write it into the store in one transaction."""
    store = Store(args.db or default_database_url())
    try:
        try:
            pack = read_pack(args.folder, current_schema=store.schema_version())
            counts = restore_pack(store, pack, args.name)
        except PackError as exc:
            raise UserError(f"cannot import {args.folder}: {exc}") from None
        except OSError as exc:
            raise UserError(f"cannot read {args.folder}: {exc.strerror}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"cannot import {args.folder}: a row is malformed ({exc!r})") from None
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).split("\n", 1)[0]
            raise UserError(
                f"cannot import {args.folder}: the store refused it ({reason})"
            ) from None
    finally:
        store.close()
    name = args.name or pack.vendor
    told = ", ".join(f"{n:,} {kind}" for kind, n in counts.items())
    print(f"imported {name} from {args.folder}: {told}", file=sys.stderr)
    return 0
