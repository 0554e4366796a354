"""The connector kit's shared parts: settings parsing, the two-phase cursor, bounded fan-out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from connectors.base import Connector, VendorConfig
from connectors.errors import ConfigurationError, ConnectorError, RateLimited
from connectors.fanout import Limiter, fan_out
from connectors.records import (
    ConversationEntry,
    Cursor,
    PollResult,
    Priority,
    Progress,
    TicketRecord,
    TicketStatus,
    Visibility,
)
from connectors.settings import ConnectorSettings, SecretStr, secret
from connectors.sync import SyncState

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


class DemoSettings(ConnectorSettings):
    credential_sets = (("username", "password"), ("token",))
    username: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None


def test_settings_parse_typed_values_once() -> None:
    settings = DemoSettings.parse(
        "hosting",
        "demo",
        {"username": "svc", "password": "s3cret", "page_size": "250", "backfill_days": 7},
    )
    assert settings.page_size == 250
    assert settings.backfill == timedelta(days=7)
    assert secret(settings.password) == "s3cret"
    assert "s3cret" not in repr(settings)


def test_settings_refuse_unknown_key_and_name_it() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown setting 'pagesize'"):
        DemoSettings.parse("hosting", "demo", {"token": "t", "pagesize": 5})


@pytest.mark.parametrize(
    ("key", "value"),
    [("page_size", 0), ("page_size", "abc"), ("page_size", 5000), ("backfill_days", -1)],
)
def test_settings_refuse_bad_numbers_by_key(key: str, value: object) -> None:
    with pytest.raises(ConfigurationError, match=rf"'hosting' \(demo\): {key}:"):
        DemoSettings.parse("hosting", "demo", {"token": "t", key: value})


def test_settings_need_one_credential_set() -> None:
    with pytest.raises(ConfigurationError, match=r"needs username\+password or token"):
        DemoSettings.parse("hosting", "demo", {"username": "svc", "password": ""})


def test_settings_error_never_echoes_a_secret() -> None:
    with pytest.raises(ConfigurationError) as caught:
        DemoSettings.parse("hosting", "demo", {"token": "hunter2", "page_size": "hunter2"})
    assert "hunter2" not in str(caught.value)


def test_settings_overrides_are_validated_and_case_insensitive() -> None:
    settings = DemoSettings.parse(
        "hosting",
        "demo",
        {"token": "t", "status_map": {"Awaiting Vendor": "Pending"}, "priority_map": {"2": "p1"}},
    )
    assert settings.status_map == {"awaiting vendor": TicketStatus.PENDING}
    assert settings.priority_map == {"2": Priority.P1}
    with pytest.raises(ConfigurationError, match="status_map"):
        DemoSettings.parse("hosting", "demo", {"token": "t", "status_map": {"x": "sleeping"}})


def test_sync_state_fresh_cursor_starts_a_backfill() -> None:
    state = SyncState.load(None, NOW)
    assert state.backfill is not None and state.backfill.started == NOW
    assert state.incremental is None


def test_sync_state_round_trips_and_counts_across_restarts() -> None:
    state = SyncState.load(None, NOW).backfill_advanced({"after": "100"}, 100, 400)
    state = SyncState.load(state.dump(), NOW + timedelta(hours=1))
    state = state.backfill_advanced({"after": "200"}, 100, None)
    assert state.backfill is not None
    assert (state.backfill.position, state.backfill.done, state.backfill.total) == (
        {"after": "200"},
        200,
        400,
    )
    assert state.backfill.started == NOW  # a restart keeps the original start


def test_sync_state_incremental_starts_where_the_backfill_began() -> None:
    state = SyncState.load(None, NOW).backfill_finished(timedelta(seconds=60))
    assert state.backfill is None
    assert state.incremental_from == NOW - timedelta(seconds=60)
    state = SyncState.load(state.incremental_advanced({"since": "x"}).dump(), NOW)
    assert state.incremental == {"since": "x"} and state.incremental_from is None


def test_sync_state_legacy_cursor_is_kept_and_backfilled_once() -> None:
    state = SyncState.load({"since": "2026-11-01T00:00:00+00:00"}, NOW)
    assert state.incremental == {"since": "2026-11-01T00:00:00+00:00"}
    assert state.backfill is not None
    finished = state.backfill_finished(timedelta(0))
    assert finished.incremental == {"since": "2026-11-01T00:00:00+00:00"}


async def test_fan_out_is_bounded_and_keeps_order() -> None:
    limiter = Limiter(4)

    async def fetch(item: int) -> int:
        await asyncio.sleep(0.01 * (item % 3))
        return item * 10

    results = await fan_out(range(40), fetch, limiter)
    assert results == [i * 10 for i in range(40)]
    assert limiter.peak == 4


async def test_fan_out_overlaps_slow_requests() -> None:
    async def fetch(item: int) -> int:
        await asyncio.sleep(0.05)
        return item

    loop = asyncio.get_running_loop()
    started = loop.time()
    await fan_out(range(16), fetch, Limiter(8))
    assert loop.time() - started < 0.05 * 16 / 2  # far less than one after another


async def test_fan_out_waits_out_a_short_429() -> None:
    calls: dict[int, int] = {}

    async def fetch(item: int) -> int:
        calls[item] = calls.get(item, 0) + 1
        if item == 3 and calls[item] == 1:
            raise RateLimited("HTTP 429", retry_after=0.01, http_status=429)
        return item

    assert await fan_out(range(5), fetch, Limiter(2)) == [0, 1, 2, 3, 4]
    assert calls[3] == 2


async def test_fan_out_raises_the_first_real_error_not_a_group() -> None:
    async def fetch(item: int) -> int:
        if item == 2:
            raise ConnectorError("HTTP 500", http_status=500)
        await asyncio.sleep(0.01)
        return item

    with pytest.raises(ConnectorError, match="HTTP 500"):
        await fan_out(range(5), fetch, Limiter(5))


async def test_fan_out_gives_up_on_a_long_retry_after() -> None:
    async def fetch(item: int) -> int:
        raise RateLimited("HTTP 429", retry_after=600, http_status=429)

    with pytest.raises(RateLimited):
        await fan_out([1], fetch, Limiter(1))


def test_sync_state_history_walk_round_trips_and_finishes() -> None:
    state = SyncState.load(None, NOW)
    assert state.history is not None and state.history.started == NOW
    state = state.backfill_finished(timedelta(0)).history_advanced({"after": "9"}, 100, 300)
    state = SyncState.load(state.dump(), NOW + timedelta(hours=1))
    assert state.history is not None
    assert (state.history.position, state.history.done, state.history.total) == (
        {"after": "9"},
        100,
        300,
    )
    assert SyncState.load(state.history_finished().dump(), NOW).history is None


class _Listed(Connector):
    """A contract test's connector: its 'vendor' is three lists in memory (no HTTP)."""

    kind = "listed"
    Settings = DemoSettings

    def __init__(self, config: VendorConfig) -> None:
        super().__init__(config, httpx2.AsyncClient())
        self.history_reads: list[int] = []

    async def check(self) -> str:
        return "ok"

    async def backfill_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncIterator[PollResult]:
        start = (position or {}).get("after", 0)
        for n in range(start, 4):
            yield PollResult(tickets=(_record(n),), cursor={"after": n + 1})

    async def incremental_pages(
        self, position: Cursor | None, start: datetime
    ) -> AsyncIterator[PollResult]:
        yield PollResult(cursor={"since": "x"})

    async def history_pages(
        self, position: Cursor | None, started: datetime
    ) -> AsyncGenerator[PollResult, None]:
        for n in range((position or {}).get("after", 0), 4):
            self.history_reads.append(n)
            entry = ConversationEntry(str(n), f"c{n}", NOW, Visibility.PUBLIC, "reply")
            yield PollResult(
                entries=(entry,), cursor={"after": n + 1}, progress=Progress("history", 1, 4)
            )


def _record(n: int) -> TicketRecord:
    return TicketRecord(str(n), f"L-{n}", "t", TicketStatus.OPEN, "open", None, None, NOW, NOW)


async def test_the_history_walk_follows_the_backfill_a_bounded_number_of_pages_a_poll() -> None:
    config = VendorConfig(
        "v",
        "listed",
        "http://127.0.0.1:9",
        settings={"token": "t", "history_pages_per_poll": 3},
    )
    connector = _Listed(config)
    first = [page async for page in connector.pages(None)]
    phases = [page.progress.phase if page.progress else None for page in first]
    # four backfill pages and the end of the phase, then incremental, then three history pages
    assert phases == ["backfill"] * 5 + ["incremental"] + ["history"] * 3
    assert connector.history_reads == [0, 1, 2]
    cursor = first[-1].cursor
    second = [page async for page in connector.pages(cursor)]
    assert connector.history_reads == [0, 1, 2, 3], "the walk resumed, not restarted"
    assert second[-1].progress == Progress("history", 4, 4)
    assert SyncState.load(second[-1].cursor, NOW).history is None
    third = [page async for page in connector.pages(second[-1].cursor)]
    assert [p.progress.phase for p in third if p.progress] == ["incremental"]
    await connector.client.aclose()
