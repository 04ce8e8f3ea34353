"""The speakers panel: add, rename, recolour, reorder and delete speakers; move their segments."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import EditError
from studio.core.transcript.model import (
    SpeakerId,
    TranscriptChanges,
    add_speaker,
    delete_speaker,
    move_speaker,
    move_speaker_segments,
    recolour_speaker,
    rename_speaker,
)
from studio.ui.transcript.document import TranscriptDocument


def swatch(colour: str, size: int = 14) -> QIcon:
    """Return a square icon of ``colour``."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class SpeakersPanel(QWidget):
    """The transcript's speakers in order, each with its colour and segment count.

    Signals:
        edit_failed(object): an :class:`EditError` to show.
    """

    edit_failed = Signal(object)

    def __init__(self, doc: TranscriptDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        title = QLabel("Speakers")
        title.setStyleSheet("font-weight: bold")
        self.list = QListWidget()
        self.list.setObjectName("speakerList")
        self.list.setIconSize(QSize(14, 14))
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.currentRowChanged.connect(lambda _r: self._update_buttons())
        self.list.setToolTip("Double-click a name to rename it.")
        self.add_button = self._button("+", "Add a speaker", self.add)
        self.colour_button = self._button("Colour…", "Choose this speaker's colour",
                                          self.choose_colour)
        self.up_button = self._button("▲", "Move up", lambda: self.move(-1))
        self.down_button = self._button("▼", "Move down", lambda: self.move(1))
        self.move_button = QToolButton()
        self.move_button.setText("Move segments to")
        self.move_button.setToolTip("Give all of this speaker's segments to another speaker")
        self.move_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.move_menu = QMenu(self.move_button)
        self.move_menu.aboutToShow.connect(self._fill_move_menu)
        self.move_button.setMenu(self.move_menu)
        self.delete_button = self._button("Delete", "Delete this speaker and all of its "
                                          "segments", self.delete)
        row1 = QHBoxLayout()
        for b in (self.add_button, self.up_button, self.down_button, self.colour_button):
            row1.addWidget(b)
        row1.addStretch(1)
        row2 = QHBoxLayout()
        row2.addWidget(self.move_button)
        row2.addWidget(self.delete_button)
        row2.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addLayout(row1)
        layout.addLayout(row2)
        doc.transcript_changed.connect(self._on_changed)
        doc.transcript_replaced.connect(self.rebuild)
        self.rebuild()

    def _button(self, text: str, tip: str, slot: object) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    # -- view ------------------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Show the transcript's speakers again."""
        current = self.current_speaker()
        t = self.doc.transcript
        counts: dict[str, int] = {}
        for segment in t.segments:
            counts[segment.speaker_id] = counts.get(segment.speaker_id, 0) + 1
        self.list.blockSignals(True)
        self.list.clear()
        for speaker in t.speakers:
            item = QListWidgetItem(swatch(speaker.colour), speaker.name)
            item.setData(Qt.ItemDataRole.UserRole, speaker.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            n = counts.get(speaker.id, 0)
            item.setToolTip(f"{n} segment{'s' if n != 1 else ''}")
            self.list.addItem(item)
            if speaker.id == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self._update_buttons()

    def _on_changed(self, changes: TranscriptChanges) -> None:
        if changes.speakers or changes.removed_speakers or changes.segments or changes.added \
                or changes.removed:
            self.rebuild()

    def current_speaker(self) -> SpeakerId | None:
        """Return the selected speaker's id."""
        item = self.list.currentItem()
        return None if item is None else SpeakerId(item.data(Qt.ItemDataRole.UserRole))

    def select(self, speaker_id: str) -> None:
        """Select a speaker in the list."""
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == speaker_id:
                self.list.setCurrentRow(row)

    def _update_buttons(self) -> None:
        has = self.current_speaker() is not None
        row = self.list.currentRow()
        for b in (self.colour_button, self.delete_button, self.move_button):
            b.setEnabled(has)
        self.move_button.setEnabled(has and self.list.count() > 1)
        self.up_button.setEnabled(has and row > 0)
        self.down_button.setEnabled(has and row < self.list.count() - 1)

    # -- edits -----------------------------------------------------------------------------------

    def _edit(self, label: str, fn: object) -> None:
        try:
            self.doc.edit(label, fn)  # type: ignore[arg-type]
        except EditError as exc:
            self.edit_failed.emit(exc)

    def add(self) -> None:
        """Add a speaker and start renaming it."""
        self._edit("Add speaker", lambda t: add_speaker(t))
        self.list.setCurrentRow(self.list.count() - 1)
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        speaker_id = SpeakerId(item.data(Qt.ItemDataRole.UserRole))
        name = item.text()
        self._edit(f"Rename speaker to '{name.strip()}'",
                   lambda t: rename_speaker(t, speaker_id, name))
        self.rebuild()  # an empty name was refused: show the old one again

    def choose_colour(self) -> None:
        """Pick a colour for the selected speaker."""
        speaker_id = self.current_speaker()
        if speaker_id is None:
            return
        old = self.doc.transcript.speaker(speaker_id).colour
        colour = QColorDialog.getColor(QColor(old), self, "Speaker colour")
        if colour.isValid():
            self.recolour(speaker_id, colour.name())

    def recolour(self, speaker_id: SpeakerId, colour: str) -> None:
        """Give a speaker a colour (``#rrggbb``)."""
        self._edit("Recolour speaker", lambda t: recolour_speaker(t, speaker_id, colour))

    def move(self, step: int) -> None:
        """Move the selected speaker up (-1) or down (+1) in the order."""
        speaker_id = self.current_speaker()
        if speaker_id is None:
            return
        row = self.list.currentRow()
        self._edit("Reorder speakers", lambda t: move_speaker(t, speaker_id, row + step))
        self.select(speaker_id)

    def delete(self, confirm: bool = True) -> None:
        """Delete the selected speaker and its segments (after asking, if it has any)."""
        speaker_id = self.current_speaker()
        if speaker_id is None:
            return
        t = self.doc.transcript
        n = sum(1 for s in t.segments if s.speaker_id == speaker_id)
        name = t.speaker(speaker_id).name
        if confirm and n and QMessageBox.question(
            self, "Delete speaker",
            f"Delete {name} and their {n} segment{'s' if n != 1 else ''}? "
            "(Use 'Move segments to' first to keep them.)",
        ) != QMessageBox.StandardButton.Yes:
            return
        self._edit(f"Delete speaker '{name}'", lambda t: delete_speaker(t, speaker_id))

    def _fill_move_menu(self) -> None:
        self.move_menu.clear()
        source = self.current_speaker()
        for speaker in self.doc.transcript.speakers:
            if speaker.id == source:
                continue
            action = self.move_menu.addAction(swatch(speaker.colour), speaker.name)
            action.triggered.connect(
                lambda _=False, to=speaker.id: self.move_segments(source, to))

    def move_segments(self, source: SpeakerId | None, target: SpeakerId) -> None:
        """Give all of ``source``'s segments to ``target``."""
        if source is None:
            return
        name = self.doc.transcript.speaker(target).name
        self._edit(f"Move segments to {name}",
                   lambda t: move_speaker_segments(t, source, target))
