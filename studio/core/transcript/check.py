"""Narration check: does each paragraph's audio say what its script says?

Recognition alone is not precise enough: PocketSphinx's general acoustic model mishears
synthetic speech, so a plain diff of what it hears against the script flags correct takes.
Each paragraph is therefore judged on three kinds of evidence, and a difference is reported
only when they agree (:func:`judge`):

1. **Recognition** (:func:`recognise_offline`) under a language model built for the paragraph
   (the script's word sequence, backed off to its words and the 1,000 most common English
   words) says *where* the audio may differ and names any added words.
2. **Forced alignment of the script with skip arcs** (:func:`align_with_skips`: an FSG in
   which any run of up to six script words may be left out), run only on the stretches where
   recognition missed script words, with three agreed words either side. A skipped run's
   confidence is 1 - room / time it needs, the room being the speech between its aligned
   neighbours plus any stretch of those neighbours.
3. **Duration**: the paragraph's own speaking rate (seconds per phone on the words both
   agree on; words before a pause count 1.6 times) gives the time words need, and speech time
   is measured from the audio's energy, so pauses do not count.

Recognition's differences are grouped (across single agreeing words). In each group:

- script words recognition missed are ``missing`` only if the aligner skips them (confidence
  at least :data:`FLAG_AT`) *and* the group's speech is short of what its script needs by at
  least 35 % of their time, or, for a swap, the aligner is at least 85 % sure and the words
  heard instead take at least 60 % of their time;
- words heard that are not in the script are ``extra`` (``repeated`` when they say again the
  script words beside them) only if the group holds more speech than its script words need
  (with 25 % slack for rate changes): confidence = excess / the time the added words need,
  and the excess must be at least 0.15 s.

So a mishearing (one word heard as another, a word not heard) that keeps its time is not
reported. Each reported run carries its confidence; a paragraph is flagged when any run is
reported. Accuracy and speed on a labelled set of real offline takes: README, "Narration check".
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
import re
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from studio.core.errors import CancelToken
from studio.core.model import BlockId, ChapterId, Project, TakeId, speakable_text
from studio.core.transcript.align import AlignmentError, spelled_phones, spoken_words

GENERAL_WORDS: Final = 1000  # common English words the model may recognise besides the script
FLAG_AT: Final = 0.5  # confidence from which a difference is reported
_SCRIPT_MASS: Final = 0.7  # unigram probability mass of the script's own words
_FOLLOW: Final = 0.85  # probability of the script's next word after a script word
_RATE: Final = 16000
_ALIGN_FRATE: Final = 200  # frames per second for alignment (fast speech; see align.py)
_MAX_SKIP: Final = 6  # longest run of script words one skip arc leaves out
_SKIP_PROB: Final = 1e-8  # probability of a skip arc
_FRAME_S: Final = 0.01  # energy frame for speech time
_SILENCE_DB: Final = 35.0  # frames this far under the loudest are pauses
_MIN_EXTRA_S: Final = 0.15  # added speech shorter than this is not reported
_MIN_SKIP_S: Final = 0.12  # a skipped run needing less time than this is not reported
_CONTEXT_WORDS: Final = 3  # agreed words aligned either side of a stretch
_WINDOW_PAD_S: Final = 0.05  # audio kept either side of a stretch aligned again
_SKIP_SHARE: Final = 0.35  # share of a skipped run's time that must be absent from the audio
_SWAP_AT: Final = 0.85  # aligner confidence from which a skip with other words heard is a swap
_SWAP_FILL: Final = 0.6  # share of a swapped word's time the words heard instead must take
_RATE_SLACK: Final = 0.25  # how much slower than its paragraph a stretch may be said
_LENGTHENED: Final = 1.6  # how much slower a word before a pause is said


class HeardWord(NamedTuple):
    """A word recognised in the audio, or a script word the aligner placed (seconds)."""

    text: str
    start: float
    end: float


class KeptWord(NamedTuple):
    """A script word the aligner kept: its index in the script and its time (seconds)."""

    position: int
    start: float
    end: float


Samples = npt.NDArray[np.float32]
#: Returns the words heard in mono float32 audio at a rate, given the words expected.
Recogniser = Callable[[Samples, int, Sequence[str]], list[HeardWord]]
#: Returns the script words kept by alignment with skips, or None if alignment failed.
SkipAligner = Callable[[Samples, int, Sequence[str]], list[KeptWord] | None]


class DiffOp(StrEnum):
    """How a stretch of the script compares with what the audio says."""

    EQUAL = "equal"
    MISSING = "missing"  # in the script, not in the audio
    EXTRA = "extra"  # in the audio, not in the script
    REPEATED = "repeated"  # in the audio again, right after the script words it repeats


@dataclass(frozen=True, slots=True)
class DiffPart:
    """A run of words with one :class:`DiffOp`, and how sure the check is (0-1)."""

    op: DiffOp
    words: tuple[str, ...]
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class ParagraphCheck:
    """The check of one paragraph: the word diff of its audio against its script."""

    chapter_id: ChapterId
    block_id: BlockId
    chapter_number: int
    paragraph_number: int
    script: str
    heard: tuple[str, ...]
    diff: tuple[DiffPart, ...] = field(default=())

    @property
    def flagged(self) -> bool:
        """Return whether the audio skips, repeats or adds words."""
        return any(p.op is not DiffOp.EQUAL for p in self.diff)

    @property
    def confidence(self) -> float:
        """Return the confidence of the surest reported difference (0 when none)."""
        return max((p.confidence for p in self.diff if p.op is not DiffOp.EQUAL), default=0.0)

    def ops(self, op: DiffOp) -> list[tuple[str, ...]]:
        """Return the word runs with ``op``, in order."""
        return [p.words for p in self.diff if p.op is op]

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready description."""
        return {
            "chapter": self.chapter_number,
            "paragraph": self.paragraph_number,
            "block_id": str(self.block_id),
            "flagged": self.flagged,
            "confidence": round(self.confidence, 2),
            "script": self.script,
            "heard": " ".join(self.heard),
            "diff": [{"op": p.op.value, "words": list(p.words)} for p in self.diff],
        }


