"""Eleven v3 audio tags in the paragraph editor: highlighted always, completed after "[" on v3."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import QApplication

from studio.ui import commands
from studio.ui.audio_tags import ranked_completions
from studio.ui.delegates import BlockDelegate, ParagraphEditor
from studio.ui.main_window import MainWindow
from tests.ui.looks import restore_look
from tests.ui.windows import shown_sample_window


@pytest.fixture(autouse=True)
def _paths(monkeypatch: pytest.MonkeyPatch) -> None:
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    return shown_sample_window(qtbot, tmp_path)


def _use_model(window: MainWindow, model_id: str) -> None:
    assert window.session is not None
    window.session.push(commands.set_project_meta(window.session, model_id=model_id))


def _open_editor(window: MainWindow, row: int = 0) -> ParagraphEditor:
    view = window.block_view
    index = window.blocks_model.index(row)
    view.setCurrentIndex(index)
    view.edit(index)
    QApplication.processEvents()
    delegate = view.itemDelegate()
    assert isinstance(delegate, BlockDelegate)
    editor = delegate.active_editor()
    assert editor is not None
    cursor = editor.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    editor.setTextCursor(cursor)
    return editor


def _popup_rows(editor: ParagraphEditor) -> list[str]:
    model = editor.tag_completer.completer.completionModel()
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def test_common_tags_rank_first() -> None:
    assert ranked_completions("She [wh", 7)[0] == "whispers"
    assert set(ranked_completions("She [wh", 7)) >= {"whispers", "wheezing", "whispering"}
    assert ranked_completions("[laughs] and", 12) == []  # the tag is closed


@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")  # offscreen popup
def test_typing_a_bracket_on_v3_completes_a_tag(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    _use_model(window, "eleven_v3")
    editor = _open_editor(window)
    before = editor.toPlainText()
    qtbot.keyClicks(editor, " [wh")
    popup = editor.tag_completer.completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    rows = _popup_rows(editor)
    assert rows[0] == "whispers" and "wheezing" in rows
    assert popup.currentIndex().data() == "whispers"
    qtbot.keyClick(popup, Qt.Key.Key_Return)  # the open popup has the keyboard
    assert editor.toPlainText() == before + " [whispers]"
    assert not popup.isVisible()
    assert window.block_view.itemDelegate().active_editor() is editor  # still editing
    # Escape closes the list and leaves the text as typed.
    qtbot.keyClicks(editor, " [si")
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    qtbot.keyClick(popup, Qt.Key.Key_Escape)
    assert not popup.isVisible() and editor.toPlainText().endswith("[whispers] [si")


def test_tags_are_highlighted_and_completion_is_v3_only(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    editor = _open_editor(window)  # the sample book is not on v3
    qtbot.keyClicks(editor, " [wh")
    QApplication.processEvents()
    assert not editor.tag_completer.completer.popup().isVisible()
    qtbot.keyClicks(editor, "ispers]")
    text = editor.toPlainText()
    start = text.index("[whispers]")
    block = editor.document().findBlock(start)
    formats = [f for f in block.layout().formats()
               if f.start <= start - block.position() < f.start + f.length]
    assert formats and formats[0].format.fontStrikeOut()  # not performed off v3
    # On v3 the same tag is drawn as a tag, not struck out.
    editor.set_v3(True)
    formats = [f for f in block.layout().formats()
               if f.start <= start - block.position() < f.start + f.length]
    assert formats and not formats[0].format.fontStrikeOut() and formats[0].format.fontItalic()


def _tag_format(editor: ParagraphEditor, tag: str):  # type: ignore[no-untyped-def]
    text = editor.toPlainText()
    start = text.index(tag)
    block = editor.document().findBlock(start)
    from PySide6.QtGui import QTextCharFormat

    formats = block.layout().formats()
    return next(QTextCharFormat(f.format) for f in formats
                if f.start <= start - block.position() < f.start + f.length)


@pytest.fixture
def _theme_back():  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QSettings

    from studio.ui import theme

    app = QApplication.instance()
    style = app.style().name()  # type: ignore[union-attr]
    yield theme.theme_manager()
    QSettings().remove(theme.SETTINGS_KEY)
    theme.theme_manager().choice = "system"
    restore_look(app, style)  # type: ignore[arg-type]


@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")  # offscreen popup
def test_tag_colours_follow_a_theme_switch_while_the_editor_is_open(
        window: MainWindow, qtbot, _theme_back) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.audio_tags import tag_format

    _theme_back.set_choice("light")
    _use_model(window, "eleven_v3")
    editor = _open_editor(window)
    qtbot.keyClicks(editor, " [whispers]")
    light = tag_format(False, True).foreground().color()
    assert _tag_format(editor, "[whispers]").foreground().color() == light
    _theme_back.set_choice("dark")
    QApplication.processEvents()
    dark = tag_format(True, True).foreground().color()
    assert dark != light
    assert _tag_format(editor, "[whispers]").foreground().color() == dark
    _theme_back.set_choice("light")
    QApplication.processEvents()
    assert _tag_format(editor, "[whispers]").foreground().color() == light


def test_tags_are_highlighted_in_the_paragraph_list(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QStyleOptionViewItem

    from studio.ui.audio_tags import tag_format

    _use_model(window, "eleven_v3")
    assert window.session is not None
    block = window.project.chapters[0].blocks[1]  # type: ignore[union-attr]
    window.session.push(commands.SetBlockTextCommand(
        window.session, block.id, "He paused [sighs] and went on."))
    QApplication.processEvents()
    view = window.block_view
    delegate = view.itemDelegate()
    assert isinstance(delegate, BlockDelegate)
    index = window.blocks_model.index(1)
    option = QStyleOptionViewItem()
    option.rect = view.visualRect(index)
    option.font = view.font()
    option.palette = view.palette()
    row = delegate.row_for(index, option)
    text = row.layout.text()
    start = text.index("[sighs]")
    ranges = row.layout.formats()
    formats = [f.format for f in ranges if f.start <= start < f.start + f.length]
    want = tag_format(False, True)
    assert formats and formats[0].foreground().color() == want.foreground().color()
    assert formats[0].background().color() == want.background().color()
    # Colour only: the row's measured height must stay right (no bold, no italic).
    assert not formats[0].hasProperty(formats[0].Property.FontWeight)
    # Off v3 the tag is struck through, in the list as in the editor.
    _use_model(window, "eleven_multilingual_v2")
    QApplication.processEvents()
    row = delegate.row_for(index, option)
    ranges = row.layout.formats()
    formats = [f.format for f in ranges if f.start <= start < f.start + f.length]
    assert formats and formats[0].fontStrikeOut()
