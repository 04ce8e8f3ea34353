"""The queue panel against the fake ElevenLabs server: states, cancel one, retry, and
Generate / Regenerate Selection."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QStandardPaths, Qt
from PySide6.QtWidgets import QMessageBox

from studio.core import model as m
from studio.core.model import ChapterId, Project, VoiceId
from studio.core.store import ProjectStore
from studio.ui.main_window import MainWindow
from studio.ui.panels.queue import CANCELLED, DONE, FAILED, QUEUED, SENDING, WAITING
from tests.fakes.fake_elevenlabs import FakeElevenLabs

RACHEL = "21m00Tcm4TlvDq8ikWAM"
DREW = "29vD33N1CtxCmqQRPOHJ"
MS_PER_CHAR = 60.0  # the fake's speaking rate: a character lasts 60 ms


@pytest.fixture(autouse=True)
def _test_paths() -> None:
    QStandardPaths.setTestModeEnabled(True)


def book() -> Project:
    """Two chapters read by the narrator; the second chapter's second paragraph by Holmes."""
    project = Project(title="Fog", model_id="eleven_multilingual_v2")
    m.add_voice(project, m.Voice(VoiceId("narrator"), "Narrator", engine="elevenlabs",
                                 engine_voice_id=RACHEL))
    m.add_voice(project, m.Voice(VoiceId("holmes"), "Holmes", engine="elevenlabs",
                                 engine_voice_id=DREW))
    project.default_voice_id = VoiceId("narrator")
    m.add_chapter(project, "The River", [f"River paragraph {n}: the fog lay thick."
                                         for n in range(1, 6)], chapter_id=ChapterId("c1"))
    m.add_chapter(project, "The Study", [f"Study paragraph {n}: a fire burned low."
                                         for n in range(1, 5)], chapter_id=ChapterId("c2"))
    m.set_block_voice(project, project.chapters[1].blocks[1].id, VoiceId("holmes"))
    return project


@pytest.fixture
def setup(qtbot, tmp_path: Path, monkeypatch, fake_eleven_factory):  # type: ignore[no-untyped-def]
    """A window on the book, with ElevenLabs served by a slow fake; paid renders confirmed."""
    fake: FakeElevenLabs = fake_eleven_factory(latency_base_s=0.25)
    monkeypatch.setenv("ELEVENLABS_API_KEY", "test-key")
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.base_url)
    questions: list[str] = []

    def question(_parent: object, _title: str, text: str, *a: object) -> object:
        questions.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    path = tmp_path / "fog.studio"
    ProjectStore.create(path, book()).close()
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(path)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    yield window, fake, questions
    if window.controller is not None and window.controller.running:
        window.controller.abort()
        window.controller.wait(10)


def sent_texts(fake: FakeElevenLabs) -> list[str]:
    """Return the text of every speech request the server received, in order."""
    return [r.json["text"] for r in fake.requests
            if "/v1/text-to-speech/" in r.path and isinstance(r.json, dict)]


def states(window: MainWindow) -> list[str]:
    return [r.state for r in window.queue_panel.model.rows]


def cell(window: MainWindow, row: int, column: int) -> str:
    """Return what the queue shows for paragraph ``row`` (0-based among paragraphs)."""
    model = window.queue_panel.model
    return model.index(model.line_of(model.rows[row].block_id), column).data()


def select_rows(window: MainWindow, *rows: int) -> None:
    model = window.queue_panel.model
    view = window.queue_panel.view
    flags = (QItemSelectionModel.SelectionFlag.Select
             | QItemSelectionModel.SelectionFlag.Rows)
    view.selectionModel().clearSelection()
    for row in rows:
        view.selectionModel().select(model.index(model.line_of(model.rows[row].block_id), 0),
                                     flags)


def select_paragraphs(window: MainWindow, *rows: int) -> None:
    view = window.block_view
    view.selectionModel().clearSelection()
    for row in rows:
        view.selectionModel().select(window.blocks_model.index(row),
                                     QItemSelectionModel.SelectionFlag.Select)


def check_take(block: m.Block) -> None:
    """The block's take is real audio as long as the fake speaks its text."""
    take = block.current_take
    assert take is not None and take.text == block.text
    assert abs(take.duration - len(block.text) * MS_PER_CHAR / 1000) < 0.2, take.duration


