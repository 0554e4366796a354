"""The filter language: words, fields, alternatives, inversion, regex, clear errors."""

from __future__ import annotations

import pytest

from paneglass.store.filter import FilterError, Term, parse_filter


def test_words_fields_and_inversion() -> None:
    terms = parse_filter('cannot print vendor:hosting,desktop -status:closed prio:1 "error 49"')
    assert terms == (
        Term("text", ("cannot",)),
        Term("text", ("print",)),
        Term("vendor", ("hosting", "desktop"), exact=True),
        Term("status", ("closed",), negated=True, exact=True),
        Term("priority", ("P1",), exact=True),
        Term("text", ("error 49",)),
    )


def test_regex_and_sla_terms() -> None:
    terms = parse_filter(r"/49\.4C0[0-9]/ !sla:risk assignee:kim")
    assert terms[0] == Term("regex", (r"49\.4C0[0-9]",))
    assert terms[1] == Term("sla", ("at_risk",), negated=True, exact=True)
    assert terms[2] == Term("assignee", ("kim",))


def test_urls_and_times_are_words_not_fields() -> None:
    assert parse_filter("http://x.example")[0].field == "text"
    assert parse_filter("10:30")[0].field == "text"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour:red", "unknown field 'colour'"),
        ("status:", "needs a value"),
        ("/[unclosed/", "bad regular expression"),
        ('"open quote', "unbalanced quotes"),
        ("sla:late", "sla: is breached"),
    ],
)
def test_errors_say_why(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        parse_filter(text)
