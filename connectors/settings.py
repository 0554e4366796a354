"""The connector kit's settings: one typed, frozen model per vendor, parsed once.

A ``[vendors.NAME]`` section arrives as a plain mapping (after ``${VAR}``
expansion). Each connector declares a :class:`ConnectorSettings` subclass in
its folder's ``settings.py``; :meth:`ConnectorSettings.parse` turns the
mapping into that model once, at config load, and every later use (polls,
dry runs, checks) reads typed attributes instead of re-parsing strings.

The shared fields (``page_size``, ``max_pages``, ``backfill_days``,
``overlap_seconds``, ``concurrency``) and the status/priority overrides live
here, so no vendor carries its own copy of those validators. Secrets are
:class:`pydantic.SecretStr`: their ``repr`` is ``'**********'``, so a settings
object can reach a log or a traceback without leaking them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from connectors.errors import ConfigurationError
from connectors.records import Priority, TicketStatus

__all__ = [
    "ConnectorSettings",
    "SecretStr",
    "page_size_field",
    "secret",
]


def page_size_field(default: int, maximum: int) -> Any:
    """A ``page_size`` field: a whole number from 1 to the vendor's own maximum."""
    return Field(default, ge=1, le=maximum)


def secret(value: SecretStr | None) -> str | None:
    """The plain text of an optional secret (``None`` and ``""`` stay ``None``)."""
    if value is None:
        return None
    text = value.get_secret_value()
    return text or None


class ConnectorSettings(BaseModel):
    """Settings every connector shares; vendors subclass it with their own keys.

    Unknown keys are refused (a typo such as ``pagesize`` would otherwise be
    silently ignored), and every value is checked before the first poll.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = ((),)
    """Alternative sets of keys; one set must be fully present (non-empty)."""

    page_size: int = page_size_field(100, 1000)
    """Records asked for per request."""
    max_pages: int = Field(100_000, ge=1)
    """A guard against a vendor whose paging never ends (pages per poll)."""
    backfill_days: float = Field(30.0, gt=0, le=36_500)
    """The first sync also reads closed and resolved tickets this far back (open ones: all)."""
    overlap_seconds: float = Field(60.0, ge=0, le=86_400)
    """An incremental poll re-reads this much before its cursor (late commits, coarse clocks)."""
    concurrency: int = Field(8, ge=1, le=64)
    """Most requests in flight at once to this vendor (per-ticket sub-requests)."""
    history_pages_per_poll: int = Field(5, ge=1, le=100_000)
    """Pages of the conversation walk read per poll, after the incremental pages (vendors
    that read a ticket's conversation one request at a time)."""
    status_map: Mapping[str, TicketStatus] = Field(default_factory=dict)
    """Tenant overrides: the vendor's raw status (name or code) → a normalized status."""
    priority_map: Mapping[str, Priority] = Field(default_factory=dict)
    """Tenant overrides: the vendor's raw priority → P1..P5."""

    @field_validator("status_map", "priority_map", mode="before")
    @classmethod
    def _normalize_keys(cls, value: Any) -> Any:
        """Keys match case-insensitively; values are accepted in any case."""
        if not isinstance(value, Mapping):
            raise ValueError('must be a table, e.g. { "Raw" = "value" }')
        out: dict[str, str] = {}
        for raw, normalized in value.items():
            text = str(normalized).strip()
            is_priority = len(text) == 2 and text[0] in "pP" and text[1].isdigit()
            out[str(raw).strip().lower()] = text.upper() if is_priority else text.lower()
        return out

    @property
    def backfill(self) -> timedelta:
        """``backfill_days`` as a duration."""
        return timedelta(days=self.backfill_days)

    @property
    def overlap(self) -> timedelta:
        """``overlap_seconds`` as a duration."""
        return timedelta(seconds=self.overlap_seconds)

    @classmethod
    def parse(cls, vendor: str, kind: str, section: Mapping[str, Any]) -> Self:
        """Validate one vendor section; every problem becomes one :class:`ConfigurationError`."""
        values = {
            k: v for k, v in section.items() if v is not None and v != "" and k not in _SECTION_KEYS
        }
        try:
            settings = cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigurationError(_one_line(vendor, kind, cls, exc)) from None
        settings._require_credentials(vendor, kind)
        return settings

    def _require_credentials(self, vendor: str, kind: str) -> None:
        sets = self.credential_sets
        if any(all(_present(getattr(self, key, None)) for key in keys) for keys in sets):
            return
        wanted = " or ".join("+".join(keys) for keys in sets)
        raise ConfigurationError(f"vendor {vendor!r} ({kind}) needs {wanted}")


_SECTION_KEYS = frozenset({"kind", "base_url", "poll_interval", "enabled", "stale_after"})
"""Keys of ``[vendors.NAME]`` that paneglass itself reads (VendorConfig), not the connector."""


def _present(value: object) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return value is not None and value != ""


def _one_line(vendor: str, kind: str, cls: type[BaseModel], exc: ValidationError) -> str:
    """The first problem, named by key, without echoing a value (it may be a secret)."""
    error = exc.errors(include_url=False, include_input=False)[0]
    location = ".".join(str(part) for part in error["loc"]) or "section"
    key = str(error["loc"][0]) if error["loc"] else ""
    if error["type"] == "extra_forbidden":
        known = ", ".join(sorted(cls.model_fields))
        return f"vendor {vendor!r} ({kind}): unknown setting {key!r} (known: {known})"
    message = str(error["msg"])
    message = message[0].lower() + message[1:] if message else "is not valid"
    return f"vendor {vendor!r} ({kind}): {location}: {message}"
