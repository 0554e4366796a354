"""Is the process behind an owner string (``host:pid``) still alive?

The collector knows processes; the store only knows rows. So the store asks
this question through a callable the collector passes in: when it settles
actions a killed sender left half-sent, and when it decides whether the
collector lease's holder is gone.
"""

from __future__ import annotations

import os
import socket

__all__ = ["owner_name", "process_gone", "this_host"]


def this_host() -> str:
    """The host name used in ``host:pid`` owner strings."""
    return socket.gethostname()


def owner_name() -> str:
    """``host:pid`` of this process: who holds a lease or claims an action."""
    return f"{this_host()}:{os.getpid()}"


def process_gone(owner: str) -> bool:
    """True when ``owner`` (``host:pid``) is a process on this host that no longer exists.

    A process on another host is never judged gone here: only its age tells.
    """
    host, _, pid_text = owner.rpartition(":")
    if host != this_host() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
