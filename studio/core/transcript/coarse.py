"""Coarse word times for long audio: the text spoken by espeak-ng, matched to the media by DTW.

The method of aeneas: synthesise the known text, compute MFCCs of the synthetic and of the
real audio (40 ms hop), align the two sequences with dynamic time warping and carry each
synthetic word time through the warping path. The result is rough (p95 ~0.3 s against
another voice; a word after a long pause can come out at the pause's start) but it
cannot lose its place, so it decides which words belong to which audio window before
PocketSphinx aligns each window precisely.

The real audio's features are computed block by block while it is decoded (26 log mel
energies per 40 ms as half floats: 4.7 MB per hour, against 115 MB of PCM, which stays on
disk); synthetic audio is turned into features sentence by sentence and dropped. The DTW is
multiscale and works block by block (only its paths span the whole audio). A rough
pass over MFCCs averaged 4 frames at a time runs over ~90 s of real audio at a time (keeping
the first 60 s of its path) against the stretch of synthetic features the path can reach from
its last kept point; a pass at full resolution then follows the rough path within ±2 s, 120 s
at a time. Steps go from one real frame to the next while the synthetic position holds or
moves on by up to three frames, so real pauses of any length and speech up to three times
faster than the synthetic voice are followed; every path has one step per real frame, so
costs compare fairly. Time grows linearly with the audio.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from studio.core.errors import CancelToken
from studio.core.model import PronunciationRule

HOP_S: Final = 0.04  # feature hop (25 frames per second)
WIN_S: Final = 0.025
N_MELS: Final = 26
N_CEPS: Final = 13
_LOW_HZ: Final = 100.0
_HIGH_HZ: Final = 7600.0
_RANGE_DB: Final = 50.0  # dynamic range kept below the loud frames
_POOL: Final = 4  # frames averaged for the rough DTW (160 ms)
_BAND: Final = 50  # synthetic frames (2 s) either side of the rough path at full resolution
_STATS_BLOCK: Final = 4096  # frames turned into MFCCs at a time (a multiple of _POOL)
_LOUD_DB: Final = 30.0  # frames this close to the loud ones are speech
_BLOCK_S: Final = 90.0  # real audio per block of the rough DTW
_COMMIT_S: Final = 60.0  # of which the path is kept (the rest is redone by the next block)
_BAND_BLOCK_S: Final = 120.0  # real audio per block of the full-resolution pass
_BAND_COMMIT_S: Final = 110.0  # of which the path is kept
_SYNTH_SPEED: Final = 1.4  # less to synthesise; real speech may be up to 3x faster still
_SENTENCE_GAP_S: Final = 0.3  # silence put between synthesised sentences
_SENTENCE_END_RE: Final = re.compile(r"[.!?…:;][\"'”’)\]]*$")
_MAX_SENTENCE_CHARS: Final = 2000

Floats = npt.NDArray[np.float32]
LogMel = npt.NDArray[np.float16]


class _Token(Protocol):
    @property
    def start(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def words(self) -> tuple[str, ...]: ...


# ---------------------------------------------------------------------------------------------
# Features


def _mel_matrix(rate: int, n_fft: int) -> Floats:
    def mel(hz: float) -> float:
        return 2595.0 * math.log10(1.0 + hz / 700.0)

    edges = 700.0 * (10 ** (np.linspace(mel(_LOW_HZ), mel(min(_HIGH_HZ, rate / 2)),
                                         N_MELS + 2) / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(n_fft, 1.0 / rate)
    fb = np.zeros((len(bins), N_MELS), np.float32)
    for m in range(N_MELS):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (bins - lo) / (mid - lo)
        down = (hi - bins) / (hi - mid)
        fb[:, m] = np.maximum(0.0, np.minimum(up, down))
    return fb


def _dct_matrix() -> Floats:
    n = np.arange(N_MELS)
    return np.cos(np.pi / N_MELS * (n[:, None] + 0.5) * np.arange(N_CEPS)[None, :]).astype(
        np.float32)


@dataclass(slots=True)
class Features:
    """Log mel energies (26 per 40 ms frame) of audio fed block by block (int16 or float)."""

    rate: int
    hop: int = 0
    win: int = 0
    skip: int = 0
    carry: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    parts: list[LogMel] = field(default_factory=list)
    _window: Floats = field(default_factory=lambda: np.zeros(0, np.float32))
    _mel: Floats = field(default_factory=lambda: np.zeros(0, np.float32))
    _n_fft: int = 0

    def __post_init__(self) -> None:
        self.hop = round(HOP_S * self.rate)
        self.win = min(round(WIN_S * self.rate), 512)  # one FFT size at 16 and 22.05 kHz
        self._n_fft = 1 << (self.win - 1).bit_length()
        self._window = np.hamming(self.win).astype(np.float32)
        self._mel = _mel_matrix(self.rate, self._n_fft)

    def __call__(self, samples: npt.NDArray[np.int16] | npt.NDArray[np.float32]) -> None:
        data = samples.astype(np.float32)
        if samples.dtype != np.int16:
            data *= 32768.0
        if self.skip:  # the next frame starts this far into the new samples
            dropped = min(self.skip, len(data))
            data, self.skip = data[dropped:], self.skip - dropped
        if len(self.carry):
            data = np.concatenate((self.carry, data))
        if len(data) < self.win:
            self.carry = data
            return
        n = (len(data) - self.win) // self.hop + 1
        index = np.arange(self.win)[None, :] + self.hop * np.arange(n)[:, None]
        frames = data[index] * self._window
        spectrum = np.fft.rfft(frames, self._n_fft)
        power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)
        self.parts.append(np.log(power @ self._mel + 1.0).astype(np.float16))
        self.carry = data[n * self.hop:].copy()
        self.skip = max(0, n * self.hop - len(data))

    def pad(self, seconds: float) -> None:
        """Append frames of digital silence (between synthesised sentences)."""
        self(np.zeros(round(seconds * self.rate), np.int16))

    def array(self) -> LogMel:
        """Return the log mel energies so far (one row per frame; half floats are plenty)."""
        if len(self.parts) != 1:  # joined once and kept joined: no second copy
            self.parts = [np.concatenate(self.parts) if self.parts
                          else np.zeros((0, N_MELS), np.float16)]
        return self.parts[0]


def _floor(logmel: LogMel) -> float:
    return _peak(logmel) - _RANGE_DB * math.log(10) / 10


def _peak(logmel: LogMel) -> float:
    return float(np.percentile(logmel.max(axis=1), 95))


def loud_frames(logmel: LogMel) -> npt.NDArray[np.bool_]:
    """Return which frames are speech rather than pause (from their level)."""
    if not len(logmel):
        return np.zeros(0, dtype=bool)
    return np.asarray(logmel.max(axis=1) > _peak(logmel) - _LOUD_DB * math.log(10) / 10)


class Mfcc:
    """Normalised MFCCs of log mel energies, comparable across voices and levels, by slices.

    Energies are floored :data:`_RANGE_DB` below the loud frames (digital silence and a
    noise floor then look alike), and each coefficient is normalised by its mean and
    deviation over the speech frames (channel and voice differences). Only the statistics
    are computed up front; coefficients are made for the slice asked for.
    """

    def __init__(self, logmel: LogMel) -> None:
        self.logmel = logmel
        self.dct = _dct_matrix()
        self.floor = _floor(logmel) if len(logmel) else 0.0
        loud = loud_frames(logmel)
        use_all = np.count_nonzero(loud) <= N_CEPS
        total = np.zeros(N_CEPS)
        squares = np.zeros(N_CEPS)
        count = 0
        for lo in range(0, len(logmel), _STATS_BLOCK):
            ceps = self._raw(lo, lo + _STATS_BLOCK).astype(np.float64)
            if not use_all:
                ceps = ceps[loud[lo:lo + _STATS_BLOCK]]
            total += ceps.sum(axis=0)
            squares += (ceps * ceps).sum(axis=0)
            count += len(ceps)
        self.mean = total / max(count, 1)
        self.scale = 1.0 / (np.sqrt(np.maximum(squares / max(count, 1) - self.mean ** 2, 0.0))
                            + 1e-3)

    def __len__(self) -> int:
        return len(self.logmel)

    def _raw(self, lo: int, hi: int) -> Floats:
        return np.asarray(np.maximum(self.logmel[lo:hi], self.floor).astype(np.float32)
                          @ self.dct, dtype=np.float32)

    def __call__(self, lo: int, hi: int) -> Floats:
        """Return the coefficients of frames lo..hi."""
        return ((self._raw(lo, hi) - self.mean) * self.scale).astype(np.float32)

    def pooled(self) -> Floats:
        """Return the coefficients averaged :data:`_POOL` frames at a time."""
        parts = [_pool(self(lo, lo + _STATS_BLOCK)) for lo in range(0, len(self), _STATS_BLOCK)]
        return np.concatenate(parts) if parts else np.zeros((0, N_CEPS), np.float32)


# ---------------------------------------------------------------------------------------------
# The synthetic side


def sentences(tokens: Sequence[_Token]) -> list[tuple[int, int]]:
    """Return [first, after) token ranges of the sentences (also cut at long runs)."""
    out: list[tuple[int, int]] = []
    first, chars = 0, 0
    for i, token in enumerate(tokens):
        chars += len(token.text) + 1
        if _SENTENCE_END_RE.search(token.text) or chars > _MAX_SENTENCE_CHARS \
                or i + 1 == len(tokens):
            out.append((first, i + 1))
            first, chars = i + 1, 0
    return out


@dataclass(frozen=True, slots=True)
class Synthetic:
    """Features of the text spoken by espeak-ng and each token's synthetic (start, end)."""

    features: LogMel
    starts: npt.NDArray[np.float64]
    ends: npt.NDArray[np.float64]


