"""The Cast and Pronunciation docks in the window: registered, following the open project,
and leading to paragraphs in the editor."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QDockWidget

from studio.core.engines import EngineVoice
from studio.core.model import PronunciationRule
from studio.ui.main_window import MainWindow
from studio.ui.player import NullSink
from tests.ui.test_cast_panel import VOICES, pride_and_prejudice


@pytest.fixture(autouse=True)
def _paths(monkeypatch: pytest.MonkeyPatch) -> None:
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(MainWindow, "_engine_voices", lambda self: list(VOICES))
    w = MainWindow(player_sink=NullSink())
    qtbot.addWidget(w)
    w.open_project(pride_and_prejudice(tmp_path / "pp.studio"))
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.cast_panel.wait()  # type: ignore[attr-defined]
    w.lexicon_panel.wait()  # type: ignore[attr-defined]


def test_docks_are_registered_and_follow_the_project(window: MainWindow) -> None:
    names = {d.objectName(): d for d in window.findChildren(QDockWidget)}
    assert names["castDock"].windowTitle() == "Cast"
    assert names["lexiconDock"].windowTitle() == "Pronunciation"
    labels = [a.text() for a in window.view_menu.actions()]
    assert "Cast" in labels and "Pronunciation" in labels
    assert window.cast_panel.session is window.session  # type: ignore[attr-defined]
    assert window.lexicon_panel.session is window.session  # type: ignore[attr-defined]


def test_next_line_selects_the_paragraph_in_the_editor(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = window.cast_panel  # type: ignore[attr-defined]
    assert isinstance(VOICES[0], EngineVoice)
    with qtbot.waitSignal(panel.detected, timeout=20_000):
        panel.detect_button.click()
    assert panel.select_character("Lydia")
    line = panel.step_line(1)
    chapter, row = window.project.locate(line.block_id)  # type: ignore[union-attr]
    assert window.blocks_model.chapter is chapter
    assert window.block_view.currentIndex().row() == row
    assert window.selected_blocks() == [line.block_id]
    # Applying the cast reaches the status bar.
    panel.apply_cast()
    assert window.statusBar().currentMessage().startswith("Cast applied:")


def test_a_rule_reports_its_paragraphs_in_the_status_bar(window: MainWindow) -> None:
    panel = window.lexicon_panel  # type: ignore[attr-defined]
    assert panel.add_rule(PronunciationRule("Netherfield", "alias", "Nether field"))
    assert window.statusBar().currentMessage().startswith("Rule for 'Netherfield': ")
    window.undo_action.trigger()
    assert window.project.dictionaries == [] or not window.project.dictionaries[0].rules  # type: ignore[union-attr]


def test_plan_warnings_are_shown_before_generating(window: MainWindow,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    from studio.core import model as m
    from studio.core.generation import Plan, plan_render
    from studio.ui import commands
    from studio.ui.workers import GenerationScope

    session = window.session
    assert session is not None
    window.lexicon_panel.add_rule(  # type: ignore[attr-defined]
        PronunciationRule("Netherfield", "phoneme", "ˈnɛðərfiːld", alphabet="ipa"))
    session.push(commands.add_voice(session, m.Voice(
        m.VoiceId("eleven"), "Rachel", engine="elevenlabs", engine_voice_id="21m00")))
    session.push(commands.set_project_meta(session, default_voice_id=m.VoiceId("eleven"),
                                           model_id="eleven_multilingual_v2"))
    plan = plan_render(session.project, engine="elevenlabs")
    assert any("phoneme" in w for w in plan.warnings)
    asked: list[str] = []

    def question(_parent, _title, text, *args):  # type: ignore[no-untyped-def]
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    assert not window._confirm_cost(plan, "ElevenLabs", GenerationScope())
    assert "Before you spend credits:" in asked[0]
    assert all(f"• {w}" in asked[0] for w in plan.warnings)
    # Offline there is no cost dialog: the status bar says it when the render starts.
    assert window.controller is not None
    monkeypatch.setattr(window.controller, "start", lambda *a, **k: None)
    offline = Plan(engine="offline", model_id="offline-espeak", chains=(),
                   warnings=("a warning",))
    assert window._start("offline", offline)
    assert window.statusBar().currentMessage() == "Warning: a warning"


def _fits(widget, viewport) -> bool:  # type: ignore[no-untyped-def]
    left = widget.mapTo(viewport, widget.rect().topLeft()).x()
    return left >= 0 and left + widget.width() <= viewport.width()


def test_the_pronunciation_dock_fits_its_default_width(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QAbstractButton, QTableWidget

    panel = window.lexicon_panel  # type: ignore[attr-defined]
    window.lexicon_dock.show()  # type: ignore[attr-defined]  # hidden until opened (Tools)
    window.lexicon_dock.raise_()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: not window.lexicon_dock.visibleRegion().isEmpty())  # type: ignore[attr-defined]
    for rule in (PronunciationRule("Netherfield", "alias", "Nether field"),
                 PronunciationRule("Netherfield Park", "alias", "NP"),
                 PronunciationRule("Bennet", "phoneme", "ˈbɛnɪt", alphabet="ipa")):
        assert panel.add_rule(rule)
    qtbot.wait(50)
    viewport = window.lexicon_dock.widget().viewport()  # type: ignore[attr-defined]
    assert panel.width() <= viewport.width()
    for tab in (0, 1):
        panel.tabs.setCurrentIndex(tab)
        if tab == 1:
            with qtbot.waitSignal(panel.scanned, timeout=20_000):
                panel.scan_button.click()
        qtbot.wait(50)
        page = panel.tabs.currentWidget()
        buttons = [b for b in page.findChildren(QAbstractButton)
                   if b.isVisibleTo(page) and b.objectName() != "qt_tableview_cornerbutton"]
        assert len(buttons) >= (8 if tab == 0 else 3)
        for button in buttons:
            assert not button.visibleRegion().isEmpty(), button.text()
            assert _fits(button, viewport), button.text()
        table = page.findChild(QTableWidget)
        assert table.rowCount() > 0 and _fits(table, viewport)
        for col in range(table.columnCount()):
            right = table.columnViewportPosition(col) + table.columnWidth(col)
            assert table.columnViewportPosition(col) >= 0 and right <= table.viewport().width(), (
                table.horizontalHeaderItem(col).text())
            assert table.columnWidth(col) >= 16
    assert _fits(panel.scan_status, viewport)
    assert panel.scan_status.height() >= panel.scan_status.heightForWidth(
        panel.scan_status.width())  # wrapped, all of it shown


def test_cast_and_pronunciation_open_from_tools(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Hidden at first (the side column keeps three readable tabs); Tools opens each."""
    from PySide6.QtCore import QSettings

    QSettings().remove("window")  # no layout saved by an earlier test: the first-run layout
    window = MainWindow(player_sink=NullSink())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    docks = {n: window.findChild(QDockWidget, n) for n in ("castDock", "lexiconDock")}
    assert all(d is not None and not d.isVisible() for d in docks.values())
    labels = {a.text().replace("&", ""): a for a in window.tools_menu.actions()}
    labels["Cast Sheet"].trigger()
    qtbot.waitUntil(lambda: not docks["castDock"].visibleRegion().isEmpty())  # type: ignore[union-attr]
    labels["Pronunciation Dictionary"].trigger()
    qtbot.waitUntil(lambda: not docks["lexiconDock"].visibleRegion().isEmpty())  # type: ignore[union-attr]
