"""HTTP calls under an overall deadline, with vendor answers mapped to errors.

httpx timeouts are per network step, so a server that drips one byte at a
time could hold a poll forever; every call here runs under ``asyncio.timeout``.
Status codes become the error tree of :mod:`connectors.errors`.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx2

from connectors.errors import (
    AuthError,
    BadPayload,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.sanitize import clean_text, one_line

__all__ = ["DEFAULT_DEADLINE", "decode_json", "parse_retry_after", "send", "vendor_message"]

DEFAULT_DEADLINE = 30.0
"""Seconds one request may take from start to last byte."""


async def send(
    client: httpx2.AsyncClient,
    method: str,
    url: str,
    *,
    params: Any = None,
    json_body: Any = None,
    headers: dict[str, str] | None = None,
    deadline: float = DEFAULT_DEADLINE,
) -> httpx2.Response:
    """Send one request and return the 2xx response, or raise a ConnectorError."""
    try:
        async with asyncio.timeout(deadline):
            response = await client.request(
                method, url, params=params, json=json_body, headers=headers
            )
    except TimeoutError:
        raise TransientError(f"no complete answer within {deadline:g} s") from None
    except httpx2.TransportError as exc:
        raise TransientError(
            f"{type(exc).__name__}: {one_line(clean_text(str(exc)), 160)}"
        ) from None
    raise_for_status(response)
    return response


def raise_for_status(response: httpx2.Response) -> None:
    """Map a non-2xx answer to the connector error tree."""
    code = response.status_code
    if code < 400:
        return
    detail = vendor_message(response)
    message = f"HTTP {code}" + (f": {detail}" if detail else "")
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if code in (401, 403):
        raise AuthError(message, http_status=code)
    if code == 429 or (code == 503 and retry_after is not None):
        raise RateLimited(message, retry_after=retry_after, http_status=code)
    if code >= 500 or code == 408:
        raise TransientError(message, http_status=code)
    raise ConnectorError(message, http_status=code)


def decode_json(response: httpx2.Response) -> Any:
    """The response body as JSON, or :class:`BadPayload` naming what came instead."""
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        snippet = one_line(clean_text(response.content[:80].decode("utf-8", "replace")), 60)
        raise BadPayload(f"HTTP {response.status_code} body is not JSON: {snippet!r}") from None


def vendor_message(response: httpx2.Response) -> str:
    """The vendor's own error text, cleaned and short (never headers or our request)."""
    try:
        body = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return one_line(clean_text(response.content[:200].decode("utf-8", "replace")), 160)
    return one_line(clean_text(_find_message(body)), 160)


def _find_message(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, list) and body:
        return _find_message(body[0])
    if isinstance(body, dict):
        for key in ("error", "errors", "message", "description", "errorMessages", "detail"):
            if body.get(key):
                inner = _find_message(body[key])
                if inner:
                    return inner
    return ""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; ``None`` if absent/bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
