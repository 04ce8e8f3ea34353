"""Project Properties: title, language, model and pauses, undoable, reaching playback."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths

from studio.core import model as m
from studio.core.sample import create_sample_project
from studio.core.store import ProjectStore
from studio.ui.main_window import MainWindow
from studio.ui.player import NullSink
from studio.ui.project_settings import ProjectPropertiesDialog


@pytest.fixture(autouse=True)
def _env(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)


def test_pause_and_title_change_playback_and_undo(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = create_sample_project(tmp_path / "s.studio")
    window = MainWindow(player_sink=NullSink())
    qtbot.addWidget(window)
    window.open_project(path)
    assert window.controller is not None and window.session is not None
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.generate_chapter_action.trigger()
    timeline = window.player_bar.timeline
    assert timeline[1].start - timeline[0].end == pytest.approx(0.5)

    dialog = ProjectPropertiesDialog(window.session, window)
    qtbot.addWidget(dialog)
    dialog.title.setText("Fables")
    dialog.pauses["paragraph_pause_s"].setValue(1.5)
    dialog.apply()
    timeline = window.player_bar.timeline
    assert timeline[1].start - timeline[0].end == pytest.approx(1.5)  # playback follows
    assert window.windowTitle().startswith("Fables (s.studio)")
    on_disk = ProjectStore.open(path, read_only=True).load()
    assert on_disk.title == "Fables" and on_disk.settings["paragraph_pause_s"] == 1.5

    window.session.undo_stack.undo()  # one step
    assert window.session.project.title == "Aesop's Fables"
    assert window.player_bar.timeline[1].start - window.player_bar.timeline[0].end == \
        pytest.approx(0.5)
    window.session.undo_stack.redo()
    assert window.session.project.settings["paragraph_pause_s"] == 1.5


def test_language_change_warns_how_many_paragraphs_go_stale(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = create_sample_project(tmp_path / "s.studio")
    window = MainWindow(player_sink=NullSink())
    qtbot.addWidget(window)
    window.open_project(path)
    assert window.controller is not None and window.session is not None
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.generate_chapter_action.trigger()  # 3 paragraphs narrated
    dialog = ProjectPropertiesDialog(window.session, window)
    qtbot.addWidget(dialog)
    assert dialog.note.text() == ""
    dialog.language.setText("fr")
    assert dialog.would_stale() == 3 and "3 narrated paragraphs stale" in dialog.note.text()
    dialog.apply()
    project = window.session.project
    stale = [b for b in project.chapters[0].blocks
             if m.block_status(project, b) is m.BlockStatus.STALE]
    assert len(stale) == 3
    window.session.undo_stack.undo()
    assert all(m.block_status(project, b) is m.BlockStatus.CONVERTED
               for b in project.chapters[0].blocks)


def test_empty_title_is_refused(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.text()) or 0)
    path = create_sample_project(tmp_path / "s.studio")
    window = MainWindow(player_sink=NullSink())
    qtbot.addWidget(window)
    window.open_project(path)
    assert window.session is not None
    dialog = ProjectPropertiesDialog(window.session, window)
    qtbot.addWidget(dialog)
    dialog.title.setText("  ")
    dialog.apply()
    assert shown == ["The title cannot be empty."]
    assert window.session.project.title == "Aesop's Fables"
    assert window.session.undo_stack.count() == 0
