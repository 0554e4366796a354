"""``Store.as_of(instant)``: the same facade, answering every read as it stood then.

A :class:`StoreAsOf` shares the live store's engine through an
:class:`~paneglass.store.as_of.AsOfEngine`, so each facade method runs its
usual query against the history (see :mod:`paneglass.store.as_of`); any
write raises. Screens take it where they take a store, unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Engine

from paneglass.errors import UserError
from paneglass.store import Store
from paneglass.store.as_of import AsOfEngine, history_since

__all__ = ["StoreAsOf"]


class StoreAsOf(Store):
    """The store at ``at``: read-only."""

    def __init__(self, live: Store, at: datetime) -> None:  # no super(): no engine, no migration
        with live.engine.connect() as conn:
            since = history_since(conn)
        if since is None or at < since:
            begun = f"{since:%Y-%m-%d %H:%M} UTC" if since else "the next change it sees"
            raise UserError(f"at: the store keeps history from {begun}, not before")
        self.live = live
        self.at = at
        self.url = live.url
        self.writer = False
        self.sla = live.sla
        self.engine = cast(Engine, AsOfEngine(live.engine, at))

    def close(self) -> None:
        """The live store owns the connections."""

    def data_version(self) -> int | None:
        """Nothing changes at a past instant."""
        return None
