"""Reading the Table API: one GET, its ``result`` list, and its ``Link`` header.

Shared by polls, checks and the write path's lookups. The answers are read
the way the Table API documents them: ``/api/now/table`` (v1) answers a
query with no hits with 404 "No Record found" (an empty result, not an
error), and ``sysparm_limit`` is applied before ACLs, so only the ``Link``
header's ``rel="next"`` says whether more rows follow, never the length of
a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2

from connectors.errors import BadPayload, ConnectorError
from connectors.http import decode_json, send

__all__ = [
    "INCIDENT_PATH",
    "get_or_none",
    "next_offset",
    "result_rows",
    "total_count",
    "written_record",
]

INCIDENT_PATH = "/api/now/table/incident"


async def get_or_none(
    client: httpx2.AsyncClient, path: str, params: Mapping[str, str]
) -> httpx2.Response | None:
    """One GET; ``None`` for the v1 "No Record found" 404, which means an empty result."""
    try:
        return await send(client, "GET", path, params=dict(params))
    except ConnectorError as exc:
        if exc.http_status == 404 and "No Record found" in str(exc):
            return None
        raise


def result_rows(response: httpx2.Response | None) -> list[Mapping[str, Any]]:
    """The ``result`` records of a list answer (none for an empty 404)."""
    if response is None:
        return []
    body = decode_json(response)
    rows = body.get("result") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise BadPayload("ServiceNow answer has no result list of records")
    return rows


def next_offset(response: httpx2.Response | None) -> int | None:
    """The ``sysparm_offset`` of the ``rel="next"`` link, or ``None`` when there is none.

    Only the offset is taken from the link: the next request is rebuilt on our
    own base URL, so credentials never follow a link to another host.
    """
    if response is None:
        return None
    link = response.links.get("next")
    if link is None:
        return None
    offsets = parse_qs(urlsplit(link.get("url", "")).query).get("sysparm_offset")
    if not offsets or not offsets[0].isdigit():
        raise BadPayload("ServiceNow next link carries no sysparm_offset")
    return int(offsets[0])


def total_count(response: httpx2.Response | None) -> int | None:
    """``X-Total-Count``: the rows the query matches (0 for an empty 404), if the answer says."""
    if response is None:
        return 0
    text = response.headers.get("X-Total-Count", "")
    return int(text) if text.isdigit() else None


def written_record(response: httpx2.Response) -> Mapping[str, Any]:
    """The ``result`` record of a PATCH/POST answer (an empty answer reports nothing)."""
    if not response.content:
        return {}
    body = decode_json(response)
    record = body.get("result") if isinstance(body, dict) else None
    if not isinstance(record, dict):
        raise BadPayload(
            "ServiceNow write answer has no result record", http_status=response.status_code
        )
    return record
