"""Every setting the Google status connector reads, typed and checked once at config load.

::

    [vendors.gcp-status]
    kind = "google_status"
    base_url = "https://status.cloud.google.com"
    products = ["Google Compute Engine", "Cloud SQL"]   # optional: only these products
    locations = ["europe-west1", "europe-west4"]        # optional: only these locations

    [vendors.workspace-status]
    kind = "google_status"
    base_url = "https://www.google.com/appsstatus/dashboard"
    products = ["Gmail", "Google Meet"]

``products`` match a product's title or its id, case-insensitively; listed
products are always shown as components (operational unless an open
incident names them). ``locations`` match a location id or title; an incident
that names no location (every Workspace incident) is kept, since it cannot
be ruled out.
"""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from connectors.feeds.settings import StatusFeedSettings, name_list

__all__ = ["GoogleStatusSettings"]


class GoogleStatusSettings(StatusFeedSettings):
    """A ``[vendors.NAME]`` section of kind ``google_status``."""

    products: tuple[str, ...] = ()
    """Only incidents affecting one of these products (title or id); empty: every product."""
    locations: tuple[str, ...] = ()
    """Only incidents in one of these locations (id or title); empty: everywhere."""
    incidents_path: str = "/incidents.json"
    """The history document under ``base_url``."""

    @field_validator("products", "locations", mode="before")
    @classmethod
    def _names(cls, value: Any) -> tuple[str, ...]:
        return name_list(value)

    @field_validator("incidents_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or any(c.isspace() for c in value):
            raise ValueError("must be a path starting with /")
        return value
