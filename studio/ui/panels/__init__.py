"""Dock panels of the main window, one module each."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QScrollArea, QWidget


def add_side_dock(window: Any, title: str, name: str, panel: QWidget,
                  beside: str | None = None) -> QDockWidget:
    """Add ``panel`` as a dock on the right of ``window``, scrolling vertically.

    Scrollable, so a side panel never forces the window taller than a laptop screen (at
    1280x800 the status bar and player stay on it). With ``beside`` (a dock's object name)
    it becomes a tab beside that dock.
    """
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(panel)
    dock.setWidget(scroll)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    other = window.findChild(QDockWidget, beside) if beside is not None else None
    if isinstance(other, QDockWidget):
        window.tabifyDockWidget(other, dock)
    return dock
