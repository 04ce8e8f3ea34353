"""The main window: chapters on the left, the chapter's paragraphs in the centre."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QUndoGroup
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QListView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio import __version__
from studio.core.engines import EngineVoice
from studio.core.errors import StudioError
from studio.core.generation import Plan
from studio.core.importing import FORMATS
from studio.core.model import BlockId, Project
from studio.core.store import SUFFIX, ProjectStore
from studio.ui import commands
from studio.ui.background import BackgroundCall
from studio.ui.delegates import BlockDelegate
from studio.ui.editor_actions import install_editor_actions
from studio.ui.errors import show_error
from studio.ui.export_dialog import ExportDialog
from studio.ui.find_replace import install_find_replace
from studio.ui.models import BlockListModel
from studio.ui.panels import add_side_dock
from studio.ui.panels.chapters import ChapterOrderModel, ChaptersPanel
from studio.ui.panels.history import HistoryPanel
from studio.ui.panels.queue import QueuePanel
from studio.ui.panels.voices import VoicesPanel
from studio.ui.paragraph_view import ParagraphListView
from studio.ui.player import OutputSink
from studio.ui.player_bar import PlayerBar
from studio.ui.session import ProjectSession
from studio.ui.theme import add_theme_menu
from studio.ui.voice_colours import set_voice_order
from studio.ui.waveform import WaveformView
from studio.ui.workers import GenerationController, GenerationScope

MAX_RECENT = 8
#: Scopes of this many paragraphs or more are planned on a worker thread: planning costs
#: some 40 µs a paragraph, so 5,000 would hold the window still for a fifth of a second.
PLAN_IN_BACKGROUND_FROM = 1000


class MainWindow(QMainWindow):
    """The studio window showing one project.

    Signals: none yet; later issues add the session's ``changed`` signal.
    """

    def __init__(self, player_sink: OutputSink | None = None) -> None:
        super().__init__()
        self._player_sink = player_sink
        self.session: ProjectSession | None = None
        self.controller: GenerationController | None = None
        # What to do once the render being stopped has ended (close, open another project).
        self._after_stop: Callable[[], None] | None = None
        self.export_dialog: ExportDialog | None = None
        self._last_spoken: frozenset[str] = frozenset()
        self.setObjectName("MainWindow")
        self.chapters_model = ChapterOrderModel()
        self.blocks_model = BlockListModel()
        self.undo_group = QUndoGroup(self)  # the open project's stack is the active one
        self._status_timer = QTimer(self)
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(250)
        self._status_timer.timeout.connect(self._update_status)
        # During a render takes arrive one by one: redraw the waveform at most ~3 times a
        # second, not per take (a 5,000-paragraph chapter takes ~0.25 s to lay out).
        self._waveform_timer = QTimer(self)
        self._waveform_timer.setSingleShot(True)
        self._waveform_timer.setInterval(300)
        self._waveform_timer.timeout.connect(self._refresh_waveform)
        self._build()
        self._update_title()
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:  # first run: most of the screen
            screen = QGuiApplication.primaryScreen()
            area = screen.availableGeometry() if screen is not None else None
            if area is None or area.width() < 200:
                self.resize(1180, 760)
            else:
                self.resize(min(1600, area.width() - 40), min(1000, area.height() - 40))
        state = settings.value("window/state")
        if state is None or not self.restoreState(state):
            self._default_layout()

    # -- construction ------------------------------------------------------------------------

    def _build(self) -> None:
        self.chapters_panel = ChaptersPanel(self.chapters_model)
        self.chapter_view = self.chapters_panel.view
        self.chapter_view.selectionModel().currentRowChanged.connect(self._on_chapter_changed)

        self.chapter_header = QLabel()
        self.chapter_header.setObjectName("chapterHeader")
        font = self.chapter_header.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.chapter_header.setFont(font)
        self.chapter_header.setContentsMargins(8, 6, 8, 6)

        self.block_view = ParagraphListView()
        self.block_view.setObjectName("paragraphs")
        self.block_view.setModel(self.blocks_model)
        self.block_view.setItemDelegate(BlockDelegate(self.block_view))
        self.block_view.setWordWrap(True)
        self.block_view.setSpacing(2)
        self.block_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.block_view.setResizeMode(QListView.ResizeMode.Adjust)
        # Lay rows out in batches: a 5,000-paragraph chapter paints its first screen at once
        # instead of measuring every wrapped paragraph before showing anything.
        self.block_view.setLayoutMode(QListView.LayoutMode.Batched)
        self.block_view.setBatchSize(50)
        self.block_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.block_view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )

        centre = QWidget()
        layout = QVBoxLayout(centre)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.chapter_header)
        layout.addWidget(self.block_view)

        splitter = QSplitter()
        splitter.addWidget(self.chapters_panel)
        splitter.addWidget(centre)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([320, 960])
        self.setCentralWidget(splitter)

        self.voices_panel = VoicesPanel(self.selected_blocks, self._engine_voices,
                                        sink=self._player_sink)
        self.history_panel = HistoryPanel()
        add_side_dock(self, "Voices", "voicesDock", self.voices_panel)
        add_side_dock(self, "History", "historyDock", self.history_panel)
        self.queue_panel = QueuePanel()
        self.queue_dock = QDockWidget("Queue", self)
        self.queue_dock.setObjectName("queueDock")
        self.queue_dock.setWidget(self.queue_panel)  # its list scrolls by itself
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.queue_dock)
        history_dock = self.findChild(QDockWidget, "historyDock")
        if history_dock is not None:  # a tab beside History; raised when a render starts
            self.tabifyDockWidget(history_dock, self.queue_dock)
            QTimer.singleShot(0, history_dock.raise_)  # once shown: History on top when idle
        self.queue_panel.paragraph_activated.connect(self.select_paragraph)
        self.queue_panel.retry_requested.connect(self._on_retry_requested)
        self._pending: list[tuple[GenerationScope, int]] = []  # (scope, credits confirmed)
        self._planner = BackgroundCall(self)  # plans long scopes off the GUI thread
        self._planner.finished.connect(self._on_planned)
        self._planner.failed.connect(self._on_plan_failed)
        # (session, scope, engine, why, credits confirmed) of the plan being made, if any
        self._planning: tuple[ProjectSession, GenerationScope, str, str, int | None] | None = None
        self._plan_dirty = False  # the project changed while the plan was being made
        self.block_view.selectionModel().currentRowChanged.connect(self._on_block_current)
        self.waveform = WaveformView()
        self.player_bar = PlayerBar(self.waveform, sink=self._player_sink)
        self.player_bar.word_spoken.connect(self._on_word_spoken)
        self.player_bar.player.state_changed.connect(self._on_player_state)
        audio_panel = QWidget()  # the waveform with the player bar under it, full width
        audio_layout = QVBoxLayout(audio_panel)
        audio_layout.setContentsMargins(0, 0, 0, 0)
        audio_layout.addWidget(self.waveform, 1)
        audio_layout.addWidget(self.player_bar)
        wave_dock = QDockWidget("Waveform and player", self)
        wave_dock.setObjectName("waveformDock")
        wave_dock.setWidget(audio_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, wave_dock)
        self.play_action = QAction("Play / Pause", self)
        self.play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.play_action.triggered.connect(self._on_space)
        self.addAction(self.play_action)
        self.play_to_end_action = QAction("Play from Paragraph to &End", self)
        self.play_to_end_action.setShortcut(QKeySequence("Shift+Space"))
        self.play_to_end_action.triggered.connect(lambda: self._play_selected(until_end=True))
        self.play_selection_action = QAction("Play &Selected Paragraphs", self)
        self.play_selection_action.setShortcut(QKeySequence("Ctrl+Shift+Space"))
        self.play_selection_action.triggered.connect(lambda: self._play_selected(until_end=False))
        self.stop_playback_action = QAction("S&top Playback", self)
        self.stop_playback_action.triggered.connect(self.player_bar.player.stop)
        self.history_panel.play_requested.connect(self.player_bar.play_take)
        from studio.core.settings import load_settings
        from studio.ui.settings_dialog import engine_label_text

        self.engine_label = QLabel(engine_label_text(load_settings()))
        self.counts_label = QLabel()
        self.counts_label.setObjectName("countsLabel")
        self.statusBar().addPermanentWidget(self.counts_label)
        self.statusBar().addPermanentWidget(self.engine_label)
        self._build_menus()
        self._update_actions()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.new_action = QAction("&New Project…", self)
        self.new_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_action.triggered.connect(self._on_new)
        self.import_action = QAction("&Import Manuscript…", self)
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.triggered.connect(self._on_import)
        self.save_action = QAction("&Save", self)
        self.save_action.setShortcut(QKeySequence.StandardKey.Save)
        self.save_action.setToolTip("Edits are saved as you make them; this writes the whole "
                                    "project again (after a failed save)")
        self.save_action.triggered.connect(self._on_save)
        self.open_action = QAction("&Open Project…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self._on_open)
        self.save_as_action = QAction("Save Project &As…", self)
        self.save_as_action.setShortcut(QKeySequence.StandardKey.SaveAs)
        self.save_as_action.triggered.connect(self._on_save_as)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._refresh_recent)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addActions([self.new_action, self.import_action, self.open_action])
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([self.save_action, self.save_as_action])
        file_menu.addSeparator()
        self.properties_action = QAction("Project &Properties…", self)
        self.properties_action.triggered.connect(self._on_properties)
        file_menu.addAction(self.properties_action)
        self.export_action = QAction("&Export…", self)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.setToolTip("Export chapters or the book as MP3, WAV, FLAC or M4B")
        self.export_action.triggered.connect(self.open_export)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        self.file_menu = file_menu
        self.edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = self.undo_group.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_group.createRedoAction(self, "&Redo")
        # Ctrl+Shift+Z and Ctrl+Y, each once: the platform's Redo key may be Ctrl+Shift+Z
        # already, and a key bound twice is "ambiguous" to Qt and does nothing.
        redo_keys: list[QKeySequence] = []
        for key in [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y"),
                    *QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)]:
            if key not in redo_keys:
                redo_keys.append(key)
        self.redo_action.setShortcuts(redo_keys)
        self.edit_menu.addActions([self.undo_action, self.redo_action])
        self.edit_menu.addSeparator()
        self.lock_action = QAction("&Lock / Unlock Paragraph", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.triggered.connect(self._on_toggle_lock)
        self.edit_menu.addAction(self.lock_action)
        install_find_replace(self)  # Find/Replace actions and the dock (before the View menu)
        from studio.ui.panels.cast import install_cast_dock

        install_cast_dock(self)  # the Cast dock, a tab beside Voices
        from studio.ui.panels.lexicon import install_lexicon_dock

        install_lexicon_dock(self)  # the Pronunciation dock, a tab beside Voices
        self.view_menu = self.menuBar().addMenu("&View")
        for dock in self.findChildren(QDockWidget):
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addSeparator()
        self.theme_menu = add_theme_menu(self.view_menu, self)  # System / Light / Dark
        self.play_menu = self.menuBar().addMenu("&Play")
        self.play_menu.addActions([self.play_action, self.play_to_end_action,
                                   self.play_selection_action, self.stop_playback_action])
        if not self.player_bar.available:
            for action in self.play_menu.actions():
                action.setEnabled(False)
                action.setToolTip(self.player_bar.reason)
        generate_menu = self.menuBar().addMenu("&Generate")
        self.generate_menu = generate_menu
        self.generate_chapter_action = QAction("Generate &Chapter", self)
        self.generate_chapter_action.setShortcut(QKeySequence("Ctrl+G"))
        self.generate_chapter_action.triggered.connect(lambda: self.generate(book=False))
        self.generate_book_action = QAction("Generate &Book", self)
        self.generate_book_action.setShortcut(QKeySequence("Ctrl+Shift+G"))
        self.generate_book_action.triggered.connect(lambda: self.generate(book=True))
        self.generate_selection_action = QAction("Generate &Selection", self)
        self.generate_selection_action.setShortcut(QKeySequence("Ctrl+Alt+G"))
        self.generate_selection_action.setToolTip(
            "Generate the selected paragraphs that are not narrated yet")
        self.generate_selection_action.triggered.connect(lambda: self.generate_selection())
        self.regenerate_selection_action = QAction("&Regenerate Selection", self)
        self.regenerate_selection_action.setShortcut(QKeySequence("Ctrl+Alt+R"))
        self.regenerate_selection_action.setToolTip(
            "Make a new take of each selected paragraph, even if it is narrated")
        self.regenerate_selection_action.triggered.connect(
            lambda: self.generate_selection(force=True))
        self.regenerate_chapter_action = QAction("Regenerate C&hapter…", self)
        self.regenerate_chapter_action.setToolTip(
            "Make a new take of every unlocked paragraph of the chapter, even if narrated")
        self.regenerate_chapter_action.triggered.connect(lambda: self.regenerate(book=False))
        self.regenerate_book_action = QAction("Regenerate B&ook…", self)
        self.regenerate_book_action.setToolTip(
            "Make a new take of every unlocked paragraph of the book, even if narrated")
        self.regenerate_book_action.triggered.connect(lambda: self.regenerate(book=True))
        self.stop_action = QAction("&Stop Generating", self)
        self.stop_action.setShortcut(QKeySequence("Ctrl+."))
        self.stop_action.setEnabled(False)
        self.stop_action.triggered.connect(self._on_stop)
        generate_menu.addActions(
            [self.generate_chapter_action, self.generate_book_action,
             self.generate_selection_action]
        )
        generate_menu.addSeparator()
        generate_menu.addActions([self.regenerate_selection_action,
                                  self.regenerate_chapter_action, self.regenerate_book_action])
        generate_menu.addSeparator()
        generate_menu.addAction(self.stop_action)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.addActions([self.generate_chapter_action, self.stop_action, self.lock_action])
        self.tools_menu = self.menuBar().addMenu("&Tools")
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.settings_action.triggered.connect(self.open_settings)
        self.tools_menu.addAction(self.settings_action)
        self.transcript_editor_action = QAction("&Transcript Editor…", self)
        self.transcript_editor_action.triggered.connect(self._on_transcript_editor)
        self.tools_menu.addAction(self.transcript_editor_action)
        self.narration_check_action = QAction("&Check Narration…", self)
        self.narration_check_action.setToolTip("Flag paragraphs whose audio skips, repeats "
                                               "or adds words (offline)")
        self.narration_check_action.triggered.connect(self._on_narration_check)
        self.tools_menu.addAction(self.narration_check_action)
        self.tools_menu.addSeparator()
        for label, dock in (("C&ast Sheet", self.cast_dock),  # type: ignore[attr-defined]
                            ("&Pronunciation Dictionary", self.lexicon_dock)):  # type: ignore[attr-defined]
            action = QAction(label, self)
            action.triggered.connect(lambda _=False, d=dock: (d.show(), d.raise_()))
            self.tools_menu.addAction(action)
        help_menu = self.menuBar().addMenu("&Help")
        shortcuts = QAction("&Keyboard Shortcuts", self)
        shortcuts.setShortcut(QKeySequence("F1"))
        shortcuts.triggered.connect(self._on_shortcuts)
        help_menu.addAction(shortcuts)
        about = QAction("&About Narrator Studio", self)
        about.triggered.connect(self._on_about)
        help_menu.addAction(about)
        self.editor_actions = install_editor_actions(self)  # breaks, spans, split/merge (Edit)
        self._add_generation_to_paragraph_menu()
        self._refresh_recent()

    def _default_layout(self) -> None:
        """Give the paragraphs most of the room: a low waveform, narrow side panels."""
        docks = {d.objectName(): d for d in self.findChildren(QDockWidget)}
        vertical, horizontal = Qt.Orientation.Vertical, Qt.Orientation.Horizontal
        if "waveformDock" in docks:
            self.resizeDocks([docks["waveformDock"]], [max(200, self.height() // 4)], vertical)
        side = [docks[n] for n in ("voicesDock", "historyDock") if n in docks]
        self.resizeDocks(side, [340] * len(side), horizontal)
        if len(side) == 2 and self.height() < 900:
            # A laptop screen: stacked, the voice form and History's buttons would be cut
            # off. Voices, History and Queue become tabs of one full-height column.
            self.tabifyDockWidget(side[0], side[1])
            if "queueDock" in docks:
                self.tabifyDockWidget(side[1], docks["queueDock"])
            QTimer.singleShot(0, side[0].raise_)
        elif len(side) == 2:  # the voice form is the taller of the two: give it more height
            self.resizeDocks(side, [self.height() * 3 // 5, self.height() * 2 // 5], vertical)

    # -- project -------------------------------------------------------------------------------

    def open_project(self, path: Path) -> None:
        """Open the project at ``path`` (closing the current one)."""
        if self.store is not None and Path(path).resolve() == self.store.path.resolve():
            self._remember_recent(Path(path))
            return  # already open here (opening it again would meet our own lock)
        store = ProjectStore.open(path)
        try:
            project = store.load()
        except BaseException:
            store.close()
            raise
        self._close_store()
        self.session = ProjectSession(store, project, self)
        set_voice_order(project.voices)  # each voice's colour, by its place in the cast
        self.session.changed.connect(self._on_session_changed)
        self.session.failed.connect(lambda exc: show_error(self, exc))
        self.controller = GenerationController(self.session, self)
        self.controller.started.connect(self._on_generation_started)
        self.controller.progress.connect(self._on_generation_progress)
        self.controller.job_failed.connect(self._on_job_failed)
        self.controller.finished.connect(self._on_generation_finished)
        self._pending.clear()
        self.queue_panel.set_controller(self.controller, project)
        self.blocks_model.generating = self.controller.generating
        self.blocks_model.failures = self.controller.failures
        self.blocks_model.on_edit = self._on_block_edited
        self.undo_group.addStack(self.session.undo_stack)
        self.undo_group.setActiveStack(self.session.undo_stack)
        self.session.unsaved_changed.connect(self.setWindowModified)
        self.voices_panel.set_session(self.session)
        self.history_panel.set_session(self.session)
        self.chapters_panel.set_session(self.session)
        self.chapters_model.set_project(project)
        if project.chapters:
            self.chapter_view.setCurrentIndex(self.chapters_model.index(0))
        else:
            self.blocks_model.set_chapter(project, None)
        self._remember_recent(path)
        self._update_title()
        self._update_status()
        self._update_actions()

    @property
    def project(self) -> Project | None:
        """Return the open project."""
        return self.session.project if self.session is not None else None

    @property
    def store(self) -> ProjectStore | None:
        """Return the open project's file."""
        return self.session.store if self.session is not None else None

    def _close_store(self) -> None:
        if self.session is not None:
            self.commit_pending_edit()  # the typing belongs to the project being closed
        if self.export_dialog is not None:  # its files are written before the project goes
            self.export_dialog.cancel_and_wait()
            self.export_dialog.close()
            self.export_dialog.deleteLater()
            self.export_dialog = None
        if self.controller is not None and self.controller.running:
            self.controller.abort()
            self.controller.wait(10)
        if self.session is not None:
            # Let the old project go: its undo stack leaves the Edit menu's group, and the
            # session (with its commands, which may hold take audio) and controller are freed.
            self.undo_group.removeStack(self.session.undo_stack)
            self.session.close()
            self.session.deleteLater()
            self.session = None
        if self.controller is not None and not self.controller.running:
            self.controller.deleteLater()
            self.controller = None

    def _generation_actions(self) -> list[QAction]:
        return [self.generate_chapter_action, self.generate_book_action,
                self.generate_selection_action, self.regenerate_selection_action,
                self.regenerate_chapter_action, self.regenerate_book_action]

    def _update_actions(self) -> None:
        """Enable what works on a project only when one is open (none is at start-up).

        Generate/Stop follow the render once a project is open; Play needs an output.
        """
        has = self.session is not None
        keep = {self.undo_action, self.redo_action}  # the undo group enables these
        actions = [self.save_action, self.save_as_action, self.properties_action,
                   self.export_action]
        actions += [a for a in self.edit_menu.actions() if a not in keep and not a.menu()]
        for action in actions:
            if not action.isSeparator():
                action.setEnabled(has)
        for action in self.play_menu.actions():
            action.setEnabled(has and self.player_bar.available)
        running = self.controller is not None and self.controller.running
        for action in self._generation_actions():
            action.setEnabled(has and not running)
        self.stop_action.setEnabled(has and running)

    def _update_title(self) -> None:
        if self.project is None or self.store is None:
            self.setWindowTitle("Narrator Studio")
        else:
            self.setWindowTitle(
                f"{self.project.title} ({self.store.path.name})[*] — Narrator Studio")
            self.setWindowFilePath(str(self.store.path))

    def _update_status(self) -> None:
        """Show the book's counts in a permanent label (messages never overwrite them)."""
        if self.project is None:
            self.counts_label.setText("")
            return
        # From the sidebar's cached counts: recounting a long book takes over 100 ms.
        counts = [self.chapters_model.summary(c) for c in self.project.chapters]
        self.counts_label.setText(
            f"{len(counts)} chapters · {sum(c.paragraphs for c in counts)} paragraphs · "
            f"{sum(c.words for c in counts):,} words · "
            f"{sum(c.characters_to_generate for c in counts):,} characters to generate"
        )

    def _on_chapter_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.commit_pending_edit()  # the editor belongs to the chapter being left
        chapter = self.chapters_model.chapter(current.row())
        self.blocks_model.set_chapter(self.project, chapter)
        self.player_bar.set_chapter(self.session, chapter)
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

    def _leave_project_then(self, action: Callable[[], None]) -> None:
        """Run ``action`` now, or after asking to stop the render of this project."""
        if self.controller is None or not self.controller.running:
            action()
            return
        if self._after_stop is not None:
            return  # already stopping for something else
        self._stop_render_then(
            action, "Narration is still being generated for this project. Stop it and open "
            "another? Paragraphs already finished are saved.")

    def _open_or_report(self, path: Path) -> None:
        def open_it() -> None:
            try:
                self.open_project(path)
            except StudioError as exc:
                show_error(self, exc)

        same = self.store is not None and Path(path).resolve() == self.store.path.resolve()
        if same:
            open_it()
        else:
            self._leave_project_then(open_it)

    def _on_new(self) -> None:
        self._leave_project_then(self._new_from_dialog)

    def _new_from_dialog(self) -> None:
        target, _ = QFileDialog.getSaveFileName(
            self, "New Project", str(Path.home() / f"Untitled{SUFFIX}"),
            f"Narrator Studio projects (*{SUFFIX})")
        if target:
            self.new_project(Path(target))

    def new_project(self, target: Path, title: str | None = None) -> None:
        """Create an empty project (one chapter, one paragraph to type into) and open it."""
        from studio.core import model as m
        from studio.core.importing.base import default_voice

        target = target if target.suffix == SUFFIX else target.with_suffix(SUFFIX)
        project = m.Project(title=title or target.stem)
        voice = default_voice()
        m.add_voice(project, voice)
        project.default_voice_id = voice.id
        m.add_chapter(project, "Chapter 1", ["Type or paste your text here."])
        try:
            ProjectStore.create(target, project, overwrite=target.exists()).close()
        except StudioError as exc:
            show_error(self, exc)
            return
        self._open_or_report(target)

    def _on_properties(self) -> None:
        from studio.ui.project_settings import ProjectPropertiesDialog

        if self.session is not None:
            ProjectPropertiesDialog(self.session, self).open()

    def open_export(self) -> ExportDialog | None:
        """Show the Export dialog for the open project (File ▸ Export…)."""
        if self.session is None:
            return None
        self.commit_pending_edit()  # export what is on screen
        dialog = self.export_dialog
        if dialog is None:
            chapter = self.blocks_model.chapter
            dialog = ExportDialog(self.session, self.controller,
                                  chapter.id if chapter is not None else None, self)
            self.export_dialog = dialog
        elif not dialog.running and self.blocks_model.chapter is not None:
            dialog.set_current_chapter(self.blocks_model.chapter.id)
        if dialog.isVisible():  # already open: bring it to the front
            dialog.raise_()
            dialog.activateWindow()
        dialog.show()
        return dialog

    def _on_save(self) -> None:
        if self.session is not None and self.session.save_now():
            self.statusBar().showMessage(f"Saved {self.session.store.path.name}.", 4000)

    def _on_import(self) -> None:
        self._leave_project_then(self._import_from_dialog)

    def _import_from_dialog(self) -> None:
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
        """Copy the project to another file and carry on in it (File ▸ Save As…).

        The copy (every take's audio: gigabytes for a long book) is made on a worker thread
        through a read-only connection of its own, so the window keeps answering and edits
        go on being saved to the open file meanwhile; whatever changed during the copy is
        written to the new file once it is in place. The open file itself is just saved.
        """
        session = self.session
        if session is None:
            return
        running = getattr(self, "_save_as_call", None)
        if isinstance(running, BackgroundCall) and running.running:
            self.statusBar().showMessage("Still saving the copy…", 4000)
            return
        target, _ = QFileDialog.getSaveFileName(
            self, "Save Project As", str(session.store.path),
            f"Narrator Studio projects (*{SUFFIX})"
        )
        if not target:
            return
        self.commit_pending_edit()
        path, source = Path(target), session.store.path
        if path.resolve() == source.resolve():
            # Replacing the open file under its own connection and lock would fail (and
            # pull the file from under the project): saving it is what was asked.
            self._on_save()
            return
        self._save_as_copy(session, source, path)

    def _save_as_copy(self, session: ProjectSession, source: Path, path: Path) -> None:
        """Copy ``source`` to ``path`` in the background, then make it the open file."""
        import contextlib

        from PySide6.QtWidgets import QProgressBar

        overwrite = path.exists()
        edits = [1 if session.unsaved else 0]  # the file lags memory: write it all after

        def count(*_args: object) -> None:
            edits[0] += 1

        session.changed.connect(count)

        def copy() -> ProjectStore:
            with ProjectStore.open(source, read_only=True) as snapshot:
                return snapshot.save_as(path, overwrite=overwrite)

        busy = QProgressBar()
        busy.setObjectName("saveAsProgress")
        busy.setRange(0, 0)  # no measure of a backup's progress: a busy bar
        busy.setMaximumWidth(120)
        self.statusBar().addPermanentWidget(busy)
        self.statusBar().showMessage(f"Saving a copy as {path.name}…")
        call = BackgroundCall(self)
        self._save_as_call = call

        def end() -> None:
            with contextlib.suppress(RuntimeError, TypeError):  # the session may be gone
                session.changed.disconnect(count)
            self.statusBar().removeWidget(busy)
            busy.deleteLater()
            call.deleteLater()
            self.statusBar().clearMessage()

        def finished(result: object) -> None:
            end()
            assert isinstance(result, ProjectStore)
            if self.session is not session:  # another project was opened meanwhile
                result.close()
                self.statusBar().showMessage(f"Saved a copy as {path.name}.", 5000)
                return
            old, session.store = session.store, result
            old.close()
            if (edits[0] or session.unsaved) and not session.save_now():
                return  # reported by the session; the title shows the unsaved marker
            self._remember_recent(path)
            self._update_title()
            self.statusBar().showMessage(f"Saved as {path.name}.", 4000)

        def failed(exc: object) -> None:
            end()
            show_error(self, exc)  # type: ignore[arg-type]

        call.finished.connect(finished)
        call.failed.connect(failed)
        call.start(copy)

    def _on_transcript_editor(self) -> None:
        from studio.ui.transcript.window import open_transcript_editor

        open_transcript_editor(self)

    def _on_narration_check(self) -> None:
        from studio.ui.panels.narration_check import NarrationCheckDialog

        chapter = self.blocks_model.chapter
        if self.session is None or chapter is None:
            return
        dialog = NarrationCheckDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def regenerate(block_id: str) -> None:
            self.select_paragraph(block_id)
            self.generate_selection(force=True)

        dialog.regenerate_requested.connect(regenerate)
        dialog.show()
        dialog.start(self.session.project, [chapter.id], self.session.store.path)
        self.narration_check_dialog = dialog

    def _on_shortcuts(self) -> None:
        from studio.ui.shortcuts import ShortcutsDialog

        ShortcutsDialog(self).open()

    def _on_about(self) -> None:
        QMessageBox.about(
            self,
            "About Narrator Studio",
            f"<b>Narrator Studio {__version__}</b><p>Narrate books with AI voices.</p>"
            "<p>Licensed under the GNU GPL, version 3 or later.</p>",
        )

    def open_settings(self) -> None:
        """Show Tools ▸ Settings; saving updates the engine shown in the status bar."""
        from studio.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self)
        dialog.saved.connect(self._on_settings_saved)
        dialog.exec()
        dialog.deleteLater()

    def _on_settings_saved(self, settings: object) -> None:
        from studio.core.settings import AppSettings
        from studio.ui.settings_dialog import engine_label_text

        assert isinstance(settings, AppSettings)
        self.engine_label.setText(engine_label_text(settings))

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
        """List the recent projects; one moved or deleted since is shown greyed, not opened."""
        self.recent_menu.clear()
        recent = self._recent()
        names = [Path(item).name for item in recent]
        for item in recent:
            path = Path(item)
            # Two projects with the same file name are told apart by their folder.
            label = path.name if names.count(path.name) == 1 else f"{path.name} — {path.parent}"
            if path.exists():
                action = self.recent_menu.addAction(label)
                action.setToolTip(item)
                action.triggered.connect(lambda _=False, p=item: self._open_or_report(Path(p)))
            else:
                action = self.recent_menu.addAction(f"{label} (not found)")
                action.setToolTip(f"{item} was moved or deleted")
                action.setEnabled(False)
        if recent:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear Menu")
            clear.triggered.connect(self._clear_recent)
        self.recent_menu.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        QSettings().setValue("recent/projects", [])
        self._refresh_recent()

    # -- closing ---------------------------------------------------------------------------------

    def closeEvent(self, event: object) -> None:
        self.commit_pending_edit()  # what is being typed is kept, whatever happens next
        if self.controller is not None and self.controller.running:
            event.ignore()  # type: ignore[attr-defined]
            if self._after_stop is not None:
                # Closing again while stopping: abandon the responses under way.
                self._after_stop = self.close
                self.controller.abort()
                return
            self._stop_render_then(
                self.close, "Narration is still being generated. Stop it and close? "
                "Paragraphs already finished are saved.")
            return
        QSettings().setValue("window/geometry", self.saveGeometry())
        QSettings().setValue("window/state", self.saveState())
        self._close_store()
        super().closeEvent(event)  # type: ignore[arg-type]

    def _stop_render_then(self, action: Callable[[], None], question: str) -> None:
        """Ask to stop the render; if yes, stop it and run ``action`` once it has ended.

        Nothing new is sent; the responses under way arrive, are applied and saved (they are
        paid for), and then ``action`` runs. The window stays responsive meanwhile; 15 s
        without an answer abandons them.
        """
        assert self.controller is not None
        if QMessageBox.question(self, "Generation is running",
                                question) != QMessageBox.StandardButton.Yes:
            return
        self._after_stop = action
        self.controller.stop()
        self.statusBar().showMessage(
            "Stopping: saving the paragraphs under way first (close again to abandon them)…")
        QTimer.singleShot(15_000, self._abort_stopping)

    def _abort_stopping(self) -> None:
        if self._after_stop is not None and self.controller is not None \
                and self.controller.running:
            self.controller.abort()

    # -- editing and generation ---------------------------------------------------------------

    def selected_blocks(self) -> list[BlockId]:
        """Return the ids of the selected paragraphs, in order."""
        # From the selection's ranges: one index per row (selectedIndexes) is slow for 5,000.
        ranges = self.block_view.selectionModel().selection()
        rows = sorted({r for span in ranges for r in range(span.top(), span.bottom() + 1)})
        return [b.id for r in rows if (b := self.blocks_model.block_at(r)) is not None]

    def _on_block_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        block = self.blocks_model.block_at(current.row())
        self.history_panel.show_block(block.id if block is not None else None)

    def _engine_voices(self) -> list[EngineVoice]:
        """Return the chosen engine's voices (called on a worker thread: no Qt here)."""
        from studio.core.engines.select import build_engine, choose_engine
        from studio.core.settings import load_settings

        settings = load_settings()
        name, _ = choose_engine(None, settings)
        engine = build_engine(name, settings)
        try:
            return engine.voices()
        finally:
            close = getattr(engine, "close", None)  # ElevenLabs: its HTTP connections
            if close is not None:
                close()

    def _on_block_edited(self, block_id: str, text: str) -> None:
        if self.session is None:
            return
        try:
            self.session.push(commands.SetBlockTextCommand(self.session, BlockId(block_id), text),
                              initiator=self.block_view)
        except StudioError as exc:
            show_error(self, exc)

    def commit_pending_edit(self) -> None:
        """Save what is being typed in the paragraph editor before another action runs.

        Window actions (lock, generate, switching chapter) work on the stored text; without
        this the typing was refused (locked) or lost (chapter switched).
        """
        from PySide6.QtWidgets import QAbstractItemDelegate, QPlainTextEdit

        view = self.block_view
        if view.state() != QAbstractItemView.State.EditingState:
            return
        for editor in view.findChildren(QPlainTextEdit, "paragraphEditor"):
            if editor.isVisible():
                view.commitData(editor)
                view.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)

    def _on_toggle_lock(self) -> None:
        if self.session is None:
            return
        self.commit_pending_edit()
        ids = self.selected_blocks()
        if not ids:
            return
        # One undo step: lock them all unless all are locked already (then unlock them all).
        lock = not all(self.session.project.block(b).locked for b in ids)
        self.session.push(commands.set_blocks_locked(self.session, ids, lock))

    def _on_session_changed(self, changes: object, initiator: object) -> None:
        from studio.core.model import Changes

        assert isinstance(changes, Changes)
        self._plan_dirty = True  # a plan being made in the background is out of date
        if (changes.voices or changes.removed_voices) and self.session is not None:
            set_voice_order(self.session.project.voices)
        # The chapters panel follows the chapter list itself (keeping the current chapter).
        if self.blocks_model.chapter is not None and changes.chapters:
            self.chapter_header.setText(self.blocks_model.chapter.title)
        if changes.project:
            self._update_title()
        self.blocks_model.refresh(changes.blocks or None, structure=changes.structure)
        chapter = self.blocks_model.chapter
        if chapter is not None and (changes.project or changes.structure or changes.takes
                                    or changes.blocks & {
                b.id for b in chapter.blocks}):
            if self.controller is not None and self.controller.running:
                if not self._waveform_timer.isActive():
                    self._waveform_timer.start()
            else:
                self._refresh_waveform()
        self._status_timer.start()  # counts for the whole book: after a burst of edits

    def _refresh_waveform(self) -> None:
        """Lay out the chapter's timeline and waveform again after its narration changed."""
        import time

        self._waveform_timer.stop()
        if self.player_bar.player.state != "playing":
            began = time.perf_counter()
            self.player_bar.refresh(force=False)
            # During a render this runs on a timer: the longer the waveform takes to lay out,
            # the rarer it runs, so that it never takes over the window (1/20 of its time).
            cost_ms = (time.perf_counter() - began) * 1000
            self._waveform_timer.setInterval(max(300, min(10_000, int(cost_ms * 20))))

    def _on_space(self) -> None:
        """Play or pause, unless a button or box has the focus: then Space is theirs."""
        from PySide6.QtWidgets import QAbstractButton, QComboBox

        focus = QApplication.focusWidget()
        if isinstance(focus, QAbstractButton) and focus.isEnabled():
            focus.animateClick()  # what Space does on a focused button or check box
        elif isinstance(focus, QComboBox) and focus.isEnabled():
            focus.showPopup()
        else:
            self.player_bar.toggle()

    def _play_selected(self, until_end: bool) -> None:
        blocks = self.selected_blocks()
        if not blocks:
            current = self.blocks_model.block_at(self.block_view.currentIndex().row())
            blocks = [current.id] if current is not None else []
        if blocks and not self.player_bar.play_paragraphs(list(blocks), until_end=until_end):
            self.statusBar().showMessage("The selected paragraphs have no narration yet.", 5000)

    def _on_player_state(self, state: str) -> None:
        if state == "stopped" and self.blocks_model.speaking is not None:
            self.blocks_model.speaking = None  # the word stays lit while paused, not after
            self.blocks_model.refresh(self._last_spoken)
            self._last_spoken = frozenset()

    def _on_word_spoken(self, block_id: str, word: int) -> None:
        """Highlight the paragraph and word being spoken and keep them in view."""
        chapter = self.blocks_model.chapter
        if chapter is None:
            return
        row = next((i for i, b in enumerate(chapter.blocks) if b.id == block_id), None)
        if row is None:
            return
        self.blocks_model.speaking = (block_id, word)
        index = self.blocks_model.index(row)
        self.block_view.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
        self.blocks_model.refresh(frozenset({block_id}) | self._last_spoken)
        self._last_spoken = frozenset({block_id})

    def generate(self, book: bool = False, *, scope: GenerationScope | None = None) -> bool:
        """Generate ``scope`` (by default the chapter shown, or the book with ``book``).

        The cost of a paid render is shown and confirmed first. While a render runs, the
        scope waits for it to end. Return whether a render started or was queued.
        """
        if self.session is None or self.controller is None:
            return False
        self.commit_pending_edit()  # generate what is on screen, typing included
        if scope is None:
            chapter = self.blocks_model.chapter
            if not book and chapter is None:
                return False
            scope = GenerationScope() if book or chapter is None else GenerationScope(
                chapters=(chapter.id,))
        if self._planning is not None:
            self.statusBar().showMessage("Still planning the last render…", 5000)
            return False
        return self._plan_and_run(scope)

    def _plan_and_run(self, scope: GenerationScope, confirmed: int | None = None) -> bool:
        """Plan ``scope`` (in the background if long), confirm its cost unless ``confirmed``
        covers it, and start it or queue it; return whether it started, queued or is being
        planned."""
        if self._plan_in_background(scope, confirmed):
            return True
        planned = self._plan(scope)
        return planned is not None and self._run_planned(scope, planned, confirmed)

    def _run_planned(self, scope: GenerationScope, planned: tuple[str, str, Plan],
                     confirmed: int | None = None) -> bool:
        assert self.controller is not None
        name, why, plan = planned
        if name != "offline" and (confirmed is None or plan.credits > confirmed) and (
                not self._confirm_cost(plan, why, scope)):
            return False
        if self.controller.running:
            self._pending.append((scope, plan.credits if name != "offline" else 0))
            self.statusBar().showMessage(
                f"{plan.paragraphs} paragraphs will be generated when the current render "
                "ends.", 8000)
            return True
        return self._start(name, plan)

    def regenerate(self, book: bool = False) -> bool:
        """Make new takes for every unlocked paragraph of the chapter (or book), after asking.

        Locked paragraphs keep their narration. Older takes stay in each paragraph's
        history, so this is undone paragraph by paragraph from History.
        """
        if self.session is None:
            return False
        chapter = self.blocks_model.chapter
        if not book and chapter is None:
            return False
        where = "the whole book" if book or chapter is None else f"'{chapter.title}'"
        if QMessageBox.question(
                self, "Regenerate",
                f"Make a new take of every unlocked paragraph of {where}, narrated or not? "
                "Locked paragraphs are kept; older takes stay in History.",
        ) != QMessageBox.StandardButton.Yes:
            return False
        scope = GenerationScope(force=True) if book or chapter is None else GenerationScope(
            chapters=(chapter.id,), force=True)
        return self.generate(scope=scope)

    def generate_selection(self, force: bool = False) -> bool:
        """Generate the selected paragraphs; with ``force`` a new take even if narrated.

        Regenerating refuses locked paragraphs and names them.
        """
        self.commit_pending_edit()
        chapter = self.blocks_model.chapter
        blocks = self.selected_blocks()
        if self.session is None or chapter is None or not blocks:
            self.statusBar().showMessage("Select the paragraphs to generate first.", 5000)
            return False
        if force:
            chosen = set(blocks)
            locked = [n for n, b in enumerate(chapter.blocks, 1) if b.id in chosen and b.locked]
            if locked:
                from studio.core.errors import EditError

                show_error(self, EditError(
                    f"Locked paragraphs are not regenerated: ¶{', ¶'.join(map(str, locked))} "
                    f"of '{chapter.title}'. Unlock them first (Ctrl+L)."))
                return False
        return self.generate(scope=GenerationScope(blocks=tuple(blocks), force=force))

    def _add_generation_to_paragraph_menu(self) -> None:
        """Put Generate / Regenerate Selection on the paragraphs' context menu."""
        build = getattr(self.editor_actions, "paragraph_menu", None)
        if build is None:
            return

        def paragraph_menu() -> QMenu:
            menu = build()
            menu.addSeparator()
            menu.addActions([self.generate_selection_action, self.regenerate_selection_action])
            return menu

        self.editor_actions.paragraph_menu = paragraph_menu

    def _plan_in_background(self, scope: GenerationScope, confirmed: int | None) -> bool:
        """Plan a long scope on a worker thread, from a snapshot of the project; return
        whether that started. The plan goes on as a plan made at once does (_on_planned)."""
        from studio.core.engines.select import choose_engine
        from studio.core.generation import plan_render, snapshot
        from studio.core.settings import load_settings

        session = self.session
        if session is None:
            return False
        chapters = set(scope.chapters) if scope.chapters is not None else None
        paragraphs = len(scope.blocks) if scope.blocks is not None else sum(
            len(c.blocks) for c in session.project.chapters
            if chapters is None or c.id in chapters)
        if paragraphs < PLAN_IN_BACKGROUND_FROM:
            return False
        settings = load_settings()
        try:
            name, why = choose_engine(None, settings)
        except StudioError as exc:
            show_error(self, exc)
            return True  # answered: nothing more to do
        output_format = "wav_22050" if name == "offline" else settings.output_format
        copy = snapshot(session.project, scope.chapters if scope.blocks is None else None)
        self._planning = (session, scope, name, why, confirmed)
        self._plan_dirty = False
        self._planner.start(lambda: plan_render(
            copy, engine=name, chapters=scope.chapters, blocks=scope.blocks,
            force=scope.force, output_format=output_format))
        self.statusBar().showMessage(f"Planning {paragraphs:,} paragraphs…")
        return True

    def _on_planned(self, plan: object) -> None:
        planning, self._planning = self._planning, None
        if planning is None or planning[0] is not self.session:
            return  # made for a project since closed
        _, scope, name, why, confirmed = planning
        assert isinstance(plan, Plan) and self.controller is not None
        if self._plan_dirty and not self.controller.running:
            # Edited while it was planned: plan the project as it is now. (While a render
            # runs, the plan is queued and made again when the render ends anyway.)
            if not self._plan_and_run(scope, confirmed):
                self._start_pending()
            return
        planned = self._plan(scope, (name, why, plan))
        if planned is None or not self._run_planned(scope, planned, confirmed):
            self._start_pending()

    def _on_plan_failed(self, exc: object) -> None:
        self._planning = None
        show_error(self, exc if isinstance(exc, BaseException) else RuntimeError(str(exc)))
        self._start_pending()

    def _plan(self, scope: GenerationScope, made: tuple[str, str, Plan] | None = None
              ) -> tuple[str, str, Plan] | None:
        """Return (engine name, why that engine, plan) for ``scope``, or None (reported).

        With ``made``, the plan was made in the background: it is checked and its matching
        older takes restored as for a plan made here.
        """
        from studio.core.engines.select import choose_engine
        from studio.core.generation import plan_render
        from studio.core.settings import load_settings

        assert self.session is not None
        try:
            if made is not None:
                name, why, plan = made
            else:
                settings = load_settings()
                name, why = choose_engine(None, settings)
                plan = plan_render(
                    self.session.project, engine=name, chapters=scope.chapters,
                    blocks=scope.blocks, force=scope.force,
                    output_format="wav_22050" if name == "offline" else settings.output_format,
                )
            if plan.problems and not plan.jobs:
                raise StudioError(plan.problems[0])
        except StudioError as exc:
            show_error(self, exc)
            return None
        restored = self._restore_matching(plan)
        if not plan.jobs:
            hint = " (Regenerate Selection makes new takes)" if scope.blocks and not (
                scope.force) else ""
            self.statusBar().showMessage(
                f"Restored {restored} matching takes from the history; nothing to generate."
                if restored else f"Everything here is already narrated{hint}.", 5000)
            return None
        return name, why, plan

    def _restore_matching(self, plan: Plan) -> int:
        """Make the older takes the plan found still matching current again (free, undoable).

        A paragraph set back to text and voice it was narrated with needs no new request.
        """
        if not plan.reused or self.session is None:
            return 0
        stack = self.session.undo_stack
        stack.beginMacro(f"Restore {len(plan.reused)} matching takes")
        try:
            for block_id, take_id in plan.reused:
                self.session.push(commands.restore_take(self.session, block_id, take_id))
        finally:
            stack.endMacro()
        return len(plan.reused)

    def _confirm_cost(self, plan: Plan, why: str, scope: GenerationScope) -> bool:
        """Ask before a paid render, showing its characters and credits."""
        verb = "Regenerate" if scope.force else "Generate"
        kept = "\n\nEach gets a new take; the current ones stay in History." if (
            scope.force) else ""
        paragraphs = f"{plan.paragraphs} paragraph{'s' * (plan.paragraphs != 1)}"
        # Plan.warnings: what will render, but not as expected (phoneme rules the model
        # skips, dictionaries not uploaded, v3 advice): said before credits are spent.
        warned = "".join(f"\n• {w}" for w in plan.warnings)
        warned = f"\n\nBefore you spend credits:{warned}" if warned else ""
        answer = QMessageBox.question(
            self, "Generate narration",
            f"{verb} {paragraphs} with {why}?\n\n"
            f"{plan.characters:,} characters, about {plan.credits:,} credits.{kept}{warned}",
        )
        return answer == QMessageBox.StandardButton.Yes

    def _start(self, name: str, plan: Plan) -> bool:
        from studio.core.engines.select import PLAN_CONCURRENCY, build_engine
        from studio.core.settings import load_settings

        assert self.controller is not None
        settings = load_settings()
        try:
            engine = build_engine(name, settings, for_render=True)
        except StudioError as exc:
            show_error(self, exc)
            return False
        # Automatic (0): the plan chosen in Settings; the render lowers it if the server says so.
        concurrency = 1 if name == "offline" else (
            settings.concurrency or PLAN_CONCURRENCY.get(settings.plan, 2))
        self.controller.start(plan, engine, concurrency=concurrency)
        if plan.warnings and name == "offline":  # no cost dialog offline: say it here
            self.statusBar().showMessage("Warning: " + "; ".join(plan.warnings), 15_000)
        return True

    def _start_pending(self) -> None:
        """Start the first render that waited for the last one (asking again if it grew)."""
        while self._pending and self.controller is not None and not self.controller.running \
                and self._planning is None:
            scope, confirmed = self._pending.pop(0)
            if self._plan_and_run(scope, confirmed):
                return

    def _on_retry_requested(self, block_ids: list[str]) -> None:
        running = self.controller is not None and self.controller.running
        scope = GenerationScope(blocks=tuple(BlockId(b) for b in block_ids), force=True)
        if self.generate(scope=scope) and running:
            self.queue_panel.mark_queued(block_ids)

    def select_paragraph(self, block_id: str) -> None:
        """Show a paragraph in the editor: its chapter current, the paragraph selected."""
        if self.project is None:
            return
        try:
            chapter, row = self.project.locate(BlockId(block_id))
        except StudioError:  # deleted since
            return
        self.chapters_panel.select_chapter(chapter.id)
        index = self.blocks_model.index(row)
        self.block_view.setCurrentIndex(index)
        self.block_view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        self.block_view.setFocus()

    def _on_stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.statusBar().showMessage("Stopping after the requests under way…")

    def _on_generation_started(self, plan: object) -> None:
        self.stop_action.setEnabled(True)
        self.generate_chapter_action.setEnabled(False)
        self.generate_book_action.setEnabled(False)
        self.generate_selection_action.setEnabled(False)
        self.regenerate_selection_action.setEnabled(False)
        self.regenerate_chapter_action.setEnabled(False)
        self.regenerate_book_action.setEnabled(False)
        self.queue_dock.show()
        self.queue_dock.raise_()
        self.blocks_model.refresh()

    def _on_generation_progress(self, progress: object) -> None:
        from studio.core.scheduler import Progress

        assert isinstance(progress, Progress)
        eta = f", about {progress.eta:.0f} s left" if progress.eta is not None else ""
        self.statusBar().showMessage(f"Generating: {progress.fraction:.0%}{eta}")
        last = max(0, self.chapters_model.rowCount() - 1)
        self.chapters_model.dataChanged.emit(
            self.chapters_model.index(0), self.chapters_model.index(last))

    def _on_job_failed(self, block_id: str, reason: str) -> None:
        self.blocks_model.refresh(frozenset({block_id}))
        self.statusBar().showMessage(f"A paragraph failed: {reason}", 8000)

    def _on_generation_finished(self, summary: object) -> None:
        from studio.core.scheduler import RunSummary

        assert isinstance(summary, RunSummary)
        self.stop_action.setEnabled(False)
        self.generate_chapter_action.setEnabled(True)
        self.generate_book_action.setEnabled(True)
        self.generate_selection_action.setEnabled(True)
        self.regenerate_selection_action.setEnabled(True)
        self.regenerate_chapter_action.setEnabled(True)
        self.regenerate_book_action.setEnabled(True)
        self.blocks_model.refresh()
        self._refresh_waveform()  # the last takes of the render, without waiting
        if self._after_stop is not None:
            action, self._after_stop = self._after_stop, None
            for scope, _ in self._pending:
                self.queue_panel.mark_queued(list(scope.blocks or ()), queued=False)
            self._pending.clear()
            QTimer.singleShot(0, action)  # the render's takes are applied and saved by now
            return
        if summary.fatal is not None or summary.cancelled:  # stopped: queued renders go too
            for scope, _ in self._pending:
                self.queue_panel.mark_queued(list(scope.blocks or ()), queued=False)
            self._pending.clear()
        if summary.fatal is not None:
            show_error(self, summary.fatal)
        else:
            failed = f", {len(summary.failed)} failed" if summary.failed else ""
            skipped = f", {len(summary.skipped)} cancelled" if summary.skipped else ""
            stopped = " (stopped)" if summary.cancelled else ""
            self.statusBar().showMessage(
                f"Generated {summary.takes} paragraphs{failed}{skipped}{stopped}.", 8000)
        self._start_pending()

