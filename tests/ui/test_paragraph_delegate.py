"""The paragraph delegate: status stripes readable in both themes, and an in-place editor that
grows its row instead of covering the next paragraph."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from studio.core.model import BlockStatus
from studio.ui import theme
from studio.ui.delegates import BlockDelegate, ParagraphEditor, status_colour
from studio.ui.main_window import MainWindow
from studio.ui.models import FAILED, GENERATING, STATUS_ROLE
from tests.ui.looks import restore_look
from tests.ui.windows import shown_sample_window

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
    restore_look(app, style)  # back to the platform's palette


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    return shown_sample_window(qtbot, tmp_path)


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


# ---------------------------------------------------------------------------------------------
# The in-place editor


def _open_editor(window: MainWindow, row: int) -> ParagraphEditor:
    view = window.block_view
    index = window.blocks_model.index(row)
    view.setCurrentIndex(index)
    view.edit(index)
    QApplication.processEvents()
    delegate = view.itemDelegate()
    assert isinstance(delegate, BlockDelegate)
    editor = delegate.active_editor()
    assert editor is not None
    return editor


def _shows_all_text(editor: ParagraphEditor) -> bool:
    cursor = editor.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    end = editor.cursorRect(cursor)
    cursor.movePosition(cursor.MoveOperation.Start)
    start = editor.cursorRect(cursor)
    return (editor.verticalScrollBar().value() == 0 and start.top() >= 0
            and end.bottom() <= editor.viewport().height())


def _shortest_row_with_a_next(window: MainWindow) -> int:
    view, model = window.block_view, window.blocks_model
    return min(range(model.rowCount() - 1), key=lambda r: view.visualRect(model.index(r)).height())


def test_editor_on_a_short_paragraph_stays_above_the_next(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    view, model = window.block_view, window.blocks_model
    row = _shortest_row_with_a_next(window)
    editor = _open_editor(window, row)
    next_row = view.visualRect(model.index(row + 1))
    assert editor.geometry().bottom() <= next_row.top()
    assert editor.geometry().top() >= view.visualRect(model.index(row)).top()
    assert _shows_all_text(editor)
    # The paragraph above is not covered either.
    if row > 0:
        assert view.visualRect(model.index(row - 1)).bottom() < editor.geometry().top()
    # A narrower window wraps the text onto more lines: the row follows.
    lines = editor.height()
    window.resize(900, 800)
    qtbot.waitUntil(lambda: editor.height() > lines, timeout=2000)
    QApplication.processEvents()
    assert editor.geometry().bottom() <= view.visualRect(model.index(row + 1)).top()
    assert _shows_all_text(editor)


def test_typing_lines_grows_the_row(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    view, model = window.block_view, window.blocks_model
    row = _shortest_row_with_a_next(window)
    editor = _open_editor(window, row)
    closed_height = view.visualRect(model.index(row)).height()
    heights = [editor.height()]
    cursor = editor.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    editor.setTextCursor(cursor)
    for _ in range(4):
        qtbot.keyClicks(editor, " And then the fox went on, and on, and on, through the vines "
                                "and the long rows of the vineyard.")
        qtbot.waitUntil(lambda: editor.height() == editor.fit_height(), timeout=2000)
        QApplication.processEvents()
        heights.append(editor.height())
        rect = view.visualRect(model.index(row))
        assert editor.geometry().bottom() <= view.visualRect(model.index(row + 1)).top()
        assert rect.height() >= editor.height()
        assert _shows_all_text(editor)
    assert heights[-1] >= heights[0] + 3 * editor.fontMetrics().lineSpacing()
    assert heights == sorted(heights)
    # Deleting lines shrinks it back; closing the editor gives the row its own height.
    qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(editor, "Short.")
    qtbot.waitUntil(lambda: editor.height() == editor.fit_height(), timeout=2000)
    assert editor.height() < heights[-1]
    delegate = view.itemDelegate()
    delegate.closeEditor.emit(editor)
    qtbot.waitUntil(lambda: delegate.active_editor() is None, timeout=2000)
    QApplication.processEvents()
    assert view.visualRect(model.index(row)).height() <= closed_height
