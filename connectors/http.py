"""HTTP calls under an overall deadline, with vendor answers mapped to errors.

httpx timeouts are per network step, so a server that drips one byte at a
time could hold a poll forever; every call here runs under ``asyncio.timeout``.
Status codes become the error tree of :mod:`connectors.errors`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
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

__all__ = [
    "DEFAULT_DEADLINE",
    "RateBudget",
    "RateHeaders",
    "decode_json",
    "parse_retry_after",
    "send",
    "vendor_message",
]

DEFAULT_DEADLINE = 30.0
"""Seconds one request may take from start to last byte."""


MAX_PACE_SECONDS = 60.0
"""Longest pause the pacer inserts before one request (longer waits are the scheduler's job)."""


@dataclass(frozen=True)
class RateHeaders:
    """Where a vendor reports its rate-limit budget.

    ``reset_kind`` says how the reset header counts: ``seconds`` from now,
    ``epoch`` (Unix seconds) or ``iso`` (an ISO 8601 instant, as Jira sends).
    """

    remaining: str
    limit: str | None = None
    reset: str | None = None
    reset_kind: str = "seconds"


@dataclass
class RateBudget:
    """Paces requests from the vendor's own rate-limit headers.

    After every response the remaining budget is read; when it falls to
    ``low_share`` of the limit (or to zero), the next request waits until the
    vendor's reset time, so we slow down before the vendor has to say 429.
    """

    headers: RateHeaders
    low_share: float = 0.1
    remaining: int | None = None
    limit: int | None = None
    reset_in: float | None = None
    observed_at: float = field(default_factory=time.monotonic)
    waited: float = 0.0
    """Total seconds this budget has paced (for tests and poll-run records)."""

    def observe(self, response_headers: Mapping[str, str]) -> None:
        """Read the budget from one response's headers (missing headers change nothing)."""
        remaining = _int(response_headers.get(self.headers.remaining))
        if remaining is None:
            return
        self.remaining = remaining
        if self.headers.limit:
            self.limit = _int(response_headers.get(self.headers.limit)) or self.limit
        self.reset_in = _reset_seconds(response_headers, self.headers)
        self.observed_at = time.monotonic()

    def delay(self) -> float:
        """Seconds to wait before the next request."""
        if self.remaining is None:
            return 0.0
        floor = max(1, int((self.limit or 0) * self.low_share))
        if self.remaining > (floor if self.limit else 0):
            return 0.0
        if self.reset_in is None:
            return 1.0 if self.remaining > 0 else 5.0
        left = self.reset_in - (time.monotonic() - self.observed_at)
        return min(max(left, 0.0), MAX_PACE_SECONDS)

    async def wait(self) -> None:
        """Sleep as long as the budget asks."""
        pause = self.delay()
        if pause > 0:
            self.waited += pause
            await asyncio.sleep(pause)


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _reset_seconds(response_headers: Mapping[str, str], names: RateHeaders) -> float | None:
    if not names.reset:
        return None
    value = response_headers.get(names.reset)
    if value is None:
        return None
    if names.reset_kind == "iso":
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            return None
        return max((when - datetime.now(UTC)).total_seconds(), 0.0)
    number = _int(value)
    if number is None:
        return None
    if names.reset_kind == "epoch":
        return max(number - time.time(), 0.0)
    return float(max(number, 0))


async def send(
    client: httpx2.AsyncClient,
    method: str,
    url: str,
    *,
    params: Any = None,
    json_body: Any = None,
    headers: dict[str, str] | None = None,
    deadline: float = DEFAULT_DEADLINE,
    budget: RateBudget | None = None,
) -> httpx2.Response:
    """Send one request and return the 2xx response, or raise a ConnectorError.

    With a ``budget``, the request first waits as the vendor's rate-limit
    headers ask, and the response's headers update the budget.
    """
    if budget is not None:
        await budget.wait()
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
    if budget is not None:
        budget.observe(response.headers)
    try:
        raise_for_status(response)
    except RateLimited as limited:
        if limited.retry_after is None and budget is not None and budget.reset_in is not None:
            # No Retry-After: the vendor's own reset header says when to come back.
            limited.retry_after = budget.reset_in
        raise
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
        error, description = body.get("error"), body.get("description")
        if isinstance(error, str) and isinstance(description, str) and description:
            return f"{error}: {description}"  # Zendesk: a code name plus the readable text
        if isinstance(error, dict):  # ServiceNow: the reason an operator can act on is ``detail``
            parts = [error.get(k) for k in ("message", "detail")]
            parts += list(error.get("errors") or [])  # PagerDuty: the specific reasons
            found = [p for p in parts if isinstance(p, str) and p]
            if found:
                return ": ".join(dict.fromkeys(found))
        field_errors = body.get("errors")
        if isinstance(field_errors, dict) and field_errors:  # Jira: field → reason
            named = [f"{k}: {v}" for k, v in field_errors.items() if isinstance(v, str)]
            messages = [m for m in body.get("errorMessages") or [] if isinstance(m, str)]
            if named or messages:
                return "; ".join(messages + named)
        for key in (
            "error",
            "errors",
            "message",
            "description",
            "errorMessages",
            "errorMessage",
            "detail",
        ):
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
