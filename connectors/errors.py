"""Why a connector call failed, as a small tree the scheduler can act on.

    ConnectorError                 any failure; ``kind`` names it for the poll-run record
    ├── ConfigurationError         the vendor section is wrong (missing key, bad URL)
    ├── AuthError                  401/403: credentials refused; retrying will not help
    ├── RateLimited                429 (or 503 with Retry-After): wait ``retry_after`` seconds
    ├── TransientError             5xx, timeouts, connection failures: back off and retry
    └── BadPayload                 the vendor answered 2xx with something we cannot read

Messages never contain credentials: they name the vendor's status code and the
vendor's own (cleaned, shortened) error text only.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "BadPayload",
    "ConfigurationError",
    "ConnectorError",
    "RateLimited",
    "TransientError",
]


class ConnectorError(Exception):
    """Base of every connector failure."""

    kind = "error"

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class ConfigurationError(ConnectorError):
    """The vendor's config section cannot work."""

    kind = "config"


class AuthError(ConnectorError):
    """The vendor refused our credentials."""

    kind = "auth"


class RateLimited(ConnectorError):
    """The vendor asked us to slow down."""

    kind = "rate_limited"

    def __init__(
        self, message: str, *, retry_after: float | None, http_status: int | None = 429
    ) -> None:
        super().__init__(message, http_status=http_status)
        self.retry_after = retry_after


class TransientError(ConnectorError):
    """A failure that may pass: server error, timeout, connection refused."""

    kind = "transient"


class BadPayload(ConnectorError):
    """The vendor answered, but not with what its API promises."""

    kind = "bad_payload"
