"""The Atlassian Statuspage connector: one conditional GET of ``summary.json`` per poll.

Public status pages have no change feed, so every poll asks for the whole
snapshot but sends the last ``ETag``; a ``304`` means nothing changed and costs
the vendor (and us) almost nothing. There are no credentials and no tickets.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx2

from connectors.base import Connector
from connectors.errors import BadPayload, ConnectorError
from connectors.http import decode_json, send
from connectors.records import Cursor, PollResult
from connectors.sanitize import clean_text, one_line
from connectors.statuspage.mapping import summary_to_snapshot

__all__ = ["StatuspageConnector"]

SUMMARY_PATH = "/api/v2/summary.json"
STATUS_PATH = "/api/v2/status.json"


class StatuspageConnector(Connector):
    """Polls a public Statuspage page (``https://status.vendor.example``) for its snapshot."""

    kind: ClassVar[str] = "statuspage"
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = ((),)

    async def poll(self, cursor: Cursor | None) -> PollResult:
        """The page's snapshot, or ``status=None`` when the ETag says it has not changed."""
        etag = _saved_etag(cursor)
        headers = {"If-None-Match": etag} if etag else None
        response = await send(self.client, "GET", SUMMARY_PATH, headers=headers)
        if response.status_code == 304:
            if etag is None:
                # Without a snapshot to keep, "not modified" would silently show nothing forever.
                raise BadPayload("HTTP 304 to a request that sent no If-None-Match")
            return PollResult(status=None, cursor=cursor, requests=1)
        _expect_ok(response)
        snapshot = summary_to_snapshot(decode_json(response))
        next_cursor: Cursor = {
            "etag": response.headers.get("ETag"),
            "page_updated_at": snapshot.updated_at.isoformat() if snapshot.updated_at else None,
        }
        return PollResult(status=snapshot, cursor=next_cursor, requests=1)

    async def check(self) -> str:
        """One ``status.json`` call: proves the host is a Statuspage page and reports its rollup."""
        response = await send(self.client, "GET", STATUS_PATH)
        _expect_ok(response)
        body = decode_json(response)
        status = body.get("status") if isinstance(body, dict) else None
        indicator = status.get("indicator") if isinstance(status, dict) else None
        if not isinstance(status, dict) or not isinstance(indicator, str) or not indicator:
            raise BadPayload("status.json has no status.indicator")
        description = status.get("description")
        text = description if isinstance(description, str) else ""
        return one_line(clean_text(f"ok, {indicator}: {text}".rstrip(": ")), 120)


def _saved_etag(cursor: Cursor | None) -> str | None:
    """The ETag from a cursor this connector wrote; anything else means "send no validator"."""
    value: Any = cursor.get("etag") if isinstance(cursor, dict) else None
    return value if isinstance(value, str) and value else None


def _expect_ok(response: httpx2.Response) -> None:
    """Reject the non-error answers that still carry no snapshot (redirects, 204, …)."""
    code = response.status_code
    if code == 200:
        return
    if 300 <= code < 400:
        location = one_line(clean_text(response.headers.get("Location", "")), 120)
        raise ConnectorError(
            f"HTTP {code} redirect to {location or 'nowhere'}: set base_url to the final address",
            http_status=code,
        )
    raise BadPayload(f"HTTP {code} where a JSON snapshot was expected", http_status=code)
