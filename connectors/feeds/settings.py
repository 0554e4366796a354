"""The settings every status feed shares, and a validator for lists of names.

A public status feed needs no credential. The ticket settings of the kit
(``page_size``, ``backfill_days``, ``status_map``, …) are accepted, so a
config written for every vendor alike still loads, but a feed reads none of
them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from pydantic import Field, field_validator

from connectors.settings import ConnectorSettings

__all__ = ["StatusFeedSettings", "http_url", "name_list"]


def name_list(value: Any) -> tuple[str, ...]:
    """A TOML array of names, or one comma-separated string, as a tuple without blanks."""
    if value is None:
        return ()
    if isinstance(value, str):
        parts: Iterable[Any] = value.split(",")
    elif isinstance(value, list | tuple):
        parts = value
    else:
        raise ValueError('must be a list of names, e.g. ["Compute Engine", "Cloud SQL"]')
    names = []
    for part in parts:
        if not isinstance(part, str):
            raise ValueError("must be a list of names (text)")
        if part.strip():
            names.append(part.strip())
    return tuple(names)


def http_url(value: Any) -> str | None:
    """An ``http(s)://`` address without its trailing slash, or ``None``."""
    if value is None:
        return None
    text = str(value).strip()
    if not text.startswith(("http://", "https://")) or any(c.isspace() for c in text):
        raise ValueError("must be an address starting with http:// or https://")
    return text.rstrip("/")


class StatusFeedSettings(ConnectorSettings):
    """A ``[vendors.NAME]`` section of a status feed: no credentials, two requests at most."""

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = ((),)

    page_url: str | None = None
    """The human status page that links point to, where it is not ``base_url`` itself."""
    concurrency: int = Field(2, ge=1, le=8)
    """A feed is one or two documents a poll; more in flight would only burden a public page."""

    @field_validator("page_url", mode="before")
    @classmethod
    def _page_url(cls, value: Any) -> str | None:
        return http_url(value)
