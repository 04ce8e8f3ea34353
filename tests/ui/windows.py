"""A main window on the bundled sample book, as several UI tests start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.core.sample import create_sample_project
from studio.ui.main_window import MainWindow
from studio.ui.player import NullSink


def shown_sample_window(qtbot: Any, tmp_path: Path) -> MainWindow:
    """Return a window at 1280x800 on a fresh copy of the sample, shown and exposed."""
    w = MainWindow(player_sink=NullSink())
    qtbot.addWidget(w)
    w.open_project(create_sample_project(tmp_path / "sample.studio"))
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    return w
