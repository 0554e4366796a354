"""Datto RMM's OAuth 2.0 token: the password grant of the fixed public client.

``POST https://{platform}-api.centrastage.net/auth/oauth/token`` (outside
``/api``) with ``Authorization: Basic base64("public-client:public")`` and the
form ``grant_type=password&username={API key}&password={API secret}``; the
answer holds ``access_token``, ``refresh_token`` and ``expires_in`` (DattoRMM.Core
``Request-ApiToken.ps1``; a live tenant's notes; Datto's API page documents
OAuth 2.0 and the 100-hour lifetime). A token is renewed
:attr:`~connectors.kaseya.auth.TokenAuth.refresh_margin` before ``expires_in``
runs out, and at once when an answer is 401, by the same password grant:
whether Datto's public client also takes ``grant_type=refresh_token`` is not
documented, and every client we read (DattoRMM.Core, the n8n and TypeScript
clients) renews with the key and secret again, so this does too.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Mapping

import httpx2

from connectors.errors import BadPayload
from connectors.http import decode_json
from connectors.kaseya.auth import Renewal, Token, TokenAuth, refuse

__all__ = ["PUBLIC_CLIENT", "TOKEN_PATH", "DattoRmmAuth"]

TOKEN_PATH = "/auth/oauth/token"
PUBLIC_CLIENT = ("public-client", "public")
"""Datto's fixed, public OAuth client: not a secret (the API key and secret are)."""
DEFAULT_LIFETIME = 100 * 3600.0
"""Datto documents 100 hours; used when an answer carries no ``expires_in``."""


class DattoRmmAuth(TokenAuth):
    """Fetches and renews the bearer token with the API key and secret."""

    def __init__(self, token_url: str, api_key: str, api_secret: str) -> None:
        super().__init__()
        self.token_url = token_url
        self._form = {"grant_type": "password", "username": api_key, "password": api_secret}
        client, public = PUBLIC_CLIENT
        self._basic = "Basic " + b64encode(f"{client}:{public}".encode()).decode()

    def renewal(self, current: Token | None) -> Renewal:
        """One password grant (``current`` is not used: no refresh grant is relied on)."""
        request = httpx2.Request(
            "POST",
            self.token_url,
            headers={"Authorization": self._basic, "Accept": "application/json"},
            data=self._form,
        )
        response = yield request
        refuse("Datto RMM", response)
        body = decode_json(response)
        if not isinstance(body, Mapping):
            raise BadPayload("Datto RMM token answer is not a JSON object")
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise BadPayload("Datto RMM token answer has no access_token")
        expires = body.get("expires_in")
        lifetime = (
            float(expires)
            if isinstance(expires, (int, float)) and not isinstance(expires, bool) and expires > 0
            else DEFAULT_LIFETIME
        )
        refresh = body.get("refresh_token")
        return Token(access, lifetime, refresh if isinstance(refresh, str) else None)
