"""The chapter editor's paragraph edits, driven through the window: break chips, voice spans,
split, merge, new and delete paragraphs; each undone and redone against the project file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QColor, QHelpEvent, QImage, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QApplication,
    QMessageBox,
    QStyleOptionViewItem,
    QToolTip,
    QWidget,
)

from studio.core import model as m
from studio.core.model import VoiceId, VoiceSpan
from studio.core.sample import create_sample_project
from studio.core.store import ProjectStore
from studio.ui.delegates import (
    ParagraphEditor,
    break_warnings,
    normalized_offset,
    paragraph_display,
    speakable_to_raw,
    voice_colour,
)
from studio.ui.editor_actions import (
    NEW_PARAGRAPH_TEXT,
    BreakDialog,
    EditorActions,
    replace_range,
    split_spans,
    with_break,
    with_voice,
)
from studio.ui.main_window import MainWindow
from tests.core.factories import make_take

FOX = VoiceId("v-fox")
CROW = VoiceId("v-crow")
P0 = ("A famished Fox saw some clusters of ripe black grapes hanging from a trellised vine. "
      "She resorted to all her tricks to get at them, but wearied herself in vain, for she "
      "could not reach them.")
P1 = ("At last she turned away, hiding her disappointment and saying: “The Grapes are sour, "
      "and not ripe as I thought.”")
P2 = "It is easy to despise what you cannot get."


@pytest.fixture(autouse=True)
def _test_paths(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)


@pytest.fixture
def window(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    w = MainWindow()
    qtbot.addWidget(w)
    w.open_project(create_sample_project(tmp_path / "sample.studio"))
    assert w.session is not None
    from studio.ui import commands

    for voice_id, alias in ((FOX, "Vixen"), (CROW, "Crow")):
        w.session.push(commands.add_voice(w.session, m.Voice(voice_id, alias)))
    w.session.undo_stack.clear()
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    for box in w.findChildren(QMessageBox):
        box.close()


# -- helpers -------------------------------------------------------------------------------


def actions(window: MainWindow) -> EditorActions:
    return window.editor_actions


def blocks(window: MainWindow) -> list[m.Block]:
    chapter = window.blocks_model.chapter
    assert chapter is not None
    return chapter.blocks


def snap(project: m.Project) -> list[Any]:
    return [(c.id, [(b.id, b.text, b.voice_id, b.spans, b.locked, [t.id for t in b.takes])
                    for b in c.blocks]) for c in project.chapters]


def on_disk(window: MainWindow) -> list[Any]:
    assert window.store is not None
    with ProjectStore.open(window.store.path, read_only=True) as store:
        return snap(store.load())


def reopened(window: MainWindow) -> m.Project:
    """Load the project file again, as a fresh open would."""
    assert window.store is not None
    with ProjectStore.open(window.store.path, read_only=True) as store:
        return store.load()


def round_trip(window: MainWindow, before: list[Any], steps: int = 1) -> None:
    """Undo ``steps`` steps (back to ``before``, in memory and on disk), redo, twice over."""
    assert window.session is not None
    stack = window.session.undo_stack
    after = snap(window.session.project)
    assert after != before, "the action changed nothing"
    assert on_disk(window) == after
    for _ in range(2):
        for _ in range(steps):
            stack.undo()
        assert snap(window.session.project) == before == on_disk(window)
        for _ in range(steps):
            stack.redo()
        assert snap(window.session.project) == after == on_disk(window)


def select_row(window: MainWindow, row: int) -> None:
    window.block_view.setFocus()
    window.block_view.setCurrentIndex(window.blocks_model.index(row))


def close_editor(window: MainWindow) -> None:
    editor = actions(window).delegate.active_editor()
    if editor is not None:
        window.block_view.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)


def open_editor(window: MainWindow, row: int, cursor: int, anchor: int | None = None
                ) -> ParagraphEditor:
    close_editor(window)
    index = window.blocks_model.index(row)
    window.block_view.setCurrentIndex(index)
    window.block_view.edit(index)
    editor = actions(window).delegate.active_editor()
    assert editor is not None
    text_cursor = editor.textCursor()
    text_cursor.setPosition(anchor if anchor is not None else cursor)
    text_cursor.setPosition(cursor, text_cursor.MoveMode.KeepAnchor)
    editor.setTextCursor(text_cursor)
    return editor


def when_modal(qtbot, handle: Callable[[Any], None]) -> list[bool]:  # type: ignore[no-untyped-def]
    """Run ``handle`` on the next modal dialog (from inside its event loop)."""
    done: list[bool] = []

    def poll() -> None:
        widget = QApplication.activeModalWidget()
        if widget is None:
            QTimer.singleShot(10, poll)
            return
        handle(widget)
        done.append(True)

    QTimer.singleShot(0, poll)
    return done


def answer_break_dialog(qtbot, seconds: float, choice: int | None = None  # type: ignore[no-untyped-def]
                        ) -> list[bool]:
    def handle(dialog: Any) -> None:
        assert isinstance(dialog, BreakDialog)
        if choice is not None:
            dialog.choice.setCurrentIndex(choice)
        dialog.spin.setValue(seconds)
        dialog.accept()

    return when_modal(qtbot, handle)


def double_click(widget: QWidget, pos: QPoint) -> None:
    """Send a double-click as a window system would: press, release, double-click, release."""
    at = QPointF(pos)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for kind, buttons in ((QEvent.Type.MouseButtonPress, left),
                          (QEvent.Type.MouseButtonRelease, none),
                          (QEvent.Type.MouseButtonDblClick, left),
                          (QEvent.Type.MouseButtonRelease, none)):
        event = QMouseEvent(kind, at, widget.mapToGlobal(at), left, buttons,
                            Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(widget, event)


def row_image(window: MainWindow, row: int) -> QImage:
    view = window.block_view
    rect = view.visualRect(window.blocks_model.index(row))
    return view.viewport().grab(rect).toImage()


def count_colour(image: QImage, colour: QColor, tolerance: int = 6) -> int:
    hits = 0
    for y in range(image.height()):
        for x in range(image.width()):
            c = QColor(image.pixel(x, y))
            if (abs(c.red() - colour.red()) <= tolerance
                    and abs(c.green() - colour.green()) <= tolerance
                    and abs(c.blue() - colour.blue()) <= tolerance):
                hits += 1
    return hits


def refusal_text(window: MainWindow) -> str:
    boxes = [b for b in window.findChildren(QMessageBox, "editRefused") if b.isVisible()]
    assert boxes, "no refusal was shown"
    text = boxes[-1].text()
    for box in boxes:
        box.close()
    return text


# -- text helpers (no Qt) ------------------------------------------------------------------


def test_offsets_between_raw_shown_and_typed_text() -> None:
    raw = 'At last <break time="1.5s" /> she  turned <break time="0.5s" />'
    shown = paragraph_display(raw)
    assert [c.seconds for c in shown.chips] == [1.5, 0.5]
    assert shown.text[shown.shown(raw.index("she")):].startswith("she")
    assert "1.5\u00a0s" in shown.text and "<break" not in shown.text
    spoken = m.speakable_text(raw)
    to_raw = speakable_to_raw(raw)
    assert len(to_raw) == len(spoken)
    assert raw[to_raw[spoken.index("turned")]:].startswith("turned")
    typed = "At  last\n she"
    assert normalized_offset(typed, typed.index("she")) == "At last she".index("she")


def test_span_arithmetic_keeps_voices_on_their_words() -> None:
    text = "one two three four"
    spans = (VoiceSpan(4, 7, FOX),)  # "two"
    new, moved, at = with_break(text, spans, 3, 1.0)  # after "one"
    assert new == 'one <break time="1.0s" /> two three four'
    assert new[moved[0].start:moved[0].end] == "two" and new[at:].startswith("<break")
    assert replace_range(text, spans, 4, 7, "")[1] == ()  # the span's words went
    # A selection trimmed of white space, cutting an existing span; neighbours join.
    assert with_voice(text, spans, 3, 14, CROW) == (VoiceSpan(4, 13, CROW),)
    assert with_voice(text, (VoiceSpan(0, 3, CROW),), 4, 7, CROW) == (
        VoiceSpan(0, 3, CROW), VoiceSpan(4, 7, CROW))
    assert with_voice(text, (VoiceSpan(0, 13, FOX),), 4, 7, None) == (
        VoiceSpan(0, 3, FOX), VoiceSpan(8, 13, FOX))
    # A split through a span leaves each half its part of it.
    assert split_spans(text, (VoiceSpan(0, 13, FOX),), 7) == (
        VoiceSpan(0, 7, FOX), VoiceSpan(8, 13, FOX))
    assert len(break_warnings(" ".join([m.break_tag(1.0)] * 4))) == 1
    assert break_warnings(" ".join([m.break_tag(1.0)] * 3)) == ()


# -- breaks --------------------------------------------------------------------------------


def test_insert_break_at_the_editor_cursor_with_a_chosen_duration(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    before = snap(session.project)
    at = P1.index(" away")  # after "turned"
    editor = open_editor(window, 1, at)
    qtbot.keyClicks(editor, " round")  # typed, not yet committed
    answered = answer_break_dialog(qtbot, 1.5)
    actions(window).insert_break_action.trigger()
    assert answered == [True]
    text = blocks(window)[1].text
    assert text.startswith('At last she turned round <break time="1.5s" /> away, hiding')
    # The editor is open again, its cursor just after the new chip.
    editor = actions(window).delegate.active_editor()
    assert editor is not None and editor.toPlainText() == text
    assert editor.textCursor().position() == text.index("/>") + 2
    assert session.undo_stack.count() == 1  # the typing and the break: one step
    assert window.undo_action.text() == "&Undo Insert break"
    actions(window).delegate.closeEditor.emit(editor, QAbstractItemDelegate.EndEditHint.NoHint)
    round_trip(window, before)
    assert reopened(window).chapters[0].blocks[1].text == text


def test_cancelled_break_keeps_what_was_typed(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    editor = open_editor(window, 2, len(P2))
    qtbot.keyClicks(editor, " Truly.")
    when_modal(qtbot, lambda dialog: dialog.reject())
    assert not actions(window).insert_break()
    assert blocks(window)[2].text == P2 + " Truly."
    assert window.session.undo_stack.count() == 1
    assert window.undo_action.text() == "&Undo Edit text"  # not a break that never was
    editor = actions(window).delegate.active_editor()
    assert editor is not None and editor.textCursor().position() == len(P2 + " Truly.")


def test_insert_break_at_the_end_of_the_selected_paragraph_clamped(window) -> None:  # type: ignore[no-untyped-def]
    before = snap(window.session.project)
    select_row(window, 2)
    assert actions(window).insert_break(5.0)
    assert blocks(window)[2].text == P2 + ' <break time="3.0s" />'
    assert "clamped to 3.0 s" in window.statusBar().currentMessage()
    round_trip(window, before)


def test_break_dialog_refuses_more_than_three_seconds(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = BreakDialog(None, "Insert Break", 1.0)
    qtbot.addWidget(dialog)
    assert dialog.spin.value() == 1.0
    dialog.spin.lineEdit().selectAll()
    qtbot.keyClicks(dialog.spin, "7")
    dialog.spin.interpretText()
    assert dialog.spin.value() <= 3.0
    dialog.spin.setValue(0.01)
    assert dialog.spin.value() == pytest.approx(0.1)


def test_edit_a_break_by_double_clicking_its_chip(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    select_row(window, 0)
    actions(window).insert_break(1.0)
    before = snap(window.session.project)
    view = window.block_view
    index = window.blocks_model.index(0)
    chips = actions(window).delegate.chip_rects(view, index)
    assert len(chips) == 1
    answered = answer_break_dialog(qtbot, 2.5)
    double_click(view.viewport(), chips[0].center())
    assert answered == [True]
    assert blocks(window)[0].text == P0 + ' <break time="2.5s" />'
    assert actions(window).delegate.active_editor() is None  # no paragraph editor opened
    round_trip(window, before)


def test_edit_the_break_at_the_editor_cursor_keeps_spans_in_place(window) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    from studio.ui import commands

    text = 'At last <break time="1.25s" /> she turned away.'
    block_id = blocks(window)[1].id
    session.push(commands.SetBlockTextCommand(session, block_id, text))
    she = text.index("she")
    session.push(commands.set_block_spans(session, block_id, [VoiceSpan(she, she + 3, FOX)]))
    before = snap(session.project)
    open_editor(window, 1, text.index("<break") + 3)  # snaps to the chip's edge
    assert actions(window).edit_break(0.5)
    new = blocks(window)[1].text
    assert new == 'At last <break time="0.5s" /> she turned away.'
    span = blocks(window)[1].spans[0]
    assert new[span.start:span.end] == "she"
    round_trip(window, before)
    # With the cursor away from any break, nothing changes.
    open_editor(window, 1, 2)
    assert not actions(window).edit_break(1.0)
    assert "next to a break" in window.statusBar().currentMessage()


def test_edit_break_choose_among_several(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    select_row(window, 0)
    actions(window).insert_break(1.0)
    actions(window).insert_break(2.0)
    answered = answer_break_dialog(qtbot, 0.3, choice=1)
    assert actions(window).edit_break()
    assert answered == [True]
    assert blocks(window)[0].text.endswith('<break time="1.0s" /> <break time="0.3s" />')


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # the offscreen tooltip
def test_warning_badge_and_tooltip_beyond_three_breaks(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    delegate = actions(window).delegate
    select_row(window, 2)
    for _ in range(3):
        actions(window).insert_break(0.5)
    index = window.blocks_model.index(2)
    assert delegate.warnings(index) == ()
    select_row(window, 0)  # the row under test unselected: its own colours
    amber = QColor(232, 150, 20)
    assert count_colour(row_image(window, 2), amber) == 0
    select_row(window, 2)
    actions(window).insert_break(0.5)
    assert "4 breaks" in delegate.warnings(index)[0]
    assert "more than 3" in window.statusBar().currentMessage()
    select_row(window, 0)
    assert count_colour(row_image(window, 2), amber) > 20  # the badge is painted
    # Its tooltip gives the reason.
    view = window.block_view
    rect = view.visualRect(index)
    pos = QPoint(rect.right() - 11, rect.top() + 12)
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.rect = rect
    option.font = view.font()
    event = QHelpEvent(QHelpEvent.Type.ToolTip, pos, view.viewport().mapToGlobal(pos))
    assert delegate.helpEvent(event, view, option, index)
    assert "4 breaks in one paragraph" in QToolTip.text()
    QToolTip.hideText()


def test_editor_shows_chips_that_delete_as_one(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    select_row(window, 2)
    actions(window).insert_break(1.0)
    text = blocks(window)[2].text
    end = len(text)
    editor = open_editor(window, 2, end)
    image = editor.viewport().grab().toImage()
    assert count_colour(image, QColor(215, 225, 245), tolerance=3) > 30  # the chip's fill
    # The cursor never stops inside a tag: moving left from its end jumps over it.
    qtbot.keyClick(editor, Qt.Key.Key_Left)
    assert editor.textCursor().position() == text.index("<break")
    qtbot.keyClick(editor, Qt.Key.Key_End)
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)  # one key removes the whole tag
    assert editor.toPlainText() == P2 + " "
    window.block_view.commitData(editor)
    assert blocks(window)[2].text == P2


# -- voice spans ---------------------------------------------------------------------------


def test_voice_for_an_editor_selection_from_its_context_menu(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    select_row(window, 1)
    actions(window).insert_break(1.0)  # a tag in the paragraph: raw and shown offsets differ
    from studio.ui import commands

    tagged = 'At last <break time="1.0s" /> she turned away, hiding her disappointment.'
    session.push(commands.SetBlockTextCommand(session, blocks(window)[1].id, tagged))
    before = snap(session.project)
    start = tagged.index("she turned")
    editor = open_editor(window, 1, start + len("she turned"), anchor=start)
    menu = editor.context_menu(QPoint(5, 5))
    voices = next(a.menu() for a in menu.actions() if a.menu() is not None
                  and a.menu().objectName() == "editorVoiceMenu")
    assert voices.isEnabled()
    vixen = next(a for a in voices.actions() if a.text() == "Vixen")
    vixen.trigger()
    block = blocks(window)[1]
    assert block.spans == (VoiceSpan(start, start + len("she turned"), FOX),)
    assert block.text[block.spans[0].start:block.spans[0].end] == "she turned"
    assert block.voice_id is None  # the paragraph keeps its own voice
    editor = actions(window).delegate.active_editor()
    assert editor is not None
    window.block_view.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)
    # The span is painted in the voice's colour, and the legend names the voice.
    select_row(window, 0)
    assert count_colour(row_image(window, 1), voice_colour(FOX), tolerance=2) > 100
    qtbot.waitUntil(lambda: actions(window).legend.isVisible())
    assert "Vixen" in actions(window).legend.text()
    round_trip(window, before)
    assert reopened(window).chapters[0].blocks[1].spans == block.spans


def test_voices_panel_assigns_the_words_selected_in_the_editor(window) -> None:  # type: ignore[no-untyped-def]
    before = snap(window.session.project)
    panel = window.voices_panel
    editor = open_editor(window, 0, 0)
    editor.setPlainText("A  famished Fox\n saw some clusters.")  # typed with odd white space
    cursor = editor.textCursor()
    cursor.setPosition(editor.toPlainText().index("Fox"))
    cursor.setPosition(editor.toPlainText().index("Fox") + 3, cursor.MoveMode.KeepAnchor)
    editor.setTextCursor(cursor)
    # Clicking the panel takes the focus: the editor commits and closes first.
    window.block_view.commitData(editor)
    window.block_view.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)
    panel.list.setCurrentRow([panel.list.item(i).text() for i in range(panel.list.count())]
                             .index("Crow"))
    panel.assign_to_selection()
    block = blocks(window)[0]
    assert block.text == "A famished Fox saw some clusters."
    assert block.text[block.spans[0].start:block.spans[0].end] == "Fox"
    assert block.spans[0].voice_id == CROW and block.voice_id is None
    round_trip(window, before, steps=2)  # the typing, then the span
    # Without a selection in an editor, the panel gives whole paragraphs the voice.
    select_row(window, 2)
    panel.assign_to_selection()
    assert blocks(window)[2].voice_id == CROW and blocks(window)[2].spans == ()


def test_clear_voice_spans(window) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    from studio.ui import commands

    block_id = blocks(window)[2].id
    session.push(commands.set_block_spans(session, block_id, [VoiceSpan(0, 5, FOX),
                                                             VoiceSpan(6, 10, CROW)]))
    before = snap(session.project)
    select_row(window, 2)
    assert actions(window).clear_voice_spans()
    assert blocks(window)[2].spans == ()
    round_trip(window, before)
    # Clearing only the selected words, from the editor.
    session.undo_stack.undo()
    open_editor(window, 2, 10, anchor=6)
    assert actions(window).clear_voice_spans()
    assert blocks(window)[2].spans == (VoiceSpan(0, 5, FOX),)


# -- split, merge, new, delete -------------------------------------------------------------


def test_split_at_the_editor_cursor(window) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    from studio.ui import commands

    ids = [b.id for b in blocks(window)]
    cut = P0.index("She resorted")
    session.push(commands.set_block_spans(session, ids[0], [VoiceSpan(2, cut + 3, FOX)]))
    before = snap(session.project)
    open_editor(window, 0, cut)
    actions(window).split_action.trigger()
    first, second = blocks(window)[0], blocks(window)[1]
    assert first.id == ids[0] and second.id not in ids
    assert first.text == P0[:cut].rstrip() and second.text == P0[cut:]
    assert first.spans == (VoiceSpan(2, cut - 1, FOX),) and second.spans == (
        VoiceSpan(0, 3, FOX),)
    assert [b.text for b in blocks(window)[2:]] == [P1, P2]
    editor = actions(window).delegate.active_editor()  # now editing the second half
    assert editor is not None and editor.block_id == second.id
    assert editor.textCursor().position() == 0
    window.block_view.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)
    round_trip(window, before)
    assert [b.text for b in reopened(window).chapters[0].blocks] == [
        first.text, second.text, P1, P2]


def test_split_needs_words_on_both_sides(window) -> None:  # type: ignore[no-untyped-def]
    before = snap(window.session.project)
    open_editor(window, 2, 0)
    assert not actions(window).split_here()
    assert "between words" in window.statusBar().currentMessage()
    select_row(window, 2)
    assert not actions(window).split_here()  # no editor: no cursor to split at
    assert snap(window.session.project) == before


def test_merge_with_next(window) -> None:  # type: ignore[no-untyped-def]
    before = snap(window.session.project)
    select_row(window, 1)
    actions(window).merge_action.trigger()
    assert [b.text for b in blocks(window)] == [P0, f"{P1} {P2}"]
    round_trip(window, before)
    select_row(window, 1)
    assert not actions(window).merge_with_next()
    assert "last paragraph" in window.statusBar().currentMessage()


def test_typing_then_merge_by_shortcut_is_one_step(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    before = snap(window.session.project)
    window.activateWindow()
    qtbot.waitActive(window)
    editor = open_editor(window, 1, len(P1))
    editor.setFocus()
    qtbot.keyClicks(editor, " So")
    qtbot.keyClick(editor, Qt.Key.Key_M,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert [b.text for b in blocks(window)] == [P0, f"{P1} So {P2}"]
    editor = actions(window).delegate.active_editor()  # still editing, at the join
    assert editor is not None and editor.textCursor().position() == len(P1) + 4
    assert window.undo_action.text() == "&Undo Merge paragraphs"
    close_editor(window)
    round_trip(window, before)


def test_new_paragraph_after_then_delete_it(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    before = snap(window.session.project)
    select_row(window, 0)
    actions(window).new_paragraph_action.trigger()
    assert [b.text for b in blocks(window)] == [P0, NEW_PARAGRAPH_TEXT, P1, P2]
    editor = actions(window).delegate.active_editor()
    assert editor is not None and editor.textCursor().selectedText() == NEW_PARAGRAPH_TEXT
    qtbot.keyClicks(editor, "Then she sat down.")  # typing replaces the placeholder
    window.block_view.commitData(editor)
    window.block_view.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)
    assert blocks(window)[1].text == "Then she sat down."
    round_trip(window, before, steps=2)
    assert [b.text for b in reopened(window).chapters[0].blocks][1] == "Then she sat down."

    before = snap(window.session.project)
    select_row(window, 1)
    assert actions(window).delete_paragraphs()  # no narration: no question asked
    assert [b.text for b in blocks(window)] == [P0, P1, P2]
    round_trip(window, before)


def test_delete_narrated_paragraphs_asks_first(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    session.add_take(make_take(session.project, blocks(window)[1].id))
    before = snap(session.project)
    select_row(window, 1)
    when_modal(qtbot, lambda box: box.button(QMessageBox.StandardButton.No).click())
    assert not actions(window).delete_paragraphs()
    assert snap(session.project) == before
    asked: list[str] = []

    def yes(box: Any) -> None:
        asked.append(box.text())
        box.button(QMessageBox.StandardButton.Yes).click()

    when_modal(qtbot, yes)
    assert actions(window).delete_paragraphs()
    assert "narration (1 take)" in asked[0]
    assert [b.text for b in blocks(window)] == [P0, P2]
    round_trip(window, before)
    session.undo_stack.undo()
    assert session.store.load_take_audio(blocks(window)[1].takes[0].id)  # audio came back


def test_locked_paragraphs_refuse_every_edit(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    from studio.ui import commands

    for block in blocks(window)[1:]:
        session.push(commands.set_block_locked(session, block.id, True))
    before, steps = snap(session.project), session.undo_stack.count()
    ea = actions(window)
    select_row(window, 1)
    assert not ea.insert_break(1.0)
    assert refusal_text(window) == "Paragraph ¶2 is locked; unlock it first (Ctrl+L)."
    assert "¶2 is locked" in window.statusBar().currentMessage()
    select_row(window, 0)
    assert not ea.merge_with_next()  # the next one is locked
    assert "¶2 is locked" in refusal_text(window)
    window.block_view.selectAll()
    assert not ea.delete_paragraphs()
    assert refusal_text(window) == (
        "Paragraphs ¶2, ¶3 are locked; unlock them first (Ctrl+L).")
    assert ea.new_paragraph_after()  # adding next to a locked paragraph changes neither
    session.undo_stack.undo()
    # A locked paragraph opens no editor, so there is no cursor to split or select in.
    index = window.blocks_model.index(1)
    assert not window.blocks_model.flags(index) & Qt.ItemFlag.ItemIsEditable
    select_row(window, 1)
    assert not ea.split_here()
    assert snap(session.project) == before and session.undo_stack.count() == steps + 1
    session.undo_stack.setIndex(steps)
    assert snap(session.project) == before


def test_paragraph_context_menu_and_shortcuts(window) -> None:  # type: ignore[no-untyped-def]
    ea = actions(window)
    menu = ea.paragraph_menu()
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    for wanted in ("Insert &Break…", "&Edit Break…", "&Voice for Selection",
                   "&Clear Voice Spans", "&Merge with Next", "&New Paragraph After",
                   "&Delete Paragraph", "&Lock / Unlock Paragraph"):
        assert wanted in texts
    ours = {
        ea.insert_break_action: "Ctrl+B", ea.edit_break_action: "Ctrl+Shift+B",
        ea.split_action: "Ctrl+Shift+Return", ea.merge_action: "Ctrl+Shift+M",
        ea.new_paragraph_action: "Ctrl+Return",
    }
    for action, keys in ours.items():
        assert action.shortcut().toString() == keys
    from PySide6.QtGui import QAction

    taken: dict[str, list[str]] = {}
    for action in window.findChildren(QAction):
        for seq in action.shortcuts():
            taken.setdefault(seq.toString(), []).append(action.text())
    for action in [*ours, ea.delete_action]:
        clashes = taken[action.shortcut().toString()]
        assert clashes == [action.text()], f"{action.text()} clashes with {clashes}"
    from PySide6.QtWidgets import QToolBar

    toolbar = window.findChild(QToolBar, "mainToolbar")
    assert toolbar is not None and ea.insert_break_action in toolbar.actions()


def test_window_screenshot_shows_chips_and_spans(window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    from studio.ui import commands

    select_row(window, 0)
    actions(window).insert_break(1.0)
    session.push(commands.set_block_spans(session, blocks(window)[1].id,
                                          [VoiceSpan(0, 18, CROW)]))
    select_row(window, 2)
    image = window.grab().toImage()
    assert count_colour(image, voice_colour(CROW), tolerance=2) > 100
    assert not image.isNull()
