"""Shared options mean the same before and after the command name, for every command.

Each test writes real files (a seeded SQLite store, a TOML config) and checks
the effect: the export reads the database it was given (and the default one
is never created), the console opens the store, theme and mode asked for, and
so on, with the options first before and then after the command.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

from paneglass.cli import main
from paneglass.cli.console import console_app, served_command
from paneglass.cli.options import COMMAND_OPTIONS, build_parser
from paneglass.demo.fixture import seed_store
from paneglass.demo.session import start_demo
from paneglass.store import Store, TicketQuery
from tests.core.test_cli_collect_export import config_for

BEFORE, AFTER = "before", "after"


def arrange(where: str, command: list[str], shared: list[str]) -> list[str]:
    """``shared`` options before the command name, or after it (and after its own options)."""
    return [*shared, *command] if where == BEFORE else [*command, *shared]


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A real SQLite store with the fixture world in it: (URL, ticket count)."""
    url = f"sqlite:///{tmp_path / 'given.db'}"
    store = Store(url)
    seed_store(store)
    count = store.ticket_count(TicketQuery())
    store.close()
    yield url, count


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config with display, keys and wall settings that can be seen in the app."""
    path = tmp_path / "config.toml"
    path.write_text(
        '[display]\ntimezone = "Asia/Tokyo"\n'
        '[keys]\n"tickets.sort" = "o"\n'
        '[wall]\ntitle = "ACME NOC"\n'
    )
    return path


def default_db() -> Path:
    return Path(platformdirs.user_data_dir("paneglass")) / "paneglass.db"


@pytest.mark.parametrize("where", [BEFORE, AFTER])
def test_export_reads_the_given_database(
    where: str, seeded: tuple[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    url, count = seeded
    argv = arrange(where, ["export", "--format", "json"], ["--db", url])
    assert main(argv) == 0
    tickets = json.loads(capsys.readouterr().out)
    assert len(tickets) == count > 0
    assert any(t["title"] == "Cannot print, error code 49.4C02" for t in tickets)
    assert not default_db().exists()  # the default database was never created


def test_the_option_after_the_command_wins(
    seeded: tuple[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, count = seeded
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["--db", empty, "export", "--format", "json", "--db", url]) == 0
    assert len(json.loads(capsys.readouterr().out)) == count


def test_an_option_the_command_does_not_use_is_refused_after_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--format", "json", "--theme", "light"])
    assert exit_.value.code == 2
    assert "--theme" in capsys.readouterr().err
    # Before the command (a shell alias), it is ignored where it does not apply.
    args = build_parser().parse_args(["--theme", "light", "export", "--format", "json"])
    assert args.theme == "light" and args.command == "export"


def test_every_command_takes_config_and_db_on_either_side() -> None:
    parser = build_parser()
    for command, shared in COMMAND_OPTIONS.items():
        if command is None:
            continue
        assert {"config", "db"} <= set(shared), command
        extra = {
            "export": ["--format", "csv"],
            "import": ["pack-folder"],
            "report": ["scorecard"],
        }.get(command, [])
        for where in (BEFORE, AFTER):
            argv = arrange(where, [command, *extra], ["--config", "c.toml", "--db", "sqlite://"])
            args = parser.parse_args(argv)
            assert (str(args.config), args.db) == ("c.toml", "sqlite://"), (command, where)


def test_report_takes_config_and_db_before_between_and_after_its_name() -> None:
    """``report`` has reports of its own: the options work at every level, the last one wins,
    and a level that does not give one never resets what an earlier level gave."""
    parser = build_parser()
    shared = ["--config", "c.toml", "--db", "sqlite://"]
    for argv in (
        [*shared, "report", "handover"],
        ["report", *shared, "handover"],
        ["report", "handover", *shared],
    ):
        args = parser.parse_args(argv)
        assert (str(args.config), args.db, args.report) == ("c.toml", "sqlite://", "handover")
    args = parser.parse_args(["--db", "sqlite:///a", "report", "--db", "sqlite:///b", "scorecard"])
    assert args.db == "sqlite:///b"
    args = parser.parse_args(["report", "--db", "sqlite:///b", "scorecard", "--db", "sqlite:///c"])
    assert args.db == "sqlite:///c"


def test_at_is_shared_by_the_console_and_the_wall() -> None:
    parser = build_parser()
    for argv in (["--at", "2026-11-20 03:12", "wall"], ["wall", "--at", "2026-11-20 03:12"]):
        args = parser.parse_args(argv)
        assert (args.command, args.at) == ("wall", "2026-11-20 03:12")
    assert parser.parse_args(["--at", "yesterday"]).at == "yesterday"
    # Before a command that has no use for it, it is ignored (a shell alias); after, refused.
    assert parser.parse_args(["--at", "yesterday", "collect", "--once"]).command == "collect"
    with pytest.raises(SystemExit):
        parser.parse_args(["collect", "--at", "yesterday"])


@pytest.mark.parametrize("where", [BEFORE, AFTER])
def test_collect_writes_to_the_given_database_with_the_given_config(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = start_demo(seed=5, live=False)
    try:
        config = config_for(session, tmp_path / "vendors.toml")
        url = f"sqlite:///{tmp_path / 'collected.db'}"
        argv = arrange(where, ["collect", "--once"], ["--config", str(config), "--db", url])
        assert main(argv) == 0
        store = Store(url, writer=False)
        mail = 4 if session.mailbox is not None else 0  # the demo mailbox's threads
        expected = sum(len(live) for live in session.world.live.values()) + mail
        assert store.ticket_count(TicketQuery()) == expected > 0
        store.close()
        assert not default_db().exists()
    finally:
        session.close()


@pytest.mark.parametrize("where", [BEFORE, AFTER])
def test_check_reads_the_given_config_and_database(
    where: str, seeded: tuple[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, count = seeded
    config = tmp_path / "empty-vendors.toml"
    config.write_text('[display]\ntimezone = "UTC"\n')
    assert main(arrange(where, ["check"], ["--config", str(config), "--db", url])) == 0
    out = capsys.readouterr().out
    assert f"config {config}: ok, 0 vendor(s)" in out
    assert f"given.db: ok, {count:,} tickets" in out
    assert not default_db().exists()


def test_check_names_a_database_it_cannot_open(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("")
    broken = tmp_path / "broken.db"
    broken.write_text("this is not a SQLite file, it only has the name of one " * 20)
    assert main(["check", "--config", str(config), "--db", f"sqlite:///{broken}"]) == 1
    assert "broken.db: FAIL cannot open it" in capsys.readouterr().out


def test_console_opens_the_given_store_theme_and_modes(
    seeded: tuple[str, int], config: Path
) -> None:
    # The console has no command name: its options are only ever written "before".
    url, _ = seeded
    argv = ["--config", str(config), "--db", url, "--theme", "light", "--read-only", "--view-only"]
    with console_app(build_parser().parse_args(argv), force_demo=False) as app:
        assert app.store.url == url
        assert app.config.source == config and app.config.keys == {"tickets.sort": "o"}
        assert app.theme == "light"
        assert app.collect is False  # --view-only
        assert app.write_back is None  # type: ignore[attr-defined]  # --read-only
    assert not default_db().exists()


@pytest.mark.parametrize("where", [BEFORE, AFTER])
def test_demo_takes_theme_read_only_and_the_given_config(where: str, config: Path) -> None:
    argv = arrange(where, ["demo"], ["--theme", "high-contrast", "--read-only"])
    argv += ["--config", str(config)]
    args = build_parser().parse_args(argv)
    with console_app(args, force_demo=True) as app:
        assert app.config.demo and {v.name for v in app.config.vendors} >= {"hosting", "desktop"}
        assert app.theme == "high-contrast"
        assert app.write_back is None  # type: ignore[attr-defined]
        assert app.config.keys == {"tickets.sort": "o"}  # the operator's keys, in the demo too
        assert app.config.display.timezone == "Asia/Tokyo"
        assert app.store.url != args.db


@pytest.mark.parametrize("where", [BEFORE, AFTER])
def test_wall_opens_the_given_store_theme_and_config(
    where: str, seeded: tuple[str, int], config: Path
) -> None:
    url, _ = seeded
    shared = ["--config", str(config), "--db", url, "--theme", "light", "--view-only"]
    args = build_parser().parse_args(arrange(where, ["wall", "--rotate", "7"], shared))
    with console_app(args, force_demo=False, wall=True) as app:
        assert type(app).__name__ == "WallApp"
        assert app.store.url == url
        assert app.theme == "light"
        assert app.collect is False
        assert app.config.wall.title == "ACME NOC"
        assert app.rotate == 7  # type: ignore[attr-defined]


@pytest.mark.parametrize("where", [BEFORE, AFTER])
def test_serve_hands_config_db_and_theme_to_every_tab(where: str, config: Path) -> None:
    shared = ["--config", str(config), "--db", "sqlite:///x.db", "--theme", "light"]
    args = build_parser().parse_args(arrange(where, ["serve", "--port", "8123"], shared))
    command = served_command(args)
    assert command[command.index("--config") + 1] == str(config.resolve())
    assert command[command.index("--db") + 1] == "sqlite:///x.db"
    assert command[command.index("--theme") + 1] == "light"
    assert {"--view-only", "--read-only"} <= set(command)  # a browser tab never acts
    assert args.port == 8123


@pytest.mark.parametrize("where", [BEFORE, AFTER])
def test_screenshots_use_the_given_theme(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paneglass.ui import screenshots

    monkeypatch.setattr(screenshots, "SHOTS", (("console", (100, 30), ()),))
    output = tmp_path / "shots"
    argv = arrange(where, ["screenshots", "--output", str(output)], ["--theme", "light"])
    assert main(argv) == 0
    svg = (output / "console.svg").read_text()
    assert "#e4e4dc" in svg and "#1a2230" not in svg  # light theme panels, not noc-dark


def test_screenshots_refuse_an_unknown_theme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["screenshots", "--theme", "sepia", "--output", str(tmp_path)]) == 2
    assert "no theme 'sepia'" in capsys.readouterr().err


@pytest.mark.parametrize("where", [BEFORE, AFTER])
def test_keys_lists_the_given_configs_remaps(
    where: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(arrange(where, ["keys"], ["--config", str(config)])) == 0
    lines = capsys.readouterr().out.splitlines()
    sort = next(line for line in lines if line.startswith("tickets.sort "))
    assert sort.split()[1] == "o" and "(default s)" in sort
