"""Collection: everything that runs on a timer and writes to (or watches) the store.

``collector``      one APScheduler job per vendor: poll, apply, back off (:class:`Collector`)
``backoff``        Retry-After, backoff with jitter, a circuit breaker per vendor
``freshness``      how much to trust each vendor's data right now
``watch``          noticing another process's commits (SQLite data_version, LISTEN/NOTIFY)
``outbox_sender``  sends the write-back actions operators queued
``liveness``       whether the process behind ``host:pid`` is alive (passed into the store)

Nothing here imports Textual: a headless collector never loads the UI. Names
are imported on first use: a viewer that only asks how fresh a vendor is
never loads the scheduler, the connectors or the outbox sender.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Cheap, wanted by every pane, and bound here for good (a lazily bound ``freshness`` could
# be shadowed by the submodule of the same name once something imports it).
from paneglass.collect.freshness import Freshness, freshness

if TYPE_CHECKING:
    from paneglass.collect.backoff import OPEN_AFTER, Circuit, VendorGate
    from paneglass.collect.collector import LEASE_STALE, Collector, PollOutcome
    from paneglass.collect.liveness import owner_name, process_gone, this_host
    from paneglass.collect.outbox_sender import OutboxSender, SendReport
    from paneglass.collect.watch import ChangeWatcher, watcher_for

_HOME = {
    "OPEN_AFTER": "backoff",
    "Circuit": "backoff",
    "VendorGate": "backoff",
    "LEASE_STALE": "collector",
    "Collector": "collector",
    "PollOutcome": "collector",
    "owner_name": "liveness",
    "process_gone": "liveness",
    "this_host": "liveness",
    "OutboxSender": "outbox_sender",
    "SendReport": "outbox_sender",
    "ChangeWatcher": "watch",
    "watcher_for": "watch",
}
"""Each public name and the module it lives in."""

__all__ = [
    "LEASE_STALE",
    "OPEN_AFTER",
    "ChangeWatcher",
    "Circuit",
    "Collector",
    "Freshness",
    "OutboxSender",
    "PollOutcome",
    "SendReport",
    "VendorGate",
    "freshness",
    "owner_name",
    "process_gone",
    "this_host",
    "watcher_for",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
