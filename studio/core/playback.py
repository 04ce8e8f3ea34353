"""Lay a chapter's takes out on a timeline, render it, locate words in it and change its speed.

The timeline is what the player plays: every paragraph with a current take, in reading order,
each followed by the project's paragraph pause. Paragraphs without a take are skipped. Times
are seconds on the chapter timeline; word timings stay relative to their take.

Speed changes keep the pitch with WSOLA (waveform-similarity overlap-add): output frames are
taken from the source at ``speed`` times the output hop, each one shifted by up to a quarter
frame to the position whose waveform best continues the previous frame. :class:`Stretcher`
produces the stretched stream incrementally from any start point, so the player can feed it
chunk by chunk; :func:`time_stretch` runs it over a whole buffer.

Audio reaches the player through a :class:`SampleSource`: :class:`ArraySource` wraps samples in
memory, and :class:`ChapterAudio` decodes a chapter's takes on demand around the playhead (a
few takes cached, the next one decoded ahead), so a 10-hour chapter is never decoded whole.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from studio.core.model import BREAK_RE, BlockId, Chapter, Project, TakeId, WordTiming

Samples = npt.NDArray[np.float32]

DEFAULT_PAUSE_S: Final = 0.5
MIN_SPEED: Final = 0.5
MAX_SPEED: Final = 2.0
_FRAME_S: Final = 0.04  # WSOLA frame ~40 ms: long enough for low voices, short enough to not smear


@dataclass(frozen=True, slots=True)
class Segment:
    """One paragraph on the chapter timeline: ``[start, end)`` seconds, its take and word times."""

    block_id: BlockId
    start: float
    end: float
    take_id: TakeId
    word_timings: tuple[WordTiming, ...] = ()
    gain_db: float = 0.0  # the paragraph voice's volume
    breaks: tuple[float, ...] = ()  # seconds into the take where its break tags fall


def break_times(text: str, words: tuple[WordTiming, ...] | list[WordTiming]) -> tuple[float, ...]:
    """Return where each break tag of ``text`` falls in its take (seconds), from word timings.

    A break sits in the silence between the word before the tag and the word after it; with
    no word timings it cannot be placed and is left out.
    """
    out: list[float] = []
    for match in BREAK_RE.finditer(text):
        before = [w for w in words if w.char_end <= match.start()]
        after = [w for w in words if w.char_start >= match.end()]
        if before and after:
            out.append((before[-1].end + after[0].start) / 2)
        elif before:
            out.append(before[-1].end)
        elif after:
            out.append(after[0].start)
    return tuple(out)


def build_timeline(
    project: Project, chapter: Chapter, pause_s: float | None = None
) -> list[Segment]:
    """Return the chapter's paragraphs that have a current take, in order, each followed by a pause.

    Args:
        pause_s: silence after each paragraph; defaults to the project's ``paragraph_pause_s``.
    """
    if pause_s is None:
        pause_s = float(project.settings.get("paragraph_pause_s", DEFAULT_PAUSE_S))
    pause_s = max(0.0, pause_s)
    segments: list[Segment] = []
    t = 0.0
    for block in chapter.blocks:
        take = block.current_take
        if take is None:
            continue
        end = t + max(0.0, take.duration)
        voice = project.voice_for(block)
        gain = voice.volume_db if voice is not None else 0.0
        breaks = break_times(take.text, take.word_timings) if "<break" in take.text else ()
        segments.append(Segment(block.id, t, end, take.id, tuple(take.word_timings), gain,
                                breaks))
        t = end + pause_s
    return segments


def locate(timeline: list[Segment], t: float) -> tuple[int, int | None] | None:
    """Return (segment index, word index or None) for time ``t``; None before 0 or past the end.

    A time in the pause after a paragraph belongs to that paragraph, with no word. Between two
    words of a paragraph the earlier word stays current.
    """
    if not timeline or t < 0 or t >= timeline[-1].end:
        return None
    index = bisect.bisect_right(timeline, t, key=lambda s: s.start) - 1
    if index < 0:
        return None
    segment = timeline[index]
    if t >= segment.end:
        return index, None
    words = segment.word_timings
    local = t - segment.start
    word = bisect.bisect_right(words, local, key=lambda w: w.start) - 1
    return index, (word if word >= 0 else None)


def resample(samples: npt.ArrayLike, rate: int, new_rate: int) -> Samples:
    """Return mono ``samples`` at ``new_rate`` by linear interpolation (enough for monitoring)."""
    array = np.asarray(samples, dtype=np.float32)
    if rate == new_rate or len(array) == 0:
        return array
    n_out = round(len(array) * new_rate / rate)
    positions = np.arange(n_out, dtype=np.float64) * (rate / new_rate)
    return np.interp(positions, np.arange(len(array)), array).astype(np.float32)


def render_chapter_audio(
    segments: list[Segment],
    load: Callable[[TakeId], tuple[npt.NDArray[np.floating], int]],
    rate: int = 22050,
) -> Samples:
    """Return the timeline as float32 mono at ``rate``: each take at its start, silence between.

    Each take is cut or padded to its segment's length, so sample ``round(t * rate)`` is always
    timeline time ``t``. The result ends with the last paragraph (no trailing pause). Meant for
    short timelines; the player reads long ones through :class:`ChapterAudio`.
    """
    source = ChapterAudio(segments, load, rate, read_ahead=False)
    return source.read(0, len(source))


class SampleSource(Protocol):
    """Mono float32 samples at ``rate`` that can be read by range."""

    rate: int

    def __len__(self) -> int:
        """Return the number of samples."""

    def read(self, first: int, last: int) -> Samples:
        """Return samples ``[first, last)``; zeros where the range is outside the audio."""


class ArraySource:
    """A :class:`SampleSource` over samples in memory."""

    def __init__(self, samples: npt.ArrayLike, rate: int) -> None:
        self.samples = np.ascontiguousarray(samples, dtype=np.float32)
        self.rate = rate

    def __len__(self) -> int:
        return len(self.samples)

    def read(self, first: int, last: int) -> Samples:
        """Return samples ``[first, last)``, zero-padded outside the array."""
        first, last = int(first), max(int(first), int(last))
        lo, hi = max(first, 0), min(last, len(self.samples))
        if lo == first and hi == last:
            return self.samples[first:last]
        out = np.zeros(last - first, dtype=np.float32)
        if hi > lo:
            out[lo - first : hi - first] = self.samples[lo:hi]
        return out


class ChapterAudio:
    """A chapter's timeline as a :class:`SampleSource`, decoding takes only when read.

    ``load(take_id)`` returns a take's samples and rate; it is called on the reading thread
    (or, for the take after the one being read, on one helper thread), so it must open what
    it needs itself. At most ``cache`` takes are kept decoded. Each take is resampled to
    ``rate``, given its voice's volume, and cut or padded to its segment.
    """

    def __init__(
        self,
        segments: list[Segment],
        load: Callable[[TakeId], tuple[npt.NDArray[np.floating], int]],
        rate: int = 22050,
        cache: int = 4,
        read_ahead: bool = True,
    ) -> None:
        self.segments = list(segments)
        self.rate = rate
        self._load = load
        self._cache_size = max(2, cache)
        self._starts = [round(s.start * rate) for s in self.segments]
        self._ends = [round(s.end * rate) for s in self.segments]
        self._length = self._ends[-1] if self.segments else 0
        self._decoded: OrderedDict[int, Future[Samples]] = OrderedDict()
        self._lock = threading.Lock()
        self._ahead = ThreadPoolExecutor(1, "studio-decode") if read_ahead else None

    def __len__(self) -> int:
        return self._length

    def close(self) -> None:
        """Stop decoding ahead and drop the cache."""
        if self._ahead is not None:
            self._ahead.shutdown(wait=False, cancel_futures=True)
            self._ahead = None
        with self._lock:
            self._decoded.clear()

    def _decode(self, index: int) -> Samples:
        segment = self.segments[index]
        samples, take_rate = self._load(segment.take_id)
        audio = resample(samples, take_rate, self.rate)
        if segment.gain_db:
            audio = audio * np.float32(10 ** (segment.gain_db / 20))
        length = self._ends[index] - self._starts[index]
        if len(audio) < length:
            audio = np.concatenate([audio, np.zeros(length - len(audio), np.float32)])
        return np.ascontiguousarray(audio[:length], dtype=np.float32)

    def _future(self, index: int, ahead: bool) -> Future[Samples]:
        with self._lock:
            future = self._decoded.get(index)
            if future is not None:
                self._decoded.move_to_end(index)
                return future
            future = Future()
            executor = self._ahead if ahead else None
            if executor is not None:
                try:
                    future = executor.submit(self._decode, index)
                except RuntimeError:  # closed meanwhile
                    executor = None
            self._decoded[index] = future
            while len(self._decoded) > self._cache_size:
                self._decoded.popitem(last=False)
        if executor is None:
            try:
                future.set_result(self._decode(index))
            except BaseException as exc:
                with self._lock:
                    self._decoded.pop(index, None)
                future.set_exception(exc)
        return future

    def take_samples(self, index: int) -> Samples:
        """Return segment ``index``'s samples (decoded now unless cached or decoded ahead)."""
        samples = self._future(index, ahead=False).result()
        if self._ahead is not None and index + 1 < len(self.segments):
            self._future(index + 1, ahead=True)
        return samples

    def read(self, first: int, last: int) -> Samples:
        """Return samples ``[first, last)`` of the timeline; silence between paragraphs."""
        first, last = int(first), max(int(first), int(last))
        out = np.zeros(last - first, dtype=np.float32)
        index = max(0, bisect.bisect_right(self._ends, first))
        while index < len(self.segments) and self._starts[index] < last:
            lo, hi = max(first, self._starts[index]), min(last, self._ends[index])
            if hi > lo:
                take = self.take_samples(index)
                base = self._starts[index]
                out[lo - first : hi - first] = take[lo - base : hi - base]
            index += 1
        return out


