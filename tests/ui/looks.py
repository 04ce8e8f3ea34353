"""Put the application's style and palette back after a test changed them."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication


def restore_look(app: QApplication, style: str) -> None:
    """Restore ``style`` and the platform palette, safely.

    Widgets closed by the test may still wait for deletion; re-polishing them with a new
    style then reaches objects half gone (a segfault in ``notifyInternal2``). So deletions
    are carried out first, and the style is set again only when it actually changed.
    """
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    if app.style().name() != style:
        app.setStyle(style)
    app.setPalette(QPalette())
