"""Sync phases: a resumable backfill of everything open, then incremental polls,
and (where a vendor needs one request per ticket for it) a history walk.

The first sync of a vendor reads every ticket that is not closed, whatever its
age, plus closed and resolved ones within ``backfill_days``, in a stable
order the connector can resume (its *backfill position*). Only when that is
done does the *incremental* cursor take over, starting from the instant the
backfill began (minus the overlap), so changes made while a long backfill was
running are read too. The two positions live side by side in one saved
cursor, so a poll killed halfway through either phase resumes where its last
committed page ended.

Cursor shape (JSON, saved by the store with each page)::

    {"v": 2,
     "incremental": {...connector's own...} | null,
     "incremental_from": "2026-12-02T10:00:00+00:00" | null,
     "backfill": {"position": {...} | null, "started": "...", "done": 1200, "total": 40000} | null}

A cursor written before this shape existed (any dict without ``"v"``) is kept
as the incremental position and one backfill is run, so an upgraded store
still learns about open tickets older than its first sync's window.

The *history* walk is the third, optional phase: a vendor that can give a
ticket's conversation only one ticket at a time reads tickets alone in the
backfill (so the first sync brings the whole queue in seconds), and the
conversations of what it backfilled follow, a bounded number of pages per
poll, after that poll's incremental pages. Its position is saved beside the
others (``"history": {...}``, the same shape as ``"backfill"``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from connectors.records import Cursor

__all__ = ["BACKFILL", "HISTORY", "INCREMENTAL", "BackfillState", "SyncState"]

VERSION = 2
BACKFILL = "backfill"
INCREMENTAL = "incremental"
HISTORY = "history"


@dataclass(frozen=True)
class BackfillState:
    """Where a running backfill is: the connector's position and the count so far."""

    started: datetime
    """When the backfill began: the incremental phase reads from here."""
    position: Cursor | None = None
    """The connector's own resume point (``None``: from the beginning)."""
    done: int = 0
    total: int | None = None


@dataclass(frozen=True)
class SyncState:
    """Both phases' positions, as saved in one cursor."""

    incremental: Cursor | None = None
    """The connector's incremental position, once it has one."""
    incremental_from: datetime | None = None
    """Where the incremental phase starts while it has no position of its own."""
    backfill: BackfillState | None = None
    """The backfill still to finish, or ``None`` once done."""
    history: BackfillState | None = None
    """The conversation walk over what the backfill read, or ``None`` once done."""

    @classmethod
    def load(cls, cursor: Cursor | None, now: datetime) -> SyncState:
        """The state a saved cursor describes; a fresh (or foreign) one starts a backfill."""
        if not isinstance(cursor, dict) or not cursor:
            return cls(backfill=BackfillState(started=now), history=BackfillState(started=now))
        if cursor.get("v") != VERSION:
            return cls(
                incremental=cursor,
                backfill=BackfillState(started=now),
                history=BackfillState(started=now),
            )
        return cls(
            incremental=_dict_or_none(cursor.get("incremental")),
            incremental_from=_when(cursor.get("incremental_from")),
            backfill=_walk(cursor.get("backfill"), now),
            history=_walk(cursor.get("history"), now),
        )

    def dump(self) -> Cursor:
        """The JSON-able cursor for the store."""
        dumped: Cursor = {
            "v": VERSION,
            "incremental": self.incremental,
            "incremental_from": self.incremental_from.isoformat()
            if self.incremental_from
            else None,
            "backfill": _dump_walk(self.backfill),
        }
        if self.history is not None:  # absent once done (and for vendors without the walk)
            dumped["history"] = _dump_walk(self.history)
        return dumped

    def backfill_advanced(self, position: Cursor | None, read: int, total: int | None) -> SyncState:
        """After one committed backfill page."""
        assert self.backfill is not None
        moved = replace(
            self.backfill,
            position=position,
            done=self.backfill.done + read,
            total=total if total is not None else self.backfill.total,
        )
        return replace(self, backfill=moved)

    def backfill_finished(self, overlap: timedelta) -> SyncState:
        """The backfill is done: incremental reads from when it started (minus the overlap)."""
        assert self.backfill is not None
        start = self.backfill.started - overlap
        if self.incremental is not None:
            return replace(self, backfill=None)
        return replace(self, backfill=None, incremental_from=start)

    def history_advanced(self, position: Cursor | None, read: int, total: int | None) -> SyncState:
        """After one committed page of the history walk (``read``: tickets it covered)."""
        assert self.history is not None
        moved = replace(
            self.history,
            position=position,
            done=self.history.done + read,
            total=total if total is not None else self.history.total,
        )
        return replace(self, history=moved)

    def history_finished(self) -> SyncState:
        """Every backfilled ticket's conversation has been read."""
        return replace(self, history=None)

    def incremental_advanced(self, position: Cursor | None) -> SyncState:
        """After one committed incremental page."""
        if position is None:
            return self
        return replace(self, incremental=position, incremental_from=None)


def _walk(saved: object, now: datetime) -> BackfillState | None:
    if not isinstance(saved, dict):
        return None
    return BackfillState(
        started=_when(saved.get("started")) or now,
        position=_dict_or_none(saved.get("position")),
        done=_count(saved.get("done")) or 0,
        total=_count(saved.get("total")),
    )


def _dump_walk(walk: BackfillState | None) -> dict[str, Any] | None:
    if walk is None:
        return None
    return {
        "position": walk.position,
        "started": walk.started.isoformat(),
        "done": walk.done,
        "total": walk.total,
    }


def _dict_or_none(value: object) -> Cursor | None:
    return value if isinstance(value, dict) else None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
