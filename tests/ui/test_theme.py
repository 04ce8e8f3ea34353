"""Light and dark themes: measured on the window's pixels, remembered in QSettings, following
the system's colour scheme in "System" mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, QStandardPaths, Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QWidget

from studio.ui import theme
from studio.ui.main_window import MainWindow
from tests.ui.looks import restore_look
from tests.ui.windows import shown_sample_window


@pytest.fixture(autouse=True)
def _restore_look(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    style = app.style().name()
    yield
    QSettings().remove(theme.SETTINGS_KEY)
    theme.theme_manager().choice = "system"
    restore_look(app, style)  # back to the platform's palette


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    return shown_sample_window(qtbot, tmp_path)


def _lightness(widget: QWidget) -> float:
    """Return the mean grey level (0-255) of what ``widget`` paints."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    stride = image.bytesPerLine()
    data = np.frombuffer(image.constBits(), dtype=np.uint8)[: stride * image.height()]
    return float(data.reshape(image.height(), stride)[:, : image.width()].mean())


def _choose(window: MainWindow, value: str) -> None:
    action = next(a for a in window.theme_menu.actions() if a.data() == value)
    action.trigger()
    QApplication.processEvents()


def test_dark_and_light_measured_on_pixels(window: MainWindow) -> None:
    _choose(window, "dark")
    assert QSettings().value(theme.SETTINGS_KEY) == "dark"
    assert QApplication.style().name().lower() == "fusion"
    assert _lightness(window) < 80
    assert _lightness(window.chapter_view.viewport()) < 60
    assert _lightness(window.waveform.detail) < 90  # the plots follow the palette
    assert _lightness(window.player_bar) < 90
    assert theme.is_dark(window.palette())

    _choose(window, "light")
    assert QSettings().value(theme.SETTINGS_KEY) == "light"
    assert _lightness(window) > 190
    assert _lightness(window.chapter_view.viewport()) > 220
    assert _lightness(window.waveform.detail) > 190
    checked = [a.data() for a in window.theme_menu.actions() if a.isChecked()]
    assert checked == ["light"]


def test_text_stays_readable_in_dark(window: MainWindow) -> None:
    _choose(window, "dark")
    palette = window.palette()
    for fg, bg in ((palette.text(), palette.base()), (palette.windowText(), palette.window()),
                   (palette.buttonText(), palette.button()),
                   (palette.highlightedText(), palette.highlight())):
        assert abs(fg.color().lightness() - bg.color().lightness()) > 110


def test_system_mode_follows_the_scheme(window: MainWindow,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    manager = theme.theme_manager()
    _choose(window, "light")
    _choose(window, "system")
    assert manager.applied == "light"  # the offscreen platform reports no dark scheme
    # The platform now says "dark" (offscreen cannot switch, so tell the manager so) and
    # announces it: the window turns dark without a restart.
    monkeypatch.setattr(theme.ThemeManager, "system_is_dark", lambda self: True)
    QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    QApplication.processEvents()
    assert manager.applied == "dark" and _lightness(window) < 80
    _choose(window, "light")  # a forced theme ignores the system
    QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert manager.applied == "light"
