"""Python's cyclic garbage collector paused while the console loads.

Loading SQLAlchemy, Textual, pydantic and our own modules creates some hundred
thousand objects that live as long as the program, and the collector walks
all of them again and again while they are being created: a third of the
console's import time on this project's machine (``import paneglass.ui.app``
and its neighbours, 662-1,276 ms with the collector, 406-807 ms without it,
in pairs of runs). So the ``paneglass`` command pauses it until the console
has shown its first data, then freezes what was loaded (``gc.freeze``: never
walked again, which a wall running for days also gains from) and resumes it.
Only the command's own process pauses it; a program that imports paneglass
collects as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused", "loaded"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the collector for the block, until :func:`loaded` (or the block's end)."""
    if not gc.isenabled():  # someone else paused it: theirs to resume
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        loaded()


def loaded() -> None:
    """The program is loaded: keep its objects out of later collections and collect again."""
    if gc.isenabled():
        return
    gc.freeze()
    gc.enable()
