"""Talking to Salesforce: the OAuth client-credentials token, the error list, API usage pacing.

* **Token.** :class:`ClientCredentials` is the client's ``httpx2.Auth``. The
  first request (or the first after the token went stale) posts
  ``grant_type=client_credentials`` to ``{base_url}/services/oauth2/token``
  (form-encoded ``client_id`` + ``client_secret``) and every request then
  carries ``Authorization: Bearer {access_token}``. The token is reused until
  it expires: the flow issues no refresh token and its answer normally carries
  no ``expires_in`` (honoured where present), so expiry is learnt from a
  ``401`` (``INVALID_SESSION_ID``): the token is requested again, once, and
  the request repeated. Concurrent requests share one token request. The host
  of the answer's ``instance_url`` is never followed: every request stays on
  the configured My Domain URL.
* **Errors.** REST errors are a JSON array of ``{"message", "errorCode",
  "fields"}``; :func:`raise_for_salesforce` names the code and message
  (``HTTP 403 REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.``) and
  maps it onto the connector error tree. A non-JSON body (an HTML "Illegal
  Request" page) is quoted, cleaned and cut short instead.
* **Pacing.** Every REST answer carries ``Sforce-Limit-Info:
  api-usage=used/allocation`` for the org's rolling 24 hours.
  :class:`ApiUsageBudget` spaces requests out once ``api_usage_slowdown`` of
  the allocation is used (never faster than the allocation's own average
  rate, four times slower near the reserve) and stops sending at
  ``1 - api_usage_reserve``, leaving the rest to the org's other users.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2

from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    TransientError,
)
from connectors.http import DEFAULT_DEADLINE, RateBudget, RateHeaders, parse_retry_after
from connectors.sanitize import clean_text, one_line

__all__ = [
    "TOKEN_PATH",
    "ApiUsageBudget",
    "ClientCredentials",
    "error_list",
    "raise_for_salesforce",
    "request",
]

TOKEN_PATH = "/services/oauth2/token"
LIMIT_HEADER = "sforce-limit-info"
WINDOW_SECONDS = 86_400.0
"""The API allocation is counted over a rolling 24 hours."""
DAILY_LIMIT_RETRY = 3600.0
"""After ``REQUEST_LIMIT_EXCEEDED`` for the daily allocation: try again in an hour."""
CONCURRENCY_LIMIT_RETRY = 60.0
"""After ``REQUEST_LIMIT_EXCEEDED`` for concurrent long-running requests."""
DEADLINE = DEFAULT_DEADLINE
"""Seconds one REST call may take from start to last byte (read at call time)."""
RESERVE_PROBE_AFTER = 900.0
"""Seconds after which a budget at its reserve lets one request through to look again."""
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
HINTS = {
    "INVALID_TYPE": "the org lacks this object (CaseMilestone needs Entitlement Management: "
    "set milestones = false)",
    "INVALID_FIELD": "a field paneglass reads or writes is missing or hidden from the run-as user",
    "INSUFFICIENT_ACCESS": "the run-as user lacks a permission",
    "API_DISABLED_FOR_ORG": "the org's edition or the run-as user has no API access",
}


def error_list(response: httpx2.Response) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(errorCode, message, fields)`` of a Salesforce error array, cleaned; ``[]`` if none."""
    try:
        body = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return []
    items = body if isinstance(body, list) else [body]
    found = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        code = item.get("errorCode")
        message = item.get("message")
        if not isinstance(code, str) and not isinstance(message, str):
            continue
        fields = item.get("fields")
        names = (
            tuple(one_line(clean_text(f), 60) for f in fields or () if isinstance(f, str))
            if isinstance(fields, list)
            else ()
        )
        found.append(
            (
                one_line(clean_text(code if isinstance(code, str) else ""), 60),
                one_line(clean_text(message if isinstance(message, str) else ""), 200),
                names,
            )
        )
    return found


def describe_error(response: httpx2.Response) -> tuple[str, str]:
    """``(errorCode, "HTTP n CODE: message [fields]")`` for a failed answer."""
    code = response.status_code
    errors = error_list(response)
    if errors:
        parts = []
        for error_code, message, fields in errors[:3]:
            text = f"{error_code}: {message}" if error_code else message
            if fields:
                text += f" ({', '.join(fields)})"
            parts.append(text)
        first = errors[0][0]
        hint = HINTS.get(first)
        detail = "; ".join(parts) + (f" — {hint}" if hint else "")
        return first, f"HTTP {code} {detail}"
    snippet = one_line(clean_text(response.content[:200].decode("utf-8", "replace")), 120)
    if "<" in snippet:  # an HTML error page: its text, not its markup
        snippet = one_line(re.sub(r"<[^>]*>", " ", snippet), 120)
    return "", f"HTTP {code}" + (f": {snippet}" if snippet else "")


