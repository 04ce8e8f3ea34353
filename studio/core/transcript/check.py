"""Narration check: does each paragraph's audio say what its script says?

Each paragraph's current take is recognised offline with PocketSphinx under a language model
built for that paragraph: the script's word sequence (bigrams, strongly favoured) backed off
to its words and to the most common English words (so an added word can be named). The
recognised words are then diffed against the script (:func:`word_diff`): words the audio
skips are ``missing``, words it adds are ``extra``, and added words that repeat the script
words just before them are ``repeated``.

Recognition is the weak part: PocketSphinx's general acoustic model recognises synthetic
speech imperfectly, so a flag is a prompt to listen, not a verdict (see the README).
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import numpy as np

from studio.core.errors import CancelToken
from studio.core.model import BlockId, ChapterId, Project, speakable_text
from studio.core.transcript.align import AlignmentError, spelled_phones, spoken_words

GENERAL_WORDS: Final = 1000  # common English words the model may recognise besides the script
_SCRIPT_MASS: Final = 0.7  # unigram probability mass of the script's own words
_FOLLOW: Final = 0.85  # probability of the script's next word after a script word
_RATE: Final = 16000

#: Returns the words heard in mono float32 audio at a rate, given the words expected.
Recogniser = Callable[[np.ndarray[Any, np.dtype[np.float32]], int, Sequence[str]], list[str]]


class DiffOp(StrEnum):
    """How a stretch of the script compares with what the audio says."""

    EQUAL = "equal"
    MISSING = "missing"  # in the script, not in the audio
    EXTRA = "extra"  # in the audio, not in the script
    REPEATED = "repeated"  # in the audio again, right after the script words it repeats


@dataclass(frozen=True, slots=True)
class DiffPart:
    """A run of words with one :class:`DiffOp`."""

    op: DiffOp
    words: tuple[str, ...]


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
            "script": self.script,
            "heard": " ".join(self.heard),
            "diff": [{"op": p.op.value, "words": list(p.words)} for p in self.diff],
        }


def script_words(text: str) -> list[str]:
    """Return the dictionary words a script is spoken as (break tags left out)."""
    return [w for token in speakable_text(text).split() for w in spoken_words(token)]


def word_diff(script: Sequence[str], heard: Sequence[str]) -> list[DiffPart]:
    """Return the diff of ``heard`` against ``script`` (both normalised word lists)."""
    parts: list[DiffPart] = []

    def add(op: DiffOp, words: Sequence[str]) -> None:
        if not words:
            return
        if parts and parts[-1].op is op:
            parts[-1] = DiffPart(op, (*parts[-1].words, *words))
        else:
            parts.append(DiffPart(op, tuple(words)))

    matcher = difflib.SequenceMatcher(None, list(script), list(heard), autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            add(DiffOp.EQUAL, script[a0:a1])
            continue
        if tag in ("delete", "replace"):
            add(DiffOp.MISSING, script[a0:a1])
        if tag in ("insert", "replace"):
            extra = list(heard[b0:b1])
            # Added words that say again the script words just before them are a repeat.
            k = len(extra)
            if tag == "insert" and k and list(script[max(0, a0 - k):a0]) == extra:
                add(DiffOp.REPEATED, extra)
            else:
                add(DiffOp.EXTRA, extra)
    return parts


# ---------------------------------------------------------------------------------------------
# Offline recognition


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


def recognise_offline(samples: np.ndarray[Any, np.dtype[np.float32]], rate: int,
                      script: Sequence[str]) -> list[str]:
    """Return the words PocketSphinx hears, under a model biased towards ``script``."""
    try:
        import pocketsphinx as ps
    except ImportError as exc:
        raise AlignmentError("The narration check needs PocketSphinx.") from exc
    from studio.core.export.dsp import resample

    if not script:
        return []
    general = _General.words()
    x = resample(np.asarray(samples, dtype=np.float32), rate, _RATE)
    pcm = (np.clip(x, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    folder = os.path.join(ps.get_model_path(), "en-us")
    wanted = set(script) | {w for w, _ in general}
    with tempfile.TemporaryDirectory(prefix="studio-check-") as tmp:
        lm_path = os.path.join(tmp, "script.lm")
        dict_path = os.path.join(tmp, "words.dict")
        with open(lm_path, "w", encoding="utf-8") as f:
            f.write(_arpa(script, general))
        # A dictionary of just the words the model can say: loading all 126k words costs 1 s.
        with open(os.path.join(folder, "cmudict-en-us.dict"), encoding="utf-8") as src, \
                open(dict_path, "w", encoding="utf-8") as dst:
            for line in src:
                if line.split(maxsplit=1)[0].split("(")[0] in wanted:
                    dst.write(line)
        decoder: Any = ps.Decoder(lm=lm_path, dict=dict_path, loglevel="FATAL")
        for word in dict.fromkeys(script):
            if decoder.lookup_word(word) is None:
                decoder.add_word(word, spelled_phones(word), True)
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        heard = [seg.word.split("(")[0] for seg in decoder.seg()]
    return [w for w in heard if not w.startswith(("<", "["))]


# ---------------------------------------------------------------------------------------------
# Checking a project


def check_paragraph(project: Project, block_id: BlockId, *,
                    recognise: Recogniser | None = None,
                    audio: Callable[[str], bytes] | None = None) -> ParagraphCheck | None:
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
    script = script_words(block.text)
    listen = recognise or recognise_offline
    if project.dictionaries and recognise is None:
        from studio.core.lexicon.match import applied_rules
        from studio.core.lexicon.sphinx import with_rules

        listen, _, _ = with_rules(applied_rules(project.dictionaries, block.text), script,
                                  recognise_offline, recognise_offline, len)
    heard = listen(samples, rate, script)
    return ParagraphCheck(chapter.id, block.id, chapter_number, number,
                          " ".join(speakable_text(block.text).split()), tuple(heard),
                          tuple(word_diff(script, heard)))


def check_narration(
    project: Project,
    chapters: Iterable[ChapterId] | None = None,
    *,
    recognise: Recogniser | None = None,
    audio: Callable[[str], bytes] | None = None,
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
        result = check_paragraph(project, block_id, recognise=recognise, audio=audio)
        if result is not None:
            out.append(result)
        if progress is not None:
            progress(i + 1, len(blocks))
    return out
