"""Who is collecting: the collector lease, and per-vendor locks on a shared PostgreSQL.

One row (``CollectorLease``) says which process collects into this store and
when it last said so. A viewer that finds a fresh lease only follows; a
collector refuses to start beside a live one. Whether the holder's process
still exists is the collector's knowledge, passed in as a callable.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Connection, Engine, select, text, update

from paneglass.store.inputs import ProcessGone
from paneglass.store.tables import LEASE

__all__ = ["VendorLocks", "claim", "heartbeat", "live_holder", "release"]


def claim(
    conn: Connection, owner: str, now: datetime, stale_after: float, process_gone: ProcessGone
) -> str | None:
    """Take (or refresh) the lease; return the other live holder if there is one."""
    row = conn.execute(select(LEASE.c.owner, LEASE.c.heartbeat_at)).first()
    alive = (
        row is not None
        and (now - row.heartbeat_at).total_seconds() <= stale_after
        and not process_gone(row.owner)  # killed on this host: no need to wait
    )
    if row is not None and row.owner != owner and alive:
        return str(row.owner)
    heartbeat(conn, owner, now)
    return None


def heartbeat(conn: Connection, owner: str, now: datetime) -> None:
    """Renew the lease for ``owner`` unconditionally."""
    if conn.execute(select(LEASE.c.id)).first() is None:
        conn.execute(LEASE.insert().values(id=1, owner=owner, heartbeat_at=now))
    else:
        conn.execute(update(LEASE).values(owner=owner, heartbeat_at=now))


def release(conn: Connection, owner: str) -> None:
    """Give the lease up, if ``owner`` holds it."""
    conn.execute(LEASE.delete().where(LEASE.c.owner == owner))


def live_holder(conn: Connection, now: datetime, stale_after: float) -> str | None:
    """The holder of a fresh lease, or ``None`` when nobody is collecting."""
    row = conn.execute(select(LEASE.c.owner, LEASE.c.heartbeat_at)).first()
    if row is None or (now - row.heartbeat_at).total_seconds() > stale_after:
        return None
    return str(row.owner)


class VendorLocks:
    """Which vendors this collector polls, when several collectors share one PostgreSQL.

    Each vendor is guarded by a session-level advisory lock on one dedicated
    connection: whoever holds it polls, the others skip. When the holder dies
    its session ends, PostgreSQL releases the lock, and the next collector to
    ask takes the vendor over — from the cursor saved with the last committed
    batch, so nothing is skipped and upserts make any overlap harmless.
    """

    def __init__(self, engine: Engine) -> None:
        self._connection = engine.connect()
        self._held: set[str] = set()

    @staticmethod
    def key(vendor: str) -> int:
        """A stable signed 64-bit lock key for a vendor name."""
        digest = hashlib.blake2b(f"paneglass:{vendor}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    def hold(self, vendor: str) -> bool:
        """Hold the vendor (already held, or acquired now)?"""
        if vendor in self._held:
            return True
        got = bool(
            self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key(vendor)}
            ).scalar()
        )
        self._connection.commit()
        if got:
            self._held.add(vendor)
        return got

    def close(self) -> None:
        """Let every vendor go (ending the session releases the locks)."""
        self._connection.close()
        self._held.clear()
