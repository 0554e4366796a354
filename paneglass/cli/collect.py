"""``paneglass collect [--once]``: the headless collector."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from paneglass.cli.options import config_from
from paneglass.cli.progress import SyncProgress
from paneglass.collect import Collector
from paneglass.config import Config
from paneglass.errors import UserError
from paneglass.paths import default_database_url
from paneglass.store import Store

__all__ = ["collect"]


def collect(args: argparse.Namespace) -> int:
    """Poll every enabled vendor into the store: once (``--once``), or until stopped."""
    config = config_from(args, required=True)
    assert config is not None
    if not any(v.enabled for v in config.vendors):
        raise UserError("the config has no enabled vendor to collect from")
    store = Store(args.db or default_database_url(), sla=config.sla)
    try:
        if args.once:
            with SyncProgress() as progress:
                return asyncio.run(_collect_once(store, config, progress))
        _log_to(args.log)
        with SyncProgress(tty=False if args.log else None) as progress:
            asyncio.run(_collect_forever(store, config, progress))
        return 0
    finally:
        store.close()


def _log_to(path: Path | None) -> None:
    """One line per poll, to the file named (or stderr); never a secret (none is logged)."""
    handler: logging.Handler
    if path is None:
        handler = logging.StreamHandler()
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write the log {path}: {exc.strerror}") from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("paneglass")
    root.addHandler(handler)
    root.setLevel(logging.INFO)


async def _collect_once(store: Store, config: Config, progress: SyncProgress) -> int:
    collector = Collector(store, config.vendors, on_progress=progress, notify=config.notify)
    try:
        outcomes = await collector.poll_all_once()
    finally:
        await collector.aclose()
    width = max(len(o.vendor) for o in outcomes)
    for outcome in outcomes:
        state = "ok" if outcome.ok else "error"
        detail = "" if outcome.ok else f"  {outcome.error}"
        counts = f"{outcome.records:>6} records  {outcome.seconds:6.2f} s"
        print(f"{outcome.vendor:<{width}}  {state:5}  {counts}{detail}")
    return 0 if all(o.ok for o in outcomes) else 1


async def _collect_forever(store: Store, config: Config, progress: SyncProgress) -> None:
    collector = Collector(store, config.vendors, on_progress=progress, notify=config.notify)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    collector.start()
    try:
        await stop.wait()
    finally:
        await collector.aclose()
