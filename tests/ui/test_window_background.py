"""Work the window does off the GUI thread: listing an engine's voices, Save As of a project.

The window must keep answering while they run; their results (or errors) arrive on the GUI
thread afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QStandardPaths

from studio.core.store import ProjectStore
from studio.ui.main_window import MainWindow
from tests.core.factories import make_project
from tests.fakes.fake_elevenlabs import FakeElevenLabs


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path: Path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    QStandardPaths.setTestModeEnabled(True)
    # Test mode alone puts QSettings in ~/.qttest, one file shared with every test process
    # running at the same time: give each test its own.
    shared = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "settings"))
    QSettings().clear()
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    yield
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, shared)


def _window(qtbot, path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(path)
    window.show()
    qtbot.waitExposed(window)
    return window


# -- Add voice… lists the engine's voices in the background -------------------------------------


@pytest.fixture
def slow_voices(fake_eleven_factory, monkeypatch) -> FakeElevenLabs:  # type: ignore[no-untyped-def]
    fake: FakeElevenLabs = fake_eleven_factory()
    monkeypatch.setenv("ELEVENLABS_API_KEY", "test-key")
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.base_url)
    return fake


def test_add_voice_lists_voices_without_blocking_the_window(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path, slow_voices: FakeElevenLabs) -> None:
    path = tmp_path / "v.studio"
    ProjectStore.create(path, make_project(1, 2)).close()
    window = _window(qtbot, path)
    panel = window.voices_panel
    slow_voices.stall_next(1, 1.5, path_contains="/v2/voices")
    began = time.monotonic()
    panel.add_button.click()
    assert time.monotonic() - began < 0.5  # the click returned before the list arrived
    assert panel.add_button.text() == "Loading voices…" and not panel.add_button.isEnabled()
    assert panel.add_dialog is None
    qtbot.waitUntil(lambda: panel.add_dialog is not None and panel.add_dialog.isVisible(),
                    timeout=15_000)
    assert time.monotonic() - began >= 1.4
    assert panel.add_button.text() == "Add voice…" and panel.add_button.isEnabled()
    dialog = panel.add_dialog
    assert dialog is not None and dialog.engine == "elevenlabs"
    assert dialog.combo.count() == len(slow_voices.voices)
    assert any("/v2/voices" in r.path for r in slow_voices.requests)
    before = len(window.project.voices) if window.project is not None else 0
    dialog.combo.setCurrentIndex(1)
    name = dialog.combo.currentText()
    dialog._accept()
    assert window.project is not None and len(window.project.voices) == before + 1
    assert name in {v.alias for v in window.project.voices.values()}
    qtbot.waitUntil(lambda: panel.add_dialog is None)


def test_add_voice_reports_a_failed_listing(qtbot, tmp_path: Path, monkeypatch,  # type: ignore[no-untyped-def]
                                            slow_voices: FakeElevenLabs) -> None:
    import studio.ui.panels.voices as voices

    errors: list[object] = []
    monkeypatch.setattr(voices, "show_error", lambda _parent, exc: errors.append(exc))
    path = tmp_path / "v.studio"
    ProjectStore.create(path, make_project(1, 2)).close()
    window = _window(qtbot, path)
    panel = window.voices_panel
    slow_voices.fail_next(1, 401, code="invalid_api_key", path_contains="/v2/voices")
    panel.add_button.click()
    qtbot.waitUntil(lambda: bool(errors), timeout=15_000)
    assert panel.add_dialog is None and panel.add_button.isEnabled()
    assert "key" in str(errors[0]).lower()


# -- Save As copies in the background -------------------------------------------------------------


@pytest.fixture
def recorded_boxes(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.text()) or 0)
    return shown


def test_save_as_copies_in_the_background_and_keeps_edits_made_meanwhile(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path, monkeypatch, recorded_boxes: list[str]) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QFileDialog

    from studio.core.model import BlockId
    from studio.ui import commands

    path = tmp_path / "big.studio"
    ProjectStore.create(path, make_project(2, 5)).close()
    window = _window(qtbot, path)
    session = window.session
    assert session is not None
    target = tmp_path / "copy.studio"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    copying = ProjectStore.save_as
    copied: list[float] = []

    def slow_copy(store: ProjectStore, new_path: Path, overwrite: bool = False) -> ProjectStore:
        new = copying(store, new_path, overwrite)
        copied.append(time.monotonic())
        time.sleep(1.5)  # a big project on a slow disk
        return new

    monkeypatch.setattr(ProjectStore, "save_as", slow_copy)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    began = time.monotonic()
    window.save_as_action.trigger()
    assert time.monotonic() - began < 0.5  # the window did not wait for the copy
    assert "Saving a copy as copy.studio" in window.statusBar().currentMessage()
    assert window.statusBar().findChild(object, "saveAsProgress") is not None
    qtbot.waitUntil(lambda: bool(copied), timeout=10_000)
    block = session.project.chapters[1].blocks[4]  # edited after the copy was taken
    session.push(commands.SetBlockTextCommand(session, BlockId(block.id), "Typed meanwhile."))
    assert window.store is not None and window.store.path == path  # still the old file
    qtbot.waitUntil(lambda: window.store is not None and window.store.path == target,
                    timeout=15_000)
    timer.stop()
    assert len([t for t in ticks if began < t < copied[0] + 1.4]) > 10  # events kept flowing
    assert "(copy.studio)" in window.windowTitle() and not window.isWindowModified()
    qtbot.waitUntil(lambda: window.statusBar().findChild(object, "saveAsProgress") is None)
    assert recorded_boxes == []
    window.close()
    with ProjectStore.open(target, read_only=True) as store:
        again = store.load()
    assert again.chapters[1].blocks[4].text == "Typed meanwhile."
    assert [c.title for c in again.chapters] == ["Chapter 1", "Chapter 2"]


def test_save_as_onto_the_open_file_just_saves_it(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path, monkeypatch, recorded_boxes: list[str]) -> None:
    from PySide6.QtWidgets import QFileDialog

    path = tmp_path / "same.studio"
    ProjectStore.create(path, make_project(1, 3)).close()
    window = _window(qtbot, path)
    store = window.store
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.save_as_action.trigger()
    qtbot.wait(300)  # a copy, had one started, would be under way or done by now
    assert recorded_boxes == []  # no "is open elsewhere" or "cannot replace" complaint
    assert window.store is store and window.store.path == path
    assert "Saved same.studio" in window.statusBar().currentMessage()
    assert window.session is not None and not window.session.unsaved
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []
    window.close()
    with ProjectStore.open(path, read_only=True) as reopened:
        assert [b.text for b in reopened.load().chapters[0].blocks] == [
            "Paragraph 1 of chapter 1.", "Paragraph 2 of chapter 1.", "Paragraph 3 of chapter 1."]
