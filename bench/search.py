"""Benchmark: free-word search over 1,000,000 tickets with 5,000,000 conversation entries.

Builds a SQLite store (through the real migrations, so the FTS5 index, its
view and its triggers are the product's own) with N tickets and 5 N entries
written in bulk (``executemany`` on the raw driver, the index's triggers
set aside), then indexes every ticket document once (FTS5 ``rebuild``, what
a bulk load must do) and puts the triggers back, then measures, in the same
run, for a spread of searches (a ticket number, an error code, an asset, a
person, rare and common words):

* the filter's count (``Store.ticket_count``) and its first window of 60 rows
  in the default order (``Store.ticket_window``: rows, SLA marks and the
  "matched in a reply by …" line), each the median of three runs, and the
  first (coldest) run;
* the baseline: the filter as it was before full-text search, a LIKE scan of
  key, title, requester and assignee (titles only, no conversation at all),
  and once a LIKE scan of the conversation bodies (what a naive search of the
  conversation would cost).

Prints figures and ratios; asserts nothing. Usage:
``python bench/search.py [TICKETS] [--db PATH] [--keep]`` (default 1,000,000;
``--db`` reuses a store built before).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select

from connectors import VendorConfig
from paneglass.store import Store, TicketQuery
from paneglass.store.tables import ENTRIES, TICKETS

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def _words(text: str) -> list[str]:
    return text.split()


ENTRIES_PER_TICKET = 5
VENDORS = ("hosting", "desktop", "network", "print-fleet", "app-partner", "on-call")

COMMON = _words(
    "the to and a of is on for in it we this with from please have that be can you as "
    "are not has was at after now when our user users again issue problem error still "
    "ticket update thanks hi hello regards team support check checked see working works "
    "server printer network laptop email outlook vpn access password login account "
    "disk backup job jobs queue restart restarted rebooted reset fixed resolved closed "
    "waiting customer confirm confirmed attached screenshot log logs time today yesterday"
)
DOMAIN = _words(
    "spooler firmware driver toner tray jam duplex scan scanner certificate dns dhcp vlan "
    "switch port flapping latency timeout replication snapshot patch reboot failover "
    "cluster mailbox sharepoint teams onedrive excel addin license mfa token sso ldap "
    "gpo profile roaming docking monitor keyboard headset battery charger wifi ssid "
    "proxy firewall rule route bandwidth packet loss jitter voip sip trunk gateway"
)
FIRST = _words("maria tom priya lukas aiko sam elena jonas chloé omar grace ben ana felix noor")
LAST = _words("jensen okafor natarajan berg tanaka rivera petrova weber martin haddad liu")


def _syllable_words(rng: random.Random, count: int) -> list[str]:
    """Made-up but pronounceable words: the long tail of a real vocabulary."""
    onsets = _words("b c d f g h j k l m n p r s t v w z br cr dr gr pl st tr")
    vowels = _words("a e i o u ai ea io ou")
    words = set()
    while len(words) < count:
        words.add(
            "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))
        )
    return sorted(words)


class Corpus:
    """Sentences drawn once with a Zipf-like vocabulary, then reused: fast to generate."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        tail = _syllable_words(rng, 20_000)
        vocabulary = COMMON + DOMAIN + tail
        weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(vocabulary))]
        self.sentences = []
        for _ in range(60_000):
            words = rng.choices(vocabulary, weights, k=rng.randint(6, 18))
            self.sentences.append(" ".join(words).capitalize() + ".")
        self.codes = [f"{rng.randint(10, 99)}.{rng.randint(1, 9)}C{rng.randint(0, 99):02d}"
                      for _ in range(3_000)]  # fmt: skip
        kinds = ("PC", "LT", "PRN", "VM", "SW")
        self.assets = [f"{rng.choice(kinds)}-{n:04d}" for n in range(9_000)]
        self.people = [f"{f.capitalize()} {last.capitalize()}" for f in FIRST for last in LAST]

    def text(self, sentences: int) -> str:
        rng = self.rng
        parts = rng.sample(self.sentences, sentences)
        roll = rng.random()
        if roll < 0.08:
            parts.append(f"Error code {rng.choice(self.codes)} on the panel.")
        elif roll < 0.16:
            parts.append(f"Affected asset {rng.choice(self.assets)}.")
        elif roll < 0.20:
            parts.append(f"See also INC{rng.randint(0, 999_999):07d}.")
        elif roll < 0.201:
            parts.append("Printer shows 49.4C02 again after the firmware update.")
        return " ".join(parts)


