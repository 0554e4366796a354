"""``collect --once`` then ``export`` against a config that points at the emulators."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from connectors.emulators.base import Reply
from paneglass.cli import main
from paneglass.demo.session import start_demo


def _toml(value: object) -> str:
    """A setting as TOML (the mailbox's ``starttls = false`` and ``match`` table too)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))


def mail_items(session) -> int:  # type: ignore[no-untyped-def]
    """The demo mailbox's mail items (four threads) where Dovecot runs it."""
    return 4 if session.mailbox is not None else 0


def config_for(session, path: Path) -> Path:  # type: ignore[no-untyped-def]
    lines = []
    for vendor in session.config.vendors:
        lines += [
            f"[vendors.{vendor.name}]",
            f'kind = "{vendor.kind}"',
            f'base_url = "{vendor.base_url}"',
        ]
        lines += [f"{key} = {_toml(value)}" for key, value in vendor.settings.items()]
        if vendor.status_source:
            lines.append(f'status_source = "{vendor.status_source}"')
        lines.append("")
    path.write_text("\n".join(lines))
    return path


@pytest.fixture
def demo():  # type: ignore[no-untyped-def]
    session = start_demo(seed=5, live=False)
    yield session
    session.close()


def test_collect_once_then_export_json_and_csv(
    demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(demo, tmp_path / "config.toml")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["collect", "--once", "--config", str(config), "--db", db]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert sorted(line.split()[0] for line in lines) == sorted(v.name for v in demo.config.vendors)
    assert all(line.split()[1] == "ok" for line in lines)

    out = tmp_path / "tickets.json"
    assert main(["export", "--format", "json", "--db", db, "--output", str(out)]) == 0
    tickets = json.loads(out.read_text())
    expected = sum(len(live) for live in demo.world.live.values()) + mail_items(demo)
    assert len(tickets) == expected
    required = {
        "vendor",
        "kind",
        "external_id",
        "key",
        "title",
        "status",
        "raw_status",
        "priority",
        "raw_priority",
        "assignee",
        "requester",
        "created_at",
        "updated_at",
        "vendor_due_at",
        "url",
    }
    assert required <= set(tickets[0])
    assert {t["vendor"] for t in tickets} - {"mail"} == set(demo.world.tickets)
    assert {t["status"] for t in tickets} <= {"new", "open", "pending", "resolved", "closed"}
    assert all(t["created_at"].endswith("Z") for t in tickets)
    printing = [t for t in tickets if "49.4C02" in t["title"] and t["kind"] != "imap"]
    case = {"hosting", "desktop", "network", "print-fleet"} & set(demo.world.tickets)
    assert {t["vendor"] for t in printing} == case  # one user's problem, in pieces everywhere

    assert main(["export", "--format", "csv", "--db", db]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == expected and rows[0]["vendor"] in {*demo.world.tickets, "mail"}


def test_collect_once_exits_1_when_a_vendor_fails(
    demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(demo, tmp_path / "config.toml")
    demo.emulators["desktop"].inject(*[Reply(503, {"error": "maintenance"})] * 3)
    code = main(
        ["collect", "--once", "--config", str(config), "--db", f"sqlite:///{tmp_path / 's.db'}"]
    )
    assert code == 1
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if line.startswith("desktop")]
    assert failed and "error" in failed[0] and "503" in failed[0]
    assert all(" ok " in line for line in out.splitlines() if not line.startswith("desktop"))


def test_check_reports_each_vendor(
    demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(demo, tmp_path / "config.toml")
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.count(" ok ") >= 3
    demo.emulators["hosting"].inject(Reply(401, {"error": {"message": "User Not Authenticated"}}))
    assert main(["check", "--config", str(config)]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_collect_and_export_on_postgresql(
    demo, tmp_path: Path, pg_root: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    if pg_root is None:
        pytest.skip("no PostgreSQL server binaries installed")
    from sqlalchemy import create_engine, text

    admin = create_engine(pg_root + "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('CREATE DATABASE "cli_export"'))
    admin.dispose()
    db = pg_root + "cli_export"
    config = config_for(demo, tmp_path / "config.toml")
    assert main(["collect", "--once", "--config", str(config), "--db", db]) == 0
    capsys.readouterr()
    assert main(["export", "--format", "json", "--db", db]) == 0
    tickets = json.loads(capsys.readouterr().out)
    assert len(tickets) == sum(len(live) for live in demo.world.live.values()) + mail_items(demo)
    assert {t["vendor"] for t in tickets} - {"mail"} == set(demo.world.tickets)


def test_queued_action_is_sent_by_collect_once_and_exported_in_the_audit(
    demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from connectors.actions import Action, ActionKind
    from paneglass.store import Actor, NewAction, Store, TicketQuery

    config = config_for(demo, tmp_path / "config.toml")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["collect", "--once", "--config", str(config), "--db", db]) == 0
    store = Store(db)
    (row,) = store.ticket_window(TicketQuery(text='vendor:desktop "49.4C02"'), 0, 1)
    ticket = store.ticket_detail(row.id)
    assert ticket is not None
    action = Action(ActionKind.COMMENT, ticket.external_id, ticket.key, text="on my way")
    store.enqueue_action(
        Actor("ana", "/dev/pts/9 ssh from 127.0.0.1"),
        row.updated_at,
        NewAction(
            vendor="desktop",
            kind="comment",
            payload=action.to_json(),
            summary=action.summary(),
            detail="PUT …",
            external_id=ticket.external_id,
            ticket_key=ticket.key,
        ),
    )
    store.close()
    capsys.readouterr()
    assert main(["collect", "--once", "--config", str(config), "--db", db]) == 0
    sent = demo.emulators["desktop"].comments_on(ticket.external_id)
    assert [c.text for c in sent] == ["on my way"]
    capsys.readouterr()
    assert main(["export", "--format", "json", "--what", "audit", "--db", db]) == 0
    entries = json.loads(capsys.readouterr().out)
    entries = [e for e in entries if e["user"] != "paneglass"]  # not the mailbox's own joins
    assert [e["action"] for e in entries] == ["queued comment", "sent comment"]
    for entry in entries:
        assert entry["user"] == "ana" and entry["terminal"] == "/dev/pts/9 ssh from 127.0.0.1"
        assert entry["vendor"] == "desktop" and entry["ticket_key"] == ticket.key
        assert entry["at"].endswith("Z")  # ISO 8601 UTC, as every export
    assert entries[1]["answer"].startswith("HTTP 200")
    settings = demo.config.vendors[0].settings
    dumped = json.dumps(entries)
    assert not [v for k, v in settings.items() if "token" in k or "password" in k if v in dumped]
