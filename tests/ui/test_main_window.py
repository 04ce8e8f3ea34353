"""The window opens a project and shows its chapters and paragraphs (offscreen)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtGui import QColor

from studio.core.sample import create_sample_project
from studio.ui.main_window import MainWindow
from studio.ui.models import LOCKED_ROLE, STATUS_ROLE


@pytest.fixture(autouse=True)
def _test_paths() -> None:
    QStandardPaths.setTestModeEnabled(True)


def test_window_shows_sample_book(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = create_sample_project(tmp_path / "sample.studio")
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(path)
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)

    assert window.windowTitle().startswith("Aesop's Fables")
    assert window.chapters_model.rowCount() == 4
    assert window.chapters_model.index(3).data() == "4. The Hare and the Tortoise"
    assert window.chapter_header.text() == "The Fox and the Grapes"
    assert window.blocks_model.rowCount() == 3
    assert window.blocks_model.index(0).data().startswith("A famished Fox")
    assert "14 paragraphs" in window.counts_label.text()

    window.chapter_view.setCurrentIndex(window.chapters_model.index(1))
    assert window.chapter_header.text() == "The Town Mouse and the Country Mouse"
    assert window.blocks_model.rowCount() == 5

    # Rendered pixels: the paragraph view paints text and a status bar for each paragraph.
    image = window.block_view.viewport().grab().toImage()
    dark = sum(
        1
        for x in range(0, image.width(), 4)
        for y in range(0, min(image.height(), 200), 4)
        if QColor(image.pixel(x, y)).lightness() < 128
    )
    assert dark > 50


def test_open_refuses_a_non_project(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from studio.core.errors import ProjectFormatError

    bogus = tmp_path / "x.studio"
    bogus.write_text("nope")
    window = MainWindow()
    qtbot.addWidget(window)
    with pytest.raises(ProjectFormatError):
        window.open_project(bogus)
    assert window.project is None and window.chapters_model.rowCount() == 0


def test_generate_chapter_lock_and_undo_from_the_window(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                       monkeypatch) -> None:
    from studio.core import model as m

    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)  # the offline engine
    path = create_sample_project(tmp_path / "sample.studio")
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(path)
    window.resize(1280, 800)
    window.show()
    assert window.controller is not None and window.session is not None

    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.generate_chapter_action.trigger()
    chapter = window.session.project.chapters[0]
    assert all(m.block_status(window.session.project, b) is m.BlockStatus.CONVERTED
               for b in chapter.blocks)
    assert "Generated 3 paragraphs" in window.statusBar().currentMessage()
    index = window.blocks_model.index(0)
    assert index.data(STATUS_ROLE) is m.BlockStatus.CONVERTED

    window.block_view.setCurrentIndex(index)
    window.lock_action.trigger()
    assert chapter.blocks[0].locked and index.data(LOCKED_ROLE)
    undo = next(a for a in window.edit_menu.actions() if a.text().startswith("&Undo"))
    undo.trigger()
    assert not chapter.blocks[0].locked

    image = window.grab().toImage()  # the converted stripes are painted dark blue
    assert image.width() >= 1280


def test_closing_during_generation_asks_first(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    path = create_sample_project(tmp_path / "sample.studio")
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(path)
    window.show()
    asked: list[str] = []

    def answer(*args: object) -> QMessageBox.StandardButton:
        asked.append(str(args[1]))
        return QMessageBox.StandardButton.No if len(asked) == 1 else QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    window.generate(book=True)
    controller = window.controller
    assert controller is not None and controller.running
    window.close()  # "No": the window stays and generation goes on
    assert window.isVisible() and asked == ["Generation is running"]
    window.close()  # "Yes": stops cleanly, then closes once the paragraphs under way end
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert not controller.running


def test_generate_restores_older_matching_takes_for_free(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                         monkeypatch) -> None:
    from studio.core import model as m
    from studio.ui import commands

    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(create_sample_project(tmp_path / "s.studio"))
    session, controller = window.session, window.controller
    assert session is not None and controller is not None
    chapter = session.project.chapters[0]
    with qtbot.waitSignal(controller.finished, timeout=60_000):
        window.generate_chapter_action.trigger()
    first = [b.current_take_id for b in chapter.blocks]
    voice = session.project.default_voice_id
    assert voice is not None
    session.push(commands.update_voice(session, voice, speed=1.1))
    with qtbot.waitSignal(controller.finished, timeout=60_000):
        window.generate_chapter_action.trigger()  # new takes at the new speed
    assert [len(b.takes) for b in chapter.blocks] == [2, 2, 2]
    session.push(commands.update_voice(session, voice, speed=1.0))  # back: stale again
    assert all(m.block_status(session.project, b) is m.BlockStatus.STALE for b in chapter.blocks)
    window.generate_chapter_action.trigger()
    assert not controller.running  # nothing to send: the first takes match again
    assert [b.current_take_id for b in chapter.blocks] == first
    assert [len(b.takes) for b in chapter.blocks] == [2, 2, 2]
    assert "Restored 3 matching takes" in window.statusBar().currentMessage()
    session.undo_stack.undo()  # one step puts the newer takes back
    assert all(b.current_take_id != f for b, f in zip(chapter.blocks, first, strict=True))


def test_page_keys_in_a_5000_paragraph_chapter(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Page and end keys move by rows while the long chapter is still being measured."""
    from PySide6.QtCore import Qt

    from studio.core.model import Block, BlockId, Chapter, ChapterId, Project

    text = "The river ran on in the dark, past the mills and the sleeping town. "
    chapter = Chapter(ChapterId("c0"), "Long", [
        Block(BlockId(f"b{i}"), f"P {i}. " + text * (2 + i % 7)) for i in range(5000)])
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.blocks_model.set_chapter(Project(title="B", chapters=[chapter]), chapter)
    view = window.block_view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_End)  # at once, before the layout is done
    assert view.currentIndex().row() == 4999
    qtbot.keyClick(view, Qt.Key.Key_PageUp)
    assert 4985 < view.currentIndex().row() < 4999
    qtbot.waitUntil(lambda: view.viewport().rect().intersects(
        view.visualRect(view.currentIndex())), timeout=60_000)  # scrolled there once measured
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert view.currentIndex().row() == 0