def build(path: Path, tickets: int) -> None:
    """Tickets and entries written in bulk, through the migrated schema and its triggers."""
    store = Store(f"sqlite:///{path}")
    store.sync_vendors(
        [VendorConfig(name=n, kind="servicenow", base_url="http://127.0.0.1:9") for n in VENDORS]
    )
    store.close()
    rng = random.Random(14)
    corpus = Corpus(rng)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-400000")
    # A bulk load indexes once at the end (FTS5 rebuild) rather than row by row.
    triggers = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'ticket_search_%'"
    ).fetchall()
    for name, _sql in triggers:
        db.execute(f"DROP TRIGGER {name}")
    stamp = "%Y-%m-%d %H:%M:%S.%f"
    started = time.perf_counter()
    db.execute("BEGIN")
    statuses = ("new", "open", "pending", "resolved", "closed")
    batch: list[tuple[Any, ...]] = []
    created_at: list[datetime] = []
    for n in range(tickets):
        created = NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 730))
        created_at.append(created)
        key = f"INC{n:07d}" if n % 2 else f"{('OPS', 'NET', 'PRT')[n % 3]}-{n}"
        batch.append(
            (
                1 + n % len(VENDORS),
                f"e{n}",
                key,
                rng.choice(corpus.sentences)[:70].rstrip(" ."),
                rng.choice(statuses),
                "x",
                rng.choice(("P1", "P2", "P3", "P4", None)),
                rng.choice(corpus.people) if n % 3 else None,
                rng.choice(corpus.people),
                rng.choice(corpus.assets),
                created.strftime(stamp),
                (created + timedelta(minutes=rng.randint(0, 6000))).strftime(stamp),
                NOW.strftime(stamp),
                NOW.strftime(stamp),
                corpus.text(rng.randint(1, 3)),
            )
        )
        if len(batch) == 50_000:
            _tickets(db, batch)
            batch.clear()
    _tickets(db, batch)
    db.execute("COMMIT")
    print(f"built {tickets:,} tickets in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    db.execute("BEGIN")
    rows: list[tuple[Any, ...]] = []
    total = tickets * ENTRIES_PER_TICKET
    for n in range(total):
        ticket = rng.randrange(tickets)  # entries of one ticket are spread over the id space
        at = created_at[ticket] + timedelta(minutes=rng.randint(1, 9000))
        body = corpus.text(rng.randint(1, 4))
        visibility = rng.choices(("public", "internal", "system"), (6, 3, 1))[0]
        rows.append(
            (
                1 + ticket % len(VENDORS),
                f"e{ticket}",
                f"c{n}",
                ticket + 1,
                rng.choice(corpus.people),
                visibility,
                body,
                "html" if n % 2 else "text",
                f"<p>{body}</p>" if n % 2 else None,
                at.strftime(stamp),
                NOW.strftime(stamp),
            )
        )
        if len(rows) == 50_000:
            _entries(db, rows)
            rows.clear()
            if n % 1_000_000 < 50_000:
                print(f"  {n + 1:,} entries, {time.perf_counter() - started:.0f} s")
    _entries(db, rows)
    db.execute("COMMIT")
    print(f"built {total:,} entries in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    db.execute("INSERT INTO ticket_search(ticket_search) VALUES ('rebuild')")
    for _name, sql in triggers:
        db.execute(sql)
    print(f"indexed {tickets:,} ticket documents in {time.perf_counter() - started:.0f} s")
    db.execute("ANALYZE")
    db.close()
    print(f"database: {path.stat().st_size / 2**30:.2f} GiB")


def _tickets(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    db.executemany(
        "INSERT INTO ticket (vendor_id, external_id, key, title, status, raw_status, priority, "
        "assignee, requester, asset, created_at, updated_at, first_seen_at, last_seen_at, "
        "description) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )


def _entries(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    db.executemany(
        "INSERT INTO ticketentry (vendor_id, ticket_external_id, external_id, ticket_id, author, "
        "visibility, body, raw_format, raw_body, created_at, first_seen_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )


def _ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return 1000 * (time.perf_counter() - started), result


def _runs(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(first run, median of three, result)."""
    times = []
    result = None
    for _ in range(3):
        elapsed, result = _ms(fn)
        times.append(elapsed)
    return times[0], statistics.median(times), result


def _old_filter_count(store: Store, word: str) -> int:
    """The filter before full-text search: LIKE over key, title, requester, assignee."""
    columns = ("key", "title", "requester", "assignee")
    condition = or_(
        *(func.coalesce(TICKETS.c[c], "").icontains(word, autoescape=True) for c in columns)
    )
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(condition)).scalar_one())


def _naive_body_count(store: Store, word: str) -> int:
    with store.engine.connect() as conn:
        stmt = select(func.count(func.distinct(ENTRIES.c.ticket_id))).where(
            ENTRIES.c.body.icontains(word, autoescape=True)
        )
        return int(conn.execute(stmt).scalar_one())


def measure(store: Store, searches: list[str]) -> None:
    print()
    print(f"{'filter':<26} {'tickets':>9} {'count ms':>17} {'window ms':>17} {'old LIKE ms':>12}")
    print(f"{'':<26} {'':>9} {'first / median':>17} {'first / median':>17} {'(titles)':>12}")
    for text in searches:
        query = TicketQuery(text=text)
        c_first, c_median, total = _runs(lambda q=query: store.ticket_count(q))
        w_first, w_median, rows = _runs(lambda q=query, t=total: store.ticket_window(q, 0, 60, t))
        words = [t.values[0] for t in query.terms if t.field == "text"]
        old = _ms(lambda w=words[0]: _old_filter_count(store, w))[0] if words else float("nan")
        print(
            f"{text:<26} {total:>9,} {c_first:>8.1f} / {c_median:<7.1f} "
            f"{w_first:>8.1f} / {w_median:<7.1f} {old:>11.0f}"
        )
        shown = next((r for r in rows if r.match is not None and r.match.author), None)
        if shown is not None and shown.match is not None:
            snippet = "".join(part for part, _hit in shown.match.snippet)
            print(f"{'':<26}   e.g. {shown.key}: matched in a {shown.match.where} by "
                  f"{shown.match.author}: {snippet[:60]}")  # fmt: skip
    elapsed, found = _ms(lambda: _naive_body_count(store, "spooler"))
    print()
    print(f"baseline: a LIKE scan of every conversation body for 'spooler': {elapsed:,.0f} ms "
          f"({found:,} tickets)")  # fmt: skip


SEARCHES = [
    "INC0012231",
    "OPS-812",
    "49.4C02",
    "PRN-0412",
    "chloé martin",
    "spooler",
    "spooler firmware",
    "cannot print",
    "printer",
    "firmware -status:closed",
    "vlan prio:P1",
    "the",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tickets", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="reuse (or keep) the store at this path")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="paneglass-bench-"))
    path = args.db or folder / "search.db"
    if not path.exists():
        build(path, args.tickets)
    store = Store(f"sqlite:///{path}", writer=False)
    try:
        measure(store, SEARCHES)
    finally:
        store.close()


if __name__ == "__main__":
    main()
