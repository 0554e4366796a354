"""One external message as the outbox keeps it, and the errors a channel can raise.

The outbox row's payload is this JSON: the channel, the rule (whose config
holds the URL, the addresses, the command) and the event. Nothing secret is
in it; the sender looks the rule up in the config when it sends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["Delivery", "DeliveryError", "PermanentError"]


class DeliveryError(Exception):
    """A channel could not deliver; worth trying again later (timeout, 5xx, refused)."""


class PermanentError(DeliveryError):
    """A channel refused for good (4xx, bad address, missing rule): retrying cannot help."""


@dataclass(frozen=True)
class Delivery:
    """What one outbox row asks a channel to send."""

    channel: str
    rule: str
    key: str
    event: dict[str, Any]

    def to_json(self) -> str:
        """The outbox's stored form."""
        return json.dumps(
            {"channel": self.channel, "rule": self.rule, "key": self.key, "event": self.event},
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Delivery:
        """Inverse of :meth:`to_json`; ``ValueError`` when it is not a delivery."""
        data = json.loads(text)
        if not isinstance(data, dict) or "channel" not in data or "event" not in data:
            raise ValueError("not a notification delivery")
        return cls(str(data["channel"]), str(data["rule"]), str(data["key"]), dict(data["event"]))

    @staticmethod
    def is_delivery(payload: str) -> bool:
        """Is this outbox payload a notification delivery (not a vendor action)?"""
        try:
            Delivery.from_json(payload)
        except (ValueError, TypeError, KeyError):
            return False
        return True
