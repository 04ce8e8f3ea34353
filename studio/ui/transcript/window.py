"""The transcript editor window: media and waveform above, transcript or subtitles below.

Opened from Tools ▸ Transcript Editor… (or ``studio transcript-editor [MEDIA] [TRANSCRIPT]``).
Sources: a media file (transcribed offline or with ElevenLabs, off the GUI thread with
progress and Cancel), an SRT/VTT/JSON transcript, or the narration of the project's current
chapter (built from its take timings: exact and free). While playing, the word under the
playhead is highlighted and kept in view; clicking a word seeks there. Every edit is one step
on the window's undo stack.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import CancelToken, EditError, StudioError
from studio.core.transcript import io as tio
from studio.core.transcript.model import (
    MIN_SEGMENT_S,
    SegmentId,
    SpeakerId,
    Transcript,
    TranscriptChanges,
    WordTimes,
    add_segment,
    add_speaker,
    delete_segment,
    merge_segments,
    reassign_segment,
    retime_segment,
    set_segment_text,
    set_segment_words,
    split_segment,
)
from studio.core.transcript.subtitles import (
    CueChanges,
    CueProblem,
    SubtitleRules,
    SubtitleTrack,
    add_cue,
    build_cues,
    delete_cue,
    export_subtitles,
    merge_cues,
    retime_cue,
    set_rules,
    track_problems,
)
from studio.ui.errors import show_error
from studio.ui.player import OutputSink, Player, playback_available
from studio.ui.transcript.document import TranscriptDocument
from studio.ui.transcript.media import LoadedMedia, load_media
from studio.ui.transcript.regions import RegionItem, RegionLayer
from studio.ui.transcript.speakers import SpeakersPanel, swatch
from studio.ui.transcript.subtitles_view import SubtitlesPanel, split_cue_text
from studio.ui.transcript.tasks import ProcessJob, Task
from studio.ui.transcript.text_view import SegmentListModel, TranscriptTextView, clock
from studio.ui.waveform import WaveformView

SPEEDS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
NEW_SPAN_S = 2.0  # length of a segment or cue added at the playhead
EXPORTS = {
    "Plain text (*.txt)": "txt",
    "Transcript JSON (*.json)": "json",
    "Web page with word times (*.html)": "html",
    "SubRip subtitles (*.srt)": "srt",
    "WebVTT subtitles (*.vtt)": "vtt",
}
MEDIA_FILTER = ("Audio and video (*.mp3 *.wav *.flac *.ogg *.opus *.m4a *.aac *.aiff *.webm "
                "*.mp4 *.mkv *.mov *.avi *.wmv *.flv *.mpeg *.mpg *.3gp);;All files (*)")
TRANSCRIPT_FILTER = "Transcripts (*.json *.srt *.vtt);;All files (*)"

NarrationProvider = Callable[[], tuple[Any, Any] | None]  # -> (ProjectSession, Chapter)


def free_span(spans: list[tuple[float, float]], t: float, duration: float | None,
              want: float = NEW_SPAN_S) -> tuple[float, float] | None:
    """Return a free stretch of up to ``want`` seconds at ``t`` between sorted ``spans``."""
    starts = [s for s, _ in spans]
    i = bisect.bisect_right(starts, t)
    if i > 0 and spans[i - 1][1] > t:  # inside a span: start after it
        t = spans[i - 1][1]
    high = spans[i][0] if i < len(spans) else (duration if duration else t + want)
    end = min(t + want, high)
    return (t, end) if end - t >= MIN_SEGMENT_S * 5 else None


class TranscriptEditorWindow(QMainWindow):
    """Edit a transcript and its subtitles against playing media.

    Signals:
        word_highlighted(str, int): the segment id and word index now highlighted
            (("", -1) when none is).
    """

    word_highlighted = Signal(str, int)

    def __init__(self, player_sink: OutputSink | None = None,
                 narration: NarrationProvider | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if parent is not None:
            self.setWindowFlag(Qt.WindowType.Window, True)
        self.setObjectName("TranscriptEditor")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.narration = narration
        self.ask_before_closing = True
        self.transcript_path: Path | None = None
        self.media: LoadedMedia | None = None
        self.doc = TranscriptDocument(self)
        self._word_index: WordTimes | None = None
        self._mode = "transcript"
        # Injection points (tests use fakes): (engine, media path) -> an Aligner.
        self.make_aligner: Callable[[str, Path], Any] = _default_aligner
        self.available, self.reason = (True, "") if player_sink is not None \
            else playback_available()
        self.player = Player(sink=player_sink, parent=self)
        self.task = Task(self)
        self._build()
        self._connect()
        self._update_title()
        self._update_actions()
        self.resize(1200, 800)

    # -- construction ----------------------------------------------------------------------------

    def _build(self) -> None:
        self.waveform = WaveformView()
        self.waveform.empty_label.setText(
            "Open a media file (File ▸ Open Media…), a transcript, or the narration of the "
            "project's chapter.")
        self.regions = RegionLayer(self.waveform, self)

        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("transcriptPlay")
        self.stop_button = QPushButton("Stop")
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Playback speed (pitch kept)")
        self.position_label = QLabel("0:00:00.0 / 0:00:00.0")
        self.follow = QCheckBox("Follow playback")
        self.follow.setChecked(True)
        self.media_label = QLabel("")
        self.media_label.setObjectName("mediaLabel")
        transport = QHBoxLayout()
        transport.setContentsMargins(6, 2, 6, 2)
        for w in (self.play_button, self.stop_button, self.speed, self.position_label,
                  self.follow):
            transport.addWidget(w)
        transport.addStretch(1)
        transport.addWidget(self.media_label)
        if not self.available:
            for w in (self.play_button, self.stop_button, self.speed):
                w.setEnabled(False)
                w.setToolTip(self.reason)

        # Transcript tab: edit buttons, the text, the speakers.
        self.segment_model = SegmentListModel(self.doc, self)
        self.text_view = TranscriptTextView(self.segment_model)
        self.speakers = SpeakersPanel(self.doc)
        self.assign_button = QToolButton()
        self.assign_button.setText("Speaker")
        self.assign_button.setToolTip("Give the selected segments to a speaker")
        self.assign_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.assign_menu = QMenu(self.assign_button)
        self.assign_menu.aboutToShow.connect(lambda: self._fill_assign_menu(self.assign_menu))
        self.assign_button.setMenu(self.assign_menu)
        edit_bar = QHBoxLayout()
        edit_bar.setContentsMargins(0, 0, 0, 0)
        self.stale_label = QLabel("")
        self.stale_label.setObjectName("staleLabel")
        transcript_tab = QWidget()
        text_side = QVBoxLayout()
        text_side.setContentsMargins(0, 0, 0, 0)
        text_side.addLayout(edit_bar)
        text_side.addWidget(self.text_view, 1)
        text_holder = QWidget()
        text_holder.setLayout(text_side)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(text_holder)
        split.addWidget(self.speakers)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        split.setSizes([880, 260])
        tab_layout = QVBoxLayout(transcript_tab)
        tab_layout.setContentsMargins(4, 4, 4, 4)
        tab_layout.addWidget(split)
        self._edit_bar = edit_bar

        self.subtitles = SubtitlesPanel(self.doc)
        self.tabs = QTabWidget()
        self.tabs.addTab(transcript_tab, "Transcript")
        self.tabs.addTab(self.subtitles, "Subtitles")

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(0)
        top_layout.addWidget(self.waveform, 1)
        top_layout.addLayout(transport)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([300, 460])
        self.setCentralWidget(splitter)

        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.cancel_button)
        self._build_actions()

    def _action(self, text: str, slot: Callable[[], Any], shortcut: str | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.open_media_action = a("Open &Media…", self.choose_media, "Ctrl+O",
                                   "Open an audio or video file to transcribe or follow")
        self.import_action = a("&Import Transcript…", self.choose_transcript, "Ctrl+Shift+O",
                               "Open a transcript: our JSON, ElevenLabs JSON, SRT or VTT")
        self.narration_action = a("&Narration of This Chapter", self.open_narration, None,
                                  "The transcript of the project's narration of the current "
                                  "chapter, from its take timings (exact and free)")
        self.transcribe_action = a("&Transcribe…", self.choose_transcription, "Ctrl+T",
                                   "Transcribe the media offline or with ElevenLabs")
        self.save_action = a("&Save Transcript", self.save, "Ctrl+S",
                             "Save the transcript as JSON")
        self.export_action = a("&Export…", self.choose_export, "Ctrl+E",
                               "Export as TXT, JSON, HTML, SRT or VTT")
        self.close_action = a("&Close", self.close, "Ctrl+W")
        stack = self.doc.undo_stack
        # Own actions rather than the stack's: an open segment editor is committed first.
        self.undo_action = a("&Undo", self.undo)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = a("&Redo", self.redo)
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
        for action, word, can, text_changed in (
            (self.undo_action, "&Undo", stack.canUndoChanged, stack.undoTextChanged),
            (self.redo_action, "&Redo", stack.canRedoChanged, stack.redoTextChanged),
        ):
            action.setEnabled(False)
            can.connect(action.setEnabled)
            text_changed.connect(lambda text, act=action, w=word: act.setText(
                f"{w} {text}" if text else w))
        self.merge_action = a("&Merge With Next", self.merge_selected, "Ctrl+M",
                              "Merge with the next segment (same speaker only) or cue")
        self.add_action = a("&Add Segment", self.add_at_playhead, "Ctrl+N",
                            "Add a segment (or cue) over the waveform selection, or at the "
                            "playhead")
        self.delete_action = a("&Delete", self.delete_selected, None,
                               "Delete the selected segments or cues (Delete key)")
        self.split_action = a("S&plit Cue", self.split_selected_cue, None,
                              "Split the selected cue in the middle (or press Enter in its "
                              "text)")
        self.align_action = a("A&lign Words", self.align_words, "Ctrl+L",
                              "Recompute the word times of edited segments")
        self.build_action = a("&Build Subtitles From Transcript", self.build_subtitles,
                              "Ctrl+B", "Make cues from the transcript under the rules")
        self.play_action = a("&Play / Pause", self.toggle_play, "Space")
        self.play_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.stop_action = a("&Stop", self.player.stop, None)
        self.addActions([self.play_action])

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addActions([self.open_media_action, self.import_action,
                              self.narration_action])
        file_menu.addSeparator()
        file_menu.addAction(self.transcribe_action)
        file_menu.addSeparator()
        file_menu.addActions([self.save_action, self.export_action])
        file_menu.addSeparator()
        file_menu.addAction(self.close_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        edit_menu.addActions([self.add_action, self.merge_action, self.split_action,
                              self.delete_action])
        edit_menu.addSeparator()
        edit_menu.addActions([self.align_action, self.build_action])
        play_menu = self.menuBar().addMenu("&Play")
        play_menu.addActions([self.play_action, self.stop_action])

        toolbar = self.addToolBar("Transcript")
        toolbar.setObjectName("transcriptToolbar")
        toolbar.addActions([self.open_media_action, self.import_action,
                            self.narration_action, self.transcribe_action])
        toolbar.addSeparator()
        # The menu's actions are named after the step ("Undo Split segment"); on the toolbar
        # that would make the buttons jump about, so they say Undo/Redo and tell the rest.
        for label, act, can, text_changed in (
            ("Undo", self.undo, stack.canUndoChanged, stack.undoTextChanged),
            ("Redo", self.redo, stack.canRedoChanged, stack.redoTextChanged),
        ):
            tool = QAction(label, self)
            tool.setEnabled(False)
            tool.triggered.connect(act)
            can.connect(tool.setEnabled)
            text_changed.connect(lambda text, a=tool, word=label: a.setToolTip(
                f"{word} {text}" if text else word))
            toolbar.addAction(tool)
        toolbar.addSeparator()
        toolbar.addAction(self.export_action)

        for action in (self.add_action, self.merge_action, self.delete_action):
            button = QToolButton()
            button.setDefaultAction(action)
            self._edit_bar.addWidget(button)
        self._edit_bar.addWidget(self.assign_button)
        align_button = QToolButton()
        align_button.setDefaultAction(self.align_action)
        self._edit_bar.addWidget(align_button)
        self._edit_bar.addWidget(self.stale_label)
        self._edit_bar.addStretch(1)
        for action in (self.build_action, self.add_action, self.split_action,
                       self.merge_action, self.delete_action):
            button = QToolButton()
            button.setDefaultAction(action)
            self.subtitles.toolbar.addWidget(button)
        self.subtitles.toolbar.addStretch(1)

    def _connect(self) -> None:
        self.play_button.clicked.connect(self.toggle_play)
        self.stop_button.clicked.connect(self.player.stop)
        self.speed.currentIndexChanged.connect(
            lambda _i: self.player.set_speed(float(self.speed.currentData())))
        self.player.position_changed.connect(self._on_player_position)
        self.player.state_changed.connect(self._on_player_state)
        self.player.error.connect(lambda exc: self.statusBar().showMessage(
            f"Playback stopped: {exc}", 8000))
        self.waveform.seek_requested.connect(self.seek)
        self.regions.retimed.connect(self._on_region_retimed)
        self.text_view.word_clicked.connect(self._on_word_clicked)
        self.text_view.delete_requested.connect(self.delete_selected)
        self.text_view.customContextMenuRequested.connect(self._on_text_menu)
        self.text_view.selectionModel().selectionChanged.connect(
            lambda *_: self._on_text_selection())
        self.text_view.segment_delegate.split_requested.connect(self.split_with_text)
        self.segment_model.edit_failed.connect(self._report)
        self.speakers.edit_failed.connect(self._report)
        self.subtitles.model.edit_failed.connect(self._report)
        self.subtitles.delegate.split_requested.connect(self.split_cue_with_text)
        self.subtitles.table.delete_requested.connect(self.delete_selected)
        self.subtitles.table.clicked.connect(self._on_cue_clicked)
        self.subtitles.table.selectionModel().selectionChanged.connect(
            lambda *_: self._on_cue_selection())
        self.subtitles.rules_form.rules_edited.connect(self._on_rules_edited)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.doc.transcript_changed.connect(self._on_transcript_changed)
        self.doc.transcript_replaced.connect(self._on_transcript_replaced)
        self.doc.subtitles_changed.connect(self._on_subtitles_changed)
        self.doc.subtitles_replaced.connect(self._refresh_regions)
        self.doc.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.task.progressed.connect(self._on_task_progress)
        self.task.running_changed.connect(self._on_task_running)
        self.task.cancelled.connect(self._on_task_cancelled)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)

    # -- state ---------------------------------------------------------------------------------

    @property
    def transcript(self) -> Transcript:
        """Return the transcript being edited."""
        return self.doc.transcript

    def _update_title(self) -> None:
        name = (self.transcript_path.name if self.transcript_path is not None
                else (self.media.label if self.media is not None else "Untitled"))
        self.setWindowTitle(f"{name}[*] — Transcript Editor")

    def _update_actions(self) -> None:
        has_media_file = self.media is not None and self.media.path is not None
        busy = self.task.running
        self.transcribe_action.setEnabled(has_media_file and not busy)
        self.align_action.setEnabled(has_media_file and not busy
                                     and bool(self.transcript.segments))
        self.narration_action.setEnabled(self.narration is not None and not busy)
        self.open_media_action.setEnabled(not busy)
        stale = sum(1 for s in self.transcript.segments if s.words_stale)
        self.stale_label.setText(f"{stale} edited segment{'s' if stale != 1 else ''} to align"
                                 if stale else "")
        self.stale_label.setToolTip("Their word times are estimates until you press "
                                    "Align words." if stale else "")

    def _finish_editing(self) -> None:
        """Commit and close an open segment editor: every command calls this first."""
        self.text_view.finish_editing()

    def undo(self) -> None:
        """Undo the last edit (an open segment editor's text is committed first)."""
        self._finish_editing()
        self.doc.undo_stack.undo()

    def redo(self) -> None:
        """Redo the last undone edit (an open segment editor's text is committed first)."""
        self._finish_editing()
        self.doc.undo_stack.redo()

    def _report(self, exc: object) -> None:
        """Show an edit the core refused in the status bar; anything else in a dialog."""
        if isinstance(exc, EditError):
            self.statusBar().showMessage(str(exc), 6000)
        elif isinstance(exc, BaseException):
            show_error(self, exc)

    def _edit(self, label: str, fn: Callable[[Transcript], TranscriptChanges]
              ) -> TranscriptChanges | None:
        try:
            return self.doc.edit(label, fn)
        except EditError as exc:
            self._report(exc)
            return None

    def _edit_cues(self, label: str, fn: Callable[[SubtitleTrack], CueChanges]
                   ) -> CueChanges | None:
        try:
            return self.doc.edit_cues(label, fn)
        except EditError as exc:
            self._report(exc)
            return None

    # -- loading ---------------------------------------------------------------------------------

    def set_transcript(self, transcript: Transcript, path: Path | None = None) -> None:
        """Edit ``transcript`` (the undo history starts afresh)."""
        self.player.pause()
        if transcript.duration is None and self.media is not None:
            transcript.duration = self.media.duration
        self.doc.set_transcript(transcript)
        self.transcript_path = path
        self._update_title()

    def set_media(self, media: LoadedMedia) -> None:
        """Play and draw ``media`` (the transcript stays)."""
        self.player.stop()
        old, self.media = self.media, media
        self.player.load(media.source, media.rate, [])
        if old is not None and old.source is not media.source:
            old.close()
        self.waveform.set_chapter(media.coarse, media.fine)
        self.regions.duration = media.duration
        self.media_label.setText(media.label)
        if self.transcript.duration is None:
            self.transcript.duration = media.duration
        if media.path is not None and not self.transcript.media:
            self.transcript.media = str(media.path)
        self._on_player_position(0.0)
        self._refresh_regions()
        self._update_title()
        self._update_actions()

    def open_media(self, path: str | Path, then: Callable[[], None] | None = None) -> None:
        """Decode a media file in the background, then show it."""
        path = Path(path)

        def work(cancel: CancelToken, progress: Callable[[float], None]) -> LoadedMedia:
            return load_media(path, cancel=cancel, progress=progress)

        def done(media: object) -> None:
            assert isinstance(media, LoadedMedia)
            self.set_media(media)
            self.statusBar().showMessage(f"Opened {path.name} ({clock(media.duration)}).", 5000)
            if then is not None:
                then()

        self._run(f"Opening {path.name}", work, done)

    def open_transcript(self, path: str | Path, open_named_media: bool = True) -> None:
        """Read a transcript file (JSON, SRT, VTT); open its media too when it names one
        (unless ``open_named_media`` is false: the caller opens media of its own)."""
        self._finish_editing()
        path = Path(path)
        try:
            transcript = tio.load_transcript(path)
        except StudioError as exc:
            show_error(self, exc)
            return
        if not self._may_replace():
            return
        self.set_transcript(transcript, path if path.suffix.lower() == ".json" else None)
        media = Path(transcript.media) if transcript.media else None
        if media is not None and not media.is_absolute():
            media = path.parent / media
        if open_named_media and self.media is None and media is not None and media.is_file():
            self.open_media(media)
        self.statusBar().showMessage(
            f"Opened {path.name}: {len(transcript.segments)} segments.", 5000)

    def open_narration(self) -> None:
        """Show the transcript of the project's narration of the current chapter."""
        self._finish_editing()
        from studio.core.playback import build_timeline
        from studio.core.transcript.narration import narration_transcript
        from studio.ui.transcript.media import narration_media

        found = self.narration() if self.narration is not None else None
        if found is None or found[0] is None or found[1] is None:
            self._report(EditError("Open a project and choose a chapter first."))
            return
        session, chapter = found
        timeline = build_timeline(session.project, chapter)
        if not timeline:
            self._report(EditError(f"'{chapter.title}' has no narration yet: generate it "
                                   "first."))
            return
        if not self._may_replace():
            return
        transcript = narration_transcript(session.project, chapter)
        self.set_media(narration_media(session.store, chapter, timeline))
        self.set_transcript(transcript)
        self.statusBar().showMessage(
            f"Narration of '{chapter.title}': {len(transcript.segments)} paragraphs, "
            "timed exactly from the takes.", 6000)

    def choose_media(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open Media", "", MEDIA_FILTER)
        if path:
            self.open_media(path)

    def choose_transcript(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import Transcript", "", TRANSCRIPT_FILTER)
        if path:
            self.open_transcript(path)

    # -- background work -------------------------------------------------------------------------

    def _run(self, label: str,
             work: Callable[[CancelToken, Callable[[float], None]], Any] | ProcessJob,
             done: Callable[[object], None]) -> None:
        def finished(result: object) -> None:
            disconnect()
            self.statusBar().clearMessage()
            done(result)

        def failed(exc: object) -> None:
            disconnect()
            self.statusBar().clearMessage()
            self._report(exc)

        def disconnect() -> None:
            self.task.finished.disconnect(finished)
            self.task.failed.disconnect(failed)
            self.task.cancelled.disconnect(disconnect)

        self.task.finished.connect(finished)
        self.task.failed.connect(failed)
        self.task.cancelled.connect(disconnect)
        self.progress.setValue(0)
        self.statusBar().showMessage(f"{label}…")
        if isinstance(work, ProcessJob):  # PocketSphinx holds the GIL: a thread would freeze
            self.task.start_process(label, work)
        else:
            self.task.start(label, work)

    def _on_clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    def _on_subtitles_changed(self, _changes: object) -> None:
        self._refresh_regions()

    def _on_task_progress(self, fraction: float) -> None:
        self.progress.setValue(round(fraction * 100))

    def _on_task_cancelled(self) -> None:
        self.statusBar().showMessage(f"{self.task.label}: cancelled.", 5000)

    def _on_cancel_clicked(self) -> None:
        self.task.cancel()

    def _on_task_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self._update_actions()

    def choose_transcription(self) -> None:
        """Ask for the engine and options, then transcribe the media."""
        from studio.ui.transcript.dialogs import TranscribeDialog, engine_default

        if self.media is None or self.media.path is None:
            return
        engine, has_key = engine_default()
        dialog = TranscribeDialog(self.media.path.name, engine, has_key, self)
        if dialog.exec() != TranscribeDialog.DialogCode.Accepted:
            return
        choice = dialog.choice()
        self.transcribe(choice.engine, choice.options)

    def transcribe(self, engine: str, options: Any = None) -> None:
        """Transcribe the open media in the background; the result replaces the transcript."""
        self._finish_editing()
        if self.media is None or self.media.path is None:
            return
        if not self._may_replace():
            return
        media = self.media.path

        def thread_work(cancel: CancelToken, progress: Callable[[float], None]) -> Transcript:
            return _transcribe(engine, media, options, cancel, progress)

        work: Callable[[CancelToken, Callable[[float], None]], Any] | ProcessJob = thread_work
        if engine != "elevenlabs":
            from studio.core.transcript.jobs import transcribe_offline_job

            work = ProcessJob(transcribe_offline_job, (str(media),))

        def done(result: object) -> None:
            assert isinstance(result, Transcript)
            self.set_transcript(result)
            words = sum(1 for _ in result.words())
            self.statusBar().showMessage(
                f"Transcribed: {len(result.segments)} segments, {words} words.", 6000)

        if engine == "elevenlabs":
            self.progress.setRange(0, 0)  # the service gives no progress: a busy bar
            self.task.running_changed.connect(self._reset_progress_range)
        self._run(f"Transcribing {media.name}", work, done)

    def _reset_progress_range(self, running: bool) -> None:
        if not running:
            self.progress.setRange(0, 100)
            self.task.running_changed.disconnect(self._reset_progress_range)

    def _may_replace(self) -> bool:
        if self.doc.undo_stack.isClean() or not self.ask_before_closing:
            return True
        return QMessageBox.question(
            self, "Replace transcript", "Replace the transcript? Your unsaved edits are lost."
        ) == QMessageBox.StandardButton.Yes

    def align_words(self, segment_ids: list[SegmentId] | None = None) -> None:
        """Recompute the word times of edited segments (or ``segment_ids``) in the background."""
        self._finish_editing()
        if self.media is None or self.media.path is None:
            self._report(EditError("Align words needs the media file the transcript is of."))
            return
        t = self.transcript
        if segment_ids is None:
            segment_ids = [s.id for s in t.segments if s.words_stale]
            if not segment_ids:
                segment_ids = self.text_view.selected_segment_ids()
        if not segment_ids:
            self._report(EditError("No segment has been edited since its words were aligned; "
                                   "select segments to align them again."))
            return
        from studio.ui.transcript.dialogs import engine_default

        engine, _ = engine_default()
        snapshot = t.copy()
        media = self.media.path
        ids = list(segment_ids)
        make = self.make_aligner

        def thread_work(cancel: CancelToken, progress: Callable[[float], None]) -> Transcript:
            from studio.core.transcript.align import align_words

            aligner = make(engine, media)
            try:
                done_ids: list[SegmentId] = []
                for k in range(0, len(ids), 20):  # in batches, to report progress
                    cancel.raise_if_cancelled("alignment")
                    batch = ids[k:k + 20]
                    align_words(snapshot, batch, aligner, cancel=cancel)
                    done_ids += batch
                    progress(len(done_ids) / len(ids))
            finally:
                close = getattr(aligner, "close", None)
                if close is not None:
                    close()
            return snapshot

        def done(result: object) -> None:
            assert isinstance(result, Transcript)
            self._apply_alignment(result, ids)

        work: Callable[[CancelToken, Callable[[float], None]], Any] | ProcessJob = thread_work
        if engine != "elevenlabs" and make is _default_aligner:
            from studio.core.transcript.jobs import align_offline_job

            work = ProcessJob(align_offline_job, (snapshot, ids, str(media)))
        self._run(f"Aligning words of {len(ids)} segment{'s' if len(ids) != 1 else ''}",
                  work, done)

    def _apply_alignment(self, aligned: Transcript, ids: list[SegmentId]) -> None:
        """Take the aligned words of segments the user has not edited since (one undo step)."""
        fresh = {s.id: s for s in aligned.segments}

        def fn(t: Transcript) -> TranscriptChanges:
            changes = TranscriptChanges()
            for segment in t.segments:
                new = fresh.get(segment.id)
                if new is None or segment.id not in ids:
                    continue
                if (new.text, new.start, new.end) != (segment.text, segment.start, segment.end):
                    continue  # edited while aligning: it stays marked for the next run
                changes = changes | set_segment_words(t, segment.id, new.words)
            return changes

        changes = self._edit("Align words", fn)
        n = len(changes.segments) if changes is not None else 0
        self.statusBar().showMessage(f"Aligned the words of {n} segment{'s' if n != 1 else ''}.",
                                     6000)

    # -- playback and highlighting ---------------------------------------------------------------

    def toggle_play(self) -> None:
        """Play or pause (Space)."""
        if not self.available or self.media is None:
            return
        if self.player.state == "playing":
            self.player.pause()
        else:
            self.player.play()

    def seek(self, t: float) -> None:
        """Move the playhead to ``t`` seconds (carrying on playing if playing)."""
        if self.media is not None and self.available:
            self.player.seek(t)  # reports the position: playhead and highlight follow
        else:
            self._on_player_position(t)

    def _on_word_clicked(self, segment_id: str, word_index: int) -> None:
        segment = self.transcript.segment(SegmentId(segment_id))
        self.seek(segment.words[word_index].start)

    def _on_player_position(self, t: float) -> None:
        self.waveform.set_playhead(t)
        total = self.media.duration if self.media is not None else 0.0
        self.position_label.setText(f"{clock(t)} / {clock(total)}")
        if self.player.state == "playing" and self.follow.isChecked():
            t0, t1 = self.waveform.visible_range()
            if not t0 <= t <= t1:
                span = t1 - t0
                self.waveform.set_visible_range(max(0.0, t - 0.1 * span), t + 0.9 * span)
        self._highlight(t)

    def _highlight(self, t: float) -> None:
        if self._word_index is None:
            self._word_index = WordTimes(self.transcript)
        hit = self._word_index.at(t)
        current = None
        if hit is not None:
            current = (self.transcript.segments[hit[0]].id, hit[1])
        if current == self.segment_model.current:
            return
        previous = self.segment_model.current
        self.segment_model.set_current(current)
        self.word_highlighted.emit(*(current if current is not None else ("", -1)))
        if (current is not None and self.follow.isChecked() and not self.text_view.is_editing()
                and (previous is None or previous[0] != current[0])):
            self.text_view.scroll_to_segment(current[0])

    def current_word(self) -> tuple[str, int] | None:
        """Return the highlighted word as (segment id, word index)."""
        return self.segment_model.current

    def _on_player_state(self, state: str) -> None:
        self.play_button.setText("Pause" if state == "playing" else "Play")

    # -- transcript edits ------------------------------------------------------------------------

    def _on_transcript_replaced(self) -> None:
        self._word_index = None
        self.segment_model.set_current(None)
        self._refresh_regions()
        self._update_actions()
        if self.transcript.segments:
            self.text_view.scrollToTop()

    def _on_transcript_changed(self, _changes: TranscriptChanges) -> None:
        self._word_index = None  # rebuilt at the next playhead tick, not on every edit
        self._refresh_regions()
        self._update_actions()
        if self.player.state == "playing":
            self._highlight(self.player.position)

    def split_with_text(self, segment_id: str, text: str, offset: int) -> None:
        """Enter in a segment's text: keep the typed text and split at the cursor."""
        sid = SegmentId(segment_id)
        stripped = text.strip()
        cut = min(max(0, offset - (len(text) - len(text.lstrip()))), len(stripped))

        def fn(t: Transcript) -> TranscriptChanges:
            changes = set_segment_text(t, sid, stripped) if stripped != t.segment(sid).text \
                else TranscriptChanges()
            return changes | split_segment(t, sid, cut)

        try:
            changes = self.doc.edit("Split segment", fn)
        except EditError as exc:
            self._report(exc)
            # Keep what was typed, and go on editing where the cursor was.
            self._edit("Edit segment text", lambda t: set_segment_text(t, sid, stripped))
            QTimer.singleShot(0, lambda: self.text_view.edit_segment(sid, cut))
            return
        new = next(iter(changes.added), None)
        if new is not None:
            QTimer.singleShot(0, lambda: self.text_view.edit_segment(new, 0))

    def merge_selected(self) -> None:
        """Merge the selected segment (or cue) with the next one; several: merge them all."""
        self._finish_editing()
        if self._mode == "subtitles":
            ids = self.subtitles.selected_cue_ids()
            if ids:
                first, count = ids[0], max(1, len(ids) - 1)

                def merge_cue_run(tr: SubtitleTrack) -> CueChanges:
                    changes = CueChanges()
                    for _ in range(count):
                        more = merge_cues(tr, first)
                        changes = CueChanges(changes.cues | more.cues, changes.added,
                                             changes.removed | more.removed, True)
                    return changes

                self._edit_cues("Merge cues", merge_cue_run)
            return
        ids = self.text_view.selected_segment_ids()
        if not ids:
            return
        first, count = ids[0], max(1, len(ids) - 1)

        def fn(t: Transcript) -> TranscriptChanges:
            changes = TranscriptChanges()
            for _ in range(count):
                changes = changes | merge_segments(t, first)
            return changes

        self._edit("Merge segments", fn)

    def delete_selected(self) -> None:
        """Delete the selected segments (or cues)."""
        self._finish_editing()
        if self._mode == "subtitles":
            cue_ids = self.subtitles.selected_cue_ids()
            if cue_ids:
                def delete_cues(tr: SubtitleTrack) -> CueChanges:
                    for cue_id in cue_ids:
                        delete_cue(tr, cue_id)
                    return CueChanges(removed=frozenset(cue_ids), order=True)

                self._edit_cues("Delete cues" if len(cue_ids) > 1 else "Delete cue",
                                delete_cues)
            return
        ids = self.text_view.selected_segment_ids()
        if not ids:
            return

        def fn(t: Transcript) -> TranscriptChanges:
            changes = TranscriptChanges()
            for segment_id in ids:
                changes = changes | delete_segment(t, segment_id)
            return changes

        self._edit("Delete segments" if len(ids) > 1 else "Delete segment", fn)

    def _new_span(self, spans: list[tuple[float, float]]) -> tuple[float, float] | None:
        selected = self.waveform.selected_range()
        duration = self.media.duration if self.media is not None else self.transcript.duration
        if selected is not None and selected[1] - selected[0] >= MIN_SEGMENT_S:
            return selected
        return free_span(spans, self.waveform.playhead_position(), duration)

    def add_at_playhead(self) -> None:
        """Add a segment (or cue) over the waveform selection, or in the gap at the playhead."""
        self._finish_editing()
        if self._mode == "subtitles":
            span = self._new_span([(c.start, c.end) for c in self.doc.subtitles.cues])
            if span is None:
                self._report(EditError("No free time at the playhead: move it to a gap, or "
                                       "select a free stretch of the waveform."))
                return
            changes = self._edit_cues("Add cue", lambda tr: add_cue(tr, span[0], span[1]))
            if changes is not None and changes.added:
                self.subtitles.select_cue(next(iter(changes.added)))
            return
        t = self.transcript
        span = self._new_span([(s.start, s.end) for s in t.segments])
        if span is None:
            self._report(EditError("No free time at the playhead: move it to a gap, or select "
                                   "a free stretch of the waveform."))
            return
        speaker = self.speakers.current_speaker()

        def fn(t: Transcript) -> TranscriptChanges:
            changes = TranscriptChanges()
            who = speaker
            if who is None or who not in {s.id for s in t.speakers}:
                if not t.speakers:
                    changes = add_speaker(t)
                who = t.speakers[0].id
            return changes | add_segment(t, span[0], span[1], who)

        changes = self._edit("Add segment", fn)
        if changes is not None and changes.added:
            new = next(iter(changes.added))
            self.waveform.clear_selection()
            QTimer.singleShot(0, lambda: self.text_view.edit_segment(new))

    def assign_selected(self, speaker_id: SpeakerId) -> None:
        """Give the selected segments to a speaker."""
        self._finish_editing()
        ids = self.text_view.selected_segment_ids()
        if not ids:
            return
        name = self.transcript.speaker(speaker_id).name

        def fn(t: Transcript) -> TranscriptChanges:
            changes = TranscriptChanges()
            for segment_id in ids:
                changes = changes | reassign_segment(t, segment_id, speaker_id)
            return changes

        self._edit(f"Give to {name}", fn)

    def _fill_assign_menu(self, menu: QMenu) -> None:
        menu.clear()
        for speaker in self.transcript.speakers:
            action = menu.addAction(swatch(speaker.colour), speaker.name)
            action.triggered.connect(lambda _=False, s=speaker.id: self.assign_selected(s))

    def _on_text_menu(self, pos: Any) -> None:
        index = self.text_view.indexAt(pos)
        if not index.isValid():
            return
        menu = QMenu(self)
        speaker_menu = menu.addMenu("Give to Speaker")
        self._fill_assign_menu(speaker_menu)
        menu.addAction(self.merge_action)
        menu.addAction(self.delete_action)
        menu.addAction(self.align_action)
        menu.exec(self.text_view.viewport().mapToGlobal(pos))

    def _on_text_selection(self) -> None:
        ids = self.text_view.selected_segment_ids()
        if self._mode == "transcript":
            self.regions.set_selected(ids)
        if len(ids) == 1:
            segment = self.transcript.segment(ids[0])
            self.speakers.select(segment.speaker_id)
            t0, t1 = self.waveform.visible_range()
            if self.media is not None and not (t0 <= segment.start and segment.end <= t1):
                span = max(t1 - t0, segment.duration * 1.2)
                self.waveform.set_visible_range(max(0.0, segment.start - 0.1 * span),
                                                max(0.0, segment.start - 0.1 * span) + span)

    def _on_region_retimed(self, item_id: str, start: float, end: float) -> None:
        self._finish_editing()
        if self._mode == "subtitles":
            self._edit_cues("Retime cue", lambda tr: retime_cue(tr, item_id, start, end))
        else:
            self._edit("Retime segment",
                       lambda t: retime_segment(t, SegmentId(item_id), start, end))

    def _refresh_regions(self) -> None:
        if self._mode == "subtitles":
            problems = track_problems(self.doc.subtitles)
            items = [RegionItem(c.id, c.start, c.end, "#d83b3b" if bad else "#2e9d4f")
                     for c, bad in zip(self.doc.subtitles.cues, problems, strict=True)]
        else:
            colours = {s.id: s.colour for s in self.transcript.speakers}
            items = [RegionItem(s.id, s.start, s.end, colours.get(s.speaker_id, "#888888"))
                     for s in self.transcript.segments]
        duration = self.media.duration if self.media is not None else self.transcript.duration
        self.regions.set_items(items, duration)

    def _on_tab_changed(self, index: int) -> None:
        self._mode = "subtitles" if index == 1 else "transcript"
        self.merge_action.setText("&Merge With Next")
        self.add_action.setText("&Add Cue" if self._mode == "subtitles" else "&Add Segment")
        self.regions.set_selected(self.subtitles.selected_cue_ids() if self._mode == "subtitles"
                                  else self.text_view.selected_segment_ids())
        self._refresh_regions()

    # -- subtitles -----------------------------------------------------------------------------

    def build_subtitles(self) -> None:
        """Make cues from the transcript under the rules shown (one undo step)."""
        self._finish_editing()
        try:
            rules = self.subtitles.rules_form.rules()
        except EditError as exc:
            self._report(exc)
            return
        if not self.transcript.segments:
            self._report(EditError("There is no transcript to build subtitles from."))
            return
        track = build_cues(self.transcript, rules)
        self.doc.replace_subtitles("Build subtitles", track)
        self.tabs.setCurrentIndex(1)
        bad = sum(1 for p in track_problems(track) if p)
        n = len(track.cues)
        self.statusBar().showMessage(f"Built {n} cue{'s' if n != 1 else ''}; {bad} break a rule.",
                                     6000)

    def _on_rules_edited(self, rules: object) -> None:
        if isinstance(rules, SubtitleRules):
            if rules != self.doc.subtitles.rules:
                self._edit_cues("Change subtitle rules", lambda tr: set_rules(tr, rules))
        else:
            self._report(rules)
            self.subtitles.rules_form.set_rules(self.doc.subtitles.rules)

    def split_cue_with_text(self, cue_id: str, text: str, offset: int) -> None:
        """Enter in a cue's text: keep the typed text and split at the cursor."""
        self._edit_cues("Split cue", lambda tr: split_cue_text(tr, cue_id, text, offset))

    def split_selected_cue(self) -> None:
        """Split the selected cue at the space nearest its middle."""
        ids = self.subtitles.selected_cue_ids()
        if not ids:
            return
        cue = self.doc.subtitles.cues[self.doc.subtitles.index(ids[0])]
        middle = len(cue.text) // 2
        spaces = [i for i, ch in enumerate(cue.text) if ch.isspace()]
        offset = min(spaces, key=lambda i: abs(i - middle)) if spaces else middle
        self.split_cue_with_text(cue.id, cue.text, offset)

    def _on_cue_clicked(self, index: Any) -> None:
        cues = self.doc.subtitles.cues
        if 0 <= index.row() < len(cues):
            self.seek(cues[index.row()].start)

    def _on_cue_selection(self) -> None:
        if self._mode == "subtitles":
            self.regions.set_selected(self.subtitles.selected_cue_ids())

    # -- saving and exporting --------------------------------------------------------------------

    def save(self) -> bool:
        """Save the transcript as our JSON (asking where, the first time)."""
        self._finish_editing()
        if self.transcript_path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save Transcript",
                                                  self._suggested_name("json"),
                                                  "Transcript JSON (*.json)")
            if not path:
                return False
            self.transcript_path = Path(path).with_suffix(".json")
        if self.export_to(self.transcript_path, "json"):
            self.doc.undo_stack.setClean()
            self._update_title()
            return True
        return False

    def _suggested_name(self, suffix: str) -> str:
        if self.transcript_path is not None:
            return str(self.transcript_path.with_suffix(f".{suffix}"))
        if self.media is not None and self.media.path is not None:
            return str(self.media.path.with_suffix(f".{suffix}"))
        stem = self.media.label if self.media is not None and self.media.label else "transcript"
        return f"{stem}.{suffix}"

    def choose_export(self) -> None:
        """Ask for a file and a format, then export."""
        self._finish_editing()
        default = "SubRip subtitles (*.srt)" if self._mode == "subtitles" \
            else "Plain text (*.txt)"
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export", self._suggested_name(EXPORTS[default]), ";;".join(EXPORTS),
            default)
        if not path:
            return
        fmt = EXPORTS.get(chosen) or Path(path).suffix.lower().lstrip(".")
        if fmt not in EXPORTS.values():
            fmt = "txt"
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(f".{fmt}")
        if self.export_to(target, fmt):
            self.statusBar().showMessage(f"Exported {target.name}.", 5000)

    def export_to(self, path: Path, fmt: str) -> bool:
        """Write the transcript (txt/json/html) or the subtitles (srt/vtt) to ``path``."""
        self._finish_editing()
        try:
            if fmt in ("srt", "vtt"):
                track = self.doc.subtitles
                if not track.cues:  # nothing built yet: build under the rules shown
                    track = build_cues(self.transcript, self.subtitles.rules_form.rules())
                if any(CueProblem.OVERLAP in p for p in track_problems(track)):
                    raise EditError("Some cues overlap: fix them before exporting.")
                text = export_subtitles(track, fmt)
            else:
                text = tio.export(self.transcript, fmt)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except (StudioError, OSError) as exc:
            show_error(self, exc if isinstance(exc, StudioError)
                       else StudioError(f"{path}: could not be written ({exc})"))
            return False
        return True

    # -- closing -------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.ask_before_closing and not self.doc.undo_stack.isClean():
            answer = QMessageBox.question(
                self, "Transcript Editor", "Save the transcript before closing?",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel)
            if answer == QMessageBox.StandardButton.Cancel or (
                answer == QMessageBox.StandardButton.Save and not self.save()
            ):
                event.ignore()
                return
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop playback and background work; release the media."""
        self.task.cancel(quiet=True)
        self.task.wait(5.0)
        self.player.stop()
        if self.media is not None:
            self.player.load(np.zeros(0, np.float32), self.media.rate, [])  # frees the source
            self.media.close()
            self.media = None


def _default_aligner(engine: str, media: Path) -> Any:
    """Return the aligner Settings choose: ElevenLabs Forced Alignment or PocketSphinx."""
    if engine == "elevenlabs":
        from studio.core.engines import AuthError
        from studio.core.settings import load_settings, resolve_api_key, resolve_base_url
        from studio.core.transcript.elevenlabs import ElevenLabsAligner, ElevenLabsSpeech

        settings = load_settings()
        key, _ = resolve_api_key(settings)
        if not key:
            raise AuthError("No ElevenLabs API key is set: add one in Settings, or choose the "
                            "offline engine.")
        return ElevenLabsAligner(ElevenLabsSpeech(key, resolve_base_url(settings)), media)
    from studio.core.transcript.align import OfflineAligner

    return OfflineAligner(media)


def _transcribe(engine: str, media: Path, options: Any, cancel: CancelToken,
                progress: Callable[[float], None]) -> Transcript:
    """Transcribe ``media`` with the chosen engine (runs on a worker thread)."""
    if engine == "elevenlabs":
        from studio.core.engines import AuthError
        from studio.core.settings import load_settings, resolve_api_key, resolve_base_url
        from studio.core.transcript.elevenlabs import ElevenLabsSpeech

        settings = load_settings()
        key, _ = resolve_api_key(settings)
        if not key:
            raise AuthError("No ElevenLabs API key is set: add one in Settings, or choose the "
                            "offline engine.")
        with ElevenLabsSpeech(key, resolve_base_url(settings)) as client:
            finished = threading.Event()

            def close_on_cancel() -> None:  # a request in flight only ends with its client
                while not finished.is_set():
                    if cancel.wait(0.1):
                        client.abort()
                        return

            threading.Thread(target=close_on_cancel, name="studio-transcribe-cancel",
                             daemon=True).start()
            try:
                return client.transcribe(media, options, cancel=cancel)
            except Exception:
                cancel.raise_if_cancelled("transcription")  # the closed client's error
                raise
            finally:
                finished.set()
    from studio.core.transcript.align import transcribe_offline

    return transcribe_offline(media, cancel=cancel, progress=progress)


def open_transcript_editor(main_window: Any) -> TranscriptEditorWindow:
    """Open (or raise) the transcript editor of a main window (Tools ▸ Transcript Editor…)."""
    editor = main_window.findChild(TranscriptEditorWindow)
    if editor is None:
        def narration() -> tuple[Any, Any] | None:
            session = getattr(main_window, "session", None)
            blocks = getattr(main_window, "blocks_model", None)
            return session, getattr(blocks, "chapter", None)

        editor = TranscriptEditorWindow(getattr(main_window, "_player_sink", None),
                                        narration, main_window)
    editor.show()
    editor.raise_()
    editor.activateWindow()
    return editor


def run_standalone(media: Path | None = None, transcript: Path | None = None) -> int:
    """Run the editor as its own application (``studio transcript-editor``)."""
    import os
    import sys

    from PySide6.QtWidgets import QApplication

    from studio import __version__
    from studio.ui.errors import install_excepthooks
    from studio.ui.theme import install_theme

    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))):
        sys.stderr.write("studio: no display found; run it from a desktop session, or under a "
                         "virtual screen with 'xvfb-run -a studio transcript-editor'\n")
        return 1
    for path in (media, transcript):
        if path is not None and not path.is_file():
            sys.stderr.write(f"studio: {path}: does not exist\n")
            return 1
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Narrator Studio")
    app.setOrganizationName("NarratorStudio")
    app.setApplicationVersion(__version__)
    install_excepthooks()
    install_theme()
    window = standalone_window(media, transcript)
    window.show()
    return int(app.exec())


def standalone_window(media: Path | None, transcript: Path | None) -> TranscriptEditorWindow:
    """Return the editor on ``transcript`` and ``media``: MEDIA, when given, wins over the
    file the transcript names."""
    window = TranscriptEditorWindow()
    if transcript is not None:
        window.open_transcript(transcript, open_named_media=media is None)
    if media is not None:
        window.open_media(media)
    return window
