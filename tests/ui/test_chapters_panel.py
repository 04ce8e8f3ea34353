"""The chapters sidebar: add, rename, delete and reorder, each undoable and saved at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QPoint, QPointF, QStandardPaths, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox

from studio.core import model as m
from studio.core.importing import import_source
from studio.core.sample import SAMPLE_MANUSCRIPT, resources_dir
from studio.core.store import ProjectStore
from studio.ui.main_window import MainWindow
from tests.core.factories import make_take, wav_bytes

TITLES = ["The Fox and the Grapes", "The Town Mouse and the Country Mouse",
          "The Shepherd's Boy and the Wolf", "The Hare and the Tortoise"]


@pytest.fixture(autouse=True)
def _test_paths() -> None:
    QStandardPaths.setTestModeEnabled(True)


@pytest.fixture
def window(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The window on the sample book; the third chapter is narrated (a take per paragraph)."""
    project, _ = import_source(resources_dir() / SAMPLE_MANUSCRIPT, author="Aesop")
    assert [c.title for c in project.chapters] == TITLES
    for n, block in enumerate(project.chapters[2].blocks):
        m.add_take(project, make_take(project, block.id, audio=wav_bytes(0.1 + n / 10)))
    path = tmp_path / "sample.studio"
    ProjectStore.create(path, project).close()
    win = MainWindow()
    qtbot.addWidget(win)
    win.open_project(path)
    win.resize(1000, 700)
    win.show()
    qtbot.waitExposed(win)
    return win


def on_disk(win: MainWindow) -> list[str]:
    """Return the chapter titles of the project as saved (the file reopened)."""
    assert win.store is not None
    with ProjectStore.open(win.store.path, read_only=True) as store:
        return [c.title for c in store.load().chapters]


def titles(win: MainWindow) -> list[str]:
    assert win.project is not None
    return [c.title for c in win.project.chapters]


def shown(win: MainWindow) -> list[str]:
    model = win.chapters_model
    return [model.index(r).data(Qt.ItemDataRole.EditRole) for r in range(model.rowCount())]


def current_title(win: MainWindow) -> str:
    """Return the current chapter's title, checking the editor shows that same chapter."""
    chapter = win.chapters_model.chapter(win.chapter_view.currentIndex().row())
    assert chapter is not None
    assert win.blocks_model.chapter is chapter
    assert win.chapter_header.text() == chapter.title
    assert win.chapter_view.selectionModel().isSelected(win.chapter_view.currentIndex())
    return chapter.title


def undo(win: MainWindow) -> None:
    win.undo_action.trigger()


def redo(win: MainWindow) -> None:
    win.redo_action.trigger()


