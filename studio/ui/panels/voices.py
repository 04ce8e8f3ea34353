"""The voices sidebar: the cast, each voice's settings, and assigning voices to paragraphs.

Also previews (an engine voice before adding it; a project voice with the form's settings)
and "Override settings…": the selected paragraphs get a derived voice, a copy of the voice
that reads them with other settings, in one undo step (the model has no per-paragraph
settings, and a derived voice keeps staleness, export and the cast list as they are).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core import model as m
from studio.core.engines import EngineVoice
from studio.core.errors import EditError, StudioError
from studio.core.model import BlockId, ChapterId, VoiceId
from studio.core.preview import engine_voice_preview, preview_text, project_voice_preview
from studio.core.settings import load_settings
from studio.ui import commands
from studio.ui.background import BackgroundCall
from studio.ui.errors import show_error
from studio.ui.player import OutputSink
from studio.ui.preview import VoicePreviewer
from studio.ui.session import ProjectSession

#: (field, label, minimum, maximum, step): the settings a voice carries (spec §5.2)
_SETTINGS = (
    ("volume_db", "Volume (dB)", -30.0, 5.0, 0.5),
    ("speed", "Speed", 0.7, 1.2, 0.05),
    ("stability", "Stability", 0.0, 1.0, 0.05),
    ("similarity", "Similarity", 0.0, 1.0, 0.05),
    ("style", "Style", 0.0, 1.0, 0.05),
)

def add_setting_rows(form: QFormLayout) -> tuple[dict[str, QDoubleSpinBox], QCheckBox]:
    """Add a voice's settings (volume, speed, stability, ...) and speaker boost to ``form``.

    Return the spin boxes by field name, and the speaker boost box.
    """
    spins: dict[str, QDoubleSpinBox] = {}
    for name, label, lo, hi, step in _SETTINGS:
        spin = QDoubleSpinBox()
        spin.setRange(lo, hi)
        spin.setSingleStep(step)
        spin.setDecimals(2)
        spins[name] = spin
        form.addRow(label, spin)
    boost = QCheckBox("Speaker boost")
    form.addRow("", boost)
    return spins, boost


#: The settings "Override settings…" may change (what reaches the engine; not the volume).
OVERRIDE_FIELDS = ("speed", "stability", "similarity", "style", "speaker_boost")
_OVERRIDE_SUFFIX = re.compile(r" \(override \d+\)$")


def _override_alias(alias: str, taken: set[str]) -> str:
    """Return "<alias> (override N)" with the smallest N not taken (N counts per base alias)."""
    base = _OVERRIDE_SUFFIX.sub("", alias)
    n = 1
    while f"{base} (override {n})" in taken:
        n += 1
    return f"{base} (override {n})"


def override_voice_settings(session: ProjectSession, block_ids: list[BlockId],
                            initiator: object | None = None, **fields: Any) -> list[VoiceId]:
    """Read ``block_ids`` with copies of their voices that have ``fields`` changed.

    One derived voice per voice reading the selection (alias "Narrator (override 1)"), added
    to the cast and assigned to those paragraphs, all as one undo step. Voice spans inside the
    paragraphs keep their own voices. Returns the new voices' ids (none if nothing changes).

    Raises:
        EditError: a paragraph is locked (the message lists them all), or a field is unknown.
    """
    project = session.project
    unknown = set(fields) - set(OVERRIDE_FIELDS)
    if unknown:
        raise m.EditError(f"these settings cannot be overridden: {', '.join(sorted(unknown))}")
    locked = []
    for block_id in block_ids:
        chapter, index = project.locate(block_id)
        if chapter.blocks[index].locked:
            locked.append(f"'{chapter.title}' ¶{index + 1}")
    if locked:
        more = f" and {len(locked) - 10} more" if len(locked) > 10 else ""
        raise m.EditError(
            f"Locked paragraphs keep their settings: {', '.join(locked[:10])}{more}. "
            "Unlock them first."
        )
    groups: dict[VoiceId, list[BlockId]] = {}
    for block_id in block_ids:
        voice = project.voice_for(project.block(block_id))
        if voice is None:
            raise m.EditError("a selected paragraph has no voice; add a voice to the cast first")
        groups.setdefault(voice.id, []).append(block_id)
    taken = {v.alias for v in project.voices.values()}
    planned: list[tuple[m.Voice, list[BlockId]]] = []
    for voice_id, ids in groups.items():
        source = project.voices[voice_id]
        derived = dataclasses.replace(source, id=VoiceId(m.new_id()),
                                      alias=_override_alias(source.alias, taken), **fields)
        if derived.engine_fingerprint() != source.engine_fingerprint():
            taken.add(derived.alias)
            planned.append((derived, ids))
    if not planned:
        return []

    def assign(ids: list[BlockId], voice_id: VoiceId) -> Callable[[m.Project], m.Changes]:
        def edit(p: m.Project) -> m.Changes:
            changes = m.Changes()
            for block_id in ids:
                changes = changes | m.set_block_voice(p, block_id, voice_id)
            return changes
        return edit

    stack = session.undo_stack
    stack.beginMacro(f"Override settings of {len(block_ids)} paragraph(s)")
    try:
        for derived, ids in planned:
            session.push(commands.add_voice(session, derived), initiator)
            by_chapter: dict[ChapterId, list[BlockId]] = {}
            for block_id in ids:
                by_chapter.setdefault(project.locate(block_id)[0].id, []).append(block_id)
            for chapter_id, chapter_ids in by_chapter.items():
                session.push(commands.ChapterEditCommand(
                    session, chapter_id, f"Assign voice '{derived.alias}'",
                    assign(chapter_ids, derived.id)), initiator)
    except BaseException:
        stack.endMacro()
        stack.undo()  # nothing half-done stays behind
        raise
    stack.endMacro()
    return [derived.id for derived, _ in planned]


class VoicesPanel(QWidget):
    """List the project's voices; edit the selected one; assign it to paragraphs.

    Signals:
        voice_selected(str): the voice chosen in the list (voice id).
    """

    voice_selected = Signal(str)

    def __init__(self, selection: Callable[[], list[BlockId]],
                 voices_source: Callable[[], list[EngineVoice]] | None = None,
                 parent: QWidget | None = None, sink: OutputSink | None = None) -> None:
        super().__init__(parent)
        self.session: ProjectSession | None = None
        self._selection = selection
        self._voices_source = voices_source
        #: set by the window: reads the words selected inside a paragraph with a voice;
        #: returns False when no words are selected (then whole paragraphs get the voice)
        self.span_assigner: Callable[[VoiceId], bool] | None = None
        self.previewer = VoicePreviewer(sink, self)
        # Listing an engine's voices is a paged network call with ElevenLabs: done off the
        # GUI thread, the picker opens when the list arrives.
        self._voices_call = BackgroundCall(self)
        self._voices_call.finished.connect(self._on_voices_listed)
        self._voices_call.failed.connect(lambda exc: show_error(self, exc))
        self._voices_call.running_changed.connect(self._on_listing)
        #: the voice picker while it is open
        self.add_dialog: AddVoiceDialog | None = None
        self.list = QListWidget()
        self.list.setObjectName("voices")
        self.list.setMaximumHeight(140)
        self.list.currentItemChanged.connect(self._on_current)
        self.alias = QLineEdit()
        self.engine_voice = QLineEdit()
        self.engine_voice.setReadOnly(True)
        form = QFormLayout()
        form.addRow("Alias", self.alias)
        form.addRow("Engine voice", self.engine_voice)
        self.spins, self.boost = add_setting_rows(form)
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(self.apply)
        self.assign_button = QPushButton("Assign to selection")
        self.assign_button.setToolTip("Read the selected paragraphs (or the words selected "
                                      "in the paragraph being edited) with this voice")
        self.assign_button.clicked.connect(self.assign_to_selection)
        self.add_button = QPushButton("Add voice…")
        self.add_button.clicked.connect(self._on_add)
        self.preview_button = QPushButton("Preview")
        self.preview_button.setToolTip(
            "Speak the selected paragraph's first sentence (or a sample) with the settings "
            "above, applied or not (ElevenLabs voices use a few credits)")
        self.preview_button.clicked.connect(self.preview_voice)
        self.override_button = QPushButton("Override settings…")
        self.override_button.setToolTip(
            "Give the selected paragraphs other settings: they get a copy of their voice")
        self.override_button.clicked.connect(self._on_override)
        self.preview_status = QLabel()
        self.preview_status.setObjectName("previewStatus")
        self.preview_status.setWordWrap(True)
        self.previewer.status.connect(self.preview_status.setText)
        if not self.previewer.available:
            self.preview_button.setToolTip(self.previewer.reason)
            self.preview_status.setText(f"Preview off: {self.previewer.reason}")
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.assign_button)
        more = QHBoxLayout()
        more.addWidget(self.preview_button)
        more.addWidget(self.override_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(self.add_button)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addLayout(more)
        layout.addWidget(self.preview_status)
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
                       self.override_button, *self.spins.values()):
            widget.setEnabled(enabled)
        self.preview_button.setEnabled(enabled and self.previewer.available)
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
        if self.span_assigner is not None and self.span_assigner(voice.id):
            return  # words selected inside a paragraph: they got the voice
        blocks = self._selection()
        if not blocks:
            return
        project = self.session.project
        locked = [f"¶{project.locate(b)[1] + 1} of '{project.locate(b)[0].title}'"
                  for b in blocks if project.block(b).locked]
        if locked:  # refuse the whole assignment, naming what blocks it
            show_error(self, EditError(
                f"Locked paragraphs keep their voice: {', '.join(locked)}. Unlock them first "
                "(Ctrl+L), or select only unlocked paragraphs."))
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

    def form_voice(self) -> m.Voice | None:
        """Return the selected voice with the form's (possibly unapplied) settings."""
        voice = self._voice()
        if voice is None:
            return None
        fields: dict[str, Any] = {n: round(s.value(), 4) for n, s in self.spins.items()}
        return dataclasses.replace(voice, speaker_boost=self.boost.isChecked(), **fields)

    def preview_voice(self) -> bool:
        """Speak a short sentence with the selected voice and the form's settings."""
        voice = self.form_voice()
        if self.session is None or voice is None:
            return False
        project = self.session.project
        blocks = self._selection()
        text = preview_text(project.block(blocks[0]).text if blocks else None)
        settings = load_settings()
        model_id = project.model_id
        return self.previewer.preview(
            lambda: project_voice_preview(voice, text, model_id, settings), f"'{voice.alias}'")

    def _on_override(self) -> None:
        if self.session is None:
            return
        blocks = self._selection()
        if not blocks:
            self.preview_status.setText("Select the paragraphs to override first.")
            return
        voice = self.session.project.voice_for(self.session.project.block(blocks[0]))
        if voice is None:
            return
        dialog = OverrideDialog(voice, len(blocks), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.override_selection(**dialog.fields())

    def override_selection(self, **fields: Any) -> list[VoiceId]:
        """Give the selected paragraphs a derived voice with ``fields`` (one undo step)."""
        if self.session is None or not fields:
            return []
        try:
            created = override_voice_settings(self.session, self._selection(), self, **fields)
        except StudioError as exc:
            show_error(self, exc)
            return []
        if created:
            self.select_voice(created[-1])
        return created

    def select_voice(self, voice_id: VoiceId) -> None:
        """Make ``voice_id`` the voice shown in the form."""
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == voice_id:
                self.list.setCurrentRow(row)
                return

    def _on_add(self) -> None:
        """Fetch the engine's voices in the background; the picker opens when they arrive."""
        if self.session is None or self._voices_source is None or self._voices_call.running:
            return
        self._voices_call.start(self._voices_source)

    def _on_listing(self, running: bool) -> None:
        self.add_button.setEnabled(not running)
        self.add_button.setText("Loading voices…" if running else "Add voice…")

    def _on_voices_listed(self, available: object) -> None:
        if self.session is None or not isinstance(available, list):
            return  # the project was closed meanwhile
        dialog = AddVoiceDialog(available, self, previewer=self.previewer)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._on_voice_chosen(dialog))
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        self.add_dialog = dialog
        dialog.open()  # window-modal without a nested event loop

    def _on_voice_chosen(self, dialog: AddVoiceDialog) -> None:
        if dialog.chosen is not None and self.session is not None:
            self.add_voice(dialog.chosen, dialog.engine)

    def _forget_dialog(self, dialog: AddVoiceDialog) -> None:
        if self.add_dialog is dialog:
            self.add_dialog = None

    def add_voice(self, engine_voice: EngineVoice, engine: str) -> VoiceId:
        """Add ``engine_voice`` to the cast (undoable); return the new voice's id."""
        assert self.session is not None
        voice = m.Voice(VoiceId(m.new_id()), engine_voice.name, engine=engine,
                        engine_voice_id=engine_voice.voice_id)
        self.session.push(commands.add_voice(self.session, voice), self)
        return voice.id


