"""File menu: a new project, the unsaved marker after a failed save, Save, dock layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QDockWidget, QMessageBox

from studio.core.sample import create_sample_project
from studio.core.store import ProjectStore
from studio.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def _test_paths(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    QStandardPaths.setTestModeEnabled(True)
    QSettings().clear()
    shown: list[str] = []

    def record(box: QMessageBox) -> int:
        shown.append(box.text())
        return 0

    monkeypatch.setattr(QMessageBox, "exec", record)  # error dialogs are recorded, not modal
    return shown


def test_new_project_opens_ready_to_type(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow()
    qtbot.addWidget(window)
    window.new_project(tmp_path / "My Book")
    path = tmp_path / "My Book.studio"
    assert window.store is not None and window.store.path == path
    assert window.windowTitle().startswith("My Book (My Book.studio)")
    assert window.chapters_model.rowCount() == 1 and window.blocks_model.rowCount() == 1
    window.close()
    project = ProjectStore.open(path, read_only=True).load()
    assert [c.title for c in project.chapters] == ["Chapter 1"]
    assert project.voice_for(project.chapters[0].blocks[0]) is not None  # can narrate at once


def test_failed_save_marks_the_title_and_save_catches_up(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                         _test_paths: list[str]) -> None:
    from studio.core.model import BlockId
    from studio.ui import commands

    path = create_sample_project(tmp_path / "s.studio")
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(path)
    session = window.session
    assert session is not None and not window.isWindowModified()
    conn = session.store._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full
    block = session.project.chapters[0].blocks[0]
    session.push(commands.SetBlockTextCommand(session, BlockId(block.id), "A" * 20_000 + "."))
    assert window.isWindowModified() and _test_paths and str(path) in _test_paths[-1]
    assert ProjectStore.open(path, read_only=True).load().chapters[0].blocks[0].text != block.text
    conn.execute("PRAGMA max_page_count = 1000000")  # space again
    window.save_action.trigger()
    assert not window.isWindowModified()
    again = ProjectStore.open(path, read_only=True).load()
    assert again.chapters[0].blocks[0].text == "A" * 20_000 + "."


def test_dock_layout_is_remembered(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    history = window.findChild(QDockWidget, "historyDock")
    assert history is not None and history.isVisible()
    history.close()
    window.close()
    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    dock = second.findChild(QDockWidget, "historyDock")
    assert dock is not None and not dock.isVisible()
    assert next(a for a in second.view_menu.actions() if a.text() == "History").isChecked() is False


def test_opening_the_open_project_again_is_harmless(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = create_sample_project(tmp_path / "s.studio")
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(path)
    session = window.session
    window.open_project(path)  # e.g. from Open Recent
    assert window.session is session and window.chapters_model.rowCount() == 4


def test_save_as_moves_the_title_to_the_new_file(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QFileDialog

    path = create_sample_project(tmp_path / "s.studio")
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(path)
    target = tmp_path / "copy.studio"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.save_as_action.trigger()  # the copy is made in the background
    qtbot.waitUntil(lambda: window.store is not None and window.store.path == target,
                    timeout=15_000)
    assert "(copy.studio)" in window.windowTitle() and window.windowFilePath() == str(target)
    assert ProjectStore.open(target, read_only=True).load().title == "Aesop's Fables"


def test_paragraphs_show_generating_while_queued(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.models import GENERATING, STATUS_ROLE

    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(create_sample_project(tmp_path / "s.studio"))
    controller = window.controller
    assert controller is not None
    seen: list[object] = []
    controller.started.connect(
        lambda _plan: seen.extend(window.blocks_model.index(r).data(STATUS_ROLE)
                                  for r in range(3)))
    with qtbot.waitSignal(controller.finished, timeout=60_000):
        window.generate_chapter_action.trigger()
    assert seen == [GENERATING] * 3


def test_a_crash_in_the_render_thread_reaches_the_user(qtbot, tmp_path: Path, monkeypatch,  # type: ignore[no-untyped-def]
                                                       _test_paths: list[str]) -> None:
    import studio.ui.workers as workers

    def crash(self: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(workers.Scheduler, "run", crash)
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(create_sample_project(tmp_path / "s.studio"))
    assert window.controller is not None
    with qtbot.waitSignal(window.controller.finished, timeout=30_000):
        window.generate_chapter_action.trigger()
    assert window.generate_chapter_action.isEnabled() and not window.stop_action.isEnabled()
    assert any("simulated bug" in text for text in _test_paths)  # a dialog, not a log line


def test_deleting_a_paragraph_while_it_is_generated(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                    _test_paths: list[str]) -> None:
    from studio.core.model import BlockId
    from studio.ui import commands

    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(create_sample_project(tmp_path / "s.studio"))
    session, controller = window.session, window.controller
    assert session is not None and controller is not None
    chapter = session.project.chapters[1]
    window.chapter_view.setCurrentIndex(window.chapters_model.index(1))
    doomed = BlockId(chapter.blocks[-1].id)
    failures: list[tuple[str, str]] = []
    controller.job_failed.connect(lambda b, why: failures.append((b, why)))
    with qtbot.waitSignal(controller.finished, timeout=60_000) as done:
        window.generate_chapter_action.trigger()
        session.push(commands.ChapterEditCommand(  # deleted while the render runs
            session, chapter.id, "Delete", lambda p: __import__(
                "studio.core.model", fromlist=["remove_block"]).remove_block(p, doomed)))
    assert done.args[0].takes == 5 and [b for b, _ in failures] == [doomed]
    assert "deleted" in failures[0][1] and len(chapter.blocks) == 4
    assert all(b.current_take is not None for b in chapter.blocks)  # the others all landed
    assert not _test_paths  # no error dialog per arriving take


def test_assigning_a_voice_over_locked_paragraphs_changes_nothing(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                   _test_paths: list[str]) -> None:
    from PySide6.QtCore import QItemSelectionModel

    from studio.core.engines import EngineVoice
    from studio.ui import commands

    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(create_sample_project(tmp_path / "s.studio"))
    session = window.session
    assert session is not None
    blocks = session.project.chapters[0].blocks
    session.push(commands.set_block_locked(session, blocks[2].id, True))
    panel = window.voices_panel
    panel.add_voice(EngineVoice("en-gb-x-rp+f3", "Vixen", "offline"), "offline")
    panel.list.setCurrentRow(1)
    selection = window.block_view.selectionModel()
    for row in range(3):
        selection.select(window.blocks_model.index(row), QItemSelectionModel.SelectionFlag.Select)
    steps = session.undo_stack.count()
    panel.assign_to_selection()
    assert [b.voice_id for b in blocks] == [None, None, None]  # nothing half-applied
    assert session.undo_stack.count() == steps
    assert "¶3 of 'The Fox and the Grapes'" in _test_paths[-1]


def test_window_actions_keep_what_is_being_typed(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QPlainTextEdit

    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(create_sample_project(tmp_path / "s.studio"))
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    session = window.session
    assert session is not None
    blocks = session.project.chapters[0].blocks
    index = window.blocks_model.index(0)
    window.block_view.setCurrentIndex(index)
    window.block_view.edit(index)
    editor = next(e for e in window.block_view.findChildren(QPlainTextEdit, "paragraphEditor")
                  if e.isVisible())
    editor.setPlainText("Typed, then locked at once.")
    window.lock_action.trigger()  # Ctrl+L while typing
    assert blocks[0].text == "Typed, then locked at once." and blocks[0].locked
    index = window.blocks_model.index(1)
    window.block_view.setCurrentIndex(index)
    window.block_view.edit(index)
    editor = next(e for e in window.block_view.findChildren(QPlainTextEdit, "paragraphEditor")
                  if e.isVisible())
    editor.setPlainText("Typed, then another chapter.")
    window.chapter_view.setCurrentIndex(window.chapters_model.index(2))  # switch chapter
    assert blocks[1].text == "Typed, then another chapter."


def test_opening_another_project_during_a_render_asks_first(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                            monkeypatch) -> None:
    first = create_sample_project(tmp_path / "a.studio")
    second = create_sample_project(tmp_path / "b.studio")
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(first)
    controller = window.controller
    assert controller is not None
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    asked: list[str] = []

    def question(*args: object, **kwargs: object) -> QMessageBox.StandardButton:
        asked.append(str(args[2]))
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    window.generate(book=True)
    assert controller.running
    window._open_or_report(second)  # No: stays, still generating
    assert window.store is not None and window.store.path == first and controller.running
    window._open_or_report(second)  # Yes: stops, keeps what finished, opens the other
    qtbot.waitUntil(lambda: window.store is not None and window.store.path == second,
                    timeout=30_000)
    assert window.store is not None and window.store.path == second and len(asked) == 2
    assert not controller.running and window.controller is not controller
    with ProjectStore.open(first) as store:  # left intact, and no longer locked by us
        assert store.integrity_check() == ["ok"]


def test_recent_projects_grey_out_a_moved_file_and_can_be_cleared(qtbot, tmp_path: Path  # type: ignore[no-untyped-def]
                                                                  ) -> None:
    kept = create_sample_project(tmp_path / "kept.studio")
    gone = create_sample_project(tmp_path / "gone.studio")
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(gone)
    window.open_project(kept)
    gone.unlink()
    window.recent_menu.aboutToShow.emit()
    actions = {a.text(): a for a in window.recent_menu.actions() if a.text()}
    assert actions["kept.studio"].isEnabled()
    assert not actions["gone.studio (not found)"].isEnabled()
    twin = create_sample_project(tmp_path / "twin" / "kept.studio")
    window.open_project(twin)
    window.recent_menu.aboutToShow.emit()
    labels = [a.text() for a in window.recent_menu.actions() if a.text()]
    assert f"kept.studio — {twin.parent}" in labels and f"kept.studio — {tmp_path}" in labels
    actions = {a.text(): a for a in window.recent_menu.actions() if a.text()}
    actions["Clear Menu"].trigger()
    assert not window.recent_menu.isEnabled() and window.recent_menu.actions() == []


def test_the_book_counts_do_not_hide_messages(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(create_sample_project(tmp_path / "s.studio"))
    window.statusBar().showMessage("Something worth reading.")
    window._update_status()  # what the debounced count update runs after an edit
    assert window.statusBar().currentMessage() == "Something worth reading."
    assert "paragraphs" in window.counts_label.text()


def test_opening_another_project_lets_the_first_one_go(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QCoreApplication, QEvent

    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(create_sample_project(tmp_path / "a.studio"))
    first = window.session
    assert first is not None
    destroyed: list[bool] = []
    first.destroyed.connect(lambda: destroyed.append(True))
    window.open_project(create_sample_project(tmp_path / "b.studio"))
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert destroyed == [True]
    assert window.undo_group.stacks() == [window.session.undo_stack]  # type: ignore[union-attr]


@pytest.mark.parametrize("leave", ["close", "open another"])
def test_typing_is_kept_when_the_window_closes_or_another_project_opens(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path, leave: str) -> None:
    from PySide6.QtWidgets import QApplication, QPlainTextEdit

    path = create_sample_project(tmp_path / "s.studio")
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(path)
    window.show()
    qtbot.waitExposed(window)
    index = window.blocks_model.index(0)
    window.block_view.setCurrentIndex(index)
    window.block_view.edit(index)
    QApplication.processEvents()
    editor = window.block_view.findChild(QPlainTextEdit, "paragraphEditor")
    assert editor is not None
    editor.setPlainText(editor.toPlainText() + " TYPED")
    if leave == "close":
        window.close()
    else:
        window.open_project(create_sample_project(tmp_path / "other.studio"))
    with ProjectStore.open(path, read_only=True) as store:
        assert store.load().chapters[0].blocks[0].text.endswith(" TYPED")


def test_on_a_laptop_screen_the_side_panels_are_full_height_tabs(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow()  # no saved layout; the offscreen screen is laptop-sized
    qtbot.addWidget(window)
    assert window.height() < 900
    voices = window.findChild(QDockWidget, "voicesDock")
    history = window.findChild(QDockWidget, "historyDock")
    assert voices is not None and history is not None
    assert {history, window.queue_dock} <= set(window.tabifiedDockWidgets(voices))
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: not voices.visibleRegion().isEmpty())  # Voices is the tab on top
    panel = window.voices_panel
    assert not panel.assign_button.visibleRegion().isEmpty()  # reachable without scrolling
