"""Collection: everything that runs on a timer and writes to (or watches) the store.

``collector``      one APScheduler job per vendor: poll, apply, back off (:class:`Collector`)
``backoff``        Retry-After, backoff with jitter, a circuit breaker per vendor
``freshness``      how much to trust each vendor's data right now
``watch``          noticing another process's commits (SQLite data_version, LISTEN/NOTIFY)
``outbox_sender``  sends the write-back actions operators queued
``liveness``       whether the process behind ``host:pid`` is alive (passed into the store)

Nothing here imports Textual: a headless collector never loads the UI.
"""

from paneglass.collect.backoff import OPEN_AFTER, Circuit, VendorGate
from paneglass.collect.collector import LEASE_STALE, Collector, PollOutcome
from paneglass.collect.freshness import Freshness, freshness
from paneglass.collect.liveness import owner_name, process_gone, this_host
from paneglass.collect.outbox_sender import OutboxSender, SendReport
from paneglass.collect.watch import ChangeWatcher, watcher_for

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
