"""File ▸ Export: write chapters or the whole book as MP3, WAV, FLAC or M4B, checked for ACX.

The dialog collects choices and shows results; the work is the Qt-free core's
(:mod:`studio.core.export`). :func:`~studio.core.export.export_readiness` gives the readiness
line, :func:`~studio.core.export.plan_export` freezes the files on the GUI thread,
:func:`~studio.core.export.run_export` writes them on a worker thread (progress and the result
come back through queued signals; Cancel sets a :class:`~studio.core.errors.CancelToken`, and
the core leaves no partial file), and :func:`~studio.core.export.record_export` adds the
export to the project through the session, so it is saved. "Convert them first" runs the
readiness plans through the window's :class:`~studio.ui.workers.GenerationController` and
exports when they finish without failures. The choices of format, quality, layout, mastering
and folder are remembered between exports (QSettings ``export/...``); the narrator, year,
ISBN, description and cover image are kept in the project (an undoable edit).
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
from pathlib import Path
from typing import Any, Final

from PySide6.QtCore import QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QColor, QDesktopServices, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import Cancelled, CancelToken, StudioError
from studio.core.export import (
    ExportError,
    ExportFormat,
    ExportOptions,
    ExportProgress,
    ExportResult,
    Layout,
    Mastering,
    MasteringMode,
    Metadata,
    Readiness,
    export_readiness,
    plan_export,
    record_export,
    run_export,
)
from studio.core.export.options import AAC_BITRATES, DEFAULT_BITRATE, MP3_BITRATES
from studio.core.export.plan import ExportPlan, safe_name
from studio.core.export.readalong import (
    ReadAlongPlan,
    ReadAlongResult,
    plan_read_along,
    run_read_along,
)
from studio.core.generation import Plan
from studio.core.model import ChapterId, Project, image_mime
from studio.core.store import ProjectStore
from studio.ui import commands
from studio.ui.background import BackgroundCall
from studio.ui.errors import show_error
from studio.ui.session import ProjectSession
from studio.ui.workers import GenerationController

SCOPES: Final = (("chapter", "Current chapter"), ("chosen", "Chosen chapters"),
                 ("book", "Whole book"))
FORMATS: Final = ((ExportFormat.MP3, "MP3"), (ExportFormat.WAV, "WAV"),
                  (ExportFormat.FLAC, "FLAC"), (ExportFormat.M4B, "M4B audiobook (AAC)"))
#: The format entry of the read-along book: an EPUB 3 of the text with the chapters' MP3s and
#: media overlays (:mod:`studio.core.export.readalong`), one ``.epub`` file.
READ_ALONG: Final = "epub3"
LAYOUTS: Final = ((Layout.PER_CHAPTER, "One file per chapter, in a folder"),
                  (Layout.SINGLE, "One file (chapter marks in M4B and MP3)"),
                  (Layout.ZIP, "One file per chapter, in a ZIP archive"))
MASTERING: Final = ((MasteringMode.ACX, "ACX: RMS target, peaks under −3 dB"),
                    (MasteringMode.LUFS, "Loudness target (LUFS)"),
                    (MasteringMode.OFF, "Off (the peak limiter only)"))
TARGETS: Final = {MasteringMode.ACX: (-20.0, -30.0, -10.0, " dB RMS"),
                  MasteringMode.LUFS: (-18.0, -40.0, -5.0, " LUFS")}
STAGES: Final = {"measuring": "Measuring", "encoding": "Encoding", "checking": "Checking",
                 "finishing": "Finishing"}
#: Project settings the dialog keeps for the next export (title and author are the project's).
KEPT_FIELDS: Final = ("narrator", "year", "isbn", "description")
_SUFFIXES: Final = {f.suffix for f in ExportFormat} | {".zip", ".epub"}


def select_data(combo: QComboBox, value: object) -> bool:
    """Make the item whose data is ``value`` current; return whether there is one."""
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)
    return index >= 0


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _size(size: int) -> str:
    return f"{size / 1024**2:.1f} MB" if size >= 1024**2 else f"{max(1, size // 1024)} KB"


def _strip_suffix(path: Path) -> Path:
    return path.with_suffix("") if path.suffix.lower() in _SUFFIXES else path


class ExportDialog(QDialog):
    """Export the open project (modeless: the window stays usable while files are written).

    Signals:
        exported(object): the :class:`~studio.core.export.ExportResult`, once recorded in the
            project.
        read_along_written(object): the
            :class:`~studio.core.export.readalong.ReadAlongResult` of a read-along EPUB.
    """

    exported = Signal(object)
    read_along_written = Signal(object)
    _progress = Signal(object)  # worker thread -> GUI thread (queued)

    def __init__(self, session: ProjectSession, controller: GenerationController | None,
                 current_chapter: ChapterId | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setObjectName("exportDialog")
        self.session = session
        self.controller = controller
        self.current_chapter = current_chapter
        self.last_result: ExportResult | None = None
        self.readiness: Readiness | None = None
        self._token: CancelToken | None = None
        self._pending: list[Plan] = []  # readiness plans still to convert before exporting
        self._converting = False
        self._exporting = False  # until the result (or the error) has been handled
        self._cover: bytes | None = None  # kept in the project (Project.cover) on export
        self._cover_name = ""
        self._auto_name = True  # the file name follows the scope until the user types one
        self._call = BackgroundCall(self)
        self._call.finished.connect(self._on_export_done)
        self._call.failed.connect(self._on_export_failed)
        self._progress.connect(self._on_progress)
        self._readiness_timer = QTimer(self)
        self._readiness_timer.setSingleShot(True)
        self._readiness_timer.setInterval(200)
        self._readiness_timer.timeout.connect(self.refresh_readiness)
        self._build()
        self._load_settings()
        self._fill_metadata()
        self._update_destination()
        self.refresh_readiness()
        session.changed.connect(self._on_session_changed)
        if controller is not None:
            controller.finished.connect(self._on_conversion_finished)
            controller.progress.connect(self._on_conversion_progress)

    # -- construction ------------------------------------------------------------------------

    @property
    def project(self) -> Project:
        return self.session.project

    def _build(self) -> None:
        # What and how.
        self.scope = QComboBox()
        for key, text in SCOPES:
            self.scope.addItem(text, key)
        self.chapter_list = QListWidget()
        self.chapter_list.setObjectName("exportChapters")
        self.chapter_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.chapter_list.setMaximumHeight(96)
        self.chapter_list.itemChanged.connect(self._on_scope_changed)
        self.scope.setCurrentIndex(0 if self.current_chapter is not None else 2)
        self.scope.currentIndexChanged.connect(self._on_scope_changed)
        self.format = QComboBox()
        for fmt, text in FORMATS:
            self.format.addItem(text, fmt.value)
        self.format.addItem("EPUB 3 read-along (text + narration)", READ_ALONG)
        self.quality = QComboBox()
        self.layout_box = QComboBox()
        for kind, text in LAYOUTS:
            self.layout_box.addItem(text, kind.value)
        self.mastering = QComboBox()
        for mode, text in MASTERING:
            self.mastering.addItem(text, mode.value)
        self.target_level = QDoubleSpinBox()
        self.target_level.setDecimals(1)
        self.target_level.setSingleStep(0.5)
        self.target_level.setToolTip("ACX asks for −23 to −18 dB RMS; podcasts and stores "
                                     "often use −16 to −19 LUFS")
        self._targets = {mode: default for mode, (default, *_rest) in TARGETS.items()}
        self.format.currentIndexChanged.connect(self._on_format_changed)
        self.layout_box.currentIndexChanged.connect(self._update_destination)
        self.mastering.currentIndexChanged.connect(self._on_mastering_changed)
        self.target_level.valueChanged.connect(self._on_target_changed)
        mastering_row = QHBoxLayout()
        mastering_row.addWidget(self.mastering, 1)
        mastering_row.addWidget(self.target_level)
        self.destination = QLineEdit()
        self.destination.setObjectName("exportDestination")
        self.destination.textEdited.connect(self._on_destination_edited)
        self.browse_button = QPushButton("Choose…")
        self.browse_button.clicked.connect(self.choose_destination)
        destination_row = QHBoxLayout()
        destination_row.addWidget(self.destination, 1)
        destination_row.addWidget(self.browse_button)

        what = QGroupBox("What and how")
        form = QFormLayout(what)
        form.addRow("Export:", self.scope)
        form.addRow("", self.chapter_list)
        form.addRow("Format:", self.format)
        form.addRow("Quality:", self.quality)
        form.addRow("Files:", self.layout_box)
        form.addRow("Mastering:", mastering_row)
        form.addRow("Save to:", destination_row)

        # Metadata.
        self.meta: dict[str, QLineEdit] = {}
        meta_box = QGroupBox("Metadata")
        meta_form = QFormLayout(meta_box)
        for key, label in (("title", "Title:"), ("author", "Author:"),
                           ("narrator", "Narrator:"), ("year", "Year:"), ("isbn", "ISBN:")):
            edit = QLineEdit()
            self.meta[key] = edit
            meta_form.addRow(label, edit)
        self.meta["title"].setToolTip("Written into the files; the project's title is changed "
                                      "in File ▸ Project Properties")
        self.description = QPlainTextEdit()
        self.description.setTabChangesFocus(True)
        self.description.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        meta_form.addRow("Description:", self.description)
        self.cover_label = QLabel("No cover")
        self.cover_label.setObjectName("exportCover")
        self.cover_label.setFixedSize(56, 56)
        self.cover_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cover_label.setFrameShape(QLabel.Shape.StyledPanel)
        self.cover_button = QPushButton("Choose…")
        self.cover_button.clicked.connect(lambda: self.set_cover(None, ask=True))
        self.cover_remove = QPushButton("Remove")
        self.cover_remove.clicked.connect(lambda: self.set_cover(None))
        cover_row = QHBoxLayout()
        cover_row.addWidget(self.cover_label)
        cover_row.addWidget(self.cover_button)
        cover_row.addWidget(self.cover_remove)
        cover_row.addStretch(1)
        meta_form.addRow("Cover:", cover_row)

        # Extras: credits and a retail sample.
        self.opening = QComboBox()
        self.closing = QComboBox()
        self._chapter_titles: list[tuple[ChapterId, str]] = []
        self._sync_chapters()
        self._name_current_chapter()
        for combo in (self.opening, self.closing):
            combo.currentIndexChanged.connect(self._on_scope_changed)
        self.opening.setToolTip("A chapter played first, as its own file (ACX: opening credits)")
        self.closing.setToolTip("A chapter played last, as its own file (ACX: closing credits)")
        self.sample = QCheckBox("Retail sample of")
        self.sample_seconds = QSpinBox()
        self.sample_seconds.setRange(30, 300)
        self.sample_seconds.setValue(180)
        self.sample_seconds.setSuffix(" s")
        self.sample_seconds.setEnabled(False)
        self.sample.toggled.connect(self.sample_seconds.setEnabled)
        self.sample.setToolTip("An extra file with the start of the first chapter "
                               "(ACX asks for 1 to 5 minutes)")
        sample_row = QHBoxLayout()
        sample_row.addWidget(self.sample)
        sample_row.addWidget(self.sample_seconds)
        sample_row.addStretch(1)
        extras = QGroupBox("Credits and sample")
        extras_form = QFormLayout(extras)
        extras_form.addRow("Opening credits:", self.opening)
        extras_form.addRow("Closing credits:", self.closing)
        extras_form.addRow("", sample_row)
        self.subtitles = QCheckBox("Subtitles beside each file:")
        self.subtitles_format = QComboBox()
        self.subtitles_format.addItems(["srt", "vtt"])
        self.subtitles.setToolTip("SRT or VTT cues timed to the exported audio itself")
        subtitles_row = QHBoxLayout()
        subtitles_row.addWidget(self.subtitles)
        subtitles_row.addWidget(self.subtitles_format)
        subtitles_row.addStretch(1)
        extras_form.addRow("", subtitles_row)

        left = QVBoxLayout()
        left.addWidget(what)
        left.addWidget(extras)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(meta_box)
        right.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)

        # Readiness.
        self.readiness_label = QLabel()
        self.readiness_label.setObjectName("exportReadiness")
        self.readiness_label.setWordWrap(True)
        self.convert_first = QRadioButton("Convert them first, then export")
        self.export_as_is = QRadioButton("Export without them")
        self.convert_first.setChecked(True)
        choice_row = QHBoxLayout()
        choice_row.addWidget(self.convert_first)
        choice_row.addWidget(self.export_as_is)
        choice_row.addStretch(1)
        self.convert_choice = QWidget()
        self.convert_choice.setLayout(choice_row)
        choice_row.setContentsMargins(0, 0, 0, 0)

        # Progress and results.
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p%")
        self.progress.setVisible(False)  # until the first conversion or export
        self.status = QLabel()
        self.status.setObjectName("exportStatus")
        self.status.setWordWrap(True)
        self.results = QTreeWidget()
        self.results.setObjectName("exportResults")
        self.results.setColumnCount(4)
        self.results.setHeaderLabels(["File / ACX check", "Measured", "ACX requirement",
                                      "Result"])
        self.results.setRootIsDecorated(True)
        self.results.setUniformRowHeights(True)
        header = self.results.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.results.setMinimumHeight(150)
        self.reports_label = QLabel()
        self.reports_label.setObjectName("exportReports")
        self.reports_label.setWordWrap(True)
        self.reports_label.setOpenExternalLinks(True)
        self.reports_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextBrowserInteraction)
        self.results_box = QGroupBox("Results")
        results_layout = QVBoxLayout(self.results_box)
        results_layout.addWidget(self.results, 1)
        results_layout.addWidget(self.reports_label)
        self.results_box.setVisible(False)

        # Buttons.
        self.open_folder_button = QPushButton("Open Folder")
        self.open_folder_button.setEnabled(False)
        self.open_folder_button.clicked.connect(self.open_folder)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(self.readiness_label)
        layout.addWidget(self.convert_choice)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.results_box, 1)
        layout.addLayout(buttons)
        self._settings_widgets = [what, meta_box, extras, self.convert_choice]
        self._on_scope_changed()

    def _sync_chapters(self) -> None:
        """Fill the chapter list and the credits choices from the project (keeping choices)."""
        titles = [(c.id, c.title) for c in self.project.chapters]
        if titles == self._chapter_titles:
            return
        first = not self._chapter_titles
        checked = {ChapterId(self.chapter_list.item(i).data(Qt.ItemDataRole.UserRole))
                   for i in range(self.chapter_list.count())
                   if self.chapter_list.item(i).checkState() == Qt.CheckState.Checked}
        if first and self.current_chapter is not None:
            checked = {self.current_chapter}
        self._chapter_titles = titles
        self.chapter_list.blockSignals(True)
        self.chapter_list.clear()
        for n, (chapter_id, title) in enumerate(titles, 1):
            item = QListWidgetItem(f"{n}. {title}")
            item.setData(Qt.ItemDataRole.UserRole, chapter_id)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if chapter_id in checked
                               else Qt.CheckState.Unchecked)
            self.chapter_list.addItem(item)
        self.chapter_list.blockSignals(False)
        for combo in (self.opening, self.closing):
            chosen = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("None", None)
            for n, (chapter_id, title) in enumerate(titles, 1):
                combo.addItem(f"{n}. {title}", chapter_id)
            select_data(combo, chosen)
            combo.blockSignals(False)

    def _on_session_changed(self, changes: object, _initiator: object) -> None:
        self._sync_chapters()
        if self.current_chapter is not None and all(
                c.id != self.current_chapter for c in self.project.chapters):
            self.current_chapter = None
        self._name_current_chapter()
        self._readiness_timer.start()

    def set_current_chapter(self, chapter_id: ChapterId | None) -> None:
        """Make ``chapter_id`` the chapter "Current chapter" exports."""
        if chapter_id == self.current_chapter:
            return
        self.current_chapter = chapter_id
        self._name_current_chapter()
        self._update_destination(rename=True)
        self.refresh_readiness()

    def _name_current_chapter(self) -> None:
        title = next((c.title for c in self.project.chapters if c.id == self.current_chapter),
                     None)
        self.scope.setItemText(0, f"Current chapter: {title}" if title else "Current chapter")

    # -- remembered choices ------------------------------------------------------------------

    def _load_settings(self) -> None:
        s = QSettings()
        fmt = str(s.value("export/format", ExportFormat.MP3.value))
        if not select_data(self.format, fmt):
            select_data(self.format, ExportFormat.MP3.value)
        self._on_format_changed()
        select_data(self.layout_box, str(s.value("export/layout", Layout.PER_CHAPTER.value)))
        for mode in TARGETS:
            value: Any = s.value(f"export/target_{mode.value}", self._targets[mode])
            with contextlib.suppress(TypeError, ValueError):
                self._targets[mode] = float(value)
        select_data(self.mastering, str(s.value("export/mastering", MasteringMode.ACX.value)))
        self._on_mastering_changed()
        folder = Path(str(s.value("export/folder", "") or ""))
        if not str(folder) or str(folder) == "." or not folder.is_dir():
            folder = self.session.store.path.parent
        self._folder = folder
        if self.project.cover:
            self._show_cover(self.project.cover, "Cover")

    def _save_settings(self, target: Path) -> None:
        s = QSettings()
        fmt = self.export_format()
        s.setValue("export/format", self.format.currentData())
        if fmt is ExportFormat.MP3:
            s.setValue("export/mp3_bitrate", self.quality.currentData())
        elif fmt is ExportFormat.M4B:
            s.setValue("export/aac_bitrate", self.quality.currentData())
        else:
            s.setValue("export/bit_depth", self.quality.currentData())
        s.setValue("export/layout", self.layout_box.currentData())
        s.setValue("export/mastering", self.mastering.currentData())
        for mode, value in self._targets.items():
            s.setValue(f"export/target_{mode.value}", value)
        folder = target.parent
        s.setValue("export/folder", str(folder))
        self._folder = folder

    def _fill_metadata(self) -> None:
        meta = Metadata.from_project(self.project)
        for key, edit in self.meta.items():
            edit.setText(str(getattr(meta, key)))
        self.description.setPlainText(meta.description)

    # -- choices -----------------------------------------------------------------------------

    @property
    def read_along(self) -> bool:
        """Return whether the format is the read-along EPUB 3 (its audio is MP3)."""
        return self.format.currentData() == READ_ALONG

    def export_format(self) -> ExportFormat:
        return ExportFormat.MP3 if self.read_along else ExportFormat(self.format.currentData())

    def export_layout(self) -> Layout:
        return Layout.SINGLE if self.read_along else Layout(self.layout_box.currentData())

    def _suffix(self) -> str:
        return ".epub" if self.read_along else self.export_format().suffix

    def _on_format_changed(self) -> None:
        fmt = self.export_format()
        self.layout_box.setEnabled(not self.read_along)
        s = QSettings()
        self.quality.clear()
        if fmt is ExportFormat.MP3:
            for kbps in MP3_BITRATES:
                self.quality.addItem(f"{kbps} kbps CBR" + (" (ACX)" if kbps == 192 else ""), kbps)
            wanted: Any = s.value("export/mp3_bitrate", DEFAULT_BITRATE[fmt])
        elif fmt is ExportFormat.M4B:
            for kbps in AAC_BITRATES:
                self.quality.addItem(f"AAC {kbps} kbps", kbps)
            wanted = s.value("export/aac_bitrate", DEFAULT_BITRATE[fmt])
        else:
            for bits in (16, 24):
                self.quality.addItem(f"{bits}-bit, 44.1 kHz", bits)
            wanted = s.value("export/bit_depth", 16)
        with contextlib.suppress(TypeError, ValueError):
            select_data(self.quality, int(wanted))
        self._update_destination()

    def _on_mastering_changed(self) -> None:
        mode = MasteringMode(self.mastering.currentData())
        spec = TARGETS.get(mode)
        self.target_level.setEnabled(spec is not None)
        if spec is None:
            self.target_level.setSuffix("")
            return
        _default, low, high, suffix = spec
        self.target_level.blockSignals(True)
        self.target_level.setRange(low, high)
        self.target_level.setSuffix(suffix)
        self.target_level.setValue(self._targets[mode])
        self.target_level.blockSignals(False)

    def _on_target_changed(self, value: float) -> None:
        mode = MasteringMode(self.mastering.currentData())
        if mode in self._targets:
            self._targets[mode] = value

    def chapters_in_scope(self) -> tuple[ChapterId, ...] | None:
        """Return the chapters to export (None: the whole book)."""
        kind = self.scope.currentData()
        if kind == "book":
            return None
        if kind == "chapter":
            return (self.current_chapter,) if self.current_chapter is not None else ()
        return tuple(
            ChapterId(item.data(Qt.ItemDataRole.UserRole))
            for i in range(self.chapter_list.count())
            if (item := self.chapter_list.item(i)).checkState() == Qt.CheckState.Checked
        )

    def _scope_chapters(self) -> list[ChapterId] | None:
        """Return the chapters readiness covers: the scope plus the credits chapters."""
        scope = self.chapters_in_scope()
        extra = [c for c in (self.opening.currentData(), self.closing.currentData()) if c]
        if scope is None:
            return None
        return [*scope, *extra]

    def _on_scope_changed(self, *_args: object) -> None:
        self.chapter_list.setVisible(self.scope.currentData() == "chosen")
        self._update_destination(rename=True)
        self._readiness_timer.start()

    def _scope_name(self) -> str:
        scope = self.chapters_in_scope()
        if scope is not None and len(scope) == 1:
            return safe_name(self.project.chapter(scope[0]).title)
        return safe_name(self.project.title or "Audiobook")

    def _on_destination_edited(self, _text: str) -> None:
        self._auto_name = False

    def _update_destination(self, *_args: object, rename: bool = False) -> None:
        """Give the destination the layout's shape: a folder, a file or a ZIP."""
        if not hasattr(self, "destination") or not hasattr(self, "_folder"):
            return
        text = self.destination.text().strip()
        current = Path(text) if text else self._folder / self._scope_name()
        if rename and self._auto_name:
            current = current.with_name(self._scope_name())
        base = _strip_suffix(current)
        layout = self.export_layout()
        if layout is Layout.PER_CHAPTER:
            path = base
        elif layout is Layout.ZIP:
            path = base.with_name(base.name + ".zip")
        else:
            path = base.with_name(base.name + self._suffix())
        self.destination.setText(str(path))

    def set_destination(self, path: str | Path) -> None:
        """Export to ``path`` (a folder for one file per chapter, else a file)."""
        self._auto_name = False
        self.destination.setText(str(path))
        self._update_destination()

    def choose_destination(self) -> None:
        current = self.target()
        if self.export_layout() is Layout.PER_CHAPTER:
            chosen = QFileDialog.getExistingDirectory(
                self, "Export the chapters into", str(current.parent))
        else:
            suffix = ".zip" if self.export_layout() is Layout.ZIP else self._suffix()
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Export to", str(current), f"{suffix[1:].upper()} (*{suffix})")
        if chosen:
            self.set_destination(chosen)

    def target(self) -> Path:
        return Path(self.destination.text().strip()).expanduser()

    def set_cover(self, path: Path | None, ask: bool = False, quiet: bool = False) -> bool:
        """Use the image at ``path`` as cover art (``ask``: choose a file; ``None``: no cover);
        return success. The cover is kept in the project when the export starts."""
        data: bytes | None = None
        if ask:
            chosen, _ = QFileDialog.getOpenFileName(
                self, "Cover image", str(self._folder), "Images (*.jpg *.jpeg *.png)")
            if not chosen:
                return False
            path = Path(chosen)
        if path is not None:
            try:
                data = Metadata().with_cover_file(path).cover
            except ExportError as exc:
                if not quiet:
                    show_error(self, exc)
                return False
        self._show_cover(data, path.name if path is not None else "")
        return True

    def cover(self) -> bytes | None:
        """Return the cover image the export will embed."""
        return self._cover

    def _show_cover(self, data: bytes | None, name: str) -> None:
        self._cover = data
        self._cover_name = name
        pixmap = QPixmap()
        if data is not None:
            pixmap.loadFromData(data)
        if pixmap.isNull():
            self.cover_label.setPixmap(QPixmap())
            self.cover_label.setText("No cover" if data is None else name)
        else:
            self.cover_label.setPixmap(pixmap.scaled(
                self.cover_label.size(), Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))
        self.cover_label.setToolTip(name)
        self.cover_remove.setEnabled(data is not None)

    def options(self, allow_missing: bool = False) -> ExportOptions:
        """Return the export the dialog describes.

        Raises:
            ExportError: the cover image cannot be read.
        """
        fmt = self.export_format()
        mode = MasteringMode(self.mastering.currentData())
        if mode is MasteringMode.ACX:
            mastering = Mastering(target=self._targets[mode])
        elif mode is MasteringMode.LUFS:
            mastering = Mastering.lufs(self._targets[mode])
        else:
            mastering = Mastering.off()
        fields = {k: e.text().strip() for k, e in self.meta.items()}
        metadata = Metadata.from_project(self.project, **fields,
                                         description=self.description.toPlainText().strip())
        if self._cover is not None:
            metadata = dataclasses.replace(metadata, cover=self._cover,
                                           cover_mime=image_mime(self._cover))
        else:
            metadata = dataclasses.replace(metadata, cover=None, cover_mime="")
        quality = int(self.quality.currentData())
        lossy = fmt in (ExportFormat.MP3, ExportFormat.M4B)
        return ExportOptions(
            format=fmt,
            layout=self.export_layout(),
            chapters=self.chapters_in_scope(),
            bitrate_kbps=quality if lossy else None,
            bit_depth=16 if lossy else quality,
            mastering=mastering,
            opening_credits=self.opening.currentData(),
            closing_credits=self.closing.currentData(),
            retail_sample_s=float(self.sample_seconds.value()) if self.sample.isChecked()
            else None,
            allow_missing=allow_missing,
            metadata=metadata,
            subtitles=self.subtitles_format.currentText() if self.subtitles.isChecked()
            else None,
        )

    # -- readiness ---------------------------------------------------------------------------

    def refresh_readiness(self) -> Readiness | None:
        """Say how many paragraphs in scope lack audio and what converting them costs."""
        from studio.core.settings import load_settings

        self._readiness_timer.stop()
        chapters = self._scope_chapters()
        if chapters is not None and not chapters:
            self.readiness = None
            self.readiness_label.setText("Choose at least one chapter to export.")
            self.convert_choice.setVisible(False)
            return None
        try:
            readiness = export_readiness(self.project, chapters,
                                         output_format=load_settings().output_format)
        except StudioError as exc:
            self.readiness = None
            self.readiness_label.setText(str(exc))
            self.convert_choice.setVisible(False)
            return None
        self.readiness = readiness
        text = readiness.describe()
        if readiness.problems:
            text += " " + "; ".join(readiness.problems[:2]) + "."
        self.readiness_label.setText(text)
        if readiness.to_convert:
            self.export_as_is.setText("Export without them" if not readiness.ready
                                      else "Export the older audio as it is")
        self.convert_choice.setVisible(bool(readiness.to_convert) and not self.running)
        return readiness

    # -- running -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Return whether paragraphs are being converted or files written for this dialog."""
        return self._converting or self._exporting

    def _set_busy(self, busy: bool) -> None:
        for widget in self._settings_widgets:
            widget.setEnabled(not busy)
        self.export_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        if busy:
            self.progress.setValue(0)
            self.progress.setVisible(True)

    def start_export(self) -> None:
        """Export as the dialog describes (converting missing paragraphs first if chosen)."""
        if self.running:
            return
        readiness = self.refresh_readiness()
        if readiness is None:
            show_error(self, ExportError(self.readiness_label.text()))
            return
        if readiness.to_convert and self.convert_first.isChecked():
            self._convert_then_export(readiness)
            return
        self._export_now(allow_missing=not readiness.ready)

    def _export_now(self, allow_missing: bool) -> None:
        target = self.target()
        if not str(self.destination.text()).strip():
            show_error(self, ExportError("choose where to save the export"))
            return
        book: ReadAlongPlan | None = None
        try:
            options = self.options(allow_missing=allow_missing)
            if self.read_along:
                book = plan_read_along(
                    self.project, target, chapters=options.chapters,
                    bitrate_kbps=options.bitrate_kbps or 128, mastering=options.mastering,
                    allow_missing=allow_missing, metadata=options.metadata)
                plan = book.audio
            else:
                plan = plan_export(self.project, options, target)
        except StudioError as exc:
            show_error(self, exc)
            return
        if not self._confirm_replace(plan if book is None else None):
            return
        self._save_settings(target)
        self._keep_metadata()
        self._token = CancelToken()
        token = self._token
        store_path = self.session.store.path
        emit = self._progress.emit

        def progress(p: ExportProgress) -> None:
            with contextlib.suppress(RuntimeError):  # the dialog was deleted meanwhile
                emit(p)

        def work() -> ExportResult | ReadAlongResult:
            # The worker reads takes through its own read-only connection: the session's
            # store belongs to the GUI thread, which may keep saving edits meanwhile.
            store = ProjectStore.open(store_path, read_only=True)
            try:
                if book is not None:
                    return run_read_along(book, store.load_take_audio, progress, token)
                return run_export(plan, store.load_take_audio, progress, token)
            finally:
                store.close()

        self.last_result = None
        self.results_box.setVisible(False)
        self.open_folder_button.setEnabled(False)
        self._set_busy(True)
        self._exporting = True
        self.convert_choice.setVisible(False)
        self.status.setText(f"Exporting {len(plan.files)} file"
                            f"{'s' if len(plan.files) != 1 else ''} to {target}…")
        self._call.start(work)

    def _confirm_replace(self, plan: ExportPlan | None) -> bool:
        """Ask before replacing files (``plan`` None: the read-along book at the target)."""
        target = plan.target if plan is not None else self.target()
        if plan is None:
            existing = [target.name] if target.exists() else []
        elif plan.options.layout is Layout.PER_CHAPTER:
            existing = [f.name for f in plan.files if (target / f.name).exists()]
        else:
            existing = [target.name] if target.exists() else []
        if not existing:
            return True
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        answer = QMessageBox.question(
            self, "Replace files?",
            f"{existing[0]}{more} already exist{'s' if not more else ''} in "
            f"{target if plan and plan.options.layout is Layout.PER_CHAPTER else target.parent}. "
            "Replace them?")
        return answer == QMessageBox.StandardButton.Yes

    def _keep_metadata(self) -> None:
        """Keep narrator, year, ISBN, description and cover in the project for the next
        export."""
        settings = dict(self.project.settings)
        wanted: dict[str, str] = {k: self.meta[k].text().strip() for k in KEPT_FIELDS
                                  if k in self.meta}
        wanted["description"] = self.description.toPlainText().strip()
        fields: dict[str, Any] = {}
        if any(str(settings.get(k) or "") != v for k, v in wanted.items()):
            settings.update(wanted)
            fields["settings"] = settings
        if self._cover != self.project.cover:
            fields["cover"] = self._cover
        if not fields:
            return
        try:
            self.session.push(commands.set_project_meta(self.session, **fields))
        except StudioError as exc:  # the export goes on; only the memory of the fields is lost
            self.status.setText(f"The metadata was not kept in the project: {exc}")

    def _on_progress(self, progress: object) -> None:
        assert isinstance(progress, ExportProgress)
        if self._token is None:  # a late report of an export that has ended
            return
        self.progress.setValue(round(progress.fraction * 1000))
        stage = STAGES.get(progress.stage, progress.stage.title())
        where = f" (file {progress.file_index} of {progress.files})" if progress.files > 1 else ""
        self.status.setText(f"{stage} {progress.file}{where}…")

    def _on_export_done(self, result: object) -> None:
        if isinstance(result, ReadAlongResult):
            self._on_read_along_done(result)
            return
        assert isinstance(result, ExportResult)
        self._exporting = False
        self._set_busy(False)
        self._token = None
        self.last_result = result
        try:
            self.session.apply(record_export(self.project, result))
        except StudioError as exc:
            show_error(self, exc)
        self.progress.setValue(1000)
        count = len(result.files)
        self.status.setText(
            f"Exported {count} file{'s' if count != 1 else ''} "
            f"({_duration(result.duration_s)}) in {result.seconds:.1f} s.")
        self._show_results(result)
        self.refresh_readiness()
        self.exported.emit(result)

    def _on_read_along_done(self, result: ReadAlongResult) -> None:
        """Say what the read-along book holds (it is one file, not recorded as an export)."""
        self._exporting = False
        self._set_busy(False)
        self._token = None
        self.progress.setValue(1000)
        sentences = sum(c.sentences for c in result.chapters)
        self.status.setText(
            f"Wrote {result.target.name}: a read-along EPUB 3 of {len(result.chapters)} "
            f"chapter{'s' if len(result.chapters) != 1 else ''}, {sentences} synchronised "
            f"sentences ({_duration(result.duration_s)}) in {result.seconds:.1f} s.")
        self.refresh_readiness()
        self.read_along_written.emit(result)

    def _on_export_failed(self, error: object) -> None:
        self._exporting = False
        self._set_busy(False)
        self._token = None
        self.progress.setValue(0)
        self.refresh_readiness()
        if isinstance(error, Cancelled):
            self.status.setText("Export cancelled; nothing was written.")
            return
        self.status.setText("The export failed; nothing was written.")
        if isinstance(error, OSError) and not isinstance(error, StudioError):
            error = ExportError(f"{error.filename or self.target()}: "
                                f"{error.strerror or error}")
        assert isinstance(error, BaseException)
        show_error(self, error)

    def cancel(self) -> None:
        """Stop the conversion or the export under way (nothing is written)."""
        if self._converting and self.controller is not None:
            self._pending.clear()
            self.controller.stop()
            self.status.setText("Stopping the conversion after the requests under way…")
        elif self._token is not None:
            self._token.cancel()
            self.status.setText("Cancelling…")
        self.cancel_button.setEnabled(False)

    def cancel_and_wait(self, timeout: float = 15.0) -> None:
        """Cancel an export under way and wait for its worker (the project is closing)."""
        self._pending.clear()
        self._converting = False
        if self._token is not None:
            self._token.cancel()
        self._call.discard()  # its result must not reach a project that is closing
        self._call.wait(timeout)
        self._token = None
        self._exporting = False

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._converting:  # the conversion goes on in the window; the export is dropped
            self._end_conversion("The export was dropped when the dialog closed.")
        if self._exporting:
            answer = QMessageBox.question(
                self, "Export is running", "Files are still being written. Cancel the export "
                "and close? Nothing is written.")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.cancel_and_wait()
            self._set_busy(False)
            self.status.setText("Export cancelled; nothing was written.")
        super().closeEvent(event)

    def reject(self) -> None:  # Escape: close the same way
        self.close()

    # -- converting first --------------------------------------------------------------------

    def _convert_then_export(self, readiness: Readiness) -> None:
        from studio.core.settings import load_settings

        controller = self.controller
        if controller is None:
            show_error(self, ExportError("the project cannot be converted from here"))
            return
        if controller.running:
            show_error(self, ExportError("narration is being generated; export when it "
                                         "has finished"))
            return
        self._restore_matching_takes(readiness)
        readiness = self.refresh_readiness() or readiness
        plans = [p for p in readiness.plans if p.jobs]
        if not readiness.to_convert:
            self._export_now(allow_missing=False)
            return
        if not plans:
            problem = readiness.problems[0] if readiness.problems else (
                "nothing can be converted")
            show_error(self, ExportError(f"{readiness.describe()} But {problem}."))
            return
        paid = [p for p in plans if p.engine != "offline"]
        if paid:
            settings = load_settings()
            characters = sum(p.characters for p in paid)
            credits = sum(p.credits for p in paid)
            paragraphs = sum(p.paragraphs for p in paid)
            answer = QMessageBox.question(
                self, "Convert, then export",
                f"Convert {paragraphs} paragraphs with ElevenLabs "
                f"({settings.plan or 'your'} plan) before exporting?\n\n"
                f"{characters:,} characters, about {credits:,} credits.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._pending = plans
        self._converting = True
        self._set_busy(True)
        self.convert_choice.setVisible(False)
        self.results_box.setVisible(False)
        self._start_next_plan()

    def _restore_matching_takes(self, readiness: Readiness) -> None:
        """Make older takes that match the text and voice current again (free, undoable)."""
        reused = [pair for plan in readiness.plans for pair in plan.reused]
        if not reused:
            return
        stack = self.session.undo_stack
        stack.beginMacro(f"Restore {len(reused)} matching takes")
        try:
            for block_id, take_id in reused:
                self.session.push(commands.restore_take(self.session, block_id, take_id))
        finally:
            stack.endMacro()

    def _start_next_plan(self) -> None:
        from studio.core.engines.select import PLAN_CONCURRENCY, build_engine
        from studio.core.settings import load_settings

        assert self.controller is not None
        if self.controller.running:  # the window started a render it had queued
            self._end_conversion("Another render started; export when it has finished.")
            return
        plan = self._pending.pop(0)
        settings = load_settings()
        try:
            engine = build_engine(plan.engine, settings, for_render=True)
        except StudioError as exc:
            self._end_conversion(f"Nothing was exported: {exc}")
            show_error(self, exc)
            return
        concurrency = 1 if plan.engine == "offline" else (
            settings.concurrency or PLAN_CONCURRENCY.get(settings.plan, 2))
        self.status.setText(f"Converting {plan.paragraphs} paragraphs…")
        self.controller.start(plan, engine, concurrency=concurrency)

    def _end_conversion(self, message: str) -> None:
        self._converting = False
        self._pending.clear()
        self._set_busy(False)
        self.progress.setValue(0)
        self.status.setText(message)
        self.refresh_readiness()

    def _on_conversion_progress(self, progress: object) -> None:
        from studio.core.scheduler import Progress

        if not self._converting or not isinstance(progress, Progress):
            return
        self.progress.setValue(round(progress.fraction * 1000))
        self.status.setText(f"Converting paragraph {progress.jobs_done} of "
                            f"{progress.jobs_total}…")

    def _on_conversion_finished(self, summary: object) -> None:
        from studio.core.scheduler import RunSummary

        if not self._converting or not isinstance(summary, RunSummary):
            return
        if summary.fatal is not None:
            self._end_conversion("The conversion stopped; nothing was exported.")
            show_error(self, summary.fatal)
        elif summary.failed:
            first = next(iter(summary.failed.items()))
            where = self._describe_block(first[0])
            self._end_conversion(
                f"{len(summary.failed)} paragraphs could not be converted (first: {where}: "
                f"{first[1]}); nothing was exported.")
        elif summary.cancelled or summary.skipped:
            self._end_conversion("The conversion was stopped; nothing was exported.")
        elif self._pending:
            self._start_next_plan()
        else:
            self._converting = False
            readiness = self.refresh_readiness()
            if readiness is None or not readiness.ready:
                self._end_conversion("Some paragraphs still have no audio; nothing was "
                                     "exported.")
                return
            self._export_now(allow_missing=False)

    def _describe_block(self, block_id: Any) -> str:
        for n, chapter in enumerate(self.project.chapters, 1):
            for index, block in enumerate(chapter.blocks, 1):
                if block.id == block_id:
                    return f"chapter {n} '{chapter.title}' ¶{index}"
        return "a paragraph"

    # -- results -----------------------------------------------------------------------------

    def _show_results(self, result: ExportResult) -> None:
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        red = QColor("#ff6b6b" if dark else "#c62828")
        green = QColor("#81c784" if dark else "#2e7d32")
        self.results.clear()
        for f in result.files:
            report = f.acx
            if report is None:
                verdict = "not checked"
            elif report.passed:
                verdict = "✓ passes"
            else:
                verdict = f"✗ {len(report.failures)} failed"
            item = QTreeWidgetItem([f.name, f"{_duration(f.duration_s)} · {_size(f.size)}",
                                    "", verdict])
            item.setToolTip(0, str(f.path))
            if report is not None:
                item.setForeground(3, green if report.passed else red)
                for check in report.checks:
                    child = QTreeWidgetItem([check.name, check.value, check.limit,
                                             "✓ pass" if check.passed else "✗ fail"])
                    colour = green if check.passed else red
                    child.setForeground(3, colour)
                    if not check.passed:
                        for column in range(3):
                            child.setForeground(column, red)
                    item.addChild(child)
            self.results.addTopLevelItem(item)
            item.setExpanded(report is not None and (not report.passed or len(result.files) == 1))
        lines = []
        passed = result.acx_passed
        checked = [f for f in result.files if f.acx is not None]
        if passed is True:
            lines.append(f"Every file passes ACX's checks ({len(checked)} checked).")
        elif passed is False:
            failing = sum(1 for f in checked if f.acx is not None and not f.acx.passed)
            lines.append(f"{failing} of {len(checked)} files fail an ACX check (in red).")
            if result.record.format != ExportFormat.MP3.value:
                lines[-1] += " ACX takes MP3 files only; the other checks still say how the " \
                             "audio measures."
        if result.reports:
            links = " · ".join(
                f'<a href="{QUrl.fromLocalFile(str(p)).toString()}">{html.escape(p.name)}</a>'
                for p in result.reports)
            lines.append(f"ACX report: {links}")
        lines.extend(f"⚠ {html.escape(w)}" for w in result.warnings)
        self.reports_label.setText("<br>".join(lines))
        self.results_box.setVisible(True)
        self.open_folder_button.setEnabled(True)
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow to show the results without squeezing the choices (within the screen)."""
        wanted = self.sizeHint().height()
        screen = self.screen()
        area = screen.availableGeometry() if screen is not None else None
        if area is not None:
            wanted = min(wanted, area.height() - 60)
        if self.height() < wanted:
            self.resize(self.width(), wanted)
        if area is not None:  # grown past the bottom of the screen: move up to keep the
            frame = self.frameGeometry()  # buttons on it
            if frame.bottom() > area.bottom():
                self.move(frame.x(), max(area.top(), area.bottom() - frame.height()))

    def result_folder(self) -> Path | None:
        """Return the folder holding the last export's files."""
        if self.last_result is None:
            return None
        target = self.last_result.target
        return target if self.last_result.files and target.is_dir() else target.parent

    def open_folder(self) -> None:
        folder = self.result_folder()
        if folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