def _frame_length(rate: int) -> int:
    """Return the WSOLA frame length: the power of two nearest ``_FRAME_S`` seconds."""
    return int(2 ** round(math.log2(max(64.0, rate * _FRAME_S))))


class Stretcher:
    """Produce ``samples[start:end]`` played at ``speed`` with the pitch kept (WSOLA), in chunks.

    Output sample ``j`` corresponds to source sample ``start + j * speed``. ``samples`` may be
    an array or a :class:`SampleSource`; only a few frames around the position are held.
    """

    def __init__(
        self,
        samples: npt.ArrayLike | SampleSource,
        rate: int,
        speed: float,
        start: int = 0,
        end: int | None = None,
    ) -> None:
        source: SampleSource = (samples if hasattr(samples, "read")  # type: ignore[assignment]
                                else ArraySource(samples, rate))
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ValueError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}, not {speed}")
        self.speed = speed
        self.start = max(0, start)
        self.end = len(source) if end is None else min(max(end, self.start), len(source))
        self._source = source
        self._n = _frame_length(rate)
        self._hop = self._n // 2
        self._tol = self._n // 4
        # Periodic Hann: copies at 50 % overlap add up to exactly 1.
        self._window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(self._n) / self._n)).astype(
            np.float32
        )
        # Zero padding lets frames hang over either end without bounds checks: padded index
        # p is source index start + p - pad. A window of the padded signal is held.
        self._pad = self._n + self._tol + self._hop * 3
        self._buf = np.zeros(0, dtype=np.float32)
        self._buf_lo = 0  # padded index of _buf[0]
        self._block = max(rate // 2, 4 * self._n)  # fetch half a second at a time
        self._fft_n = int(2 ** math.ceil(math.log2(2 * self._n + 2 * self._tol)))
        self._acc = np.zeros(self._n, dtype=np.float32)
        self._k = -1  # frame -1 only primes the overlap; its first half is discarded
        self._prev: int | None = None
        self._pending = np.zeros(0, dtype=np.float32)
        self.total = round((self.end - self.start) / speed)
        self.produced = 0

    def _x(self, a: int, b: int) -> Samples:
        """Return padded samples ``[a, b)``, fetching ahead and forgetting what is behind."""
        hi = self._buf_lo + len(self._buf)
        if b > hi:
            fetch_to = max(b, hi + self._block)
            lo_src, hi_src = self.start + hi - self._pad, self.start + fetch_to - self._pad
            part = np.zeros(fetch_to - hi, dtype=np.float32)
            a_src, b_src = max(lo_src, self.start), min(hi_src, self.end)
            if b_src > a_src:
                part[a_src - lo_src : b_src - lo_src] = self._source.read(a_src, b_src)
            drop = max(0, min(a, (self._prev if self._prev is not None else a))
                       - self._n - self._buf_lo)
            self._buf = np.concatenate([self._buf, part])[drop:]
            self._buf_lo += drop
        return self._buf[a - self._buf_lo : b - self._buf_lo]

    @property
    def done(self) -> bool:
        """Return whether the whole range has been produced."""
        return self.produced >= self.total

    @property
    def source_position(self) -> float:
        """Return the source sample index matching the output produced so far."""
        return self.start + min(self.produced * self.speed, float(self.end - self.start))

    def _frame(self) -> Samples:
        """Overlap-add the next frame and return the ``hop`` output samples it completes."""
        n, hop, tol = self._n, self._hop, self._tol
        # Frame k's centre lands on output (k + 1) * hop, i.e. on source (k + 1) * hop * speed.
        nominal = self._pad + round((self._k + 1) * hop * self.speed) - hop
        if self._prev is None:
            chosen = nominal
        else:
            template = self._x(self._prev + hop, self._prev + hop + n).copy()
            region = self._x(nominal - tol, nominal + tol + n)
            spectrum = np.fft.rfft(region, self._fft_n) * np.conj(
                np.fft.rfft(template, self._fft_n)
            )
            corr = np.fft.irfft(spectrum, self._fft_n)[: 2 * tol + 1]
            chosen = nominal - tol + int(np.argmax(corr))
        self._prev = chosen
        self._acc += self._window * self._x(chosen, chosen + n)
        ready = self._acc[:hop].copy()
        self._acc[:-hop] = self._acc[hop:]
        self._acc[-hop:] = 0.0
        self._k += 1
        return ready

    def read(self, frames: int) -> Samples:
        """Return up to ``frames`` more output samples (fewer, or none, at the end)."""
        want = min(frames, self.total - self.produced)
        if want <= 0:
            return np.zeros(0, dtype=np.float32)
        parts = [self._pending]
        have = len(self._pending)
        while have < want:
            chunk = self._frame()
            if self._k == 0:  # the primer frame's output is half-windowed: drop it
                continue
            parts.append(chunk)
            have += len(chunk)
        joined = np.concatenate(parts)
        self._pending = joined[want:]
        self.produced += want
        return joined[:want]


def time_stretch(samples: npt.ArrayLike, rate: int, speed: float) -> Samples:
    """Return ``samples`` played at ``speed`` (0.5-2.0) with the pitch kept; 1.0 returns them as is.

    The result has ``round(len(samples) / speed)`` samples.
    """
    if speed == 1.0:
        return np.asarray(samples, dtype=np.float32)
    stretcher = Stretcher(samples, rate, speed)
    return stretcher.read(stretcher.total)