def synthesise(text: str, tokens: Sequence[_Token], cancel: CancelToken | None = None,
               rules: Sequence[PronunciationRule] = ()) -> Synthetic:
    """Speak the text with espeak-ng sentence by sentence; keep features and word times.

    ``rules`` (pronunciation rules) are applied as they are when narrating.

    Raises:
        EngineError: espeak-ng cannot be used here.
    """
    from studio.core import audio
    from studio.core.engines import RequestInvalid, SpeechRequest, VoiceParams
    from studio.core.engines.offline import MODEL_ID, SAMPLE_RATE, OfflineEngine

    engine = OfflineEngine()
    lexicon = tuple(rules)
    feats = Features(SAMPLE_RATE)
    starts = np.full(len(tokens), np.nan)
    ends = np.full(len(tokens), np.nan)
    clock = 0.0
    for first, after in sentences(tokens):
        if cancel is not None:
            cancel.raise_if_cancelled("alignment")
        base = tokens[first].start
        last = tokens[after - 1]
        piece = text[base:last.start + len(last.text)]
        if not any(t.words for t in tokens[first:after]):
            continue
        try:
            result = engine.synthesize(SpeechRequest(
                piece, "en-us", MODEL_ID, VoiceParams(speed=_SYNTH_SPEED), lexicon=lexicon),
                cancel)
        except RequestInvalid:  # nothing espeak can say: its words are interpolated
            continue
        pcm, _rate = audio.decode(result.audio, result.format)
        feats(pcm.astype(np.float32))
        timings = result.word_timings
        k = 0
        for i in range(first, after):
            lo, hi = tokens[i].start - base, tokens[i].start - base + len(tokens[i].text)
            while k < len(timings) and timings[k].char_end <= lo:
                k += 1
            inside = [w for w in timings[k:] if w.char_start < hi]
            if inside:
                starts[i] = clock + inside[0].start
                ends[i] = clock + inside[-1].end
        clock += len(pcm) / SAMPLE_RATE
        feats.pad(_SENTENCE_GAP_S)
        clock += _SENTENCE_GAP_S
    known = np.flatnonzero(~np.isnan(starts))
    if len(known):  # tokens espeak did not speak: between their neighbours
        index = np.arange(len(tokens))
        starts = np.interp(index, known, starts[known])
        ends = np.interp(index, known, ends[known])
        ends = np.maximum(ends, starts)
    else:
        starts = ends = np.zeros(len(tokens))
    return Synthetic(feats.array(), starts, ends)


