"""The window opens a project and shows its chapters and paragraphs (offscreen)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtGui import QColor

from studio.core.sample import create_sample_project
from studio.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def _test_paths() -> None:
    QStandardPaths.setTestModeEnabled(True)


def test_window_shows_sample_book(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = create_sample_project(tmp_path / "sample.studio")
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(path)
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)

    assert window.windowTitle().startswith("Aesop's Fables")
    assert window.chapters_model.rowCount() == 4
    assert window.chapters_model.index(3).data() == "4. The Hare and the Tortoise"
    assert window.chapter_header.text() == "The Fox and the Grapes"
    assert window.blocks_model.rowCount() == 3
    assert window.blocks_model.index(0).data().startswith("A famished Fox")
    assert "14 paragraphs" in window.statusBar().currentMessage()

    window.chapter_view.setCurrentIndex(window.chapters_model.index(1))
    assert window.chapter_header.text() == "The Town Mouse and the Country Mouse"
    assert window.blocks_model.rowCount() == 5

    # Rendered pixels: the paragraph view paints text and a status bar for each paragraph.
    image = window.block_view.viewport().grab().toImage()
    dark = sum(
        1
        for x in range(0, image.width(), 4)
        for y in range(0, min(image.height(), 200), 4)
        if QColor(image.pixel(x, y)).lightness() < 128
    )
    assert dark > 50


def test_open_refuses_a_non_project(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from studio.core.errors import ProjectFormatError

    bogus = tmp_path / "x.studio"
    bogus.write_text("nope")
    window = MainWindow()
    qtbot.addWidget(window)
    with pytest.raises(ProjectFormatError):
        window.open_project(bogus)
    assert window.project is None and window.chapters_model.rowCount() == 0
