"""The ``[vendors.NAME]`` keys an IMAP mailbox section may hold, typed and checked once.

::

    [vendors.mail]
    kind = "imap"
    base_url = "imaps://mail.acme.example:993"   # imaps:// (TLS) or imap:// (STARTTLS)
    username = "servicedesk@acme.example"
    password = "${IMAP_PASSWORD}"                # or oauth_token = "${IMAP_TOKEN}" (XOAUTH2)
    # optional
    folder = "INBOX"
    page_size = 100          # messages per FETCH
    backfill_days = 30       # the first sync reads unseen mail of any age plus all mail this recent
    starttls = true          # imap:// only: false allows a plain connection (loopback tests)
    tls_verify = true
    timeout_seconds = 30     # one IMAP command's deadline
    max_body_bytes = 262144  # bytes of a message's text part read (the rest is cut)

    [vendors.mail.match]     # which vendor's ticket a subject names (connectors.imap.patterns)
    hosting = "servicenow"
    desktop = "zendesk"
    network = "jira:OPS,NET"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field, field_validator

from connectors.imap.patterns import compile_rules
from connectors.settings import ConnectorSettings, SecretStr, page_size_field

__all__ = ["ImapSettings"]


class ImapSettings(ConnectorSettings):
    """One mailbox folder's settings (see the module docstring)."""

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("username", "password"),
        ("username", "oauth_token"),
    )

    username: str | None = None
    """The mailbox login (LOGIN, or the user of SASL XOAUTH2)."""
    password: SecretStr | None = None
    oauth_token: SecretStr | None = None
    """An OAuth 2.0 access token for SASL XOAUTH2 (Gmail, Microsoft 365); used when no
    password is set. Refreshing it is outside this connector (tokens expire in ~1 h)."""
    folder: str = Field("INBOX", min_length=1, max_length=500)
    """The one folder this section reads (one section per folder)."""
    page_size: int = page_size_field(100, 1000)
    """Messages per UID FETCH (headers and structure), and so per page."""
    concurrency: int = Field(1, ge=1, le=1)
    """One IMAP connection, one command at a time."""
    starttls: bool = True
    """For ``imap://`` URLs: upgrade with STARTTLS before logging in. ``false`` permits a
    plain-text session (a loopback test server only; the password crosses unencrypted)."""
    tls_verify: bool = True
    """Check the server's certificate and host name (``false``: self-signed test servers)."""
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    """The deadline of one IMAP command (socket reads included)."""
    max_body_bytes: int = Field(262_144, ge=1_024, le=10_000_000)
    """Bytes of a message's text part fetched (a partial FETCH); the rest is not read."""
    match: Mapping[str, Any] = Field(default_factory=dict)
    """Per vendor name, how its ticket numbers look in subjects (connectors.imap.patterns)."""

    @field_validator("match", mode="before")
    @classmethod
    def _check_match(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError('must be a table, e.g. { hosting = "servicenow" }')
        compile_rules(value)  # a bad entry raises ValueError naming its vendor
        return dict(value)
