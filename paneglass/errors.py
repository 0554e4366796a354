"""Errors a user can cause: the CLI prints their message on one line and exits 2."""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """Bad config, unknown vendor kind, missing secret, unreachable database."""