def script_words(text: str) -> list[str]:
    """Return the dictionary words a script is spoken as (break tags left out)."""
    return [w for token in speakable_text(text).split() for w in spoken_words(token)]


class _Diff:
    """Builds a diff, joining neighbouring parts with the same op."""

    def __init__(self) -> None:
        self.parts: list[DiffPart] = []

    def add(self, op: DiffOp, words: Sequence[str], confidence: float = 1.0) -> None:
        if not words:
            return
        last = self.parts[-1] if self.parts else None
        if last is not None and last.op is op:
            self.parts[-1] = DiffPart(op, (*last.words, *words),
                                      max(last.confidence, confidence))
        else:
            self.parts.append(DiffPart(op, tuple(words), confidence))

    def add_added(self, script: Sequence[str], a0: int, extra: Sequence[str],
                  confidence: float = 1.0) -> None:
        """Add words heard before script index ``a0``: ``repeated`` if they say again the
        script words just before them, else ``extra``."""
        k = len(extra)  # the words may be placed anywhere in the repeated run
        repeat = k > 0 and any(list(script[a0 - k + r:a0 + r]) == list(extra)
                               for r in range(k + 1) if a0 - k + r >= 0)
        self.add(DiffOp.REPEATED if repeat else DiffOp.EXTRA, extra, confidence)


