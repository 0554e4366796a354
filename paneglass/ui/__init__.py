"""The console: the Textual app, its screens and widgets, commands and display helpers.

``app``          wiring only: themes, store, collector or follower, navigation
``navigation``   the messages a screen sends to open a ticket, a pane or a case
``commands``     the ``:`` command mode and the palette's ticket lookup
``display``      vendor text and times on screen, safely and consistently
``states``       one glyph, word and theme variable per state (SLA, freshness, outbox)
``messages``     app-wide notices (:class:`StoreChanged`)
``screenshots``  the README's SVGs from the fixture world
``screens/``     one module per screen; ``widgets/`` one module per widget

The UI reads through the store's facade (:mod:`paneglass.store`) and asks
for changes through the write-back services (:mod:`paneglass.writeback`).
"""

from paneglass.ui.app import ConsoleBase, PaneglassApp, WallApp
from paneglass.ui.messages import StoreChanged

__all__ = ["ConsoleBase", "PaneglassApp", "StoreChanged", "WallApp"]
