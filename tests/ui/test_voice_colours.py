"""Voice colours: told apart at a glance (the first eight pairwise far apart in CIELAB), in
the project's voice order (the same every time it opens), for the light and dark themes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from studio.core import model as m
from studio.core.casting.sample import project_from_text
from studio.core.model import Voice, VoiceId, VoiceSpan
from studio.core.store import ProjectStore
from studio.ui import theme
from studio.ui.delegates import voice_colour
from studio.ui.main_window import MainWindow
from studio.ui.player import NullSink

NAMES = ["Narrator", "Mrs. Bennet", "Mr. Bennet", "Elizabeth", "Jane", "Lydia", "Kitty",
         "Mary"]


@pytest.fixture(autouse=True)
def _look(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    yield
    app.setPalette(QPalette())


def _lab(colour: QColor) -> tuple[float, float, float]:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in (colour.redF(), colour.greenF(), colour.blueF()))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def delta_e(a: QColor, b: QColor) -> float:
    """CIE76 colour difference (about 2.3: just noticeable; over 20: clearly different)."""
    return sum((p - q) ** 2 for p, q in zip(_lab(a), _lab(b), strict=True)) ** 0.5


def _luminance(c: QColor) -> float:
    def linear(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(c.redF()) + 0.7152 * linear(c.greenF()) + 0.0722 * linear(c.blueF())


def contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _book(path: Path) -> tuple[Path, list[VoiceId]]:
    project = project_from_text("“Hello,” said she.\n\nHe said nothing.", "Colours")
    ids = []
    for name in NAMES:
        voice = Voice(VoiceId(m.new_id()), name, engine_voice_id="en-us")
        m.add_voice(project, voice)
        ids.append(voice.id)
    block = project.chapters[0].blocks[0]
    block.spans = (VoiceSpan(0, 8, ids[1]),)
    ProjectStore.create(path, project).close()
    return path, ids


def _window(qtbot, path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    w = MainWindow(player_sink=NullSink())
    qtbot.addWidget(w)
    w.open_project(path)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_the_first_eight_voices_get_distinct_colours_in_light_and_dark(
        qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, ids = _book(tmp_path / "colours.studio")
    window = _window(qtbot, path)
    app = QApplication.instance()
    seen: dict[str, list[str]] = {}
    for name, palette in (("light", theme.light_palette()), ("dark", theme.dark_palette())):
        app.setPalette(palette)  # type: ignore[union-attr]
        QApplication.processEvents()
        colours = [voice_colour(v) for v in ids]
        seen[name] = [c.name() for c in colours]
        for (i, a), (j, b) in itertools.combinations(enumerate(colours), 2):
            assert delta_e(a, b) > 20, f"{name}: {NAMES[i]} and {NAMES[j]} look alike"
        base = palette.color(QPalette.ColorRole.Base)
        ink = QColor(0, 0, 0) if name == "light" else QColor(242, 242, 242)
        for c in colours:
            assert contrast(c, ink) >= 4.5  # the span's text stays readable
            assert delta_e(c, base) > 15  # and the span stands out from the page
    assert seen["light"] != seen["dark"]
    # Opened again: the same voices, the same colours (by voice order, not by chance).
    window.close()
    app.setPalette(theme.light_palette())  # type: ignore[union-attr]
    again = _window(qtbot, path)
    assert [voice_colour(v).name() for v in ids] == seen["light"]
    again.close()
