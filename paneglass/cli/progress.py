"""How far each vendor's read has come, while ``paneglass collect`` runs.

On a terminal: one progress bar per vendor that is reading (records so far,
and of how many where the vendor says), drawn on stderr so ``--once``'s
result lines on stdout stay clean. Elsewhere (a service's journal, a pipe):
a plain line per vendor on stderr at most every ``LOG_EVERY`` seconds.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bars

from connectors.records import Progress

__all__ = ["LOG_EVERY", "SyncProgress"]

LOG_EVERY = 10.0


class SyncProgress:
    """Receives the collector's ``on_progress`` calls and shows them."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self._bars: Bars | None = None
        self._tasks: dict[tuple[str, str], TaskID] = {}
        self._logged: dict[tuple[str, str], float] = {}

    def __enter__(self) -> SyncProgress:
        if self.tty:
            self._bars = Bars(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=False,
            )
            self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bars is not None:
            self._bars.stop()

    def __call__(self, vendor: str, progress: Progress) -> None:
        """One committed page's news."""
        key = (vendor, progress.phase)
        if self._bars is not None:
            task = self._tasks.get(key)
            description = f"{vendor} {progress.phase}"
            if task is None:
                self._tasks[key] = self._bars.add_task(
                    description, total=progress.total, completed=progress.done
                )
            else:
                self._bars.update(task, completed=progress.done, total=progress.total)
            return
        now = time.monotonic()
        if now - self._logged.get(key, -LOG_EVERY) < LOG_EVERY:
            return
        self._logged[key] = now
        stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
        print(f"{stamp} {vendor} {describe(progress)}", file=self.stream, flush=True)


def describe(progress: Progress) -> str:
    """``backfill 12,400 / ~40,000 records`` (the total only where the vendor says)."""
    of = f" / ~{progress.total:,}" if progress.total else ""
    return f"{progress.phase} {progress.done:,}{of} records"