def test_add_chapter_after_the_current_one_undo_redo_and_reopen(window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    window.chapter_view.setCurrentIndex(window.chapters_model.index(1))
    asked: list[str] = []

    def get_text(_parent: object, title: str, label: str, text: str = "") -> tuple[str, bool]:
        asked.append(text)
        return ("  Interlude  ", True)

    monkeypatch.setattr(QInputDialog, "getText", get_text)
    window.chapters_panel.add_action.trigger()
    after = [*TITLES[:2], "Interlude", *TITLES[2:]]
    assert asked == ["Chapter 5"]
    assert titles(window) == shown(window) == on_disk(window) == after
    assert current_title(window) == "Interlude"  # the new chapter is selected, ready to type in
    assert window.blocks_model.rowCount() == 1
    assert window.chapters_model.index(2).data() == "3. Interlude"
    assert window.chapters_model.index(3).data() == "4. The Shepherd's Boy and the Wolf"

    undo(window)
    assert titles(window) == shown(window) == on_disk(window) == TITLES
    current_title(window)  # some chapter, and the editor shows that one
    redo(window)
    assert titles(window) == shown(window) == on_disk(window) == after
    undo(window)
    assert on_disk(window) == TITLES


def test_rename_in_place_undo_redo_and_reopen(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    view = window.chapter_view
    view.setCurrentIndex(window.chapters_model.index(3))
    view.setFocus()
    window.chapters_panel.rename_action.trigger()
    editor = view.findChild(QLineEdit)
    assert editor is not None and editor.text() == "The Hare and the Tortoise"
    editor.selectAll()
    qtbot.keyClicks(editor, "The Tortoise Wins")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next event loop turn
    renamed = [*TITLES[:3], "The Tortoise Wins"]
    qtbot.waitUntil(lambda: titles(window) == renamed)
    assert titles(window) == shown(window) == on_disk(window) == renamed
    assert current_title(window) == "The Tortoise Wins"
    assert window.chapters_model.index(3).data() == "4. The Tortoise Wins"
    assert window.undo_action.text() == "&Undo Rename chapter to 'The Tortoise Wins'"

    undo(window)
    assert titles(window) == on_disk(window) == TITLES
    assert current_title(window) == "The Hare and the Tortoise"  # the header follows
    redo(window)
    assert titles(window) == on_disk(window) == renamed
    # An empty or unchanged title is no edit.
    assert not window.chapters_model.setData(window.chapters_model.index(3), "   ")
    assert not window.chapters_model.setData(window.chapters_model.index(3), "The Tortoise Wins")
    assert window.session.undo_stack.count() == 1


def test_delete_names_what_goes_and_undo_brings_the_audio_back(window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    chapter = window.project.chapters[2]
    with ProjectStore.open(window.store.path, read_only=True) as store:
        takes = {t.id: store.load_take_audio(t.id) for b in chapter.blocks for t in b.takes}
    assert len(takes) == 3 and all(audio.startswith(b"RIFF") for audio in takes.values())
    window.chapter_view.setCurrentIndex(window.chapters_model.index(2))
    questions: list[str] = []

    def question(_parent: object, _title: str, text: str, *a: object) -> object:
        questions.append(text)
        return QMessageBox.StandardButton.No if len(questions) == 1 else (
            QMessageBox.StandardButton.Yes)

    monkeypatch.setattr(QMessageBox, "question", question)
    window.chapters_panel.delete_action.trigger()  # "No": nothing happens
    assert titles(window) == on_disk(window) == TITLES
    window.chapters_panel.delete_action.trigger()
    assert "'The Shepherd's Boy and the Wolf'" in questions[0]
    assert "3 paragraphs and 3 narrated takes" in questions[0]
    gone = [t for t in TITLES if t != "The Shepherd's Boy and the Wolf"]
    assert titles(window) == shown(window) == on_disk(window) == gone
    assert current_title(window) == "The Hare and the Tortoise"  # its neighbour is current

    def audio_on_disk() -> dict[str, bytes]:
        with ProjectStore.open(window.store.path, read_only=True) as store:
            return {tid: store.load_take_audio(tid) for tid in takes}

    undo(window)
    assert titles(window) == shown(window) == on_disk(window) == TITLES
    assert audio_on_disk() == takes  # the narration is back, byte for byte
    assert all(m.block_status(window.project, b) is m.BlockStatus.CONVERTED
               for b in window.project.chapters[2].blocks)
    current_title(window)
    redo(window)
    assert on_disk(window) == gone
    undo(window)
    assert audio_on_disk() == takes


def test_delete_refuses_a_chapter_with_locked_paragraphs(window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from studio.ui import commands

    block = window.project.chapters[0].blocks[0]
    window.session.push(commands.set_block_locked(window.session, block.id, True))
    shown_errors: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown_errors.append(box.text()))
    window.chapter_view.setCurrentIndex(window.chapters_model.index(0))
    window.chapters_panel.delete_chapter(confirm=False)
    assert shown_errors and "locked" in shown_errors[0]
    assert titles(window) == on_disk(window) == TITLES


def drop(win: MainWindow, row: int, at_row: int, below: bool) -> None:
    """Drop the chapter at ``row`` on the upper or lower half of the chapter at ``at_row``."""
    view = win.chapter_view
    mime = win.chapters_model.mimeData([win.chapters_model.index(row)])
    rect = view.visualRect(win.chapters_model.index(at_row))
    point = QPoint(rect.center().x(), rect.bottom() - 2 if below else rect.top() + 2)
    event = QDropEvent(QPointF(point), Qt.DropAction.MoveAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    view.dropEvent(event)
    assert event.isAccepted()


def test_drag_and_drop_reorders_and_keeps_the_current_chapter(window) -> None:  # type: ignore[no-untyped-def]
    window.chapter_view.setCurrentIndex(window.chapters_model.index(0))
    drop(window, 0, 2, below=True)  # the first chapter dropped under the third
    moved = [TITLES[1], TITLES[2], TITLES[0], TITLES[3]]
    assert titles(window) == shown(window) == on_disk(window) == moved
    assert current_title(window) == TITLES[0]  # still the dragged chapter, now third
    assert window.chapter_view.currentIndex().row() == 2
    assert window.chapters_model.index(2).data() == f"3. {TITLES[0]}"
    undo(window)
    assert titles(window) == shown(window) == on_disk(window) == TITLES
    assert current_title(window) == TITLES[0] and window.chapter_view.currentIndex().row() == 0
    redo(window)
    assert titles(window) == shown(window) == on_disk(window) == moved

    drop(window, 3, 0, below=False)  # the last chapter dropped above the first
    assert titles(window) == on_disk(window) == [TITLES[3], *moved[:3]]
    assert current_title(window) == TITLES[0]  # the current chapter did not change
    # Dropping a chapter on itself, or the model's moveRows onto its own place, is no edit.
    count = window.session.undo_stack.count()
    drop(window, 1, 1, below=False)
    assert window.chapters_model.moveRow(QModelIndex(), 1, QModelIndex(), 2)
    assert window.session.undo_stack.count() == count


def test_move_up_and_down_actions(window) -> None:  # type: ignore[no-untyped-def]
    panel = window.chapters_panel
    window.chapter_view.setCurrentIndex(window.chapters_model.index(0))
    assert not panel.move_up_action.isEnabled() and panel.move_down_action.isEnabled()
    panel.move_down_action.trigger()
    panel.move_down_action.trigger()
    assert titles(window) == on_disk(window) == [TITLES[1], TITLES[2], TITLES[0], TITLES[3]]
    assert current_title(window) == TITLES[0]
    panel.move_up_action.trigger()
    assert titles(window) == on_disk(window) == [TITLES[1], TITLES[0], TITLES[2], TITLES[3]]
    undo(window)
    undo(window)
    undo(window)
    assert titles(window) == on_disk(window) == TITLES
    assert current_title(window) == TITLES[0]
    window.chapter_view.setCurrentIndex(window.chapters_model.index(3))
    assert panel.move_up_action.isEnabled() and not panel.move_down_action.isEnabled()


def test_keys_work_in_the_chapter_list(window, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    view = window.chapter_view
    view.setCurrentIndex(window.chapters_model.index(1))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert titles(window) == on_disk(window) == [TITLES[1], TITLES[0], *TITLES[2:]]
    assert current_title(window) == TITLES[1]
    qtbot.keyClick(view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert titles(window) == TITLES and current_title(window) == TITLES[1]
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a: QMessageBox.StandardButton.Yes)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert titles(window) == on_disk(window) == [TITLES[0], *TITLES[2:]]
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Coda", True))
    qtbot.keyClick(view, Qt.Key.Key_Insert)
    assert current_title(window) == "Coda"
    # The menus show the keys; no window-wide shortcut is taken by the chapter list.
    assert panel_texts(window) == ["&Add Chapter…\tIns", "&Rename Chapter\tF2",
                                   "&Delete Chapter…\tDel", "Move Chapter &Up\tAlt+Up",
                                   "Move Chapter Do&wn\tAlt+Down"]
    assert all(a.shortcut().isEmpty() for a in panel_actions(window))


def panel_actions(win: MainWindow) -> list:  # type: ignore[type-arg]
    p = win.chapters_panel
    return [p.add_action, p.rename_action, p.delete_action, p.move_up_action,
            p.move_down_action]


def panel_texts(win: MainWindow) -> list[str]:
    return [a.text() for a in panel_actions(win)]


def test_chapter_progress_is_counted_once_between_changes(window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Repaints (hovering, progress during a render) reuse the counts; an edit recounts only
    the paragraphs it names, and undoing a take shows at once."""
    from studio.core import summary
    from studio.ui import commands
    from studio.ui.models import PROGRESS_ROLE

    counted: list[str] = []
    status = summary.block_status

    def counting(project: m.Project, block: m.Block) -> m.BlockStatus:
        counted.append(block.id)
        return status(project, block)

    monkeypatch.setattr(summary, "block_status", counting)
    model, project, session = window.chapters_model, window.project, window.session
    model.set_project(project)  # forget what the first paint counted

    def progress() -> list[str]:
        return [model.index(r).data(PROGRESS_ROLE) for r in range(model.rowCount())]

    paragraphs = sum(len(c.blocks) for c in project.chapters)
    third = project.chapters[2].blocks
    assert progress()[2] == "✓"
    for _ in range(5):
        progress()
        window.chapter_view.viewport().repaint()
    assert len(counted) == paragraphs  # each paragraph once, not once per repaint

    counted.clear()
    block = project.chapters[0].blocks[1]
    session.push(commands.SetBlockTextCommand(session, third[0].id, third[0].text + " Yes."))
    assert progress()[2] == f"{len(third) - 1}/{len(third)}"
    session.add_take(make_take(project, block.id, audio=wav_bytes(0.1)))
    assert progress()[0] == f"1/{len(project.chapters[0].blocks)}"
    assert sorted(counted) == sorted([third[0].id, block.id])
    session.undo_stack.undo()
    assert progress()[2] == "✓"
