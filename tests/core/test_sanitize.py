"""The one sanitising path: every hostile string comes out safe, and text survives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.records import Priority, TicketRecord, TicketStatus
from connectors.sanitize import clean_text, one_line
from tests.hostile import HOSTILE_STRINGS, has_forbidden


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_hostile_strings_lose_every_control_character(text: str) -> None:
    cleaned = clean_text(text)
    assert not has_forbidden(cleaned)
    assert "\x1b" not in cleaned
    cleaned.encode("utf-8")  # lone surrogates are gone: always encodable


def test_readable_text_is_kept() -> None:
    assert clean_text("Disk [/var] full") == "Disk [/var] full"
    assert clean_text("clear \x1b[2J screen") == "clear [2J screen"
    assert clean_text("wide 🖨️ 打印机") == "wide 🖨️ 打印机"
    assert clean_text("a\r\nb\rc") == "a\nb\nc"
    assert clean_text("lone \ud800") == "lone \ufffd"


def test_one_line_collapses_and_truncates() -> None:
    assert one_line("a\n\tb   c") == "a b c"
    assert one_line("abcdefgh", 5) == "abcd…"


@given(st.text())
def test_clean_text_never_leaves_a_forbidden_character(text: str) -> None:
    assert not has_forbidden(clean_text(text))


def test_records_clean_their_own_text() -> None:
    now = datetime.now(UTC)
    record = TicketRecord(
        external_id="1",
        key="K\x1b[31m",
        title="\x1b]52;c;eA==\x07t\u202eitle",
        status=TicketStatus.OPEN,
        raw_status="open\x9b",
        priority=Priority.P1,
        raw_priority="1",
        created_at=now,
        updated_at=now,
        assignee="a\x00b",
    )
    assert record.title == "]52;c;eA==title"
    assert record.key == "K[31m"
    assert record.raw_status == "open"
    assert record.assignee == "ab"
    assert record.status is TicketStatus.OPEN


def test_records_refuse_naive_times() -> None:
    naive = datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        TicketRecord(
            external_id="1",
            key="K",
            title="t",
            status=TicketStatus.OPEN,
            raw_status="o",
            priority=None,
            raw_priority=None,
            created_at=naive,
            updated_at=naive,
        )
