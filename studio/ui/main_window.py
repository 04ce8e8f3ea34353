"""The main window: chapters on the left, the chapter's paragraphs in the centre."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QRect, QSettings, QSize, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QLabel,
    QListView,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from studio import __version__
from studio.core.errors import StudioError
from studio.core.importing import FORMATS
from studio.core.model import BlockStatus, Project, project_info
from studio.core.store import SUFFIX, ProjectStore
from studio.ui.errors import show_error
from studio.ui.models import STATUS_ROLE, BlockListModel, ChapterListModel

MAX_RECENT = 8
_STATUS_COLOURS = {
    BlockStatus.UNCONVERTED: QColor(200, 200, 200),
    BlockStatus.CONVERTED: QColor(40, 90, 160),
    BlockStatus.STALE: QColor(220, 150, 30),
}


class BlockDelegate(QStyledItemDelegate):
    """Paint a paragraph with a status bar at its left and its text wrapped."""

    BAR = 5
    PAD = 8

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        rect: QRect = option.rect  # type: ignore[attr-defined]
        palette: QPalette = option.palette  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        if selected:
            painter.fillRect(rect, palette.highlight())
        status = index.data(STATUS_ROLE)
        painter.fillRect(
            QRect(rect.left() + 2, rect.top() + 3, self.BAR, rect.height() - 6),
            _STATUS_COLOURS.get(status, QColor(200, 200, 200)),
        )
        text_rect = rect.adjusted(self.BAR + self.PAD + 2, self.PAD // 2, -self.PAD, -self.PAD // 2)
        painter.setPen(palette.highlightedText().color() if selected else palette.text().color())
        painter.drawText(text_rect, int(Qt.TextFlag.TextWordWrap), index.data() or "")
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        width = max(200, option.rect.width() or 600)  # type: ignore[attr-defined]
        metrics = option.fontMetrics  # type: ignore[attr-defined]
        text_width = width - self.BAR - 2 * self.PAD - 2
        bounds = metrics.boundingRect(
            QRect(0, 0, text_width, 100_000), int(Qt.TextFlag.TextWordWrap), index.data() or ""
        )
        return QSize(width, bounds.height() + self.PAD)


class MainWindow(QMainWindow):
    """The studio window showing one project.

    Signals: none yet; later issues add the session's ``changed`` signal.
    """

    def __init__(self) -> None:
        super().__init__()
        self.store: ProjectStore | None = None
        self.project: Project | None = None
        self.setObjectName("MainWindow")
        self.chapters_model = ChapterListModel()
        self.blocks_model = BlockListModel()
        self._build()
        self._update_title()
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1180, 760)

    # -- construction ------------------------------------------------------------------------

    def _build(self) -> None:
        self.chapter_view = QListView()
        self.chapter_view.setObjectName("chapters")
        self.chapter_view.setModel(self.chapters_model)
        self.chapter_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.chapter_view.selectionModel().currentRowChanged.connect(self._on_chapter_changed)

        self.chapter_header = QLabel()
        self.chapter_header.setObjectName("chapterHeader")
        font = self.chapter_header.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.chapter_header.setFont(font)
        self.chapter_header.setContentsMargins(8, 6, 8, 6)

        self.block_view = QListView()
        self.block_view.setObjectName("paragraphs")
        self.block_view.setModel(self.blocks_model)
        self.block_view.setItemDelegate(BlockDelegate(self.block_view))
        self.block_view.setWordWrap(True)
        self.block_view.setSpacing(2)
        self.block_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.block_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.block_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

        centre = QWidget()
        layout = QVBoxLayout(centre)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.chapter_header)
        layout.addWidget(self.block_view)

        splitter = QSplitter()
        splitter.addWidget(self.chapter_view)
        splitter.addWidget(centre)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([280, 900])
        self.setCentralWidget(splitter)

        self.engine_label = QLabel("Engine: offline (espeak-ng)")
        self.statusBar().addPermanentWidget(self.engine_label)
        self._build_menus()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.import_action = QAction("&Import Manuscript…", self)
        self.import_action.setShortcut(QKeySequence.StandardKey.New)
        self.import_action.triggered.connect(self._on_import)
        self.open_action = QAction("&Open Project…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self._on_open)
        self.save_as_action = QAction("Save Project &As…", self)
        self.save_as_action.setShortcut(QKeySequence.StandardKey.SaveAs)
        self.save_as_action.triggered.connect(self._on_save_as)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addActions([self.import_action, self.open_action])
        file_menu.insertMenu(self.save_as_action, self.recent_menu)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.save_as_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Narrator Studio", self)
        about.triggered.connect(self._on_about)
        help_menu.addAction(about)
        self._refresh_recent()

    # -- project -------------------------------------------------------------------------------

    def open_project(self, path: Path) -> None:
        """Open the project at ``path`` (closing the current one)."""
        store = ProjectStore.open(path)
        try:
            project = store.load()
        except BaseException:
            store.close()
            raise
        self._close_store()
        self.store, self.project = store, project
        self.chapters_model.set_project(project)
        if project.chapters:
            self.chapter_view.setCurrentIndex(self.chapters_model.index(0))
        else:
            self.blocks_model.set_chapter(project, None)
        self._remember_recent(path)
        self._update_title()
        self._update_status()

    def _close_store(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def _update_title(self) -> None:
        if self.project is None:
            self.setWindowTitle("Narrator Studio")
        else:
            self.setWindowTitle(f"{self.project.title}[*] — Narrator Studio")

    def _update_status(self) -> None:
        if self.project is None:
            self.statusBar().clearMessage()
            return
        info = project_info(self.project)
        self.statusBar().showMessage(
            f"{len(info['chapters'])} chapters · {info['paragraphs']} paragraphs · "
            f"{info['words']:,} words · {info['characters_to_generate']:,} characters to generate"
        )

    def _on_chapter_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        chapter = self.chapters_model.chapter(current.row())
        self.blocks_model.set_chapter(self.project, chapter)
        if chapter is None:
            self.chapter_header.setText("")
        else:
            self.chapter_header.setText(chapter.title)

    # -- actions -------------------------------------------------------------------------------

    def _on_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open Project", "", f"Narrator Studio projects (*{SUFFIX})"
        )
        if path:
            self._open_or_report(Path(path))

    def _open_or_report(self, path: Path) -> None:
        try:
            self.open_project(path)
        except StudioError as exc:
            show_error(self, exc)

    def _on_import(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in FORMATS)
        source, _ = QFileDialog.getOpenFileName(
            self, "Import Manuscript", "", f"Manuscripts ({patterns})"
        )
        if not source:
            return
        target, _ = QFileDialog.getSaveFileName(
            self,
            "Save New Project As",
            str(Path(source).with_suffix(SUFFIX)),
            f"Narrator Studio projects (*{SUFFIX})",
        )
        if not target:
            return
        self.import_manuscript(Path(source), Path(target))

    def import_manuscript(self, source: Path, target: Path) -> None:
        """Import ``source`` into a new project at ``target`` and open it."""
        from studio.core.importing import import_source

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            project, report = import_source(source)
            ProjectStore.create(target, project, overwrite=target.exists()).close()
        except StudioError as exc:
            QApplication.restoreOverrideCursor()
            show_error(self, exc)
            return
        QApplication.restoreOverrideCursor()
        self.open_project(target)
        if report.warnings or report.skipped:
            box = QMessageBox(self)
            box.setWindowTitle("Import report")
            box.setText(
                f"Imported {len(report.chapters)} chapters, {report.paragraphs} paragraphs."
            )
            box.setDetailedText(report.to_text())
            box.show()

    def _on_save_as(self) -> None:
        if self.store is None:
            return
        target, _ = QFileDialog.getSaveFileName(
            self, "Save Project As", str(self.store.path), f"Narrator Studio projects (*{SUFFIX})"
        )
        if not target:
            return
        try:
            new_store = self.store.save_as(Path(target), overwrite=Path(target).exists())
        except StudioError as exc:
            show_error(self, exc)
            return
        self._close_store()
        self.store = new_store
        self._remember_recent(Path(target))

    def _on_about(self) -> None:
        QMessageBox.about(
            self,
            "About Narrator Studio",
            f"<b>Narrator Studio {__version__}</b><p>Narrate books with AI voices.</p>"
            "<p>Licensed under the GNU GPL, version 3 or later.</p>",
        )

    # -- recent projects -------------------------------------------------------------------

    def _recent(self) -> list[str]:
        value = QSettings().value("recent/projects", [])
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value or []]

    def _remember_recent(self, path: Path) -> None:
        items = [str(path.resolve())] + [p for p in self._recent() if p != str(path.resolve())]
        QSettings().setValue("recent/projects", items[:MAX_RECENT])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        recent = self._recent()
        for item in recent:
            action = self.recent_menu.addAction(Path(item).name)
            action.setToolTip(item)
            action.triggered.connect(lambda _=False, p=item: self._open_or_report(Path(p)))
        self.recent_menu.setEnabled(bool(recent))

    # -- closing ---------------------------------------------------------------------------------

    def closeEvent(self, event: object) -> None:
        QSettings().setValue("window/geometry", self.saveGeometry())
        self._close_store()
        super().closeEvent(event)  # type: ignore[arg-type]
