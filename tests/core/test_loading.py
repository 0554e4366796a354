"""The garbage collector is paused while the console loads, and only then."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from paneglass.cli import main
from paneglass.loading import collector_paused, loaded


@pytest.fixture(autouse=True)
def collector_back_on() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


def test_paused_until_loaded_then_frozen_and_collecting() -> None:
    with collector_paused():
        assert not gc.isenabled()
        loaded()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # what was loaded is left out of later collections
    assert gc.isenabled()


def test_a_block_that_ends_before_loaded_resumes_the_collector() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the console failed to start")
    assert gc.isenabled()


def test_a_pause_someone_else_made_is_theirs_to_end() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_a_command_other_than_the_console_collects_as_usual(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import paneglass.cli.keys

    seen: list[bool] = []

    def list_keys(_args: object) -> int:
        seen.append(gc.isenabled())
        return 0

    monkeypatch.setattr(paneglass.cli.keys, "list_keys", list_keys)
    assert main(["keys"]) == 0
    assert seen == [True]  # collecting while it runs (an export or a collector runs for long)
    assert gc.isenabled()
