"""File ▸ Project Properties: the book's title, author, language, model and pauses.

These are project choices (saved in the project file, undoable), unlike the application
settings of Tools ▸ Settings. A change of model or language makes narrated paragraphs stale,
so the dialog says how many before it is applied.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from studio.core import model as m
from studio.core.catalog import MODELS
from studio.core.errors import StudioError
from studio.ui import commands
from studio.ui.errors import show_error
from studio.ui.session import ProjectSession

#: (setting key, label, default, maximum, tooltip)
PAUSES = (
    ("paragraph_pause_s", "Pause between paragraphs", 0.5, 5.0,
     "Silence after each paragraph, in playback and in exports"),
    ("chapter_head_s", "Room tone at chapter start", 1.0, 5.0,
     "Silence before a chapter's first paragraph in exports (ACX asks 0.5-1 s)"),
    ("chapter_tail_s", "Room tone at chapter end", 2.0, 5.0,
     "Silence after a chapter's last paragraph in exports (ACX asks 1-5 s)"),
)


class ProjectPropertiesDialog(QDialog):
    """Edit the open project's title, author, language, model and pauses."""

    def __init__(self, session: ProjectSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Project Properties")
        self.setObjectName("projectProperties")
        self.session = session
        project = session.project
        self.title = QLineEdit(project.title)
        self.author = QLineEdit(project.author)
        self.language = QLineEdit(project.language)
        self.language.setToolTip("ISO 639-1 code such as en, fr, de; sent to the engine")
        self.model = QComboBox()
        for info in MODELS.values():
            if info.engine == "elevenlabs":
                self.model.addItem(f"{info.name} ({info.model_id})", info.model_id)
        index = self.model.findData(project.model_id)
        if index < 0:
            self.model.addItem(project.model_id, project.model_id)
            index = self.model.count() - 1
        self.model.setCurrentIndex(index)
        self.pauses: dict[str, QDoubleSpinBox] = {}
        form = QFormLayout()
        form.addRow("Title", self.title)
        form.addRow("Author", self.author)
        form.addRow("Language", self.language)
        form.addRow("ElevenLabs model", self.model)
        for key, label, default, maximum, tip in PAUSES:
            box = QDoubleSpinBox()
            box.setRange(0.0, maximum)
            box.setSingleStep(0.1)
            box.setDecimals(2)
            box.setSuffix(" s")
            box.setValue(float(project.settings.get(key, default)))
            box.setToolTip(tip)
            self.pauses[key] = box
            form.addRow(label, box)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("staleNote")
        self.model.currentIndexChanged.connect(self._update_note)
        self.language.textChanged.connect(self._update_note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self._update_note()

    def changes(self) -> dict[str, Any]:
        """Return the fields the user changed (for ``set_project_meta``)."""
        project = self.session.project
        out: dict[str, Any] = {}
        for name, value in (("title", self.title.text().strip()),
                            ("author", self.author.text().strip()),
                            ("language", self.language.text().strip().lower()),
                            ("model_id", self.model.currentData())):
            if value != getattr(project, name):
                out[name] = value
        settings = dict(project.settings)
        for key, box in self.pauses.items():
            settings[key] = round(box.value(), 2)
        if settings != project.settings:
            out["settings"] = settings
        return out

    def would_stale(self) -> int:
        """Return how many narrated paragraphs the model/language chosen would make stale."""
        project = self.session.project
        model, language = self.model.currentData(), self.language.text().strip().lower()
        if (model, language) == (project.model_id, project.language):
            return 0
        converted = [b for _, b in project.iter_blocks()
                     if m.block_status(project, b) is m.BlockStatus.CONVERTED]
        saved = project.model_id, project.language
        try:  # what the engine would be sent, with the new choices
            project.model_id, project.language = model, language
            return sum(1 for b in converted if m.block_status(project, b) is m.BlockStatus.STALE)
        finally:
            project.model_id, project.language = saved

    def _update_note(self) -> None:
        stale = self.would_stale()
        self.note.setText(
            f"This makes {stale} narrated paragraph{'s' if stale != 1 else ''} stale (their "
            "audio stays until you regenerate them)." if stale else "")

    def apply(self) -> None:
        """Apply the changes as one undoable step and close."""
        fields = self.changes()
        if fields.get("title") == "":
            show_error(self, StudioError("The title cannot be empty."))
            return
        if fields:
            try:
                self.session.push(commands.set_project_meta(self.session, **fields), self)
            except StudioError as exc:
                show_error(self, exc)
                return
        self.accept()
