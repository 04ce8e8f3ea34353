"""Signal processing for the export, in numpy: resampling, trims, fades, meters and the limiter.

Everything works on float32 mono blocks a paragraph at a time, so memory stays flat however
long the book is. Levels are dBFS (a full-scale sine is -3 dB RMS; ACX meters the same way).

* :func:`resample`: band-limited (FFT) sample-rate conversion of one take.
* :func:`true_peaks`: inter-sample peaks by 8x-oversampled windowed-sinc interpolation around
  the loud samples only (a true peak can sit between samples; ACX and BS.1770 count it).
* :func:`limit`: a look-ahead true-peak limiter. It lowers the gain smoothly around the few
  peaks above the ceiling and leaves every other sample untouched, so it is not a compressor.
* :class:`Meter`: RMS, sample and true peak, the noise floor (quietest 500 ms) and the
  silence at the head and tail, streamed.
* :class:`LoudnessMeter`: integrated loudness (ITU-R BS.1770-4: K-weighting, 400 ms blocks,
  absolute and relative gates).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]

SILENCE_DB: Final = -150.0  # what a level of digital silence is reported as
_SOUND_REL_DB: Final = -45.0  # trim: sound is within 45 dB of the take's loudest 10 ms
_SOUND_ABS_DB: Final = -65.0  # ... and above this absolute level
_CANDIDATE_DB: Final = 3.5  # inter-sample peaks are looked for near samples this close to the top
_TAPS: Final = 12  # interpolation kernel half-width (samples)
_OVERSAMPLE: Final = 8


def db(value: float) -> float:
    """Return an amplitude (or RMS) as dBFS; silence is :data:`SILENCE_DB`."""
    return 20.0 * math.log10(value) if value > 10 ** (SILENCE_DB / 20) else SILENCE_DB


def db_to_gain(decibels: float) -> float:
    return float(10.0 ** (decibels / 20.0))


# ---------------------------------------------------------------------------------------------
# Resampling


def _fast_length(minimum: int, multiple: int) -> int:
    """Return the smallest multiple of ``multiple`` >= ``minimum`` whose factors are <= 7."""
    k = max(1, -(-minimum // multiple))
    while True:
        n = k * multiple
        for p in (2, 3, 5, 7):
            while n % p == 0:
                n //= p
        if n == 1:
            return k * multiple
        k += 1


def _resample_block(x: Samples, up: int, down: int, pad: int) -> Samples:
    """Resample ``x`` (zero outside it) by ``up/down``; ``pad`` is a multiple of ``down``."""
    n_in = _fast_length(len(x) + 2 * pad, down)
    n_out = n_in * up // down
    buffer = np.zeros(n_in, dtype=np.float32)
    buffer[pad : pad + len(x)] = x
    spectrum = np.fft.rfft(buffer)
    half = min(len(spectrum), n_out // 2 + 1)
    out_spec = np.zeros(n_out // 2 + 1, dtype=spectrum.dtype)
    out_spec[:half] = spectrum[:half]
    if n_out < n_in and n_out % 2 == 0:
        out_spec[-1] = out_spec[-1].real  # the new Nyquist bin must be real
    out = np.fft.irfft(out_spec, n_out).astype(np.float32)
    out *= np.float32(n_out / n_in)
    start = pad * up // down
    return out[start : start + round(len(x) * up / down)]


def resample(x: npt.ArrayLike, rate: int, new_rate: int) -> Samples:
    """Return mono ``x`` at ``new_rate``, band-limited (ideal low-pass at the lower Nyquist).

    The signal is taken as silent outside ``x`` (a take sits between pauses). The result has
    ``round(len(x) * new_rate / rate)`` samples. Long takes go through in overlapping blocks.
    """
    samples = np.asarray(x, dtype=np.float32)
    if rate == new_rate or len(samples) == 0:
        return samples
    g = math.gcd(rate, new_rate)
    up, down = new_rate // g, rate // g
    pad = _fast_length(2048, down) if down > 1 else 2048
    block = 1 << 20
    if len(samples) <= block:
        return _resample_block(samples, up, down, pad)
    # Overlap-save: each block resampled with `margin` real neighbours on each side.
    step = block - block % down
    margin = pad * 8
    total = round(len(samples) * up / down)
    out = np.empty(total, dtype=np.float32)
    for start in range(0, len(samples), step):
        lo = max(0, start - margin)
        hi = min(len(samples), start + step + margin)
        piece = _resample_block(samples[lo:hi], up, down, pad)
        skip = (start - lo) * up // down
        o0 = start * up // down
        o1 = min(total, round(min(len(samples), start + step) * up / down))
        out[o0:o1] = piece[skip : skip + (o1 - o0)]
    return out


# ---------------------------------------------------------------------------------------------
# Edges


def sound_bounds(x: Samples, rate: int) -> tuple[int, int]:
    """Return ``[start, end)`` of the sound in ``x``: where its 10 ms windows rise above silence.

    Silence is 45 dB below the loudest window, and anything under -65 dBFS; a take with no
    sound at all gives ``(0, len(x))``.
    """
    win = max(1, rate // 100)
    n = len(x) // win
    if n == 0:
        return 0, len(x)
    ms = np.square(x[: n * win].reshape(n, win), dtype=np.float32).mean(axis=1)
    top = float(ms.max())
    if top <= 0.0:
        return 0, len(x)
    threshold = max(top * 10 ** (_SOUND_REL_DB / 10), 10 ** (_SOUND_ABS_DB / 10))
    loud = np.flatnonzero(ms > threshold)
    if len(loud) == 0:
        return 0, len(x)
    return int(loud[0]) * win, min(len(x), (int(loud[-1]) + 1) * win)


def fade_edges(x: Samples, samples: int) -> None:
    """Fade ``x`` in and out over ``samples`` samples each (raised cosine), in place."""
    n = min(samples, len(x) // 2)
    if n <= 0:
        return
    ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(n, dtype=np.float32) + 0.5) / n)).astype(
        np.float32
    )
    x[:n] *= ramp
    x[len(x) - n :] *= ramp[::-1]


# ---------------------------------------------------------------------------------------------
# True peak


def _kernels() -> npt.NDArray[np.float32]:
    """Return (2*_TAPS, _OVERSAMPLE-1) interpolation kernels for fractions 1/8 .. 7/8."""
    k = np.arange(-_TAPS + 1, _TAPS + 1, dtype=np.float64)  # taps relative to floor(position)
    columns = []
    for j in range(1, _OVERSAMPLE):
        t = k - j / _OVERSAMPLE
        window = np.i0(7.0 * np.sqrt(np.clip(1.0 - (t / (_TAPS + 0.5)) ** 2, 0.0, None)))
        h = np.sinc(t) * window  # Kaiser-windowed sinc: within 0.02 dB up to 20 kHz at 44.1
        columns.append(h / h.sum())
    return np.stack(columns, axis=1).astype(np.float32)


_KERNELS: Final = _kernels()


def true_peaks(x: Samples, index: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
    """Return the largest absolute value of the band-limited signal in ``[i - 1, i + 1]``.

    For each ``i`` of ``index``: the sample itself and 7 points between it and each neighbour.
    """
    if len(index) == 0:
        return np.zeros(0, dtype=np.float32)
    padded = np.pad(x, (_TAPS + 1, _TAPS + 1))
    offsets = np.arange(-_TAPS + 1, _TAPS + 1)
    peaks = np.abs(x[index]).astype(np.float32)
    for base in (index - 1, index):  # the gap before the sample, then the gap after it
        windows = padded[(base + _TAPS + 1)[:, None] + offsets[None, :]]
        between = np.abs(windows @ _KERNELS).max(axis=1)
        np.maximum(peaks, between, out=peaks)
    return peaks


def true_peak(x: Samples) -> float:
    """Return the true peak (linear) of ``x``."""
    if len(x) == 0:
        return 0.0
    top = float(np.abs(x).max())
    if top == 0.0:
        return 0.0
    index = np.flatnonzero(np.abs(x) >= top * db_to_gain(-_CANDIDATE_DB))
    return float(true_peaks(x, index).max())


# ---------------------------------------------------------------------------------------------
# Limiter


def limit(x: Samples, ceiling: float, rate: int) -> int:
    """Keep the true peak of ``x`` under ``ceiling`` (linear), in place; return samples touched.

    Around each peak above the ceiling the gain dips smoothly: down over 5 ms before it (the
    look-ahead), held for 5 ms, back up over 60 ms. Samples away from such peaks keep unity
    gain, so the loudness of the rest is unchanged (no compression).
    """
    if len(x) == 0:
        return 0
    threshold = ceiling * db_to_gain(-_CANDIDATE_DB)
    candidates = np.flatnonzero(np.abs(x) > threshold)
    if len(candidates) == 0:
        return 0
    peaks = true_peaks(x, candidates)
    hot = peaks > ceiling
    if not hot.any():
        return 0
    where = candidates[hot]
    depth = 1.0 - (ceiling * 0.995) / peaks[hot]  # a little under: the gain curve is smooth
    attack = max(1, int(0.005 * rate))
    hold = max(1, int(0.005 * rate))
    release = max(1, int(0.060 * rate))
    reach = attack + hold + release
    breaks = np.flatnonzero(np.diff(where) > reach) + 1
    touched = 0
    for group, deep in zip(np.split(where, breaks), np.split(depth, breaks), strict=True):
        lo = max(0, int(group[0]) - attack)
        hi = min(len(x), int(group[-1]) + hold + release + 1)
        positions = np.arange(lo, hi)
        dip = np.zeros(hi - lo, dtype=np.float32)
        # Thin a dense cluster: a peak shadowed by a deeper one nearby adds nothing.
        order = np.argsort(-deep)[:64]
        for i in order:
            d = (positions - int(group[i])).astype(np.float32)
            shape = np.zeros_like(d)
            rise = (d >= -attack) & (d < 0)
            shape[rise] = 0.5 - 0.5 * np.cos(np.pi * (d[rise] + attack) / attack)
            shape[(d >= 0) & (d <= hold)] = 1.0
            fall = (d > hold) & (d <= hold + release)
            shape[fall] = 0.5 + 0.5 * np.cos(np.pi * (d[fall] - hold) / release)
            np.maximum(dip, np.float32(deep[i]) * shape, out=dip)
        x[lo:hi] *= 1.0 - dip
        touched += int(np.count_nonzero(dip))
    # A second look: interpolation between two reduced neighbours can still poke through.
    again = np.flatnonzero(np.abs(x) > threshold)
    if len(again) and float(true_peaks(x, again).max()) > ceiling:
        touched += limit(x, ceiling, rate)
    return touched


# ---------------------------------------------------------------------------------------------
# Meters


class TruePeakMeter:
    """The streamed sample and true peak of one channel, inter-sample peaks at joins included.

    Only samples within 3.5 dB of the loudest so far are interpolated, so it costs little
    more than finding the sample peak.
    """

    def __init__(self, true_peak: bool = True) -> None:
        self._want_true_peak = true_peak
        self.sample_peak = 0.0
        self._true_peak = 0.0
        self._tail = np.zeros(0, dtype=np.float32)  # context for the inter-sample peaks

    def add(self, x: Samples) -> None:
        """Add the next mono samples."""
        if len(x) == 0:
            return
        top = float(np.abs(x).max())
        self.sample_peak = max(self.sample_peak, top)
        if not self._want_true_peak:
            return
        if top >= self._true_peak * db_to_gain(-_CANDIDATE_DB):
            context = np.concatenate([self._tail, x])
            floor = max(self._true_peak, top) * db_to_gain(-_CANDIDATE_DB)
            index = np.flatnonzero(np.abs(context) >= floor)
            index = index[index >= len(self._tail)]
            if len(index):
                self._true_peak = max(self._true_peak, float(true_peaks(context, index).max()))
        self._tail = x[-(_TAPS + 2) :].copy()

    @property
    def true_peak(self) -> float:
        """Return the true peak (linear; the sample peak if true peaks are not measured)."""
        return max(self._true_peak, self.sample_peak)


class Meter:
    """Streamed levels of a file: RMS, peaks, noise floor, head and tail silence.

    Feed one channel's float blocks in order with :meth:`add` (one meter per channel).
    """

    def __init__(self, rate: int, true_peak: bool = True) -> None:
        self.rate = rate
        self._win = max(1, rate // 100)  # 10 ms
        self._sumsq = 0.0
        self._count = 0
        self._peaks = TruePeakMeter(true_peak)
        self._rest = np.zeros(0, dtype=np.float32)
        self._windows: list[npt.NDArray[np.float32]] = []

    def add(self, x: Samples) -> None:
        """Add the next mono samples."""
        if len(x) == 0:
            return
        ms = np.square(x, dtype=np.float32)
        self._sumsq += float(ms.sum(dtype=np.float64))
        self._count += len(x)
        self._peaks.add(x)
        joined = np.concatenate([self._rest, ms]) if len(self._rest) else ms
        n = len(joined) // self._win
        if n:
            self._windows.append(
                joined[: n * self._win].reshape(n, self._win).mean(axis=1, dtype=np.float32)
            )
        self._rest = joined[n * self._win :].copy()

    @property
    def duration(self) -> float:
        return self._count / self.rate

    @property
    def rms_db(self) -> float:
        return db(math.sqrt(self._sumsq / self._count)) if self._count else SILENCE_DB

    @property
    def peak_db(self) -> float:
        return db(self._peaks.sample_peak)

    @property
    def true_peak_db(self) -> float:
        return db(self._peaks.true_peak)

    def _window_ms(self) -> npt.NDArray[np.float32]:
        if not self._windows:
            return np.zeros(0, dtype=np.float32)
        if len(self._windows) > 1:
            self._windows = [np.concatenate(self._windows)]
        return self._windows[0]

    def noise_floor_db(self, seconds: float = 0.5) -> float:
        """Return the RMS of the quietest ``seconds`` (ACX: 500 ms), sliding in 10 ms steps."""
        ms = self._window_ms()
        span = max(1, round(seconds * 100))
        if len(ms) < span:
            return db(math.sqrt(float(ms.mean()))) if len(ms) else SILENCE_DB
        sums = np.cumsum(ms, dtype=np.float64)
        moving = (sums[span - 1 :] - np.concatenate([[0.0], sums[:-span]])) / span
        return db(math.sqrt(max(float(moving.min()), 0.0)))

    def edges(self, threshold_db: float | None = None) -> tuple[float, float]:
        """Return (head, tail): seconds of quiet before the first and after the last sound.

        Sound is a 10 ms window above ``threshold_db`` (default: 20 dB over the noise floor,
        and at least -55 dBFS).
        """
        ms = self._window_ms()
        if len(ms) == 0:
            return 0.0, 0.0
        if threshold_db is None:
            threshold_db = max(self.noise_floor_db() + 20.0, -55.0)
        loud = np.flatnonzero(ms > 10 ** (threshold_db / 10))
        if len(loud) == 0:
            return self.duration, self.duration
        head = int(loud[0]) * self._win / self.rate
        tail = self.duration - (int(loud[-1]) + 1) * self._win / self.rate
        return head, max(0.0, tail)


def _biquad_response(
    b: tuple[float, float, float], a: tuple[float, float, float], z: npt.NDArray[np.complex128]
) -> npt.NDArray[np.complex128]:
    zi = 1.0 / z
    num = b[0] + b[1] * zi + b[2] * zi * zi
    den = a[0] + a[1] * zi + a[2] * zi * zi
    result: npt.NDArray[np.complex128] = num / den
    return result


def k_weighting(rate: int, n_fft: int) -> npt.NDArray[np.complex128]:
    """Return the BS.1770 K-weighting filter's response at the rfft bins of length ``n_fft``."""
    # Pre-filter (high shelf +4 dB at ~1.7 kHz) and RLB high-pass (~38 Hz), designed for any
    # rate with the bilinear transform (the constants pyloudnorm and libebur128 use).
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain_db / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf_b = (
        (vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0
    )
    shelf_a = (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    hp_b = (1.0, -2.0, 1.0)
    hp_a = (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
    w = np.exp(2j * np.pi * np.arange(n_fft // 2 + 1) / n_fft)
    response: npt.NDArray[np.complex128] = _biquad_response(shelf_b, shelf_a, w) * (
        _biquad_response(hp_b, hp_a, w)
    )
    return response


class LoudnessMeter:
    """Integrated loudness (LUFS) of a stream of mono blocks, BS.1770-4.

    Blocks are K-weighted one at a time in the frequency domain (with 100 ms of decay carried
    into the next block), then summed into 100 ms energies; gating happens at the end.
    """

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._step = max(1, rate // 10)  # 100 ms
        self._carry = np.zeros(0, dtype=np.float64)
        self._rest = np.zeros(0, dtype=np.float64)
        self._energies: list[npt.NDArray[np.float64]] = []

    def add(self, x: Samples) -> None:
        """Add mono samples (a take, or a pause given as zeros)."""
        if len(x) == 0:
            return
        decay = self._step
        n_fft = _fast_length(len(x) + decay, 1)
        spectrum = np.fft.rfft(x.astype(np.float64), n_fft) * k_weighting(self.rate, n_fft)
        y = np.fft.irfft(spectrum, n_fft)[: len(x) + decay]
        carry = self._carry
        y[: len(carry)] += carry[: len(y)]
        self._carry = y[len(x) :].copy()
        self._push(np.square(y[: len(x)]))

    def add_silence(self, frames: int) -> None:
        """Add ``frames`` of digital silence cheaply."""
        if frames <= 0:
            return
        head = np.zeros(min(frames, len(self._carry)), dtype=np.float64)
        head += self._carry[: len(head)]
        self._carry = self._carry[len(head) :]
        self._push(np.square(head))
        rest = frames - len(head)
        if rest:
            self._push(np.zeros(rest, dtype=np.float64))

    def _push(self, squares: npt.NDArray[np.float64]) -> None:
        joined = np.concatenate([self._rest, squares]) if len(self._rest) else squares
        n = len(joined) // self._step
        if n:
            self._energies.append(joined[: n * self._step].reshape(n, self._step).mean(axis=1))
        self._rest = joined[n * self._step :]

    @property
    def integrated(self) -> float:
        """Return the gated integrated loudness in LUFS (-70 or below: silence)."""
        if not self._energies:
            return SILENCE_DB
        e = np.concatenate(self._energies)
        # 400 ms blocks with 75 % overlap, from the 100 ms energies
        blocks = np.array([e.mean()]) if len(e) < 4 else (e[:-3] + e[1:-2] + e[2:-1] + e[3:]) / 4
        loudness = -0.691 + 10 * np.log10(np.maximum(blocks, 1e-20))
        kept = blocks[loudness > -70.0]
        if len(kept) == 0:
            return SILENCE_DB
        relative = -0.691 + 10 * math.log10(float(kept.mean())) - 10.0
        kept = blocks[(loudness > -70.0) & (loudness > relative)]
        return -0.691 + 10 * math.log10(float(kept.mean()))


def room_tone(rate: int, level_db: float, seconds: float = 7.0, seed: int = 7) -> Samples:
    """Return a seamless loop of soft, slightly pink noise at ``level_db`` RMS.

    Made in the frequency domain, so it repeats without a seam; the same every time.
    """
    n = _fast_length(int(rate * seconds), 2)
    rng = np.random.default_rng(seed)
    spectrum = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    shape = 1.0 / np.sqrt(np.maximum(freqs, 100.0))  # pink above 100 Hz, flat below
    shape[freqs < 40.0] = 0.0  # no rumble
    noise = np.fft.irfft(spectrum * shape, n)
    noise *= db_to_gain(level_db) / math.sqrt(float(np.mean(noise * noise)))
    return noise.astype(np.float32)
