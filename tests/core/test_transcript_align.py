"""Offline alignment (real human speech and espeak speech), "Align words", and the narration
transcript. PocketSphinx and espeak-ng run for real; nothing touches the network."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.core.transcript.align import (
    OfflineAligner,
    align_text,
    align_words,
    spelled_phones,
    spoken_words,
)
from studio.core.transcript.model import check_transcript, set_segment_text

DATA = Path(__file__).resolve().parent.parent / "data" / "alignment"
PRAATIO = ("praatio_bobby", "praatio_mary", "praatio_damon")
LIBRIVOX = ("librivox_0870", "librivox_0880")


def _reference(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def test_real_human_recordings_align_within_100_ms_of_independent_annotations() -> None:
    errors: list[float] = []
    for name in PRAATIO:
        ref = _reference(name)
        words = align_text(DATA / f"{name}.flac", ref["text"])
        assert [w.text for w in words] == [r["text"] for r in ref["words"]]
        assert all(w.aligned for w in words)
        errors += [abs(w.start - r["start"]) for w, r in zip(words, ref["words"], strict=True)]
    assert float(np.median(errors)) < 0.100, errors
    assert max(errors) < 0.150


def test_librivox_reading_matches_pocketsphinx_reference_and_speech_labels() -> None:
    errors: list[float] = []
    for name in LIBRIVOX:
        ref = _reference(name)
        words = align_text(DATA / f"{name}.flac", ref["text"])
        assert len(words) == len(ref["words"])
        errors += [abs(w.start - r["start"]) for w, r in zip(words, ref["words"], strict=True)]
        speech_start, speech_end = ref["speech"]
        assert abs(words[0].start - speech_start) < 0.1  # independent speech/silence labels
        assert abs(words[-1].end - speech_end) < 0.25
    assert float(np.median(errors)) < 0.05


def _espeak(paragraphs: list[str], path: Path) -> list[tuple[str, float]]:
    """Speak paragraphs with espeak-ng into one WAV; return espeak's own word starts."""
    from studio.core import audio
    from studio.core.engines import SpeechRequest
    from studio.core.engines.offline import MODEL_ID, SAMPLE_RATE, OfflineEngine

    engine = OfflineEngine()
    ref: list[tuple[str, float]] = []
    clock = 0.0
    gap = np.zeros(int(0.5 * SAMPLE_RATE), np.int16)
    with sf.SoundFile(path, "w", SAMPLE_RATE, 1, "PCM_16") as out:
        for text in paragraphs:
            result = engine.synthesize(SpeechRequest(text, "en-us", MODEL_ID))
            pcm, rate = audio.decode(result.audio, result.format)
            out.write(np.rint(pcm * 32767).astype(np.int16))
            out.write(gap)
            ref += [(w.word, clock + w.start) for w in result.word_timings]
            clock += len(pcm) / rate + 0.5
    return ref


PARAGRAPHS = [
    "A famished Fox saw some clusters of ripe black grapes hanging from a trellised vine. "
    "She resorted to all her tricks to get at them, but wearied herself in vain, for she "
    "could not reach them.",
    "At last she turned away, hiding her disappointment and saying: The Grapes are sour, and "
    "not ripe as I thought. It is easy to despise what you cannot get.",
    "A Country Mouse invited a Town Mouse, an intimate friend, to pay him a visit and partake "
    "of his country fare. As they were on the bare plowlands, eating their wheat-stalks and "
    "roots pulled up from the hedgerow, the Town Mouse said to his friend: You live here the "
    "life of the ants, while in my house is the horn of plenty.",
    "I am surrounded by every luxury, and if you will come with me, as I wish you would, you "
    "shall have an ample share of my dainties. The Country Mouse was easily persuaded, and "
    "returned to town with his friend.",
    "On his arrival, the Town Mouse placed before him bread, barley, beans, dried figs, honey, "
    "raisins, and, last of all, brought a dainty piece of cheese from a basket. Zorblax and "
    "Quixotl, the 1867 translators, said nothing.",
]


