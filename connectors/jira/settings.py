"""The ``[vendors.NAME]`` keys a Jira Cloud / JSM connector reads, typed and checked once."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from connectors.settings import ConnectorSettings, SecretStr, page_size_field

__all__ = ["DEFAULT_ISSUE_TYPE", "JiraSettings"]

DEFAULT_ISSUE_TYPE = "Task"
"""The issue type hand-offs are created with (nearly every project has it)."""


class JiraSettings(ConnectorSettings):
    """Jira Cloud with an account's API token (Basic ``email:api_token``)."""

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = (("email", "api_token"),)

    email: str | None = None
    """The Atlassian account the API token belongs to."""
    api_token: SecretStr | None = None
    project: str | None = None
    """A project key or name: restricts every search to it, and hand-offs are created in it."""
    page_size: int = page_size_field(100, 5000)
    """``maxResults`` of a search: Jira serves at most 100 issues a page when fields are asked
    for (5,000 only for ids), so 100 is what a page really holds."""
    concurrency: int = Field(4, ge=1, le=64)
    """Comment pages read at once for issues with more comments than a search page carries.
    Jira Cloud's burst limits are per tenant, endpoint and second and unpublished; four in
    flight stays well inside them while 429s are waited out (Retry-After)."""
    service_desk: bool = True
    """Read JSM SLA clocks (the SLA custom fields of the search results)."""
    group_field: str | None = Field(None, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    """A field id such as ``customfield_10001`` whose value is the group (default: project key)."""
    site_url: str | None = None
    """Where browse links point when ``base_url`` is the ``api.atlassian.com`` gateway."""
    create_issue_type: str = DEFAULT_ISSUE_TYPE
    """The issue type of hand-offs created in ``project``."""

    @field_validator("site_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value
