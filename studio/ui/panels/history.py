"""A paragraph's history: every take, with restore (undoable), export and delete."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core import model as m
from studio.core.errors import StudioError
from studio.core.model import BlockId, Take, TakeId
from studio.ui import commands
from studio.ui.errors import show_error
from studio.ui.session import ProjectSession

_EXTENSIONS = {"mp3": ".mp3", "wav": ".wav", "pcm": ".pcm", "ulaw": ".ulaw", "alaw": ".alaw"}


def describe(take: Take, project: m.Project) -> str:
    """Return a few lines about a take: when, voice, model, length, cost, and its settings."""
    when = dt.datetime.fromtimestamp(take.created).strftime("%Y-%m-%d %H:%M")
    voice = project.voices.get(take.voice_id) if take.voice_id else None
    who = voice.alias if voice else take.settings.get("voice", "?")
    cost = f", {take.cost} credits" if take.cost else ""
    lines = [when, f"{who} · {take.model_id or take.engine} · {take.duration:.1f} s{cost}"]
    settings = describe_settings(take.settings)
    if settings:
        lines.append(settings)
    return "\n".join(lines)


def describe_settings(settings: dict[str, object]) -> str:
    """Return the voice settings a take was made with, short (empty if none were recorded)."""
    parts = []
    for key, label in (("speed", "speed"), ("stability", "stab."), ("similarity", "sim."),
                       ("style", "style")):
        value = settings.get(key)
        if isinstance(value, int | float):
            parts.append(f"{label} {value:.2f}")
    if settings.get("speaker_boost"):
        parts.append("boost")
    return " · ".join(parts)


class HistoryPanel(QWidget):
    """List the takes of one paragraph, newest first; the current one is marked.

    Signals:
        play_requested(object): the user asked to hear a take (a :class:`Take`).
    """

    play_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: ProjectSession | None = None
        self.block_id: BlockId | None = None
        self.title = QLabel("No paragraph selected")
        self.title.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("takes")
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Hear this take on its own")
        self.play_button.clicked.connect(self.play)
        self.list.itemDoubleClicked.connect(lambda _item: self.play())
        self.restore_button = QPushButton("Restore")
        self.restore_button.clicked.connect(self.restore)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self._on_export)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self._on_delete)
        buttons = QHBoxLayout()
        for b in (self.play_button, self.restore_button, self.export_button,
                  self.delete_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.list)
        layout.addLayout(buttons)

    def set_session(self, session: ProjectSession | None) -> None:
        """Follow ``session``'s edits."""
        self.session = session
        self.block_id = None
        if session is not None:
            session.changed.connect(self._on_changed)
        self.refresh()

    def show_block(self, block_id: BlockId | None) -> None:
        """Show the takes of ``block_id``."""
        self.block_id = block_id
        self.refresh()

    def _on_changed(self, changes: object, initiator: object) -> None:
        if isinstance(changes, m.Changes) and self.block_id in changes.blocks:
            self.refresh()

    def _block(self) -> m.Block | None:
        if self.session is None or self.block_id is None:
            return None
        try:
            return self.session.project.block(self.block_id)
        except StudioError:
            return None

    def refresh(self) -> None:
        """Rebuild the list of takes."""
        self.list.clear()
        block = self._block()
        if block is None or self.session is None:
            self.title.setText("No paragraph selected")
        else:
            text = m.speakable_text(block.text)
            self.title.setText(f"Takes of: {text[:80]}{'…' if len(text) > 80 else ''}")
            for take in reversed(block.takes):
                mark = "● " if take.id == block.current_take_id else "   "
                item = QListWidgetItem(mark + describe(take, self.session.project))
                item.setData(Qt.ItemDataRole.UserRole, take.id)
                self.list.addItem(item)
            if self.list.count():
                self.list.setCurrentRow(0)
        for button in (self.play_button, self.restore_button, self.export_button,
                       self.delete_button):
            button.setEnabled(self.list.count() > 0)

    def selected_take(self) -> Take | None:
        """Return the take selected in the list."""
        block = self._block()
        item = self.list.currentItem()
        if block is None or item is None:
            return None
        take_id = item.data(Qt.ItemDataRole.UserRole)
        return next((t for t in block.takes if t.id == take_id), None)

    def play(self) -> None:
        """Ask for the selected take to be played."""
        take = self.selected_take()
        if take is not None:
            self.play_requested.emit(take)

    def restore(self) -> None:
        """Make the selected take current (undoable)."""
        take = self.selected_take()
        if self.session is None or take is None or self.block_id is None:
            return
        try:
            self.session.push(commands.restore_take(self.session, self.block_id, take.id), self)
        except StudioError as exc:
            show_error(self, exc)

    def export(self, path: Path) -> None:
        """Write the selected take's audio, exactly as the engine returned it, to ``path``."""
        take = self.selected_take()
        if self.session is None or take is None:
            return
        audio = self.session.store.load_take_audio(take.id)
        path.write_bytes(audio)

    def _on_export(self) -> None:
        take = self.selected_take()
        if take is None:
            return
        ext = _EXTENSIONS.get(take.format.split("_")[0], ".audio")
        path, _ = QFileDialog.getSaveFileName(self, "Export take", f"take{ext}")
        if path:
            try:
                self.export(Path(path))
            except (OSError, StudioError) as exc:
                show_error(self, StudioError(f"{path}: could not export ({exc})"))

    def delete(self, take_id: TakeId) -> None:
        """Delete a take for good (after the user confirmed)."""
        if self.session is None or self.block_id is None:
            return
        try:
            self.session.push(commands.delete_take(self.session, self.block_id, take_id))
        except StudioError as exc:
            show_error(self, exc)

    def _on_delete(self) -> None:
        take = self.selected_take()
        if take is None:
            return
        answer = QMessageBox.question(
            self, "Delete take",
            "Delete this take and its audio? Edit ▸ Undo brings it back while the project "
            "is open.")
        if answer == QMessageBox.StandardButton.Yes:
            self.delete(take.id)
