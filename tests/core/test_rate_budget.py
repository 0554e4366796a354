"""Pacing from the vendor's rate-limit headers, over real loopback HTTP."""

from __future__ import annotations

import time
from typing import Any

import httpx2

from connectors.emulators.base import Emulator, Reply, Request
from connectors.http import RateBudget, RateHeaders, send


class _Budgeted(Emulator):
    """Answers with a shrinking budget that resets one second later."""

    kind = "test"

    def __init__(self) -> None:
        super().__init__()
        self.left = 3

    def route(self, request: Request) -> Reply:
        self.left = max(self.left - 1, 0)
        return Reply(
            200,
            {"ok": True},
            headers={
                "X-Rate-Limit": "10",
                "X-Rate-Limit-Remaining": str(self.left),
                "Retry-Reset": "1",
            },
        )

    def vendor_settings(self) -> dict[str, Any]:
        return {"kind": "test"}


async def test_pacer_waits_for_the_reset_when_the_budget_runs_low() -> None:
    budget = RateBudget(RateHeaders("x-rate-limit-remaining", "x-rate-limit", "retry-reset"))
    with _Budgeted() as emu:
        async with httpx2.AsyncClient(base_url=emu.base_url) as client:
            started = time.monotonic()
            await send(client, "GET", "/a", budget=budget)  # 2 left of 10: above the floor
            await send(client, "GET", "/a", budget=budget)  # remaining 1: at the floor
            assert budget.delay() > 0.5
            await send(client, "GET", "/a", budget=budget)  # waits for the reset
            assert time.monotonic() - started >= 0.9
            assert budget.waited >= 0.9


def test_budget_ignores_missing_and_garbage_headers() -> None:
    budget = RateBudget(RateHeaders("x-remaining", "x-limit", "x-reset", "epoch"))
    budget.observe({})
    assert budget.delay() == 0.0
    budget.observe({"x-remaining": "lots", "x-limit": "100"})
    assert budget.delay() == 0.0
    budget.observe({"x-remaining": "50", "x-limit": "100", "x-reset": str(int(time.time()) + 30)})
    assert budget.delay() == 0.0
    budget.observe({"x-remaining": "0", "x-limit": "100", "x-reset": str(int(time.time()) + 30)})
    assert 25 < budget.delay() <= 30


class _ResetOnly(Emulator):
    """A 429 with no Retry-After, only the vendor's reset header."""

    kind = "test"

    def route(self, request: Request) -> Reply:
        return Reply(429, {"error": "slow down"}, headers={"X-Remaining": "0", "X-Reset": "17"})

    def vendor_settings(self) -> dict[str, Any]:
        return {"kind": "test"}


async def test_a_429_without_retry_after_waits_for_the_vendor_reset() -> None:
    from connectors.errors import RateLimited

    budget = RateBudget(RateHeaders("x-remaining", reset="x-reset"))
    with _ResetOnly() as emu:
        async with httpx2.AsyncClient(base_url=emu.base_url) as client:
            try:
                await send(client, "GET", "/", budget=budget)
            except RateLimited as exc:
                assert exc.retry_after == 17.0
            else:
                raise AssertionError("a 429 must raise RateLimited")
