"""The ``[vendors.NAME]`` keys a ServiceNow connector reads, typed and checked once.

Credentials are a service account (``username`` + ``password``, Basic auth)
or an OAuth bearer ``token``; a complete username/password pair wins when
both are configured. ``close_code`` and ``hold_reason`` fill what the
instance's data policies demand when paneglass resolves, closes or puts an
incident on hold. ``conversations = false`` turns off reading comments, work
notes and attachment metadata (for a service account without read access to
``sys_journal_field`` / ``sys_attachment``).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from connectors.settings import ConnectorSettings, SecretStr, page_size_field, secret

__all__ = ["MAX_PAGE_SIZE", "ServiceNowSettings"]

MAX_PAGE_SIZE = 10_000
"""The Table API's own default ``sysparm_limit``; larger pages hurt the instance."""


class ServiceNowSettings(ConnectorSettings):
    """One ServiceNow instance's settings (see the module docstring)."""

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("username", "password"), ("token",))

    username: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    page_size: int = page_size_field(200, MAX_PAGE_SIZE)
    """Incidents per Table API request (``sysparm_limit``)."""
    concurrency: int = Field(4, ge=1, le=64)
    """Requests in flight at once. An instance runs REST transactions in a small
    per-node semaphore pool and answers 429 once its queue is full; the
    vendor reference advises no more than two to four from one integration."""
    close_code: str = "Solved (Permanently)"
    """``close_code`` sent when paneglass resolves or closes an incident."""
    hold_reason: str = "1"
    """``hold_reason`` sent when paneglass puts an incident On Hold (1: Awaiting Caller)."""
    conversations: bool = True
    """Read comments, work notes and attachment metadata with each page of incidents."""

    def basic_credentials(self) -> tuple[str, str] | None:
        """``(username, password)`` when both are set: they win over a token."""
        password = secret(self.password)
        if self.username and password:
            return self.username, password
        return None

    def bearer_token(self) -> str | None:
        """The OAuth token, used only when no complete username/password pair is set."""
        if self.basic_credentials() is not None:
            return None
        return secret(self.token)
