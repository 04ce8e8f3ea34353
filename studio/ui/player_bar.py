"""The player bar and the chapter's audio: timeline, waveform and playback wiring.

:class:`PlayerBar` keeps the playing chapter's timeline, waveform envelopes and audio source
in step with the project; its buttons drive the :class:`~studio.ui.player.Player`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from studio.core import audio as audiolib
from studio.core.model import BlockId, Chapter, Take, TakeId
from studio.core.playback import ChapterAudio, Segment, build_timeline, locate
from studio.core.store import ProjectStore
from studio.core.waveform import LazyEnvelope, chapter_envelope
from studio.ui.player import OutputSink, Player, playback_available
from studio.ui.session import ProjectSession
from studio.ui.waveform import WaveformView

SPEEDS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
PLAY_RATE = 22050  # what the player plays at; takes are resampled to it as they are read


def _chapter_audio(path: Path, chapter: Chapter | None, timeline: list[Segment]) -> ChapterAudio:
    """Return the timeline's audio, each take read from the file at ``path`` when needed.

    Every read opens the project read-only for itself: it runs on the player's thread (or
    the decode-ahead thread), and a SQLite connection belongs to the thread that made it.
    """
    formats = {b.current_take.id: b.current_take.format
               for b in (chapter.blocks if chapter is not None else [])
               if b.current_take is not None}

    def load(take_id: TakeId) -> tuple[object, int]:
        with ProjectStore.open(path, read_only=True) as store:
            data = store.load_take_audio(take_id)
        return audiolib.decode(data, formats[take_id])

    return ChapterAudio(timeline, load, PLAY_RATE)  # type: ignore[arg-type]


def _clock(t: float) -> str:
    return f"{int(t // 60)}:{int(t % 60):02d}"


class PlayerBar(QWidget):
    """Play/pause, stop, speed and position, over a :class:`Player`.

    Signals:
        word_spoken(str, int): the paragraph (block id) and word index being spoken now.
    """

    word_spoken = Signal(str, int)

    def __init__(self, waveform: WaveformView, sink: OutputSink | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.waveform = waveform
        self.session: ProjectSession | None = None
        self.chapter: Chapter | None = None
        self.timeline: list[Segment] = []
        self.available, self.reason = (True, "") if sink is not None else playback_available()
        self.player = Player(sink=sink, parent=self)
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("playButton")
        self.play_button.clicked.connect(self.toggle)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.player.stop)
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.currentIndexChanged.connect(
            lambda _i: self.player.set_speed(float(self.speed.currentData())))
        self.position = QLabel("0:00 / 0:00")
        self.note = QLabel("" if self.available else f"Playback off: {self.reason}")
        self.note.setObjectName("playbackNote")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for w in (self.play_button, self.stop_button, self.speed, self.position):
            layout.addWidget(w)
        layout.addWidget(self.note, 1)
        for w in (self.play_button, self.stop_button, self.speed):
            w.setEnabled(self.available)
            if not self.available:
                w.setToolTip(self.reason)
        self.player.position_changed.connect(self._on_position)
        self.player.state_changed.connect(self._on_state)
        self.player.word_changed.connect(self.word_spoken)
        self.player.error.connect(self._on_error)
        waveform.seek_requested.connect(self.seek)
        waveform.selection_changed.connect(self._on_selection)
        self._dirty = True
        self._shown: object = None  # the chapter whose waveform is shown

    # -- chapter -----------------------------------------------------------------------------

    def set_chapter(self, session: ProjectSession | None, chapter: Chapter | None) -> None:
        """Show ``chapter``'s waveform and get its audio ready to play (lazily)."""
        self.player.stop()
        self.session, self.chapter = session, chapter
        self._shown = None
        self.refresh()

    def refresh(self, force: bool = True) -> None:
        """Rebuild the timeline and waveform from the chapter's current takes.

        With ``force`` False nothing is redone when the timeline is unchanged (an edit of
        text, not of narration).
        """
        if self.session is None or self.chapter is None:
            self.timeline = []
            self.waveform.clear()
            return
        timeline = build_timeline(self.session.project, self.chapter)
        if not force and timeline == self.timeline:
            return
        # The same chapter with new narration keeps its view; another chapter starts at 0.
        same_chapter = self._shown == self.chapter.id
        self._shown = self.chapter.id
        self.timeline = timeline
        if not timeline:  # nothing narrated yet: say so rather than draw an empty axis
            self.waveform.clear()
            self.position.setText("0:00 / 0:00")
            self._dirty = True
            return
        store = self.session.store
        # Stored summaries only, never decoded audio: every coarse one now (one query), the
        # fine ones as the detail view reaches them, so a 10-hour chapter opens at once.
        coarse = store.load_peaks_many([s.take_id for s in timeline], "coarse")
        self.waveform.set_chapter(
            chapter_envelope([(s.start, coarse[s.take_id]) for s in timeline
                              if coarse.get(s.take_id) is not None], "coarse"),
            LazyEnvelope([s.start for s in timeline], [s.end for s in timeline],
                         lambda i: store.load_peaks(timeline[i].take_id)[0]),
            breaks=[s.start + b for s in timeline for b in s.breaks],
            keep_view=same_chapter,
        )
        duration = self.timeline[-1].end if self.timeline else 0.0
        self.position.setText(f"0:00 / {_clock(duration)}")
        self._dirty = True

    def _then(self, action: Callable[[], None]) -> None:
        """Run ``action`` with the chapter's audio ready to play.

        Nothing is decoded here: the player reads a :class:`ChapterAudio`, which decodes the
        takes around the playhead on the player's thread (and the next one ahead), each
        through a read-only connection of its own, so the window never waits for a decode
        and a 10-hour chapter is never held in memory whole.
        """
        if self._dirty and self.session is not None:
            self.player.load(_chapter_audio(self.session.store.path, self.chapter, self.timeline),
                             PLAY_RATE, self.timeline)
            self._dirty = False
        action()

    # -- controls -----------------------------------------------------------------------------

    def toggle(self) -> None:
        """Play or pause (Space)."""
        if not self.available or not self.timeline:
            return
        if self.player.state == "playing":
            self.player.pause()
            return
        self._then(self.player.play)

    def seek(self, t: float) -> None:
        """Move the playhead to ``t`` seconds."""
        self.waveform.set_playhead(t)
        if self.timeline and self.available:
            self._then(lambda: self.player.seek(t))

    def play_selection(self, t0: float, t1: float) -> None:
        """Play the waveform selection."""
        if not self.available or not self.timeline:
            return
        self._then(lambda: self.player.play(t0, t1))

    def play_paragraphs(self, block_ids: list[str], until_end: bool = False) -> bool:
        """Play the given paragraphs (or from the first of them to the end of the chapter).

        Return False when none of them has narration to play.
        """
        segments = [s for s in self.timeline if s.block_id in set(block_ids)]
        if not self.available or not segments:
            return False
        start, end = segments[0].start, None if until_end else segments[-1].end
        self._then(lambda: self.player.play(start, end))
        return True

    def play_take(self, take: Take) -> None:
        """Play one take on its own (a take from the history, current or not)."""
        if not self.available or self.session is None:
            return
        path, fmt = self.session.store.path, take.format

        def load(_take_id: TakeId) -> tuple[object, int]:
            with ProjectStore.open(path, read_only=True) as store:
                data = store.load_take_audio(take.id)
            return audiolib.decode(data, fmt)

        segment = Segment(BlockId(take.block_id), 0.0, take.duration, take.id,
                          tuple(take.word_timings))
        self.player.load(ChapterAudio([segment], load, PLAY_RATE),  # type: ignore[arg-type]
                         PLAY_RATE, [segment])
        self._dirty = True  # the chapter is loaded again when it is played next
        self.player.play(0.0)

    def _on_selection(self, t0: float, t1: float) -> None:
        self.play_selection(t0, t1)

    def _on_position(self, t: float) -> None:
        self.waveform.set_playhead(t)
        duration = self.timeline[-1].end if self.timeline else 0.0
        self.position.setText(f"{_clock(t)} / {_clock(duration)}")

    def _on_state(self, state: str) -> None:
        self.play_button.setText("Pause" if state == "playing" else "Play")

    def _on_error(self, exc: object) -> None:
        self.note.setText(f"Playback stopped: {exc}")

    def word_at(self, t: float) -> tuple[str, int | None] | None:
        """Return (block id, word index) at ``t`` (for tests and the window)."""
        hit = locate(self.timeline, t)
        if hit is None:
            return None
        return self.timeline[hit[0]].block_id, hit[1]
