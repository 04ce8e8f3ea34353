"""The window's wiring, driven as a user would: mouse on the waveform, real key presses,
the File menu's dialogs, History's confirmation, the padlock's pixels, the window's place.

Each test fails when the connection it names is taken out of the window.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import (
    QItemSelectionModel,
    QPoint,
    QPointF,
    QRect,
    QSettings,
    QStandardPaths,
    Qt,
)
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from studio.core import model as m
from studio.core.model import BlockId
from studio.core.sample import create_sample_project
from studio.core.store import ProjectStore
from studio.ui import commands
from studio.ui.main_window import MainWindow
from studio.ui.player import NullSink
from tests.core.factories import make_project, make_take, wav_bytes

RATE = 22050


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path: Path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    QStandardPaths.setTestModeEnabled(True)
    # Test mode alone puts QSettings in ~/.qttest, one file shared with every test process
    # running at the same time (one clearing it mid-test): give each test its own.
    shared = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "settings"))
    QSettings().clear()
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    yield
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, shared)


def narrated_project(path: Path, paragraphs: int = 3, seconds: float = 0.2,
                     text: str | None = None) -> Path:
    """Write a one-chapter project whose paragraphs all have a current take of ``seconds``."""
    project = make_project(chapters=1, blocks=paragraphs)
    if text is not None:
        for n, block in enumerate(project.chapters[0].blocks, 1):
            block.text = f"{n}. {text}"
    audio = wav_bytes(seconds)
    for block in project.chapters[0].blocks:
        take = dataclasses.replace(make_take(project, block.id, audio), duration=seconds)
        m.add_take(project, take)
    ProjectStore.create(path, project).close()
    return path


def shown_window(qtbot, path: Path | None = None, sink: NullSink | None = None,  # type: ignore[no-untyped-def]
                 size: tuple[int, int] = (1280, 800)) -> MainWindow:
    window = MainWindow(player_sink=sink)
    qtbot.addWidget(window)
    if path is not None:
        window.open_project(path)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window


def select_rows(window: MainWindow, *rows: int) -> None:
    selection = window.block_view.selectionModel()
    selection.clearSelection()
    for row in rows:
        selection.select(window.blocks_model.index(row), QItemSelectionModel.SelectionFlag.Select)
    # Not view.setCurrentIndex: that reads the keyboard's modifiers (Ctrl held = toggle).
    selection.setCurrentIndex(window.blocks_model.index(rows[-1]),
                              QItemSelectionModel.SelectionFlag.NoUpdate)


# -- 1. waveform: click to seek, drag to play --------------------------------------------------


def _detail_point(window: MainWindow, t: float) -> QPoint:
    """Map a time in the detail plot (view) to the plot's viewport (widget) coordinates."""
    plot = window.waveform.detail
    vb = plot.getPlotItem().getViewBox()
    y = vb.viewRange()[1]
    scene = vb.mapViewToScene(QPointF(t, (y[0] + y[1]) / 2))
    return plot.mapFromScene(scene)


