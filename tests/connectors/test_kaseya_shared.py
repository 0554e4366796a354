"""What the two Kaseya connectors share: the sliding-window pacer and the token auth flow."""

from __future__ import annotations

import asyncio

import pytest

from connectors.base import VendorConfig
from connectors.emulators.datto_rmm import DattoRmmEmulator
from connectors.emulators.kaseya_bms import KaseyaBmsEmulator
from connectors.errors import RateLimited
from connectors.kaseya.auth import Token
from connectors.kaseya.bms import KaseyaBmsConnector
from connectors.kaseya.datto_rmm import DattoRmmConnector
from connectors.kaseya.pacing import WindowBudget


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_admits_its_allowance_then_names_the_wait() -> None:
    clock = Clock()
    budget = WindowBudget(window=60, allowance=3, clock=clock)
    for step in range(3):
        assert budget.delay() == 0
        budget._sent.append(clock.now)
        clock.now += 10 * (step + 1)  # sent at 1000, 1010, 1030; now 1060
    assert budget.used() == 2  # the first has left the window at exactly 60 s
    budget._sent.append(clock.now)
    assert budget.delay() == pytest.approx(10.0)  # until 1010 ages out at 1070


def test_others_requests_count_until_a_window_has_passed() -> None:
    clock = Clock()
    budget = WindowBudget(window=60, allowance=10, clock=clock)
    budget._sent.extend([clock.now] * 2)
    budget.calibrate(account_count=9, allowance=9)  # the vendor counted 9; 2 were ours
    assert (budget.external, budget.used(), budget.allowance) == (7, 9, 9)
    assert budget.delay() == pytest.approx(60.0)  # ours leave at 1060, theirs at 1060
    clock.now += 61
    assert budget.used() == 0 and budget.delay() == 0


async def test_a_short_wait_is_slept_and_a_long_one_raises_with_its_retry_after() -> None:
    budget = WindowBudget(window=0.2, allowance=1, max_wait=1.0)
    await budget.wait()
    await budget.wait()  # slept about 0.2 s for the first to age out
    assert 0.1 < budget.waited <= 0.2
    slow = WindowBudget(window=3600, allowance=1, max_wait=1.0, what="BMS GET /x")
    await slow.wait()
    with pytest.raises(RateLimited, match=r"BMS GET /x: 1 per 3600 s spent") as info:
        await slow.wait()
    assert info.value.http_status is None and 3590 < (info.value.retry_after or 0) <= 3600


def test_a_token_never_shows_itself() -> None:
    token = Token("eyJ.secret.sig", 3600.0, "refresh-secret")
    assert "secret" not in repr(token)


async def test_concurrent_requests_fetch_one_datto_token() -> None:
    with DattoRmmEmulator() as emu:
        values = emu.vendor_settings()
        values.pop("kind")
        config = VendorConfig("rmm", "datto-rmm", emu.base_url, settings=values)
        async with DattoRmmConnector.make_client(config) as client:
            rmm = DattoRmmConnector(config, client)
            answers = await asyncio.gather(*(rmm.check() for _ in range(8)))
    assert set(answers) == {"ok, account Acme Managed Services"}
    assert emu.token_requests == 1


async def test_concurrent_requests_sign_in_to_bms_once() -> None:
    with KaseyaBmsEmulator() as emu:
        values = emu.vendor_settings()
        values.pop("kind")
        config = VendorConfig("psa", "kaseya-bms", emu.base_url, settings=values)
        async with KaseyaBmsConnector.make_client(config) as client:
            bms = KaseyaBmsConnector(config, client)
            await asyncio.gather(*(bms.check() for _ in range(8)))
            emu.expire_tokens()
            await asyncio.gather(*(bms.check() for _ in range(8)))  # all 401: one new sign-in
    assert emu.sign_ins == 2
