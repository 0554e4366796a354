"""The command channel: a local program run with the event as JSON on its stdin.

Run directly (no shell), with the idempotency key in ``PANEGLASS_NOTIFY_KEY``;
exit status 0 means delivered. A program that runs past the timeout is killed
and tried again later; any other non-zero status is reported and retried.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from paneglass.notify.delivery import DeliveryError, PermanentError

__all__ = ["run_command"]


async def run_command(
    argv: tuple[str, ...], event: dict[str, Any], key: str, *, deadline: float
) -> str:
    """Run the program once; its outcome in one line, or a :class:`DeliveryError`."""
    env = {**os.environ, "PANEGLASS_NOTIFY_KEY": key, "PANEGLASS_NOTIFY_EVENT": event["event"]}
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
    except OSError as exc:
        raise PermanentError(f"command {argv[0]}: {exc.strerror or exc}") from None
    data = json.dumps(event).encode()
    try:
        async with asyncio.timeout(deadline):
            _, err = await process.communicate(data)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise DeliveryError(f"command {argv[0]}: still running after {deadline:g} s") from None
    if process.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise DeliveryError(f"command {argv[0]}: exit {process.returncode} {tail[0][:120]}")
    return f"command {argv[0]}: exit 0"
