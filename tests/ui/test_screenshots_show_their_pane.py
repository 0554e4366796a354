"""Each README screenshot shows the pane it is named after (the keys moved once and the
scorecards picture showed the notifications pane)."""

from __future__ import annotations

from pathlib import Path

import pytest

from paneglass.ui import screenshots

TITLES = {"notifications": "Notifications", "scorecards": "Scorecards", "outbox": "Outbox"}


@pytest.mark.parametrize("name", sorted(TITLES))
def test_the_screenshot_shows_its_pane(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shot = next(s for s in screenshots.SHOTS if s[0] == name)
    monkeypatch.setattr(screenshots, "SHOTS", (shot,))
    (path,) = screenshots.write_screenshots(tmp_path)
    text = path.read_text("utf-8").replace("&#160;", " ")
    assert TITLES[name] in text
    others = set(TITLES.values()) - {TITLES[name]}
    assert not any(f">{other}" in text for other in others), f"{name} shows another pane"


def test_every_picture_presses_binding_ids_that_exist() -> None:
    steps = [step for _, _, keys in screenshots.SHOTS for step in keys]
    assert steps and all(screenshots._key(step) for step in steps)
    assert screenshots._key("pane.scorecards") == "7"
