"""Long scopes are planned off the GUI thread; the window goes on as for a plan made at once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths

from studio.core import generation
from studio.core import model as m
from studio.core.sample import create_sample_project
from studio.ui import commands
from studio.ui import main_window as main_window_module
from studio.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    """The window on the sample book, offline, planning every scope in the background."""
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    monkeypatch.setattr(main_window_module, "PLAN_IN_BACKGROUND_FROM", 1)
    win = MainWindow()
    qtbot.addWidget(win)
    win.open_project(create_sample_project(tmp_path / "s.studio"))
    yield win
    if win.controller is not None and win.controller.running:
        win.controller.abort()
        win.controller.wait(10)
    win._planner.wait(10)


def test_a_long_scope_is_planned_off_the_gui_thread(window, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    planned_on: list[threading.Thread] = []
    plan_render = generation.plan_render

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        planned_on.append(threading.current_thread())
        return plan_render(*args, **kwargs)

    monkeypatch.setattr(generation, "plan_render", recording)
    controller = window.controller
    with qtbot.waitSignal(controller.finished, timeout=60_000):
        assert window.generate() is True
        assert not controller.running  # not yet: the plan is being made
        assert "Planning" in window.statusBar().currentMessage()
    assert planned_on and threading.current_thread() not in planned_on
    chapter = window.project.chapters[0]
    assert all(m.block_status(window.project, b) is m.BlockStatus.CONVERTED
               for b in chapter.blocks)
    assert "Generated 3 paragraphs" in window.statusBar().currentMessage()
    # Nothing left to do: said so once the plan is back, and nothing starts.
    window.generate()
    qtbot.waitUntil(lambda: "already narrated" in window.statusBar().currentMessage(),
                    timeout=10_000)
    assert not controller.running


def test_an_edit_made_while_planning_is_what_gets_narrated(window, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    entered, release = threading.Event(), threading.Event()
    calls: list[int] = []
    plan_render = generation.plan_render

    def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:  # the first plan waits for the test to edit the chapter
            entered.set()
            release.wait(30)
        return plan_render(*args, **kwargs)

    monkeypatch.setattr(generation, "plan_render", held)
    session, controller = window.session, window.controller
    chapter = session.project.chapters[0]
    target = chapter.blocks[1]
    window.generate()
    assert entered.wait(30)
    session.push(commands.SetBlockTextCommand(session, target.id, "A line typed meanwhile."))
    with qtbot.waitSignal(controller.finished, timeout=60_000):
        release.set()
    assert len(calls) == 2  # planned again from the project as edited
    assert target.current_take is not None and target.current_take.text == (
        "A line typed meanwhile.")
    assert all(m.block_status(session.project, b) is m.BlockStatus.CONVERTED
               for b in chapter.blocks)


def test_a_second_generate_while_planning_is_refused_politely(window, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()
    plan_render = generation.plan_render

    def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        release.wait(30)
        return plan_render(*args, **kwargs)

    monkeypatch.setattr(generation, "plan_render", held)
    assert window.generate() is True
    assert window.generate(book=True) is False
    assert "Still planning" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        release.set()
    assert all(b.current_take is not None for b in window.project.chapters[0].blocks)
    assert all(not b.takes for b in window.project.chapters[1].blocks)