def test_queue_lists_the_jobs_and_cancels_one_that_waits(setup, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, fake, questions = setup
    panel = window.queue_panel
    chapter = window.project.chapters[0]
    with qtbot.waitSignal(window.controller.started, timeout=10_000):
        window.generate_chapter_action.trigger()
    assert "Generate 5 paragraphs" in questions[0] and "credits" in questions[0]
    assert window.queue_dock.isVisible()  # raised over History when the render starts

    model = panel.model
    assert len(model.rows) == 5 and model.rowCount() == 6  # under a heading for the chapter
    assert model.index(0, 0).data() == "0/5  The River"
    assert panel.view.isFirstColumnSpanned(0, model.index(0, 0).parent())
    assert cell(window, 0, 1) == "¶1 River paragraph 1: the fog lay thick."
    assert cell(window, 0, 2) == "Narrator"
    assert cell(window, 0, 3) == str(len(chapter.blocks[0].text))
    qtbot.waitUntil(lambda: states(window)[0] == SENDING, timeout=10_000)
    assert states(window)[3] == WAITING
    select_rows(window, 3)
    assert panel.cancel_button.isEnabled() and panel.cancel_all_button.isEnabled()
    with qtbot.waitSignal(window.controller.finished, timeout=30_000) as done:
        panel.cancel_button.click()
    summary = done.args[0]

    assert summary.skipped == [chapter.blocks[3].id] and summary.takes == 4
    assert states(window) == [DONE, DONE, DONE, CANCELLED, DONE]
    assert cell(window, 3, 0) == "cancelled"
    assert cell(window, 0, 0).startswith("done (") and cell(window, 0, 0).endswith(" s)")
    assert model.index(0, 0).data() == "4/5  The River"
    # Nothing was sent for the cancelled paragraph; the others were sent once each.
    assert sent_texts(fake) == [b.text for n, b in enumerate(chapter.blocks) if n != 3]
    for n, block in enumerate(chapter.blocks):
        if n == 3:
            assert block.current_take is None
        else:
            check_take(block)
    assert panel.progress.value() == 1000 and panel.progress.format() == "Done"
    assert "4 of 5 paragraphs done" in panel.status.text() and "1 cancelled" in (
        panel.status.text())
    assert "1 cancelled" in window.statusBar().currentMessage()
    with ProjectStore.open(window.store.path, read_only=True) as store:  # saved as they came
        saved = store.load().chapters[0].blocks
        assert [b.current_take is not None for b in saved] == [True, True, True, False, True]

    # Double-clicking a row shows that paragraph in the editor.
    window.chapter_view.setCurrentIndex(window.chapters_model.index(1))
    rect = panel.view.visualRect(model.index(model.line_of(chapter.blocks[2].id), 1))
    # A real double click: press and release, then the double-click press and release.
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.blocks_model.chapter is chapter
    assert window.selected_blocks() == [chapter.blocks[2].id]


def test_a_failed_paragraph_is_retried_after_the_render_it_failed_in(setup, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, fake, questions = setup
    panel = window.queue_panel
    study = window.project.chapters[1]
    holmes = study.blocks[1]
    fake.fail_next(1, 422, path_contains=DREW)  # Holmes's one request is refused
    window.chapter_view.setCurrentIndex(window.chapters_model.index(1))
    with qtbot.waitSignal(window.controller.started, timeout=10_000):
        window.generate_chapter_action.trigger()
    qtbot.waitUntil(lambda: states(window)[1] == FAILED, timeout=10_000)
    row = panel.model.rows[1]
    assert row.block_id == holmes.id and row.voice == "Holmes"
    assert "refused" in cell(window, 1, 0)
    assert window.controller.running  # the narrator's paragraphs are still on their way

    # Retry while the render runs: it is queued and starts when the render ends.
    assert panel.retry_button.isEnabled()
    with qtbot.waitSignal(window.controller.finished, timeout=30_000) as first:
        panel.retry_button.click()
        assert states(window)[1] == QUEUED
        assert cell(window, 1, 0) == "queued for retry"
    assert holmes.id in first.args[0].failed and first.args[0].takes == 3
    assert "Regenerate 1 paragraph with" in questions[-1]  # confirmed when asked for
    assert len(questions) == 2  # and not again when it starts (it costs no more)
    # The retry is a render of its own, started as the first one ended.
    with qtbot.waitSignal(window.controller.finished, timeout=30_000) as second:
        assert window.controller.running
    assert second.args[0].takes == 1 and not second.args[0].failed
    assert [r.block_id for r in panel.model.rows] == [holmes.id] and states(window) == [DONE]
    check_take(holmes)
    assert sent_texts(fake).count(holmes.text) == 2  # refused once, then narrated
    assert all(m.block_status(window.project, b) is m.BlockStatus.CONVERTED
               for b in study.blocks)


def test_regenerate_selection_makes_new_takes_only_for_the_selection(setup, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, fake, questions = setup
    chapter = window.project.chapters[0]
    with qtbot.waitSignal(window.controller.finished, timeout=30_000):
        window.generate_chapter_action.trigger()
    first = {b.id: b.current_take_id for b in chapter.blocks}
    assert all(first.values())
    before = len(sent_texts(fake))

    # Generate Selection on narrated paragraphs sends nothing.
    select_paragraphs(window, 1, 3)
    window.generate_selection_action.trigger()
    assert len(sent_texts(fake)) == before and not window.controller.running
    assert "already narrated" in window.statusBar().currentMessage()

    with qtbot.waitSignal(window.controller.finished, timeout=30_000) as done:
        window.regenerate_selection_action.trigger()
    assert "Regenerate 2 paragraphs" in questions[-1]
    assert done.args[0].takes == 2
    assert sent_texts(fake)[before:] == [chapter.blocks[1].text, chapter.blocks[3].text]
    for n, block in enumerate(chapter.blocks):
        if n in (1, 3):
            assert len(block.takes) == 2 and block.current_take_id != first[block.id]
            check_take(block)
        else:
            assert len(block.takes) == 1 and block.current_take_id == first[block.id]
    with ProjectStore.open(window.store.path, read_only=True) as store:
        saved = store.load().chapters[0].blocks
        assert [len(b.takes) for b in saved] == [1, 2, 1, 2, 1]


def test_regenerate_selection_refuses_locked_paragraphs(setup, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from studio.ui import commands

    window, fake, _ = setup
    chapter = window.project.chapters[0]
    window.session.push(commands.set_block_locked(window.session, chapter.blocks[2].id, True))
    errors: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: errors.append(box.text()))
    select_paragraphs(window, 1, 2)
    window.regenerate_selection_action.trigger()
    assert errors and "¶3" in errors[0] and "Locked" in errors[0] and "¶2" not in errors[0]
    assert sent_texts(fake) == [] and not window.controller.running


def test_selection_actions_are_on_the_paragraph_menu(setup) -> None:  # type: ignore[no-untyped-def]
    window, _, _ = setup
    menu = window.editor_actions.paragraph_menu()
    assert window.generate_selection_action in menu.actions()
    assert window.regenerate_selection_action in menu.actions()
    assert window.generate_selection_action.shortcut().toString() == "Ctrl+Alt+G"
    assert window.regenerate_selection_action.shortcut().toString() == "Ctrl+Alt+R"
    menu.deleteLater()


def test_a_stopped_render_marks_thousands_of_rows_cancelled_in_one_repaint(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Stop with 3,000 paragraphs waiting: one repaint, counts kept without walking the rows."""
    from studio.core.model import BlockId
    from studio.core.scheduler import RunSummary
    from studio.ui.panels.queue import QueuePanel, QueueRow

    panel = QueuePanel()
    qtbot.addWidget(panel)
    model = panel.model
    rows = [QueueRow(BlockId(f"b{i}"), "One" if i < 1000 else "Two", i + 1, "Text.", "N", 5, 1)
            for i in range(3000)]
    model.set_rows(rows)
    model.set_states([(r.block_id, DONE, "1.0 s") for r in rows[:10]])
    model.set_state(rows[1500].block_id, FAILED, "refused")
    model.set_state(rows[1501].block_id, SENDING)
    repaints: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, *_: repaints.append((a.row(), b.row())))
    heading_reads: list[int] = []
    heading_data = model._heading_data

    def counting(line: int, role: int):  # type: ignore[no-untyped-def]
        heading_reads.append(line)
        return heading_data(line, role)

    model._heading_data = counting  # type: ignore[method-assign]
    panel._on_finished(RunSummary(cancelled=True))
    assert len(repaints) <= 3  # a few runs of rows, not one per row (and its heading)
    assert len(heading_reads) < 20
    assert model.count(CANCELLED) == 2989 and model.count(DONE) == 10
    assert model.count(FAILED) == 1 and model.count(WAITING, SENDING) == 0
    assert model.index(0, 0).data() == "10/1000  One"
    assert model.index(model.line_of(BlockId("b1000")) - 1, 0).data() == "0/2000  Two"
    assert panel.retry_button.isEnabled()  # the failed one can be retried
    assert "10 of 3000 paragraphs done" in panel.status.text()
    assert "2989 cancelled" in panel.status.text()
