"""Benchmark: a first sync at the size and distance of a real tenant.

For each scenario, every vendor emulator is started on loopback in this
process, filled with N tickets (all inside the first sync's scope: open
tickets of any age and tickets closed within ``backfill_days``), and made to
wait ``latency`` seconds before every answer, as a vendor 50 ms away would.
Then the real ``paneglass collect --once`` runs as a child process against
them, into a fresh SQLite file; its wall time and peak RSS are measured from
outside (``wait4`` in a small parent of its own: :data:`PEAK_RSS`).

The baseline, in the same run: a minimal client (one httpx2 client per
vendor, nothing parsed, nothing stored) replays exactly the requests the
collector sent, with the same number in flight per vendor, also as a child
process. The ratio says how much of the sync is paneglass rather than the
network and the vendor.

Scenarios (``python bench/sync.py [--quick] [--big]``):

* the ticketing vendors x 10,000 at 0 ms and at 50 ms;
* Jira Service Management alone, 10,000 requests at 50 ms (the issue's case);
* with ``--big``: the ticketing vendors x 100,000 at 50 ms, with peak RSS;
* the ingest figures of ``bench/ingest.py`` (SQLite ratio, PostgreSQL tickets/s).

Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors import load_connector
from connectors.emulators import emulator_for
from connectors.emulators.base import Emulator, TicketEmulator, WorldTicket
from connectors.records import Priority, TicketStatus
from paneglass.demo.session import DEMO_VENDORS

ROOT = Path(__file__).resolve().parent.parent
TICKETING = DEMO_VENDORS
"""The demo world's ticketing vendors, one of each kind."""
STATUSES = (
    (TicketStatus.NEW, 10),
    (TicketStatus.OPEN, 35),
    (TicketStatus.PENDING, 15),
    (TicketStatus.RESOLVED, 20),
    (TicketStatus.CLOSED, 20),
)
PRIORITIES = (Priority.P1, Priority.P2, Priority.P3, Priority.P3, Priority.P4, Priority.P5)
AGENTS = ("Kim Lee", "Ana Ruiz", "Sam Okafor", "Priya Nair", None)
REQUESTERS = ("Maria Lopez", "Tom Becker", "Jin Park", "Olu Ade", "Eva Novak")


@dataclass(frozen=True)
class SyncFigures:
    """One scenario's measurement."""

    label: str
    seconds: float
    peak_rss_mb: float
    records: int
    ok: bool
    per_vendor: dict[str, float]
    baseline_seconds: float
    requests: int
    cpu_seconds: float
    """The collector's own CPU time, user and system (all its threads)."""


def _tickets(count: int, seed: int, now: datetime) -> Iterable[WorldTicket]:
    """A deterministic tenant: open tickets up to a year old, closed ones within 25 days."""
    rng = random.Random(seed)
    population = [status for status, weight in STATUSES for _ in range(weight)]
    for index in range(count):
        status = rng.choice(population)
        done = status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        age = timedelta(days=rng.uniform(0.5, 25) if done else rng.uniform(0.1, 365))
        created = now - age
        updated = min(created + timedelta(hours=rng.uniform(0, 48)), now - timedelta(minutes=5))
        yield WorldTicket(
            ref=f"b{index}",
            title=f"Benchmark ticket {index}: printer queue stuck on floor {index % 12}",
            status=status,
            priority=rng.choice(PRIORITIES),
            created_at=created,
            updated_at=updated,
            assignee=rng.choice(AGENTS),
            requester=rng.choice(REQUESTERS),
            group="Service Desk",
            asset=f"PRN-{index % 500:04d}",
            description="Users report the queue does not drain; error 49.4C02 on the panel.",
            resolved_at=updated if done else None,
        )


def _fill(emulator: TicketEmulator, tickets: Iterable[WorldTicket]) -> None:
    bulk = getattr(emulator, "put_tickets", None)
    if callable(bulk):
        bulk(tickets)
        return
    for ticket in tickets:
        emulator.put_ticket(ticket)


