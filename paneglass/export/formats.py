"""The formats an export is written in: CSV and JSON, times as ISO 8601 UTC."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TextIO

__all__ = ["FORMATS", "write_csv", "write_json"]


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def write_csv(rows: Iterable[dict[str, Any]], fields: Sequence[str], out: TextIO) -> int:
    """A header line, then one line per row; return the row count."""
    writer = csv.DictWriter(out, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: _iso(row.get(k)) for k in fields})
        count += 1
    return count


def write_json(rows: Iterable[dict[str, Any]], fields: Sequence[str], out: TextIO) -> int:
    """A JSON list of objects, one per line, streamed; return the row count."""
    count = 0
    out.write("[")
    for row in rows:
        out.write(",\n  " if count else "\n  ")
        out.write(json.dumps({k: _iso(row.get(k)) for k in fields}, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


FORMATS = {"csv": write_csv, "json": write_json}
"""Writers by ``--format`` name."""
