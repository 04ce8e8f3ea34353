"""Lay a chapter's takes out on a timeline, render it, locate words in it and change its speed.

The timeline is what the player plays: every paragraph with a current take, in reading order,
each followed by the project's paragraph pause. Paragraphs without a take are skipped. Times
are seconds on the chapter timeline; word timings stay relative to their take.

Speed changes keep the pitch with WSOLA (waveform-similarity overlap-add): output frames are
taken from the source at ``speed`` times the output hop, each one shifted by up to a quarter
frame to the position whose waveform best continues the previous frame. :class:`Stretcher`
produces the stretched stream incrementally from any start point, so the player can feed it
chunk by chunk; :func:`time_stretch` runs it over a whole buffer.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from studio.core.model import BlockId, Chapter, Project, TakeId, WordTiming

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
        segments.append(Segment(block.id, t, end, take.id, tuple(take.word_timings)))
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
    timeline time ``t``. The result ends with the last paragraph (no trailing pause).
    """
    if not segments:
        return np.zeros(0, dtype=np.float32)
    out = np.zeros(round(segments[-1].end * rate), dtype=np.float32)
    for segment in segments:
        samples, take_rate = load(segment.take_id)
        audio = resample(samples, take_rate, rate)
        start = round(segment.start * rate)
        length = min(round(segment.end * rate) - start, len(audio), len(out) - start)
        if length > 0:
            out[start : start + length] = audio[:length]
    return out


def _frame_length(rate: int) -> int:
    """Return the WSOLA frame length: the power of two nearest ``_FRAME_S`` seconds."""
    return int(2 ** round(math.log2(max(64.0, rate * _FRAME_S))))


class Stretcher:
    """Produce ``samples[start:end]`` played at ``speed`` with the pitch kept (WSOLA), in chunks.

    Output sample ``j`` corresponds to source sample ``start + j * speed``.
    """

    def __init__(
        self,
        samples: npt.ArrayLike,
        rate: int,
        speed: float,
        start: int = 0,
        end: int | None = None,
    ) -> None:
        source = np.asarray(samples, dtype=np.float32)
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ValueError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}, not {speed}")
        self.speed = speed
        self.start = max(0, start)
        self.end = len(source) if end is None else min(max(end, self.start), len(source))
        self._n = _frame_length(rate)
        self._hop = self._n // 2
        self._tol = self._n // 4
        # Periodic Hann: copies at 50 % overlap add up to exactly 1.
        self._window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(self._n) / self._n)).astype(
            np.float32
        )
        # Zero padding lets frames hang over either end without bounds checks.
        self._pad = self._n + self._tol + self._hop * 3
        self._x = np.concatenate(
            [
                np.zeros(self._pad, np.float32),
                source[self.start : self.end],
                np.zeros(self._pad, np.float32),
            ]
        )
        self._fft_n = int(2 ** math.ceil(math.log2(2 * self._n + 2 * self._tol)))
        self._acc = np.zeros(self._n, dtype=np.float32)
        self._k = -1  # frame -1 only primes the overlap; its first half is discarded
        self._prev: int | None = None
        self._pending = np.zeros(0, dtype=np.float32)
        self.total = round((self.end - self.start) / speed)
        self.produced = 0

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
            template = self._x[self._prev + hop : self._prev + hop + n]
            region = self._x[nominal - tol : nominal + tol + n]
            spectrum = np.fft.rfft(region, self._fft_n) * np.conj(
                np.fft.rfft(template, self._fft_n)
            )
            corr = np.fft.irfft(spectrum, self._fft_n)[: 2 * tol + 1]
            chosen = nominal - tol + int(np.argmax(corr))
        self._prev = chosen
        self._acc += self._window * self._x[chosen : chosen + n]
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
