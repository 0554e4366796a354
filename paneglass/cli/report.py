"""``paneglass report scorecard|handover``: a period's vendor scorecard, the shift handover."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, TextIO

from paneglass.cli.options import config_from
from paneglass.config import Config
from paneglass.errors import UserError
from paneglass.paths import default_database_url
from paneglass.store import Store

if TYPE_CHECKING:
    from paneglass.metrics.scorecard import Scorecard

__all__ = ["output_to", "run_report", "scorecard_for"]


def _zone(config: Config | None) -> tzinfo:
    zone = config.display.zone() if config is not None else None
    return zone or datetime.now(UTC).astimezone().tzinfo or UTC


@contextmanager
def output_to(path: object) -> Iterator[TextIO]:
    """The file ``--output`` names (one clear error if it cannot be written), else stdout."""
    if path is None:
        yield sys.stdout
        return
    try:
        with path.open("w", encoding="utf-8", newline="") as out:  # type: ignore[attr-defined]
            yield out
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
    print(f"written to {path}", file=sys.stderr)


def scorecard_for(args: argparse.Namespace, store: Store, now: datetime) -> Scorecard:
    """The scorecard ``--period`` names (default: last month), with the config's status pages."""
    from paneglass.metrics.periods import parse_period
    from paneglass.metrics.scorecard import build_scorecard, status_pages

    config = config_from(args, required=False)
    zone = _zone(config)
    period = parse_period(args.period or "last-month", zone, now)
    known = [(v.name, v.kind) for v in store.vendor_health()]
    pages = status_pages(known, config.scorecards.status_pages if config is not None else {})
    return build_scorecard(store, period, now, pages=pages)


def run_report(args: argparse.Namespace, *, clock: Callable[[], datetime] | None = None) -> int:
    """Write the report ``args.report`` names."""
    now = (clock or (lambda: datetime.now(UTC)))()
    store = Store(args.db or default_database_url())
    try:
        if args.report == "scorecard":
            from paneglass.reports.writers import write_scorecard

            card = scorecard_for(args, store, now)
            with output_to(args.output) as out:
                write_scorecard(card, args.format, out)
            return 0
        return _handover(args, store, now)
    finally:
        store.close()


def _handover(args: argparse.Namespace, store: Store, now: datetime) -> int:
    from paneglass.metrics.handover import HandoverReport, build_handover
    from paneglass.metrics.instants import parse_span
    from paneglass.reports.writers import write_handover
    from paneglass.writeback.actor import current_actor

    zone = _zone(config_from(args, required=False))
    if args.acknowledge:
        pending = store.pending_handover()
        if pending is None:
            raise UserError("no handover is waiting to be acknowledged")
        store.acknowledge_handover(current_actor(), now, pending.id)
        print(f"handover {pending.id} from {pending.signed_by} acknowledged", file=sys.stderr)
        record = store.handover(pending.id)
        with output_to(args.output) as out:
            write_handover(
                HandoverReport.from_json(pending.summary), args.format, out, zone, record
            )
        return 0
    if args.last:
        record = store.latest_handover()
        if record is None:
            raise UserError("no handover has been signed yet")
        with output_to(args.output) as out:
            write_handover(HandoverReport.from_json(record.summary), args.format, out, zone, record)
        return 0
    since = now - parse_span(args.since or "8h")
    due = parse_span(args.due or "4h", "--due")
    report = build_handover(store, since, now, due)
    record = None
    if args.sign:
        handover_id = store.sign_handover(
            current_actor(), now, since, args.note or "", report.to_json()
        )
        record = store.latest_handover()
        print(f"handover {handover_id} signed", file=sys.stderr)
    with output_to(args.output) as out:
        write_handover(report, args.format, out, zone, record)
    return 0
