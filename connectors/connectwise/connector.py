"""The ConnectWise PSA (Manage) connector: service tickets changed since the cursor.

One poll is ``GET /service/tickets?conditions=lastUpdated > [cursor - overlap]``
paged with ``page``/``pageSize`` and followed by the ``Link`` header's
``rel="next"`` until it is absent: a short or empty page with a next link is
not the end. Only the page number is taken from the link; the request is
rebuilt on our own base URL, so credentials never follow a link elsewhere.

Pages are ordered by ``id``, not by ``lastUpdated``: with offset paging, a
ticket updated while we page would jump to the end of a ``lastUpdated`` order
and push the ticket behind it onto a page already read, losing it for good
once the cursor moved past. Ordered by id, rows never move; a change made after
its page was read is caught by the next poll, because the cursor never passes
the moment this poll started (minus the overlap).

ConnectWise publishes no rate-limit headers, so the connector paces itself
with a fixed minimum interval between requests (``min_request_interval``,
default 0.1 s); a 429 or 503 with ``Retry-After`` becomes :class:`RateLimited`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx2

from connectors.base import Connector, VendorConfig
from connectors.connectwise.mapping import (
    DEFAULT_CODEBASE,
    parse_cw_time,
    ticket_to_record,
)
from connectors.errors import BadPayload, ConfigurationError
from connectors.http import decode_json, send
from connectors.overrides import Overrides
from connectors.records import Cursor, PollResult
from connectors.sanitize import clean_text, one_line

__all__ = ["ConnectWiseConnector", "RequestPacer"]

TICKETS_PATH = "/service/tickets"
INFO_PATH = "/system/info"
DEFAULT_API_VERSION = "2022.1"
"""The REST model version pinned in ``Accept`` so a server upgrade cannot reshape rows."""
DEFAULT_PAGE_SIZE = 250
MAX_PAGE_SIZE = 1000
DEFAULT_BACKFILL_DAYS = 30.0
DEFAULT_MIN_INTERVAL = 0.1
MAX_MIN_INTERVAL = 10.0
OVERLAP = timedelta(seconds=60)
"""Re-read the last minute: ``lastUpdated`` has one-second precision and writes commit late."""
MAX_PAGES = 2_000
"""A guard against a ``next`` link that never ends."""


class RequestPacer:
    """Keeps at least ``interval`` seconds between the starts of two requests.

    ConnectWise names no numeric limit and sends no budget headers, so a small
    fixed gap keeps a backfill from bursting hundreds of pages at a tenant.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.waited = 0.0
        """Total seconds paced so far (for tests and poll-run records)."""
        self._last: float | None = None

    async def wait(self) -> None:
        """Sleep until ``interval`` has passed since the previous request started."""
        now = time.monotonic()
        if self._last is not None:
            pause = self._last + self.interval - now
            if pause > 0:
                self.waited += pause
                await asyncio.sleep(pause)
                now = time.monotonic()
        self._last = now


class ConnectWiseConnector(Connector):
    """Polls one ConnectWise PSA site with an API member's public/private key pair."""

    kind: ClassVar[str] = "connectwise"
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("company_id", "public_key", "private_key", "client_id"),
    )

    def __init__(self, config: VendorConfig, client: httpx2.AsyncClient) -> None:
        super().__init__(config, client)
        self.page_size = _page_size(config)
        self.backfill = timedelta(days=_backfill_days(config))
        self.overrides = Overrides.from_config(config)
        self.board = config.get("board")
        self.ui_url = _ui_url(config)
        self.codebase = _codebase(config.base_url)
        self.pacer = RequestPacer(_min_interval(config))
        """Spaces requests by ``min_request_interval`` (ConnectWise sends no budget headers)."""
        self._requests = 0

    @classmethod
    def validate(cls, config: VendorConfig) -> None:
        """Also check overrides, numbers and the UI link host before the first poll."""
        super().validate(config)
        Overrides.from_config(config)
        _page_size(config)
        _backfill_days(config)
        _min_interval(config)
        _ui_url(config)

    @classmethod
    def auth(cls, config: VendorConfig) -> httpx2.Auth | None:
        """API member keys: username ``{company_id}+{public_key}``, password the private key."""
        return httpx2.BasicAuth(
            f"{config.require('company_id')}+{config.require('public_key')}",
            config.require("private_key"),
        )

    @classmethod
    def headers(cls, config: VendorConfig) -> dict[str, str]:
        """The mandatory ``clientId`` of the integration and the pinned model version."""
        version = config.get("api_version", DEFAULT_API_VERSION)
        return {
            "clientId": config.require("client_id"),
            "Accept": f"application/vnd.connectwise.com+json; version={version}",
        }

    # -- the contract ---------------------------------------------------------------

    async def poll(self, cursor: Cursor | None) -> PollResult:
        """Every ticket updated since the cursor (minus the overlap), each once, newest copy."""
        self._requests = 0
        started = datetime.now(UTC)
        since = self._since(cursor, started)
        params: dict[str, Any] = {
            "conditions": self._conditions(since),
            "orderBy": "id asc",
            "pageSize": self.page_size,
            "page": 1,
        }
        newest: dict[int, tuple[datetime, Mapping[str, Any]]] = {}
        for _ in range(MAX_PAGES):
            response = await self._get(TICKETS_PATH, params)
            for row in _rows(response):
                ticket_id = row.get("id")
                if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
                    raise BadPayload("ConnectWise ticket without an integer id")
                stamp = _last_updated(row)
                seen = newest.get(ticket_id)
                if seen is None or stamp >= seen[0]:
                    newest[ticket_id] = (stamp, row)
            next_page = _next_page(response)
            if next_page is None:
                break
            if next_page <= params["page"]:
                raise BadPayload("ConnectWise next link does not move forward: no progress")
            params = {**params, "page": next_page}
        else:
            raise BadPayload(f"ConnectWise offered more than {MAX_PAGES} pages")
        records = tuple(
            self.overrides.apply(ticket_to_record(row, ui_url=self.ui_url, codebase=self.codebase))
            for _, row in newest.values()
        )
        next_cursor = cursor
        if records:
            newest_seen = max(r.updated_at for r in records)
            # A ticket changed after its page was read is newer than this poll's start;
            # never move the cursor past that start, or the next poll would skip it.
            next_cursor = {"since": min(newest_seen, started).isoformat()}
        return PollResult(tickets=records, cursor=next_cursor, requests=self._requests)

    async def check(self) -> str:
        """``/system/info``: proves keys and clientId, and names the server version."""
        self._requests = 0
        body = decode_json(await self._get(INFO_PATH, {}))
        if not isinstance(body, Mapping):
            raise BadPayload("ConnectWise system/info answer is not a JSON object")
        version = body.get("version")
        text = version if isinstance(version, str) and version.strip() else "unknown"
        where = " (cloud)" if body.get("isCloud") is True else ""
        return one_line(clean_text(f"ok, version {text.strip()}{where}"), 120)

    # -- helpers ------------------------------------------------------------------------

    def _conditions(self, since: datetime) -> str:
        """``lastUpdated > [iso]``, plus the board filter when one is configured."""
        clause = f"lastUpdated > [{_cw_time(since)}]"
        if self.board:
            clause += f' and board/name = "{_quoted(self.board)}"'
        return clause

    def _since(self, cursor: Cursor | None, now: datetime) -> datetime:
        """The cursor minus the overlap; with no (or a foreign) cursor, the backfill window."""
        saved = cursor.get("since") if isinstance(cursor, dict) else None
        try:
            parsed = parse_cw_time(saved) if isinstance(saved, str) else None
        except BadPayload:
            parsed = None
        if parsed is not None:
            return parsed - OVERLAP
        return now - self.backfill

    async def _get(self, path: str, params: Mapping[str, Any]) -> httpx2.Response:
        await self.pacer.wait()
        self._requests += 1
        return await send(self.client, "GET", path, params=dict(params))


