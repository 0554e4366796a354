"""Modules imported when first used, for imports a process may never need.

The store's write modules bring both SQL dialects' insert constructs (the
PostgreSQL dialect alone is a noticeable import); a viewer, or a console
before its first commit, never touches them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["on_first_use"]


class _Deferred:
    """Stands for a module; the first attribute read imports it.

    ``import_module`` holds the import lock, so threads that reach for it at the
    same moment get one fully executed module (unlike ``importlib.util.LazyLoader``
    on Python 3.11). After the first read it is a dictionary lookup.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"


def on_first_use(name: str) -> Any:
    """A stand-in for module ``name`` that imports it when one of its attributes is read."""
    return _Deferred(name)
