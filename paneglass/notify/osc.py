"""Desktop notifications through the terminal: OSC 9 and OSC 777, which travel over SSH.

The terminal the operator looks at turns these bytes into its own desktop
notification: OSC 9 (``ESC ] 9 ; text ST``) is read by iTerm2, WezTerm and
Windows Terminal; OSC 777 (``ESC ] 777 ; notify ; title ; body ST``) by foot,
WezTerm, rxvt-unicode and VTE terminals that carry Fedora's patch (GNOME
Terminal on Fedora). kitty reads neither (its own OSC 99), and terminals that
know neither ignore them. Inside tmux the sequences are wrapped for
passthrough (tmux needs ``set -g allow-passthrough on``).

Vendor text is hostile: every control character (ESC, BEL, C1, …), ``;``
(the field separator) and bidi or invisible characters are removed before it
goes inside a sequence, so nothing can end the sequence early or start
another one. Each sequence ends with ST (``ESC \\``), never BEL, so a bell
stays one byte the operator can count.
"""

from __future__ import annotations

from connectors.sanitize import clean_text, one_line

__all__ = ["ST", "desktop_sequences", "osc_safe", "tmux_wrap"]

ESC = "\x1b"
ST = ESC + "\\"
_LIMIT = 180


def osc_safe(text: str, limit: int = _LIMIT) -> str:
    """Text that cannot end or alter an OSC sequence: no controls, no ``;``, one line."""
    cleaned = one_line(clean_text(text), limit)
    cleaned = "".join(ch for ch in cleaned if ch.isprintable() and ch not in ";\\")
    # OSC 9 with a leading number and ';' is ConEmu's progress family in Windows Terminal.
    return cleaned.lstrip("0123456789 ") if cleaned[:1].isdigit() else cleaned


def tmux_wrap(sequence: str) -> str:
    """Wrap for tmux passthrough: ``DCS tmux; <sequence, ESC doubled> ST``."""
    return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ST}"


def desktop_sequences(title: str, body: str, *, in_tmux: bool = False) -> str:
    """OSC 9 and OSC 777 for one notification (either may be the one the terminal reads)."""
    safe_title, safe_body = osc_safe(title, 60), osc_safe(body)
    osc9 = f"{ESC}]9;{safe_title}: {safe_body}{ST}"
    osc777 = f"{ESC}]777;notify;{safe_title};{safe_body}{ST}"
    if in_tmux:
        return tmux_wrap(osc9) + tmux_wrap(osc777)
    return osc9 + osc777
