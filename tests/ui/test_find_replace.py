"""Find and Replace in the window: stepping through matches, Replace, Replace All and undo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, QStandardPaths, Qt
from PySide6.QtWidgets import QApplication

from studio.core import model as m
from studio.core.errors import EditError
from studio.core.find import find_matches
from studio.core.model import BlockId, BlockStatus, break_tag
from studio.core.store import ProjectStore
from studio.ui import commands
from studio.ui.find_replace import FindReplacePanel
from studio.ui.main_window import MainWindow
from studio.ui.session import ProjectSession
from tests.core.factories import make_project, make_take
from tests.ui.test_commands import assert_undoable

PAUSE = break_tag(1.0)


@pytest.fixture(autouse=True)
def _test_paths() -> None:
    QStandardPaths.setTestModeEnabled(True)


def texts(project: m.Project) -> dict[str, str]:
    return {b.id: b.text for _, b in project.iter_blocks()}


def book(tmp_path: Path) -> Path:
    """Store a 3-chapter book: foxes in chapters 1 and 3, one of them locked, one narrated."""
    project = make_project(chapters=3, blocks=3)
    project.block(BlockId("c0b1")).text = f"The fox ran. {PAUSE} The Fox hid."
    project.block(BlockId("c1b0")).text = "No animals here, only a foxglove."
    project.block(BlockId("c2b0")).text = "Another fox appeared."
    project.block(BlockId("c2b2")).text = "A fox, locked away."
    project.block(BlockId("c2b2")).locked = True
    m.add_take(project, make_take(project, BlockId("c2b0")))  # narrated: goes stale on replace
    path = tmp_path / "book.studio"
    ProjectStore.create(path, project).close()
    return path


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    QSettings().remove("window/state")  # the default layout: the find dock hidden
    win = MainWindow()
    qtbot.addWidget(win)
    win.open_project(book(tmp_path))
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


def panel_of(window: MainWindow) -> FindReplacePanel:
    panel = window.find_panel  # type: ignore[attr-defined]
    assert isinstance(panel, FindReplacePanel)
    return panel


def where(window: MainWindow) -> tuple[int, str | None]:
    """Return the current chapter row and the current paragraph's id."""
    block = window.blocks_model.block_at(window.block_view.currentIndex().row())
    return window.chapter_view.currentIndex().row(), block.id if block else None


def search(qtbot: Any, window: MainWindow, query: str, replacement: str = "") -> FindReplacePanel:
    window.find_action.trigger()  # type: ignore[attr-defined]
    panel = panel_of(window)
    qtbot.keyClicks(panel.find_edit, query)
    if replacement:
        qtbot.keyClicks(panel.replace_edit, replacement)
    return panel


def test_find_opens_the_dock_with_focus_and_escape_closes_it(qtbot, window: MainWindow  # type: ignore[no-untyped-def]
                                                            ) -> None:
    panel = panel_of(window)
    dock = window.find_dock  # type: ignore[attr-defined]
    assert not dock.isVisible()
    window.find_action.trigger()  # type: ignore[attr-defined]
    assert dock.isVisible()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.find_edit)
    qtbot.keyClicks(panel.find_edit, "fox")
    window.replace_action.trigger()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.replace_edit)
    labels = [a.text() for a in window.edit_menu.actions()]
    at = labels.index("&Find…")
    assert labels[at:at + 4] == ["&Find…", "R&eplace…", "Find &Next", "Find Pre&vious"]
    qtbot.keyClick(panel.replace_edit, Qt.Key.Key_Escape)
    assert not dock.isVisible()