def test_closing_during_a_slow_render_does_not_block_and_keeps_the_paid_take(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path, monkeypatch, fake_eleven_factory) -> None:
    """Close while a response is under way: the window answers at once, the response
    arrives, is saved to the file, and then the window closes."""
    import time

    from PySide6.QtWidgets import QMessageBox

    from studio.core.store import ProjectStore

    fake = fake_eleven_factory()
    monkeypatch.setenv("ELEVENLABS_API_KEY", "test-key")
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.base_url)
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    path = tmp_path / "fog.studio"
    from tests.ui.test_queue_panel import book
    ProjectStore.create(path, book()).close()
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(path)
    window.show()
    fake.stall_next(1, 2.0)  # the first paragraph's response takes 2 s to start
    window.generate(book=False)
    assert window.controller is not None
    qtbot.waitUntil(lambda: fake.in_flight >= 1, timeout=10_000)
    began = time.monotonic()
    window.close()
    assert time.monotonic() - began < 1.0  # the event loop was not blocked waiting
    assert window.isVisible() and "Stopping" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert time.monotonic() - began > 1.0  # it waited for the stalled response
    sent = [r for r in fake.requests if "/v1/text-to-speech/" in r.path]
    with ProjectStore.open(path, read_only=True) as store:
        project = store.load()
    takes = sum(len(b.takes) for c in project.chapters for b in c.blocks)
    assert len(sent) >= 1 and takes == len(sent)  # every paid response is in the file


def test_regenerate_chapter_makes_new_takes_except_for_locked_paragraphs(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    from studio.core.store import ProjectStore

    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    asked: list[str] = []

    def question(*args: object, **kwargs: object) -> QMessageBox.StandardButton:
        asked.append(str(args[2]))
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    window = MainWindow()
    qtbot.addWidget(window)
    path = create_sample_project(tmp_path / "s.studio")
    window.open_project(path)
    controller, session = window.controller, window.session
    assert controller is not None and session is not None
    with qtbot.waitSignal(controller.finished, timeout=60_000):
        window.generate_chapter_action.trigger()
    chapter = session.project.chapters[0]
    first = [b.current_take_id for b in chapter.blocks]
    window.block_view.setCurrentIndex(window.blocks_model.index(0))
    window.lock_action.trigger()
    with qtbot.waitSignal(controller.finished, timeout=60_000):
        window.regenerate_chapter_action.trigger()
    assert "every unlocked paragraph of 'The Fox and the Grapes'" in asked[-1]
    assert chapter.blocks[0].current_take_id == first[0] and len(chapter.blocks[0].takes) == 1
    for block, old in zip(chapter.blocks[1:], first[1:], strict=True):
        assert block.current_take_id != old and len(block.takes) == 2
    other = session.project.chapters[1]
    assert all(not b.takes for b in other.blocks)  # the other chapters are left alone
    with ProjectStore.open(path, read_only=True) as store:
        saved = store.load().chapters[0]
    assert [len(b.takes) for b in saved.blocks] == [len(b.takes) for b in chapter.blocks]


def test_project_actions_are_disabled_until_a_project_is_open(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow()
    qtbot.addWidget(window)
    project_actions = [window.save_action, window.save_as_action, window.properties_action,
                       window.export_action, window.lock_action, window.generate_chapter_action,
                       window.generate_book_action, window.regenerate_book_action,
                       window.find_action, window.stop_action]  # type: ignore[attr-defined]
    assert not any(a.isEnabled() for a in project_actions)
    assert window.new_action.isEnabled() and window.open_action.isEnabled()
    window.open_project(create_sample_project(tmp_path / "s.studio"))
    assert all(a.isEnabled() for a in project_actions if a is not window.stop_action)
    assert not window.stop_action.isEnabled()  # nothing is being generated
