"""Chapter envelopes from peak summaries: placement, pauses, boundaries, window reduction."""

from __future__ import annotations

import numpy as np
import pytest

from studio.core.model import PeakSummary
from studio.core.waveform import ChapterEnvelope, chapter_envelope, empty_envelope, window


def summary(
    values: list[tuple[int, int]], samples_per_bin: int = 100, rate: int = 1000
) -> PeakSummary:
    """A summary with the given int8 (min, max) pairs; 0.1 s per bin by default."""
    return PeakSummary(samples_per_bin, rate, np.array(values, dtype=np.int8).tobytes())


def test_places_takes_at_their_start_times_with_zero_pauses() -> None:
    a = summary([(-127, 127), (-64, 64)])  # 0.0-0.2 s
    b = summary([(-32, 127), (0, 32), (-127, 0)])  # 0.5-0.8 s
    env = chapter_envelope([(0.5, b), (0.0, a)], "fine")  # order of the list doesn't matter

    # The 0.3 s pause: zero points 0.1 s apart from 0.2 to 0.5.
    np.testing.assert_allclose(
        env.times, [0.05, 0.15, 0.2, 0.3, 0.4, 0.5, 0.55, 0.65, 0.75, 0.8]
    )
    np.testing.assert_allclose(
        env.mins * 127, [-127, -64, 0, 0, 0, 0, -32, 0, -127, 0], atol=1e-4
    )
    np.testing.assert_allclose(env.maxs * 127, [127, 64, 0, 0, 0, 0, 127, 32, 0, 0], atol=1e-4)
    assert env.times.dtype == np.float64
    assert env.mins.dtype == np.float32
    assert env.boundaries == [0.0, 0.5]
    assert env.breaks == []
    assert env.duration == pytest.approx(0.8)
    assert env.level == "fine"
    # In the pause every point is zero.
    pause = (env.times > 0.2 - 1e-9) & (env.times < 0.5 + 1e-9)
    assert pause.sum() == 4
    assert not env.mins[pause].any() and not env.maxs[pause].any()


def test_late_first_take_starts_with_silence_and_adjacent_takes_join() -> None:
    a = summary([(-10, 10)] * 3)  # 0.3 s long
    env = chapter_envelope([(1.0, a), (1.3, a)], "coarse")
    lead = [i / 10 for i in range(11)]  # zero points 0.0, 0.1, ... 1.0
    np.testing.assert_allclose(env.times, [*lead, 1.05, 1.15, 1.25, 1.35, 1.45, 1.55, 1.6])
    assert not env.mins[:11].any() and env.mins[-1] == 0.0
    assert (env.mins[11:-1] < 0).all()  # no pause between the takes: no zero points
    assert env.boundaries == [1.0, 1.3]


def test_takes_with_different_rates() -> None:
    a = summary([(-1, 1)] * 4, samples_per_bin=256, rate=25600)  # 10 ms bins, 40 ms
    b = summary([(-2, 2)] * 2, samples_per_bin=480, rate=24000)  # 20 ms bins, 40 ms
    env = chapter_envelope([(0.0, a), (0.04, b)], "fine")
    np.testing.assert_allclose(env.times, [0.005, 0.015, 0.025, 0.035, 0.05, 0.07, 0.08])
    assert env.duration == pytest.approx(0.08)
    assert np.all(np.diff(env.times) >= 0)


def test_empty_and_bad_level() -> None:
    env = chapter_envelope([], "fine")
    assert len(env) == 0 and env.duration == 0.0
    times, mins, maxs = window(env, 0.0, 10.0, 100)
    assert len(times) == len(mins) == len(maxs) == 0
    with pytest.raises(ValueError, match="level"):
        chapter_envelope([], "medium")


def make(times: list[float], mins: list[float], maxs: list[float]) -> ChapterEnvelope:
    return ChapterEnvelope(
        np.array(times, np.float64), np.array(mins, np.float32), np.array(maxs, np.float32),
        [0.0], [], times[-1] if times else 0.0,
    )


def test_window_reduction_is_exact() -> None:
    times = [float(i) for i in range(10)]
    mins = [-0.1, -0.5, -0.2, -0.3, -0.9, -0.1, -0.4, -0.6, -0.2, -0.7]
    maxs = [0.1, 0.2, 0.8, 0.3, 0.1, 0.5, 0.4, 0.2, 0.9, 0.3]
    env = make(times, mins, maxs)

    # Within limits: the points from the last one at/before t0 to the first at/after t1.
    t, lo, hi = window(env, 2.5, 5.0, 100)
    np.testing.assert_array_equal(t, [2, 3, 4, 5])
    np.testing.assert_array_equal(lo, np.array([-0.2, -0.3, -0.9, -0.1], np.float32))

    # Ten points into four: runs of three (the last run has one point).
    t, lo, hi = window(env, 0.0, 9.0, 4)
    np.testing.assert_allclose(t, [1.0, 4.0, 7.0, 9.0])
    np.testing.assert_array_equal(lo, np.array([-0.5, -0.9, -0.6, -0.7], np.float32))
    np.testing.assert_array_equal(hi, np.array([0.8, 0.5, 0.9, 0.3], np.float32))

    # Outside the envelope and reversed ranges.
    t, _, _ = window(env, 20.0, 30.0, 4)
    np.testing.assert_array_equal(t, [9.0])
    t, _, _ = window(env, 5.0, 1.0, 4)
    assert len(t) == 0
    assert len(window(empty_envelope(), 0.0, 1.0, 10)[0]) == 0


