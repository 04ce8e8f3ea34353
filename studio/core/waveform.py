"""Chapter waveform envelopes built from the takes' peak summaries (never from audio).

A chapter's envelope is its takes' min/max peak bins laid end to end on the chapter
timeline, with x in seconds (float64, bin centres). Pauses between takes are zero points
about one bin apart, from the end of the take before the pause to the start of the one
after it, so a filled min/max curve lies on the axis across the pause. :func:`window` reduces the
part of an envelope a view shows to at most a given number of points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
) -> ChapterEnvelope:
    """Lay the takes' peak summaries out on the chapter timeline.

    ``segments`` are (start time in seconds, the take's summary at ``level``) pairs, one per
    paragraph with audio. Gaps between a take's end and the next start are zero.
    """
    if level not in LEVELS:
        raise ValueError(f"Unknown envelope level {level!r} (expected one of {LEVELS}).")
    if not segments:
        return empty_envelope(level)
    ordered = sorted(segments, key=lambda s: s[0])
    counts = [len(p.data) // 2 for _, p in ordered]
    total = sum(counts)
    # All bins as one int8 (n, 2) view; scaled to [-1, 1] in place once copied out.
    raw = np.frombuffer(b"".join(p.data for _, p in ordered), dtype=np.int8).reshape(-1, 2)

    # Count the pauses first, then fill preallocated arrays: big allocations are what
    # costs here, so there is one per output array and the per-take work is slicing.
    starts = [float(s) for s, _ in ordered]
    ends = [
        start + n * (p.samples_per_bin / p.sample_rate)
        for start, n, (_, p) in zip(starts, counts, ordered, strict=True)
    ]
    prev_ends = [0.0, *ends[:-1]]
    # A pause gets zero points one bin apart (at least its two edges), so a reduced
    # window still shows it flat on the axis.
    gaps = [
        0 if start <= prev + 1e-9
        else max(2, math.ceil((start - prev) / (p.samples_per_bin / p.sample_rate) - 1e-9) + 1)
        for start, prev, (_, p) in zip(starts, prev_ends, ordered, strict=True)
    ]
    size = total + sum(gaps) + (1 if total else 0)
    times = np.empty(size, dtype=np.float64)
    mins = np.zeros(size, dtype=np.float32)
    maxs = np.zeros(size, dtype=np.float32)
    steps = np.arange(max(*counts, *gaps, 1), dtype=np.float64)
    pos = src = 0
    for i, (_, summary) in enumerate(ordered):
        g = gaps[i]
        if g:  # evenly spaced zero points from the end of the last take to this start
            np.multiply(steps[:g], (starts[i] - prev_ends[i]) / (g - 1), out=times[pos:pos + g])
            times[pos:pos + g] += prev_ends[i]
            pos += g
        n = counts[i]
        dt = summary.samples_per_bin / summary.sample_rate
        np.multiply(steps[:n], dt, out=times[pos:pos + n])
        times[pos:pos + n] += starts[i] + 0.5 * dt
        mins[pos:pos + n] = raw[src:src + n, 0]
        maxs[pos:pos + n] = raw[src:src + n, 1]
        pos += n
        src += n
    mins *= _STEP
    maxs *= _STEP
    duration = max(ends)
    if total:  # a zero point at the end, so the curve closes on the axis
        times[pos] = duration
    # A partial last bin can put a centre past the next take's first one; keep x sorted.
    np.maximum.accumulate(times, out=times)
    return ChapterEnvelope(
        times=times.astype(np.float64, copy=False),
        mins=mins,
        maxs=maxs,
        boundaries=starts,
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
