"""File ▸ Export offers the read-along EPUB 3: one .epub of the text, its narration and media
overlays, written off the GUI thread."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QStandardPaths, Qt

from studio.core.sample import create_sample_project
from studio.ui.export_dialog import READ_ALONG, select_data
from studio.ui.main_window import MainWindow
from studio.ui.player import NullSink
from tests.core.epub_validate import check_epub


@pytest.fixture(autouse=True)
def _env(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    QSettings().remove("export")  # every test starts from the defaults


def test_the_export_dialog_writes_a_read_along_book(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(player_sink=NullSink())
    qtbot.addWidget(window)
    window.open_project(create_sample_project(tmp_path / "sample.studio"))
    assert window.controller is not None
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.generate_chapter_action.trigger()
    window.export_action.trigger()
    dialog = window.export_dialog
    assert dialog is not None
    assert select_data(dialog.scope, "chapter")
    assert select_data(dialog.format, READ_ALONG)
    assert dialog.read_along and not dialog.layout_box.isEnabled()
    dialog.set_destination(tmp_path / "fox")
    assert dialog.target() == tmp_path / "fox.epub"  # the format gives the name its suffix
    with qtbot.waitSignal(dialog.read_along_written, timeout=60_000) as done:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
        assert dialog.running  # the work is off the GUI thread: the click returned at once
    result = done.args[0]
    assert result.target == tmp_path / "fox.epub" and len(result.chapters) == 1
    assert check_epub(tmp_path / "fox.epub") == []
    assert "read-along EPUB 3 of 1 chapter" in dialog.status.text()
    assert not dialog.running and dialog.export_button.isEnabled()
    assert QSettings().value("export/format") == READ_ALONG  # remembered for next time
    dialog.close()
