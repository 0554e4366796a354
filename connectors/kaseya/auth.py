"""A bearer token fetched inside the HTTP client's auth flow and renewed before it lapses.

Both Kaseya APIs trade credentials for a bearer token at a login endpoint.
:class:`TokenAuth` is an :class:`httpx2.Auth`: the first request of a client
(and any request once the token is within ``refresh_margin`` of its end) first
sends the vendor's token request through the same client, so it shares the
connection, the overall deadline of :func:`connectors.http.send` and the
loopback emulator. A request answered 401 (the token was revoked, or the
vendor's clock ran ahead of ours) renews the token once and is sent again.

Renewals are serialised by a lock, so a fan-out of eight requests that all
find the token stale fetches one token, not eight. The credentials live only
in the subclass instance, never in a header a dry run could show; errors name
the vendor's answer, never what was sent.

Subclasses implement :meth:`TokenAuth.renewal`: a generator that yields the
token request(s) and receives each answer (Datto RMM: one password grant;
BMS: its refresh endpoint, falling back to a fresh login).
"""

from __future__ import annotations

import asyncio
import time
from abc import abstractmethod
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass

import httpx2

from connectors.errors import AuthError, BadPayload
from connectors.http import raise_for_status, vendor_message

__all__ = ["Token", "TokenAuth", "refuse"]

Renewal = Generator[httpx2.Request, httpx2.Response, "Token"]


@dataclass(frozen=True)
class Token:
    """An access token, how long it lives, and what may renew it."""

    access: str
    lifetime: float
    """Seconds from now until the vendor stops taking it."""
    refresh: str | None = None

    def __repr__(self) -> str:
        return f"Token(lifetime={self.lifetime:.0f}s)"  # never the token itself


class TokenAuth(httpx2.Auth):
    """Bearer auth with a token this flow fetches and renews itself."""

    requires_request_body = True
    """A request answered 401 is sent again, so its body must be replayable."""

    refresh_margin = 300.0
    """Renew this long before the token's announced end (clocks and long pages)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._token: Token | None = None
        self._expires_at = 0.0
        self._lock: asyncio.Lock | None = None
        self.renewals = 0
        """Tokens fetched so far (tests and the poll record read it)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(renewals={self.renewals})"

    @abstractmethod
    def renewal(self, current: Token | None) -> Renewal:
        """Yield the token request(s), receive the answers, return the new token.

        ``current`` is the token being replaced (``None`` at first): a vendor
        with a refresh endpoint uses its refresh token.
        """

    def fresh(self) -> bool:
        """Whether the held token is good for one more request."""
        return self._token is not None and self.clock() < self._expires_at

    def forget(self) -> None:
        """Drop the held token (the next request fetches a new one)."""
        self._expires_at = 0.0

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        if self._lock is None:
            self._lock = asyncio.Lock()
        await request.aread()
        used: Token | None = None
        async with self._lock:
            if not self.fresh():
                steps = self.renewal(self._token)
                sent = next(steps)
                while True:
                    answer = yield sent
                    await answer.aread()
                    try:
                        sent = steps.send(answer)
                    except StopIteration as done:
                        self._keep(done.value)
                        break
            assert self._token is not None
            used = self._token
        request.headers["Authorization"] = f"Bearer {used.access}"
        response = yield request
        if response.status_code != 401:
            return
        await response.aread()
        async with self._lock:
            if self._token is used:  # nobody renewed it meanwhile: this one is refused
                steps = self.renewal(None)  # a refused token is not refreshed: log in again
                sent = next(steps)
                while True:
                    answer = yield sent
                    await answer.aread()
                    try:
                        sent = steps.send(answer)
                    except StopIteration as done:
                        self._keep(done.value)
                        break
            assert self._token is not None
            request.headers["Authorization"] = f"Bearer {self._token.access}"
        yield request

    def sync_auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        raise RuntimeError("Kaseya token auth runs on the connector's AsyncClient only")

    def _keep(self, token: Token) -> None:
        self._token = token
        self.renewals += 1
        margin = min(self.refresh_margin, token.lifetime / 2)
        self._expires_at = self.clock() + max(token.lifetime - margin, 0.0)


def refuse(vendor: str, response: httpx2.Response) -> None:
    """Raise for a token endpoint's non-2xx answer: bad credentials are an AuthError.

    OAuth servers answer a wrong key with 400 ``invalid_grant`` (Spring) or 401;
    either way retrying cannot help, so both are :class:`AuthError`. A 429 or
    a 5xx is mapped as for any request.
    """
    code = response.status_code
    if code < 400:
        return
    detail = vendor_message(response)
    if code in (400, 401, 403):
        message = f"{vendor} refused the credentials: HTTP {code}"
        raise AuthError(message + (f": {detail}" if detail else ""), http_status=code)
    raise_for_status(response)
    raise BadPayload(f"{vendor} token endpoint answered HTTP {code}", http_status=code)
