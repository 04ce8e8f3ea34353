"""The colour of each voice: voice spans, the voice mark of a row, legends and swatches.

Colours come from a fixed palette of hues chosen to be told apart (every pair of the first
eight at least ΔE 20 apart in CIELAB), given in the project's voice order: the first voice
gets the first colour, the second the second, and so on, so a project shows the same
colours every time it is opened. The window registers the order (:func:`set_voice_order`)
when a project opens and when its cast changes. Each theme has its own palette: pastels
under black text in the light theme, deeper tones under light text in the dark one (text
contrast at least 4.5:1 either way).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Final

from PySide6.QtGui import QColor, QGuiApplication, QPalette

LIGHT: Final = ("#9cc3ff", "#ffb870", "#8fdc8f", "#ff9a9a", "#c9a7ff", "#f7e26b", "#6fd6d6",
                "#ff9ee0", "#c8b090", "#b8c0cc")
DARK: Final = ("#2f5f9e", "#a0561c", "#2f7a3c", "#a33a3a", "#6a45a8", "#7d6f16", "#1f7676",
               "#9a3a7e", "#6e5638", "#4f5a68")
LIGHT_INK: Final = QColor(0, 0, 0)
DARK_INK: Final = QColor(242, 242, 242)

_order: dict[str, int] = {}
_generation = 0


def set_voice_order(voice_ids: Iterable[str]) -> None:
    """Give the voices their colours in this order (the project's voice order)."""
    global _generation
    order = {vid: n for n, vid in enumerate(voice_ids)}
    if order != _order:
        _order.clear()
        _order.update(order)
        _generation += 1


def generation() -> int:
    """Return a number that changes whenever the voice order does (for caches)."""
    return _generation


def app_is_dark() -> bool:
    """Return whether the application's palette is a dark one."""
    palette = QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def _slot(voice_id: str) -> int:
    slot = _order.get(voice_id)
    if slot is None:  # a voice the window has not registered: stable, if not distinct
        slot = int.from_bytes(hashlib.sha1(voice_id.encode("utf-8")).digest()[:2], "big")
    return slot


def voice_colour(voice_id: str, dark: bool | None = None) -> QColor:
    """Return the colour of a voice in the theme (``dark``; None: the application's)."""
    is_dark = app_is_dark() if dark is None else dark
    palette = DARK if is_dark else LIGHT
    slot = _slot(voice_id)
    colour = QColor(palette[slot % len(palette)])
    rounds = slot // len(palette) % 3  # past the palette: the same hues, a shade apart
    if rounds:
        colour = (colour.lighter(100 + 12 * rounds) if is_dark
                  else colour.darker(100 + 8 * rounds))
    return colour


def voice_ink(dark: bool | None = None) -> QColor:
    """Return the colour of text on a voice colour in the theme."""
    return QColor(DARK_INK if (app_is_dark() if dark is None else dark) else LIGHT_INK)
