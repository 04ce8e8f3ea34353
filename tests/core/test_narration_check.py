"""The narration check flags takes that skip, repeat or add words, and only those.

The labelled set is real offline (espeak-ng) narration: correct takes of the sample book's
paragraphs and of varied other text, and takes synthesised from altered text (a skipped word
or phrase, a repeated phrase, an added word or sentence, a swapped word) while the script
keeps the original. Every faulty take must be flagged with the right kind of difference, and
no correct one. The takes are synthesised once for the module.
"""

from __future__ import annotations

import numpy as np
import pytest

from studio.core.transcript.check import (
    DiffOp,
    HeardWord,
    KeptWord,
    ParagraphCheck,
    check_narration,
    judge,
    script_words,
    word_diff,
)
from tests.core.spoken_book import spoken_book

SKIPPED = "The boats came home at dusk. Gulls followed them across the grey water."
REPEATED = "Anna counted the lanterns on the pier. There were seven, and one was broken."
ADDED = "Nobody had climbed the lighthouse for years. The door was swollen shut."
CORRECT = "She pushed it open with her shoulder. Dust rose like smoke."
SPOKEN = {
    SKIPPED: "The boats came home at dusk. Gulls followed them across the water.",
    REPEATED: "Anna counted the lanterns on the pier. There were seven, there were seven, "
              "and one was broken.",
    ADDED: "Nobody had climbed the old lighthouse for years. The door was swollen shut.",
}

#: Script -> (text actually spoken, kind of fault, the words concerned).
FAULTY = {
    REPEATED: (SPOKEN[REPEATED], "repeated", ("there", "were", "seven")),
    ADDED: (SPOKEN[ADDED], "extra", ("old",)),
    "The Wolf, however, did truly come at last.":
        ("The Wolf, however, did come at last.", "missing", ("truly",)),
    "The Hare, lying down by the wayside, fell fast asleep.":
        ("The Hare fell fast asleep.", "missing", ("lying", "down", "by", "the", "wayside")),
    "The two started together. The Tortoise never for a moment stopped.":
        ("The two started together. The two started together. The Tortoise never for a "
         "moment stopped.", "repeated", ("the", "two", "started", "together")),
    "The Town Mouse placed before him bread, barley, beans, dried figs and honey.":
        ("The Town Mouse placed before him bread, barley, beans, dried figs and honey. Then "
         "he went to sleep.", "extra", ("then", "he", "went", "to", "sleep")),
    "The Hare ridiculed the short feet and slow pace of the Tortoise.":
        ("The Hare ridiculed the long feet and slow pace of the Tortoise.", "swap", ("short",)),
    "Someone opened the door, and they both ran off squeaking.":
        ("Someone opened the window, and they both ran off squeaking.", "swap", ("door",)),
}
MORE_CORRECT = [CORRECT, SKIPPED]  # SKIPPED's script, spoken as written here
SAMPLE_PARAGRAPHS = 8  # the sample book's shortest paragraphs, narrated as written


def changes(script: str, heard: str) -> list[tuple[str, tuple[str, ...]]]:
    parts = word_diff(script_words(script), script_words(heard))
    return [(p.op.value, p.words) for p in parts if p.op is not DiffOp.EQUAL]


def test_word_diff_names_skips_repeats_and_additions() -> None:
    assert changes(SKIPPED, SPOKEN[SKIPPED]) == [("missing", ("grey",))]
    assert changes(REPEATED, SPOKEN[REPEATED]) == [("repeated", ("there", "were", "seven"))]
    assert changes(ADDED, SPOKEN[ADDED]) == [("extra", ("old",))]
    assert changes(CORRECT, CORRECT) == []
    assert changes("It cost 12 pounds.", "it cost twelve pounds") == []
    assert changes("one two three", "one four three") == [("missing", ("two",)),
                                                           ("extra", ("four",))]


def _timed(words: str, per_word: float = 0.3) -> list[HeardWord]:
    return [HeardWord(w, i * per_word, (i + 1) * per_word) for i, w in enumerate(words.split())]


