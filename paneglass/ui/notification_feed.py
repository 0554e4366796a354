"""Each console shows each firing once: a toast, one bell per batch, a desktop notification.

Consoles follow the store as they do for every change (the collector's own
notice, SQLite's ``data_version``, PostgreSQL's LISTEN): on each notice the
feed reads the firings newer than the last one it showed, in a thread, and
shows them on the app's thread, where the last id moves. A console shows
what fired after it started; older ones wait in the notifications pane.

Ringing (the bell and OSC 9/777 desktop notifications) is the console's to
allow: a wall never rings unless ``[wall] bell = true``.
"""

from __future__ import annotations

import os
from typing import Any

from textual.app import App

from paneglass.notify.bell import rings
from paneglass.notify.osc import desktop_sequences
from paneglass.notify.toast import toast_for
from paneglass.store import SendView, Store

__all__ = ["NotificationFeed"]


class NotificationFeed:
    """Toasts, bell and desktop notifications for one console."""

    def __init__(
        self,
        app: App[Any],
        store: Store,
        *,
        toasts: bool = True,
        ring: bool = True,
        toast_seconds: float = 12.0,
    ) -> None:
        self.app = app
        self.store = store
        self.toasts = toasts
        self.ring = ring
        self.toast_seconds = toast_seconds
        self.last_id: int | None = None
        """The newest firing this console has shown (``None`` until started)."""
        self.shown: list[int] = []
        """Ids of the firings shown here, in order (what this console told its operator)."""
        self.bells = 0
        self.desktop: list[str] = []
        """The OSC sequences written, as written."""

    def start(self) -> None:
        """Begin after the newest firing: older ones are in the notifications pane."""
        self.last_id = self.store.last_notification_send_id()

    def check(self) -> None:
        """Look for new firings (off the app's thread)."""
        if self.last_id is None:
            return
        self.app.run_worker(self._read, thread=True, group="notification-feed", exit_on_error=False)

    def _read(self) -> None:
        after = self.last_id
        if after is None:
            return
        sends = self.store.notification_sends_after(after, 100)
        if sends:
            self.app.call_from_thread(self.show, sends)

    def show(self, sends: list[SendView]) -> None:
        """Show firings newer than the last one shown (on the app's thread: once each)."""
        fresh = [s for s in sends if self.last_id is None or s.id > self.last_id]
        if not fresh:
            return
        self.last_id = max(s.id for s in fresh)
        for send in fresh:
            self.shown.append(send.id)
            if self.toasts and "toast" in send.channels:
                toast = toast_for(send)
                self.app.notify(
                    toast.message,
                    title=toast.title,
                    severity=toast.severity,  # type: ignore[arg-type]
                    timeout=self.toast_seconds,
                    markup=False,
                )
        if not self.ring:
            return
        if rings(fresh):
            self.bells += 1
            self.app.bell()
        for send in fresh:
            if "desktop" in send.channels:
                self._desktop(send)
        if len(sends) == 100:
            self.check()  # a long backlog: read on

    def _desktop(self, send: SendView) -> None:
        sequence = desktop_sequences(
            f"paneglass {send.rule}", send.summary, in_tmux=bool(os.environ.get("TMUX"))
        )
        self.desktop.append(sequence)
        # Textual has no public raw write; App.bell and copy_to_clipboard use the driver too.
        driver = getattr(self.app, "_driver", None)
        if driver is not None and not self.app.is_headless:
            driver.write(sequence)
