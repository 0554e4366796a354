"""Run the real console over a store whose tickets carry hostile text.

The titles are written into the database *raw*, bypassing the ingest
sanitiser, so the test proves the display path is safe on its own too.
Used by ``test_hostile_terminal.py`` inside a pseudo-terminal.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import text

from paneglass.config import Config, DisplayConfig
from paneglass.demo.fixture import FIXTURE_NOW, seed_store
from paneglass.store import Store
from paneglass.ui.app import PaneglassApp
from tests.hostile import HOSTILE_STRINGS


class HostileApp(PaneglassApp):
    """The console plus a tripwire action that vendor text must never reach."""

    pwned = False

    def action_pwn(self) -> None:
        type(self).pwned = True
        print("PWNED", file=sys.stderr)


def build(folder: Path) -> HostileApp:
    store = Store(f"sqlite:///{folder / 'hostile.db'}")
    seed_store(store)
    storable = [
        t for t in HOSTILE_STRINGS if "\ud800" not in t
    ]  # SQLite cannot hold lone surrogates
    hostile = ["[@click=app.pwn]PWN[/]", *storable]
    with store.engine.begin() as conn:
        ids = [
            row[0] for row in conn.execute(text("SELECT id FROM ticket ORDER BY updated_at DESC"))
        ]
        for ticket_id, title in zip(ids, hostile, strict=False):
            conn.execute(
                text("UPDATE ticket SET title = :t, assignee = :t, key = :k WHERE id = :i"),
                {"t": title, "k": title[:20], "i": ticket_id},
            )
        conn.execute(
            text("UPDATE vendorincident SET name = :t, latest_update = :t"),
            {"t": "\x1b]52;c;ZXZpbA==\x07incident [@click=app.pwn]x[/]"},
        )
    config = Config(display=DisplayConfig(timezone="UTC"), demo=True)
    return HostileApp(store, config, clock=lambda: FIXTURE_NOW, collect=False)


if __name__ == "__main__":
    build(Path(sys.argv[1])).run()