def _rows(response: httpx2.Response) -> list[Mapping[str, Any]]:
    """The bare JSON array ConnectWise answers with."""
    body = decode_json(response)
    if not isinstance(body, list) or not all(isinstance(row, Mapping) for row in body):
        raise BadPayload("ConnectWise ticket answer is not a JSON array of objects")
    return body


def _next_page(response: httpx2.Response) -> int | None:
    """The ``page`` of the ``rel="next"`` link, or ``None`` when there is no next link."""
    link = response.links.get("next")
    if link is None:
        return None
    pages = parse_qs(urlsplit(link.get("url", "")).query).get("page")
    if not pages or not pages[0].isdigit():
        raise BadPayload("ConnectWise next link carries no page number")
    return int(pages[0])


def _last_updated(row: Mapping[str, Any]) -> datetime:
    """``_info.lastUpdated`` for in-poll dedupe (the oldest possible when unreadable)."""
    info = row.get("_info")
    try:
        stamp = parse_cw_time(info.get("lastUpdated")) if isinstance(info, Mapping) else None
    except BadPayload:
        stamp = None
    return stamp or datetime.min.replace(tzinfo=UTC)


def _cw_time(value: datetime) -> str:
    """ConnectWise's own UTC form, seconds and ``Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quoted(text: str) -> str:
    """Text for a double-quoted conditions string (backslash and quote escaped)."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _codebase(base_url: str) -> str:
    """The codebase segment before ``/apis/3.0`` (``v4_6_release`` on cloud sites)."""
    parts = [p for p in urlsplit(base_url).path.split("/") if p]
    if len(parts) >= 3 and parts[-2:] == ["apis", "3.0"]:
        return parts[-3]
    return DEFAULT_CODEBASE


def _ui_url(config: VendorConfig) -> str | None:
    value = config.get("ui_url")
    if value is None:
        return None
    if not value.startswith(("http://", "https://")) or urlsplit(value).query:
        raise ConfigurationError(
            f"vendor {config.name!r}: ui_url must be the site's http(s) root, "
            "e.g. https://na.myconnectwise.net"
        )
    return value.rstrip("/")


def _page_size(config: VendorConfig) -> int:
    size = config.number("page_size", DEFAULT_PAGE_SIZE)
    if size != int(size) or not 1 <= size <= MAX_PAGE_SIZE:
        raise ConfigurationError(
            f"vendor {config.name!r}: page_size must be a whole number from 1 to {MAX_PAGE_SIZE}"
        )
    return int(size)


def _backfill_days(config: VendorConfig) -> float:
    days = config.number("backfill_days", DEFAULT_BACKFILL_DAYS)
    if not (math.isfinite(days) and days >= 0):
        raise ConfigurationError(f"vendor {config.name!r}: backfill_days must not be negative")
    return days


def _min_interval(config: VendorConfig) -> float:
    seconds = config.number("min_request_interval", DEFAULT_MIN_INTERVAL)
    if not (math.isfinite(seconds) and 0 <= seconds <= MAX_MIN_INTERVAL):
        raise ConfigurationError(
            f"vendor {config.name!r}: min_request_interval must be 0 to {MAX_MIN_INTERVAL:g} s"
        )
    return seconds
