"""Benchmark: what an idle wall costs in CPU, and what its change check adds.

A wall that follows another process's collector asks the store, every
``WATCH_SECONDS``, whether anything was committed (SQLite ``PRAGMA
data_version``). This measures, in the same run:

* one check alone: CPU per call, over 20,000 calls on a real SQLite file;
* the real wall app (headless, 200x60, the fixed sample world, nothing
  changing) for ``--seconds`` each with the check every 0.5 s, every 1 s, and
  with no check at all (the baseline: the clock and countdowns repainting);
  the process's CPU time over that span, as a share of one core.

Prints figures and ratios; asserts nothing.
``python bench/idle_wall.py [--seconds N]``
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import paneglass.ui.app as app_module
from paneglass.collect.watch import watcher_for
from paneglass.config import Config, DisplayConfig
from paneglass.demo.fixture import FIXTURE_NOW, seed_store
from paneglass.store import Store
from paneglass.ui.app import WallApp


def check_cost(url: str, calls: int = 20_000) -> float:
    """CPU seconds per ``changed()`` call."""
    watcher = watcher_for(url)
    assert watcher is not None
    started = time.process_time()
    for _ in range(calls):
        watcher.changed()
    watcher.close()
    return (time.process_time() - started) / calls


async def idle_wall_cpu(store: Store, interval: float | None, seconds: float) -> float:
    """Share of one core the idle wall uses over ``seconds`` (``None``: no change check)."""
    app_module.WATCH_SECONDS = interval if interval is not None else 10_000.0
    app = WallApp(
        store,
        Config(demo=True, display=DisplayConfig(timezone="UTC")),
        clock=lambda: FIXTURE_NOW,
        collect=False,
    )
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause(3.0)  # first paint, first data, the watcher started
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        return (time.process_time() - cpu) / (time.perf_counter() - wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'wall.db'}"
        store = Store(url)
        seed_store(store)
        per_call = check_cost(url)
        print(f"one change check (PRAGMA data_version): {per_call * 1e6:.1f} µs CPU")
        for interval in (0.5, 1.0):
            print(
                f"  every {interval:.1f} s: {per_call / interval * 100:.4f} % of a core"
                f" ({per_call / interval * 86400:.2f} CPU s a day)"
            )
        shares: dict[str, float] = {}
        for label, interval in (("no check", None), ("every 0.5 s", 0.5), ("every 1.0 s", 1.0)):
            shares[label] = asyncio.run(idle_wall_cpu(store, interval, options.seconds))
        store.close()
    print(f"idle wall, headless 200x60, {options.seconds:.0f} s each, CPU as a share of one core")
    base = shares["no check"]
    for label, share in shares.items():
        print(
            f"  {label:<12} {share * 100:6.2f} %   ({(share - base) * 100:+.2f} points vs no check)"
        )


if __name__ == "__main__":
    main()
