"""The terminal bell: one BEL per batch of new firings that ask for it.

A console that catches up on several firings at once (it was busy, or a
sweep recorded many) rings once, not once per firing: the operator hears
"something new" and reads the toasts. The byte itself goes out through
Textual's ``App.bell``.
"""

from __future__ import annotations

from collections.abc import Iterable

from paneglass.store import SendView

__all__ = ["BEL", "rings"]

BEL = "\x07"


def rings(sends: Iterable[SendView]) -> bool:
    """Does this batch of firings ring the bell?"""
    return any("bell" in send.channels for send in sends)
