"""The formats an export is written in: CSV, JSON and JSON Lines, times as ISO 8601 UTC."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TextIO

__all__ = ["FORMATS", "iso", "write_csv", "write_json", "write_jsonl"]


def iso(value: Any) -> Any:
    """Times as ISO 8601 UTC (``2026-11-22T14:02:37Z``); anything else as it is."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


_iso = iso


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


def write_jsonl(rows: Iterable[dict[str, Any]], fields: Sequence[str], out: TextIO) -> int:
    """JSON Lines: one JSON object per line, streamed; return the row count."""
    count = 0
    for row in rows:
        out.write(json.dumps({k: _iso(row.get(k)) for k in fields}, ensure_ascii=False) + "\n")
        count += 1
    return count


FORMATS = {"csv": write_csv, "json": write_json, "jsonl": write_jsonl}
"""Writers by ``--format`` name."""
