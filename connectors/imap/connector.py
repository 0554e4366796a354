"""The IMAP connector: one mailbox folder as threads of mail, incremental by UID.

**Position.** A folder's messages are numbered by UIDs that only grow, valid
while the folder's UIDVALIDITY stays the same (RFC 3501 / RFC 9051 §2.3.1.1).
The connector's position is ``{uidvalidity, uid, until, since, unseen,
modseq, flags_after, flags_target}``: every message with a UID up to ``uid``
is read; ``until`` (while set) bounds a sweep of ``(uid, until]`` that reads
only messages matching ``UNSEEN``/``SINCE since``; ``modseq`` is the
CONDSTORE mod-sequence (RFC 7162) flags are known up to.

**Backfill** (first sync, resumable): EXAMINE the folder, remember
``UIDNEXT - 1`` as ``until`` and ``HIGHESTMODSEQ``, then sweep
``UID SEARCH UID a:b OR UNSEEN SINCE {started - backfill_days - 1 day}`` —
every unread message whatever its age plus every message from the window (the
extra day because SEARCH SINCE compares dates in the server's zone) — in UID
windows, ``page_size`` messages a page. When it ends, the incremental
position starts exactly at ``until`` and the remembered mod-sequence: mail
that arrived during the backfill, whatever its date, is read next, and no
flag change made since the backfill began is missed. (This is why the
connector runs both phases itself instead of the kit's time-based hand-over:
an IMAP position is a UID, not a time.)

**Incremental** (each poll): EXAMINE; then

1. *UIDVALIDITY changed* (the folder was recreated, restored or renumbered):
   the cached UIDs mean nothing now, so a full resync sweeps the folder again
   with the backfill's criteria. Records are keyed by Message-ID (entries) and
   by the thread's root Message-ID (items), never by UID, so the re-read
   upserts what the store holds: no duplicates. Only their IMAP URLs change,
   to the new UIDVALIDITY and UIDs.
2. *Flag changes*, where the server offers CONDSTORE and the folder keeps
   mod-sequences: ``UID SEARCH UID 1:{uid} MODSEQ {modseq+1}`` then
   ``UID FETCH … (FLAGS …) (CHANGEDSINCE {modseq})``; the threads of the
   changed messages are emitted again with their new status. Then ``modseq``
   becomes the HIGHESTMODSEQ of this poll's EXAMINE. Without CONDSTORE a
   message's status is the one it had when read.
3. *New mail*: ``UID SEARCH UID {uid+1}:{UIDNEXT-1}`` and read them.

Expunged messages are not looked for (their conversation entries stay: the
store keeps the customer's record; a mail item is closed in paneglass).

Each page: one ``UID FETCH`` of ``page_size`` UIDs for ``FLAGS INTERNALDATE
RFC822.SIZE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (…)]`` (``MODSEQ`` too with
CONDSTORE), then one ``UID FETCH … BODY.PEEK[section]<0.max_body_bytes>`` per
distinct text section among them (usually one to three). EXAMINE and
``BODY.PEEK`` leave ``\\Seen`` alone. UID SEARCH runs over windows of UIDs
(ten pages wide, doubled while empty), so a page costs the same in a folder
of 100 or 1,000,000 messages.

The client is blocking (imapclient); every call runs in a worker thread under
``timeout_seconds`` (the socket's own timeout too), and a stopped poll shuts
the socket down. One connection per poll; the mapping is in
:mod:`connectors.imap.mapping`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, TypeVar

import httpx2

from connectors.base import Connector, VendorConfig
from connectors.errors import TransientError
from connectors.imap.mapping import (
    HEADER_FIELDS,
    Mailbox,
    MailMessage,
    message_entry,
    parse_message,
    thread_records,
)
from connectors.imap.patterns import Rule, compile_rules
from connectors.imap.session import Endpoint, Session, Snapshot
from connectors.imap.settings import ImapSettings
from connectors.overrides import Overrides
from connectors.records import ConversationEntry, Cursor, PollResult, Progress
from connectors.sync import BACKFILL, INCREMENTAL, SyncState

__all__ = ["ImapConnector", "Position"]

T = TypeVar("T")

SEARCH_WINDOW_PAGES = 10
"""A UID SEARCH window is this many pages wide (doubled while it finds nothing)."""
MAX_WINDOW = 1 << 24
SINCE_MARGIN = timedelta(days=1)
"""SEARCH SINCE compares dates in the server's time zone, not instants."""
HEADER_ITEM = f"BODY.PEEK[HEADER.FIELDS ({' '.join(HEADER_FIELDS)})]"
META_ITEMS = ("UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "BODYSTRUCTURE", HEADER_ITEM)


@dataclass(frozen=True)
class Position:
    """The connector's place in one folder (see the module docstring)."""

    uidvalidity: int
    uid: int = 0
    until: int | None = None
    since: str | None = None
    unseen: bool = False
    modseq: int | None = None
    flags_after: int | None = None
    flags_target: int | None = None

    @classmethod
    def load(cls, cursor: Cursor | None) -> Position | None:
        """A saved position, or None when there is none (or it is not ours)."""
        if not isinstance(cursor, dict) or not _count(cursor.get("uidvalidity")):
            return None

        def number(key: str) -> int | None:
            value = cursor.get(key)
            return value if _count(value) else None

        since = cursor.get("since")
        return cls(
            uidvalidity=int(cursor["uidvalidity"]),
            uid=number("uid") or 0,
            until=number("until"),
            since=since if isinstance(since, str) and _is_date(since) else None,
            unseen=cursor.get("unseen") is True,
            modseq=number("modseq"),
            flags_after=number("flags_after"),
            flags_target=number("flags_target"),
        )

    @classmethod
    def sweep(cls, snap: Snapshot, since: date, *, unseen: bool) -> Position:
        """A fresh sweep of the whole folder as it is now."""
        return cls(
            uidvalidity=snap.uidvalidity,
            uid=0,
            until=max(snap.uidnext - 1, 0),
            since=since.isoformat(),
            unseen=unseen,
            modseq=snap.highestmodseq,
        )

    def dump(self) -> Cursor:
        return {
            "uidvalidity": self.uidvalidity,
            "uid": self.uid,
            "until": self.until,
            "since": self.since,
            "unseen": self.unseen,
            "modseq": self.modseq,
            "flags_after": self.flags_after,
            "flags_target": self.flags_target,
        }

    def criteria(self) -> list[Any]:
        """The sweep's SEARCH criteria (none: every message)."""
        if self.until is None or self.since is None:
            return []
        since = date.fromisoformat(self.since)
        return ["OR", "UNSEEN", "SINCE", since] if self.unseen else ["SINCE", since]


class _Budget:
    """Pages one poll may still read (``max_pages``); exhausted: stop, resume next poll."""

    def __init__(self, pages: int) -> None:
        self.left = pages
        self.exhausted = False

    def take(self) -> bool:
        if self.left <= 0:
            self.exhausted = True
            return False
        self.left -= 1
        return True


class ImapConnector(Connector):
    """Reads one folder of an IMAP mailbox as mail threads (``kind = "imap"``)."""

    kind: ClassVar[str] = "imap"
    Settings: ClassVar[type[ImapSettings]] = ImapSettings
    default_poll_interval: ClassVar[float] = 60.0
    settings: ImapSettings

    def __init__(
        self,
        config: VendorConfig,
        client: httpx2.AsyncClient,
        settings: ImapSettings | None = None,
    ) -> None:
        super().__init__(config, client, settings)
        self.endpoint = Endpoint.parse(config.name, config.base_url, self.settings)
        self.rules: tuple[Rule, ...] = compile_rules(self.settings.match)
        self.overrides = Overrides.from_settings(self.settings)

    @classmethod
    def parse_settings(cls, config: VendorConfig) -> ImapSettings:
        """The section as :class:`ImapSettings` (parsed once per config)."""
        parsed = super().parse_settings(config)
        assert isinstance(parsed, ImapSettings)
        return parsed

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """``base_url`` is an ``imap://``/``imaps://`` URL; the settings parse."""
        settings = cls.parse_settings(config)
        Endpoint.parse(config.name, config.base_url, settings)

    @classmethod
    def make_client(cls, config: VendorConfig) -> httpx2.AsyncClient:
        """IMAP needs no HTTP client; the contract hands one over, so an idle one it is."""
        return httpx2.AsyncClient(timeout=httpx2.Timeout(10.0), follow_redirects=False)

    # -- the poll -------------------------------------------------------------------------

    async def pages(self, cursor: Cursor | None) -> AsyncGenerator[PollResult, None]:
        """Backfill (while one is pending), then flag changes and new mail; page by page."""
        now = datetime.now(UTC)
        # Conversations come on the same pages as their threads: no history walk.
        state = SyncState.load(cursor, now).history_finished()
        budget = _Budget(self.settings.max_pages)
        async with self._session() as (session, snap):
            if state.backfill is not None:
                backfill = state.backfill
                since = (backfill.started - self.settings.backfill - SINCE_MARGIN).date()
                position = Position.load(backfill.position)
                if position is None or position.uidvalidity != snap.uidvalidity:
                    position = Position.sweep(snap, since, unseen=True)
                async for page, moved in self._sweep(session, snap, position, budget):
                    position = moved
                    state = state.backfill_advanced(moved.dump(), len(page.tickets), None)
                    assert state.backfill is not None
                    yield replace(
                        page,
                        cursor=state.dump(),
                        progress=Progress(BACKFILL, state.backfill.done, None),
                    )
                if budget.exhausted:
                    return  # max_pages: the next poll resumes the backfill where this one ended
                done = state.backfill.done if state.backfill else 0
                handover = Position(
                    uidvalidity=position.uidvalidity,
                    uid=position.until if position.until is not None else position.uid,
                    modseq=position.modseq,
                )
                state = state.backfill_finished(self.settings.overlap)
                state = state.incremental_advanced(handover.dump())
                yield PollResult(cursor=state.dump(), progress=Progress(BACKFILL, done, None))
            read, pages = 0, 0
            async for page, position in self._incremental(session, snap, state, now, budget):
                state = state.incremental_advanced(position.dump())
                read += len(page.tickets)
                pages += 1
                yield replace(page, cursor=state.dump(), progress=Progress(INCREMENTAL, read))
            if not pages:  # nothing new: one empty page still reports the poll's position
                yield PollResult(cursor=state.dump(), progress=Progress(INCREMENTAL, 0))

    async def _incremental(
        self, session: Session, snap: Snapshot, state: SyncState, now: datetime, budget: _Budget
    ) -> AsyncIterator[tuple[PollResult, Position]]:
        position = Position.load(state.incremental)
        if position is None:  # a cursor without our position: re-read since the hand-over
            start = state.incremental_from or now - self.settings.backfill
            since = (start - SINCE_MARGIN).date()
            position = Position.sweep(snap, since, unseen=False)
        elif position.uidvalidity != snap.uidvalidity:
            since = (now - self.settings.backfill - SINCE_MARGIN).date()
            position = Position.sweep(snap, since, unseen=True)  # full resync, same criteria
        if position.until is not None:
            async for page, moved in self._sweep(session, snap, position, budget):
                position = moved
                yield page, moved
            if budget.exhausted:
                return
            until = position.until if position.until is not None else position.uid
            position = replace(position, uid=until, until=None, since=None, unseen=False)
            yield PollResult(), position
        async for page, moved in self._flag_changes(session, snap, position, budget):
            position = moved
            yield page, moved
        if budget.exhausted:
            return
        async for uids in self._uid_windows(session, position.uid, snap.uidnext - 1, [], budget):
            page = await self._read(session, snap, uids, bodies=True)
            position = replace(position, uid=uids[-1])
            yield page, position
        if not budget.exhausted and snap.uidnext - 1 > position.uid:
            # the tail held no message (expunged since): do not search it again
            yield PollResult(), replace(position, uid=snap.uidnext - 1)

    async def _sweep(
        self, session: Session, snap: Snapshot, position: Position, budget: _Budget
    ) -> AsyncIterator[tuple[PollResult, Position]]:
        """Messages in ``(uid, until]`` matching the sweep's criteria, a page at a time.

        The caller learns that the sweep ended from ``budget.exhausted`` being false.
        """
        until = position.until if position.until is not None else position.uid
        criteria = position.criteria()
        async for uids in self._uid_windows(session, position.uid, until, criteria, budget):
            page = await self._read(session, snap, uids, bodies=True)
            position = replace(position, uid=uids[-1])
            yield page, position

    async def _flag_changes(
        self, session: Session, snap: Snapshot, position: Position, budget: _Budget
    ) -> AsyncIterator[tuple[PollResult, Position]]:
        """Threads whose messages' flags changed since ``modseq`` (CONDSTORE only)."""
        if snap.highestmodseq is None or not session.condstore:
            if position.modseq is not None:  # the server lost CONDSTORE: forget the modseq
                yield PollResult(), replace(position, modseq=None, flags_after=None)
            return
        if position.modseq is None:  # first poll with CONDSTORE: start counting from now
            yield PollResult(), replace(position, modseq=snap.highestmodseq)
            return
        known = position.modseq
        target = position.flags_target or snap.highestmodseq
        if target <= known:
            return
        start = position.flags_after or 0
        position = replace(position, flags_target=target, flags_after=start)
        criteria = ["MODSEQ", known + 1]
        async for uids in self._uid_windows(session, start, position.uid, criteria, budget):
            page = await self._read(session, snap, uids, bodies=False, changed_since=known)
            position = replace(position, flags_after=uids[-1])
            yield page, position
        if not budget.exhausted:
            yield (
                PollResult(),
                replace(position, modseq=target, flags_after=None, flags_target=None),
            )

    async def _uid_windows(
        self, session: Session, after: int, until: int, criteria: Sequence[Any], budget: _Budget
    ) -> AsyncIterator[list[int]]:
        """UIDs in ``(after, until]`` matching ``criteria``, ascending, ``page_size`` at a time.

        Each UID SEARCH covers a window of UIDs, so no single answer lists a whole
        large folder; an empty window doubles the next (gaps left by expunges).
        """
        size = self.settings.page_size
        window = size * SEARCH_WINDOW_PAGES
        low = after + 1
        while low <= until:
            high = min(until, low + window - 1)
            found = await self._run(session.search, ["UID", f"{low}:{high}", *criteria])
            uids = [uid for uid in found if low <= uid <= high]
            for i in range(0, len(uids), size):
                if not budget.take():
                    return
                yield uids[i : i + size]
            window = window if uids else min(window * 2, MAX_WINDOW)
            low = high + 1

    async def _read(
        self,
        session: Session,
        snap: Snapshot,
        uids: list[int],
        *,
        bodies: bool,
        changed_since: int | None = None,
    ) -> PollResult:
        """One page: the messages' headers and structure, then their text parts."""
        items = [*META_ITEMS, "MODSEQ"] if session.condstore else list(META_ITEMS)
        modifiers = [f"CHANGEDSINCE {changed_since}"] if changed_since is not None else None
        answer = await self._run(session.fetch, uids, items, modifiers)
        messages = await asyncio.to_thread(_parse_all, answer)
        mailbox = Mailbox(
            self.endpoint.host, self.endpoint.port, self.settings.folder, snap.uidvalidity
        )
        seen_at = datetime.now(UTC) if changed_since is not None else None
        requests = 1
        entries: tuple[ConversationEntry, ...] = ()
        if bodies:
            texts, used = await self._bodies(session, messages)
            requests += used
            limit = self.settings.max_body_bytes
            entries = await asyncio.to_thread(_entries, messages, texts, mailbox, limit)
        tickets = tuple(
            self.overrides.apply(record)
            for record in thread_records(messages, self.rules, mailbox, seen_at=seen_at)
        )
        return PollResult(tickets=tickets, entries=entries, requests=requests)

    async def _bodies(
        self, session: Session, messages: Sequence[MailMessage]
    ) -> tuple[dict[int, bytes], int]:
        """Each message's text part (its first ``max_body_bytes``), one FETCH per section."""
        by_section: dict[str, list[int]] = {}
        for message in messages:
            if message.structure.body is not None:
                by_section.setdefault(message.structure.body.section, []).append(message.uid)
        limit = self.settings.max_body_bytes
        texts: dict[int, bytes] = {}
        for section, uids in by_section.items():
            item = f"BODY.PEEK[{section}]<0.{limit}>"
            answer = await self._run(session.fetch, uids, [item])
            wanted = f"BODY[{section}]".encode()
            for uid, data in answer.items():
                for key, value in data.items():
                    if isinstance(key, bytes) and key.startswith(wanted) and value is not None:
                        texts[uid] = value if isinstance(value, bytes) else str(value).encode()
        return texts, len(by_section)

    # -- connection -------------------------------------------------------------------

    def _session(self) -> _Opened:
        return _Opened(self)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """One blocking IMAP call in a worker thread, under the command deadline."""
        deadline = self.settings.timeout_seconds + 5
        try:
            async with asyncio.timeout(deadline):
                return await asyncio.to_thread(fn, *args)
        except TimeoutError:
            owner = getattr(fn, "__self__", None)
            if isinstance(owner, Session):
                owner.abort()
            raise TransientError(
                f"IMAP {getattr(fn, '__name__', 'call')}: no answer within {deadline:g} s"
            ) from None

    async def check(self) -> str:
        """Log in and EXAMINE the folder: proves the server, the login and the folder."""
        async with self._session() as (_session, snap):
            features = "CONDSTORE" if snap.highestmodseq is not None else "no CONDSTORE"
            return (
                f"ok, {self.settings.folder}: {snap.exists:,} messages, "
                f"UIDVALIDITY {snap.uidvalidity}, {features}"
            )


class _Opened:
    """``async with``: a logged-in session and its folder snapshot; closed on the way out."""

    def __init__(self, connector: ImapConnector) -> None:
        self.connector = connector
        self.session = Session(connector.config.name, connector.endpoint, connector.settings)
        self.clean = False

    async def __aenter__(self) -> tuple[Session, Snapshot]:
        try:
            snap = await self.connector._run(self.session.open)
        except BaseException:
            self.session.abort()
            raise
        return self.session, snap

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            try:
                await self.connector._run(self.session.logout)
            finally:
                self.session.abort()
        else:
            self.session.abort()  # stopped or failed: close now, never wait on the server


def _parse_all(answer: dict[int, dict[bytes, Any]]) -> list[MailMessage]:
    return [parse_message(uid, data) for uid, data in sorted(answer.items())]


def _entries(
    messages: Sequence[MailMessage], texts: dict[int, bytes], mailbox: Mailbox, limit: int
) -> tuple[ConversationEntry, ...]:
    entries = []
    for message in messages:
        body = texts.get(message.uid)
        leaf = message.structure.body
        truncated = (
            body is not None
            and leaf is not None
            and len(body) >= limit
            and (leaf.size is None or leaf.size > limit)
        )
        entries.append(message_entry(message, body, truncated=truncated, mailbox=mailbox))
    return tuple(entries)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
