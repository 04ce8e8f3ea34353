"""The Pronunciation dock: the project's dictionaries and rules, PLS files, manuscript scan.

Rules are tried top to bottom across the dictionaries (first match wins); a rule an earlier
one makes unreachable is flagged with a warning icon and a tooltip naming the rule that
wins. Every edit (add, edit, delete, move, import, new or removed dictionary) is one undo
step, and the status bar says how many paragraphs it touches: only those containing an
affected word change their cache key, so only they go stale. "Preview" speaks a sample with
the rule applied on the offline engine (no credits). "Scan manuscript" lists the words no
lexicon knows, with counts and a suggested rule; double-clicking a word shows where it
occurs (each double-click the next place), "Add rule…" starts a rule from it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core import model as m
from studio.core.errors import EditError, StudioError
from studio.core.lexicon import edits
from studio.core.lexicon.match import combined_rules, shadowed_rules
from studio.core.lexicon.scan import UnknownWord
from studio.core.model import DictionaryId, PronunciationRule, speakable_text
from studio.core.preview import preview_text, rule_preview
from studio.ui import cast_commands as cc
from studio.ui.background import BackgroundCall
from studio.ui.errors import show_error
from studio.ui.panels import add_side_dock
from studio.ui.player import OutputSink
from studio.ui.preview import VoicePreviewer
from studio.ui.session import ProjectSession

ALPHABETS = (("IPA", "ipa"), ("CMU ARPAbet", "cmu-arpabet"))
DEFAULT_DICTIONARY = "Pronunciations"


def _alphabet_label(alphabet: str) -> str:
    return {"ipa": "IPA", "cmu-arpabet": "CMU", "": ""}.get(alphabet, alphabet)


class RuleDialog(QDialog):
    """Edit one rule: grapheme, kind, replacement or phonemes, alphabet, case sensitivity."""

    def __init__(self, rule: PronunciationRule | None = None, parent: QWidget | None = None,
                 title: str = "Pronunciation rule") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._base = rule
        self.grapheme = QLineEdit(rule.grapheme if rule else "")
        self.grapheme.setPlaceholderText("the word or phrase, as written")
        self.kind = QComboBox()
        self.kind.addItem("Alias (say other text)", "alias")
        self.kind.addItem("Phoneme (IPA or CMU)", "phoneme")
        self.kind.setCurrentIndex(max(0, self.kind.findData(rule.kind if rule else "alias")))
        self.replacement = QLineEdit(rule.replacement if rule else "")
        self.alphabet = QComboBox()
        for label, value in ALPHABETS:
            self.alphabet.addItem(label, value)
        self.alphabet.setCurrentIndex(max(0, self.alphabet.findData(
            rule.alphabet if rule and rule.alphabet else "ipa")))
        self.case = QCheckBox("Case-sensitive")
        self.case.setChecked(rule.case_sensitive if rule else True)
        self.case.setToolTip("As ElevenLabs does: 'Tomato' and 'tomato' need separate rules")
        self.error = QLabel()
        self.error.setObjectName("ruleError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828")
        form = QFormLayout()
        form.addRow("Word", self.grapheme)
        form.addRow("Kind", self.kind)
        self.replacement_label = QLabel()
        form.addRow(self.replacement_label, self.replacement)
        form.addRow("Alphabet", self.alphabet)
        form.addRow("", self.case)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.kind.currentIndexChanged.connect(self._on_kind)
        self._on_kind()
        self.setMinimumWidth(380)

    def _on_kind(self) -> None:
        phoneme = self.kind.currentData() == "phoneme"
        self.alphabet.setEnabled(phoneme)
        self.replacement_label.setText("Phonemes" if phoneme else "Say")
        self.replacement.setPlaceholderText(
            "e.g. ˈtʃʌmli or CH AH1 M L IY0" if phoneme else "e.g. Chumley")

    def rule(self) -> PronunciationRule:
        """Return the rule the form describes (other PLS details of the original kept)."""
        kind = str(self.kind.currentData())
        fields: dict[str, Any] = {
            "grapheme": self.grapheme.text().strip(), "kind": kind,
            "replacement": self.replacement.text().strip(),
            "alphabet": str(self.alphabet.currentData()) if kind == "phoneme" else "",
            "case_sensitive": self.case.isChecked()}
        if self._base is not None:
            return dataclasses.replace(self._base, **fields)
        return PronunciationRule(**fields)

    def _accept(self) -> None:
        try:
            edits.check_rule(self.rule())
        except EditError as exc:
            message = str(exc)
            self.error.setText(message[:1].upper() + message[1:])
            return
        self.accept()


@dataclasses.dataclass(frozen=True, slots=True)
class ScanRow:
    """A word no lexicon knows, with the paragraphs (ids) where it occurs."""

    word: UnknownWord
    blocks: tuple[str, ...]
    where: tuple[str, ...]  # "Chapter 1 ¶3" per place


class LexiconPanel(QWidget):
    """Edit the open project's pronunciation dictionaries.

    Signals:
        message(str): a line for the status bar (what an edit affects, scan results).
        scanned(object): the list of :class:`ScanRow` a scan found.
    """

    message = Signal(str)
    scanned = Signal(object)

    def __init__(self, go_to: Callable[[str], None], sink: OutputSink | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: ProjectSession | None = None
        self._go_to = go_to
        self.previewer = VoicePreviewer(sink, self)
        self.scan_rows: list[ScanRow] = []
        self._place: dict[str, int] = {}  # word -> place shown last
        self._scan = BackgroundCall(self)
        self._scan.finished.connect(self._on_scanned)
        self._scan.failed.connect(lambda exc: show_error(self, exc))
        self._scan.running_changed.connect(
            lambda running: self.scan_button.setEnabled(not running and self.session is not None))

        self.dictionary = QComboBox()
        self.dictionary.setObjectName("dictionaries")
        self.dictionary.setToolTip("Dictionaries are tried in this order; the first rule "
                                   "that matches wins")
        self.dictionary.currentIndexChanged.connect(lambda _i: self._fill_rules())
        # A long dictionary name must not widen the dock: the box elides it.
        self.dictionary.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.dictionary.setMinimumContentsLength(10)
        self.new_dictionary_button = QPushButton("New…")
        self.new_dictionary_button.setToolTip("Add an empty dictionary")
        self.new_dictionary_button.clicked.connect(self._on_new_dictionary)
        self.remove_dictionary_button = QPushButton("Remove")
        self.remove_dictionary_button.setToolTip("Remove this dictionary from the project")
        self.remove_dictionary_button.clicked.connect(self.remove_dictionary)
        self.import_button = QPushButton("Import PLS…")
        self.import_button.setToolTip("Add a W3C PLS lexicon file as a new dictionary")
        self.import_button.clicked.connect(self._on_import)
        self.export_button = QPushButton("Export PLS…")
        self.export_button.setToolTip("Write this dictionary as a W3C PLS lexicon file")
        self.export_button.clicked.connect(self._on_export)
        row1 = QHBoxLayout()
        row1.addWidget(self.dictionary, 1)
        row1.addWidget(self.new_dictionary_button)
        row2 = QHBoxLayout()
        row2.addWidget(self.import_button)
        row2.addWidget(self.export_button)
        row2.addStretch(1)
        row2.addWidget(self.remove_dictionary_button)

        self.rules = QTableWidget(0, 6)
        self.rules.setObjectName("rules")
        self.rules.setHorizontalHeaderLabels(["", "Word", "Kind", "Say", "Alph.", "Aa"])
        self.rules.horizontalHeaderItem(3).setToolTip("What to say instead, or the phonemes")
        self.rules.horizontalHeaderItem(5).setToolTip("Case-sensitive")
        self.rules.verticalHeader().hide()
        self.rules.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.rules.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.rules.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rules.setWordWrap(False)
        self.rules.horizontalHeaderItem(4).setToolTip("Phoneme alphabet: IPA or CMU")
        self.rules.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        # Fit the dock's width: the short columns take their contents, word and what to say
        # share the rest (elided, the whole text in the tooltip).
        rh = self.rules.horizontalHeader()
        rh.setMinimumSectionSize(16)
        for col in (2, 4, 5):
            rh.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        rh.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self.rules.setColumnWidth(0, self.style().pixelMetric(
            QStyle.PixelMetric.PM_SmallIconSize) + 8)
        rh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        rh.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.rules.cellDoubleClicked.connect(lambda row, _c: self._on_edit(row))
        self.rules.itemSelectionChanged.connect(self._update_enabled)
        self.add_button = QPushButton("Add…")
        self.add_button.clicked.connect(lambda: self._on_add())
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(lambda: self._on_edit(self.current_rule()))
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(lambda: self.delete_rule(self.current_rule()))
        self.up_button = QPushButton("▲")
        self.up_button.setToolTip("Try this rule earlier")
        self.up_button.clicked.connect(lambda: self.move_rule(self.current_rule(), -1))
        self.down_button = QPushButton("▼")
        self.down_button.setToolTip("Try this rule later")
        self.down_button.clicked.connect(lambda: self.move_rule(self.current_rule(), 1))
        for button in (self.up_button, self.down_button):
            button.setFixedWidth(button.fontMetrics().horizontalAdvance("▲") + 24)
        self.preview_button = QPushButton("Preview")
        self.preview_button.setToolTip("Speak a sentence with this rule, offline (no credits)")
        self.preview_button.clicked.connect(lambda: self.preview_rule(self.current_rule()))
        self.preview_status = QLabel()
        self.preview_status.setWordWrap(True)
        self.previewer.status.connect(self.preview_status.setText)
        # Two rows: six buttons side by side are wider than the dock.
        buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.delete_button):
            buttons.addWidget(button)
        order = QHBoxLayout()
        order.addWidget(self.up_button)
        order.addWidget(self.down_button)
        order.addStretch(1)
        order.addWidget(self.preview_button)
        rules_page = QWidget()
        rl = QVBoxLayout(rules_page)
        rl.setContentsMargins(4, 4, 4, 4)
        rl.addLayout(row1)
        rl.addLayout(row2)
        rl.addWidget(self.rules, 1)
        rl.addLayout(buttons)
        rl.addLayout(order)
        rl.addWidget(self.preview_status)

        self.scan_button = QPushButton("Scan manuscript")
        self.scan_button.setToolTip("List the words no dictionary knows (names, invented "
                                    "words, acronyms, numbers), before credits are spent")
        self.scan_button.clicked.connect(self.scan)
        self.scan_status = QLabel("Find the words the engines may misread.")
        self.scan_status.setWordWrap(True)
        self.words = QTableWidget(0, 4)
        self.words.setObjectName("unknownWords")
        self.words.setHorizontalHeaderLabels(["Word", "Kind", "×", "Suggestion"])
        self.words.verticalHeader().hide()
        self.words.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.words.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.words.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.words.setWordWrap(False)
        self.words.horizontalHeaderItem(2).setToolTip("How many times it occurs")
        self.words.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        wh = self.words.horizontalHeader()
        wh.setMinimumSectionSize(16)
        wh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        wh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        wh.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        wh.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.words.cellDoubleClicked.connect(lambda row, _c: self.show_place(row))
        self.words.itemSelectionChanged.connect(self._update_enabled)
        self.rule_from_word_button = QPushButton("Add rule…")
        self.rule_from_word_button.setToolTip("Add a rule for the selected word, starting "
                                              "from the suggestion")
        self.rule_from_word_button.clicked.connect(lambda: self._on_rule_from_word())
        self.next_place_button = QPushButton("Next place")
        self.next_place_button.setToolTip("Show the next paragraph where the word occurs "
                                          "(or double-click the word)")
        self.next_place_button.clicked.connect(lambda: self.show_place(self.words.currentRow()))
        scan_page = QWidget()
        sl = QVBoxLayout(scan_page)
        sl.setContentsMargins(4, 4, 4, 4)
        sl.addWidget(self.scan_button)
        sl.addWidget(self.scan_status)
        sl.addWidget(self.words, 1)
        row = QHBoxLayout()
        row.addWidget(self.next_place_button)
        row.addWidget(self.rule_from_word_button)
        sl.addLayout(row)

        self.tabs = QTabWidget()
        self.tabs.addTab(rules_page, "Rules")
        self.tabs.addTab(scan_page, "Scan")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self._update_enabled()

    # -- session -----------------------------------------------------------------------------

    def set_session(self, session: ProjectSession | None) -> None:
        """Show the dictionaries of ``session``'s project."""
        if session is self.session:
            return
        if self.session is not None:
            self.session.changed.disconnect(self._on_session_changed)
        self.session = session
        self._scan.discard()
        self.scan_rows = []
        self.words.setRowCount(0)
        if session is not None:
            session.changed.connect(self._on_session_changed)
        self.refresh()

    def _on_session_changed(self, changes: object, _initiator: object) -> None:
        if isinstance(changes, m.Changes) and changes.dictionaries:
            self.refresh()

    def refresh(self) -> None:
        """Rebuild the dictionary list and the rules, keeping the current dictionary."""
        current = self.current_dictionary()
        self.dictionary.blockSignals(True)
        self.dictionary.clear()
        if self.session is not None:
            for d in self.session.project.dictionaries:
                count = len(d.rules or ())
                self.dictionary.addItem(f"{d.name} ({count} rule{'s' * (count != 1)})", d.id)
        at = self.dictionary.findData(current) if current is not None else -1
        self.dictionary.setCurrentIndex(at if at >= 0 else (0 if self.dictionary.count()
                                                            else -1))
        self.dictionary.blockSignals(False)
        self._fill_rules()

    def current_dictionary(self) -> DictionaryId | None:
        """Return the dictionary shown."""
        data = self.dictionary.currentData()
        return DictionaryId(data) if data else None

    def current_rule(self) -> int:
        """Return the selected rule's position in its dictionary (-1: none)."""
        rows = self.rules.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _dictionary_rules(self) -> tuple[PronunciationRule, ...]:
        did = self.current_dictionary()
        if self.session is None or did is None:
            return ()
        return edits.dictionary(self.session.project, did).rules or ()

    def _fill_rules(self, select: int | None = None) -> None:
        keep = self.current_rule() if select is None else select
        self.rules.setRowCount(0)
        did = self.current_dictionary()
        if self.session is None or did is None:
            self._update_enabled()
            return
        project = self.session.project
        offset = 0
        for d in project.dictionaries:
            if d.id == did:
                break
            offset += len(d.rules or ())
        everything = combined_rules(project.dictionaries)
        shadows = {s.index: s.by for s in shadowed_rules(everything)}
        owners = [d.name for d in project.dictionaries for _ in d.rules or ()]
        rules = self._dictionary_rules()
        self.rules.setRowCount(len(rules))
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for row, rule in enumerate(rules):
            flag = QTableWidgetItem()
            by = shadows.get(offset + row)
            if by is not None:
                flag.setIcon(warning)
                winner = everything[by]
                where = "" if owners[by] == owners[offset + row] else f" in '{owners[by]}'"
                tip = (f"Never used: the rule for '{winner.grapheme}'{where} (rule {by + 1}) "
                       "matches first. Move this rule above it, or delete one of them.")
                flag.setToolTip(tip)
                flag.setData(Qt.ItemDataRole.UserRole, by)
            self.rules.setItem(row, 0, flag)
            cells = (rule.grapheme, rule.kind, rule.replacement,
                     _alphabet_label(rule.alphabet), "✓" if rule.case_sensitive else "")
            for col, text in enumerate(cells, start=1):
                item = QTableWidgetItem(text)
                if by is not None:
                    item.setToolTip(flag.toolTip())
                    item.setForeground(self.palette().placeholderText())
                elif col in (1, 3):  # elided when the dock is narrow
                    item.setToolTip(text)
                self.rules.setItem(row, col, item)
        if 0 <= keep < len(rules):
            self.rules.selectRow(keep)
        self._update_enabled()

    def _update_enabled(self) -> None:
        has = self.session is not None
        has_dict = self.current_dictionary() is not None
        rule = self.current_rule()
        count = self.rules.rowCount()
        self.new_dictionary_button.setEnabled(has)
        self.import_button.setEnabled(has)
        self.add_button.setEnabled(has)
        self.remove_dictionary_button.setEnabled(has_dict)
        self.export_button.setEnabled(has_dict and count > 0)
        for button in (self.edit_button, self.delete_button):
            button.setEnabled(rule >= 0)
        self.preview_button.setEnabled(rule >= 0 and self.previewer.available)
        self.up_button.setEnabled(rule > 0)
        self.down_button.setEnabled(0 <= rule < count - 1)
        self.scan_button.setEnabled(has and not self._scan.running)
        word = self.words.currentRow() >= 0 and bool(self.words.selectedItems())
        self.rule_from_word_button.setEnabled(word)
        self.next_place_button.setEnabled(word)

    # -- edits ----------------------------------------------------------------------------------

    def _push(self, command: QUndoCommand, what: str) -> bool:
        """Push a dictionary edit and report the paragraphs it touches."""
        assert self.session is not None
        project = self.session.project
        before = dataclasses.replace(project, dictionaries=list(project.dictionaries))
        try:
            self.session.push(command, self)
        except StudioError as exc:
            show_error(self, exc)
            return False
        changes: m.Changes = getattr(command, "_changes", m.Changes())
        # Only the paragraphs the edit touched can have gone stale (found through the word
        # index, not by hashing the whole book twice on this thread).
        touched = [project.block(i) for i in changes.blocks]
        newly = sum(1 for b in touched if m.block_status(before, b) == m.BlockStatus.CONVERTED
                    and m.block_status(project, b) == m.BlockStatus.STALE)
        n = len(changes.blocks)
        narrated = f", {newly} narrated now stale" if newly else ""
        self.message.emit(f"{what}: {n} paragraph{'s' * (n != 1)} affected{narrated}.")
        return True

    def _ensure_dictionary(self) -> DictionaryId:
        """Return the dictionary shown, adding one first if the project has none."""
        assert self.session is not None
        did = self.current_dictionary()
        if did is None:
            self.session.push(cc.add_dictionary(self.session, DEFAULT_DICTIONARY), self)
            did = self.session.project.dictionaries[-1].id
            self.dictionary.setCurrentIndex(self.dictionary.findData(did))
        return did

    def add_rule(self, rule: PronunciationRule) -> bool:
        """Add ``rule`` at the end of the dictionary shown (one undo step)."""
        if self.session is None:
            return False
        try:
            edits.check_rule(rule)
        except EditError as exc:
            show_error(self, exc)
            return False
        stack = self.session.undo_stack
        stack.beginMacro(f"Add rule '{rule.grapheme}'")
        try:
            did = self._ensure_dictionary()
            done = self._push(cc.add_rule(self.session, did, rule), f"Rule for '{rule.grapheme}'")
        finally:
            stack.endMacro()
        if done:
            self._fill_rules(select=len(self._dictionary_rules()) - 1)
        return done

    def edit_rule(self, index: int, rule: PronunciationRule) -> bool:
        """Replace the rule at ``index`` of the dictionary shown."""
        did = self.current_dictionary()
        if self.session is None or did is None or index < 0 or rule == self._dictionary_rules()[
                index]:
            return False
        try:
            command = cc.edit_rule(self.session, did, index, rule)
        except EditError as exc:
            show_error(self, exc)
            return False
        return self._push(command, f"Rule for '{rule.grapheme}'")

    def delete_rule(self, index: int) -> bool:
        """Delete the rule at ``index`` of the dictionary shown."""
        did = self.current_dictionary()
        if self.session is None or did is None or index < 0:
            return False
        grapheme = self._dictionary_rules()[index].grapheme
        done = self._push(cc.remove_rule(self.session, did, index),
                          f"Rule for '{grapheme}' deleted")
        if done:
            self._fill_rules(select=min(index, self.rules.rowCount() - 1))
        return done

    def move_rule(self, index: int, step: int) -> bool:
        """Move the rule at ``index`` up (-1) or down (1); order decides which rule wins."""
        did = self.current_dictionary()
        to = index + step
        if self.session is None or did is None or index < 0 or not (
                0 <= to < len(self._dictionary_rules())):
            return False
        grapheme = self._dictionary_rules()[index].grapheme
        done = self._push(cc.move_rule(self.session, did, index, to),
                          f"Rule for '{grapheme}' moved")
        if done:
            self._fill_rules(select=to)
        return done

    def add_dictionary(self, name: str) -> DictionaryId | None:
        """Add an empty dictionary and show it."""
        if self.session is None or not name.strip():
            return None
        self.session.push(cc.add_dictionary(self.session, name.strip()), self)
        did = self.session.project.dictionaries[-1].id
        self.dictionary.setCurrentIndex(self.dictionary.findData(did))
        return did

    def remove_dictionary(self) -> bool:
        """Remove the dictionary shown (undoable)."""
        did = self.current_dictionary()
        if self.session is None or did is None:
            return False
        name = edits.dictionary(self.session.project, did).name
        return self._push(cc.remove_dictionary(self.session, did), f"'{name}' removed")

    def import_pls_file(self, path: Path, name: str | None = None) -> bool:
        """Add the PLS file at ``path`` as a new dictionary."""
        if self.session is None:
            return False
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            show_error(self, StudioError(f"{path}: cannot be read ({exc.strerror or exc})"))
            return False
        done = self._push(cc.import_pls(self.session, data, name or Path(path).stem,
                                        str(path)), f"Imported {Path(path).name}")
        if done:
            did = self.session.project.dictionaries[-1].id
            self.dictionary.setCurrentIndex(self.dictionary.findData(did))
        return done

    def export_pls_file(self, path: Path) -> bool:
        """Write the dictionary shown as a PLS file at ``path``."""
        did = self.current_dictionary()
        if self.session is None or did is None:
            return False
        try:
            Path(path).write_bytes(edits.export_pls(self.session.project, did))
        except OSError as exc:
            show_error(self, StudioError(f"{path}: could not write ({exc.strerror or exc})"))
            return False
        self.message.emit(f"Wrote {len(self._dictionary_rules())} rules to {Path(path).name}.")
        return True

    # -- dialogs ---------------------------------------------------------------------------------

    def _on_add(self, rule: PronunciationRule | None = None) -> None:
        dialog = RuleDialog(rule, self, "Add pronunciation rule")
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.add_rule(dialog.rule())

    def _on_edit(self, index: int) -> None:
        rules = self._dictionary_rules()
        if not 0 <= index < len(rules):
            return
        dialog = RuleDialog(rules[index], self, "Edit pronunciation rule")
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.edit_rule(index, dialog.rule())

    def _on_new_dictionary(self) -> None:
        name, ok = QInputDialog.getText(self, "New dictionary", "Name:",
                                        text=DEFAULT_DICTIONARY)
        if ok:
            self.add_dictionary(name)

    def _on_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import pronunciation lexicon", "",
                                              "PLS lexicons (*.pls *.xml);;All files (*)")
        if path:
            self.import_pls_file(Path(path))

    def _on_export(self) -> None:
        did = self.current_dictionary()
        if self.session is None or did is None:
            return
        name = edits.dictionary(self.session.project, did).name
        path, _ = QFileDialog.getSaveFileName(self, "Export pronunciation lexicon",
                                              f"{name}.pls", "PLS lexicons (*.pls)")
        if path:
            self.export_pls_file(Path(path))

    # -- preview ---------------------------------------------------------------------------------

    def sample_text(self, rule: PronunciationRule) -> str:
        """Return a sentence of the book holding the rule's word (else the word itself)."""
        if self.session is not None:
            flags = 0 if rule.case_sensitive else re.IGNORECASE
            pattern = re.compile(rf"(?<!\w){re.escape(rule.grapheme)}(?!\w)", flags)
            for _, block in self.session.project.iter_blocks():
                text = speakable_text(block.text)
                hit = pattern.search(text)
                if hit is not None:
                    start = max(text.rfind(". ", 0, hit.start()) + 2, 0)
                    return preview_text(text[start:] if start > 1 else text)
        return rule.grapheme

    def preview_rule(self, index: int) -> bool:
        """Speak a sample with the rule at ``index`` applied, on the offline engine."""
        rules = self._dictionary_rules()
        if self.session is None or not 0 <= index < len(rules):
            return False
        rule = rules[index]
        project = self.session.project
        narrator = project.voices.get(project.default_voice_id) if (
            project.default_voice_id) else None
        voice = narrator.engine_voice_id if narrator is not None and (
            narrator.engine == "offline") else "en-us"
        text = self.sample_text(rule)
        return self.previewer.preview(lambda: rule_preview(rule, text, voice),
                                      f"'{rule.grapheme}'")

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait for a scan or a preview under way (tests, closing)."""
        return self._scan.wait(timeout) and self.previewer.wait(timeout)

    # -- scan ------------------------------------------------------------------------------------

    def scan(self) -> None:
        """List the words no lexicon knows, in the background."""
        if self.session is None:
            return
        from studio.core.generation import snapshot

        copy = snapshot(self.session.project)  # the worker never reads the live project

        def run() -> list[ScanRow]:
            from studio.core.lexicon.scan import scan

            try:
                from studio.core.engines.offline import text_to_phonemes

                text_to_phonemes("test")
                phonemize: Any = text_to_phonemes
            except StudioError:
                phonemize = None  # no offline engine: no phoneme suggestions
            rows = []
            for word in scan(copy, phonemize=phonemize):
                blocks = tuple(copy.chapters[c].blocks[p].id for c, p in word.places)
                where = tuple(f"{copy.chapters[c].title} ¶{p + 1}" for c, p in word.places)
                rows.append(ScanRow(word, blocks, where))
            return rows

        self.scan_status.setText("Scanning…")
        self._scan.start(run)

    def _on_scanned(self, rows: object) -> None:
        assert isinstance(rows, list)
        self.scan_rows = rows
        self._place.clear()
        self._fill_words()
        self.scan_status.setText(f"{len(rows)} word{'s' * (len(rows) != 1)} no dictionary "
                                 "knows. Double-click one to see where it occurs.")
        self.scanned.emit(rows)

    def _fill_words(self) -> None:
        self.words.setRowCount(len(self.scan_rows))
        for row, entry in enumerate(self.scan_rows):
            w = entry.word
            places = ", ".join(entry.where[:5]) + (
                f" and {len(entry.where) - 5} more" if len(entry.where) > 5 else "")
            word = QTableWidgetItem(w.text)
            word.setToolTip(f"{w.text}: in {places}")
            self.words.setItem(row, 0, word)
            self.words.setItem(row, 1, QTableWidgetItem(w.kind))
            count = QTableWidgetItem(str(w.count))
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.words.setItem(row, 2, count)
            said = w.suggestion or "?"
            suggestion = QTableWidgetItem(
                f"/{said}/" if w.rule_kind == "phoneme" and w.suggestion else said)
            suggestion.setToolTip(f"{suggestion.text()}: a{'n' * (w.rule_kind == 'alias')} "
                                  f"{w.rule_kind} rule")
            self.words.setItem(row, 3, suggestion)
        self._update_enabled()

    def show_place(self, row: int) -> str | None:
        """Show the next paragraph where the scan row's word occurs; return its id."""
        if not 0 <= row < len(self.scan_rows):
            return None
        entry = self.scan_rows[row]
        if not entry.blocks:
            return None
        word = entry.word.text
        place = (self._place.get(word, -1) + 1) % len(entry.blocks)
        self._place[word] = place
        self._go_to(entry.blocks[place])
        self.scan_status.setText(f"'{word}': {entry.where[place]} "
                                 f"({place + 1} of {len(entry.blocks)})")
        return entry.blocks[place]

    def rule_for_word(self, row: int) -> PronunciationRule | None:
        """Return the rule a scan row suggests (the author may still edit it)."""
        if not 0 <= row < len(self.scan_rows):
            return None
        w = self.scan_rows[row].word
        phoneme = w.rule_kind == "phoneme" and bool(w.suggestion)
        return PronunciationRule(w.text, "phoneme" if phoneme else "alias",
                                 w.suggestion, alphabet="ipa" if phoneme else "")

    def add_rule_for_word(self, row: int, rule: PronunciationRule | None = None) -> bool:
        """Add a rule for a scan row's word (``rule``, else the suggestion as it is)."""
        rule = rule or self.rule_for_word(row)
        if rule is None or not self.add_rule(rule):
            return False
        del self.scan_rows[row]  # known now
        self._fill_words()
        return True

    def _on_rule_from_word(self) -> None:
        row = self.words.currentRow()
        rule = self.rule_for_word(row)
        if rule is None:
            return
        dialog = RuleDialog(rule, self, f"Add rule for '{rule.grapheme}'")
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.add_rule_for_word(row, dialog.rule())
            self.tabs.setCurrentIndex(0)


def install_lexicon_dock(window: Any) -> LexiconPanel:
    """Add the Pronunciation dock to ``window`` (a tab beside Voices)."""
    panel = LexiconPanel(window.select_paragraph, sink=window._player_sink)
    dock = add_side_dock(window, "Pronunciation", "lexiconDock", panel, beside="voicesDock")
    dock.hide()  # opened from Tools (or View): five tabs would not fit a laptop's side column
    panel.message.connect(lambda text: window.statusBar().showMessage(text, 10_000))
    window.undo_group.activeStackChanged.connect(lambda _s: panel.set_session(window.session))
    panel.set_session(window.session)
    window.lexicon_panel = panel
    window.lexicon_dock = dock
    return panel
