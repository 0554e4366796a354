"""Who is acting, for the audit log: the OS user and the terminal (SSH client too).

Taken from the process itself, never from anything the operator types, so an
entry says which account and which session made a change.
"""

from __future__ import annotations

import getpass
import os

from paneglass.store import Actor

__all__ = ["current_actor"]


def current_actor() -> Actor:
    """The OS user running paneglass and the terminal it runs on."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid {os.getuid()}"
    parts: list[str] = []
    tty = _tty()
    if tty:
        parts.append(tty)
    connection = os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_CLIENT")
    if connection:
        parts.append(f"ssh from {connection.split()[0]}")
    return Actor(user=user, terminal=" ".join(parts) or "no terminal")


def _tty() -> str | None:
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return os.ttyname(fd)
        except OSError:
            continue
    return os.environ.get("SSH_TTY")
