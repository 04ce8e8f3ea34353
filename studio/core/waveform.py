"""Chapter waveform envelopes built from the takes' peak summaries (never from audio).

A chapter's envelope is its takes' min/max peak bins laid end to end on the chapter
timeline, with x in seconds (float64, bin centres). Pauses between takes are zero points
about one bin apart, from the end of the take before the pause to the start of the one
after it, so a filled min/max curve lies on the axis across the pause. :func:`window` reduces the
part of an envelope a view shows to at most a given number of points.
"""

from __future__ import annotations

import bisect
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from studio.core.audio import peak_array
from studio.core.model import PeakSummary

LEVELS = ("fine", "coarse")
# One int8 step of a peak summary in [-1, 1] units, exactly as audio.peak_array scales it.
_STEP = np.float32(peak_array(PeakSummary(1, 1, b"\x01\x00"))[0, 0])

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class ChapterEnvelope:
    """A chapter's min/max envelope at one level of detail.

    ``times`` are bin centres in seconds (plus zero points at the edges of pauses), sorted;
    ``mins``/``maxs`` are in [-1, 1]; ``boundaries`` are the paragraphs' start times;
    ``breaks`` the times of break tags when known (may be empty).
    """

    times: F64
    mins: F32
    maxs: F32
    boundaries: list[float]
    breaks: list[float]
    duration: float
    level: str = ""

    def __len__(self) -> int:
        return len(self.times)


def empty_envelope(level: str = "") -> ChapterEnvelope:
    """Return the envelope of a chapter without audio."""
    return ChapterEnvelope(
        np.zeros(0, np.float64), np.zeros(0, np.float32), np.zeros(0, np.float32),
        [], [], 0.0, level,
    )


