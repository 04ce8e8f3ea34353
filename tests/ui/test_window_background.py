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