def word_diff(script: Sequence[str], heard: Sequence[str]) -> list[DiffPart]:
    """Return the plain diff of ``heard`` against ``script`` (both normalised word lists)."""
    out = _Diff()
    matcher = difflib.SequenceMatcher(None, list(script), list(heard), autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            out.add(DiffOp.EQUAL, script[a0:a1])
            continue
        if tag in ("delete", "replace"):
            out.add(DiffOp.MISSING, script[a0:a1])
        if tag == "insert":
            out.add_added(script, a0, heard[b0:b1], 1.0)
        elif tag == "replace":
            out.add(DiffOp.EXTRA, heard[b0:b1])
    return out.parts


# ---------------------------------------------------------------------------------------------
# Judging the evidence


def speech_frames(samples: Samples, rate: int) -> npt.NDArray[np.bool_]:
    """Return, per 10 ms frame, whether it holds speech (not a pause)."""
    frame = max(1, round(_FRAME_S * rate))
    n = len(samples) // frame
    if n == 0:
        return np.zeros(0, dtype=bool)
    x = np.asarray(samples[:n * frame], dtype=np.float32).reshape(n, frame)
    db = 10 * np.log10(np.mean(x * x, axis=1) + 1e-12)
    return np.asarray(db > db.max() - _SILENCE_DB)


def _groups(opcodes: Sequence[tuple[str, int, int, int, int]]) -> list[list[int]]:
    """Return the indexes of the differing opcodes, grouped across single agreeing words."""
    groups: list[list[int]] = []
    current: list[int] = []
    for k, (tag, a0, a1, _, _) in enumerate(opcodes):
        if tag != "equal" or (current and a1 - a0 <= 1 and k + 1 < len(opcodes)):
            current.append(k)
        elif current:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def clause_ends(text: str) -> frozenset[int]:
    """Return the indexes of :func:`script_words` that end a clause (lengthened before a pause)."""
    ends: set[int] = set()
    n = 0
    for token in speakable_text(text).split():
        n += len(spoken_words(token))
        if n and re.search(r"[.,;:!?\u2026\u2014)\"\u201d\u2019]$", token):
            ends.add(n - 1)
    if n:
        ends.add(n - 1)
    return frozenset(ends)


def judge(script: Sequence[str], heard: Sequence[HeardWord], kept: Sequence[KeptWord] | None,
          speech: npt.NDArray[np.bool_], phones: Callable[[str], int],
          lengthened: Collection[int] = ()) -> list[DiffPart]:
    """Return the diff of the audio against the script, keeping only supported differences.

    Args:
        script: the script's words.
        heard: the words recognised, with times.
        kept: the script words forced alignment with skip arcs kept (None: it failed).
        speech: per 10 ms frame of the audio, whether it is speech.
        phones: the number of phones in a word.
        lengthened: indexes of script words said slower (before a pause; :func:`clause_ends`).
    """
    words = [h.text for h in heard]
    opcodes = difflib.SequenceMatcher(None, list(script), words, autojunk=False).get_opcodes()
    weight = [phones(w) * (_LENGTHENED if i in lengthened else 1.0) for i, w in enumerate(script)]
    agreed = [(h, a0 + j - b0) for tag, a0, _, b0, b1 in opcodes if tag == "equal"
              for j, h in enumerate(heard[b0:b1], b0)]
    spoken_s = sum(h.end - h.start for h, _ in agreed)
    spoken_w = sum(weight[i] for _, i in agreed)
    per_phone = spoken_s / spoken_w if spoken_w else 0.075  # espeak's usual rate

    def need(indexes: Iterable[int]) -> float:
        return per_phone * sum(weight[i] for i in indexes)

    total = len(speech) * _FRAME_S

    def speech_in(t0: float, t1: float) -> float:
        a, b = max(0, int(t0 / _FRAME_S)), min(len(speech), math.ceil(t1 / _FRAME_S))
        return float(np.count_nonzero(speech[a:b])) * _FRAME_S if b > a else 0.0

    # Second opinion on skips: runs of script words the aligner left out, with their room.
    skipped: dict[int, float] = {}  # script index -> confidence that it is missing
    by_index = {k.position: k for k in kept or ()}
    i = 0
    while kept and i < len(script):
        if i in by_index:
            i += 1
            continue
        j = i
        while j < len(script) and j not in by_index:
            j += 1
        before, after = by_index.get(i - 1), by_index.get(j)
        room = speech_in(before.end if before else 0.0, after.start if after else total)
        for word in (before, after):
            if word is not None:  # a neighbour stretched over the gap
                room += max(0.0, speech_in(word.start, word.end) - need([word.position]))
        needed = need(range(i, j))
        if needed >= _MIN_SKIP_S:
            skipped.update(dict.fromkeys(range(i, j), max(0.0, min(1.0, 1.0 - room / needed))))
        i = j
    # Each stretch where recognition differs: are skipped words confirmed by the time left
    # for them, and does added speech come with the words heard?
    missing: set[int] = set()
    extra_conf: dict[int, float] = {}  # opcode index -> confidence that its heard words are added
    for group in _groups(opcodes):
        first, last = opcodes[group[0]], opcodes[group[-1]]
        lo = heard[first[3] - 1].end if first[3] > 0 else 0.0
        hi = heard[last[4]].start if last[4] < len(heard) else total
        spoken = speech_in(lo, hi)
        unmatched = [w for k in group if opcodes[k][0] != "equal"
                     for w in words[opcodes[k][3]:opcodes[k][4]]]
        stretch = range(first[1], last[2])
        missed = {i for k in group if opcodes[k][0] != "equal"
                  for i in range(opcodes[k][1], opcodes[k][2])}
        skips = {i for i in missed if skipped.get(i, 0.0) >= FLAG_AT}
        # Skipped words leave their time out, unless other words took their place (a swap,
        # believed only when the aligner is very sure).
        added = per_phone * sum(phones(w) for w in unmatched)
        short = need(stretch) - spoken >= _SKIP_SHARE * need(skips)
        swapped = (bool(skips) and all(skipped[i] >= _SWAP_AT for i in skips)
                   and added >= _SWAP_FILL * need(skips))
        if skips and (short or swapped):
            missing |= skips
        said = [i for i in stretch if i not in missing]
        # The speaking rate varies along a paragraph: a long stretch may run a little slow.
        excess = spoken - (1 + _RATE_SLACK) * need(said)
        confidence = (max(0.0, min(1.0, excess / added))
                      if added > 0 and excess >= _MIN_EXTRA_S else 0.0)
        if swapped and skips & missing:
            confidence = max(confidence, min(skipped[i] for i in skips))
        extra_conf.update(dict.fromkeys(group, confidence))

    out = _Diff()
    for k, (tag, a0, a1, b0, b1) in enumerate(opcodes):
        if tag == "equal":
            out.add(DiffOp.EQUAL, script[a0:a1])
            continue
        for i in range(a0, a1):  # script words recognition missed: missing only if skipped
            if i in missing:
                out.add(DiffOp.MISSING, [script[i]], skipped[i])
            else:
                out.add(DiffOp.EQUAL, [script[i]])
        extra, confidence = words[b0:b1], extra_conf.get(k, 0.0)
        if extra and confidence >= FLAG_AT:
            if tag == "insert":
                out.add_added(script, a0, extra, confidence)
            else:
                out.add(DiffOp.EXTRA, extra, confidence)
    return out.parts


# ---------------------------------------------------------------------------------------------
# Offline recognition and alignment


class _General:
    """The most common words of PocketSphinx's English model, with their unigram log10 odds."""

    _lock = threading.Lock()
    _words: list[tuple[str, float]] | None = None

    @classmethod
    def words(cls) -> list[tuple[str, float]]:
        with cls._lock:
            if cls._words is None:
                cls._words = cls._load()
            return cls._words

    @staticmethod
    def _load() -> list[tuple[str, float]]:
        import pocketsphinx as ps

        folder = os.path.join(ps.get_model_path(), "en-us")
        config = ps.Config(hmm=os.path.join(folder, "en-us"), lm=None,
                           dict=os.path.join(folder, "cmudict-en-us.dict"), loglevel="FATAL")
        lm = ps.NGramModel(config, ps.LogMath(), os.path.join(folder, "en-us.lm.bin"))
        with open(os.path.join(folder, "cmudict-en-us.dict"), encoding="utf-8") as f:
            words = {line.split()[0] for line in f if line.strip() and "(" not in line.split()[0]}
        scored = sorted(((lm.prob([w]), w) for w in words), reverse=True)
        base = math.log10(1.0001)  # PocketSphinx's log base
        return [(w, p * base) for p, w in scored[:GENERAL_WORDS] if p > -(2**28)]


def _arpa(script: Sequence[str], general: Sequence[tuple[str, float]]) -> str:
    """Return an ARPA bigram model: the script's sequence backed off to unigrams."""
    vocab = list(dict.fromkeys(script))
    known = set(vocab)
    others = [(w, 10**p) for w, p in general if w not in known]
    mass = sum(p for _, p in others) or 1.0
    unigrams = {w: _SCRIPT_MASS / len(vocab) for w in vocab}
    unigrams.update({w: (1 - _SCRIPT_MASS) * p / mass for w, p in others})
    follows: dict[str, list[str]] = {}
    sequence = ["<s>", *script, "</s>"]
    for a, b in itertools.pairwise(sequence):
        follows.setdefault(a, []).append(b)
    bigrams = [(a, b, _FOLLOW * bs.count(b) / len(bs)) for a, bs in follows.items()
               for b in dict.fromkeys(bs)]
    backoff = math.log10(1 - _FOLLOW)
    lines = ["\\data\\", f"ngram 1={len(unigrams) + 2}", f"ngram 2={len(bigrams)}", "",
             "\\1-grams:", f"-99 <s> {backoff:.4f}", "-1.3 </s> 0"]
    lines += [f"{math.log10(p):.4f} {w} {backoff:.4f}" for w, p in unigrams.items()]
    lines += ["", "\\2-grams:"]
    lines += [f"{math.log10(p):.4f} {a} {b}" for a, b, p in bigrams]
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)


