"""The paragraph delegate: status stripes readable in both themes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from studio.core.model import BlockStatus
from studio.core.sample import create_sample_project
from studio.ui import theme
from studio.ui.delegates import BlockDelegate, status_colour
from studio.ui.main_window import MainWindow
from studio.ui.models import FAILED, GENERATING, STATUS_ROLE
from studio.ui.player import NullSink

STATUSES = (BlockStatus.UNCONVERTED, BlockStatus.CONVERTED, BlockStatus.STALE, GENERATING,
            FAILED)


@pytest.fixture(autouse=True)
def _restore_look(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    style = app.style().name()
    yield
    app.setStyle(style)
    app.setPalette(QPalette())  # back to the platform's palette


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    w = MainWindow(player_sink=NullSink())
    qtbot.addWidget(w)
    w.open_project(create_sample_project(tmp_path / "sample.studio"))
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


# ---------------------------------------------------------------------------------------------
# Status stripes


def _luminance(colour: QColor) -> float:
    """Return the WCAG 2.1 relative luminance of ``colour``."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return (0.2126 * channel(colour.red()) + 0.7152 * channel(colour.green())
            + 0.0722 * channel(colour.blue()))


def contrast_ratio(a: QColor, b: QColor) -> float:
    """Return the WCAG contrast ratio of two colours (1 to 21)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_ratio_matches_wcag_examples() -> None:
    assert contrast_ratio(QColor("black"), QColor("white")) == pytest.approx(21.0)
    assert contrast_ratio(QColor("#777777"), QColor("white")) == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("palette", [theme.light_palette, theme.dark_palette],
                         ids=["light", "dark"])
def test_status_stripes_have_3_to_1_contrast_with_the_base(palette) -> None:  # type: ignore[no-untyped-def]
    pal = palette()
    base = pal.color(QPalette.ColorRole.Base)
    for status in STATUSES:
        ratio = contrast_ratio(status_colour(status, pal), base)
        assert ratio >= 3.0, f"{status} stripe: {ratio:.2f}:1 on {base.name()}"
    # Unknown statuses are drawn as "not converted yet", readable too.
    assert status_colour(None, pal) == status_colour(BlockStatus.UNCONVERTED, pal)


def test_dark_theme_uses_the_lighter_stripes() -> None:
    dark, light = theme.dark_palette(), theme.light_palette()
    for status in (BlockStatus.CONVERTED, FAILED):
        assert status_colour(status, dark).lightness() > status_colour(status, light).lightness()


@pytest.mark.parametrize("palette", [theme.light_palette, theme.dark_palette],
                         ids=["light", "dark"])
def test_painted_stripe_has_the_theme_colour(window: MainWindow, palette) -> None:  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    app.setPalette(palette())
    model = window.blocks_model
    block = model.block_at(1)
    assert block is not None
    model.failures[block.id] = "quota exceeded"
    model.refresh(frozenset({block.id}))
    view = window.block_view
    view.clearSelection()
    QApplication.processEvents()
    image = view.viewport().grab().toImage()
    for row in (0, 1):
        index = model.index(row)
        rect = view.visualRect(index)
        stripe = QColor(image.pixel(rect.left() + 2 + BlockDelegate.BAR // 2, rect.center().y()))
        expected = status_colour(index.data(STATUS_ROLE), view.palette())
        assert stripe.name() == expected.name(), f"row {row}"
    assert model.index(1).data(STATUS_ROLE) == FAILED
