"""Themes shipped with paneglass, and the app colours every theme may override.

Each theme is a Textual :class:`~textual.theme.Theme`; paneglass-specific
colours (SLA states, priorities, vendor freshness, write-back states) are
theme *variables*, so ``themes/paneglass.tcss`` and the state tables of
``paneglass/ui/states.py`` use ``$sla-breached`` under every theme. No colour
is written anywhere else.
"""

from __future__ import annotations

from pathlib import Path

from textual.theme import Theme

__all__ = ["BUILTIN_THEMES", "DEFAULT_THEME", "STYLESHEET", "VARIABLE_DEFAULTS"]

STYLESHEET = Path(__file__).parent / "paneglass.tcss"
DEFAULT_THEME = "noc-dark"

VARIABLE_DEFAULTS: dict[str, str] = {
    "sla-breached": "#ff5f5f",
    "sla-at-risk": "#ffaf00",
    "sla-near-breach": "#ff8700",
    "sla-ok": "#5fd787",
    "priority-1": "#ff5f5f",
    "priority-2": "#ffaf00",
    "priority-3": "#d7d787",
    "priority-4": "#87afd7",
    "priority-5": "#8a8a8a",
    "vendor-fresh": "#5fd787",
    "vendor-stale": "#ffaf00",
    "vendor-failing": "#ff5f5f",
    "demo-banner": "#d75fd7",
    # The write-back states keep the green and red the outbox has always shown on noc-dark.
    "outbox-sent": "#98e024",
    "outbox-failed": "#f4005f",
    "notify-unacked": "#ff8700",
    # Scorecards: a figure better or worse than the previous period (glyphs ▲ ▼ carry it too).
    "metric-better": "#5fd787",
    "metric-worse": "#ff5f5f",
    # Conversation entries: a reply the requester sees, a note only agents see.
    "entry-public": "#5fafd7",
    "entry-internal": "#d7af5f",
}

BUILTIN_THEMES: dict[str, Theme] = {
    theme.name: theme
    for theme in (
        Theme(
            name="noc-dark",
            primary="#5fafd7",
            secondary="#8787d7",
            accent="#d7af5f",
            warning="#ffaf00",
            error="#ff5f5f",
            success="#5fd787",
            foreground="#d0d0d0",
            background="#0b0f14",
            surface="#121820",
            panel="#1a2230",
            dark=True,
        ),
        Theme(
            name="light",
            primary="#005f87",
            secondary="#5f5faf",
            accent="#875f00",
            warning="#af5f00",
            error="#c00000",
            success="#007f3f",
            foreground="#1c1c1c",
            background="#f4f4f0",
            surface="#ffffff",
            panel="#e4e4dc",
            dark=False,
            variables={
                "sla-breached": "#c00000",
                "sla-at-risk": "#af5f00",
                "sla-near-breach": "#d75f00",
                "notify-unacked": "#d75f00",
                "sla-ok": "#007f3f",
                "priority-1": "#c00000",
                "priority-2": "#af5f00",
                "priority-3": "#5f5f00",
                "priority-4": "#005f87",
                "priority-5": "#6c6c6c",
                "vendor-fresh": "#007f3f",
                "vendor-stale": "#af5f00",
                "vendor-failing": "#c00000",
                "demo-banner": "#870087",
                "outbox-sent": "#007f3f",
                "outbox-failed": "#c00000",
                "metric-better": "#007f3f",
                "metric-worse": "#c00000",
                "entry-public": "#005f87",
                "entry-internal": "#875f00",
            },
        ),
        Theme(
            name="high-contrast",
            primary="#00ffff",
            secondary="#ffff00",
            accent="#ffff00",
            warning="#ffff00",
            error="#ff0000",
            success="#00ff00",
            foreground="#ffffff",
            background="#000000",
            surface="#000000",
            panel="#1c1c1c",
            dark=True,
            variables={
                "sla-breached": "#ff0000",
                "sla-at-risk": "#ffff00",
                "sla-near-breach": "#ff8700",
                "notify-unacked": "#ff8700",
                "sla-ok": "#00ff00",
                "priority-1": "#ff0000",
                "priority-2": "#ffff00",
                "priority-3": "#ffffff",
                "priority-4": "#00ffff",
                "priority-5": "#bcbcbc",
                "vendor-fresh": "#00ff00",
                "vendor-stale": "#ffff00",
                "vendor-failing": "#ff0000",
                "demo-banner": "#ff00ff",
                "outbox-sent": "#00ff00",
                "outbox-failed": "#ff0000",
                "metric-better": "#00ff00",
                "metric-worse": "#ff0000",
                "entry-public": "#00ffff",
                "entry-internal": "#ffff00",
            },
        ),
        Theme(
            # Okabe-Ito palette: distinguishable with every common colour-vision deficiency.
            name="colorblind",
            primary="#56b4e9",
            secondary="#cc79a7",
            accent="#f0e442",
            warning="#e69f00",
            error="#d55e00",
            success="#009e73",
            foreground="#e4e4e4",
            background="#101010",
            surface="#181818",
            panel="#242424",
            dark=True,
            variables={
                "sla-breached": "#d55e00",
                "sla-at-risk": "#e69f00",
                "sla-near-breach": "#cc79a7",
                "notify-unacked": "#ff8700",
                "sla-ok": "#56b4e9",
                "priority-1": "#d55e00",
                "priority-2": "#e69f00",
                "priority-3": "#f0e442",
                "priority-4": "#56b4e9",
                "priority-5": "#999999",
                "vendor-fresh": "#56b4e9",
                "vendor-stale": "#e69f00",
                "vendor-failing": "#d55e00",
                "demo-banner": "#cc79a7",
                "outbox-sent": "#009e73",
                "outbox-failed": "#d55e00",
                "metric-better": "#56b4e9",
                "metric-worse": "#d55e00",
                "entry-public": "#56b4e9",
                "entry-internal": "#e69f00",
            },
        ),
    )
}
