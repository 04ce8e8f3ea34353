"""The done-when path through the window's panels: cast two voices, generate, edit in place,
regenerate one paragraph, restore the older take from history and undo that."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QPlainTextEdit

from studio.core import model as m
from studio.core.engines import EngineVoice
from studio.core.sample import create_sample_project
from studio.ui import commands
from studio.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def _test_paths(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)


@pytest.fixture
def window(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    w = MainWindow()
    qtbot.addWidget(w)
    w.open_project(create_sample_project(tmp_path / "sample.studio"))
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


def select_rows(window: MainWindow, *rows: int) -> None:
    from PySide6.QtCore import QItemSelectionModel

    selection = window.block_view.selectionModel()
    selection.clearSelection()
    for row in rows:
        selection.select(window.blocks_model.index(row),
                         QItemSelectionModel.SelectionFlag.Select)
    window.block_view.setCurrentIndex(window.blocks_model.index(rows[-1]))


def test_cast_generate_edit_regenerate_restore(window: MainWindow, qtbot,  # type: ignore[no-untyped-def]
                                               tmp_path: Path) -> None:
    session = window.session
    assert session is not None and window.controller is not None
    project = session.project
    chapter = project.chapters[0]

    # Assign a second voice to the dialogue paragraph.
    panel = window.voices_panel
    fox = panel.add_voice(EngineVoice("en-gb-x-rp+f3", "Vixen", "offline"), "offline")
    assert panel.list.count() == 2 and fox in project.voices
    panel.list.setCurrentRow(1)
    select_rows(window, 1)
    panel.assign_to_selection()
    assert chapter.blocks[1].voice_id == fox

    # Generate the chapter offline.
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.generate_chapter_action.trigger()
    assert all(m.block_status(project, b) is m.BlockStatus.CONVERTED for b in chapter.blocks)
    assert chapter.blocks[1].current_take.settings["voice"] == "en-gb-x-rp+f3"

    # Edit a paragraph in place: it turns stale.
    index = window.blocks_model.index(2)
    window.block_view.edit(index)
    editor = window.block_view.findChild(QPlainTextEdit, "paragraphEditor")
    assert editor is not None
    editor.setPlainText("It is easy to despise what you cannot have.")
    window.block_view.commitData(editor)
    assert chapter.blocks[2].text == "It is easy to despise what you cannot have."
    assert m.block_status(project, chapter.blocks[2]) is m.BlockStatus.STALE

    # Regenerate: only that paragraph.
    with qtbot.waitSignal(window.controller.finished, timeout=60_000) as done:
        window.generate_chapter_action.trigger()
    assert done.args[0].takes == 1 and len(chapter.blocks[2].takes) == 2

    # History: restore the older take, then undo that.
    select_rows(window, 2)
    history = window.history_panel
    assert history.list.count() == 2 and history.list.item(0).text().startswith("●")
    history.list.setCurrentRow(1)
    older = history.selected_take()
    history.restore()
    assert chapter.blocks[2].current_take_id == older.id
    assert history.list.item(1).text().startswith("●")
    session.undo_stack.undo()
    assert chapter.blocks[2].current_take_id == chapter.blocks[2].takes[1].id

    # Export the chapter as MP3 through File ▸ Export.
    from mutagen.mp3 import MP3
    from PySide6.QtCore import Qt

    from studio.ui.export_dialog import select_data

    window.export_action.trigger()
    dialog = window.export_dialog
    assert dialog is not None
    select_data(dialog.scope, "chapter")
    select_data(dialog.format, "mp3")
    select_data(dialog.quality, 192)
    select_data(dialog.layout_box, "single")
    dialog.set_destination(tmp_path / "fox.mp3")
    with qtbot.waitSignal(dialog.exported, timeout=60_000):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    info = MP3(tmp_path / "fox.mp3").info
    assert info.sample_rate == 44100 and info.bitrate == 192_000 and info.length > 5
    assert project.exports[-1].path == str(tmp_path / "fox.mp3")


def test_voice_settings_apply_stale_and_refusal(window: MainWindow) -> None:
    session = window.session
    assert session is not None
    project = session.project
    block = project.chapters[0].blocks[0]
    session.add_take(_take(session, block))
    panel = window.voices_panel
    panel.list.setCurrentRow(0)
    panel.spins["speed"].setValue(1.1)
    panel.apply()
    assert project.voices[project.default_voice_id].speed == pytest.approx(1.1)
    assert m.block_status(project, block) is m.BlockStatus.STALE
    session.undo_stack.undo()
    assert m.block_status(project, block) is m.BlockStatus.CONVERTED

    from studio.ui import commands

    session.push(commands.set_block_locked(session, block.id, True))
    errors: list[str] = []
    import studio.ui.panels.voices as voices_module

    original = voices_module.show_error
    voices_module.show_error = lambda parent, exc: errors.append(str(exc))  # type: ignore[assignment]
    try:
        panel.spins["stability"].setValue(0.9)
        panel.apply()
    finally:
        voices_module.show_error = original
    assert errors and "locked paragraphs" in errors[0] and "¶1" in errors[0]
    assert panel.spins["stability"].value() == pytest.approx(0.5)  # form back to the stored value


def test_history_export_and_delete(window: MainWindow, tmp_path: Path) -> None:
    session = window.session
    assert session is not None
    block = session.project.chapters[0].blocks[0]
    session.add_take(_take(session, block))
    select_rows(window, 0)
    voice = session.project.voice_for(block)
    assert voice is not None
    row = window.history_panel.list.item(0).text()  # when, voice, model, length, settings
    assert voice.alias in row and "offline" in row
    assert f"speed {voice.speed:.2f}" in row and f"stab. {voice.stability:.2f}" in row
    out = tmp_path / "take.wav"
    window.history_panel.export(out)
    assert out.read_bytes() == session.store.load_take_audio(block.current_take_id)
    take_id = block.current_take_id
    audio = session.store.load_take_audio(take_id)
    session.push(commands.SetBlockTextCommand(session, block.id, block.text + " Edited."))
    depth = session.undo_stack.count()
    window.history_panel.delete(take_id)
    assert block.takes == [] and window.history_panel.list.count() == 0
    from studio.core.store import ProjectStore
    with ProjectStore.open(session.store.path, read_only=True) as store:  # gone from the file
        assert store.load().block(block.id).takes == []
    # Undoable, and the earlier edits stay undoable too.
    assert session.undo_stack.count() == depth + 1
    session.undo_stack.undo()
    assert block.current_take_id == take_id and window.history_panel.list.count() == 1
    assert session.store.load_take_audio(take_id) == audio  # its audio is back in the file
    session.undo_stack.undo()
    assert not block.text.endswith("Edited.")
    session.undo_stack.redo()
    session.undo_stack.redo()
    assert block.takes == []


def _take(session, block):  # type: ignore[no-untyped-def]
    from studio.core.engines import SpeechRequest
    from studio.core.engines.offline import OfflineEngine
    from studio.core.generation import Job, make_take

    project = session.project
    request = SpeechRequest(text=block.text, voice_id="en-us", model_id="offline-espeak",
                            output_format="wav_22050")
    job = Job("j", block.id, project.chapters[0].id, 0, 1, request,
              m.inputs_hash(project, block), project.voice_for(block).id)
    return make_take([(job, OfflineEngine().synthesize(request))], "offline")
