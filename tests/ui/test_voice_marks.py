"""A paragraph read by another voice than the book's shows that voice's colour and name."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths

from studio.core.engines import EngineVoice
from studio.core.sample import create_sample_project
from studio.ui.delegates import BlockDelegate, voice_colour
from studio.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def _paths() -> None:
    QStandardPaths.setTestModeEnabled(True)


def test_voice_bar_and_legend(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(create_sample_project(tmp_path / "s.studio"))
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    panel = window.voices_panel
    vixen = panel.add_voice(EngineVoice("en-gb-x-rp+f3", "Vixen", "offline"), "offline")
    panel.list.setCurrentRow(1)
    window.block_view.setCurrentIndex(window.blocks_model.index(1))
    panel.assign_to_selection()
    window.block_view.clearSelection()
    view = window.block_view
    image = view.viewport().grab().toImage()
    x = BlockDelegate.BAR + 5  # inside the voice bar, right of the status stripe

    def colour_at(row: int) -> str:
        rect = view.visualRect(window.blocks_model.index(row))
        return image.pixelColor(x, rect.center().y()).name()

    assert colour_at(1) == voice_colour(vixen).name()
    assert colour_at(0) != voice_colour(vixen).name()  # the book's own voice: no bar
    qtbot.waitUntil(lambda: "Vixen" in window.editor_actions.legend.text())
