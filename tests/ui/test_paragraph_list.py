"""The paragraph list as a model/view: structural edits keep the selection and the scroll, the
editor's cursor stays in view, the spoken paragraph is tinted, generating stripes move, and
multi-paragraph edits are one undo step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QStandardPaths
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from studio.core import model as m
from studio.core.model import Block, BlockId, Chapter, ChapterId, Project, VoiceId
from studio.core.sample import create_sample_project
from studio.core.store import ProjectStore
from studio.ui import commands
from studio.ui.delegates import BlockDelegate
from studio.ui.main_window import MainWindow
from studio.ui.player import NullSink

SENTENCE = "The river ran on in the dark, past the mills and the sleeping town. "


@pytest.fixture(autouse=True)
def _test_paths(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    style = qapp.style().name()
    yield
    qapp.setStyle(style)
    qapp.setPalette(QPalette())


def _window(qtbot, path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    w = MainWindow(player_sink=NullSink())
    qtbot.addWidget(w)
    w.open_project(path)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    return _window(qtbot, create_sample_project(tmp_path / "sample.studio"))


def _long_chapter_file(folder: Path, paragraphs: int) -> Path:
    chapter = Chapter(ChapterId("c0"), "Long", [
        Block(BlockId(f"b{i}"), f"P {i}. " + SENTENCE * (2 + i % 7)) for i in range(paragraphs)])
    path = folder / "long.studio"
    ProjectStore.create(path, Project(title="Long", chapters=[chapter])).close()
    return path


def _delegate(window: MainWindow) -> BlockDelegate:
    delegate = window.block_view.itemDelegate()
    assert isinstance(delegate, BlockDelegate)
    return delegate


def _select_rows(window: MainWindow, rows: list[int]) -> None:
    view, model = window.block_view, window.blocks_model
    view.setCurrentIndex(model.index(rows[0]))
    for row in rows[1:]:
        view.selectionModel().select(model.index(row), QItemSelectionModel.SelectionFlag.Select)


# ---------------------------------------------------------------------------------------------
# One undo step for many paragraphs


def test_locking_several_paragraphs_is_one_undo_step(window: MainWindow) -> None:
    session = window.session
    assert session is not None
    chapter = window.blocks_model.chapter
    assert chapter is not None
    _select_rows(window, [0, 1, 2])
    stack = session.undo_stack
    count = stack.count()
    window.lock_action.trigger()
    assert all(b.locked for b in chapter.blocks)
    assert stack.count() == count + 1
    window.lock_action.trigger()  # all locked: Ctrl+L unlocks them all, one step again
    assert not any(b.locked for b in chapter.blocks)
    assert stack.count() == count + 2
    stack.undo()
    assert all(b.locked for b in chapter.blocks)
    stack.undo()
    assert not any(b.locked for b in chapter.blocks)
    # A mixed selection locks the unlocked ones.
    session.push(commands.set_block_locked(session, chapter.blocks[1].id, True))
    count = stack.count()
    _select_rows(window, [0, 1, 2])
    window.lock_action.trigger()
    assert all(b.locked for b in chapter.blocks) and stack.count() == count + 1


def test_assigning_a_voice_to_several_paragraphs_is_one_undo_step(window: MainWindow) -> None:
    session = window.session
    assert session is not None
    session.push(commands.add_voice(session, m.Voice(VoiceId("v-fox"), "Vixen")))
    chapter = window.blocks_model.chapter
    assert chapter is not None
    panel = window.voices_panel
    panel.list.setCurrentRow([panel.list.item(i).text() for i in range(panel.list.count())]
                             .index("Vixen"))
    _select_rows(window, [0, 1, 2])
    count = session.undo_stack.count()
    panel.assign_to_selection()
    assert [b.voice_id for b in chapter.blocks] == [VoiceId("v-fox")] * 3
    assert session.undo_stack.count() == count + 1
    session.undo_stack.undo()
    assert [b.voice_id for b in chapter.blocks] == [None] * 3