def test_window_never_exceeds_max_points() -> None:
    rng = np.random.default_rng(1)
    n = 10_007
    lo = -rng.random(n).astype(np.float32)
    env = make(list(np.arange(n) * 0.01), list(lo), list(-lo))
    for max_points in (1, 2, 3, 999, 1000, 5000, 20_000):
        t, mins, maxs = window(env, 0.0, 200.0, max_points)
        assert 0 < len(t) <= max_points
        assert mins.min() == lo.min() and maxs.max() == -lo.min()
        assert np.all(np.diff(t) > 0)


def synthetic_chapter(
    hours: float, paragraphs: int, spb: int, rate: int = 44100
) -> list[tuple[float, PeakSummary]]:
    """Peak summaries for a chapter of ``paragraphs`` takes, each followed by 0.5 s of pause."""
    slot = hours * 3600 / paragraphs
    bins = int(np.ceil((slot - 0.5) * rate / spb))
    ramp = (np.arange(bins) % 127).astype(np.int8)
    data = np.column_stack((-ramp, ramp)).astype(np.int8).tobytes()
    return [(i * slot, PeakSummary(spb, rate, data)) for i in range(paragraphs)]


def expected_points(paragraphs: int, hours: float, spb: int, rate: int = 44100) -> int:
    slot = hours * 3600 / paragraphs
    bins = int(np.ceil((slot - 0.5) * rate / spb))
    # The take's end is known to a bin: a partial last bin may swallow the pause.
    gap = slot - bins * spb / rate
    if gap <= 0:
        return paragraphs * bins + 1
    per_pause = max(2, int(np.ceil(gap / (spb / rate) - 1e-9)) + 1)
    return paragraphs * bins + (paragraphs - 1) * per_pause + 1


def test_ten_hour_chapter_sizes() -> None:
    coarse = chapter_envelope(synthetic_chapter(10, 2000, 65536), "coarse")
    assert len(coarse) == expected_points(2000, 10, 65536) == 2000 * 12 + 2 * 1999 + 1
    assert not coarse.maxs[(coarse.times > 17.84) & (coarse.times < 17.99)].any()
    assert 36_000 - 1 < coarse.duration < 36_001
    assert len(coarse.boundaries) == 2000

    fine = chapter_envelope(synthetic_chapter(10, 5000, 256), "fine")
    assert len(fine) == expected_points(5000, 10, 256)
    assert len(fine) > 5_000_000
    assert np.all(np.diff(fine.times) >= 0)
    t, _, _ = window(fine, 1000.0, 1060.0, 2400)
    assert len(t) <= 2400 and 999.9 < t[0] < 1000.1 and 1059.9 < t[-1] < 1060.1
    t, _, _ = window(fine, 0.0, fine.duration, 4000)
    assert len(t) <= 4000


def _long_chapter(takes: int) -> list[tuple[float, PeakSummary]]:
    rng = np.random.default_rng(7)
    out, t = [], 0.0
    for _ in range(takes):
        n = int(rng.integers(5, 40))
        levels = rng.integers(1, 127, size=n)
        s = summary([(-int(v), int(v)) for v in levels])
        out.append((t, s))
        t += n * 0.1 + 0.3  # a 0.3 s pause after each take
    return out


@pytest.mark.parametrize("t0,t1,points", [(0.0, 5.0, 1000), (37.3, 61.9, 50),
                                          (100.0, 100.4, 10), (0.0, 400.0, 300)])
def test_lazy_envelope_windows_match_the_whole_envelope(t0: float, t1: float,
                                                        points: int) -> None:
    from studio.core.waveform import LazyEnvelope

    segments = _long_chapter(150)
    whole = chapter_envelope(segments, "fine")
    loaded: list[int] = []

    def load(i: int) -> PeakSummary:
        loaded.append(i)
        return segments[i][1]

    ends = [s + len(p.data) // 2 * 0.1 for s, p in segments]
    lazy = LazyEnvelope([s for s, _ in segments], ends, load)
    assert lazy.duration == pytest.approx(whole.duration) and len(lazy) == 150
    got, want = lazy.window(t0, t1, points), window(whole, t0, t1, points)
    if len(want[0]) <= points:  # not reduced: the very same points
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, atol=1e-6)
    else:  # reduced: the same extremes over the range, within the same span of time
        assert got[1].min() == pytest.approx(want[1].min())
        assert got[2].max() == pytest.approx(want[2].max())
        assert len(got[0]) <= points
    if t1 - t0 < 30:
        assert len(set(loaded)) < 20  # only the takes in view (and one each side) were read


def test_lazy_envelope_keeps_only_recent_summaries() -> None:
    from studio.core.waveform import LazyEnvelope

    segments = _long_chapter(100)
    calls: list[int] = []
    lazy = LazyEnvelope([s for s, _ in segments],
                        [s + len(p.data) // 2 * 0.1 for s, p in segments],
                        lambda i: calls.append(i) or segments[i][1], cache_size=10)
    lazy.window(0.0, 3.0, 100)
    first = len(calls)
    lazy.window(0.0, 3.0, 100)
    assert len(calls) == first  # cached
    lazy.window(200.0, 260.0, 100)  # far away: more than 10 new takes evict the first ones
    lazy.window(0.0, 3.0, 100)
    assert len(calls) > first + 10 and len(lazy._cache) <= 10