def start_tenants(
    count: int, latency: float, kinds: Sequence[tuple[str, str]], seed: int = 7
) -> dict[str, Emulator]:
    """Every vendor's emulator, started and filled; latency switched on after the fill."""
    now = datetime.now(UTC)
    emulators: dict[str, Emulator] = {}
    for offset, (name, kind) in enumerate(kinds):
        emulator = emulator_for(kind)()
        emulator.start()
        if isinstance(emulator, TicketEmulator):
            _fill(emulator, _tickets(count, seed + offset, now))
        emulator.latency = latency
        _unthrottled(emulator)
        with emulator.lock:
            emulator.requests.clear()
        emulators[name] = emulator
    return emulators


THROTTLES = ("rate_limit_per_minute", "account_rate_limit")
"""Emulator budgets that model a vendor plan (Freshservice Pro 400/min, Zendesk Enterprise
700/min): lifted here, so the figures measure paneglass and the distance, not a plan."""


def _unthrottled(emulator: Emulator) -> None:
    for name in THROTTLES:
        if hasattr(emulator, name):
            setattr(emulator, name, 10**9)


def _config_toml(emulators: dict[str, Emulator]) -> str:
    lines: list[str] = []
    for name, emulator in emulators.items():
        settings = emulator.vendor_settings()
        lines.append(f"[vendors.{name}]")
        lines.append(f"base_url = {json.dumps(emulator.base_url)}")
        for key, value in settings.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: object) -> str:
    """A setting as TOML: JSON's strings, numbers and lists are TOML too; a mapping is not."""
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


PEAK_RSS = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    out.write(f'{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}')\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)
"""Runs a command and writes its peak RSS (kB) and CPU seconds to a file: the measured
child's parent.

Linux carries the high-water RSS of the memory a process *exec*s from into the new
program's ``ru_maxrss`` (``exec_mmap``: the old mm's peak is kept). Spawned straight
from this process (vfork + exec), the collector's "peak" was at least this bench's
own peak, emulators and all (444 MB for JSM alone, where the collector itself peaked
at 107 MB). Spawned from this small interpreter instead, the figure is the
collector's own, plus at most the interpreter's ~10 MB floor."""


def _run_child(argv: list[str]) -> tuple[float, float, float, str, int]:
    """(seconds, peak RSS in MB, CPU seconds, stdout, exit code) of a child process, measured
    from outside.

    The peak is taken by :data:`PEAK_RSS`, a small parent of the child, not from
    this process's ``wait4``: that would report this bench's own peak (see there).
    """
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="paneglass-rss-") as folder:
        peak_file = Path(folder) / "peak"
        command = [sys.executable, "-S", "-c", PEAK_RSS, str(peak_file), *argv]
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert child.stdout is not None
        out = child.stdout.read()
        code = child.wait()
        peak_kb, cpu = (
            map(float, peak_file.read_text().split()) if peak_file.exists() else (0.0, 0.0)
        )
    return time.monotonic() - started, peak_kb / 1024, cpu, out, code


def _concurrency(kind: str) -> int:
    settings = load_connector(kind).Settings
    if settings is None:
        return 1
    return int(settings.model_fields["concurrency"].default)


def _recorded(emulators: dict[str, Emulator]) -> list[dict[str, Any]]:
    plan: list[dict[str, Any]] = []
    for name, emulator in emulators.items():
        with emulator.lock:
            requests = list(emulator.requests)
        kind = str(emulator.vendor_settings().get("kind"))
        plan.append(
            {
                "vendor": name,
                "base_url": emulator.base_url,
                "concurrency": _concurrency(kind),
                "requests": [
                    {
                        "method": r.method,
                        "path": r.path,
                        "query": [[k, v] for k, values in r.query.items() for v in values],
                        "headers": {
                            k: v
                            for k, v in r.headers.items()
                            if k not in ("host", "content-length", "connection")
                        },
                        "body": r.body.decode("utf-8", "replace"),
                    }
                    for r in requests
                ],
            }
        )
    return plan


async def _replay(plan: list[dict[str, Any]]) -> None:
    """The baseline client: the same requests, the same concurrency, nothing else."""
    import httpx2

    async def vendor(entry: dict[str, Any]) -> None:
        limit = asyncio.Semaphore(entry["concurrency"])
        async with httpx2.AsyncClient(base_url=entry["base_url"], timeout=60) as client:

            async def one(request: dict[str, Any]) -> None:
                async with limit:
                    response = await client.request(
                        request["method"],
                        request["path"],
                        params=[tuple(pair) for pair in request["query"]],
                        headers=request["headers"],
                        content=request["body"].encode() or None,
                    )
                    await response.aread()

            await asyncio.gather(*(one(r) for r in entry["requests"]))

    await asyncio.gather(*(vendor(entry) for entry in plan))


