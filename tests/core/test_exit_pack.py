"""The exit pack round-trips: export a vendor's whole history, import it into a fresh store,
export it again, and the two packs are the same, line for line.

The source is the fixture world (tickets with descriptions, conversations with
attachments, clocks, a hand-off link, the operator's audit trail); the fresh
store is SQLite and PostgreSQL in turn. Bad packs are refused with one line.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from paneglass.cli import main
from paneglass.demo.fixture import seed_store
from paneglass.store import Store, TicketQuery

PACK = ["export", "--vendor", "desktop", "--what", "all", "--format", "jsonl"]


def _head() -> str:
    """The newest migration: the schema a pack written now carries."""
    from alembic.script import ScriptDirectory

    from paneglass.store.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@pytest.fixture
def source(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    store = Store(url)
    seed_store(store)
    store.close()
    return url


def _files(folder: Path) -> dict[str, list[str]]:
    return {
        path.name: path.read_text(encoding="utf-8").splitlines()
        for path in sorted(folder.glob("*.jsonl"))
    }


def test_the_pack_round_trips_into_a_fresh_store(
    source: str, any_db_url: str, tmp_path: Path
) -> None:
    first, second = tmp_path / "pack", tmp_path / "again"
    assert main([*PACK, "--db", source, "--output", str(first)]) == 0
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["format"] == "paneglass exit pack" and manifest["schema_version"] == _head()
    assert manifest["counts"]["tickets"] == 37
    assert manifest["counts"]["conversations"] == 5 and manifest["counts"]["attachments"] == 1
    assert manifest["counts"]["links"] == 1 and manifest["counts"]["audit"] > 0
    assert manifest["time_range"]["from"] < manifest["time_range"]["to"]
    assert {v["name"] for v in manifest["vendors"]} == {"desktop", "hosting"}
    for name, lines in _files(first).items():
        assert len(lines) == manifest["counts"][name.removesuffix(".jsonl")], name
        assert all(json.loads(line) for line in lines), name  # one object a line

    assert main(["import", str(first), "--db", any_db_url]) == 0
    assert main([*PACK, "--db", any_db_url, "--output", str(second)]) == 0
    assert _files(second) == _files(first), "the restored store does not hold the same history"

    before, after = Store(source), Store(any_db_url)
    try:
        key = "#48299"
        old = before.ticket_detail(before.find_tickets(key, 1)[0][0])
        new = after.ticket_detail(after.find_tickets(key, 1)[0][0])
        assert old is not None and new is not None
        assert new.description == old.description
        assert [(i.source, i.text) for i in new.timeline if i.entry] == [
            (i.source, i.text) for i in old.timeline if i.entry
        ]
        assert [c.state for c in new.clocks] == [c.state for c in old.clocks]
        # The search index was kept while the pack was written in.
        query = TicketQuery(text="vendor:desktop firmware")
        assert after.ticket_count(query) == before.ticket_count(query) == 1
    finally:
        before.close()
        after.close()


def test_bad_packs_are_refused_with_one_line_and_nothing_imported(
    source: str, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "pack"
    assert main([*PACK, "--db", source, "--output", str(pack)]) == 0
    capsys.readouterr()
    cut = pack / "conversations.jsonl"
    cut.write_text(cut.read_text()[:-40], encoding="utf-8")
    assert main(["import", str(pack), "--db", db_url]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "conversations.jsonl does not match" in error
    assert Store(db_url).ticket_count(TicketQuery()) == 0
    assert main(["import", str(tmp_path), "--db", db_url]) == 2
    assert "has no manifest.json" in capsys.readouterr().err
    assert main([*PACK, "--db", source, "--output", str(pack)]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert main(["export", "--what", "all", "--format", "json", "--db", source]) == 2
    assert "--vendor" in capsys.readouterr().err


def test_a_pack_restores_once_or_under_another_name(
    source: str, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "pack"
    assert main([*PACK, "--db", source, "--output", str(pack)]) == 0
    assert main(["import", str(pack), "--db", db_url]) == 0
    capsys.readouterr()
    assert main(["import", str(pack), "--db", db_url]) == 2
    assert "already has tickets" in capsys.readouterr().err
    assert main(["import", str(pack), "--db", db_url, "--as", "old-desk"]) == 0
    store = Store(db_url)
    try:
        assert store.ticket_count(TicketQuery(text="vendor:old-desk")) == 37
        assert store.links_of("old-desk", "desktop-99")[0].vendor == "hosting"
    finally:
        store.close()


def test_comments_export_for_scripts(source: str, tmp_path: Path) -> None:
    out = tmp_path / "comments.csv"
    args = ["export", "--what", "comments", "--vendor", "desktop", "--db", source]
    assert main([*args, "--format", "csv", "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["visibility"] for r in rows] == ["public", "internal", "internal", "public", "public"]
    first = rows[0]
    assert (first["vendor"], first["ticket_key"], first["author"]) == (
        "desktop",
        "#48299",
        "Maria Jensen",
    )
    assert first["attachments"] == "PRN-3F-EAST-display.jpg"
    assert first["created_at"].endswith("Z") and "49.4C02" in first["body"]
    out = tmp_path / "comments.json"
    every = ["export", "--what", "comments", "--db", source, "--format", "json"]
    assert main([*every, "--output", str(out)]) == 0
    everything = json.loads(out.read_text())
    assert len(everything) == 9 and {r["vendor"] for r in everything} == {"desktop", "hosting"}