def test_click_on_the_waveform_seeks_and_drag_plays_the_selection(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path) -> None:
    sink = NullSink()
    window = shown_window(qtbot, narrated_project(tmp_path / "n.studio", 3, seconds=4.0), sink)
    bar, wave = window.player_bar, window.waveform
    assert len(bar.timeline) == 3 and bar.timeline[-1].end > 12.0  # with pauses between
    wave.set_visible_range(0.0, 12.0)
    viewport = wave.detail.viewport()

    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=_detail_point(window, 5.0))
    assert bar.player.position == pytest.approx(5.0, abs=0.15)
    assert bar.player.state == "stopped"  # a click moves the playhead, it does not play

    t0, t1 = 2.0, 7.0
    a, b = _detail_point(window, t0), _detail_point(window, t1)
    before = sink.frames_written
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=a)
    for i in range(1, 11):
        qtbot.mouseMove(viewport, QPoint(a.x() + (b.x() - a.x()) * i // 10, a.y()))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=b)
    lo, hi = wave.selected_range() or (0.0, 0.0)
    assert lo == pytest.approx(t0, abs=0.15) and hi == pytest.approx(t1, abs=0.15)
    qtbot.waitUntil(lambda: sink.frames_written > before and bar.player.state == "stopped",
                    timeout=10_000)
    assert sink.frames_written - before == pytest.approx((hi - lo) * RATE, abs=RATE * 0.02)


# -- 2. the spoken paragraph is kept in view ---------------------------------------------------


def test_the_spoken_paragraph_is_scrolled_into_view(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sink = NullSink()
    path = narrated_project(tmp_path / "long.studio", 80,
                            text="A paragraph long enough to wrap onto a second line " * 3)
    window = shown_window(qtbot, path, sink)
    view, model = window.block_view, window.blocks_model
    view.scrollToTop()
    far = model.index(70)
    qtbot.waitUntil(lambda: view.visualRect(model.index(0)).isValid(), timeout=10_000)
    assert not view.viewport().rect().intersects(view.visualRect(far))  # out of view
    spoken: list[str] = []
    window.player_bar.word_spoken.connect(lambda block_id, _word: spoken.append(block_id))
    block = model.block_at(70)
    assert block is not None
    assert window.player_bar.play_paragraphs([block.id])
    assert spoken and spoken[-1] == block.id
    qtbot.waitUntil(lambda: view.viewport().rect().intersects(view.visualRect(far)),
                    timeout=10_000)


# -- 3. window geometry ------------------------------------------------------------------------


def test_window_geometry_is_restored(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    restored_with: list[bytes] = []
    restore = MainWindow.restoreGeometry

    def spy(self: MainWindow, geometry: object) -> bool:
        restored_with.append(bytes(geometry))  # type: ignore[call-overload]
        return restore(self, geometry)  # type: ignore[arg-type]

    monkeypatch.setattr(MainWindow, "restoreGeometry", spy)
    first = shown_window(qtbot)
    first.resize(first.minimumWidth(), first.minimumHeight() + 40)
    first.move(37, 23)
    qtbot.waitUntil(lambda: first.pos().y() == 23)
    geometry = first.geometry()
    first.close()
    saved = QSettings().value("window/geometry")
    assert saved is not None
    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert restored_with == [bytes(saved)]
    # The offscreen screen (800 x 800) is narrower than the window's minimum width, so
    # restoring moves it to the left edge, and the dock layout restored after it sets the
    # height: the top edge is what tells a restored window from a first run (at the top).
    restored = second.geometry()
    assert restored.width() == geometry.width()
    assert abs(restored.y() - geometry.y()) <= 4 and restored.y() > 10


# -- 4. File ▸ Import Manuscript ---------------------------------------------------------------


def test_import_manuscript_from_the_file_menu(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "book.md"
    source.write_text("# The Fox\n\nA fox saw some grapes.\n\nThey were sour.\n\n"
                      "# The Crow\n\nA crow had some cheese.\n", encoding="utf-8")
    target = tmp_path / "imported.studio"
    asked: list[str] = []

    def open_name(_parent, caption, *_a, **_k):  # type: ignore[no-untyped-def]
        asked.append(caption)
        return str(source), ""

    def save_name(_parent, caption, *_a, **_k):  # type: ignore[no-untyped-def]
        asked.append(caption)
        return str(target), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", open_name)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    monkeypatch.setattr(QMessageBox, "exec", lambda _box: 0)
    window = shown_window(qtbot)
    window.import_action.trigger()
    assert asked == ["Import Manuscript", "Save New Project As"]
    titles = [window.chapters_model.chapter(r).title
              for r in range(window.chapters_model.rowCount())]
    assert titles == ["The Fox", "The Crow"]
    assert window.store is not None and window.store.path == target and target.exists()
    assert window.blocks_model.rowCount() == 2
    window.close()
    with ProjectStore.open(target, read_only=True) as store:
        again = store.load()
    assert [c.title for c in again.chapters] == titles
    assert [b.text for b in again.chapters[0].blocks] == ["A fox saw some grapes.",
                                                          "They were sour."]


# -- 5. History: delete asks first -------------------------------------------------------------


def test_history_delete_asks_and_no_keeps_the_take(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = narrated_project(tmp_path / "h.studio", 2)
    window = shown_window(qtbot, path)
    select_rows(window, 0)
    history = window.history_panel
    assert history.list.count() == 1
    history.list.setCurrentRow(0)
    take = history.selected_take()
    assert take is not None and history.delete_button.isEnabled()
    block = window.blocks_model.block_at(0)
    assert block is not None
    questions: list[str] = []
    answer = QMessageBox.StandardButton.No

    def question(_parent, _title, text, *_a, **_k):  # type: ignore[no-untyped-def]
        questions.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)

    def stored_takes() -> list[str]:
        with ProjectStore.open(path, read_only=True) as store:
            return [t.id for t in store.load().block(block.id).takes]

    history.delete_button.click()
    assert len(questions) == 1
    assert [t.id for t in block.takes] == [take.id] and stored_takes() == [take.id]
    assert history.list.count() == 1

    answer = QMessageBox.StandardButton.Yes
    history.list.setCurrentRow(0)
    history.delete_button.click()
    assert len(questions) == 2
    assert block.takes == [] and stored_takes() == []


# -- 6. the padlock is painted -----------------------------------------------------------------


def test_locking_paints_a_padlock_on_the_row(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = shown_window(qtbot, narrated_project(tmp_path / "p.studio", 3))
    view, model = window.block_view, window.blocks_model
    view.clearSelection()  # selected rows are painted in the highlight: compare unselected ones
    view.setCurrentIndex(model.index(2))
    view.selectionModel().clearSelection()
    qtbot.waitUntil(lambda: view.visualRect(model.index(0)).height() > 0)

    def padlock_area() -> list[int]:
        QApplication.processEvents()
        rect = view.visualRect(model.index(0))
        # delegates.BlockDelegate.paint: _draw_padlock(rect.right() - 18, rect.top() + 5), 14x15
        area = QRect(rect.right() - 18, rect.top() + 5, 14, 15)
        image = view.viewport().grab(area).toImage()
        return [image.pixel(x, y) for y in range(image.height()) for x in range(image.width())]

    before = padlock_area()
    assert window.session is not None
    block = model.block_at(0)
    assert block is not None
    window.session.push(commands.set_blocks_locked(window.session, [block.id], True))
    assert block.locked
    after = padlock_area()
    changed = sum(a != b for a, b in zip(before, after, strict=True))
    assert changed > 20, changed


# -- 7. real key presses -----------------------------------------------------------------------


def _active(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)


def test_space_in_the_paragraph_list_plays(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sink = NullSink()
    window = shown_window(qtbot, narrated_project(tmp_path / "k.studio", 3), sink)
    _active(qtbot, window)
    window.block_view.setFocus()
    qtbot.waitUntil(window.block_view.hasFocus)
    qtbot.keyClick(window.block_view, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: sink.frames_written > 0, timeout=10_000)


def test_undo_and_redo_keys(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = shown_window(qtbot, narrated_project(tmp_path / "k.studio", 3))
    _active(qtbot, window)
    session = window.session
    assert session is not None
    block = session.project.chapters[0].blocks[0]
    old = block.text
    session.push(commands.SetBlockTextCommand(session, BlockId(block.id), "Edited."))
    assert block.text == "Edited."
    window.block_view.setFocus()
    qtbot.keyClick(window.block_view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert block.text == old
    qtbot.keyClick(window.block_view, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert block.text == "Edited."


def test_ctrl_g_generates_the_chapter_offline(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = shown_window(qtbot, create_sample_project(tmp_path / "s.studio"))
    _active(qtbot, window)
    assert window.controller is not None
    window.block_view.setFocus()
    controller = window.controller
    with qtbot.waitSignal(controller.finished, timeout=60_000), \
            qtbot.waitSignal(controller.started, timeout=5000):  # fails fast without the key
        qtbot.keyClick(window.block_view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    chapter = window.blocks_model.chapter
    assert chapter is not None and all(b.current_take is not None for b in chapter.blocks)


def test_ctrl_l_locks_and_ctrl_b_inserts_a_break(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    window = shown_window(qtbot, narrated_project(tmp_path / "k.studio", 3))
    _active(qtbot, window)
    select_rows(window, 1)
    window.block_view.setFocus()
    block = window.blocks_model.block_at(1)
    assert block is not None and not block.locked
    asked: list[str] = []

    def ask_seconds(title, seconds, choices=()):  # type: ignore[no-untyped-def]
        asked.append(title)
        return 0, 0.7

    # The break dialog is modal: answer it (the key press is what is under test).
    monkeypatch.setattr(window.editor_actions, "_ask_seconds", ask_seconds)
    qtbot.keyClick(window.block_view, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["Insert Break"] and '<break time="0.7s"' in block.text
    qtbot.keyClick(window.block_view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert block.locked
    qtbot.keyClick(window.block_view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert not block.locked


def test_ctrl_f_shows_find_and_f1_the_shortcut_sheet(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.shortcuts import ShortcutsDialog

    opened: list[ShortcutsDialog] = []
    monkeypatch.setattr(ShortcutsDialog, "open", lambda self: opened.append(self))
    monkeypatch.setattr(ShortcutsDialog, "exec", lambda self: opened.append(self) or 0)
    window = shown_window(qtbot, narrated_project(tmp_path / "k.studio", 3))
    _active(qtbot, window)
    window.block_view.setFocus()
    dock = window.find_dock  # type: ignore[attr-defined]
    assert not dock.isVisible()
    qtbot.keyClick(window.block_view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert dock.isVisible()
    window.block_view.setFocus()
    qtbot.keyClick(window.block_view, Qt.Key.Key_F1)
    assert len(opened) == 1 and opened[0].table.rowCount() > 10