# ---------------------------------------------------------------------------------------------
# DTW


def _block_path(real: Floats, synth: Floats, open_end: bool) -> npt.NDArray[np.int32]:
    """Return the synthetic frame of each real frame, the path starting at (0, 0)."""
    n, w = len(real), len(synth)
    inf = np.float32(np.inf)
    steps = np.zeros((n, w), np.uint8)
    cost = np.full(w + 3, inf, np.float32)  # padded on the left by the longest step
    synth_sq = np.einsum("ij,ij->i", synth, synth)
    rows = 256
    local = np.empty((0, w), np.float32)
    for i in range(n):
        if i % rows == 0:
            block = real[i:i + rows]
            local = np.sqrt(np.maximum(
                np.einsum("ij,ij->i", block, block)[:, None] + synth_sq[None, :]
                - 2.0 * (block @ synth.T), 0.0)).astype(np.float32)
        c = local[i % rows]
        if i == 0:
            cost[3] = c[0]
            continue
        hold, one = cost[3:], cost[2:-1]  # the path holds, or moves on 1, 2 or 3 frames
        two, three = cost[1:-2], cost[:-3]
        near, far = np.minimum(hold, one), np.minimum(two, three)
        step = np.where(far < near, np.where(three < two, 3, 2), one < hold).astype(np.uint8)
        best = np.minimum(near, far)
        steps[i] = step
        cost[3:] = best + c
    j = w - 1
    if open_end or not np.isfinite(cost[-1]):  # free end (or the end cannot be reached)
        j = int(np.argmin(cost[3:]))
    path = np.empty(n, np.int32)
    for i in range(n - 1, -1, -1):
        path[i] = j
        j -= int(steps[i, j])
    return path


