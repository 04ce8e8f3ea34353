"""Play a rendered chapter through an output sink, reporting position, paragraph and word.

Audio goes to the sink from a plain Python worker thread in fixed chunks; the thread never
touches Qt objects. It only advances a position (original timeline seconds) that a GUI-thread
``QTimer`` polls about 30 times a second to emit signals, so the UI is never flooded per chunk.

The sink is a seam: :class:`SoundDeviceSink` plays on the default output device, and
:class:`NullSink` swallows (and records) audio so tests never need a device. sounddevice is
imported only when a sink is opened or availability is checked, never at import: without
PortAudio its import raises ``OSError``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from studio.core.errors import StudioError
from studio.core.playback import (
    MAX_SPEED,
    MIN_SPEED,
    ArraySource,
    SampleSource,
    Segment,
    Stretcher,
    locate,
)

log = logging.getLogger(__name__)

NO_DEVICE_HINT = "No audio output device — install libportaudio2 / check sound settings"
# ~93 ms at 22.05 kHz: short enough to stop/seek promptly, long enough not to starve the device.
CHUNK_FRAMES = 2048
TICK_MS = 33  # ~30 Hz position updates for the playhead and highlighting


class PlaybackUnavailable(StudioError):
    """Audio cannot be played on this machine (no PortAudio or no output device)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{NO_DEVICE_HINT} ({reason})")
        self.reason = reason


class OutputSink(Protocol):
    """Where the player's audio goes."""

    def open(self, rate: int) -> None:
        """Prepare to receive float32 mono frames at ``rate``."""

    def write(self, frames: np.ndarray) -> None:
        """Play ``frames``, blocking roughly until there is room (may drop on underrun)."""

    def close(self) -> None:
        """Stop and release the output."""


def _import_sounddevice() -> Any:
    """Import sounddevice, turning a missing PortAudio into :class:`PlaybackUnavailable`."""
    try:
        # Lazy on purpose: without PortAudio the import itself raises OSError.
        import sounddevice as sd
    except (OSError, ImportError) as exc:
        raise PlaybackUnavailable(f"sounddevice/PortAudio not usable: {exc}") from exc
    return sd


def _check_output_device(sd: Any) -> None:
    """Raise :class:`PlaybackUnavailable` unless PortAudio reports a default output device."""
    try:
        device = sd.query_devices(kind="output")
    except Exception as exc:  # sd.PortAudioError, or ValueError when there is no default device
        raise PlaybackUnavailable(f"no output device: {exc}") from exc
    if not device:
        raise PlaybackUnavailable("no output device found")


def playback_available() -> tuple[bool, str]:
    """Return (True, "") if audio can be played, else (False, a reason to show the user)."""
    try:
        _check_output_device(_import_sounddevice())
    except PlaybackUnavailable as exc:
        return False, str(exc)
    return True, ""


