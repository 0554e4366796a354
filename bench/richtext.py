"""Benchmark: HTML to plain text, the library paneglass uses against its alternatives.

Converts a small vendor reply (a paragraph, a link, a list, a quote) and a
4 KB body with each candidate that is importable here and prints the time per
body. ``connectors.richtext`` uses inscriptis: the only candidate that keeps
list items, table rows and link targets readable. Install the others to
compare: ``pip install html-text selectolax beautifulsoup4``.
Prints figures; asserts nothing. ``python bench/richtext.py``.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable

SMALL = (
    "<p>Hello <b>Kim</b>,</p><p>The printer <a href='https://print.acme/49'>queue</a>"
    " shows error 49.4C02.<br>Steps:</p><ul><li>power cycle</li><li>clear queue</li></ul>"
    "<blockquote>On Mon, Ana wrote:<br>is it the VLAN?</blockquote>"
)
LARGE = "<p>" + "line of text <i>with</i> markup<br>" * 120 + "</p>"


def _paneglass(html: str) -> str:
    from connectors.richtext import html_to_text

    return html_to_text(html)


def _html_text(html: str) -> str:
    import html_text  # type: ignore[import-not-found]

    return str(html_text.extract_text(html, guess_layout=True))


def _selectolax(html: str) -> str:
    from selectolax.lexbor import LexborHTMLParser  # type: ignore[import-not-found]

    tree = LexborHTMLParser(html)
    return str(tree.body.text(separator="\n")) if tree.body else ""


def _bs4(html: str) -> str:
    from bs4 import BeautifulSoup  # type: ignore[import-not-found]

    return str(BeautifulSoup(html, "html.parser").get_text("\n"))


CANDIDATES: dict[str, tuple[str, Callable[[str], str]]] = {
    "inscriptis (used)": ("inscriptis", _paneglass),
    "html-text": ("html_text", _html_text),
    "selectolax": ("selectolax", _selectolax),
    "beautifulsoup4": ("bs4", _bs4),
}


def _per_call(convert: Callable[[str], str], body: str, rounds: int) -> float:
    convert(body)
    started = time.perf_counter()
    for _ in range(rounds):
        convert(body)
    return (time.perf_counter() - started) / rounds * 1000


def main() -> None:
    """Print ms per small body and per 4 KB body for each importable candidate."""
    print(f"{'library':<20} {'small body':>12} {'4 KB body':>12}")
    for name, (module, convert) in CANDIDATES.items():
        if importlib.util.find_spec(module) is None:
            print(f"{name:<20} {'not installed':>12}")
            continue
        small, large = _per_call(convert, SMALL, 500), _per_call(convert, LARGE, 50)
        print(f"{name:<20} {small:>9.3f} ms {large:>9.3f} ms")
    print("\ninscriptis output for the small body:\n" + _paneglass(SMALL))


if __name__ == "__main__":
    main()