def test_judge_keeps_mishearings_quiet_and_reports_what_the_time_confirms() -> None:
    script = ["the", "boats", "came", "home", "at", "dusk"]
    speech = np.ones(180, dtype=bool)  # 1.8 s of speech, 0.3 s per word
    kept_all = [KeptWord(i, i * 0.3, (i + 1) * 0.3) for i in range(6)]

    def ops(heard: list[HeardWord], kept: list[KeptWord], frames: np.ndarray) -> list:
        return [(p.op.value, p.words) for p in judge(script, heard, kept, frames, lambda w: 3)
                if p.op is not DiffOp.EQUAL]

    # "came" heard as "game" in its own time, "at" not heard at all: mishearings.
    misheard = _timed("the boats game home at dusk")
    del misheard[4]
    assert ops(misheard, kept_all, speech) == []
    # "home" skipped: the aligner leaves it out and there is no time for it.
    skipped = [h if i < 3 else HeardWord(h.text, h.start - 0.3, h.end - 0.3)
               for i, h in enumerate(_timed("the boats came at dusk"))]
    kept = [KeptWord(i, s.start, s.end) for i, s in zip((0, 1, 2, 4, 5), skipped, strict=True)]
    assert ops(skipped, kept, speech[:150]) == [("missing", ("home",))]
    # "old" added: its time is there too.
    added = _timed("the old boats came home at dusk")
    assert ops(added, kept_all, np.ones(210, dtype=bool)) == [("extra", ("old",))]


@pytest.fixture(scope="module")
def checks() -> dict[str, ParagraphCheck]:
    from studio.core.importing import import_source
    from studio.core.sample import SAMPLE_MANUSCRIPT, resources_dir

    sample, _ = import_source(resources_dir() / SAMPLE_MANUSCRIPT, author="Aesop")
    paragraphs = sorted((b.text for c in sample.chapters for b in c.blocks), key=len)
    project = spoken_book(
        {"Sample": paragraphs[:SAMPLE_PARAGRAPHS], "More": MORE_CORRECT, "Faults": list(FAULTY)},
        {script: spoken for script, (spoken, _, _) in FAULTY.items()})
    return {c.script: c for c in check_narration(project)}


def test_no_correct_real_take_is_flagged(checks) -> None:
    correct = [c for script, c in checks.items()
               if not any(script == " ".join(f.split()) for f in FAULTY)]
    assert len(correct) == SAMPLE_PARAGRAPHS + len(MORE_CORRECT)
    assert [(c.script, c.diff) for c in correct if c.flagged] == []


#: Faults caught on every synthesis: a phrase skipped, repeated or added. espeak-ng's output
#: varies by a few samples from run to run, and the single-word faults sit nearer the
#: thresholds (measured over repeated runs, README "Narration check": a skipped "truly" and an
#: added "old" caught in about 3 of 4 and 9 of 10 runs, the "short"/"long" swap in 4 of 5, the
#: "door"/"window" swap in 1 of 5), so for those the test asserts the kind when flagged.
ALWAYS_CAUGHT = [s for s, (_, _, words) in FAULTY.items() if len(words) > 1]


@pytest.mark.parametrize("script", list(FAULTY))
def test_faulty_real_takes_are_flagged_with_their_kind_of_fault(checks, script) -> None:
    _, kind, words = FAULTY[script]
    check = checks[" ".join(script.split())]
    if script in ALWAYS_CAUGHT:
        assert check.flagged
    if not check.flagged:
        return
    assert check.confidence >= 0.5
    found = {p.op for p in check.diff if p.op is not DiffOp.EQUAL}
    if kind == "missing":
        assert found == {DiffOp.MISSING}
        assert words in check.ops(DiffOp.MISSING)
    elif kind == "repeated":  # the repeat as heard: part of the repeated phrase at least
        assert found == {DiffOp.REPEATED}
        assert all(set(run) <= set(words) for run in check.ops(DiffOp.REPEATED))
    elif kind == "extra":  # an added sentence may be misheard, but it is added
        assert found == {DiffOp.EXTRA}
        if len(words) == 1:
            assert check.ops(DiffOp.EXTRA) == [words]
    else:  # a swap: the word is missing, or something else is heard in its place
        assert found <= {DiffOp.MISSING, DiffOp.EXTRA}
        assert DiffOp.EXTRA in found or words in check.ops(DiffOp.MISSING)


def test_most_faulty_real_takes_are_flagged(checks) -> None:
    flagged = [s for s in FAULTY if checks[" ".join(s.split())].flagged]
    assert len(flagged) >= 5, sorted(set(FAULTY) - set(flagged))


def test_the_check_reports_as_json(checks) -> None:
    # A phrase-sized fault: always caught (a one-word one is caught most runs, not all).
    data = checks[REPEATED].to_json()
    assert data["flagged"] and data["confidence"] >= 0.5
    assert any(d["op"] == "repeated" and set(d["words"]) <= {"there", "were", "seven"}
               for d in data["diff"])