def raise_for_salesforce(response: httpx2.Response) -> None:
    """Map a non-2xx answer to the connector error tree, by status and ``errorCode``."""
    status = response.status_code
    if status < 300 or status == 304:
        return
    error_code, message = describe_error(response)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if error_code == "REQUEST_LIMIT_EXCEEDED":
        if retry_after is None:
            daily = "TotalRequests" in message
            retry_after = DAILY_LIMIT_RETRY if daily else CONCURRENCY_LIMIT_RETRY
        raise RateLimited(message, retry_after=retry_after, http_status=status)
    if status == 429 or (status == 503 and retry_after is not None):
        raise RateLimited(message, retry_after=retry_after, http_status=status)
    if status in (401, 403):
        raise AuthError(message, http_status=status)
    if status >= 500 or status == 408:
        raise TransientError(message, http_status=status)
    if error_code in ("INVALID_TYPE", "INVALID_FIELD") and status == 400:
        raise ConfigurationError(message, http_status=status)
    raise ConnectorError(message, http_status=status)


@dataclass
class ApiUsageBudget(RateBudget):
    """Paces requests from ``Sforce-Limit-Info: api-usage=used/allocation`` (see module)."""

    headers: RateHeaders = field(default_factory=lambda: RateHeaders(LIMIT_HEADER))
    slowdown: float = 0.8
    reserve: float = 0.05
    used: int | None = None
    allocation: int | None = None
    clock: Callable[[], float] = time.monotonic
    _next_slot: float = 0.0

    def observe(self, response_headers: Mapping[str, str]) -> None:
        """Read the org's usage from one answer (answers without the header change nothing)."""
        match = _USAGE.search(response_headers.get(LIMIT_HEADER, ""))
        if match is None:
            return
        used, allocation = int(match[1]), int(match[2])
        if allocation <= 0:
            return
        self.used, self.allocation = used, allocation
        self.remaining, self.limit = max(allocation - used, 0), allocation
        self.reset_in = None  # a rolling window: no reset instant
        self.observed_at = self.clock()

    @property
    def share(self) -> float | None:
        """Share of the allocation used at the last answer."""
        if self.used is None or not self.allocation:
            return None
        return self.used / self.allocation

    def exhausted(self) -> bool:
        """At the reserve, and the last look is recent enough to trust."""
        share = self.share
        if share is None or share < 1 - self.reserve:
            return False
        return self.clock() - self.observed_at < RESERVE_PROBE_AFTER

    def spacing(self) -> float:
        """Seconds between request starts at the current usage (0: no pacing)."""
        share = self.share
        if share is None or share < self.slowdown or not self.allocation:
            return 0.0
        span = max(1 - self.reserve - self.slowdown, 1e-9)
        progress = min((share - self.slowdown) / span, 1.0)
        return WINDOW_SECONDS / self.allocation * (1 + 3 * progress)

    def delay(self) -> float:
        """Seconds to wait before the next request; reserves its slot."""
        gap = self.spacing()
        if gap <= 0:
            return 0.0
        now = self.clock()
        slot = max(now, self._next_slot)
        self._next_slot = slot + gap
        return min(slot - now, 60.0)

    async def wait(self) -> None:
        """Refuse at the reserve; otherwise sleep as long as the pace asks."""
        if self.exhausted():
            assert self.used is not None and self.allocation is not None
            raise RateLimited(
                f"Salesforce API usage {self.used:,}/{self.allocation:,} in 24 h: paneglass "
                f"leaves the last {self.reserve:.0%} to the org's other users",
                retry_after=RESERVE_PROBE_AFTER,
                http_status=None,
            )
        pause = self.delay()
        if pause > 0:
            self.waited += pause
            await asyncio.sleep(pause)


