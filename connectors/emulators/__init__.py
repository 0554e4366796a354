"""Loopback emulators that speak each vendor's real wire format.

Demo mode and the tests run the real connector code against these over real
HTTP on 127.0.0.1; see :mod:`connectors.emulators.base`.
"""

from connectors.emulators.base import (
    Emulator,
    Reply,
    Request,
    TicketEmulator,
    WorldAttachment,
    WorldEntry,
    WorldTicket,
)

__all__ = [
    "Emulator",
    "Reply",
    "Request",
    "TicketEmulator",
    "WorldAttachment",
    "WorldEntry",
    "WorldTicket",
    "emulator_for",
]


def emulator_for(kind: str) -> type[Emulator]:
    """The emulator class for a connector kind (imported lazily; ``aws-health`` lives in
    ``connectors.emulators.aws_health``)."""
    from importlib import import_module

    module = import_module(f"connectors.emulators.{kind.replace('-', '_')}")
    cls: type[Emulator] = module.EMULATOR
    return cls
