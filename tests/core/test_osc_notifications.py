"""Desktop notifications (OSC 9 / OSC 777) never carry vendor text that could escape them."""

from __future__ import annotations

import re

import pytest

from paneglass.notify.osc import desktop_sequences, osc_safe, tmux_wrap
from tests.hostile import HOSTILE_STRINGS, has_forbidden

_FRAME = re.compile(
    r"^\x1b\]9;([^\x1b\x07]*)\x1b\\\x1b\]777;notify;([^;\x1b\x07]*);([^;\x1b\x07]*)\x1b\\$"
)


@pytest.mark.parametrize("text", HOSTILE_STRINGS, ids=range(len(HOSTILE_STRINGS)))
def test_hostile_text_stays_inside_its_field(text: str) -> None:
    sequence = desktop_sequences(f"paneglass {text}", text)
    match = _FRAME.match(sequence)
    assert match is not None, repr(sequence[:200])
    for field in match.groups():
        assert not has_forbidden(field)
        assert "\x07" not in field and "\x1b" not in field and ";" not in field
    assert sequence.count("\x1b") == 4, "only our own two OSC starts and two STs"
    assert "\x07" not in sequence, "BEL is the bell's alone"


def test_a_leading_number_cannot_become_a_progress_command() -> None:
    # Windows Terminal reads "OSC 9 ; 4 ; …" as ConEmu's progress bar.
    assert not osc_safe("4;1;50 done")[:1].isdigit()


def test_tmux_passthrough_doubles_every_escape() -> None:
    inner = desktop_sequences("t", "b")
    wrapped = desktop_sequences("t", "b", in_tmux=True)
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]9;")
    assert wrapped.count("\x1bPtmux;") == 2
    assert tmux_wrap("\x1b]9;x\x1b\\") == "\x1bPtmux;\x1b\x1b]9;x\x1b\x1b\\\x1b\\"
    assert len(wrapped) > len(inner)
