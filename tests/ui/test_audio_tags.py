"""Eleven v3 audio tags in the paragraph editor: highlighted always, completed after "[" on v3."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import QApplication

from studio.core.sample import create_sample_project
from studio.ui import commands
from studio.ui.audio_tags import ranked_completions
from studio.ui.delegates import BlockDelegate, ParagraphEditor
from studio.ui.main_window import MainWindow
from studio.ui.player import NullSink


@pytest.fixture(autouse=True)
def _paths(monkeypatch: pytest.MonkeyPatch) -> None:
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    w = MainWindow(player_sink=NullSink())
    qtbot.addWidget(w)
    w.open_project(create_sample_project(tmp_path / "sample.studio"))
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


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
