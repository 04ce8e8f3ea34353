"""Every edit is undoable: apply, check it changed, then undo/redo twice comparing snapshots
of the model *and* of the project file (Gaupol's reversion_test, applied to our store)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QUndoCommand

from studio.core import model as m
from studio.core.errors import EditError
from studio.core.model import BlockId, ChapterId, VoiceId, VoiceSpan
from studio.core.store import ProjectStore
from studio.ui import commands as c
from studio.ui.session import ProjectSession
from tests.core.factories import make_project, make_take


def snap(project: m.Project) -> dict[str, Any]:
    return {
        "meta": (project.title, project.model_id, project.default_voice_id, project.settings),
        "voices": sorted(dataclasses.astuple(v) for v in project.voices.values()),
        "chapters": [
            (ch.id, ch.title, [(b.id, b.text, b.voice_id, b.spans, b.locked, b.current_take_id,
                                [t.id for t in b.takes]) for b in ch.blocks])
            for ch in project.chapters
        ],
    }


def on_disk(path: Path) -> dict[str, Any]:
    with ProjectStore.open(path, read_only=True) as store:
        return snap(store.load())


@pytest.fixture
def session(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    project = make_project(chapters=3, blocks=4)
    m.add_voice(project, m.Voice(VoiceId("v2"), "Holmes", engine="elevenlabs",
                                 engine_voice_id="JBFqnCBsd6RMkjVDRZzb"))
    for _, block in project.iter_blocks():
        m.add_take(project, make_take(project, block.id))
    store = ProjectStore.create(tmp_path / "b.studio", project)
    s = ProjectSession(store, project)
    yield s
    s.close()


def assert_undoable(session: ProjectSession, command: QUndoCommand) -> None:
    path = session.store.path
    before, disk_before = snap(session.project), on_disk(path)
    assert before == disk_before
    session.push(command)
    after = snap(session.project)
    assert after != before, "the command changed nothing"
    assert on_disk(path) == after
    for _ in range(2):
        session.undo_stack.undo()
        assert snap(session.project) == before and on_disk(path) == before
        session.undo_stack.redo()
        assert snap(session.project) == after and on_disk(path) == after


B0, B1 = BlockId("c0b0"), BlockId("c0b1")


@pytest.mark.parametrize(
    "make",
    [
        lambda s: c.SetBlockTextCommand(s, B0, "New words."),
        lambda s: c.set_block_voice(s, B1, VoiceId("v2")),
        lambda s: c.set_block_spans(s, B1, [VoiceSpan(0, 9, VoiceId("v2"))]),
        lambda s: c.set_block_locked(s, B0, True),
        lambda s: c.insert_break(s, B0, 9, 1.5),
        lambda s: c.split_block(s, B0, 12),
        lambda s: c.merge_blocks(s, B0),
        lambda s: c.add_chapter(s, "Interlude", 1),
        lambda s: c.rename_chapter(s, ChapterId("c1"), "The Middle"),
        lambda s: c.move_chapter(s, ChapterId("c2"), 0),
        lambda s: c.remove_chapter(s, ChapterId("c1")),
        lambda s: c.add_voice(s, m.Voice(VoiceId("v3"), "Irene")),
        lambda s: c.update_voice(s, VoiceId("v-narrator"), stability=0.9, alias="Reader"),
        lambda s: c.set_project_meta(s, model_id="eleven_flash_v2_5"),
    ],
    ids=["text", "voice", "spans", "lock", "break", "split", "merge", "add-chapter", "rename",
         "move", "remove-chapter", "add-voice", "update-voice", "meta"],
)
def test_every_edit_is_undoable(session: ProjectSession, make) -> None:  # type: ignore[no-untyped-def]
    assert_undoable(session, make(session))


def test_restoring_an_older_take_is_undoable(session: ProjectSession) -> None:
    first = session.project.block(B0).current_take
    assert first is not None
    session.add_take(make_take(session.project, B0))  # a newer take (not on the undo stack)
    assert session.undo_stack.count() == 0
    assert_undoable(session, c.restore_take(session, B0, first.id))
    assert session.project.block(B0).current_take_id == first.id


def test_undo_brings_back_removed_narration_with_its_audio(session: ProjectSession) -> None:
    take = session.project.block(BlockId("c1b2")).current_take
    assert take is not None
    audio = session.store.load_take_audio(take.id)
    session.push(c.remove_chapter(session, ChapterId("c1")))
    session.undo_stack.undo()
    assert session.store.load_take_audio(take.id) == audio
    session.push(c.merge_blocks(session, B0))  # the second paragraph's takes go away ...
    gone = session.project.chapter(ChapterId("c0")).blocks[0].takes
    session.undo_stack.undo()  # ... and come back with their audio
    second = session.project.block(B1).current_take
    assert second is not None and session.store.load_take_audio(second.id)
    assert len(gone) == 1


def test_typing_bursts_merge_into_one_step(session: ProjectSession) -> None:
    original = session.project.block(B0).text
    for text in ("P", "Pa", "Par", "Para"):
        session.push(c.SetBlockTextCommand(session, B0, text))
    assert session.undo_stack.count() == 1
    session.undo_stack.undo()
    assert session.project.block(B0).text == original
    session.push(c.SetBlockTextCommand(session, B1, "Other"))
    assert session.undo_stack.count() == 1  # the redo branch was replaced


def test_edits_mark_exactly_their_paragraphs_stale(session: ProjectSession) -> None:
    session.push(c.SetBlockTextCommand(session, B0, "Changed."))
    stale = [b.id for _, b in session.project.iter_blocks()
             if m.block_status(session.project, b) is m.BlockStatus.STALE]
    assert stale == [B0]
    session.undo_stack.undo()
    assert m.block_status(session.project, session.project.block(B0)) is m.BlockStatus.CONVERTED


def test_voice_change_refused_with_the_locked_paragraphs_named(session: ProjectSession) -> None:
    session.push(c.set_block_locked(session, BlockId("c2b3"), True))
    with pytest.raises(EditError, match=r"'Chapter 3' ¶4") as info:
        c.update_voice(session, VoiceId("v-narrator"), speed=1.1)
    assert "Unlock them first" in str(info.value)
    # Alias and volume do not reach the engine: allowed on locked paragraphs.
    assert_undoable(session, c.update_voice(session, VoiceId("v-narrator"), volume_db=-3.0))


def test_refused_edit_leaves_no_trace(session: ProjectSession) -> None:
    session.push(c.set_block_locked(session, B0, True))
    before = snap(session.project)
    with pytest.raises(EditError):
        session.push(c.SetBlockTextCommand(session, B0, "Not allowed"))
    assert snap(session.project) == before and session.undo_stack.count() == 1


def test_changed_signal_carries_what_changed(session: ProjectSession, qtbot) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(session.changed) as blocker:
        session.push(c.SetBlockTextCommand(session, B1, "Signal."), initiator="editor")
    changes, initiator = blocker.args
    assert changes.blocks == {B1} and initiator == "editor"


@pytest.mark.parametrize("make", [
    lambda s: c.SetBlockTextCommand(s, B0, "Edited before a new take was made."),
    lambda s: c.set_block_locked(s, B0, False),
    lambda s: c.insert_break(s, B0, 3),
    lambda s: c.merge_blocks(s, B0),
])
def test_undo_and_redo_keep_takes_made_after_the_command(session: ProjectSession, make) -> None:  # type: ignore[no-untyped-def]
    """Takes are append-only: undoing an edit never throws away audio generated since."""
    session.push(make(session))
    later = make_take(session.project, B0)
    session.add_take(later)  # e.g. the paragraph regenerated after the edit (paid audio)
    for step in (session.undo_stack.undo, session.undo_stack.redo, session.undo_stack.undo):
        step()
        block = session.project.block(B0)
        assert later.id in [t.id for t in block.takes]
        assert block.current_take_id == later.id
        on_disk = ProjectStore.open(session.store.path, read_only=True).load()
        assert later.id in [t.id for t in on_disk.block(B0).takes]
    assert session.store.load_take_audio(later.id) == later.audio
