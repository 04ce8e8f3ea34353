"""Edits in a long chapter cost what they touch, not what the chapter holds.

Counted, not timed: audio reads on deleting a chapter, paragraph states kept by structural
edits, rows measured again on locking.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from studio.core import model as m
from studio.core.model import BlockId, ChapterId
from studio.core.store import ProjectStore
from studio.ui import commands as c
from studio.ui.session import ProjectSession
from tests.core.factories import make_project, make_take


@pytest.fixture
def session(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    project = make_project(chapters=2, blocks=200)
    for _, block in project.iter_blocks():
        m.add_take(project, make_take(project, block.id))
    store = ProjectStore.create(tmp_path / "long.studio", project)
    s = ProjectSession(store, project)
    yield s
    s.close()


def _rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_deleting_a_chapter_reads_none_of_its_audio(session: ProjectSession, monkeypatch
                                                    ) -> None:
    store = session.store
    take = session.project.block(BlockId("c1b7")).current_take
    assert take is not None
    audio = store.load_take_audio(take.id)
    reads: list[str] = []
    for name in ("load_take_audio", "load_peaks", "load_peaks_many"):
        original = getattr(store, name)
        monkeypatch.setattr(store, name, lambda *a, _f=original, _n=name: (
            reads.append(_n), _f(*a))[1])
    session.push(c.remove_chapter(session, ChapterId("c1")))
    assert [ch.id for ch in session.project.chapters] == ["c0"]
    assert [ch.id for ch in ProjectStore.open(store.path, read_only=True).load().chapters] == [
        "c0"]
    session.undo_stack.undo()
    session.undo_stack.redo()
    session.undo_stack.undo()
    assert reads == []  # neither the deletion nor its undo loaded a take's audio
    monkeypatch.undo()
    assert [ch.id for ch in session.project.chapters] == ["c0", "c1"]
    assert store.load_take_audio(take.id) == audio
    reopened = ProjectStore.open(store.path, read_only=True).load()
    assert len(reopened.chapter(ChapterId("c1")).blocks) == 200


def test_a_deleted_chapter_leaves_the_file_when_it_closes(session: ProjectSession) -> None:
    path = session.store.path
    media = _rows(path, "take_media")
    session.push(c.remove_chapter(session, ChapterId("c1")))
    assert _rows(path, "take_media") == media  # held for undo while the file is open
    session.close()
    assert _rows(path, "take_media") == media - 200
    assert _rows(path, "blocks") == 200
    with ProjectStore.open(path) as store:
        assert [ch.id for ch in store.load().chapters] == ["c0"]
        assert store.integrity_check() == ["ok"]


def test_a_killed_session_leaves_the_chapter_deleted_and_the_file_sound(
        session: ProjectSession, tmp_path: Path) -> None:
    session.push(c.remove_chapter(session, ChapterId("c1")))
    # What a kill leaves: the committed file as it is now, without a clean close.
    copy = tmp_path / "killed.studio"
    with sqlite3.connect(session.store.path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    assert _rows(copy, "take_media") == 400
    with ProjectStore.open(copy) as store:  # the next session drops what was held
        assert [ch.id for ch in store.load().chapters] == ["c0"]
        assert store.held_chapters == frozenset()
        assert store.integrity_check() == ["ok"]
    assert _rows(copy, "take_media") == 200


def test_undo_after_save_as_still_brings_the_chapter_back(session: ProjectSession,
                                                          tmp_path: Path) -> None:
    session.push(c.remove_chapter(session, ChapterId("c1")))
    new_store = session.store.save_as(tmp_path / "copy.studio")
    session.store.close()
    session.store = new_store
    session.undo_stack.undo()
    assert not session.unsaved
    loaded = ProjectStore.open(new_store.path, read_only=True).load()
    assert len(loaded.chapter(ChapterId("c1")).blocks) == 200
    take = session.project.block(BlockId("c1b3")).current_take
    assert take is not None and new_store.load_take_audio(take.id)


def test_a_failed_save_then_a_whole_save_keeps_the_held_chapter(session: ProjectSession
                                                                ) -> None:
    session.push(c.remove_chapter(session, ChapterId("c1")))
    assert session.save_now()  # a whole save (as after a failed one) must not drop it ...
    session.undo_stack.undo()  # ... or undo could not write the takes back
    assert not session.unsaved
    path = session.store.path
    loaded = ProjectStore.open(path, read_only=True).load()
    assert [ch.id for ch in loaded.chapters] == ["c0", "c1"]


@pytest.mark.parametrize("make, kept", [
    (lambda s: c.split_block(s, BlockId("c0b100"), 5), 2),
    (lambda s: c.merge_blocks(s, BlockId("c0b100")), 2),
])
def test_structural_edits_keep_only_the_paragraphs_they_touch(session: ProjectSession, make,
                                                             kept: int) -> None:  # type: ignore[no-untyped-def]
    before = [(b.id, b.text, b.current_take_id) for b in session.project.chapters[0].blocks]
    command = make(session)
    session.push(command)
    states = len(command._before) + len(command._after)
    assert states <= kept + 1  # not the chapter's 200 paragraphs, twice
    session.undo_stack.undo()
    assert [(b.id, b.text, b.current_take_id)
            for b in session.project.chapters[0].blocks] == before
    on_disk = ProjectStore.open(session.store.path, read_only=True).load()
    assert [(b.id, b.text, b.current_take_id) for b in on_disk.chapters[0].blocks] == before
    session.undo_stack.redo()
    assert len(session.project.chapters[0].blocks) != len(before)


def test_a_refused_structural_edit_puts_everything_back(session: ProjectSession) -> None:
    chapter = session.project.chapters[0]
    before = [(b.id, b.text) for b in chapter.blocks]
    session.push(c.set_block_locked(session, BlockId("c0b3"), True))

    def edit(p: m.Project) -> m.Changes:
        m.remove_block(p, BlockId("c0b1"))
        return m.remove_block(p, BlockId("c0b3"))  # locked: refused half-way

    with pytest.raises(m.EditError):
        session.push(c.ChapterEditCommand(session, chapter.id, "Delete", edit))
    assert [(b.id, b.text) for b in chapter.blocks] == before


# ---------------------------------------------------------------------------------------------
# The window


SENTENCE = "The river ran on in the dark, past the mills and the sleeping town. "


@pytest.fixture
def long_window(qtbot, qapp, tmp_path: Path):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QStandardPaths

    from studio.ui.main_window import MainWindow
    from studio.ui.player import NullSink

    QStandardPaths.setTestModeEnabled(True)
    chapter = m.Chapter(ChapterId("c0"), "Long", [
        m.Block(BlockId(f"b{i}"), f"P {i}. " + SENTENCE * (2 + i % 7)) for i in range(600)])
    path = tmp_path / "long.studio"
    ProjectStore.create(path, m.Project(title="Long", chapters=[chapter])).close()
    window = MainWindow(player_sink=NullSink())
    qtbot.addWidget(window)
    window.open_project(path)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    view, model = window.block_view, window.blocks_model
    qtbot.waitUntil(lambda: not view.visualRect(model.index(model.rowCount() - 1)).isEmpty(),
                    timeout=60_000)
    return window


def test_locking_every_paragraph_measures_no_row_again(long_window, qtbot, monkeypatch
                                                       ) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from studio.ui.delegates import BlockDelegate

    view = long_window.block_view
    delegate = view.itemDelegate()
    assert isinstance(delegate, BlockDelegate)
    calls = {"sizeHint": 0, "measure": 0}
    size_hint = delegate.sizeHint

    def counting_size_hint(option, index):  # type: ignore[no-untyped-def]
        calls["sizeHint"] += 1
        return size_hint(option, index)

    heights = delegate._heights
    monkeypatch.setattr(delegate, "sizeHint", counting_size_hint)
    monkeypatch.setattr(delegate, "_heights", type("Counting", (dict,), {
        "__setitem__": lambda self, k, v: (calls.__setitem__("measure", calls["measure"] + 1),
                                           dict.__setitem__(self, k, v))[1]})(heights))
    scroll = view.verticalScrollBar().value()
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(100)
    chapter = long_window.blocks_model.chapter
    assert all(b.locked for b in chapter.blocks)
    # Repainted, not laid out again: at most the rows on screen are asked (not all 600),
    # and no row's text is measured again.
    assert calls["measure"] == 0 and calls["sizeHint"] < 40
    long_window.undo_action.trigger()
    qtbot.wait(100)
    assert not any(b.locked for b in chapter.blocks)
    assert calls["measure"] == 0 and calls["sizeHint"] < 80
    assert view.verticalScrollBar().value() == scroll


def test_find_as_you_type_makes_only_the_matches_it_shows(long_window, qtbot, monkeypatch
                                                          ) -> None:  # type: ignore[no-untyped-def]
    from studio.core import find
    from studio.ui.find_replace import PAGE_ROWS

    made: list[int] = []
    context = find._context
    monkeypatch.setattr(find, "_context", lambda *a: (made.append(1), context(*a))[1])
    panel = long_window.find_panel
    long_window.find_action.trigger()
    panel.find_edit.setText("the")
    qtbot.waitUntil(lambda: len(panel.matches) > 0)
    qtbot.wait(50)
    chapter = long_window.blocks_model.chapter
    expected = sum(b.text.lower().count("the") for b in chapter.blocks)
    assert len(panel.matches) == expected > 5 * PAGE_ROWS
    assert panel.model.rowCount() == PAGE_ROWS  # the list holds a page, not 10,000 rows
    assert len(made) < 100  # the rows painted, not every match
    panel.go_to(len(panel.matches) - 1)  # the last match: its page is shown
    assert panel.model.offset + panel.results.currentIndex().row() == len(panel.matches) - 1
    assert panel.count_label.text() == f"{expected} of {expected}"
    panel.find_next()  # wraps to the first
    assert panel.current == 0 and panel.model.offset == 0


def test_replace_all_measures_new_texts_in_batches_then_lays_out_once(long_window, qtbot,
                                                                      monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.delegates import BlockDelegate
    from studio.ui.paragraph_view import MEASURE_NOW

    view = long_window.block_view
    delegate = view.itemDelegate()
    assert isinstance(delegate, BlockDelegate)
    asked: list[int] = []  # rows the view asked for a height (600 for each layout)
    size_hint = delegate.sizeHint
    monkeypatch.setattr(delegate, "sizeHint",
                        lambda option, index: (asked.append(1), size_hint(option, index))[1])
    batches: list[int] = []
    measure = delegate.measure_rows
    monkeypatch.setattr(delegate, "measure_rows",
                        lambda model, rows: (batches.append(len(rows)), measure(model, rows))[1])
    session = long_window.session
    command = c.replace_all(session, "river", "stream that ran")
    session.push(command)
    assert command.plan.paragraphs == 600
    assert asked == [] and batches == []  # nothing measured or laid out in the edit itself
    chapter = long_window.blocks_model.chapter
    model = long_window.blocks_model
    qtbot.waitUntil(lambda: not view._to_measure, timeout=20_000)
    qtbot.waitUntil(lambda: delegate._laid_out[chapter.blocks[599].id][0]
                    == chapter.blocks[599].text, timeout=20_000)
    qtbot.wait(100)
    assert len(batches) >= 600 // MEASURE_NOW and max(batches) <= MEASURE_NOW
    assert 600 <= len(asked) < 2 * 600  # one layout
    for row in (0, 299, 599):  # laid out from the new texts
        laid_out = delegate._laid_out[chapter.blocks[row].id]
        assert laid_out[0] == chapter.blocks[row].text
        assert view.visualRect(model.index(row)).height() == laid_out[1]