@pytest.fixture(scope="module")
def espeak_speech(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, list]:
    path = tmp_path_factory.mktemp("espeak") / "fables.wav"
    ref = _espeak(PARAGRAPHS, path)
    return path, "\n\n".join(PARAGRAPHS), ref


def test_long_espeak_speech_aligns_in_chunks_against_espeaks_word_events(espeak_speech) -> None:
    path, text, ref = espeak_speech
    assert sf.info(str(path)).duration > 60  # long enough to be cut into several chunks
    progress: list[float] = []
    words = align_text(path, text, progress=progress.append)
    assert len(words) == len(ref)
    assert all(w.aligned for w in words)  # out-of-vocabulary words too (spelled phones)
    errors = np.array([abs(w.start - r[1]) for w, r in zip(words, ref, strict=True)])
    assert np.median(errors) < 0.05
    assert np.percentile(errors, 90) < 0.15  # no drift across chunks
    assert progress and progress[-1] == 1.0 and len(progress) >= 2  # chunk by chunk
    assert all(a.start <= b.start for a, b in itertools.pairwise(words))


def test_hard_chunk_boundaries_do_not_make_the_alignment_drift(tmp_path: Path) -> None:
    """Speed changes, 2.5 s pauses inside sentences and a refrain repeated three times (a
    long pause after the first, short ones after the others) sit where a chunk is cut:
    a chunk that ends at the wrong pause or loses its path must not shift what follows."""
    from studio.core import audio
    from studio.core.engines import SpeechRequest, VoiceParams
    from studio.core.engines.offline import MODEL_ID, SAMPLE_RATE, OfflineEngine

    refrain = "The grapes are sour."
    pieces: list[tuple[str, float, float]] = []  # (text, speed, pause after)
    for speed in (1.3, 0.75):
        for paragraph in PARAGRAPHS:
            cut = paragraph.index(", ", len(paragraph) // 2) + 1
            pieces += [(paragraph[:cut], speed, 2.5), (paragraph[cut + 1:], speed, 0.4),
                       (refrain, 1.0, 1.5), (refrain, 1.0, 0.2), (refrain, 1.0, 0.2)]
    engine = OfflineEngine()
    path = tmp_path / "hard.wav"
    ref: list[float] = []
    clock = 0.0
    with sf.SoundFile(path, "w", SAMPLE_RATE, 1, "PCM_16") as out:
        for text, speed, pause in pieces:
            result = engine.synthesize(
                SpeechRequest(text, "en-us", MODEL_ID, VoiceParams(speed=speed)))
            pcm, rate = audio.decode(result.audio, result.format)
            out.write(np.rint(pcm * 32767).astype(np.int16))
            out.write(np.zeros(int(pause * SAMPLE_RATE), np.int16))
            ref += [clock + w.start for w in result.word_timings]
            clock += len(pcm) / rate + pause
    assert clock > 180  # several chunks
    words = align_text(path, " ".join(text for text, _, _ in pieces))
    assert len(words) == len(ref)
    assert all(w.aligned for w in words)
    errors = np.abs(np.array([w.start for w in words]) - np.array(ref))
    first, last = np.median(errors[:60]), np.median(errors[-60:])
    assert first < 0.03 and last < 0.03, (first, last)  # as good at the end as at the start
    assert np.percentile(errors, 90) < 0.1


def test_a_stretch_the_text_does_not_match_does_not_shift_what_follows(tmp_path: Path) -> None:
    """A paragraph read differently from the text (another voice, words reordered) can lose
    its own chunk, but the DTW anchors put the chunks after it back in place."""
    from studio.core import audio
    from studio.core.engines import SpeechRequest
    from studio.core.engines.offline import MODEL_ID, SAMPLE_RATE, OfflineEngine

    engine = OfflineEngine()
    path = tmp_path / "mismatch.wav"
    spoken = PARAGRAPHS + PARAGRAPHS
    bad = 2
    spoken[bad] = " ".join(reversed(PARAGRAPHS[bad].split()))
    ref: list[float] = []
    bad_words = range(0)
    clock = 0.0
    with sf.SoundFile(path, "w", SAMPLE_RATE, 1, "PCM_16") as out:
        for i, text in enumerate(spoken):
            voice = "en-gb-x-rp+f3" if i == bad else "en-us"
            result = engine.synthesize(SpeechRequest(text, voice, MODEL_ID))
            pcm, rate = audio.decode(result.audio, result.format)
            out.write(np.rint(pcm * 32767).astype(np.int16))
            out.write(np.zeros(int(0.6 * SAMPLE_RATE), np.int16))
            if i == bad:
                bad_words = range(len(ref), len(ref) + len(result.word_timings))
            ref += [clock + w.start for w in result.word_timings]
            clock += len(pcm) / rate + 0.6
    words = align_text(path, "\n\n".join(PARAGRAPHS + PARAGRAPHS))
    assert len(words) == len(ref)
    after = bad_words.stop + 30  # past the chunk that holds the bad paragraph's end
    errors = np.abs(np.array([w.start for w in words]) - np.array(ref))
    assert not all(w.aligned for w in words[bad_words.start:bad_words.stop])  # it was lost...
    assert all(w.aligned for w in words[after:])  # ...and only it
    assert np.median(errors[after:]) < 0.03 and np.percentile(errors[after:], 90) < 0.1
    assert np.median(errors[:bad_words.start]) < 0.03
    assert all(a.start <= b.start for a, b in itertools.pairwise(words))


def test_align_words_recomputes_only_the_edited_segments(espeak_speech) -> None:
    from studio.core.transcript.io import words_to_transcript
    from studio.core.transcript.model import Word

    path, _text, ref = espeak_speech
    heard = PARAGRAPHS[0].replace("famished", "famous").split()  # a transcription mistake
    stream = [(Word(tok, start, start + 0.2), "speaker_0")
              for tok, (_, start) in zip(heard, ref, strict=False)]
    t = words_to_transcript(stream, source="test")
    t.duration = sf.info(str(path)).duration
    # the sentence end before "She" and its 0.57 s pause end the first segment
    assert [s.text.split()[0] for s in t.segments] == ["A", "She"]
    edited, untouched = t.segments
    before = untouched.words
    set_segment_text(t, edited.id, edited.text.replace("famous", "famished"))
    with OfflineAligner(path) as aligner:
        changes = align_words(t, None, aligner)
    assert changes.segments == {edited.id}
    assert untouched.words is before and not edited.words_stale
    assert [w.text for w in edited.words][:3] == ["A", "famished", "Fox"]
    assert abs(edited.words[2].start - ref[2][1]) < 0.1
    assert check_transcript(t) == []


def test_text_normalisation_for_the_dictionary() -> None:
    assert spoken_words("Well-known,") == ["well", "known"]
    assert spoken_words("1867") == ["eighteen", "sixty", "seven"]
    assert spoken_words("42nd") == ["forty", "two", "nd"] or spoken_words("42nd") == ["42nd"]
    assert spoken_words("—") == []
    assert spelled_phones("zorblax") == "Z AA R B L AE K S"


def test_narration_transcript_from_take_timings() -> None:
    from studio.core.model import (
        BlockId,
        Take,
        TakeId,
        WordTiming,
        add_take,
    )
    from studio.core.transcript.narration import narration_transcript
    from tests.core.factories import make_project

    project = make_project()
    chapter = project.chapters[0]
    blocks = chapter.blocks[:2]
    for block in blocks:
        words = [WordTiming(m, i * 6, i * 6 + len(m), 0.1 + i * 0.3, 0.35 + i * 0.3)
                 for i, m in enumerate(["alpha", "beta"])]
        take = Take(TakeId(f"t{block.id}"), BlockId(block.id), "h", "wav_22050", 1.0,
                    text="alpha beta", word_timings=tuple(words))
        add_take(project, take)
    t = narration_transcript(project, chapter, pause_s=0.5)
    assert [s.text for s in t.segments] == ["alpha beta", "alpha beta"]
    assert t.segments[1].start == pytest.approx(1.5)
    assert t.segments[1].words[1].start == pytest.approx(1.5 + 0.4)
    assert check_transcript(t) == []
