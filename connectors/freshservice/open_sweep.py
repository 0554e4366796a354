"""The backfill's sweep over every open ticket, whatever its age, by creation day.

Freshservice's list endpoint cannot filter by status and, without
``updated_since``, shows only the last 30 days; so open tickets of any age come
from ``GET /api/v2/tickets/filter`` with the query language (one line on the wire)::

    query="(status:2 OR status:3 OR status:>6)
           AND created_at:>'2025-01-01' AND created_at:<'2025-01-31'"

Open (2), Pending (3) and every custom status (numbered from 6; ``:>`` is
"greater than or equal") are not resolved or closed. The answer is
``{"tickets": [...], "total": N}`` and the endpoint serves at most
:data:`MAX_FILTER_PAGES` pages of up to 100, so no single query may match more
than that. The sweep therefore walks *windows of creation days*, newest first,
each sized to fit one page:

* the first request (no date bound) returns the vendor's count of open
  tickets, ``progress.total``; when it fits one page it is the whole sweep;
* a window ``[lo, hi]`` (whole UTC days, both inclusive) answering more than a
  page is narrowed before anything is read from it; one that fits is emitted
  and the next window ends the day before it starts (windows never overlap, so
  each ticket is read once), growing while windows come back sparse;
* once the estimate of what is left fits a page, the *rest* query (only an
  upper bound) ends the sweep, or, if it still counts more than a page, gives
  the exact remainder and windowing goes on;
* a single day with more open tickets than a page is paged (and split by
  ``priority`` when it holds more than the page cap allows).

A window read in one request cannot shift under us, so a ticket resolved or
reopened while the sweep runs neither hides another one nor is read twice (its
own change is read by the incremental phase, which starts where the backfill
began). Only a paged dense day is offset-paged; a change inside that day while
it is being paged can shift one row between pages.

The position (JSON, saved with every page) says which window comes next, so a
restart resumes there instead of starting over.

Assumptions not confirmed in vendor documentation [U]: the 10-page cap and the
``total`` key are those of Freshworks' filter endpoints (Freshdesk documents
them; public Freshservice scripts read ``total``); date comparisons are taken
as whole-day and inclusive; ``status:>6`` as a numeric comparison.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import Any

__all__ = ["MAX_FILTER_PAGES", "OPEN_QUERY", "PRIORITIES", "OpenSweep"]

OPEN_QUERY = "status:2 OR status:3 OR status:>6"
"""Every status that is neither Resolved (4) nor Closed (5)."""
MAX_FILTER_PAGES = 10
"""Pages the filter endpoint serves for one query [U: Freshworks' filter limit]."""
PRIORITIES = (1, 2, 3, 4)
"""Freshservice priority codes, to split a day too dense for the page cap."""
FIRST_SPAN = 7
"""Days in the first bounded window; the sweep adapts it from the counts it sees."""
MAX_SPAN = 3_650
FLOOR = date(2000, 1, 1)
"""No Freshservice account holds tickets created before this: past it, ask for the rest."""


@dataclass(frozen=True)
class OpenSweep:
    """Where the open-ticket sweep is; ``done`` once every window has been read."""

    counted: bool = False
    """The first (unbounded) count has been made."""
    hi: date | None = None
    """Inclusive upper creation day of the next window; ``None``: no upper bound (today)."""
    span: int = FIRST_SPAN
    left: int = 0
    """Open tickets not yet read, as far as the counts tell."""
    total: int | None = None
    rest: bool = False
    """The next request is the rest query (an upper bound only)."""
    page: int = 1
    """Next page within a dense single day."""
    split: int | None = None
    """The priority being read within a dense single day."""
    done: bool = False

    @classmethod
    def load(cls, value: Any) -> OpenSweep:
        """The sweep a saved position describes; anything unreadable starts it over."""
        if not isinstance(value, dict):
            return cls()
        try:
            hi = value.get("hi")
            split = value.get("split")
            total = value.get("total")
            return cls(
                counted=bool(value.get("counted")),
                hi=date.fromisoformat(hi) if isinstance(hi, str) else None,
                span=max(1, min(int(value.get("span", FIRST_SPAN)), MAX_SPAN)),
                left=max(0, int(value.get("left", 0))),
                total=int(total) if isinstance(total, int) else None,
                rest=bool(value.get("rest")),
                page=max(1, min(int(value.get("page", 1)), MAX_FILTER_PAGES)),
                split=int(split) if split in PRIORITIES else None,
                done=bool(value.get("done")),
            )
        except (TypeError, ValueError):
            return cls()

    def dump(self) -> dict[str, Any]:
        """JSON-able position."""
        data = asdict(self)
        data["hi"] = self.hi.isoformat() if self.hi else None
        return data

    # -- the next request --------------------------------------------------------

    def window(self, today: date) -> tuple[date | None, date | None]:
        """``(lo, hi)`` of the next request; ``None`` for an open end."""
        if not self.counted:
            return None, None
        if self.rest:
            return None, self.hi
        top = self.hi or today
        return top - timedelta(days=self.span - 1), self.hi

    def query(self, today: date) -> str:
        """The filter query of the next request."""
        lo, hi = self.window(today)
        parts = [f"({OPEN_QUERY})"] if lo or hi or self.split else [OPEN_QUERY]
        if self.split is not None:
            parts.append(f"priority:{self.split}")
        if lo is not None:
            parts.append(f"created_at:>'{lo.isoformat()}'")
        if hi is not None:
            parts.append(f"created_at:<'{hi.isoformat()}'")
        return " AND ".join(parts)

    # -- what the answer means -----------------------------------------------------

    def answered(self, total: int, read: int, per_page: int, today: date) -> tuple[OpenSweep, bool]:
        """The sweep after an answer counting ``total`` (``read`` rows in it).

        Returns the new state and whether the rows of this answer are to be
        emitted (an answer to an oversized window is only a count).
        """
        if not self.counted:
            if total <= per_page:
                return replace(self, counted=True, total=total, done=True), True
            return replace(self, counted=True, total=total, left=total), False
        if self.rest:
            return self._rest_answered(total, read, per_page)
        lo, _hi = self.window(today)
        assert lo is not None
        if self.page == 1 and self.split is None and total <= per_page:
            return self._next_window(lo, read, per_page), True
        if self.span > 1:  # too many for one page: narrow the window, read nothing yet
            narrower = max(1, (self.span * per_page) // (2 * total))
            return replace(self, span=min(narrower, self.span - 1)), False
        # One day with more than a page: page it (split by priority past the cap).
        if self.split is None and self.page == 1 and total > per_page * MAX_FILTER_PAGES:
            return replace(self, split=PRIORITIES[0]), False
        left = max(0, self.left - read)
        if self.page < _pages(total, per_page):
            return replace(self, page=self.page + 1, left=left), True
        if self.split is not None and self.split != PRIORITIES[-1]:
            following = PRIORITIES[PRIORITIES.index(self.split) + 1]
            return replace(self, split=following, page=1, left=left), True
        day_done = replace(self, split=None, page=1, left=left)
        return day_done._next_window(lo, per_page, per_page, subtract=False), True

    def beyond_cap(self, total: int, per_page: int) -> int:
        """Rows the current query matches beyond what the page cap lets anyone read."""
        if self.rest or self.span == 1:
            return max(0, total - per_page * MAX_FILTER_PAGES)
        return 0

    def _rest_answered(self, total: int, read: int, per_page: int) -> tuple[OpenSweep, bool]:
        if self.page == 1 and total <= per_page:
            return replace(self, done=True), True
        if self.hi is None or self.hi >= FLOOR:  # more than a page is left: window it
            return replace(self, rest=False, left=total), False
        # Tickets dated before any Freshservice account existed: page what the query shows.
        if self.page < _pages(total, per_page):
            return replace(self, page=self.page + 1), True
        return replace(self, done=True), True

    def _next_window(
        self, lo: date, read: int, per_page: int, *, subtract: bool = True
    ) -> OpenSweep:
        left = max(0, self.left - read) if subtract else self.left
        if read == 0:
            span = self.span * 4
        elif read * 4 < per_page:
            span = self.span * 2
        else:
            span = self.span
        span = max(1, min(span, MAX_SPAN))
        hi = lo - timedelta(days=1)
        rest = left <= per_page or hi < FLOOR
        return replace(self, hi=hi, span=span, left=left, rest=rest, page=1, split=None)


def _pages(total: int, per_page: int) -> int:
    """Pages a query of ``total`` rows spans, within the vendor's cap."""
    return max(1, min(-(-total // per_page), MAX_FILTER_PAGES))