def run_scenario(
    label: str, count: int, latency: float, kinds: Sequence[tuple[str, str]]
) -> SyncFigures:
    """Start the tenants, run ``collect --once`` and the baseline replay; return the figures."""
    emulators = start_tenants(count, latency, kinds)
    try:
        with tempfile.TemporaryDirectory(prefix="paneglass-bench-") as folder:
            config = Path(folder) / "bench.toml"
            config.write_text(_config_toml(emulators), encoding="utf-8")
            db = f"sqlite:///{Path(folder) / 'bench.db'}"
            argv = [sys.executable, "-m", "paneglass", "collect", "--once"]
            argv += ["--config", str(config), "--db", db]
            seconds, rss, cpu, out, code = _run_child(argv)
            per_vendor: dict[str, float] = {}
            records = 0
            for line in out.splitlines():
                parts = line.split()
                if len(parts) >= 5 and parts[1] in ("ok", "error"):
                    per_vendor[parts[0]] = float(parts[4])
                    records += int(parts[2])
            plan = _recorded(emulators)
            requests = sum(len(entry["requests"]) for entry in plan)
            plan_file = Path(folder) / "replay.json"
            plan_file.write_text(json.dumps(plan), encoding="utf-8")
            baseline, _, _, _, _ = _run_child(
                [sys.executable, __file__, "--replay", str(plan_file)]
            )
            if code != 0:
                print(out, file=sys.stderr)
    finally:
        for emulator in emulators.values():
            emulator.stop()
    return SyncFigures(label, seconds, rss, records, code == 0, per_vendor, baseline, requests, cpu)


def _print(figures: SyncFigures, target: str) -> None:
    ratio = figures.seconds / figures.baseline_seconds if figures.baseline_seconds else 0.0
    state = "ok" if figures.ok else "FAILED"
    print(
        f"{figures.label:<44} {figures.seconds:7.1f} s  baseline {figures.baseline_seconds:6.1f} s"
        f"  ×{ratio:4.1f}  {figures.records:>8,} records  {figures.requests:>6,} requests"
        f"  RSS {figures.peak_rss_mb:5.0f} MB  CPU {figures.cpu_seconds:5.1f} s  {state}"
        f"   target {target}"
    )
    by_time = sorted(figures.per_vendor.items(), key=lambda item: -item[1])
    print("    vendors, slowest first: " + ", ".join(f"{v} {s:.1f} s" for v, s in by_time))


def main() -> None:
    """Run the scenarios and print each figure next to its baseline and target."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 tickets a vendor")
    parser.add_argument("--big", action="store_true", help="also 100,000 tickets a vendor")
    parser.add_argument(
        "--no-ingest", action="store_true", help="skip the ingest figures (bench/ingest.py)"
    )
    parser.add_argument("--replay", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay is not None:
        asyncio.run(_replay(json.loads(args.replay.read_text(encoding="utf-8"))))
        return
    count = 1_000 if args.quick else 10_000
    vendors = len(TICKETING)
    print(f"first sync, {vendors} ticketing vendors, collect --once vs a replaying client\n")
    _print(
        run_scenario(f"{vendors} × {count:,} at 0 ms", count, 0.0, TICKETING),
        "< 15 s",
    )
    _print(
        run_scenario(f"{vendors} × {count:,} at 50 ms", count, 0.05, TICKETING),
        "< 30 s",
    )
    _print(
        run_scenario(f"JSM alone, {count:,} at 50 ms", count, 0.05, [("network", "jira")]),
        "finishes",
    )
    if args.big:
        _print(
            run_scenario(f"{vendors} × 100,000 at 50 ms", 100_000, 0.05, TICKETING),
            "< 300 s, < 300 MB",
        )
    if args.no_ingest:
        return
    try:
        sys.path.insert(0, str(ROOT))
        from bench.ingest import measure
    except ImportError:
        print("\ningest: bench/ingest.py not available")
        return
    print("\ningest (bench/ingest.py):")
    for name, value in measure().items():
        print(f"    {name:<40} {value:,.3f}")


if __name__ == "__main__":
    main()
