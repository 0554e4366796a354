"""Rich text to safe plain text: HTML, Jira ADF, Markdown and e-mail quoting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.records import ConversationEntry, Visibility
from connectors.richtext import adf_to_text, fold_quoted, html_to_text, markdown_to_text
from tests.hostile import HOSTILE_STRINGS, has_forbidden

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_html_keeps_layout_lists_and_link_targets_as_text() -> None:
    html = (
        "<p>Hello <b>Kim</b>,</p><p>The <a href='https://print.acme/49'>queue</a>"
        " shows 49.4C02.<br>Steps:</p><ul><li>power cycle</li><li>clear queue</li></ul>"
        "<script>alert(1)</script><style>p{color:red}</style>"
    )
    text = html_to_text(html)
    assert text.startswith("Hello Kim,")
    assert "https://print.acme/49" in text and "queue" in text
    assert "power cycle" in text and "clear queue" in text
    assert text.index("power cycle") < text.index("clear queue")
    assert "alert(1)" not in text and "color:red" not in text
    assert "<b>" not in text and "<p>" not in text


def test_html_entities_become_plain_characters_never_markup() -> None:
    assert html_to_text("<p>&lt;b&gt;bold&lt;/b&gt; &amp; more</p>") == "<b>bold</b> & more"


def test_html_table_rows_stay_on_their_own_lines() -> None:
    text = html_to_text(
        "<table><tr><td>Host</td><td>gp-app-01</td></tr><tr><td>CPU</td></tr></table>"
    )
    host, cpu = text.split("\n")[:2]
    assert "Host" in host and "gp-app-01" in host and "CPU" in cpu


def test_plain_text_without_tags_is_only_tidied() -> None:
    assert html_to_text("one\r\n\r\n\r\n\r\ntwo  \n") == "one\n\ntwo"


def test_adf_paragraphs_lists_mentions_links_and_quotes() -> None:
    document = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "mention", "attrs": {"id": "1", "text": "@Ana Ruiz"}},
                    {"type": "text", "text": " the VLAN is "},
                    {"type": "text", "text": "down", "marks": [{"type": "strong"}]},
                    {"type": "hardBreak"},
                    {
                        "type": "text",
                        "text": "runbook",
                        "marks": [{"type": "link", "attrs": {"href": "https://wiki.acme/vlan"}}],
                    },
                ],
            },
            {
                "type": "bulletList",
                "content": [
                    {
                        "type": "listItem",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "one"}]}
                        ],
                    },
                    {
                        "type": "listItem",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "two"}]}
                        ],
                    },
                ],
            },
            {
                "type": "blockquote",
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "old"}]}],
            },
        ],
    }
    text = adf_to_text(document)
    assert text.startswith("@Ana Ruiz the VLAN is down\nrunbook [https://wiki.acme/vlan]")
    assert "• one" in text and "• two" in text
    assert "> old" in text


@pytest.mark.parametrize("garbage", [None, "text", {"type": "doc", "content": "nope"}, {}])
def test_adf_garbage_gives_empty_text_not_an_error(garbage: object) -> None:
    assert adf_to_text(garbage) == ""  # type: ignore[arg-type]


def test_markdown_is_kept_readable_not_rendered() -> None:
    assert markdown_to_text("**bold** [link](https://x.example)\n\n\n\nnext") == (
        "**bold** [link](https://x.example)\n\nnext"
    )


def test_fold_quoted_splits_an_email_reply_from_what_it_quotes() -> None:
    reply, quoted = fold_quoted(
        "Thanks, the VLAN is fixed now.\n\n"
        "On Mon, 30 Nov 2026 at 09:12, Ana Ruiz <ana@acme.example> wrote:\n"
        "> Is it the printer VLAN?\n"
    )
    assert reply == "Thanks, the VLAN is fixed now."
    assert "Is it the printer VLAN?" in quoted and "wrote:" in quoted


def test_fold_quoted_outlook_original_message() -> None:
    reply, quoted = fold_quoted(
        "Power cycled it.\n\n-----Original Message-----\nFrom: Kim Lee\nSent: Monday\n\n49.4C02"
    )
    assert reply == "Power cycled it." and "49.4C02" in quoted


def test_fold_quoted_leaves_unquoted_text_whole() -> None:
    assert fold_quoted("Line one\nLine two") == ("Line one\nLine two", "")


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
def test_hostile_text_through_every_converter_and_the_record_is_safe(hostile: str) -> None:
    bodies = [
        html_to_text(f"<p>{hostile}</p>"),
        adf_to_text(
            {
                "type": "doc",
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": hostile}]}],
            }
        ),
        markdown_to_text(hostile),
        fold_quoted(hostile)[0],
    ]
    for body in bodies:
        entry = ConversationEntry(
            ticket_external_id="1",
            external_id="c1",
            created_at=AT,
            visibility=Visibility.PUBLIC,
            body=body,
            raw_body=hostile,
        )
        assert not has_forbidden(entry.body)
        assert not has_forbidden(entry.raw_body)
