"""Group commit: pages that wait for the store's writer together share one commit.

Every vendor's poll streams its pages and waits for each one's commit before it
asks for the next (:mod:`paneglass.collect.collector`). With several vendors
backfilling at once, their pages queue behind the single writer thread; taking
the whole queue in one transaction costs one commit instead of one each. On
SQLite a commit writes every index page the transaction touched, so ten
vendors' pages of 100 tickets in one commit write far fewer pages than ten
commits do. Nothing waits to fill a batch: a page that finds the writer idle
is applied at once, alone.

Each page still commits with its own cursor, so a killed collector resumes
each vendor from its last committed page, exactly as before. If a shared
commit fails, its pages are applied again one by one, so a bad page fails
only its own vendor's poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from connectors.records import PollResult
from paneglass.store import ChangeSet, Store

__all__ = ["GroupCommit", "Write"]

Write = Callable[..., Awaitable[Any]]
"""Runs a store call in the writer thread and awaits its result."""


class GroupCommit:
    """Applies pages through one writer, several waiting pages to a transaction."""

    def __init__(self, store: Store, write: Write) -> None:
        self.store = store
        self.write = write
        self._waiting: list[tuple[str, PollResult, datetime, asyncio.Future[ChangeSet]]] = []
        self._draining: asyncio.Task[None] | None = None
        self.commits = 0
        """How many transactions the pages took (for the log and the tests)."""

    async def apply(self, vendor: str, page: PollResult, now: datetime) -> ChangeSet:
        """Commit ``page`` (with its cursor) and return what it changed."""
        done: asyncio.Future[ChangeSet] = asyncio.get_running_loop().create_future()
        self._waiting.append((vendor, page, now, done))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                changes = await self.write(
                    self.store.apply_pages, [(vendor, page, now) for vendor, page, now, _ in batch]
                )
            except Exception as exc:
                self.commits += 1
                if len(batch) == 1:
                    _settle(batch[0][3], error=exc)
                else:
                    await self._one_by_one(batch)
                continue
            self.commits += 1
            for (*_, done), change in zip(batch, changes, strict=True):
                _settle(done, change)

    async def _one_by_one(
        self, batch: list[tuple[str, PollResult, datetime, asyncio.Future[ChangeSet]]]
    ) -> None:
        """After a shared commit failed: each page alone, so only the bad one fails."""
        for vendor, page, now, done in batch:
            try:
                change = await self.write(self.store.apply_pages, [(vendor, page, now)])
            except Exception as exc:
                _settle(done, error=exc)
            else:
                _settle(done, change[0])
            self.commits += 1


def _settle(
    done: asyncio.Future[ChangeSet],
    change: ChangeSet | None = None,
    error: BaseException | None = None,
) -> None:
    """Hand the waiting poll its result (unless it stopped waiting: it was cancelled)."""
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        assert change is not None
        done.set_result(change)