class SoundDeviceSink:
    """Play on the default output device through a blocking sounddevice ``OutputStream``."""

    def __init__(self) -> None:
        self._stream: Any = None

    def open(self, rate: int) -> None:
        """Open and start a mono float32 stream at ``rate``."""
        sd = _import_sounddevice()
        _check_output_device(sd)
        try:
            self._stream = sd.OutputStream(samplerate=rate, channels=1, dtype="float32")
            self._stream.start()
        except Exception as exc:  # sd.PortAudioError: device busy, bad rate...
            self._stream = None
            raise PlaybackUnavailable(f"could not open the output: {exc}") from exc

    def write(self, frames: np.ndarray) -> None:
        """Write frames, blocking until the device has room (underruns are ignored)."""
        if self._stream is not None:
            self._stream.write(np.ascontiguousarray(frames, dtype=np.float32).reshape(-1, 1))

    def close(self) -> None:
        """Stop and close the stream."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
            finally:
                stream.close()


class NullSink:
    """Record written audio instead of playing it; optionally sleep as a device would.

    Args:
        paced: sleep ``len(frames) / rate / time_scale`` per write, like a real device.
        time_scale: how much faster than real time a paced sink runs.
    """

    def __init__(self, paced: bool = False, time_scale: float = 1.0) -> None:
        self.paced = paced
        self.time_scale = time_scale
        self.rate = 0
        self.chunks: list[np.ndarray] = []
        self.opened = 0
        self.closed = 0

    def open(self, rate: int) -> None:
        """Remember the rate."""
        self.rate = rate
        self.opened += 1

    def write(self, frames: np.ndarray) -> None:
        """Record ``frames``, pacing if asked."""
        self.chunks.append(np.array(frames, copy=True))
        if self.paced and self.rate:
            time.sleep(len(frames) / self.rate / self.time_scale)

    def close(self) -> None:
        """Count the close."""
        self.closed += 1

    @property
    def frames_written(self) -> int:
        """Return the number of frames written so far."""
        return sum(len(c) for c in self.chunks)


class Player(QObject):
    """Play loaded chapter audio, optionally a selection, at 0.5-2x speed with the pitch kept.

    Signals:
        position_changed(float): playhead, original timeline seconds (~30 Hz while playing).
        paragraph_changed(str): block id of the paragraph now under the playhead.
        word_changed(str, int): block id and index into its take's word timings.
        state_changed(str): "playing", "paused" or "stopped".
        error(object): an exception from the output (e.g. :class:`PlaybackUnavailable`).
    """

    position_changed = Signal(float)
    paragraph_changed = Signal(str)
    word_changed = Signal(str, int)
    state_changed = Signal(str)
    error = Signal(object)

    def __init__(
        self,
        sink: OutputSink | None = None,
        chunk_frames: int = CHUNK_FRAMES,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.sink: OutputSink = sink if sink is not None else SoundDeviceSink()
        self.chunk_frames = chunk_frames
        self._source: SampleSource = ArraySource(np.zeros(0, dtype=np.float32), 22050)
        self._rate = 22050
        self._timeline: list[Segment] = []
        self._speed = 1.0
        self._state = "stopped"
        # Shared with the worker: it writes _position/_finished/_failure; floats and object
        # references are assigned atomically under the GIL, so no lock is needed to read them.
        self._position = 0.0
        self._finished = False
        self._failure: BaseException | None = None
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._play_start = 0.0
        self._play_end: float | None = None
        self._last_reported: float | None = None
        self._last_paragraph: int | None = None
        self._last_word: tuple[int, int] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    # -- properties ---------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """Return "playing", "paused" or "stopped"."""
        return self._state

    @property
    def position(self) -> float:
        """Return the playhead in original timeline seconds."""
        return self._position

    @property
    def duration(self) -> float:
        """Return the length of the loaded audio in seconds."""
        return len(self._source) / self._rate if self._rate else 0.0

    @property
    def speed(self) -> float:
        """Return the playback speed."""
        return self._speed

    # -- control ------------------------------------------------------------------------------

    def load(self, samples: np.ndarray | SampleSource, rate: int,
             timeline: list[Segment]) -> None:
        """Stop and load new audio (float32 mono at ``rate``) with its timeline.

        ``samples`` is an array, or a source read as it plays (a chapter decoded around
        the playhead, never whole).
        """
        self._halt()
        old = self._source
        self._source = (samples if hasattr(samples, "read")  # type: ignore[assignment]
                        else ArraySource(samples, rate))
        close = getattr(old, "close", None)
        if close is not None and old is not self._source:
            close()
        self._rate = rate
        self._timeline = list(timeline)
        self._position = 0.0
        self._reset_highlight()
        self._set_state("stopped")
        self._report(force=True)

    def play(self, start: float | None = None, end: float | None = None) -> None:
        """Play from ``start`` (default: the playhead) to ``end`` (default: the end)."""
        self._halt()
        if start is None:
            start = self._position
            if start >= self.duration - 1e-9:
                start = 0.0
        start = self._clamp(start)
        end = None if end is None else self._clamp(end)
        if end is not None and end <= start:
            return
        self._play_start, self._play_end = start, end
        self._reset_highlight()  # announce the paragraph and word playback starts in
        self._start_worker(start)

    def pause(self) -> None:
        """Pause, keeping the playhead where it is."""
        if self._state != "playing":
            return
        self._halt()
        self._set_state("paused")
        self._report(force=True)

    def stop(self) -> None:
        """Stop and put the playhead back where the last play started."""
        was = self._state
        self._halt()
        if was != "stopped":
            self._position = self._play_start
            self._set_state("stopped")
        self._report(force=True)

    def seek(self, t: float) -> None:
        """Move the playhead to ``t`` seconds, carrying on playing if playing."""
        t = self._clamp(t)
        if self._state == "playing":
            self._halt()
            if self._play_end is not None and t >= self._play_end:
                self._play_end = None
            self._start_worker(t)  # reports t before playing on
        else:
            self._position = t
            self._report(force=True)

    def set_speed(self, speed: float) -> None:
        """Set the speed (clamped to 0.5-2.0); takes effect at once if playing."""
        self._speed = min(max(float(speed), MIN_SPEED), MAX_SPEED)
        if self._state == "playing":
            self._halt()
            self._start_worker(self._position)

    # -- internals ----------------------------------------------------------------------------

    def _clamp(self, t: float) -> float:
        return min(max(0.0, float(t)), self.duration)

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    def _reset_highlight(self) -> None:
        self._last_reported = None
        self._last_paragraph = None
        self._last_word = None

    def _start_worker(self, start: float) -> None:
        self._position = start
        self._finished = False
        self._failure = None
        self._stop_event = threading.Event()
        end_t = self.duration if self._play_end is None else self._play_end
        first = round(start * self._rate)
        last = max(first, round(end_t * self._rate))
        self._thread = threading.Thread(
            target=self._run,
            args=(self._stop_event, first, last, self._speed),
            name="studio-player",
            daemon=True,
        )
        self._set_state("playing")
        self._report(force=True)  # the start point itself, before the worker moves on
        self._thread.start()
        self._timer.start()

    def _halt(self) -> None:
        """Stop the worker (if any) and wait for it; the timer stops too."""
        self._stop_event.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5.0)
            if thread.is_alive():
                log.warning("player worker did not stop within 5 s")
        self._timer.stop()

    def _run(self, stop: threading.Event, first: int, last: int, speed: float) -> None:
        """Worker thread: feed ``samples[first:last]`` at ``speed`` to the sink."""
        rate, source, chunk = self._rate, self._source, self.chunk_frames
        try:
            self.sink.open(rate)
            try:
                if speed == 1.0:
                    index = first
                    while index < last and not stop.is_set():
                        upto = min(index + chunk, last)
                        self.sink.write(source.read(index, upto))
                        index = upto
                        self._position = index / rate
                else:
                    stretcher = Stretcher(source, rate, speed, first, last)
                    while not stretcher.done and not stop.is_set():
                        self.sink.write(stretcher.read(chunk))
                        self._position = stretcher.source_position / rate
            finally:
                self.sink.close()
        except BaseException as exc:  # reported on the GUI thread by the timer
            self._failure = exc
        finally:
            if not stop.is_set():
                self._finished = True

    def _on_timer_timeout(self) -> None:
        failure, finished = self._failure, self._finished
        self._report()
        if failure is not None or finished:
            self._halt()
            self._failure = None
            self._finished = False
            if failure is not None:
                log.warning("playback failed: %s", failure)
                self.error.emit(failure)
            self._set_state("stopped")

    def _report(self, force: bool = False) -> None:
        """Emit position, paragraph and word for the current playhead if they changed."""
        t = self._position
        if force or t != self._last_reported:
            self._last_reported = t
            self.position_changed.emit(t)
        hit = locate(self._timeline, t)
        if hit is None:
            return
        index, word = hit
        block_id = str(self._timeline[index].block_id)
        if index != self._last_paragraph:
            self._last_paragraph = index
            self._last_word = None
            self.paragraph_changed.emit(block_id)
        if word is not None and (index, word) != self._last_word:
            self._last_word = (index, word)
            self.word_changed.emit(block_id, word)
