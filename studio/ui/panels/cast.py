"""The Cast dock: detect who speaks, review doubtful lines, give each character a voice.

"Detect characters" reads the book (or the chapter shown) off the GUI thread
(:mod:`studio.core.casting`) and fetches the engine's voices for the proposals. The sheet
lists each character with their lines, mean confidence and a voice (proposed, or the one
cast). The author reviews the lines under a confidence threshold (accept, give them to
another character, or to the narrator), then "Apply cast" gives each character a project
voice (linked to them in the project, whatever its alias becomes) and voice spans on their
lines as one undo step. Once cast, changing a
character's voice or settings here is a voice edit: exactly their lines go stale. Previous /
Next line show where the selected character speaks, selecting the paragraph in the editor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core import model as m
from studio.core.casting.cast import linked_voices, propose_voices
from studio.core.casting.detect import CastSheet, Character, Line, detect_chapters
from studio.core.engines import EngineVoice
from studio.core.errors import StudioError
from studio.core.model import Chapter, VoiceId
from studio.core.preview import preview_text, project_voice_preview
from studio.core.settings import load_settings
from studio.ui import commands
from studio.ui.background import BackgroundCall
from studio.ui.cast_commands import ApplyCastCommand
from studio.ui.errors import show_error
from studio.ui.panels import add_side_dock
from studio.ui.panels.voices import add_setting_rows
from studio.ui.player import OutputSink
from studio.ui.preview import VoicePreviewer
from studio.ui.session import ProjectSession

NARRATOR = "(narrator)"
DEFAULT_THRESHOLD = 0.6


@dataclasses.dataclass(frozen=True, slots=True)
class Detection:
    """What a detection run found: the sheet, the engine's voices (or why none)."""

    sheet: CastSheet
    engine: str
    voices: tuple[EngineVoice, ...]
    voices_error: str = ""


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


class VoiceBox(QComboBox):
    """A voice chooser whose name, when too long, loses its middle, not its end.

    espeak-ng's names ("English (Caribbean) — female 2") differ only at the end; the popup
    is as wide as the longest name, and each voice's tooltip gives its name and labels.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(8)
        self.view().setTextElideMode(Qt.TextElideMode.ElideMiddle)

    def _field(self, option: QStyleOptionComboBox) -> int:
        return self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                           QStyle.SubControl.SC_ComboBoxEditField, self).width()

    def shown_text(self) -> str:
        """Return the current name as painted: elided in the middle to fit the box."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        return self.fontMetrics().elidedText(self.currentText(), Qt.TextElideMode.ElideMiddle,
                                             self._field(option))

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        option.currentText = self.shown_text()
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def showPopup(self) -> None:
        view = self.view()
        view.setMinimumWidth(max(self.width(), view.sizeHintForColumn(0) + 24))
        super().showPopup()


def _voice_tip(voice: EngineVoice) -> str:
    labels = ", ".join(f"{k}: {v}" for k, v in sorted(voice.labels.items()) if v)
    return f"{voice.name} ({voice.voice_id})" + (f"\n{labels}" if labels else "")


