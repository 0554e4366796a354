"""The JQL the connector sends: string and date literals, and the sync query shapes.

Date literals have minute precision and Jira reads them in the API user's
*profile* zone, so every bound is written in that zone, floored to the
minute (never later than the instant meant: a floor only re-reads).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

__all__ = [
    "backfill_count_jql",
    "closed_recently_jql",
    "date_literal",
    "jql_string",
    "open_jql",
    "updated_since_jql",
]


def jql_string(value: str) -> str:
    """A JQL string literal (so a project name with spaces or quotes stays one value)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def date_literal(instant: datetime, zone: tzinfo) -> str:
    """``"yyyy-MM-dd HH:mm"`` in ``zone``, floored to the minute."""
    return f'"{instant.astimezone(zone):%Y-%m-%d %H:%M}"'


def _scoped(project: str | None, clause: str) -> str:
    return f"project = {jql_string(project)} AND {clause}" if project else clause


def open_jql(project: str | None, created_from: str | None) -> str:
    """Backfill, part 1: every issue not in the Done category, whatever its age.

    ``statusCategory != Done [AND created >= "…"] ORDER BY created ASC, key ASC``:
    ``created`` never changes, so the order holds while the backfill runs and a
    restart continues from the last committed page's ``created``.
    """
    clause = "statusCategory != Done"
    if created_from is not None:
        clause += f" AND created >= {created_from}"
    return _scoped(project, clause) + " ORDER BY created ASC, key ASC"


def closed_recently_jql(project: str | None, updated_from: str) -> str:
    """Backfill, part 2: Done-category issues updated within ``backfill_days``.

    ``statusCategory = Done AND updated >= "…" ORDER BY updated ASC, key ASC``.
    """
    clause = f"statusCategory = Done AND updated >= {updated_from}"
    return _scoped(project, clause) + " ORDER BY updated ASC, key ASC"


def backfill_count_jql(project: str | None, updated_from: str) -> str:
    """Both backfill parts as one query, for ``search/approximate-count``."""
    return _scoped(project, f"(statusCategory != Done OR updated >= {updated_from})")


def updated_since_jql(project: str | None, updated_from: str) -> str:
    """Incremental: ``updated >= "…" ORDER BY updated ASC, key ASC``."""
    return _scoped(project, f"updated >= {updated_from}") + " ORDER BY updated ASC, key ASC"
