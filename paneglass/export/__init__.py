"""``paneglass export``: what the store holds, as JSON or CSV, for scripts.

``rows``     each export's fields and rows (tickets, events, sla, audit, comments)
``formats``  the CSV, JSON and JSON Lines writers
``pack``     the exit pack: all of one vendor's history as files, and restoring it

Times are ISO 8601 UTC; the ticket fields are a promise to users.
"""

from __future__ import annotations

from typing import TextIO

from paneglass.export.formats import FORMATS
from paneglass.export.rows import EXPORTS
from paneglass.store import Store

__all__ = ["EXPORTS", "FORMATS", "export"]


def export(store: Store, what: str, fmt: str, out: TextIO, vendor: str | None = None) -> int:
    """Write every ``what`` row (of ``vendor``, or all) to ``out`` as ``fmt``; return the count."""
    fields, rows = EXPORTS[what]
    return FORMATS[fmt](rows(store, vendor), fields, out)
