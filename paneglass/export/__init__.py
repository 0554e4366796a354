"""``paneglass export``: what the store holds, as JSON or CSV, for scripts.

``rows``     each export's fields and rows (tickets, events, sla, audit)
``formats``  the CSV and JSON writers

Times are ISO 8601 UTC; the ticket fields are a promise to users.
"""

from __future__ import annotations

from typing import TextIO

from paneglass.export.formats import FORMATS
from paneglass.export.rows import EXPORTS
from paneglass.store import Store

__all__ = ["EXPORTS", "FORMATS", "export"]


def export(store: Store, what: str, fmt: str, out: TextIO) -> int:
    """Write every ``what`` row to ``out`` as ``fmt``; return the row count."""
    fields, rows = EXPORTS[what]
    return FORMATS[fmt](rows(store), fields, out)
