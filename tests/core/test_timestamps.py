"""Every vendor timestamp format parses to aware UTC; junk is refused clearly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.errors import BadPayload
from connectors.http import parse_retry_after
from connectors.timestamps import parse_iso, parse_servicenow


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-04T09:12:44Z", datetime(2025, 3, 4, 9, 12, 44, tzinfo=UTC)),
        ("2022-11-25T15:50:05.892Z", datetime(2022, 11, 25, 15, 50, 5, 892000, tzinfo=UTC)),
        ("2025-03-04T09:12:44.123+0300", datetime(2025, 3, 4, 6, 12, 44, 123000, tzinfo=UTC)),
        ("2019-02-20T13:40:58.586-06:00", datetime(2019, 2, 20, 19, 40, 58, 586000, tzinfo=UTC)),
        ("2021-11-24T12:14:41.03Z", datetime(2021, 11, 24, 12, 14, 41, 30000, tzinfo=UTC)),
    ],
)
def test_iso_variants(text: str, expected: datetime) -> None:
    assert parse_iso(text) == expected


def test_servicenow_raw_is_utc() -> None:
    assert parse_servicenow("2025-03-04 09:02:37") == datetime(2025, 3, 4, 9, 2, 37, tzinfo=UTC)
    assert parse_servicenow("") is None


@pytest.mark.parametrize(
    "junk", ["tickets[0]_due_by", "2002-08-20T18: 04: 26Z", "2025-03-04T09:12:44"]
)
def test_junk_and_missing_offsets_are_refused(junk: str) -> None:
    with pytest.raises(BadPayload):
        parse_iso(junk)


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Sun, 22 Nov 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
