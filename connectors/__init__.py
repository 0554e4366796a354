"""Vendor connectors, discovered through the ``paneglass.connectors`` entry points.

Built-in connectors register through the same entry-point group as a third
party's would (see ``pyproject.toml``), so listing kinds imports nothing and a
connector shipped as its own package needs no change here.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from connectors.base import Connector, VendorConfig
from connectors.errors import ConfigurationError

__all__ = ["Connector", "VendorConfig", "available_kinds", "load_connector"]

GROUP = "paneglass.connectors"


def available_kinds() -> list[str]:
    """Every registered connector kind, sorted; imports no connector."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def load_connector(kind: str) -> type[Connector]:
    """The connector class registered for ``kind``, or a ConfigurationError naming the choices."""
    for ep in entry_points(group=GROUP, name=kind):
        try:
            cls = ep.load()
        except Exception as exc:  # a broken third-party package must not crash the console
            raise ConfigurationError(
                f"vendor kind {kind!r} failed to load ({ep.value}): {type(exc).__name__}: {exc}"
            ) from None
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            raise ConfigurationError(f"entry point {kind!r} is not a paneglass Connector")
        return cls
    kinds = ", ".join(available_kinds()) or "none installed"
    raise ConfigurationError(f"unknown vendor kind {kind!r} (known: {kinds})")
