"""Waiting for a console's store queries to land, as the UI tests do."""

from __future__ import annotations

from textual.app import App
from textual.worker import WorkerCancelled


async def workers_done(app: App[object]) -> None:
    """Every worker finished; one cancelled because a newer query replaced it is fine
    (an exclusive query worker is, whenever the screen asks again before it lands)."""
    for _ in range(20):
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue
