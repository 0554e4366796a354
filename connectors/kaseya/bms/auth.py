"""Kaseya BMS's JWT: a form login, renewed with the refresh token before it lapses.

``POST /v2/security/authenticate`` takes a form with ``UserName``, ``Password``,
``Tenant`` (the company name) and ``GrantType`` (BMS-OAS, ``TokenOutputDto``;
Kaseya's BMS API page names the same four inputs); the spec says
``multipart/form-data``, while clients used against live tenants send
``application/x-www-form-urlencoded`` with ``GrantType=password`` and read
``result.accessToken`` (ASP.NET binds both forms alike), so this sends the
latter. The answer is the envelope with ``accessToken``, ``refreshToken``,
``accessTokenExpireOn`` and ``refreshTokenExpireOn``.

Before ``accessTokenExpireOn`` (less the margin) the token is renewed with
``POST /v2/security/refreshtoken`` (form ``AccessToken`` + ``RefreshToken``;
Kaseya's page: "use refresh token and get a new token without having to refill
the form"); if BMS refuses the refresh, or a token is answered 401, the
connector signs in again. A refused login is an :class:`AuthError`, whether BMS
says so with HTTP 401 or with HTTP 200 and ``success: false``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo

import httpx2

from connectors.errors import AuthError, BadPayload, ConnectorError
from connectors.http import decode_json
from connectors.kaseya.auth import Renewal, Token, TokenAuth, refuse
from connectors.kaseya.bms.mapping import parse_bms_time, pick, unwrap

__all__ = ["AUTHENTICATE_PATH", "REFRESH_PATH", "KaseyaBmsAuth"]

AUTHENTICATE_PATH = "/v2/security/authenticate"
REFRESH_PATH = "/v2/security/refreshtoken"
DEFAULT_LIFETIME = 3600.0
"""Used when ``accessTokenExpireOn`` is missing or implausible (its zone is not
documented): a token that lapses sooner is renewed on its 401 anyway."""
LONGEST = 7 * 24 * 3600.0


class KaseyaBmsAuth(TokenAuth):
    """Signs in with user, password and tenant; refreshes; signs in again when refused."""

    def __init__(
        self, base_url: str, username: str, password: str, tenant: str, zone: tzinfo = UTC
    ) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.zone = zone
        self._form = {
            "UserName": username,
            "Password": password,
            "Tenant": tenant,
            "GrantType": "password",
        }
        self.refreshes = 0
        """Tokens obtained with the refresh token rather than a fresh login."""

    def renewal(self, current: Token | None) -> Renewal:
        if current is not None and current.refresh:
            response = yield self._post(
                REFRESH_PATH, {"AccessToken": current.access, "RefreshToken": current.refresh}
            )
            try:
                refreshed = self._read_token(response)
            except (AuthError, ConnectorError):
                refreshed = None  # refused or lapsed: sign in again below
            if refreshed is not None:
                self.refreshes += 1
                return refreshed
        response = yield self._post(AUTHENTICATE_PATH, self._form)
        return self._read_token(response)

    def _post(self, path: str, form: Mapping[str, str]) -> httpx2.Request:
        return httpx2.Request(
            "POST", self.base_url + path, headers={"Accept": "application/json"}, data=dict(form)
        )

    def _read_token(self, response: httpx2.Response) -> Token:
        refuse("Kaseya BMS", response)
        try:
            result = unwrap(decode_json(response), "sign-in")
        except ConnectorError as refused:
            if isinstance(refused, BadPayload) or refused.http_status not in (None, 400, 401, 403):
                raise
            raise AuthError(str(refused), http_status=refused.http_status) from None
        if not isinstance(result, Mapping):
            raise BadPayload("BMS sign-in answer has no result")
        access = pick(result, "AccessToken")
        if not isinstance(access, str) or not access:
            raise BadPayload("BMS sign-in answer has no accessToken")
        refresh = pick(result, "RefreshToken")
        lifetime = DEFAULT_LIFETIME
        try:
            expires = parse_bms_time(pick(result, "AccessTokenExpireOn"), self.zone)
        except BadPayload:
            expires = None
        if expires is not None:
            seconds = (expires - datetime.now(UTC)).total_seconds()
            if 60 <= seconds <= LONGEST:
                lifetime = seconds
        return Token(access, lifetime, refresh if isinstance(refresh, str) and refresh else None)