class CastPanel(QWidget):
    """The cast sheet of the open project.

    Signals:
        detected(object): a :class:`Detection` arrived and is shown.
        message(str): a line for the status bar.
    """

    detected = Signal(object)
    message = Signal(str)

    def __init__(self, voices_source: Callable[[], list[EngineVoice]],
                 engine_source: Callable[[], str],
                 current_chapter: Callable[[], Chapter | None],
                 go_to: Callable[[str], None],
                 sink: OutputSink | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: ProjectSession | None = None
        self._voices_source = voices_source
        self._engine_source = engine_source
        self._current_chapter = current_chapter
        self._go_to = go_to
        self.detection: Detection | None = None
        self.overrides: dict[int, str | None] = {}  # line index -> reviewed speaker
        self.proposed: dict[str, str | None] = {}  # character id -> engine voice id
        self.reasons: dict[str, tuple[str, ...]] = {}  # character id -> why it was proposed
        self.cast: dict[str, VoiceId] = {}  # character id -> project voice (after apply)
        self._nav: dict[str, int] = {}  # character id -> line shown last
        self._call = BackgroundCall(self)
        self._call.finished.connect(self._on_detected)
        self._call.failed.connect(lambda exc: show_error(self, exc))
        self._call.running_changed.connect(self._on_running)
        self.previewer = VoicePreviewer(sink, self)

        self.scope = QComboBox()
        self.scope.addItem("Whole book", "book")
        self.scope.addItem("This chapter", "chapter")
        self.detect_button = QPushButton("Detect characters")
        self.detect_button.setToolTip("Find who speaks each quoted line (offline) and "
                                      "propose a voice per character")
        self.detect_button.clicked.connect(self.detect)
        top = QHBoxLayout()
        top.addWidget(self.scope)
        top.addWidget(self.detect_button, 1)
        self.summary = QLabel("Detect the characters to build the cast sheet.")
        self.summary.setObjectName("castSummary")
        self.summary.setWordWrap(True)

        self.table = QTableWidget(0, 4)
        self.table.setObjectName("castTable")
        self.table.setHorizontalHeaderLabels(["Character", "Lines", "Conf.", "Voice"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        # Names are short, voice names long: the voice column takes the room left.
        for col in (0, 1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.currentCellChanged.connect(lambda *_: self._on_character())
        # Rows hold a voice box: size them to it, and show at least five characters.
        row_height = QComboBox().sizeHint().height() + 2
        self.table.verticalHeader().setDefaultSectionSize(row_height)
        self.table.setMinimumHeight(self.table.horizontalHeader().sizeHint().height()
                                    + 5 * row_height + 4)

        self.prev_button = QPushButton("◀ Previous line")
        self.next_button = QPushButton("Next line ▶")
        self.prev_button.setToolTip("Show the selected character's previous line in the editor")
        self.next_button.setToolTip("Show the selected character's next line in the editor")
        self.prev_button.clicked.connect(lambda: self.step_line(-1))
        self.next_button.clicked.connect(lambda: self.step_line(1))
        self.where = QLabel()
        self.where.setObjectName("castWhere")
        self.where.setWordWrap(True)
        nav = QHBoxLayout()
        nav.addWidget(self.prev_button)
        nav.addWidget(self.next_button)

        # Review: the doubtful lines, with what to do about each.
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(DEFAULT_THRESHOLD)
        self.threshold.setToolTip("Lines under this confidence (and unattributed ones) are "
                                  "listed for review")
        self.threshold.valueChanged.connect(lambda _v: self._fill_review())
        self.review = QTableWidget(0, 3)
        self.review.setObjectName("castReview")
        self.review.setHorizontalHeaderLabels(["Line", "Speaker", "Conf."])
        self.review.verticalHeader().hide()
        self.review.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.review.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.review.setWordWrap(False)
        rh = self.review.horizontalHeader()
        rh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        rh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        rh.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.review.itemSelectionChanged.connect(self._on_review_row)
        self.review.cellDoubleClicked.connect(lambda row, _col: self._show_review_line(row))
        self.review.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.review.setMinimumHeight(self.review.horizontalHeader().sizeHint().height()
                                     + 3 * (self.fontMetrics().height() + 8) + 4)
        self.speaker = QComboBox()
        self.speaker.setToolTip("The character who says the selected lines")
        self.accept_button = QPushButton("Accept")
        self.accept_button.setToolTip("Keep the proposed speaker of the selected lines")
        self.accept_button.clicked.connect(self.accept_lines)
        self.change_button = QPushButton("Set speaker")
        self.change_button.setToolTip("Give the selected lines to the character chosen here")
        self.change_button.clicked.connect(
            lambda: self.set_speaker(self.speaker.currentData()))
        self.narrator_button = QPushButton("Narrator")
        self.narrator_button.setToolTip("The narrator reads the selected lines")
        self.narrator_button.clicked.connect(lambda: self.set_speaker(None))
        review_page = QWidget()
        rl = QVBoxLayout(review_page)
        rl.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        row.addWidget(QLabel("Review lines under"))
        row.addWidget(self.threshold)
        row.addStretch(1)
        rl.addLayout(row)
        rl.addWidget(self.review, 1)
        row = QHBoxLayout()
        row.addWidget(self.accept_button)
        row.addWidget(self.narrator_button)
        rl.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.speaker, 1)
        row.addWidget(self.change_button)
        rl.addLayout(row)

        # The selected character's voice (once cast): alias and settings, as in Voices.
        self.alias = QLineEdit()
        form = QFormLayout()
        form.addRow("Alias", self.alias)
        self.spins, self.boost = add_setting_rows(form)
        self.voice_apply = QPushButton("Apply")
        self.voice_apply.setToolTip("Change this character's voice settings (their lines "
                                    "become stale)")
        self.voice_apply.clicked.connect(self.apply_voice_settings)
        self.voice_preview = QPushButton("Preview")
        self.voice_preview.setToolTip("Speak the character's current line with these settings")
        self.voice_preview.clicked.connect(self.preview_character)
        self.voice_note = QLabel()
        self.voice_note.setWordWrap(True)
        self.previewer.status.connect(self.voice_note.setText)
        voice_page = QWidget()
        vl = QVBoxLayout(voice_page)
        vl.setContentsMargins(4, 4, 4, 4)
        vl.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(self.voice_apply)
        row.addWidget(self.voice_preview)
        vl.addLayout(row)
        vl.addWidget(self.voice_note)
        vl.addStretch(1)
        self.tabs = QTabWidget()
        self.tabs.addTab(review_page, "Review")
        self.tabs.addTab(voice_page, "Voice settings")

        self.keep_doubtful = QCheckBox("Narrator keeps unreviewed doubtful lines")
        self.keep_doubtful.setToolTip("Lines under the threshold that were not reviewed stay "
                                      "with the narrator")
        self.apply_button = QPushButton("Apply cast")
        self.apply_button.setObjectName("applyCast")
        self.apply_button.setToolTip("Give each character its voice and put voice spans on "
                                     "their lines (one undo step)")
        self.apply_button.clicked.connect(self.apply_cast)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(nav)
        layout.addWidget(self.where)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.keep_doubtful)
        layout.addWidget(self.apply_button)
        self._update_enabled()

    # -- session -----------------------------------------------------------------------------

    def set_session(self, session: ProjectSession | None) -> None:
        """Show the cast of ``session``'s project (a new project starts a new sheet)."""
        if session is self.session:
            return
        if self.session is not None:
            self.session.changed.disconnect(self._on_session_changed)
        self.session = session
        self._call.discard()
        self.detection = None
        self.overrides.clear()
        self.proposed.clear()
        self.cast.clear()
        if session is not None:
            session.changed.connect(self._on_session_changed)
        self.summary.setText("Detect the characters to build the cast sheet.")
        self._fill()

    def _on_session_changed(self, changes: object, _initiator: object) -> None:
        if isinstance(changes, m.Changes) and (changes.voices or changes.removed_voices
                                               or changes.project):
            self._find_cast()
            self._fill_table()
            self._on_character()

    # -- detection ---------------------------------------------------------------------------

    def detect(self) -> None:
        """Detect the speakers of the book (or the chapter shown) in the background."""
        if self.session is None:
            return
        project = self.session.project
        chapters = project.chapters
        if self.scope.currentData() == "chapter":
            chapter = self._current_chapter()
            chapters = [chapter] if chapter is not None else []
        # A plain snapshot of the text: the worker never reads the live project.
        text = [(c.id, [(b.id, b.text) for b in c.blocks]) for c in chapters]
        voices_source, engine_source = self._voices_source, self._engine_source

        def run() -> Detection:
            sheet = detect_chapters(text)
            try:
                engine = engine_source()
                voices = tuple(voices_source())
                error = ""
            except StudioError as exc:
                engine, voices, error = "offline", (), str(exc)
            return Detection(sheet, engine, voices, error)

        self.summary.setText("Reading the dialogue…")
        self._call.start(run)

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait for a detection under way (tests, closing)."""
        return self._call.wait(timeout) and self.previewer.wait(timeout)

    def _on_running(self, running: bool) -> None:
        self.detect_button.setEnabled(not running and self.session is not None)

    def _on_detected(self, result: object) -> None:
        assert isinstance(result, Detection)
        if self.session is None:
            return
        project = self.session.project
        voices = list(result.voices)
        language = project.language.split("-")[0].lower()
        same = [v for v in voices
                if v.labels.get("language", "en").lower().startswith(language)]
        voices = same or voices
        result = dataclasses.replace(result, voices=tuple(voices))
        self.detection = result
        self.overrides.clear()
        self._nav.clear()
        narrator = project.voices.get(project.default_voice_id) if (
            project.default_voice_id) else None
        proposals = propose_voices(result.sheet, voices, narrator_voice_id=(
            narrator.engine_voice_id if narrator is not None else None))
        self.proposed = {p.character_id: p.voice.voice_id for p in proposals}
        self.reasons = {p.character_id: p.reasons for p in proposals}
        self._find_cast()
        sheet = result.sheet
        attributed = sum(1 for ln in sheet.lines if ln.speaker)
        note = f" No voices to propose: {result.voices_error}" if result.voices_error else ""
        self.summary.setText(
            f"{len(sheet.lines)} quoted lines, {attributed} attributed, "
            f"{len(sheet.characters)} characters.{note}")
        self._fill()
        if self.table.rowCount():
            self.table.selectRow(0)
        self.detected.emit(result)

    def _find_cast(self) -> None:
        """Link characters to the project voices cast for them (the project's links)."""
        if self.session is None or self.detection is None:
            return
        self.cast = linked_voices(self.session.project, self.detection.sheet)

    # -- the sheet as reviewed ------------------------------------------------------------------

    def reviewed_sheet(self) -> CastSheet | None:
        """Return the detected sheet with the author's review applied."""
        if self.detection is None:
            return None
        sheet = self.detection.sheet
        lines = tuple(
            dataclasses.replace(ln, speaker=self.overrides[i], confidence=1.0,
                                method="reviewed") if i in self.overrides else ln
            for i, ln in enumerate(sheet.lines))
        return CastSheet(sheet.characters, lines)

    def character_lines(self, character_id: str) -> list[Line]:
        """Return a character's lines after review, in reading order."""
        sheet = self.reviewed_sheet()
        return sheet.lines_of(character_id) if sheet is not None else []

    def characters(self) -> list[Character]:
        """Return the characters, most lines first (after review)."""
        sheet = self.reviewed_sheet()
        if sheet is None:
            return []
        counts = {c.id: 0 for c in sheet.characters}
        for ln in sheet.lines:
            if ln.speaker in counts:
                counts[ln.speaker] += 1
        return sorted(sheet.characters, key=lambda c: (-counts[c.id], c.name))

    def current_character(self) -> Character | None:
        """Return the character selected in the sheet."""
        item = self.table.item(self.table.currentRow(), 0)
        if item is None or self.detection is None:
            return None
        return self.detection.sheet.character(item.data(Qt.ItemDataRole.UserRole))

    # -- filling --------------------------------------------------------------------------------

    def _fill(self) -> None:
        self._fill_table()
        self._fill_review()
        self._on_character()

    def _fill_table(self) -> None:
        current = self.current_character()
        self.table.setRowCount(0)
        sheet = self.reviewed_sheet()
        if sheet is None or self.session is None:
            self._update_enabled()
            return
        voices = self.detection.voices if self.detection is not None else ()
        project = self.session.project
        characters = self.characters()
        self.table.setRowCount(len(characters))
        for row, c in enumerate(characters):
            lines = sheet.lines_of(c.id)
            conf = sum(ln.confidence for ln in lines) / len(lines) if lines else 0.0
            name = QTableWidgetItem(c.name)
            name.setData(Qt.ItemDataRole.UserRole, c.id)
            cast = self.cast.get(c.id)
            name.setToolTip(f"{c.gender or 'gender unknown'}; "
                            + ("cast" if cast else "not cast yet"))
            self.table.setItem(row, 0, name)
            count = QTableWidgetItem(str(len(lines)))
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, 1, count)
            confidence = QTableWidgetItem(f"{conf:.2f}")
            confidence.setTextAlignment(
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, 2, confidence)
            combo = VoiceBox()
            combo.setObjectName(f"voiceFor:{c.id}")
            combo.addItem(NARRATOR, None)
            combo.setItemData(0, "The narrator reads this character's lines",
                              Qt.ItemDataRole.ToolTipRole)
            chosen = self.proposed.get(c.id)
            if cast is not None:
                chosen = project.voices[cast].engine_voice_id
            for v in voices:
                combo.addItem(v.name, v.voice_id)
                combo.setItemData(combo.count() - 1, _voice_tip(v),
                                  Qt.ItemDataRole.ToolTipRole)
            if chosen is not None and combo.findData(chosen) < 0:
                combo.addItem(chosen, chosen)  # cast with a voice the list lacks
            combo.setCurrentIndex(max(0, combo.findData(chosen)))
            why = ", ".join(self.reasons.get(c.id, ()))
            role = ("The voice cast for this character" if cast else
                    "The proposed voice (Apply cast gives it to the character)")

            def tip(_i: int = 0, box: VoiceBox = combo, role: str = role, why: str = why,
                    proposed: str | None = chosen) -> None:
                name = box.itemData(box.currentIndex(), Qt.ItemDataRole.ToolTipRole)
                matched = f" — {why}" if why and box.currentData() == proposed else ""
                box.setToolTip(f"{name or box.currentText()}\n{role}{matched}")

            tip()
            combo.currentIndexChanged.connect(tip)
            combo.currentIndexChanged.connect(
                lambda _i, cid=c.id, box=combo: self._on_voice_chosen(cid, box.currentData()))
            self.table.setCellWidget(row, 3, combo)
            if current is not None and current.id == c.id:
                self.table.selectRow(row)
        self._update_enabled()

    def _fill_review(self) -> None:
        self.review.setRowCount(0)
        self.speaker.clear()
        if self.detection is None:
            self.tabs.setTabText(0, "Review")
            self._update_enabled()
            return
        sheet = self.detection.sheet
        names = {c.id: c.name for c in sheet.characters}
        for c in self.characters():
            self.speaker.addItem(c.name, c.id)
        below = self.threshold.value()
        rows = [i for i, ln in enumerate(sheet.lines)
                if ln.speaker is None or ln.confidence < below]
        self.review.setRowCount(len(rows))
        for row, i in enumerate(rows):
            ln = sheet.lines[i]
            text = QTableWidgetItem(_short(ln.text))
            text.setToolTip(ln.text)
            text.setData(Qt.ItemDataRole.UserRole, i)
            self.review.setItem(row, 0, text)
            if i in self.overrides:
                who = self.overrides[i]
                label = f"✓ {names.get(who, NARRATOR) if who else NARRATOR}"
                conf = "—"
            else:
                label = names.get(ln.speaker or "", NARRATOR)
                conf = f"{ln.confidence:.2f}" if ln.speaker else "—"
            speaker = QTableWidgetItem(label)
            speaker.setToolTip(f"found by: {ln.method or 'nothing'}" if i not in self.overrides
                               else "reviewed")
            self.review.setItem(row, 1, speaker)
            self.review.setItem(row, 2, QTableWidgetItem(conf))
        left = sum(1 for i in rows if i not in self.overrides)
        self.tabs.setTabText(0, f"Review ({left})" if rows else "Review")
        self._update_enabled()

    def _update_enabled(self) -> None:
        has = self.detection is not None and self.session is not None
        character = self.current_character()
        for widget in (self.apply_button, self.keep_doubtful, self.threshold):
            widget.setEnabled(has)
        self.detect_button.setEnabled(self.session is not None and not self._call.running)
        picked = bool(self.review.selectionModel().selectedRows())
        for widget in (self.accept_button, self.change_button, self.narrator_button,
                       self.speaker):
            widget.setEnabled(has and picked)
        lines = self.character_lines(character.id) if character is not None else []
        self.prev_button.setEnabled(bool(lines))
        self.next_button.setEnabled(bool(lines))
        voice = self._cast_voice(character)
        for widget in (self.alias, self.boost, self.voice_apply, *self.spins.values()):
            widget.setEnabled(voice is not None)
        self.voice_preview.setEnabled(voice is not None and self.previewer.available)

    # -- the selected character -----------------------------------------------------------------

    def _cast_voice(self, character: Character | None) -> m.Voice | None:
        if character is None or self.session is None:
            return None
        vid = self.cast.get(character.id)
        return self.session.project.voices.get(vid) if vid is not None else None

    def _on_character(self) -> None:
        character = self.current_character()
        self._update_enabled()
        voice = self._cast_voice(character)
        if character is None:
            self.where.setText("")
            return
        lines = self.character_lines(character.id)
        shown = self._nav.get(character.id)
        self.where.setText(
            f"{character.name}: {len(lines)} lines" if shown is None else
            f"{character.name}: line {shown + 1} of {len(lines)} — "
            f"{_short(lines[shown].text, 60)}" if shown < len(lines) else "")
        if voice is None:
            self.voice_note.setText("Apply the cast to give this character a voice of their "
                                    "own; then its settings can be changed here.")
            return
        self.voice_note.setText(f"'{voice.alias}' — {voice.engine}: {voice.engine_voice_id}")
        self.alias.setText(voice.alias)
        for name, spin in self.spins.items():
            spin.setValue(float(getattr(voice, name)))
        self.boost.setChecked(voice.speaker_boost)

    def select_character(self, name: str) -> bool:
        """Select the character called ``name`` in the sheet."""
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.text() == name:
                self.table.selectRow(row)
                return True
        return False

    def step_line(self, step: int) -> Line | None:
        """Show the selected character's next (1) or previous (-1) line in the editor."""
        character = self.current_character()
        if character is None:
            return None
        lines = self.character_lines(character.id)
        if not lines:
            return None
        shown = self._nav.get(character.id)
        index = (0 if step > 0 else len(lines) - 1) if shown is None else (
            (shown + step) % len(lines))
        self._nav[character.id] = index
        line = lines[index]
        self._go_to(line.block_id)
        self._on_character()
        return line

    def _on_voice_chosen(self, character_id: str, voice_id: str | None) -> None:
        """A voice was picked in the sheet: a new proposal, or (once cast) a voice edit."""
        self.proposed[character_id] = voice_id
        vid = self.cast.get(character_id)
        if self.session is None or vid is None or voice_id is None or self.detection is None:
            return
        voice = self.session.project.voices.get(vid)
        if voice is None or voice.engine_voice_id == voice_id:
            return
        try:
            self.session.push(commands.update_voice(
                self.session, vid, engine=self.detection.engine, engine_voice_id=voice_id), self)
        except StudioError as exc:
            show_error(self, exc)
            self._fill_table()
            return
        self._report_stale(vid, f"'{voice.alias}' now reads with {voice_id}")

    def _fields(self, voice: m.Voice) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        alias = self.alias.text().strip()
        if alias and alias != voice.alias:
            fields["alias"] = alias
        for name, spin in self.spins.items():
            if abs(spin.value() - float(getattr(voice, name))) > 1e-9:
                fields[name] = round(spin.value(), 4)
        if self.boost.isChecked() != voice.speaker_boost:
            fields["speaker_boost"] = self.boost.isChecked()
        return fields

    def apply_voice_settings(self) -> None:
        """Change the selected character's voice alias and settings (undoable)."""
        voice = self._cast_voice(self.current_character())
        if self.session is None or voice is None:
            return
        fields = self._fields(voice)
        if not fields:
            return
        try:
            self.session.push(commands.update_voice(self.session, voice.id, **fields), self)
        except StudioError as exc:
            show_error(self, exc)
            self._on_character()
            return
        self._report_stale(voice.id, f"'{voice.alias}' changed")

    def _report_stale(self, voice_id: VoiceId, what: str) -> None:
        assert self.session is not None
        project = self.session.project
        stale = sum(
            1 for _, b in project.iter_blocks()
            if any(s.voice_id == voice_id for s in b.spans) or b.voice_id == voice_id
            if m.block_status(project, b) == m.BlockStatus.STALE)
        self.message.emit(f"{what}: {stale} narrated paragraph{'s' * (stale != 1)} to "
                          "regenerate.")

    def preview_character(self) -> bool:
        """Speak the character's current line (or a sample) with the form's settings."""
        character = self.current_character()
        voice = self._cast_voice(character)
        if self.session is None or voice is None or character is None:
            return False
        form = dataclasses.replace(voice, speaker_boost=self.boost.isChecked(),
                                   **{n: round(s.value(), 4) for n, s in self.spins.items()})
        lines = self.character_lines(character.id)
        shown = self._nav.get(character.id, 0)
        text = preview_text(lines[shown].text.strip("“”\"‘’'") if lines else None)
        settings = load_settings()
        model_id = self.session.project.model_id
        return self.previewer.preview(
            lambda: project_voice_preview(form, text, model_id, settings), f"'{voice.alias}'")

    # -- review ------------------------------------------------------------------------------------

    def _review_indexes(self) -> list[int]:
        rows = sorted(i.row() for i in self.review.selectionModel().selectedRows())
        out = []
        for row in rows:
            item = self.review.item(row, 0)
            if item is not None:
                out.append(int(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def _on_review_row(self) -> None:
        self._update_enabled()
        indexes = self._review_indexes()
        if indexes and self.detection is not None:
            line = self.detection.sheet.lines[indexes[0]]
            who = self.overrides.get(indexes[0], line.speaker)
            at = self.speaker.findData(who)
            if at >= 0:
                self.speaker.setCurrentIndex(at)

    def _show_review_line(self, row: int) -> None:
        item = self.review.item(row, 0)
        if item is not None and self.detection is not None:
            line = self.detection.sheet.lines[int(item.data(Qt.ItemDataRole.UserRole))]
            self._go_to(line.block_id)

    def _reviewed(self, changes: dict[int, str | None]) -> None:
        selected = self._review_indexes()
        self.overrides.update(changes)
        self._fill_table()
        self._fill_review()
        # Keep the selection on the next line to review.
        for row in range(self.review.rowCount()):
            item = self.review.item(row, 0)
            if item is not None and int(item.data(Qt.ItemDataRole.UserRole)) > max(selected):
                self.review.selectRow(row)
                break
        self._on_character()

    def accept_lines(self) -> None:
        """Keep the proposed speaker of the selected review lines."""
        if self.detection is None:
            return
        lines = self.detection.sheet.lines
        picked = self._review_indexes()
        if picked:
            self._reviewed({i: self.overrides.get(i, lines[i].speaker) for i in picked})

    def set_speaker(self, character_id: str | None) -> None:
        """Give the selected review lines to ``character_id`` (None: the narrator)."""
        picked = self._review_indexes()
        if picked:
            self._reviewed(dict.fromkeys(picked, character_id))

    # -- apply -------------------------------------------------------------------------------------

    def assignments(self) -> dict[str, str]:
        """Return character id -> engine voice id for the characters given a voice."""
        out: dict[str, str] = {}
        for c in self.characters():
            voice_id = self.proposed.get(c.id)
            if voice_id is not None and self.character_lines(c.id):
                out[c.id] = voice_id
        return out

    def apply_cast(self) -> ApplyCastCommand | None:
        """Give the characters their voices and spans on their lines (one undo step)."""
        sheet = self.reviewed_sheet()
        if self.session is None or sheet is None or self.detection is None:
            return None
        assignments = self.assignments()
        if not assignments:
            self.message.emit("No character has a voice to apply.")
            return None
        below = self.threshold.value() if self.keep_doubtful.isChecked() else 0.0
        command = ApplyCastCommand(self.session, sheet, self.detection.engine, assignments,
                                   min_confidence=below)
        try:
            self.session.push(command, self)
        except StudioError as exc:
            show_error(self, exc)
            return None
        self.cast.update(command.voices)
        applied = command.applied
        assert applied is not None
        locked = (f"; {len(applied.skipped_locked)} locked paragraphs kept their voices"
                  if applied.skipped_locked else "")
        doubtful = (f"; {applied.skipped_doubtful} doubtful lines left to the narrator"
                    if applied.skipped_doubtful else "")
        self.message.emit(f"Cast applied: {applied.spans} lines for {len(assignments)} "
                          f"characters{locked}{doubtful}.")
        self._fill_table()
        self._on_character()
        return command


def install_cast_dock(window: Any) -> CastPanel:
    """Add the Cast dock to ``window`` (a tab beside Voices) and follow its open project."""
    from studio.core.engines.select import choose_engine

    def engine_name() -> str:
        return choose_engine(None, load_settings())[0]

    panel = CastPanel(window._engine_voices, engine_name, lambda: window.blocks_model.chapter,
                      window.select_paragraph, sink=window._player_sink)
    dock = add_side_dock(window, "Cast", "castDock", panel, beside="voicesDock")
    dock.hide()  # opened from Tools (or View): five tabs would not fit a laptop's side column
    panel.message.connect(lambda text: window.statusBar().showMessage(text, 10_000))
    window.undo_group.activeStackChanged.connect(lambda _s: panel.set_session(window.session))
    panel.set_session(window.session)
    window.cast_panel = panel
    window.cast_dock = dock
    return panel
