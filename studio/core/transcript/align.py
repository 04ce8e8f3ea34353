"""Offline forced alignment and transcription with PocketSphinx (en-us model, 16 kHz).

Alignment settings (``shared/spec/dependencies.md`` §8): ``frate=200`` (with the default 100
frames per second the 3-state HMMs cannot follow fast speech and alignment fails), one
decoder reused for every chunk (setting one up costs 0.3 s), ``(2)`` pronunciation suffixes
stripped, out-of-vocabulary words added with a spelling-based pronunciation first.

Long audio is aligned in chunks so that timing cannot drift over an hour and memory stays
flat. The media is decoded once to a temporary PCM file while its 10 ms energies are
measured. Each chunk starts at an anchor (the start, then the gap after the last confidently
aligned word) and takes ~30 s of audio, ending at a pause so no word is cut. Its grammar is
the text from the anchor on, ~1.6x what the speaking rate predicts, and may end after any
word, so a wrong guess of where the chunk's text ends cannot make it fail. Only the words
well inside the window are kept (the last ones are aligned again by the next chunk), and
only up to a search error (speech decoded as silence between words, or a word stretched over
a pause). A chunk that keeps nothing is retried with a shorter and a longer window; if those
fail too, the audio is skipped ahead and the next chunk may start at any word of a wider
stretch of text, so it finds its place again; words passed over are spread by phone count
(``aligned=False``). Each chunk costs the same, whatever the length of the audio. When the
caller already knows boundaries (transcript segments, project paragraphs),
:func:`align_spans` aligns each span on its own.
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

from studio.core.errors import CancelToken, StudioError
from studio.core.lexicon.sphinx import RuleWords, rule_phones
from studio.core.model import PronunciationRule
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
TARGET_CHUNK_S: Final = 30.0  # audio window of one chunk
SINGLE_PASS_S: Final = 45.0  # remaining audio this short is aligned in one go
_COMMIT_MARGIN_S: Final = 3.0  # words ending this close to a window's end are aligned again
_BEAM: Final = 1e-80
_RETRIES: Final = 2  # other windows tried before a stretch counts as lost
_RETRY_LENGTHS: Final = (1.0, 0.5, 2.0)  # window lengths tried, in TARGET_CHUNK_S
_LOUD_GAP_S: Final = 1.0  # sound between two words that makes an alignment doubtful
_QUIET_WORD_S: Final = 1.0  # silence inside one word that makes an alignment doubtful
MIN_PAUSE_S: Final = 0.15
_SPAN_PAD_S: Final = 0.2
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
        self.decoder: Any = Decoder(samprate=SAMPLE_RATE, bestpath=False, frate=FRATE,
                                    beam=_BEAM, pbeam=_BEAM, loglevel="FATAL")
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

    def decode(self, pcm: bytes, words: Sequence[str], entries: Sequence[int] = (0,),
               first_exit: int | None = None) -> tuple[int, list[tuple[float, float]]] | None:
        """Align audio to a stretch of ``words`` that may start and end part-way.

        The grammar is the words in order; it may be entered at any index in ``entries`` and
        left after any word from index ``first_exit`` on (None: only after the last word), so
        audio that holds only part of the text still aligns. Return the index of the first
        word heard and the (start, end) of each word heard, relative to the audio, or None.
        """
        if not words or len(pcm) < 2 * SAMPLE_RATE // 20:
            return None
        for word in words:
            self.phone_count(word)
        n = len(words)
        last = n if first_exit is None else max(1, first_exit)
        transitions: list[tuple[int, int, float] | tuple[int, int, float, str]] = [
            (i, i + 1, 1.0, w) for i, w in enumerate(words)]
        transitions += [(0, j, 0.5) for j in sorted(set(entries)) if 0 < j < n]
        transitions += [(k, n + 1, 1.0) for k in range(last, n + 1)]
        d = self.decoder
        try:
            d.add_fsg("chunk", d.create_fsg("chunk", 0, n + 1, transitions))
            d.activate_search("chunk")
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
        except (RuntimeError, ValueError) as exc:
            log.debug("alignment failed: %s", exc)
            return None
        if d.hyp() is None:
            return None
        names: list[str] = []
        times: list[tuple[float, float]] = []
        for seg in d.seg():
            if seg.word.startswith(("<", "[", "(")):
                continue
            names.append(re.sub(r"\(\d+\)$", "", seg.word))
            times.append((seg.start_frame / FRATE, (seg.end_frame + 1) / FRATE))
        for j in sorted(set(entries) | {0}):
            if list(words[j:j + len(names)]) == names:
                return (j, times) if names else None
        return None

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


class _Chunker:
    """Aligns a long text to a decoded media file chunk by chunk (see module docstring)."""

    def __init__(self, sphinx: _Sphinx, pcm: PcmFile, db: npt.NDArray[np.float32],
                 tokens: list[_Token], cancel: CancelToken | None, progress: Progress | None):
        pauses = find_pauses(db)
        self.sphinx = sphinx
        self.pcm = pcm
        self.tokens = tokens
        self.cancel = cancel
        self.progress = progress
        self.words = [w for t in tokens for w in t.words]
        self.weights = [sum(sphinx.phone_count(w) for w in t.words) for t in tokens]
        self.wcum = np.concatenate(([0], np.cumsum([len(t.words) for t in tokens])))
        self.cum = np.concatenate(([0], np.cumsum(self.weights)))
        self.mids = np.array([(s + e) / 2 for s, e in pauses], dtype=np.float64)
        self.quiet = quiet_frames(db)
        speech = pcm.duration - sum(
            e - s for s, e in pauses if s <= 0.0 or e >= pcm.duration - FRAME_S
        )
        self.rate = max(speech, 0.1) / max(1, int(self.cum[-1]))  # seconds per phone
        self.unaligned = 0

    def _window_end(self, anchor: float, length: float) -> float:
        """Return the pause nearest ``anchor + length`` (so no word is cut), or that time."""
        target = anchor + length
        mask = (self.mids > anchor + 0.7 * length) & (self.mids < anchor + 1.3 * length)
        if mask.any():
            mids = self.mids[mask]
            target = float(mids[np.argmin(np.abs(mids - target))])
        return min(target, self.pcm.duration)

    def _tokens_for(self, a: int, seconds: float) -> int:
        """Return the token index after the text expected to take ``seconds`` from ``a``."""
        phones = float(self.cum[a]) + seconds / self.rate
        return min(len(self.tokens), max(a + 1, int(np.searchsorted(self.cum, phones)) + 1))

    def _decode(self, a: int, b: int, entry_end: int, start: float, end: float, final: bool
                ) -> tuple[int, int, list[AlignedWord]] | None:
        """Align tokens a..b (entered at a token before ``entry_end``) to start..end.

        Return the first and after-last token heard and their words (absolute times).
        """
        base = int(self.wcum[a])
        words = self.words[base:int(self.wcum[b])]
        entries = [int(self.wcum[t]) - base for t in range(a, max(a + 1, entry_end))
                   if self.tokens[t].words]
        result = self.sphinx.decode(self.pcm.read(start, end), words, entries or [0],
                                    None if final else 1)
        if result is None:
            return None
        first_word, times = result
        first_word += base
        after_word = first_word + len(times)
        first = int(np.searchsorted(self.wcum, first_word, side="left"))
        while first < b and not self.tokens[first].words:
            first += 1
        after = int(np.searchsorted(self.wcum, after_word, side="right")) - 1
        while after < b and not self.tokens[after].words:  # wordless tokens take the clock
            after += 1
        if after <= first:
            return None
        skip = first_word - int(self.wcum[first])
        used = times[skip:skip + int(self.wcum[after] - self.wcum[first])]
        return first, after, _token_times(self.tokens[first:after], used, start)

    def _sound(self, start: float, end: float) -> tuple[float, float]:
        """Return the seconds of sound and of quiet between ``start`` and ``end``."""
        first, last = round(start / FRAME_S), max(round(start / FRAME_S), round(end / FRAME_S))
        loud = float(np.count_nonzero(~self.quiet[first:last])) * FRAME_S
        return loud, (min(last, len(self.quiet)) - min(first, len(self.quiet))) * FRAME_S - loud

    def _confident(self, chunk: Sequence[AlignedWord]) -> int:
        """Return how many leading words of an alignment look right.

        A search error shows as speech decoded as silence between two words, or as a word
        stretched over a pause; the words from just before it on are aligned again.
        """
        for i, (prev, word) in enumerate(itertools.pairwise(chunk)):
            if self._sound(prev.end, word.start)[0] > _LOUD_GAP_S or (
                self._sound(word.start, word.end)[1] > _QUIET_WORD_S
            ):
                return i
        return len(chunk)

    def run(self) -> list[AlignedWord]:
        out: list[AlignedWord] = []
        anchor, a = 0.0, 0  # time and token known to line up (the last confident word)
        lost_until = 0  # tokens before this may be missing from the audio at the anchor
        duration = self.pcm.duration
        failures = 0
        while a < len(self.tokens):
            if self.cancel is not None:
                self.cancel.raise_if_cancelled("alignment")
            final = duration - anchor <= SINGLE_PASS_S
            length = TARGET_CHUNK_S * _RETRY_LENGTHS[min(failures, _RETRIES)]
            end = duration if final else self._window_end(anchor, length)
            # Text for ~1.6x the window (the rate is an estimate); ending part-way is allowed.
            b = len(self.tokens) if final else self._tokens_for(
                max(a, lost_until), 1.6 * (end - anchor) + 5.0)
            decoded = self._decode(a, b, max(a + 1, lost_until), anchor, end, final)
            if decoded is None and final:
                decoded = self._decode(a, b, max(a + 1, lost_until), anchor, end, False)
            commit: list[AlignedWord] = []
            first, chunk = a, list[AlignedWord]()
            if decoded is not None:
                first, after, chunk = decoded
                if final or after >= len(self.tokens):
                    commit = chunk
                elif after >= b:  # the text ran out before the audio: give it more
                    failures += 1
                    self.rate /= 1.5
                    continue
                else:
                    # Keep the words well inside the window; the last few may be squeezed
                    # against its end and are aligned again at the start of the next chunk.
                    keep = [i for i, w in enumerate(chunk[:-2]) if w.end <= end - _COMMIT_MARGIN_S]
                    commit = chunk[:min(keep[-1] + 1, self._confident(chunk))] if keep else []
            if not commit:
                failures += 1
                if failures <= _RETRIES and not final:
                    continue  # a longer window
                # Lost: the text here and the audio disagree. Skip ahead in the audio and
                # let the next chunk start at any word of a wider stretch of text, so one
                # bad stretch does not cascade.
                if final:
                    break
                lost_until = self._tokens_for(max(a, lost_until), 2.0 * (end - anchor) + 10.0)
                anchor = self._window_end(anchor, TARGET_CHUNK_S * 0.5)
                failures = 0
                continue
            after_commit = first + len(commit)
            if first > a:  # words not found (skipped over while re-synchronising)
                gap_end = commit[0].start
                gap_start = out[-1].end if out else 0.0
                out.extend(_spread(self.tokens[a:first], self.weights[a:first], gap_start,
                                   max(gap_start, gap_end)))
            out.extend(commit)
            spoken = [w for w in commit if w.end > w.start]
            phones = float(self.cum[after_commit] - self.cum[first])
            if spoken and phones and not final:
                measured = (spoken[-1].end - anchor) / phones
                self.rate = 0.5 * self.rate + 0.5 * measured
            if after_commit < len(self.tokens) and not final:
                nxt = chunk[len(commit)]
                anchor = (commit[-1].end + max(commit[-1].end, nxt.start)) / 2
            else:
                anchor = commit[-1].end
            a = after_commit
            lost_until = 0
            failures = 0
            self._report(anchor)
            if final:
                break
        if a < len(self.tokens):
            log.info("alignment fell back to spreading %d words", len(self.tokens) - a)
            start = out[-1].end if out else 0.0
            out.extend(_spread(self.tokens[a:], self.weights[a:], start, max(start, duration)))
        self._report(duration)
        return out

    def _report(self, seconds: float) -> None:
        if self.progress is not None:
            self.progress(min(1.0, seconds / max(self.pcm.duration, 1e-9)))


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
    with _SPHINX_LOCK, decode(media, on_block=energy, cancel=cancel) as pcm:
        return _Chunker(_sphinx(), pcm, energy.db(), tokens, cancel, progress).run()


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