def _blocked_path(real: Floats, synth: Floats, cancel: CancelToken | None
                  ) -> npt.NDArray[np.int32]:
    """DTW over the whole of two sequences, a block of real frames at a time."""
    n, m = len(real), len(synth)
    path = np.zeros(n, np.int32)
    ratio = m / n
    block = max(8, round(_BLOCK_S / HOP_S / _POOL))
    commit = max(4, round(_COMMIT_S / HOP_S / _POOL))
    i0, j0 = 0, 0
    while i0 < n:
        if cancel is not None:
            cancel.raise_if_cancelled("alignment")
        final = n - i0 <= block
        i1 = n if final else i0 + block
        # The synthetic stretch the path can reach: generous around the expected pace.
        reach = max(2.5 * ratio, 1.0) * (i1 - i0) + 10.0 / HOP_S / _POOL
        j1 = m if final else max(j0 + 1, min(m, j0 + int(reach)))
        part = _block_path(real[i0:i1], synth[j0:j1], open_end=not final)
        keep = (i1 - i0) if final else commit
        path[i0:i0 + keep] = part[:keep] + j0
        if final:
            break
        i0, j0 = i0 + keep, j0 + int(part[keep])
    return np.minimum(np.maximum.accumulate(path), m - 1)


def _band_block(real: Floats, synth: Floats, low: npt.NDArray[np.int64], start: int,
                open_end: bool) -> npt.NDArray[np.int64]:
    """DTW of real frames against a band of synthetic ones starting at ``low`` per row.

    The path starts at synthetic frame ``start`` (inside the first row's band) and ends at the
    last synthetic frame, or anywhere in the last row if ``open_end``.
    """
    n, m = len(real), len(synth)
    width = 2 * _BAND + 1
    inf = np.float32(np.inf)
    steps = np.zeros((n, width), np.uint8)
    cost = np.full(width + 3 + 4, inf, np.float32)  # 3 on the left, room for a shift
    offsets = np.arange(width)
    rows = 512
    local = np.empty((0, width), np.float32)
    for i in range(n):
        if i % rows == 0:
            index = np.minimum(low[i:i + rows, None] + offsets[None, :], m - 1)
            diff = synth[index] - real[i:i + rows, None, :]
            local = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff)).astype(np.float32)
        c = local[i % rows]
        if i == 0:
            first = min(max(start - int(low[0]), 0), width - 1)
            cost[3 + first] = c[first]
            continue
        shift = int(low[i] - low[i - 1])  # 0..3
        view = cost[shift:shift + width + 3]
        hold, one = view[3:], view[2:-1]
        two, three = view[1:-2], view[:-3]
        near, far = np.minimum(hold, one), np.minimum(two, three)
        steps[i] = np.where(far < near, np.where(three < two, 3, 2), one < hold)
        best = np.minimum(near, far) + c
        cost[:3] = inf
        cost[3:3 + width] = best
        cost[3 + width:] = inf
    last = min(width - 1, m - 1 - int(low[-1]))
    t = last if not open_end and np.isfinite(cost[3 + last]) else int(
        np.argmin(cost[3:3 + width]))
    path = np.empty(n, np.int64)
    for i in range(n - 1, -1, -1):
        j = int(low[i]) + t
        path[i] = j
        if i:
            t = min(max(j - int(steps[i, t]) - int(low[i - 1]), 0), width - 1)
    return path