class ClientCredentials(httpx2.Auth):
    """OAuth 2.0 client credentials for every request, renewed on ``401`` (see module)."""

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        on_request: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._token_url = token_url
        self._client_id = client_id
        self._secret = client_secret
        self._token: str | None = None
        self._expires_at: float | None = None
        self._lock = asyncio.Lock()
        self._clock = clock
        self.on_request = on_request
        """Called for every token request (the connector counts requests per page)."""
        self.token_requests = 0

    def __repr__(self) -> str:
        return "ClientCredentials(<secret>)"

    def forget(self) -> None:
        """Drop the cached token (the next request asks for a new one)."""
        self._token = None

    def _fresh(self) -> bool:
        if self._token is None:
            return False
        return self._expires_at is None or self._clock() < self._expires_at

    def _token_request(self) -> httpx2.Request:
        self.token_requests += 1
        if self.on_request is not None:
            self.on_request()
        return httpx2.Request(
            "POST",
            self._token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._secret,
            },
            headers={"Accept": "application/json"},
        )

    def _accept(self, response: httpx2.Response) -> None:
        """Keep the token from a token answer, or raise why there is none."""
        status = response.status_code
        try:
            body = json.loads(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if status >= 400:
            reason = ""
            if isinstance(body, Mapping):
                parts = [body.get("error"), body.get("error_description")]
                reason = ": ".join(p for p in parts if isinstance(p, str) and p)
            if not reason:
                reason = response.content[:120].decode("utf-8", "replace")
            reason = one_line(clean_text(reason), 160)
            message = f"Salesforce token request refused: HTTP {status}" + (
                f" {reason}" if reason else ""
            )
            if status == 429:
                retry = parse_retry_after(response.headers.get("Retry-After"))
                raise RateLimited(message, retry_after=retry, http_status=status)
            if status >= 500:
                raise TransientError(message, http_status=status)
            raise AuthError(message, http_status=status)
        token = body.get("access_token") if isinstance(body, Mapping) else None
        if not isinstance(token, str) or not token or any(c in token for c in "\r\n"):
            raise BadPayload(f"Salesforce token answer (HTTP {status}) has no access_token")
        self._token = token
        lifetime = body.get("expires_in") if isinstance(body, Mapping) else None
        if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) and lifetime > 0:
            self._expires_at = self._clock() + max(float(lifetime) - 30.0, 1.0)
        else:
            self._expires_at = None

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        """Token first (shared by concurrent requests), then the request, re-sent once on 401."""
        if not self._fresh():
            async with self._lock:
                if not self._fresh():  # another request may have fetched it meanwhile
                    answer = yield self._token_request()
                    await answer.aread()
                    self._accept(answer)
        used = self._token
        request.headers["Authorization"] = f"Bearer {used}"
        response = yield request
        if response.status_code != 401:
            return
        await response.aread()
        async with self._lock:
            if self._token == used:  # nobody renewed it since we sent: renew it now
                answer = yield self._token_request()
                await answer.aread()
                self._accept(answer)
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def sync_auth_flow(self, request: httpx2.Request) -> Any:
        raise RuntimeError("the Salesforce connector uses an async client only")


async def request(
    client: httpx2.AsyncClient,
    method: str,
    path: str,
    *,
    params: Mapping[str, str] | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    budget: ApiUsageBudget | None = None,
    deadline: float | None = None,
    allow: tuple[int, ...] = (),
) -> httpx2.Response:
    """One REST call under an overall deadline; a 2xx answer, or a ConnectorError.

    ``allow`` lists statuses handed back instead of raised (``404`` where it
    means "none", ``300`` for several external-id matches).
    """
    if budget is not None:
        await budget.wait()
    deadline = DEADLINE if deadline is None else deadline
    try:
        async with asyncio.timeout(deadline):
            response = await client.request(
                method,
                path,
                params=dict(params) if params else None,
                json=json_body,
                headers=dict(headers) if headers else None,
            )
    except TimeoutError:
        raise TransientError(f"no complete answer within {deadline:g} s") from None
    except httpx2.TransportError as exc:
        raise TransientError(
            f"{type(exc).__name__}: {one_line(clean_text(str(exc)), 160)}"
        ) from None
    if budget is not None:
        budget.observe(response.headers)
    if response.status_code in allow:
        return response
    raise_for_salesforce(response)
    return response


def decode_object(response: httpx2.Response, what: str) -> Mapping[str, Any]:
    """The answer as a JSON object, or :class:`BadPayload` naming what came instead."""
    try:
        body = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        snippet = one_line(clean_text(response.content[:80].decode("utf-8", "replace")), 60)
        raise BadPayload(
            f"Salesforce {what} (HTTP {response.status_code}) is not JSON: {snippet!r}"
        ) from None
    if not isinstance(body, dict):
        raise BadPayload(f"Salesforce {what} is a {type(body).__name__}, not an object")
    return body
