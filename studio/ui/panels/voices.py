"""The voices sidebar: the cast, each voice's settings, and assigning voices to paragraphs."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core import model as m
from studio.core.engines import EngineVoice
from studio.core.errors import StudioError
from studio.core.model import BlockId, VoiceId
from studio.ui import commands
from studio.ui.errors import show_error
from studio.ui.session import ProjectSession

#: (field, label, minimum, maximum, step): the settings a voice carries (spec §5.2)
_SETTINGS = (
    ("volume_db", "Volume (dB)", -30.0, 5.0, 0.5),
    ("speed", "Speed", 0.7, 1.2, 0.05),
    ("stability", "Stability", 0.0, 1.0, 0.05),
    ("similarity", "Similarity", 0.0, 1.0, 0.05),
    ("style", "Style", 0.0, 1.0, 0.05),
)


class VoicesPanel(QWidget):
    """List the project's voices; edit the selected one; assign it to paragraphs.

    Signals:
        voice_selected(str): the voice chosen in the list (voice id).
    """

    voice_selected = Signal(str)

    def __init__(self, selection: Callable[[], list[BlockId]],
                 voices_source: Callable[[], list[EngineVoice]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: ProjectSession | None = None
        self._selection = selection
        self._voices_source = voices_source
        self.list = QListWidget()
        self.list.setObjectName("voices")
        self.list.setMaximumHeight(140)
        self.list.currentItemChanged.connect(self._on_current)
        self.alias = QLineEdit()
        self.engine_voice = QLineEdit()
        self.engine_voice.setReadOnly(True)
        self.spins: dict[str, QDoubleSpinBox] = {}
        form = QFormLayout()
        form.addRow("Alias", self.alias)
        form.addRow("Engine voice", self.engine_voice)
        for name, label, lo, hi, step in _SETTINGS:
            spin = QDoubleSpinBox()
            spin.setRange(lo, hi)
            spin.setSingleStep(step)
            spin.setDecimals(2)
            self.spins[name] = spin
            form.addRow(label, spin)
        self.boost = QCheckBox("Speaker boost")
        form.addRow("", self.boost)
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(self.apply)
        self.assign_button = QPushButton("Assign to selection")
        self.assign_button.setToolTip("Read the selected paragraphs with this voice")
        self.assign_button.clicked.connect(self.assign_to_selection)
        self.add_button = QPushButton("Add voice…")
        self.add_button.clicked.connect(self._on_add)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.assign_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(self.add_button)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addStretch(1)

    # -- project ----------------------------------------------------------------------------

    def set_session(self, session: ProjectSession | None) -> None:
        """Show the cast of ``session``'s project."""
        self.session = session
        if session is not None:
            session.changed.connect(self._on_changed)
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the list, keeping the current voice."""
        current = self.current_voice_id()
        self.list.blockSignals(True)
        self.list.clear()
        if self.session is not None:
            project = self.session.project
            for voice in project.voices.values():
                default = " (default)" if voice.id == project.default_voice_id else ""
                item = QListWidgetItem(f"{voice.alias}{default}")
                item.setData(Qt.ItemDataRole.UserRole, voice.id)
                item.setToolTip(f"{voice.engine}: {voice.engine_voice_id}")
                self.list.addItem(item)
                if voice.id == current:
                    self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        else:
            self._on_current(self.list.currentItem(), None)

    def current_voice_id(self) -> VoiceId | None:
        """Return the voice selected in the list."""
        item = self.list.currentItem()
        return VoiceId(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _on_changed(self, changes: object, initiator: object) -> None:
        if isinstance(changes, m.Changes) and (changes.voices or changes.removed_voices
                                               or changes.project):
            self.refresh()

    def _on_current(self, item: QListWidgetItem | None, _previous: object) -> None:
        voice = self._voice()
        enabled = voice is not None
        for widget in (self.alias, self.apply_button, self.assign_button, self.boost,
                       *self.spins.values()):
            widget.setEnabled(enabled)
        if voice is None:
            return
        self.alias.setText(voice.alias)
        self.engine_voice.setText(f"{voice.engine}: {voice.engine_voice_id}")
        for name, spin in self.spins.items():
            spin.setValue(float(getattr(voice, name)))
        self.boost.setChecked(voice.speaker_boost)
        self.voice_selected.emit(voice.id)

    def _voice(self) -> m.Voice | None:
        voice_id = self.current_voice_id()
        if self.session is None or voice_id is None:
            return None
        return self.session.project.voices.get(voice_id)

    # -- actions -------------------------------------------------------------------------------

    def apply(self) -> None:
        """Apply the form to the selected voice (refused if locked paragraphs would go stale)."""
        voice = self._voice()
        if self.session is None or voice is None:
            return
        fields: dict[str, object] = {}
        if self.alias.text().strip() and self.alias.text().strip() != voice.alias:
            fields["alias"] = self.alias.text().strip()
        for name, spin in self.spins.items():
            if abs(spin.value() - float(getattr(voice, name))) > 1e-9:
                fields[name] = round(spin.value(), 4)
        if self.boost.isChecked() != voice.speaker_boost:
            fields["speaker_boost"] = self.boost.isChecked()
        if not fields:
            return
        try:
            self.session.push(commands.update_voice(self.session, voice.id, **fields), self)
        except StudioError as exc:
            show_error(self, exc)
            self._on_current(self.list.currentItem(), None)  # back to the stored values

    def assign_to_selection(self) -> None:
        """Read the selected paragraphs with the selected voice (one undo step)."""
        voice = self._voice()
        if self.session is None or voice is None:
            return
        blocks = self._selection()
        if not blocks:
            return
        stack = self.session.undo_stack
        stack.beginMacro(f"Assign voice '{voice.alias}'")
        try:
            for block_id in blocks:
                self.session.push(commands.set_block_voice(self.session, block_id, voice.id),
                                  self)
        except StudioError as exc:
            show_error(self, exc)
        finally:
            stack.endMacro()

    def _on_add(self) -> None:
        if self.session is None or self._voices_source is None:
            return
        try:
            available = self._voices_source()
        except StudioError as exc:
            show_error(self, exc)
            return
        dialog = AddVoiceDialog(available, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.chosen is not None:
            self.add_voice(dialog.chosen, dialog.engine)

    def add_voice(self, engine_voice: EngineVoice, engine: str) -> VoiceId:
        """Add ``engine_voice`` to the cast (undoable); return the new voice's id."""
        assert self.session is not None
        voice = m.Voice(VoiceId(m.new_id()), engine_voice.name, engine=engine,
                        engine_voice_id=engine_voice.voice_id)
        self.session.push(commands.add_voice(self.session, voice), self)
        return voice.id


class AddVoiceDialog(QDialog):
    """Pick a voice from an engine's list, with a search box."""

    def __init__(self, voices: list[EngineVoice], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add voice")
        self.chosen: EngineVoice | None = None
        self.engine = "offline" if all(v.category == "offline" for v in voices) else "elevenlabs"
        self._voices = voices
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search voices")
        self.search.textChanged.connect(self._fill)
        self.combo = QComboBox()
        self.combo.setMinimumWidth(360)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.combo)
        layout.addWidget(buttons)
        self._fill("")

    def _fill(self, text: str) -> None:
        needle = text.lower()
        self.combo.clear()
        for voice in self._voices:
            haystack = " ".join([voice.name, voice.voice_id, *voice.labels.values()]).lower()
            if needle in haystack:
                self.combo.addItem(voice.name, voice)

    def _accept(self) -> None:
        self.chosen = self.combo.currentData()
        self.accept()