class AddVoiceDialog(QDialog):
    """Pick a voice from an engine's list, with a search box and a preview."""

    def __init__(self, voices: list[EngineVoice], parent: QWidget | None = None,
                 previewer: VoicePreviewer | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add voice")
        self.chosen: EngineVoice | None = None
        self.engine = "offline" if all(v.category == "offline" for v in voices) else "elevenlabs"
        self._voices = voices
        self.previewer = previewer if previewer is not None else VoicePreviewer(parent=self)
        self._closed = False
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search voices")
        self.search.textChanged.connect(self._fill)
        self.combo = QComboBox()
        self.combo.setMinimumWidth(360)
        self.preview_button = QPushButton("Preview")
        self.preview_button.setToolTip(
            "Play the voice's own preview, or speak a sample sentence with it")
        self.preview_button.clicked.connect(self.preview)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.previewer.status.connect(self.status.setText)
        if not self.previewer.available:
            self.preview_button.setEnabled(False)
            self.preview_button.setToolTip(self.previewer.reason)
            self.status.setText(f"Preview off: {self.previewer.reason}")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.combo, 1)
        row.addWidget(self.preview_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self._fill("")

    def preview(self) -> bool:
        """Play the chosen voice (fetched off the GUI thread)."""
        voice = self.combo.currentData()
        if not isinstance(voice, EngineVoice):
            return False
        settings = load_settings()
        engine = self.engine
        return self.previewer.preview(
            lambda: engine_voice_preview(engine, voice, settings), f"'{voice.name}'")

    def done(self, result: int) -> None:
        if not self._closed:  # a preview must not outlive the dialog that asked for it
            self._closed = True
            self.previewer.status.disconnect(self.status.setText)
            self.previewer.cancel()
        super().done(result)

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


class OverrideDialog(QDialog):
    """Choose the settings the selected paragraphs should be read with."""

    def __init__(self, voice: m.Voice, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Override settings")
        self._voice = voice
        note = QLabel(
            f"The {count} selected paragraph(s) will be read by a copy of '{voice.alias}' with "
            "these settings (a new voice in the cast). Undo removes it again.")
        note.setWordWrap(True)
        form = QFormLayout()
        self.spins: dict[str, QDoubleSpinBox] = {}
        for name, label, lo, hi, step in _SETTINGS:
            if name not in OVERRIDE_FIELDS:
                continue
            spin = QDoubleSpinBox()
            spin.setRange(lo, hi)
            spin.setSingleStep(step)
            spin.setDecimals(2)
            spin.setValue(float(getattr(voice, name)))
            self.spins[name] = spin
            form.addRow(label, spin)
        self.boost = QCheckBox("Speaker boost")
        self.boost.setChecked(voice.speaker_boost)
        form.addRow("", self.boost)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def fields(self) -> dict[str, object]:
        """Return the settings that differ from the voice's."""
        out: dict[str, object] = {}
        for name, spin in self.spins.items():
            if abs(spin.value() - float(getattr(self._voice, name))) > 1e-9:
                out[name] = round(spin.value(), 4)
        if self.boost.isChecked() != self._voice.speaker_boost:
            out["speaker_boost"] = self.boost.isChecked()
        return out
