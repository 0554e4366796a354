"""Config: ${VAR} secrets from the environment, one clear line for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from paneglass.cli import main
from paneglass.config import load_config
from paneglass.errors import UserError

GOOD = """
[display]
timezone = "Europe/London"
theme = "light"

[vendors.hosting]
kind = "statuspage"
base_url = "http://127.0.0.1:9"
poll_interval = 30

[vendors.desk]
kind = "zendesk"
base_url = "http://127.0.0.1:9"
email = "desk@acme.example"
api_token = "${PG_TEST_TOKEN}"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_good_config_expands_secrets_and_keeps_them_out_of_repr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PG_TEST_TOKEN", "tok-123-secret")
    config = load_config(write(tmp_path, GOOD))
    assert config.display.timezone == "Europe/London"
    desk = config.vendor("desk")
    assert desk.require("api_token") == "tok-123-secret"
    assert config.vendor("hosting").poll_interval == 30.0
    assert "tok-123-secret" not in repr(config)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[vendors.x]\nkind = 'nope'\nbase_url = 'http://h'", "unknown vendor kind 'nope'"),
        ("[vendors.x]\nbase_url = 'http://h'", "needs kind"),
        ("[vendors.x]\nkind = 'statuspage'", "needs base_url"),
        ("[vendors.x]\nkind = 'statuspage'\nbase_url = 'ftp://h'", "must start with http"),
        ("[vendors.x]\nkind = 'zendesk'\nbase_url = 'http://h'", "needs email+api_token"),
        (
            "[vendors.x]\nkind = 'statuspage'\nbase_url = 'http://h'\npoll_interval = 0",
            "poll_interval",
        ),
        ("[display]\ntimezone = 'Mars/Olympus'", "not a known zone"),
        ("[displya]\n", "unknown section"),
        (
            "[vendors.x]\nkind = 'zendesk'\nbase_url = 'http://h'\nemail='e'\napi_token='${PG_MISSING_VAR}'",
            "PG_MISSING_VAR",
        ),
        ("this is = = not toml", "not valid TOML"),
    ],
)
def test_mistakes_are_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("+", r"\+").replace("(", r"\(")):
        load_config(write(tmp_path, text))


def test_cli_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[vendors.x]\nkind = 'nope'\nbase_url = 'http://h'")
    assert main(["check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("paneglass: error:") and "Traceback" not in err


def test_missing_config_for_collect_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["collect", "--once", "--config", str(tmp_path / "absent.toml")]) == 2
    assert "cannot read config" in capsys.readouterr().err


def test_bad_database_url_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--format", "json", "--db", "not a url"]) == 2
    assert "not a database URL" in capsys.readouterr().err


SLA = """
[vendors.hosting]
kind = "statuspage"
base_url = "http://127.0.0.1:9"

[sla]
thresholds = [0.6, 0.8]

[sla.calendars.office]
timezone = "Europe/London"
hours = { mon = "08:00-18:00", tue = "08:00-18:00", sat = "09:00-13:00" }
holidays = ["2026-12-24"]
country = "GB"
subdivision = "ENG"

[[sla.policies]]
name = "hosting urgent"
vendors = ["hosting"]
priorities = ["P1", "P2"]
response = "15m"
resolution = "1h30m"
calendar = "office"
pause_raw_statuses = ["Awaiting Vendor"]

[[sla.policies]]
name = "everything else"
resolution = "3d"
"""


def test_sla_section_builds_calendars_and_ordered_policies(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SLA))
    first, second = config.sla.policies
    assert first.name == "hosting urgent" and first.resolution is not None
    assert first.resolution.total_seconds() == 5400 and first.thresholds == (0.6, 0.8)
    assert first.calendar.week is not None and first.calendar.week[5] is not None
    assert first.calendar.country == "GB" and "awaiting vendor" in first.pause_raw_statuses
    assert config.sla.match("hosting", "P1", None) is first
    assert config.sla.match("hosting", "P4", None) is second
    assert second.calendar.always_open and second.response is None


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("[[sla.policies]]\nname='x'\nresolution='4 hours'", "not a duration"),
        ("[[sla.policies]]\nname='x'", "needs a response or a resolution"),
        ("[[sla.policies]]\nname='x'\nresolution='4h'\ncalendar='nope'", "not defined"),
        ("[[sla.policies]]\nname='x'\nresolution='4h'\npriority='urgent'", "P1..P5"),
        ("[[sla.policies]]\nname='x'\nresolution='4h'\nvendor='ghost'", "unknown vendor"),
        ("[sla.calendars.c]\nhours='08:00-08:00'", "opens and closes at the same time"),
        ("[sla.calendars.c]\ncountry='XX'", "no public holidays"),
        ("[sla]\nthresholds=[0.9, 0.5]", "rising shares"),
    ],
)
def test_sla_mistakes_are_one_clear_line(tmp_path: Path, snippet: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        load_config(write(tmp_path, snippet))


def test_stale_after_is_per_vendor_and_checked(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path, '[vendors.h]\nkind = "statuspage"\nbase_url = "http://h"\nstale_after = 5\n'
        )
    )
    assert config.vendor("h").stale_after == 5.0
    with pytest.raises(UserError, match="stale_after"):
        load_config(
            write(
                tmp_path,
                '[vendors.h]\nkind = "statuspage"\nbase_url = "http://h"\nstale_after = 0\n',
            )
        )
