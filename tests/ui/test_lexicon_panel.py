"""The Pronunciation dock: rule edits are undoable (memory and file) and make stale exactly
the paragraphs holding the word, shadowed rules are flagged, PLS files round-trip, a rule is
previewed offline, and the manuscript scan leads to paragraphs and to new rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QStandardPaths

from studio.core import model as m
from studio.core.model import BlockStatus, PronunciationRule
from studio.core.store import ProjectStore
from studio.ui.panels.lexicon import LexiconPanel, RuleDialog
from studio.ui.session import ProjectSession
from tests.core.factories import make_take
from tests.ui.test_cast_panel import pride_and_prejudice


class RecordingSink:
    """An OutputSink that keeps what it is asked to play."""

    def __init__(self) -> None:
        self.rate = 0
        self.chunks: list[np.ndarray] = []

    def open(self, rate: int) -> None:
        self.rate = rate

    def write(self, frames: np.ndarray) -> None:
        self.chunks.append(np.array(frames, copy=True))

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def _paths() -> None:
    QStandardPaths.setTestModeEnabled(True)


@pytest.fixture
def session(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = pride_and_prejudice(tmp_path / "pp.studio")
    with ProjectStore.open(path) as store:  # every paragraph narrated
        project = store.load()
        for _, block in project.iter_blocks():
            m.add_take(project, make_take(project, block.id))
        store.save(project)
    store = ProjectStore.open(path)
    s = ProjectSession(store, store.load())
    yield s
    s.close()


@pytest.fixture
def panel(qtbot, session: ProjectSession):  # type: ignore[no-untyped-def]
    shown: list[str] = []
    p = LexiconPanel(shown.append, sink=RecordingSink())
    p.shown = shown  # type: ignore[attr-defined]
    qtbot.addWidget(p)
    p.set_session(session)
    yield p
    p.wait()


def snap(project: m.Project) -> list[Any]:
    return [(d.id, d.name, d.version, d.rules) for d in project.dictionaries]


def on_disk(path: Path) -> list[Any]:
    with ProjectStore.open(path, read_only=True) as store:
        return snap(store.load())


def stale(project: m.Project) -> set[str]:
    return {b.id for _, b in project.iter_blocks()
            if m.block_status(project, b) == BlockStatus.STALE}


def containing(project: m.Project, word: str) -> set[str]:
    return {b.id for _, b in project.iter_blocks() if word in b.text}


def test_a_rule_makes_stale_only_the_paragraphs_with_its_word(
        panel: LexiconPanel, session: ProjectSession) -> None:
    project, path = session.project, session.store.path
    messages: list[str] = []
    panel.message.connect(messages.append)
    before = snap(project)
    assert stale(project) == set()
    assert panel.add_rule(PronunciationRule("Netherfield", "alias", "Nether field"))
    wanted = containing(project, "Netherfield")
    assert wanted and stale(project) == wanted
    n = len(wanted)
    assert messages[-1] == (f"Rule for 'Netherfield': {n} paragraph{'s' * (n != 1)} "
                            f"affected, {n} narrated now stale.")
    assert panel.dictionary.count() == 1 and panel.rules.rowCount() == 1
    assert [panel.rules.item(0, c).text() for c in range(1, 6)] == [
        "Netherfield", "alias", "Nether field", "", "✓"]
    after = snap(project)
    assert on_disk(path) == after
    assert session.undo_stack.count() == 1  # the new dictionary and its rule: one step
    for _ in range(2):
        session.undo_stack.undo()
        assert snap(project) == before == on_disk(path) and stale(project) == set()
        assert panel.rules.rowCount() == 0
        session.undo_stack.redo()
        assert snap(project) == after == on_disk(path) and stale(project) == wanted


def test_edit_move_delete_and_shadowed_rules(panel: LexiconPanel,
                                             session: ProjectSession) -> None:
    path = session.store.path
    assert panel.add_rule(PronunciationRule("Bennet", "alias", "Bennett"))
    assert panel.add_rule(PronunciationRule("Lizzy", "phoneme", "ˈlɪzi", alphabet="ipa"))
    assert panel.add_rule(PronunciationRule("Bennet", "alias", "Benay"))
    flag = panel.rules.item(2, 0)
    assert not flag.icon().isNull() and "'Bennet'" in flag.toolTip()
    assert "rule 1" in flag.toolTip() and panel.rules.item(0, 0).icon().isNull()
    assert panel.rules.item(1, 4).text() == "IPA"
    # Move the later "Bennet" to the top: now the other one is shadowed.
    assert panel.move_rule(2, -1) and panel.move_rule(1, -1)
    assert panel.current_rule() == 0
    assert [panel.rules.item(r, 3).text() for r in range(3)] == ["Benay", "Bennett", "ˈlɪzi"]
    assert panel.rules.item(0, 0).icon().isNull() and not panel.rules.item(1, 0).icon().isNull()
    assert panel.edit_rule(2, PronunciationRule("Lizzy", "phoneme", "L IH1 Z IY0",
                                                alphabet="cmu-arpabet"))
    assert panel.rules.item(2, 4).text() == "CMU"
    assert panel.delete_rule(1)
    rules = session.project.dictionaries[0].rules
    assert [r.replacement for r in rules or ()] == ["Benay", "L IH1 Z IY0"]
    assert on_disk(path) == snap(session.project)
    for _ in range(3):  # delete, edit, move: each one step
        session.undo_stack.undo()
    session.undo_stack.undo()
    assert [r.replacement for r in session.project.dictionaries[0].rules or ()] == [
        "Bennett", "ˈlɪzi", "Benay"]
    assert on_disk(path) == snap(session.project)


def test_rule_dialog_refuses_a_bad_rule(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = RuleDialog()
    qtbot.addWidget(dialog)
    dialog.grapheme.setText("Cholmondeley")
    dialog.kind.setCurrentIndex(dialog.kind.findData("phoneme"))
    dialog.alphabet.setCurrentIndex(dialog.alphabet.findData("cmu-arpabet"))
    dialog.replacement.setText("CH AH1 M L IY0 QQ9")
    dialog._accept()
    assert dialog.result() == 0 and "Cholmondeley" in dialog.error.text()
    dialog.replacement.setText("CH AH1 M L IY0")
    dialog._accept()
    assert dialog.result() == 1
    assert dialog.rule() == PronunciationRule("Cholmondeley", "phoneme", "CH AH1 M L IY0",
                                              alphabet="cmu-arpabet")


def test_pls_export_then_import_round_trips(panel: LexiconPanel, session: ProjectSession,
                                            tmp_path: Path) -> None:
    panel.add_rule(PronunciationRule("Meryton", "alias", "Merry ton"))
    panel.add_rule(PronunciationRule("Lizzy", "phoneme", "ˈlɪzi", alphabet="ipa",
                                     case_sensitive=True))
    target = tmp_path / "names.pls"
    assert panel.export_pls_file(target)
    assert b"<lexicon" in target.read_bytes()
    assert panel.import_pls_file(target)
    first, second = session.project.dictionaries
    assert second.name == "names" and second.rules == first.rules
    assert panel.current_dictionary() == second.id
    # Every rule of the copy is shadowed by the original's.
    assert all(not panel.rules.item(r, 0).icon().isNull() for r in range(2))
    session.undo_stack.undo()
    assert len(session.project.dictionaries) == 1 and on_disk(session.store.path) == snap(
        session.project)


def test_preview_speaks_the_rule_offline(panel: LexiconPanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel.add_rule(PronunciationRule("Netherfield", "alias", "Nether field"))
    assert "Netherfield" in panel.sample_text(panel._dictionary_rules()[0])
    with qtbot.waitSignal(panel.previewer.played, timeout=30_000) as played:
        panel.preview_button.click()
    assert played.args[0].source == "offline" and played.args[0].duration > 0.5


def test_scan_lists_unknown_words_goes_to_them_and_adds_rules(
        panel: LexiconPanel, session: ProjectSession, qtbot) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(panel.scanned, timeout=30_000):
        panel.scan_button.click()
    words = [panel.words.item(r, 0).text() for r in range(panel.words.rowCount())]
    assert "Netherfield" in words
    row = words.index("Netherfield")
    entry = panel.scan_rows[row]
    assert int(panel.words.item(row, 2).text()) == entry.word.count >= 2
    assert panel.show_place(row) == entry.blocks[0]
    assert "Netherfield" in session.project.block(entry.blocks[0]).text
    panel.words.cellDoubleClicked.emit(row, 0)  # the next place
    assert panel.shown[-1] == entry.blocks[1 % len(entry.blocks)]  # type: ignore[attr-defined]
    rule = panel.rule_for_word(row)
    assert rule is not None and rule.grapheme == "Netherfield"
    assert panel.add_rule_for_word(row, PronunciationRule("Netherfield", "alias", "Nether"))
    assert "Netherfield" not in [panel.words.item(r, 0).text()
                                 for r in range(panel.words.rowCount())]
    assert stale(session.project) == containing(session.project, "Netherfield")


def test_adding_a_rule_rehashes_only_the_paragraphs_with_its_word(
        panel: LexiconPanel, session: ProjectSession, monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.core.lexicon import edits

    project = session.project
    total = sum(1 for _ in project.iter_blocks())
    wanted = containing(project, "Netherfield")
    hashed: list[str] = []
    inputs_hash = m.inputs_hash
    reach = edits._reach
    monkeypatch.setattr(m, "inputs_hash", lambda p, b: hashed.append(b.id) or inputs_hash(p, b))
    monkeypatch.setattr(edits, "_reach", lambda ds, t: hashed.append(t) or reach(ds, t))
    assert panel.add_rule(PronunciationRule("Netherfield", "alias", "Nether field"))
    assert 0 < len(wanted) < total / 2
    assert len(hashed) <= 4 * len(wanted) + 4 < 2 * total, (len(hashed), len(wanted), total)