def chapter_envelope(
    segments: list[tuple[float, PeakSummary]],
    level: str,
    breaks: list[float] | None = None,
    origin: float = 0.0,
) -> ChapterEnvelope:
    """Lay the takes' peak summaries out on the chapter timeline.

    ``segments`` are (start time in seconds, the take's summary at ``level``) pairs, one per
    paragraph with audio. Gaps between a take's end and the next start are zero, and so is
    the time from ``origin`` to the first start (a part of a chapter starts at its first take).
    """
    if level not in LEVELS:
        raise ValueError(f"Unknown envelope level {level!r} (expected one of {LEVELS}).")
    if not segments:
        return empty_envelope(level)
    ordered = sorted(segments, key=lambda s: s[0])
    counts = np.fromiter((len(p.data) // 2 for _, p in ordered), np.int64, len(ordered))
    total = int(counts.sum())
    # All bins as one int8 (n, 2) view; scaled to [-1, 1] in place once copied out.
    raw = np.frombuffer(b"".join(p.data for _, p in ordered), dtype=np.int8).reshape(-1, 2)

    # Everything is laid out with whole-array operations (a 10-hour chapter has thousands
    # of takes): per take, a pause's zero points then its bins, then one closing zero.
    starts_list = [float(s) for s, _ in ordered]
    starts = np.asarray(starts_list, dtype=np.float64)
    dts = np.fromiter((p.samples_per_bin / p.sample_rate for _, p in ordered), np.float64,
                      len(ordered))
    ends = starts + counts * dts
    prev_ends = np.concatenate(([min(origin, starts_list[0])], ends[:-1]))
    # A pause gets zero points one bin apart (at least its two edges), so a reduced
    # window still shows it flat on the axis.
    pause = starts - prev_ends
    gaps = np.where(pause <= 1e-9, 0,
                    np.maximum(2, np.ceil(pause / dts - 1e-9).astype(np.int64) + 1))
    size = total + int(gaps.sum()) + (1 if total else 0)
    times = np.empty(size, dtype=np.float64)
    mins = np.zeros(size, dtype=np.float32)
    maxs = np.zeros(size, dtype=np.float32)
    seg_start = np.concatenate(([0], np.cumsum(gaps + counts)[:-1]))

    def ramp(lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """0..n-1 for each length n, concatenated."""
        firsts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        return np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(firsts, lengths)

    k = ramp(gaps)
    step = np.divide(pause, gaps - 1, out=np.zeros_like(pause), where=gaps > 1)
    where = np.repeat(seg_start, gaps) + k
    times[where] = k * np.repeat(step, gaps) + np.repeat(prev_ends, gaps)
    k = ramp(counts)
    where = np.repeat(seg_start + gaps, counts) + k
    times[where] = k * np.repeat(dts, counts) + np.repeat(starts + 0.5 * dts, counts)
    mins[where] = raw[:, 0]
    maxs[where] = raw[:, 1]
    pos = size - 1
    mins *= _STEP
    maxs *= _STEP
    duration = float(ends.max())
    if total:  # a zero point at the end, so the curve closes on the axis
        times[pos] = duration
    # A partial last bin can put a centre past the next take's first one; keep x sorted.
    np.maximum.accumulate(times, out=times)
    return ChapterEnvelope(
        times=times.astype(np.float64, copy=False),
        mins=mins,
        maxs=maxs,
        boundaries=starts_list,
        breaks=sorted(breaks or []),
        duration=duration,
        level=level,
    )


def window(
    envelope: ChapterEnvelope, t0: float, t1: float, max_points: int
) -> tuple[F64, F32, F32]:
    """Return (times, mins, maxs) of the envelope between t0 and t1, at most max_points long.

    The part taken runs from the last point at or before t0 to the first point at or after
    t1, so a curve drawn from it reaches both edges of the view. When it has more than
    ``max_points`` points, runs of ``k = ceil(n / max_points)`` consecutive points are
    merged: the min of their mins, the max of their maxs, at the middle of their first and
    last times.
    """
    times = envelope.times
    n_all = len(times)
    if n_all == 0 or t1 < t0:
        return times[:0], envelope.mins[:0], envelope.maxs[:0]
    i0 = max(int(np.searchsorted(times, t0, side="right")) - 1, 0)
    i1 = min(int(np.searchsorted(times, t1, side="left")) + 1, n_all)
    n = i1 - i0
    max_points = max(1, int(max_points))
    if n <= max_points:
        return times[i0:i1], envelope.mins[i0:i1], envelope.maxs[i0:i1]
    k = math.ceil(n / max_points)
    firsts = np.arange(0, n, k)
    lasts = np.minimum(firsts + k, n) - 1
    part = times[i0:i1]
    out_times = (part[firsts] + part[lasts]) * 0.5
    out_mins = np.minimum.reduceat(envelope.mins[i0:i1], firsts)
    out_maxs = np.maximum.reduceat(envelope.maxs[i0:i1], firsts)
    return out_times, out_mins, out_maxs


@dataclass(eq=False)
class LazyEnvelope:
    """A chapter's fine envelope, built only for the part of the chapter in view.

    Laying out every fine bin of a 10-hour chapter (millions of points) before the first
    paint would make long chapters open slowly; this keeps each take's place on the
    timeline and asks ``load(i)`` for take ``i``'s fine summary only when a window needs it
    (the most recent ``cache_size`` summaries are kept).
    """

    starts: list[float]
    ends: list[float]
    load: Callable[[int], PeakSummary | None]
    breaks: list[float] = field(default_factory=list)
    cache_size: int = 512
    level: str = "fine"
    _cache: OrderedDict[int, PeakSummary | None] = field(default_factory=OrderedDict)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def boundaries(self) -> list[float]:
        """Return the paragraphs' start times."""
        return self.starts

    @property
    def duration(self) -> float:
        """Return the end of the last take."""
        return max(self.ends, default=0.0)

    def _summary(self, i: int) -> PeakSummary | None:
        if i in self._cache:
            self._cache.move_to_end(i)
            return self._cache[i]
        summary = self.load(i)
        self._cache[i] = summary
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return summary

    def part(self, t0: float, t1: float) -> ChapterEnvelope:
        """Return the envelope of the takes overlapping ``t0``..``t1`` (one more each side)."""
        first = max(bisect.bisect_right(self.ends, t0) - 1, 0)
        last = min(bisect.bisect_left(self.starts, t1) + 1, len(self.starts))
        segments = [(self.starts[i], s) for i in range(first, last)
                    if (s := self._summary(i)) is not None]
        origin = self.ends[first - 1] if first > 0 else 0.0
        return chapter_envelope(segments, self.level, origin=origin)

    def window(self, t0: float, t1: float, max_points: int) -> tuple[F64, F32, F32]:
        """Return what :func:`window` returns for the whole envelope, building only the part."""
        return window(self.part(t0, t1), t0, t1, max_points)