def test_next_and_previous_step_through_the_book(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    panel = search(qtbot, window, "fox")
    qtbot.waitUntil(lambda: panel.count_label.text() == "5 matches")
    assert window.chapter_view.currentIndex().row() == 0

    qtbot.keyClick(panel.find_edit, Qt.Key.Key_Return)  # Enter: next
    assert where(window) == (0, "c0b1")
    assert panel.count_label.text() == "1 of 5"
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert where(window) == (0, "c0b1") and panel.count_label.text() == "2 of 5"
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert where(window) == (1, "c1b0")  # switched chapter: "foxglove"
    assert window.chapter_header.text() == "Chapter 2"
    qtbot.keyClick(panel.find_edit, Qt.Key.Key_F3)
    assert where(window) == (2, "c2b0") and panel.count_label.text() == "4 of 5"
    qtbot.keyClick(panel.find_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert where(window) == (1, "c1b0") and panel.count_label.text() == "3 of 5"
    qtbot.keyClick(panel.find_edit, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert panel.count_label.text() == "2 of 5"

    # Results show where each match is, with its context; clicking one goes there.
    rows = [panel.model.index(r).data() for r in range(panel.model.rowCount())]
    assert rows[0] == "Chapter 1 · ¶2 · The fox ran. The Fox hid."
    assert rows[4] == "Chapter 3 · ¶3 · A fox, locked away."
    panel.results.setCurrentIndex(panel.model.index(4))
    assert where(window) == (2, "c2b2") and panel.count_label.text() == "5 of 5"
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)  # wraps to the start
    assert where(window) == (0, "c0b1") and panel.count_label.text() == "1 of 5"


def test_options_narrow_the_search(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    panel = search(qtbot, window, "fox")
    panel.word_box.setChecked(True)
    panel.refresh()
    assert panel.count_label.text() == "4 matches"  # not "foxglove"
    panel.case_box.setChecked(True)
    panel.refresh()
    assert panel.count_label.text() == "3 matches"  # not "Fox"
    panel.find_edit.setText("(fox")
    panel.regex_box.setChecked(True)
    panel.refresh()
    assert panel.count_label.text() == "Invalid regex"
    assert "missing )" in panel.count_label.toolTip()
    assert not panel.replace_all_button.isEnabled()
    panel.find_edit.setText("break")
    panel.refresh()
    assert panel.count_label.text() == "No results"  # never inside a break tag


def test_replace_all_is_one_undo_step_and_is_saved(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    assert session is not None
    path = session.store.path
    before = texts(session.project)
    assert m.block_status(session.project, session.project.block(BlockId("c2b0"))) is (
        BlockStatus.CONVERTED)

    panel = search(qtbot, window, "fox", "hare")
    panel.word_box.setChecked(True)
    qtbot.mouseClick(panel.replace_all_button, Qt.MouseButton.LeftButton)

    after = texts(session.project)
    assert after["c0b1"] == f"The hare ran. {PAUSE} The hare hid."
    assert after["c2b0"] == "Another hare appeared."
    assert after["c1b0"] == "No animals here, only a foxglove."  # whole word
    assert after["c2b2"] == "A fox, locked away."  # locked: skipped
    assert {k for k in after if after[k] != before[k]} == {"c0b1", "c2b0"}
    assert window.statusBar().currentMessage() == (
        "Replaced 3 in 2 paragraphs; 1 locked paragraph skipped")
    assert panel.count_label.text() == "1 match"  # only the locked one is left
    assert session.undo_stack.count() == 1
    assert session.undo_stack.undoText() == "Replace all 'fox' with 'hare'"
    block = session.project.block(BlockId("c2b0"))
    assert m.block_status(session.project, block) is BlockStatus.STALE

    with ProjectStore.open(path, read_only=True) as store:  # written through at once
        assert texts(store.load()) == after

    window.undo_action.trigger()  # one undo restores every paragraph
    assert texts(session.project) == before
    assert m.block_status(session.project, block) is BlockStatus.CONVERTED
    qtbot.waitUntil(lambda: panel.count_label.text() == "4 matches")
    window.redo_action.trigger()
    assert texts(session.project) == after
    window.undo_action.trigger()
    window.redo_action.trigger()
    assert texts(session.project) == after

    window.close()  # reopen the file: the replacement was persisted
    with ProjectStore.open(path) as store:
        assert texts(store.load()) == after


def test_replace_all_with_regex_groups(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    assert session is not None
    panel = search(qtbot, window, r"Paragraph (\d) of chapter (\d)", r"Part \2.\1")
    panel.regex_box.setChecked(True)
    panel.replace_all()
    assert session.project.block(BlockId("c1b2")).text == "Part 2.3."
    assert window.statusBar().currentMessage() == "Replaced 5 in 5 paragraphs"


def test_replace_all_with_only_locked_matches_changes_nothing(qtbot, window: MainWindow  # type: ignore[no-untyped-def]
                                                              ) -> None:
    session = window.session
    assert session is not None
    panel = search(qtbot, window, "locked", "free")
    panel.replace_all()
    assert session.undo_stack.count() == 0
    assert window.statusBar().currentMessage() == "Nothing replaced; 1 locked paragraph skipped"


def test_replace_replaces_the_current_match_and_moves_on(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    assert session is not None
    before = texts(session.project)
    panel = search(qtbot, window, "fox", "cat")
    panel.word_box.setChecked(True)
    qtbot.mouseClick(panel.replace_button, Qt.MouseButton.LeftButton)  # first: go to a match
    assert session.undo_stack.count() == 0 and panel.count_label.text() == "1 of 4"
    qtbot.keyClick(panel.replace_edit, Qt.Key.Key_Return)  # Enter in the replace field
    assert session.project.block(BlockId("c0b1")).text == f"The cat ran. {PAUSE} The Fox hid."
    assert panel.count_label.text() == "1 of 3"  # now on "Fox", just after the replacement
    assert panel.matches[panel.current or 0].matched == "Fox"
    panel.replace()
    panel.replace()
    assert session.project.block(BlockId("c2b0")).text == "Another cat appeared."
    assert where(window) == (2, "c2b2") and panel.matches[panel.current or 0].locked
    panel.replace()  # locked: refused, says so and moves on
    assert "locked" in window.statusBar().currentMessage()
    assert session.project.block(BlockId("c2b2")).text == "A fox, locked away."
    assert session.undo_stack.count() == 3
    for _ in range(3):
        window.undo_action.trigger()
    assert texts(session.project) == before


def test_results_follow_edits_and_a_newly_opened_project(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                         tmp_path: Path) -> None:
    session = window.session
    assert session is not None
    panel = search(qtbot, window, "fox")
    qtbot.waitUntil(lambda: panel.count_label.text() == "5 matches")
    session.push(commands.SetBlockTextCommand(session, BlockId("c0b0"), "A fox and a fox."))
    qtbot.waitUntil(lambda: panel.count_label.text() == "7 matches")

    other = make_project(chapters=1, blocks=2)
    other.chapters[0].blocks[0].text = "One fox only."
    ProjectStore.create(tmp_path / "other.studio", other).close()
    window.open_project(tmp_path / "other.studio")
    assert panel.session is window.session
    assert panel.count_label.text() == "1 match"


@pytest.fixture
def book_session(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Yield a session on 3 chapters of 4 narrated paragraphs (as test_commands does)."""
    project = make_project(chapters=3, blocks=4)
    for _, block in project.iter_blocks():
        m.add_take(project, make_take(project, block.id))
    s = ProjectSession(ProjectStore.create(tmp_path / "b.studio", project), project)
    yield s
    s.close()


def test_replace_commands_round_trip_through_undo(book_session: ProjectSession) -> None:
    """Replace All over three chapters (one paragraph locked) and Replace one, undo/redo twice."""
    session = book_session
    assert_undoable(session, commands.set_block_locked(session, BlockId("c1b1"), True))
    command = commands.replace_all(session, "paragraph", "Part")
    assert command.plan is not None
    assert (command.plan.paragraphs, command.plan.locked_paragraphs) == (11, 1)
    assert_undoable(session, command)
    assert session.project.block(BlockId("c2b3")).text == "Part 4 of chapter 3."
    assert session.project.block(BlockId("c1b1")).text == "Paragraph 2 of chapter 2."
    assert all(m.block_status(session.project, b) is BlockStatus.STALE
               for _, b in session.project.iter_blocks() if b.id != "c1b1")

    (match,) = [x for x in find_matches(session.project, "chapter 3") if x.block_id == "c2b3"]
    assert_undoable(session, commands.replace_match(session, match, "chapter 3", "the end"))
    assert session.project.block(BlockId("c2b3")).text == "Part 4 of the end."
    with pytest.raises(EditError):
        session.push(commands.replace_all(session, "nothing like this", "x"))
    assert session.undo_stack.count() == 3  # the refused push left no step


def test_find_prefills_the_word_selected_in_the_paragraph_editor(qtbot, window: MainWindow  # type: ignore[no-untyped-def]
                                                                 ) -> None:
    from PySide6.QtGui import QTextCursor
    from PySide6.QtWidgets import QPlainTextEdit

    index = window.blocks_model.index(1)
    window.block_view.setCurrentIndex(index)
    window.block_view.edit(index)
    editor = window.block_view.findChild(QPlainTextEdit, "paragraphEditor")
    assert editor is not None
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus)
    cursor = editor.textCursor()
    cursor.setPosition(4)
    cursor.setPosition(7, QTextCursor.MoveMode.KeepAnchor)
    editor.setTextCursor(cursor)
    window.find_action.trigger()  # type: ignore[attr-defined]
    panel = panel_of(window)
    assert panel.find_edit.text() == "fox"
    assert panel.count_label.text() == "5 matches"


def test_find_and_replace_all_see_what_is_being_typed(qtbot, window: MainWindow  # type: ignore[no-untyped-def]
                                                      ) -> None:
    """Typing not yet committed is saved first: found, and not lost to a Replace All."""
    from PySide6.QtWidgets import QPlainTextEdit

    session = window.session
    assert session is not None
    index = window.blocks_model.index(1)
    block = window.blocks_model.block_at(1)
    assert block is not None
    window.block_view.setCurrentIndex(index)
    window.block_view.edit(index)
    editor = window.block_view.findChild(QPlainTextEdit, "paragraphEditor")
    assert editor is not None
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus)
    editor.setPlainText("A zebra and a fox.")
    panel = panel_of(window)
    panel.find_edit.setText("zebra")
    panel.find_next()  # F3 with the editor still open
    assert session.project.block(block.id).text == "A zebra and a fox."
    assert panel.matches and panel.matches[panel.current or 0].block_id == block.id
    QApplication.sendPostedEvents(None, 0)  # the closed editor is deleted
    qtbot.waitUntil(lambda: window.block_view.findChild(QPlainTextEdit, "paragraphEditor")
                    is None)
    window.block_view.edit(index)
    editor = window.block_view.findChild(QPlainTextEdit, "paragraphEditor")
    assert editor is not None
    editor.setPlainText("A zebra, a zebra.")
    panel.replace_edit.setText("horse")
    panel.replace_all()
    assert session.project.block(block.id).text == "A horse, a horse."
    QApplication.processEvents()  # the closed editor must not write its old text back
    assert session.project.block(block.id).text == "A horse, a horse."
