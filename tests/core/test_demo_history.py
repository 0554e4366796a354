"""The demo's year of history: replayed beside the console, and cut short when the demo closes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from connectors import VendorConfig
from paneglass.demo.history import PROFILES, seed_history
from paneglass.store import Store, TicketQuery

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def _store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'demo.db'}")
    store.sync_vendors(
        [VendorConfig(name=n, kind="servicenow", base_url="http://127.0.0.1:9") for n in PROFILES]
    )
    return store


def test_history_is_replayed_into_the_store(tmp_path: Path) -> None:
    store = _store(tmp_path)
    try:
        # seed 3 once left a ticket open whose resolution fell after the history ends
        steps = seed_history(store, NOW, list(PROFILES), months=1, status_page=None, seed=3)
        assert steps > 50
        assert store.ticket_count(TicketQuery()) > 10
        # nothing of the past is left open: the live SLA pane shows only today's world
        assert store.ticket_count(TicketQuery(active_only=True)) == 0
    finally:
        store.close()


def test_a_closing_demo_stops_the_replay(tmp_path: Path) -> None:
    """Closing the demo must not wait for a year of history (it held `q` for ~10 s)."""
    store = _store(tmp_path)
    closing = threading.Event()
    closing.set()
    try:
        assert seed_history(store, NOW, list(PROFILES), months=1, stop=closing) == 0
        assert store.ticket_count(TicketQuery()) == 0
    finally:
        store.close()
