"""Override settings for the selection: a derived voice assigned to the selected paragraphs,
which turn stale; one undo step restores everything; locked paragraphs refuse, named."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QStandardPaths

from studio.core import model as m
from studio.core.errors import EditError
from studio.core.sample import create_sample_project
from studio.core.store import ProjectStore
from studio.ui import commands
from studio.ui.main_window import MainWindow
from studio.ui.panels.voices import OverrideDialog, override_voice_settings
from studio.ui.player import NullSink


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    w = MainWindow(player_sink=NullSink())
    qtbot.addWidget(w)
    w.open_project(create_sample_project(tmp_path / "sample.studio"))
    session = w.session
    assert session is not None
    for block in session.project.chapters[0].blocks:  # narrate the first chapter
        session.add_take(_take(session, block))
    return w


def _select(window: MainWindow, *rows: int) -> None:
    selection = window.block_view.selectionModel()
    selection.clearSelection()
    for row in rows:
        selection.select(window.blocks_model.index(row), QItemSelectionModel.SelectionFlag.Select)


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


def _state(project: m.Project) -> tuple[object, ...]:
    return (sorted(v.alias for v in project.voices.values()),
            [(b.voice_id, m.block_status(project, b)) for _, b in project.iter_blocks()])


def test_override_assigns_a_derived_voice_and_one_undo_restores(window: MainWindow) -> None:
    session = window.session
    assert session is not None
    project = session.project
    blocks = project.chapters[0].blocks
    narrator = project.voices[project.default_voice_id]
    before = _state(project)
    steps = session.undo_stack.count()
    _select(window, 0, 2)

    created = window.voices_panel.override_selection(stability=0.9, speed=1.1)
    assert len(created) == 1 and session.undo_stack.count() == steps + 1
    derived = project.voices[created[0]]
    assert derived.alias == "Narrator (override 1)"
    assert (derived.engine, derived.engine_voice_id) == (narrator.engine, narrator.engine_voice_id)
    assert (derived.stability, derived.speed, derived.similarity) == (0.9, 1.1, narrator.similarity)
    assert (narrator.stability, narrator.speed) == (0.5, 1.0)  # the original is untouched
    assert [b.voice_id for b in blocks] == [derived.id, None, derived.id]
    assert [m.block_status(project, b) for b in blocks] == [
        m.BlockStatus.STALE, m.BlockStatus.CONVERTED, m.BlockStatus.STALE]
    assert window.voices_panel.current_voice_id() == derived.id  # shown for more tweaking

    path = session.store.path  # saved as it happened
    session.close()
    saved = ProjectStore.open(path)
    try:
        reloaded = saved.load()
    finally:
        saved.close()
    assert _state(reloaded) == _state(project)
    session.store = ProjectStore.open(path)

    session.undo_stack.undo()  # one step back: the cast and the paragraphs as they were
    assert _state(project) == before and created[0] not in project.voices
    session.undo_stack.redo()
    assert [b.voice_id for b in blocks] == [derived.id, None, derived.id]


def test_aliases_count_up_and_overrides_of_overrides_keep_the_base(window: MainWindow) -> None:
    session = window.session
    assert session is not None
    project = session.project
    blocks = project.chapters[0].blocks
    first = override_voice_settings(session, [blocks[0].id], style=0.3)
    second = override_voice_settings(session, [blocks[1].id], style=0.4)
    third = override_voice_settings(session, [blocks[0].id], speaker_boost=False)
    aliases = [project.voices[v[0]].alias for v in (first, second, third)]
    assert aliases == ["Narrator (override 1)", "Narrator (override 2)", "Narrator (override 3)"]
    assert project.voices[third[0]].style == 0.3  # copied from the voice it overrides
    assert override_voice_settings(session, [blocks[2].id], style=0.0) == []  # no change


def test_locked_paragraphs_refuse_and_are_named(window: MainWindow,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    session = window.session
    assert session is not None
    project = session.project
    blocks = project.chapters[0].blocks
    for block in (blocks[1], blocks[2]):
        session.push(commands.set_block_locked(session, block.id, True))
    before = _state(project)
    steps = session.undo_stack.count()
    with pytest.raises(EditError) as info:
        override_voice_settings(session, [b.id for b in blocks], stability=0.2)
    message = str(info.value)
    assert "'The Fox and the Grapes' ¶2" in message and "¶3" in message
    assert "¶1" not in message and "Unlock them first" in message
    assert _state(project) == before and session.undo_stack.count() == steps

    import studio.ui.panels.voices as voices_module

    shown: list[str] = []
    monkeypatch.setattr(voices_module, "show_error", lambda parent, exc: shown.append(str(exc)))
    _select(window, 0, 1)
    assert window.voices_panel.override_selection(stability=0.2) == []
    assert shown and "¶2" in shown[0] and _state(project) == before


def test_the_dialog_returns_only_what_changed(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    project = window.session.project  # type: ignore[union-attr]
    dialog = OverrideDialog(project.voices[project.default_voice_id], 2)
    qtbot.addWidget(dialog)
    assert dialog.fields() == {}
    dialog.spins["similarity"].setValue(0.4)
    dialog.boost.setChecked(False)
    assert dialog.fields() == {"similarity": 0.4, "speaker_boost": False}
    assert set(dialog.spins) == {"speed", "stability", "similarity", "style"}