def _pcm(samples: Samples, rate: int) -> bytes:
    from studio.core.export.dsp import resample

    x = resample(np.asarray(samples, dtype=np.float32), rate, _RATE)
    return (np.clip(x, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def _segments(decoder: Any, frate: int) -> list[HeardWord]:
    out = []
    for seg in decoder.seg():
        word = re.sub(r"\(\d+\)$", "", seg.word)
        if not word.startswith(("<", "[", "(")):
            out.append(HeardWord(word, seg.start_frame / frate, (seg.end_frame + 1) / frate))
    return out


class _Decoders:
    """What the check's PocketSphinx decoders are made from, loaded once per process.

    Each utterance gets a fresh decoder with a dictionary of just the words it may say
    (0.02 s to make): a decoder reused across paragraphs gave different words for the same
    audio depending on the paragraph decoded before it, and loading the full 126k-word
    dictionary costs a second.
    """

    _lock = threading.Lock()
    _instance: _Decoders | None = None

    def __init__(self) -> None:
        try:
            import pocketsphinx as ps
        except ImportError as exc:
            raise AlignmentError("The narration check needs PocketSphinx.") from exc
        self.ps = ps
        folder = os.path.join(ps.get_model_path(), "en-us")
        self.general = _General.words()
        self.pronunciations: dict[str, list[str]] = {}
        with open(os.path.join(folder, "cmudict-en-us.dict"), encoding="utf-8") as f:
            for line in f:
                word, _, phones = line.strip().partition(" ")
                if phones:
                    self.pronunciations.setdefault(word.split("(")[0], []).append(phones.strip())
        self.tmp = tempfile.mkdtemp(prefix="studio-check-")

    @classmethod
    def get(cls) -> _Decoders:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _spoken(self, word: str) -> list[str]:
        return self.pronunciations.get(word) or [spelled_phones(word)]

    def phones(self, word: str) -> int:
        """Return the number of phones of a word (spelled out when not in the dictionary)."""
        return max(1, len(self._spoken(word)[0].split()))

    def _dictionary(self, words: Iterable[str]) -> str:
        path = os.path.join(self.tmp, "words.dict")
        with open(path, "w", encoding="utf-8") as f:
            for word in dict.fromkeys(words):
                for n, phones in enumerate(self._spoken(word)):
                    f.write(f"{word}{f'({n + 1})' if n else ''} {phones}\n")
        return path

    def recognise(self, pcm: bytes, script: Sequence[str]) -> list[HeardWord]:
        lm_path = os.path.join(self.tmp, "script.lm")
        with open(lm_path, "w", encoding="utf-8") as f:
            f.write(_arpa(script, self.general))
        # No second (flat lexicon) pass: a quarter less time, and the model is already biased
        # to the script (same verdicts on the labelled takes). No noise removal: synthetic
        # takes have no noise, and its estimate would carry over between utterances.
        d: Any = self.ps.Decoder(
            lm=lm_path, dict=self._dictionary([*script, *(w for w, _ in self.general)]),
            fwdflat=False, remove_noise=False, loglevel="FATAL")
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        return _segments(d, int(d.config["frate"]))

    def align(self, pcm: bytes, script: Sequence[str]) -> list[KeptWord] | None:
        if len(pcm) < 2 * _RATE // 20:
            return None
        d: Any = self.ps.Decoder(samprate=_RATE, bestpath=False, frate=_ALIGN_FRATE,
                                 beam=1e-80, pbeam=1e-80, remove_noise=False, lm=None,
                                 dict=self._dictionary(script), loglevel="FATAL")
        n = len(script)
        transitions: list[tuple[int, int, float] | tuple[int, int, float, str]] = [
            (i, i + 1, 1.0, w) for i, w in enumerate(script)]
        transitions += [(i, j, _SKIP_PROB) for i in range(n)
                        for j in range(i + 1, min(n, i + _MAX_SKIP) + 1)]
        try:
            d.add_fsg("skips", d.create_fsg("skips", 0, n, transitions))
            d.activate_search("skips")
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
        except (RuntimeError, ValueError):
            return None
        if d.hyp() is None:
            return None
        kept: list[KeptWord] = []
        i = 0
        for w in _segments(d, _ALIGN_FRATE):
            while i < n and script[i] != w.text:
                i += 1
            if i == n:
                return None
            kept.append(KeptWord(i, w.start, w.end))
            i += 1
        return kept


def recognise_offline(samples: Samples, rate: int, script: Sequence[str]) -> list[HeardWord]:
    """Return the words PocketSphinx hears, under a model biased towards ``script``."""
    if not script:
        return []
    with _Decoders._lock:
        decoders = _Decoders.get()
        return decoders.recognise(_pcm(samples, rate), script)


def align_with_skips(samples: Samples, rate: int, script: Sequence[str]) -> list[KeptWord] | None:
    """Force-align ``script`` allowing runs of up to six words to be skipped; return the kept."""
    if not script:
        return []
    with _Decoders._lock:
        decoders = _Decoders.get()
        return decoders.align(_pcm(samples, rate), script)


def _phones(word: str) -> int:
    with _Decoders._lock:
        return _Decoders.get().phones(word)


# ---------------------------------------------------------------------------------------------
# Checking a project


def _second_opinion(samples: Samples, rate: int, script: Sequence[str],
                    heard: Sequence[HeardWord], align: SkipAligner) -> list[KeptWord]:
    """Return the script words kept, aligning with skips only where recognition missed words.

    Each stretch is aligned with a few words both agree on either side, so that the aligner
    cannot lose its way in a long paragraph; it also costs a fraction of aligning it whole.
    """
    words = [h.text for h in heard]
    agreed: dict[int, KeptWord] = {}
    missed: list[tuple[int, int]] = []
    for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(
            None, list(script), words, autojunk=False).get_opcodes():
        if tag == "equal":
            agreed.update({a0 + j: KeptWord(a0 + j, h.start, h.end)
                           for j, h in enumerate(heard[b0:b1])})
        elif a1 > a0:
            missed.append((a0, a1))
    n, total = len(script), len(samples) / rate
    windows: list[list[int]] = []
    for a0, a1 in missed:
        first, end = max(0, a0 - _CONTEXT_WORDS), min(n, a1 + _CONTEXT_WORDS)
        while first > 0 and first not in agreed:
            first -= 1
        while end < n and end - 1 not in agreed:
            end += 1
        if windows and first <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([first, end])
    kept = dict(agreed)
    for first, end in windows:
        t0 = max(0.0, agreed[first].start - _WINDOW_PAD_S) if first in agreed else 0.0
        t1 = min(total, agreed[end - 1].end + _WINDOW_PAD_S) if end - 1 in agreed else total
        found = align(samples[int(t0 * rate):int(t1 * rate)], rate, script[first:end])
        if found is None:  # no second opinion: nothing counts as skipped here
            kept.update({i: KeptWord(i, t0, t1) for i in range(first, end) if i not in kept})
            continue
        for i in range(first, end):
            kept.pop(i, None)
        kept.update({first + k.position: KeptWord(first + k.position, t0 + k.start, t0 + k.end)
                     for k in found})
    return [kept[i] for i in sorted(kept)]


def check_audio(samples: Samples, rate: int, text: str, *,
                recognise: Recogniser | None = None, align: SkipAligner | None = None,
                phones: Callable[[str], int] | None = None
                ) -> tuple[list[HeardWord], list[DiffPart]]:
    """Return what is heard in a take and its judged diff against its script ``text``."""
    script = script_words(text)
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim > 1:
        samples = samples.mean(axis=1)
    heard = (recognise or recognise_offline)(samples, rate, script)
    kept = _second_opinion(samples, rate, script, heard, align or align_with_skips)
    return heard, judge(script, heard, kept, speech_frames(samples, rate), phones or _phones,
                        clause_ends(text))


def check_paragraph(project: Project, block_id: BlockId, *,
                    recognise: Recogniser | None = None,
                    align: SkipAligner | None = None,
                    audio: Callable[[TakeId], bytes] | None = None) -> ParagraphCheck | None:
    """Return the check of one paragraph's current take, or None if it has no audio."""
    from studio.core.audio import decode

    block = project.block(block_id)
    take = block.current_take
    if take is None:
        return None
    chapter_number, chapter = next((n, c) for n, c in enumerate(project.chapters, 1)
                                   if any(b.id == block_id for b in c.blocks))
    number = next(n for n, b in enumerate(chapter.blocks, 1) if b.id == block_id)
    data = take.audio if take.audio is not None else (audio(take.id) if audio else None)
    if data is None:
        return None
    samples, rate = decode(data, take.format)
    phones = None
    if project.dictionaries and recognise is None and align is None:
        from studio.core.lexicon.match import applied_rules
        from studio.core.lexicon.sphinx import with_rules

        recognise, align, phones = with_rules(
            applied_rules(project.dictionaries, block.text), script_words(block.text),
            recognise_offline, align_with_skips, _phones)
    heard, diff = check_audio(samples, rate, block.text, recognise=recognise, align=align,
                              phones=phones)
    return ParagraphCheck(chapter.id, block.id, chapter_number, number,
                          " ".join(speakable_text(block.text).split()),
                          tuple(h.text for h in heard), tuple(diff))


def check_narration(
    project: Project,
    chapters: Iterable[ChapterId] | None = None,
    *,
    recognise: Recogniser | None = None,
    align: SkipAligner | None = None,
    audio: Callable[[TakeId], bytes] | None = None,
    cancel: CancelToken | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[ParagraphCheck]:
    """Check every narrated paragraph in ``chapters`` (default: all); return all checks.

    Args:
        audio: loads a take's audio by id when the project was loaded without it (for
            example ``ProjectStore.load_take_audio``).
        progress: called with (paragraphs done, paragraphs to check).
    """
    wanted = None if chapters is None else set(chapters)
    blocks = [b.id for c in project.chapters if wanted is None or c.id in wanted
              for b in c.blocks if b.current_take is not None and script_words(b.text)]
    out: list[ParagraphCheck] = []
    for i, block_id in enumerate(blocks):
        if cancel is not None:
            cancel.raise_if_cancelled("narration check")
        result = check_paragraph(project, block_id, recognise=recognise, align=align,
                                 audio=audio)
        if result is not None:
            out.append(result)
        if progress is not None:
            progress(i + 1, len(blocks))
    return out
