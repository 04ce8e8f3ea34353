"""The paragraph list as a model/view: structural edits keep the selection and the scroll, the
editor's cursor stays in view, the spoken paragraph is tinted, generating stripes move, and
multi-paragraph edits are one undo step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QStandardPaths, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractItemDelegate, QApplication

from studio.core import model as m
from studio.core.model import Block, BlockId, Chapter, ChapterId, Project, VoiceId
from studio.core.sample import create_sample_project
from studio.core.store import ProjectStore
from studio.ui import commands, theme
from studio.ui.delegates import BlockDelegate, ParagraphEditor, speaking_row_colour
from studio.ui.main_window import MainWindow
from studio.ui.player import NullSink
from tests.ui.looks import restore_look

SENTENCE = "The river ran on in the dark, past the mills and the sleeping town. "


@pytest.fixture(autouse=True)
def _test_paths(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    style = qapp.style().name()
    yield
    restore_look(qapp, style)


def _window(qtbot, path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    w = MainWindow(player_sink=NullSink())
    qtbot.addWidget(w)
    w.open_project(path)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    return _window(qtbot, create_sample_project(tmp_path / "sample.studio"))


def _long_chapter_file(folder: Path, paragraphs: int) -> Path:
    chapter = Chapter(ChapterId("c0"), "Long", [
        Block(BlockId(f"b{i}"), f"P {i}. " + SENTENCE * (2 + i % 7)) for i in range(paragraphs)])
    path = folder / "long.studio"
    ProjectStore.create(path, Project(title="Long", chapters=[chapter])).close()
    return path


def _delegate(window: MainWindow) -> BlockDelegate:
    delegate = window.block_view.itemDelegate()
    assert isinstance(delegate, BlockDelegate)
    return delegate


def _select_rows(window: MainWindow, rows: list[int]) -> None:
    view, model = window.block_view, window.blocks_model
    view.setCurrentIndex(model.index(rows[0]))
    for row in rows[1:]:
        view.selectionModel().select(model.index(row), QItemSelectionModel.SelectionFlag.Select)


# ---------------------------------------------------------------------------------------------
# One undo step for many paragraphs


def test_locking_several_paragraphs_is_one_undo_step(window: MainWindow) -> None:
    session = window.session
    assert session is not None
    chapter = window.blocks_model.chapter
    assert chapter is not None
    _select_rows(window, [0, 1, 2])
    stack = session.undo_stack
    count = stack.count()
    window.lock_action.trigger()
    assert all(b.locked for b in chapter.blocks)
    assert stack.count() == count + 1
    window.lock_action.trigger()  # all locked: Ctrl+L unlocks them all, one step again
    assert not any(b.locked for b in chapter.blocks)
    assert stack.count() == count + 2
    stack.undo()
    assert all(b.locked for b in chapter.blocks)
    stack.undo()
    assert not any(b.locked for b in chapter.blocks)
    # A mixed selection locks the unlocked ones.
    session.push(commands.set_block_locked(session, chapter.blocks[1].id, True))
    count = stack.count()
    _select_rows(window, [0, 1, 2])
    window.lock_action.trigger()
    assert all(b.locked for b in chapter.blocks) and stack.count() == count + 1


def test_assigning_a_voice_to_several_paragraphs_is_one_undo_step(window: MainWindow) -> None:
    session = window.session
    assert session is not None
    session.push(commands.add_voice(session, m.Voice(VoiceId("v-fox"), "Vixen")))
    chapter = window.blocks_model.chapter
    assert chapter is not None
    panel = window.voices_panel
    panel.list.setCurrentRow([panel.list.item(i).text() for i in range(panel.list.count())]
                             .index("Vixen"))
    _select_rows(window, [0, 1, 2])
    count = session.undo_stack.count()
    panel.assign_to_selection()
    assert [b.voice_id for b in chapter.blocks] == [VoiceId("v-fox")] * 3
    assert session.undo_stack.count() == count + 1
    session.undo_stack.undo()
    assert [b.voice_id for b in chapter.blocks] == [None] * 3


# ---------------------------------------------------------------------------------------------
# Structural edits keep the selection, the current row and the scroll position


def test_structural_edits_insert_and_remove_rows_keeping_the_selection(window: MainWindow
                                                                       ) -> None:
    session = window.session
    assert session is not None
    view, model = window.block_view, window.blocks_model
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    last = model.block_at(2)
    assert last is not None
    _select_rows(window, [2])
    actions = window.editor_actions
    # A new paragraph after the first: one row inserted, the selected one moves down with it.
    first = model.block_at(0)
    assert first is not None
    session.push(commands.ChapterEditCommand(
        session, model.chapter.id, "New paragraph",  # type: ignore[union-attr]
        lambda p: m.insert_block(p, model.chapter.id, 1, "Inserted.")))  # type: ignore[union-attr]
    assert inserted == [(1, 1)] and not resets
    assert window.selected_blocks() == [last.id] and view.currentIndex().row() == 3
    session.undo_stack.undo()
    assert window.selected_blocks() == [last.id] and view.currentIndex().row() == 2
    session.undo_stack.redo()
    assert window.selected_blocks() == [last.id]
    session.undo_stack.undo()
    # Merge: the merged paragraph is current and selected.
    _select_rows(window, [0])
    assert actions.merge_with_next()
    assert model.rowCount() == 2 and view.currentIndex().row() == 0
    assert window.selected_blocks() == [first.id]
    session.undo_stack.undo()  # the second paragraph comes back; the first stays selected
    assert model.rowCount() == 3 and window.selected_blocks() == [first.id]
    # Delete: the next paragraph becomes current.
    second = model.block_at(1)
    assert second is not None
    _select_rows(window, [0])
    assert actions.delete_paragraphs()
    assert view.currentIndex().row() == 0 and window.selected_blocks() == [second.id]
    assert not resets


def _wait_measured(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    view, model = window.block_view, window.blocks_model
    qtbot.waitUntil(lambda: not view.visualRect(model.index(model.rowCount() - 1)).isEmpty(),
                    timeout=60_000)


def _in_viewport(window: MainWindow, row: int) -> bool:
    view = window.block_view
    rect = view.visualRect(window.blocks_model.index(row))
    return not rect.isEmpty() and view.viewport().rect().intersects(rect)


def test_structural_edits_in_a_5000_paragraph_chapter_keep_the_scroll(qtbot, tmp_path: Path
                                                                      ) -> None:  # type: ignore[no-untyped-def]
    import time

    window = _window(qtbot, _long_chapter_file(tmp_path, 5000))
    view, model = window.block_view, window.blocks_model
    session = window.session
    assert session is not None
    _wait_measured(qtbot, window)
    row = 3000
    view.scrollTo(model.index(row), view.ScrollHint.PositionAtCenter)
    _select_rows(window, [row])
    bar = view.verticalScrollBar()
    scrolled = bar.value()
    assert scrolled > 100_000 and _in_viewport(window, row)
    actions = window.editor_actions
    merged = model.block_at(row)
    assert merged is not None

    start = time.perf_counter()
    assert actions.merge_with_next()
    QApplication.processEvents()
    assert time.perf_counter() - start < 2.0
    assert abs(bar.value() - scrolled) < 5 and view.currentIndex().row() == row
    assert window.selected_blocks() == [merged.id] and _in_viewport(window, row)
    session.undo_stack.undo()
    QApplication.processEvents()
    assert abs(bar.value() - scrolled) < 5 and window.selected_blocks() == [merged.id]

    # Split in the editor: the second half is current, edited, on screen.
    view.edit(model.index(row))
    editor = _delegate(window).active_editor()
    assert editor is not None and editor.isVisible()
    assert abs(bar.value() - scrolled) < 5  # opening the editor did not jump to the top
    cursor = editor.textCursor()
    cursor.setPosition(editor.toPlainText().index("The river"))
    editor.setTextCursor(cursor)
    assert actions.split_here()
    QApplication.processEvents()
    assert view.currentIndex().row() == row + 1
    editor = _delegate(window).active_editor()
    assert editor is not None and editor.block_id == model.block_at(row + 1).id  # type: ignore[union-attr]
    assert view.viewport().rect().contains(editor.geometry().center())
    assert abs(bar.value() - scrolled) < 200
    close = QAbstractItemDelegate.EndEditHint.NoHint
    view.closeEditor(editor, close)

    # Delete: the next paragraph is current and on screen.
    after = model.block_at(row + 2)
    assert after is not None
    _select_rows(window, [row + 1])
    assert actions.delete_paragraphs()
    QApplication.processEvents()
    assert window.selected_blocks() == [after.id] and view.currentIndex().row() == row + 1
    assert _in_viewport(window, row + 1) and abs(bar.value() - scrolled) < 200


# ---------------------------------------------------------------------------------------------
# The editor's cursor stays in view


def _cursor_in_viewport(window: MainWindow, editor: ParagraphEditor) -> bool:
    viewport = window.block_view.viewport()
    rect = editor.cursorRect()
    top_left = editor.viewport().mapTo(viewport, rect.topLeft())
    return viewport.rect().contains(top_left) and viewport.rect().contains(
        top_left + rect.bottomRight() - rect.topLeft())


def test_the_cursor_of_a_long_paragraph_stays_in_view(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    assert session is not None
    view, model = window.block_view, window.blocks_model
    block = model.block_at(1)
    assert block is not None
    long_text = " ".join(f"Word{i} ran past the mills." for i in range(120))  # ~3,000 chars
    assert len(long_text) > 3000
    session.push(commands.SetBlockTextCommand(session, block.id, long_text))
    view.scrollTo(model.index(1), view.ScrollHint.PositionAtTop)
    view.setCurrentIndex(model.index(1))
    view.edit(model.index(1))
    editor = _delegate(window).active_editor()
    assert editor is not None
    QApplication.processEvents()
    assert editor.height() > view.viewport().height()  # taller than the list shows
    editor.setFocus()
    for step in range(60):
        qtbot.keyClick(editor, Qt.Key.Key_Down)
        QApplication.processEvents()
        assert _cursor_in_viewport(window, editor), f"Down #{step + 1}"
    qtbot.keyClick(editor, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(editor, " And on it went, on and on, into the night and out again.")
    QApplication.processEvents()
    assert _cursor_in_viewport(window, editor)
    for step in range(60):
        qtbot.keyClick(editor, Qt.Key.Key_Up)
        QApplication.processEvents()
        assert _cursor_in_viewport(window, editor), f"Up #{step + 1}"


# ---------------------------------------------------------------------------------------------
# The paragraph being spoken


@pytest.mark.parametrize("palette", [theme.light_palette, theme.dark_palette],
                         ids=["light", "dark"])
def test_the_spoken_paragraph_is_tinted_until_playback_stops(window: MainWindow, palette,  # type: ignore[no-untyped-def]
                                                             tmp_path: Path) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    app.setPalette(palette())
    view, model = window.block_view, window.blocks_model
    _select_rows(window, [0])
    QApplication.processEvents()

    def background(row: int) -> QColor:
        image = view.viewport().grab().toImage()
        rect = view.visualRect(model.index(row))
        return QColor(image.pixel(rect.right() - 4, rect.bottom() - 2))

    base = view.palette().color(QPalette.ColorRole.Base)
    highlight = view.palette().color(QPalette.ColorRole.Highlight)
    assert background(1).name() == base.name()
    spoken = model.block_at(1)
    assert spoken is not None
    window.player_bar.word_spoken.emit(spoken.id, 0)  # what playback reports, word by word
    QApplication.processEvents()
    tint = background(1)
    assert tint.name() == speaking_row_colour(view.palette()).name()
    assert tint.name() not in (base.name(), highlight.name())
    assert background(2).name() == base.name()  # only the paragraph being spoken
    assert background(0).name() == highlight.name()  # the selection is unchanged
    if palette is theme.light_palette:
        window.grab().save(str(tmp_path / "spoken_light.png"))
    else:
        window.grab().save(str(tmp_path / "spoken_dark.png"))
    window.player_bar.word_spoken.emit(model.block_at(2).id, 0)  # type: ignore[union-attr]
    QApplication.processEvents()
    assert background(1).name() == base.name() and background(2).name() == tint.name()
    window.player_bar.player.state_changed.emit("stopped")
    QApplication.processEvents()
    assert background(2).name() == base.name()


# ---------------------------------------------------------------------------------------------
# The generating stripe moves


def test_the_generating_stripe_is_animated_only_while_generating(window: MainWindow, qtbot  # type: ignore[no-untyped-def]
                                                                 ) -> None:
    view, model = window.block_view, window.blocks_model
    delegate = _delegate(window)
    timer = view.stripe_timer
    assert not timer.isActive()
    assert 1000 / 15 <= timer.interval() <= 1000 / 10
    block = model.block_at(1)
    assert block is not None
    view.clearSelection()
    model.generating.add(block.id)
    model.refresh(frozenset({block.id}))
    assert timer.isActive()
    stripe = delegate.stripe_rect(view.visualRect(model.index(1)))

    def stripe_pixels() -> list[int]:
        image = view.viewport().grab(stripe).toImage()
        return [image.pixel(x, y) for y in range(image.height()) for x in range(image.width())]

    phase = delegate.stripe_phase
    first = stripe_pixels()
    qtbot.waitUntil(lambda: (delegate.stripe_phase - phase) % delegate.STRIPE_FRAMES >= 4,
                    timeout=3000)  # the timer moves the band on
    assert stripe_pixels() != first
    other = delegate.stripe_rect(view.visualRect(model.index(2)))  # not generating: still
    image = view.viewport().grab(other).toImage()
    assert len({image.pixel(x, y) for y in range(image.height())
                for x in range(image.width())}) == 1
    model.generating.discard(block.id)
    model.refresh(frozenset({block.id}))
    assert not timer.isActive()


# ---------------------------------------------------------------------------------------------
# Return, Tab and Escape in the paragraph editor


def _edit(window: MainWindow, qtbot, row: int) -> ParagraphEditor:  # type: ignore[no-untyped-def]
    view, model = window.block_view, window.blocks_model
    window.activateWindow()
    view.setCurrentIndex(model.index(row))
    view.edit(model.index(row))
    editor = _delegate(window).active_editor()
    assert editor is not None
    editor.setFocus()
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    return editor


def _texts(window: MainWindow) -> list[str]:
    return [b.text for b in window.blocks_model.chapter.blocks]  # type: ignore[union-attr]


def test_return_commits_and_moves_to_the_next_paragraph(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    view = window.block_view
    before = _texts(window)
    editor = _edit(window, qtbot, 0)
    qtbot.keyClicks(editor, " Indeed.")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    QApplication.processEvents()
    assert _texts(window) == [before[0] + " Indeed.", *before[1:]]  # no line break stored
    assert _delegate(window).active_editor() is None
    assert view.currentIndex().row() == 1 and window.selected_blocks() == [
        window.blocks_model.block_at(1).id]  # type: ignore[union-attr]
    # Shift+Return (and keypad Enter) too, going back up.
    editor = _edit(window, qtbot, 1)
    qtbot.keyClicks(editor, " Yes.")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    QApplication.processEvents()
    assert _texts(window)[1] == before[1] + " Yes." and view.currentIndex().row() == 0
    assert _delegate(window).active_editor() is None
    editor = _edit(window, qtbot, 2)
    qtbot.keyClick(editor, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    QApplication.processEvents()
    assert _texts(window)[2] == before[2] and _delegate(window).active_editor() is None
    assert view.currentIndex().row() == 2  # the last paragraph: it stays current


def test_tab_commits_and_edits_the_next_paragraph(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    before = _texts(window)
    editor = _edit(window, qtbot, 0)
    qtbot.keyClicks(editor, " Indeed.")
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    QApplication.processEvents()
    assert _texts(window)[0] == before[0] + " Indeed."  # committed, and no tab in it
    editor = _delegate(window).active_editor()
    assert editor is not None and editor.block_id == window.blocks_model.block_at(1).id  # type: ignore[union-attr]
    assert "\t" not in editor.toPlainText()
    qtbot.keyClick(editor, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    QApplication.processEvents()
    editor = _delegate(window).active_editor()
    assert editor is not None and editor.block_id == window.blocks_model.block_at(0).id  # type: ignore[union-attr]
    assert _texts(window)[1:] == before[1:]


def test_escape_cancels_the_edit(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    assert session is not None
    before = _texts(window)
    count = session.undo_stack.count()
    editor = _edit(window, qtbot, 1)
    qtbot.keyClicks(editor, " Not kept.")
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    QApplication.processEvents()
    assert _delegate(window).active_editor() is None
    assert _texts(window) == before and session.undo_stack.count() == count
    assert window.block_view.currentIndex().row() == 1
