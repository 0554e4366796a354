"""Which format writes what: ``report scorecard --format`` and ``report handover --format``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import tzinfo
from typing import TextIO

from paneglass.export.formats import write_csv, write_json
from paneglass.metrics.handover import HandoverReport
from paneglass.metrics.scorecard import Scorecard
from paneglass.reports.handover_text import handover_markdown
from paneglass.reports.scorecard_html import scorecard_html
from paneglass.reports.scorecard_markdown import scorecard_markdown
from paneglass.reports.scorecard_table import SCORECARD_FIELDS, scorecard_rows
from paneglass.store import HandoverRecord

__all__ = ["HANDOVER_FORMATS", "SCORECARD_FORMATS", "write_handover", "write_scorecard"]


def _md(card: Scorecard, out: TextIO) -> None:
    out.write(scorecard_markdown(card))


def _html(card: Scorecard, out: TextIO) -> None:
    out.write(scorecard_html(card))


def _csv(card: Scorecard, out: TextIO) -> None:
    write_csv(scorecard_rows(card), SCORECARD_FIELDS, out)


def _json(card: Scorecard, out: TextIO) -> None:
    write_json(scorecard_rows(card), SCORECARD_FIELDS, out)


SCORECARD_FORMATS: dict[str, Callable[[Scorecard, TextIO], None]] = {
    "md": _md,
    "html": _html,
    "csv": _csv,
    "json": _json,
}
HANDOVER_FORMATS = ("md", "json")


def write_scorecard(card: Scorecard, fmt: str, out: TextIO) -> None:
    """Write the scorecard in ``fmt``."""
    SCORECARD_FORMATS[fmt](card, out)


def write_handover(
    report: HandoverReport,
    fmt: str,
    out: TextIO,
    zone: tzinfo | None,
    record: HandoverRecord | None = None,
) -> None:
    """Write the handover in ``fmt`` (``md`` or ``json``)."""
    if fmt == "json":
        data = dict(report.as_dict())
        if record is not None:
            data["handover"] = {
                "id": record.id,
                "signed_by": record.signed_by,
                "signed_at": record.signed_at.isoformat(),
                "note": record.note,
                "acknowledged_by": record.acknowledged_by,
                "acknowledged_at": record.acknowledged_at.isoformat()
                if record.acknowledged_at
                else None,
            }
        json.dump(data, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        out.write(handover_markdown(report, zone, record))
