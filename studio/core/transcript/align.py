"""Offline forced alignment and transcription with PocketSphinx (en-us model, 16 kHz).

Alignment settings (``shared/spec/dependencies.md`` §8): ``frate=200`` (with the default 100
frames per second the 3-state HMMs cannot follow fast speech and alignment fails), one
decoder reused for every chunk (setting one up costs 0.3 s), ``(2)`` pronunciation suffixes
stripped, out-of-vocabulary words added with a spelling-based pronunciation first.

Long audio is aligned in chunks between anchors, so that timing cannot drift over an hour
(the method of aeneas, then PocketSphinx). The media is decoded once to a temporary PCM file
while its 10 ms energies and its MFCC features are measured. The text is spoken by espeak-ng
and the two feature sequences are matched by DTW (:mod:`studio.core.transcript.coarse`),
which gives every word a rough time (median ~30 ms, p95 ~0.3 s, up to ~1-3 s for a word
after a long pause) and cannot lose its place.
Anchors are then chosen every 15-30 s: a sentence end (else a clause end, else any word)
whose rough time falls in a measured pause, the anchor sitting in the middle of that pause.
Each chunk is aligned by PocketSphinx on its own audio (read from the PCM file by seeking)
with exactly the words between its anchors. A chunk that does not align is tried once more
with its window 0.5 s wider, then cut in two at an anchor near its middle, and only then
keeps the DTW times of its words (``aligned=False``), so one bad chunk never shifts the
next. Each chunk costs the same, whatever the length of the audio. When the caller already
knows boundaries (transcript segments, project paragraphs), :func:`align_spans` aligns
each span on its own.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from studio.core.engines import EngineError
from studio.core.errors import CancelToken, StudioError
from studio.core.lexicon.sphinx import RuleWords, rule_phones
from studio.core.model import PronunciationRule
from studio.core.transcript import coarse
from studio.core.transcript.media import SAMPLE_RATE, PcmFile, decode
from studio.core.transcript.model import (
    SegmentId,
    Transcript,
    TranscriptChanges,
    Word,
    WordType,
    set_segment_words,
)

log = logging.getLogger(__name__)

FRATE: Final = 200  # frames per second for alignment (see module docstring)
FRAME_S: Final = 0.01  # energy frame for pause detection
_BEAM: Final = 1e-80
MIN_PAUSE_S: Final = 0.15
_SPAN_PAD_S: Final = 0.2
_CHUNK_MIN_S: Final = 15.0  # anchors are sought this far after the last one...
_CHUNK_MAX_S: Final = 30.0  # ...and no further
_ANCHOR_TOLERANCE_S: Final = 0.4  # how far a pause may be from a gap the DTW predicts
_COARSE_SHARE: Final = 0.1  # of the progress, for synthesis and DTW
_WIDEN_S: Final = 0.5  # a chunk that does not align is tried once more, this much wider
_SPLITS: Final = 2  # and then cut in two, up to this many times
_SENTENCE_END_RE: Final = re.compile(r"[.!?…][\"'”’)\]]*$")
_CLAUSE_END_RE: Final = re.compile(r"[,;:—–][\"'”’)\]]*$")
_TOKEN_RE: Final = re.compile(r"\S+")
_PIECE_RE: Final = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


class AlignmentError(StudioError):
    """Alignment could not run (no usable text, engine missing)."""


@dataclass(frozen=True, slots=True)
class AlignedWord:
    """A whitespace-delimited token of the text and its time in the media (seconds)."""

    text: str
    start: float
    end: float
    char_start: int
    char_end: int
    aligned: bool = True  # False: times spread by length, not found in the audio


# ---------------------------------------------------------------------------------------------
# Text -> dictionary words

_ONES: Final = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)
_TENS: Final = (
    "_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
)


def _number_words(n: int) -> list[str]:
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    if n < 1000:
        return [_ONES[n // 100], "hundred"] + (_number_words(n % 100) if n % 100 else [])
    if n < 1_000_000:
        return _number_words(n // 1000) + ["thousand"] + (
            _number_words(n % 1000) if n % 1000 else [])
    return [_ONES[int(d)] for d in str(n)]


def spoken_words(token: str) -> list[str]:
    """Return the dictionary words a token is spoken as ("Well-known," -> well, known)."""
    text = token.lower().replace("’", "'").replace("‘", "'")
    out: list[str] = []
    for piece in _PIECE_RE.findall(text):
        if piece.isdigit():
            if len(piece) == 4 and 1100 <= int(piece) <= 1999 and int(piece) % 100:
                out += _number_words(int(piece) // 100) + _number_words(int(piece) % 100)
            else:
                out += _number_words(int(piece)) if len(piece) <= 6 else [
                    _ONES[int(d)] for d in piece]
        else:
            out.append(piece)
    return out


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    text: str
    words: tuple[str, ...]


def _tokens(text: str, rules: RuleWords | None = None) -> list[_Token]:
    """Return the tokens of ``text``; words with a pronunciation rule get its rule name."""
    return [_Token(m.start(), m.end(), m.group(), tuple(
        rules.to_dictionary(spoken_words(m.group())) if rules else spoken_words(m.group())))
        for m in _TOKEN_RE.finditer(text)]


_LETTER_PHONES: Final = {
    "a": "AE", "b": "B", "c": "K", "d": "D", "e": "EH", "f": "F", "g": "G", "h": "HH",
    "i": "IH", "j": "JH", "k": "K", "l": "L", "m": "M", "n": "N", "o": "AA", "p": "P",
    "q": "K", "r": "R", "s": "S", "t": "T", "u": "AH", "v": "V", "w": "W", "x": "K S",
    "y": "Y", "z": "Z",
}
_DIGRAPHS: Final = {
    "th": "TH", "sh": "SH", "ch": "CH", "ph": "F", "ng": "NG", "ck": "K", "ee": "IY",
    "ea": "IY", "oo": "UW", "ou": "AW", "ai": "EY", "ay": "EY", "oa": "OW", "wh": "W",
    "qu": "K W", "gh": "G", "kn": "N",
}


def spelled_phones(word: str) -> str:
    """Guess ARPAbet phones from spelling (PocketSphinx has no G2P; good enough to align).

    A rule word (``lexicon.sphinx.rule_word``) has its phones in its name: those are used.
    """
    encoded = rule_phones(word)
    if encoded is not None:
        return encoded
    phones: list[str] = []
    i = 0
    letters = re.sub(r"[^a-z]", "", word.lower())
    while i < len(letters):
        pair = letters[i:i + 2]
        if pair in _DIGRAPHS:
            phones.extend(_DIGRAPHS[pair].split())
            i += 2
            continue
        letter = letters[i]
        if i > 0 and letter == letters[i - 1]:
            i += 1
            continue  # doubled letters are one sound
        if not (letter == "e" and i == len(letters) - 1 and len(letters) > 2):  # silent e
            phones.extend(_LETTER_PHONES[letter].split())
        i += 1
    return " ".join(phones) or "AH"


# ---------------------------------------------------------------------------------------------
# The decoder


class _Sphinx:
    """One PocketSphinx decoder in alignment mode, reused for every chunk."""

    def __init__(self) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:
            raise AlignmentError(
                "Offline alignment needs PocketSphinx: reinstall Narrator Studio or run "
                "'pip install pocketsphinx'."
            ) from exc
        # Wider beams than the default 1e-48: on a 30 s window the right path was sometimes
        # pruned and the rest of the window decoded as silence (same CPU time measured).
        # Batch CMN: each chunk is normalised on its own audio, so whether it aligns does not
        # depend on what the decoder heard before (live CMN carries over between utterances).
        self.decoder: Any = Decoder(samprate=SAMPLE_RATE, bestpath=False, frate=FRATE,
                                    beam=_BEAM, pbeam=_BEAM, cmn="batch", loglevel="FATAL")
        self._phones: dict[str, int] = {}

    def phone_count(self, word: str) -> int:
        """Return the phones in a word, adding it to the dictionary if it is missing."""
        count = self._phones.get(word)
        if count is None:
            phones = self.decoder.lookup_word(word)
            if phones is None:
                phones = spelled_phones(word)
                self.decoder.add_word(word, phones, True)
            count = max(1, len(phones.split()))
            self._phones[word] = count
        return count

    def align(self, pcm: bytes, words: Sequence[str]) -> list[tuple[float, float]] | None:
        """Align words to audio; return (start, end) per word relative to it, or None."""
        if not words or len(pcm) < 2 * SAMPLE_RATE // 20:
            return None
        for word in words:
            self.phone_count(word)
        d = self.decoder
        try:
            d.set_align_text(" ".join(words))
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
        except RuntimeError as exc:
            log.debug("alignment failed: %s", exc)
            return None
        if d.hyp() is None:
            return None
        times: list[tuple[float, float]] = []
        for seg in d.seg():
            name = re.sub(r"\(\d+\)$", "", seg.word)
            if name.startswith(("<", "[")):
                continue
            times.append((seg.start_frame / FRATE, (seg.end_frame + 1) / FRATE))
        if len(times) != len(words):
            return None
        return times


_SPHINX_LOCK = threading.Lock()
_SPHINX: _Sphinx | None = None


def _sphinx() -> _Sphinx:
    global _SPHINX
    if _SPHINX is None:
        _SPHINX = _Sphinx()
    return _SPHINX


# ---------------------------------------------------------------------------------------------
# Pauses


@dataclass(slots=True)
class _Energy:
    """Collects 10 ms frame energies (dB) while media is decoded."""

    frame: int = round(FRAME_S * SAMPLE_RATE)
    carry: npt.NDArray[np.int16] = field(default_factory=lambda: np.zeros(0, np.int16))
    parts: list[npt.NDArray[np.float32]] = field(default_factory=list)

    def __call__(self, pcm: npt.NDArray[np.int16]) -> None:
        data = np.concatenate((self.carry, pcm)) if len(self.carry) else pcm
        n = len(data) // self.frame
        frames = data[:n * self.frame].astype(np.float32).reshape(n, self.frame)
        self.parts.append(10 * np.log10(np.mean(frames * frames, axis=1) + 1.0))
        self.carry = data[n * self.frame:].copy()

    def db(self) -> npt.NDArray[np.float32]:
        return np.concatenate(self.parts) if self.parts else np.zeros(0, np.float32)


def quiet_frames(db: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
    """Return which 10 ms frames are quiet (relative to the file's own floor and peaks)."""
    if not len(db):
        return np.zeros(0, dtype=bool)
    floor = float(np.percentile(db, 5))
    loud = float(np.percentile(db, 95))
    return np.asarray(db < floor + max(6.0, 0.3 * (loud - floor)))


def find_pauses(db: npt.NDArray[np.float32], min_pause: float = MIN_PAUSE_S
                ) -> list[tuple[float, float]]:
    """Return (start, end) of each quiet stretch of at least ``min_pause`` seconds."""
    quiet = quiet_frames(db)
    if not len(quiet):
        return []
    edges = np.diff(np.concatenate(([0], quiet.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    frames = max(1, round(min_pause / FRAME_S))
    return [(s * FRAME_S, e * FRAME_S) for s, e in zip(starts, ends, strict=True)
            if e - s >= frames]


# ---------------------------------------------------------------------------------------------
# Alignment


Progress = Callable[[float], None]


def _spread(tokens: Sequence[_Token], weights: Sequence[int], start: float, end: float
            ) -> list[AlignedWord]:
    total = sum(weights) or 1
    out: list[AlignedWord] = []
    clock = start
    for token, weight in zip(tokens, weights, strict=True):
        length = max(0.0, end - start) * weight / total
        out.append(AlignedWord(token.text, clock, clock + length, token.start, token.end, False))
        clock += length
    return out


def _token_times(tokens: Sequence[_Token], times: Sequence[tuple[float, float]], offset: float
                 ) -> list[AlignedWord]:
    """Turn per-dictionary-word times into per-token times (tokens with no words: zero)."""
    out: list[AlignedWord] = []
    k = 0
    clock = offset + (times[0][0] if times else 0.0)
    for token in tokens:
        n = len(token.words)
        if n:
            start, end = times[k][0] + offset, times[k + n - 1][1] + offset
            k += n
            clock = end
            out.append(AlignedWord(token.text, start, end, token.start, token.end))
        else:
            out.append(AlignedWord(token.text, clock, clock, token.start, token.end))
    return out


class _Anchored:
    """Aligns a long text chunk by chunk between anchors found by DTW (module docstring)."""

    def __init__(self, sphinx: _Sphinx, pcm: PcmFile, db: npt.NDArray[np.float32],
                 tokens: list[_Token], starts: npt.NDArray[np.float64],
                 ends: npt.NDArray[np.float64], cancel: CancelToken | None,
                 progress: Progress | None) -> None:
        self.sphinx = sphinx
        self.pcm = pcm
        self.tokens = tokens
        self.starts, self.ends = starts, ends  # coarse (DTW) times of each token
        self.cancel = cancel
        self.progress = progress
        pauses = find_pauses(db)
        self.pause_starts = np.array([s for s, _ in pauses], dtype=np.float64)
        self.pause_ends = np.array([e for _, e in pauses], dtype=np.float64)

    def _pause_near(self, k: int) -> tuple[float, float] | None:
        """Return (score, time) of the pause that best fits the gap before token ``k``."""
        before, after = float(self.ends[k - 1]), float(self.starts[k])
        i = int(np.searchsorted(self.pause_ends, before - _ANCHOR_TOLERANCE_S))
        best: tuple[float, float] | None = None
        while i < len(self.pause_starts) and self.pause_starts[i] < after + _ANCHOR_TOLERANCE_S:
            start, end = float(self.pause_starts[i]), float(self.pause_ends[i])
            miss = max(0.0, start - after, before - end)  # how far the pause is from the gap
            score = min(end - start, 1.0) - miss / _ANCHOR_TOLERANCE_S
            if best is None or score > best[0]:
                best = (score, (start + end) / 2)
            i += 1
        return best

    def _best_anchor(self, k0: int, k1: int, low: float, high: float
                     ) -> tuple[int, float] | None:
        """Return the best anchor before a token of k0+1..k1-1 whose rough start is between
        ``low`` and ``high``: a pause at a sentence end, else at a clause end, else any."""
        best: tuple[float, int, float] | None = None
        first = int(np.searchsorted(self.starts, low))
        for k in range(max(k0 + 1, first), k1):
            if self.starts[k] >= high:
                break
            if not self.tokens[k - 1].words:
                continue
            found = self._pause_near(k)
            if found is None or not low - _ANCHOR_TOLERANCE_S < found[1] < high:
                continue
            text = self.tokens[k - 1].text
            bonus = 2.0 if _SENTENCE_END_RE.search(text) else (
                1.0 if _CLAUSE_END_RE.search(text) else 0.0)
            if best is None or found[0] + bonus > best[0]:
                best = (found[0] + bonus, k, found[1])
        return None if best is None else (best[1], best[2])

    def _next_anchor(self, k0: int, t0: float) -> tuple[int, float]:
        """Return the token and time of the next anchor, ~15-30 s after (k0, t0)."""
        n = len(self.tokens)
        if self.pcm.duration - t0 <= _CHUNK_MAX_S:
            return n, self.pcm.duration
        found = self._best_anchor(k0, n, t0 + _CHUNK_MIN_S, t0 + _CHUNK_MAX_S)
        if found is not None and found[1] > t0:
            return found
        # No pause where one was expected: cut between two words, halfway across their gap.
        k = max(k0 + 1, min(n - 1, int(np.searchsorted(self.starts, t0 + _CHUNK_MAX_S)) - 1))
        if k >= n:
            return n, self.pcm.duration
        cut = (float(self.ends[k - 1]) + float(self.starts[k])) / 2
        return k, min(self.pcm.duration, max(t0 + 1.0, cut))

    def run(self) -> list[AlignedWord]:
        out: list[AlignedWord] = []
        k0, t0 = 0, 0.0
        n = len(self.tokens)
        while k0 < n:
            if self.cancel is not None:
                self.cancel.raise_if_cancelled("alignment")
            k1, t1 = self._next_anchor(k0, t0)
            out.extend(self._chunk(k0, k1, t0, t1))
            k0, t0 = k1, t1
            if self.progress is not None:
                self.progress(_COARSE_SHARE + (1 - _COARSE_SHARE) * min(
                    1.0, t1 / max(self.pcm.duration, 1e-9)))
        return out

    def _chunk(self, k0: int, k1: int, t0: float, t1: float, depth: int = 0
               ) -> list[AlignedWord]:
        """Align tokens k0..k1 to the audio between two anchors.

        A chunk that does not align (PocketSphinx prunes the path now and then) is tried
        with a wider window, then cut in two at an anchor near its middle; what still fails
        keeps its DTW times.
        """
        tokens = self.tokens[k0:k1]
        words = [w for t in tokens for w in t.words]
        if not words:
            return [AlignedWord(t.text, t0, t0, t.start, t.end) for t in tokens]
        for low, high in ((t0, t1), (t0 - _WIDEN_S, t1 + _WIDEN_S)):
            low, high = max(0.0, low), min(self.pcm.duration, high)
            times = self.sphinx.align(self.pcm.read(low, high), words)
            if times is not None:
                return _token_times(tokens, times, low)
        if depth < _SPLITS and k1 - k0 > 1:
            third = (t1 - t0) / 3
            middle = self._best_anchor(k0, k1, t0 + third, t1 - third)
            if middle is not None and t0 < middle[1] < t1:
                k, t = middle
                return (self._chunk(k0, k, t0, t, depth + 1)
                        + self._chunk(k, k1, t, t1, depth + 1))
        log.info("chunk %.1f-%.1f s did not align; keeping its DTW times", t0, t1)
        return [AlignedWord(t.text, min(max(float(s), t0), t1), min(max(float(e), t0), t1),
                            t.start, t.end, False)
                for t, s, e in zip(tokens, self.starts[k0:k1], self.ends[k0:k1], strict=True)]


def align_text(media: str | Path, text: str, *, cancel: CancelToken | None = None,
               progress: Progress | None = None,
               rules: Sequence[PronunciationRule] = ()) -> list[AlignedWord]:
    """Align known text to a media file offline; return one entry per whitespace token.

    ``rules`` (pronunciation rules, first match wins) say how words are pronounced.

    Raises:
        AlignmentError: the text has no words.
        MediaError: the media cannot be decoded.
    """
    tokens = _tokens(text, RuleWords(rules) if rules else None)
    if not any(t.words for t in tokens):
        raise AlignmentError("The text has no words to align.")
    energy = _Energy()
    features = coarse.Features(SAMPLE_RATE)

    def on_block(block: npt.NDArray[np.int16]) -> None:
        energy(block)
        features(block)

    with _SPHINX_LOCK, decode(media, on_block=on_block, cancel=cancel) as pcm:
        sphinx = _sphinx()
        n = len(tokens)
        if pcm.duration <= _CHUNK_MAX_S:  # one chunk: no anchors needed
            return _Anchored(sphinx, pcm, energy.db(), tokens, np.zeros(n), np.zeros(n),
                             cancel, progress).run()
        try:
            synthetic = coarse.synthesise(text, tokens, cancel, rules)
        except EngineError as exc:  # no espeak-ng: rough times from the phone counts
            log.warning("alignment without DTW anchors: %s", exc)
            weights = [sum(sphinx.phone_count(w) for w in t.words) for t in tokens]
            rough = _spread(tokens, weights, 0.0, pcm.duration)
            starts = np.array([w.start for w in rough])
            ends = np.array([w.end for w in rough])
        else:
            path = coarse.warp(features.array(), synthetic.features, cancel)
            starts, ends = coarse.real_times(path, synthetic)
        if progress is not None:
            progress(_COARSE_SHARE)
        return _Anchored(sphinx, pcm, energy.db(), tokens, starts, ends, cancel, progress).run()


def align_pcm_spans(pcm: PcmFile, spans: Sequence[tuple[float, float, str]], *,
                    cancel: CancelToken | None = None,
                    rules: Sequence[PronunciationRule] = ()) -> list[list[AlignedWord]]:
    """Align each (start, end, text) span of decoded audio on its own (known anchors)."""
    sphinx = _sphinx()
    rule_words = RuleWords(rules) if rules else None
    results: list[list[AlignedWord]] = []
    for i, (start, end, text) in enumerate(spans):
        if cancel is not None:
            cancel.raise_if_cancelled("alignment")
        tokens = _tokens(text, rule_words)
        low = max(0.0, start - _SPAN_PAD_S, spans[i - 1][1] if i > 0 else 0.0)
        high = min(pcm.duration, end + _SPAN_PAD_S,
                   spans[i + 1][0] if i + 1 < len(spans) else pcm.duration)
        low, high = min(low, start), max(high, end)
        words = [w for t in tokens for w in t.words]
        times = sphinx.align(pcm.read(low, high), words) if words else None
        if times is None:
            weights = [sum(sphinx.phone_count(w) for w in t.words) or 1 for t in tokens]
            results.append(_spread(tokens, weights, start, end))
            continue
        aligned = _token_times(tokens, times, low)
        results.append([
            AlignedWord(w.text, min(max(w.start, start), end),
                        min(max(w.end, w.start, start), end), w.char_start, w.char_end)
            for w in aligned
        ])
    return results


# ---------------------------------------------------------------------------------------------
# "Align words" for edited transcript segments


class Aligner(Protocol):
    """Times the words of spans of one media file whose boundaries are known."""

    def align_spans(self, spans: Sequence[tuple[float, float, str]],
                    cancel: CancelToken | None = None) -> list[list[AlignedWord]]:
        """Return the aligned words of each (start, end, text) span."""
        ...


class OfflineAligner:
    """Aligner over a media file with PocketSphinx (decodes the media once, lazily).

    ``rules``: pronunciation rules for the words (a project's dictionaries, a PLS file).
    """

    def __init__(self, media: str | Path, rules: Sequence[PronunciationRule] = ()) -> None:
        self.media = Path(media)
        self.rules = tuple(rules)
        self._pcm: PcmFile | None = None

    def align_spans(self, spans: Sequence[tuple[float, float, str]],
                    cancel: CancelToken | None = None) -> list[list[AlignedWord]]:
        """Return the aligned words of each (start, end, text) span."""
        with _SPHINX_LOCK:
            if self._pcm is None:
                self._pcm = decode(self.media, cancel=cancel)
            return align_pcm_spans(self._pcm, spans, cancel=cancel, rules=self.rules)

    def close(self) -> None:
        """Delete the decoded audio."""
        if self._pcm is not None:
            self._pcm.close()
            self._pcm = None

    def __enter__(self) -> OfflineAligner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def words_from_alignment(aligned: Sequence[AlignedWord]) -> list[Word]:
    """Turn aligned tokens into transcript words."""
    return [Word(a.text, a.start, a.end, WordType.WORD, None if a.aligned else 0.0,
                 a.char_start, a.char_end) for a in aligned]


def align_words(t: Transcript, segment_ids: Sequence[SegmentId] | None, aligner: Aligner, *,
                cancel: CancelToken | None = None) -> TranscriptChanges:
    """Recompute the word times of the given segments (default: those marked stale)."""
    if segment_ids is None:
        segment_ids = [s.id for s in t.segments if s.words_stale]
    segments = [t.segment(i) for i in segment_ids]
    if not segments:
        return TranscriptChanges()
    results = aligner.align_spans([(s.start, s.end, s.text) for s in segments], cancel)
    changes = TranscriptChanges()
    for segment, aligned in zip(segments, results, strict=True):
        changes = changes | set_segment_words(t, segment.id, words_from_alignment(aligned))
    return changes


# ---------------------------------------------------------------------------------------------
# Offline transcription


def transcribe_offline(media: str | Path, *, cancel: CancelToken | None = None,
                       progress: Progress | None = None, max_utterance_s: float = 20.0
                       ) -> Transcript:
    """Transcribe speech with PocketSphinx's general English model (rough: a first draft).

    The audio is cut at pauses into utterances of at most ``max_utterance_s``.
    """
    try:
        from pocketsphinx import Decoder
    except ImportError as exc:
        raise AlignmentError("Offline transcription needs PocketSphinx.") from exc
    from studio.core.transcript.io import words_to_transcript

    energy = _Energy()
    stream: list[tuple[Word, str]] = []
    decoder: Any = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
    logmath = decoder.get_logmath()
    with decode(media, on_block=energy, cancel=cancel) as pcm:
        pauses = [(s + e) / 2 for s, e in find_pauses(energy.db(), 0.25)]
        cuts = [0.0]
        for mid in pauses:
            if mid - cuts[-1] >= max_utterance_s * 0.5:
                cuts.append(mid)
        while pcm.duration - cuts[-1] > max_utterance_s:
            cuts.append(cuts[-1] + max_utterance_s)
        cuts.append(pcm.duration)
        for start, end in itertools.pairwise(cuts):
            if cancel is not None:
                cancel.raise_if_cancelled("transcription")
            decoder.start_utt()
            decoder.process_raw(pcm.read(start, end), full_utt=True)
            decoder.end_utt()
            for seg in decoder.seg():
                word = re.sub(r"\(\d+\)$", "", seg.word)
                if word.startswith(("<", "[")):
                    continue
                confidence = float(min(1.0, max(0.0, logmath.exp(seg.prob))))
                stream.append((Word(word, start + seg.start_frame / 100,
                                    start + (seg.end_frame + 1) / 100, WordType.WORD,
                                    confidence), "speaker_0"))
            if progress is not None:
                progress(end / max(pcm.duration, 1e-9))
        duration = pcm.duration
    t = words_to_transcript(stream, language="en", source="offline")
    t.duration = duration
    t.media = str(media)
    return t


def alignment_json(aligned: Sequence[AlignedWord]) -> dict[str, Any]:
    """Return ``{"words": [{"text", "start", "end"}]}`` in seconds (the CLI's output)."""
    return {"words": [{"text": w.text, "start": round(w.start, 3), "end": round(w.end, 3)}
                      for w in aligned]}


def median_start_error(aligned: Sequence[AlignedWord],
                       reference: Sequence[tuple[str, float]]) -> float:
    """Return the median |start difference| against a reference of (word, start) pairs."""
    if len(aligned) != len(reference):
        raise ValueError("alignment and reference have different numbers of words")
    return float(np.median([abs(a.start - r[1]) for a, r in zip(aligned, reference,
                                                               strict=True)])) if aligned \
        else math.nan