def _band_path(ours: Mfcc, theirs: Mfcc, centre: npt.NDArray[np.int64],
               cancel: CancelToken | None) -> npt.NDArray[np.int32]:
    """DTW within a band of synthetic frames around ``centre`` (one per real frame), a block
    of real frames at a time (the path of each block is kept up to where the next starts)."""
    n, m = len(ours), len(theirs)
    width = 2 * _BAND + 1
    low = np.clip(centre - _BAND, 0, max(0, m - width)).astype(np.int64)
    low = np.maximum.accumulate(low)
    for i in range(1, n):  # the band may not run ahead of the path's fastest pace
        low[i] = min(low[i], low[i - 1] + 3)
    path = np.zeros(n, np.int32)
    block = round(_BAND_BLOCK_S / HOP_S)
    commit = round(_BAND_COMMIT_S / HOP_S)
    i0, j0 = 0, 0
    while i0 < n:
        if cancel is not None:
            cancel.raise_if_cancelled("alignment")
        final = n - i0 <= block
        i1 = n if final else i0 + block
        s0, s1 = int(low[i0]), min(m, int(low[i1 - 1]) + width)
        part = _band_block(ours(i0, i1), theirs(s0, s1), low[i0:i1] - s0, j0 - s0,
                           open_end=not final) + s0
        keep = (i1 - i0) if final else commit
        path[i0:i0 + keep] = part[:keep]
        if final:
            break
        i0, j0 = i0 + keep, int(part[keep])
    return path


def warp(real: LogMel, synth: LogMel, cancel: CancelToken | None = None
         ) -> npt.NDArray[np.int32]:
    """Return, for each real frame, the synthetic frame it matches (monotonic).

    Multiscale: a DTW over features pooled :data:`_POOL` frames at a time finds the way
    (block by block), then a DTW at full resolution follows it within :data:`_BAND` frames.
    """
    ours, theirs = Mfcc(real), Mfcc(synth)
    n, m = len(ours), len(theirs)
    if not n or not m:
        return np.zeros(n, np.int32)
    rough = _blocked_path(ours.pooled(), theirs.pooled(), cancel)
    centre = rough[np.minimum(np.arange(n) // _POOL, len(rough) - 1)].astype(np.int64) \
        * _POOL + _POOL // 2
    path = _band_path(ours, theirs, centre, cancel)
    return np.minimum(np.maximum.accumulate(path), m - 1)


def _pool(f: Floats) -> Floats:
    n = len(f) // _POOL * _POOL
    pooled = f[:n].reshape(-1, _POOL, f.shape[1]).mean(axis=1)
    if n < len(f):
        pooled = np.concatenate((pooled, f[n:].mean(axis=0, keepdims=True)))
    return pooled.astype(np.float32)


def real_times(path: npt.NDArray[np.int32], synthetic: Synthetic
               ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Map each token's synthetic (start, end) to real times through the path.

    A word's times are first moved onto its sound (espeak's word events can fall in the
    pause before it, which the path holds on while the real audio pauses).
    """
    loud = loud_frames(synthetic.features)
    m = len(loud)
    index = np.arange(m)
    next_loud = np.minimum.accumulate(np.where(loud, index, m)[::-1])[::-1]
    last_loud = np.maximum.accumulate(np.where(loud, index, -1))
    first = np.clip(np.round(synthetic.starts / HOP_S).astype(np.int64), 0, m - 1)
    after = np.clip(np.round(synthetic.ends / HOP_S).astype(np.int64), 1, m)
    first_sound = np.minimum(next_loud[first], m - 1)  # espeak's event may sit in the pause
    after_sound = np.maximum(last_loud[after - 1] + 1, first_sound + 1)
    first_sound = np.maximum.accumulate(first_sound)
    starts = np.searchsorted(path, first_sound, side="left") * HOP_S
    ends = np.searchsorted(path, after_sound, side="left") * HOP_S
    return starts.astype(np.float64), np.maximum(ends, starts).astype(np.float64)


__all__ = ["HOP_S", "Features", "Mfcc", "Synthetic", "real_times", "sentences", "synthesise",
           "warp"]
