"""The Cast dock on Pride and Prejudice chapters 1-2: detect in the background, review the
doubtful lines, apply the cast as one undo step (memory and file), change a character's
voice (exactly their paragraphs go stale), and step through where a character speaks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QStandardPaths

from studio.core import model as m
from studio.core.casting.sample import project_from_text
from studio.core.engines import EngineVoice
from studio.core.model import BlockStatus, Voice, VoiceId
from studio.core.store import ProjectStore
from studio.ui.panels.cast import NARRATOR, CastPanel
from studio.ui.player import NullSink
from studio.ui.session import ProjectSession
from tests.core.factories import make_take

BOOK = Path(__file__).parent.parent / "data" / "casting" / "pride_and_prejudice_ch1-2.txt"
VOICES = [
    EngineVoice("en-us", "Narrator US", "offline", {"gender": "male", "language": "en-us"}),
    EngineVoice("en-gb+f2", "Woman 2", "offline", {"gender": "female", "language": "en-gb"}),
    EngineVoice("en-gb+f3", "Woman 3", "offline", {"gender": "female", "language": "en-gb"}),
    EngineVoice("en-gb+f4", "Woman 4", "offline", {"gender": "female", "language": "en-gb"}),
    EngineVoice("en-gb+m3", "Man 3", "offline", {"gender": "male", "language": "en-gb"}),
    EngineVoice("en-gb+m4", "Man 4", "offline", {"gender": "male", "language": "en-gb"}),
]


@pytest.fixture(autouse=True)
def _paths() -> None:
    QStandardPaths.setTestModeEnabled(True)


def pride_and_prejudice(path: Path) -> Path:
    """Write a project of the two chapters, read by an offline narrator."""
    project = project_from_text(BOOK.read_text(encoding="utf-8"), "Pride and Prejudice")
    m.add_voice(project, Voice(VoiceId("narrator"), "Narrator", engine_voice_id="en-us"))
    ProjectStore.create(path, project).close()
    return path


@pytest.fixture
def session(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = pride_and_prejudice(tmp_path / "pp.studio")
    store = ProjectStore.open(path)
    s = ProjectSession(store, store.load())
    yield s
    s.close()


@pytest.fixture
def panel(qtbot, session: ProjectSession):  # type: ignore[no-untyped-def]
    shown: list[str] = []
    p = CastPanel(lambda: list(VOICES), lambda: "offline", lambda: session.project.chapters[0],
                  shown.append, sink=NullSink())
    p.shown = shown  # type: ignore[attr-defined]
    qtbot.addWidget(p)
    p.set_session(session)
    with qtbot.waitSignal(p.detected, timeout=20_000):
        p.detect()
    yield p
    p.wait()


def snap(project: m.Project) -> dict[str, Any]:
    return {
        "voices": sorted((v.id, v.alias, v.engine_voice_id, v.speed) for v in
                         project.voices.values()),
        "default": project.default_voice_id,
        "spans": {b.id: b.spans for _, b in project.iter_blocks()},
    }


def on_disk(path: Path) -> dict[str, Any]:
    with ProjectStore.open(path, read_only=True) as store:
        return snap(store.load())


def _names(panel: CastPanel) -> list[str]:
    return [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]


def test_detect_lists_characters_with_lines_confidence_and_voice(panel: CastPanel) -> None:
    names = _names(panel)
    assert names[:2] == ["Mrs. Bennet", "Mr. Bennet"]
    assert {"Elizabeth", "Kitty", "Lydia"} <= set(names)
    assert int(panel.table.item(0, 1).text()) > 10
    assert 0 < float(panel.table.item(0, 2).text()) <= 1
    mrs = panel.table.cellWidget(0, 3)
    mr = panel.table.cellWidget(1, 3)
    assert mrs.currentData().startswith("en-gb+f")  # labels matched: a woman's voice
    assert mr.currentData().startswith("en-gb+m")
    assert "64 quoted lines" in panel.summary.text()
    assert panel.review.rowCount() > 0  # doubtful lines to review
    assert panel.tabs.tabText(0) == f"Review ({panel.review.rowCount()})"


def test_review_apply_is_one_undo_step_in_memory_and_on_disk(
        panel: CastPanel, session: ProjectSession) -> None:
    path = session.store.path
    before = snap(session.project)
    assert before == on_disk(path)
    sheet = panel.detection.sheet  # type: ignore[union-attr]
    # Review: the first doubtful line goes to the narrator, the second is accepted, the
    # third is given to Elizabeth.
    rows = [int(panel.review.item(r, 0).data(256)) for r in range(3)]
    panel.review.selectRow(0)
    panel.narrator_button.click()
    assert panel.review.item(0, 1).text() == f"✓ {NARRATOR}"
    panel.review.selectRow(1)
    panel.accept_button.click()
    panel.review.selectRow(2)
    panel.speaker.setCurrentIndex(panel.speaker.findText("Elizabeth"))
    panel.change_button.click()
    elizabeth = next(c.id for c in sheet.characters if c.name == "Elizabeth")
    assert panel.overrides == {rows[0]: None, rows[1]: sheet.lines[rows[1]].speaker,
                               rows[2]: elizabeth}
    assert panel.tabs.tabText(0) == f"Review ({panel.review.rowCount() - 3})"

    command = panel.apply_cast()
    assert command is not None and session.undo_stack.count() == 1
    after = snap(session.project)
    assert after != before and on_disk(path) == after
    cast = {v.alias: v for v in session.project.voices.values()}
    assert {"Mrs. Bennet", "Mr. Bennet", "Elizabeth"} <= set(cast)
    first = sheet.lines[rows[0]]
    spans = session.project.block(first.block_id).spans
    assert not any(s.start == first.start for s in spans)  # the narrator keeps it
    third = sheet.lines[rows[2]]
    assert any(s.start == third.start and s.voice_id == cast["Elizabeth"].id
               for s in session.project.block(third.block_id).spans)
    mrs_lines = panel.character_lines(panel.current_character().id)  # type: ignore[union-attr]
    assert all(any(s.start == ln.start and s.voice_id == cast["Mrs. Bennet"].id
                   for s in session.project.block(ln.block_id).spans) for ln in mrs_lines)
    for _ in range(2):
        session.undo_stack.undo()
        assert snap(session.project) == before and on_disk(path) == before
        session.undo_stack.redo()
        assert snap(session.project) == after and on_disk(path) == after


def test_changing_a_characters_voice_makes_exactly_their_paragraphs_stale(
        panel: CastPanel, session: ProjectSession) -> None:
    assert panel.apply_cast() is not None
    project = session.project
    session.add_takes([make_take(project, b.id) for _, b in project.iter_blocks()])
    assert all(m.block_status(project, b) == BlockStatus.CONVERTED
               for _, b in project.iter_blocks())
    assert panel.select_character("Mr. Bennet")
    character = panel.current_character()
    assert character is not None
    theirs = {ln.block_id for ln in panel.character_lines(character.id)}
    messages: list[str] = []
    panel.message.connect(messages.append)
    panel.tabs.setCurrentIndex(1)
    assert panel.voice_apply.isEnabled() and panel.alias.text() == "Mr. Bennet"
    panel.spins["speed"].setValue(0.9)
    panel.voice_apply.click()
    stale = {b.id for _, b in project.iter_blocks()
             if m.block_status(project, b) == BlockStatus.STALE}
    assert stale == theirs
    assert messages[-1].endswith(f"{len(theirs)} narrated paragraphs to regenerate.")
    # Another voice for Mrs. Bennet from the sheet: her paragraphs go stale too, no others.
    assert panel.select_character("Mrs. Bennet")
    hers = {ln.block_id for ln in panel.character_lines(panel.current_character().id)}  # type: ignore[union-attr]
    combo = panel.table.cellWidget(panel.table.currentRow(), 3)
    combo.setCurrentIndex(combo.findData("en-gb+f4" if combo.currentData() != "en-gb+f4"
                                         else "en-gb+f3"))
    stale = {b.id for _, b in project.iter_blocks()
             if m.block_status(project, b) == BlockStatus.STALE}
    assert stale == theirs | hers
    with ProjectStore.open(session.store.path, read_only=True) as store:
        again = store.load()
    voice = next(v for v in again.voices.values() if v.alias == "Mrs. Bennet")
    assert voice.engine_voice_id == combo.currentData()


def test_next_and_previous_line_go_to_the_characters_paragraphs(panel: CastPanel) -> None:
    assert panel.select_character("Lydia")
    lydia = panel.character_lines(panel.current_character().id)  # type: ignore[union-attr]
    first = panel.step_line(1)
    assert first == lydia[0] and panel.shown[-1] == lydia[0].block_id  # type: ignore[attr-defined]
    assert "line 1 of" in panel.where.text()
    panel.prev_button.click()  # wraps round to the last
    assert panel.shown[-1] == lydia[-1].block_id  # type: ignore[attr-defined]


def _redetect(qtbot, panel: CastPanel) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(panel.detected, timeout=20_000):
        panel.detect()


def test_renaming_a_characters_alias_keeps_their_voice_across_detections_and_reopening(
        qtbot, panel: CastPanel, session: ProjectSession) -> None:  # type: ignore[no-untyped-def]
    project = session.project
    assert panel.apply_cast() is not None
    assert panel.select_character("Mrs. Bennet")
    hers = panel.cast[panel.current_character().id]  # type: ignore[union-attr]
    panel.tabs.setCurrentIndex(1)
    panel.alias.setText("Mama")
    panel.voice_apply.click()
    assert project.voices[hers].alias == "Mama"
    count = len(project.voices)

    def check(p: m.Project, panel: CastPanel) -> None:
        # The sheet still links her to "Mama", and applying again adds no voice.
        assert panel.select_character("Mrs. Bennet")
        character = panel.current_character()
        assert character is not None and panel.cast[character.id] == hers
        assert panel.alias.text() == "Mama" and panel.voice_apply.isEnabled()
        assert panel.apply_cast() is not None
        assert len(p.voices) == count and "Mrs. Bennet" not in {
            v.alias for v in p.voices.values()}
        assert all(any(s.start == ln.start and s.voice_id == hers
                       for s in p.block(ln.block_id).spans)
                   for ln in panel.character_lines(character.id))
        assert p.settings["cast"]["Mrs. Bennet"] == hers
        assert p.settings["paragraph_pause_s"] == m.DEFAULT_SETTINGS["paragraph_pause_s"]

    _redetect(qtbot, panel)
    check(project, panel)
    with ProjectStore.open(session.store.path, read_only=True) as store:
        assert store.load().settings["cast"]["Mrs. Bennet"] == hers
    # Undo of the first apply forgets the links it made (the rename is undone first).
    stack = session.undo_stack
    while stack.canUndo():
        stack.undo()
    assert "cast" not in project.settings or not project.settings["cast"]
    while stack.canRedo():
        stack.redo()
    assert project.settings["cast"]["Mrs. Bennet"] == hers

    # Closed and opened again: a new sheet finds her voice through the project's links.
    path = session.store.path
    session.close()
    store = ProjectStore.open(path)
    again = ProjectSession(store, store.load())
    try:
        fresh = CastPanel(lambda: list(VOICES), lambda: "offline",
                          lambda: again.project.chapters[0], lambda _b: None, sink=NullSink())
        qtbot.addWidget(fresh)
        fresh.set_session(again)
        _redetect(qtbot, fresh)
        check(again.project, fresh)
        fresh.wait()
    finally:
        again.close()


def test_voice_names_too_long_for_the_sheet_are_elided_in_the_middle_with_a_tooltip(
        qtbot, session: ProjectSession) -> None:  # type: ignore[no-untyped-def]
    # espeak-ng's names share a long start: cut at the end they all look the same.
    long = [EngineVoice(v.voice_id, f"English (Caribbean) — {v.name.lower()}", "offline",
                        v.labels) for v in VOICES]
    p = CastPanel(lambda: list(long), lambda: "offline", lambda: session.project.chapters[0],
                  lambda _b: None, sink=NullSink())
    qtbot.addWidget(p)
    p.resize(320, 700)  # the dock's default width
    p.show()
    p.set_session(session)
    with qtbot.waitSignal(p.detected, timeout=20_000):
        p.detect()
    qtbot.wait(50)
    shown = []
    for row in range(p.table.rowCount()):
        box = p.table.cellWidget(row, 3)
        text = box.shown_text() if hasattr(box, "shown_text") else box.currentText()
        field = box.style().subControlRect(
            box.style().ComplexControl.CC_ComboBox, _combo_option(box),
            box.style().SubControl.SC_ComboBoxEditField, box)
        assert box.fontMetrics().horizontalAdvance(text) <= field.width()
        shown.append(text)
        if box.currentData() is not None:
            name = box.currentText()
            assert text.endswith(name[-7:]) and text.startswith(name[:3])  # the middle goes
            assert name in box.toolTip() and "gender:" in box.toolTip()
            item_tip = box.itemData(box.currentIndex(), 3)  # Qt.ToolTipRole
            assert name in item_tip
    voiced = [t for r, t in enumerate(shown) if p.table.cellWidget(r, 3).currentData()]
    ids = [p.table.cellWidget(r, 3).currentData() for r in range(len(shown))
           if p.table.cellWidget(r, 3).currentData()]
    assert len(set(voiced)) == len(set(ids))  # different voices look different
    # The voice column gets the room the names do not need.
    assert p.table.columnWidth(3) > p.table.columnWidth(0)
    p.wait()


def _combo_option(box):  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QStyleOptionComboBox

    option = QStyleOptionComboBox()
    box.initStyleOption(option)
    return option
