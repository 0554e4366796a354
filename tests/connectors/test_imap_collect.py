"""The IMAP vendor end to end: a TOML config section, paneglass's collector, its store.

What paneglass already does with the records today (mail items in the queue,
the poll's cursor, health); what it still has to do with ``raw["links"]`` and
the entries is described in the connector's report, not here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.emulators._dovecot import DovecotServer
from paneglass.collect import Collector
from paneglass.config import parse_config
from paneglass.errors import UserError
from paneglass.store import Store, TicketQuery
from tests.connectors.test_imap_helpers import mail, running_dovecot


@pytest.fixture
def server() -> Iterator[DovecotServer]:
    with running_dovecot() as running:
        yield running


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'mail.db'}")
    yield s
    s.close()


def _config(server: DovecotServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.setenv("IMAP_PASSWORD", server.users["desk"])
    return {
        "vendors": {
            "mail": {
                "kind": "imap",
                "base_url": server.base_url,
                "username": "desk",
                "password": "${IMAP_PASSWORD}",
                "starttls": False,
                "poll_interval": 30,
                "match": {"hosting": "servicenow", "desktop": "zendesk"},
            }
        }
    }


async def test_a_configured_mailbox_fills_the_queue_with_mail_items(
    server: DovecotServer, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.append(mail("Cannot print, 49.4C02", message_id="p1@acme"))
    server.append(mail("Re: Cannot print, 49.4C02", message_id="p2@acme", references=["p1@acme"]))
    server.append(mail("INC0012231 has been updated", message_id="sn@hosting"), flags=[r"\Seen"])
    config = parse_config(_config(server, monkeypatch))
    (vendor,) = config.vendors
    store.sync_vendors(config.vendors)
    collector = Collector(store, config.vendors)
    outcome = await collector.poll_once(vendor.name)
    await collector.aclose()
    assert outcome.ok, outcome.error
    assert store.ticket_count(TicketQuery()) == 2
    rows = {row["external_id"]: row for row in store.iter_tickets()}
    assert rows["p1@acme"]["title"] == "Cannot print, 49.4C02"
    assert rows["p1@acme"]["status"] == "new" and rows["sn@hosting"]["status"] == "open"
    assert rows["p1@acme"]["url"].startswith(f"imap://127.0.0.1:{server.port}/INBOX;")
    cursor = store.load_cursor("mail")
    assert cursor is not None and cursor["incremental"]["uid"] == 3

    server.append(mail("Re: Re: Cannot print", message_id="p3@acme", references=["p1@acme"]))
    collector = Collector(store, config.vendors)
    again = await collector.poll_once(vendor.name)
    await collector.aclose()
    assert again.ok and again.records > 0
    assert store.ticket_count(TicketQuery()) == 2  # the reply joined its thread's item


def test_the_raw_links_reach_the_store_as_json(
    server: DovecotServer, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    server.append(mail("Re: INC0012231 printer [#48211]", message_id="l@acme"))
    config = parse_config(_config(server, monkeypatch))
    store.sync_vendors(config.vendors)

    async def poll() -> None:
        collector = Collector(store, config.vendors)
        assert (await collector.poll_once("mail")).ok
        await collector.aclose()

    asyncio.run(poll())
    with store.engine.connect() as conn:
        from sqlalchemy import text

        raw = conn.execute(text("select raw from ticket where external_id = 'l@acme'")).scalar()
    links = json.loads(raw)["links"]
    assert [(link["vendor"], link["key"]) for link in links] == [
        ("hosting", "INC0012231"),
        ("desktop", "#48211"),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"base_url": "https://mail.acme.example"}, "base_url must be imaps://"),
        ({"match": {"desktop": "freshdesk"}}, "unknown pattern 'freshdesk'"),
        ({"password": None}, "needs username\\+password or username\\+oauth_token"),
    ],
)
def test_config_errors_are_one_clear_line(
    server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, object],
    message: str,
) -> None:
    data = _config(server, monkeypatch)
    section = data["vendors"]["mail"]  # type: ignore[index]
    for key, value in change.items():
        if value is None:
            section.pop(key)
        else:
            section[key] = value
    with pytest.raises(UserError, match=message) as caught:
        parse_config(data)
    assert server.users["desk"] not in str(caught.value)
