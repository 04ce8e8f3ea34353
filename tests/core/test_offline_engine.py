"""The offline espeak-ng engine: audio, speed, breaks, timings, voices, cancel, threads."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest

from studio.core import audio
from studio.core.engines import (
    Capability,
    CharacterLimitExceeded,
    Engine,
    EngineUnavailable,
    RequestInvalid,
    SpeechRequest,
    SpeechResult,
    VoiceNotFound,
    VoiceParams,
    offline,
)
from studio.core.engines.offline import OfflineEngine
from studio.core.errors import Cancelled, CancelToken

SENTENCE = "The quick brown fox jumps over the lazy dog near the river."  # 11 words


@pytest.fixture(scope="module")
def engine() -> OfflineEngine:
    return OfflineEngine()


def speak(engine: OfflineEngine, text: str, voice: str = "en-us", speed: float = 1.0,
          cancel: CancelToken | None = None) -> SpeechResult:
    request = SpeechRequest(text=text, voice_id=voice, model_id=offline.MODEL_ID,
                            params=VoiceParams(speed=speed))
    return engine.synthesize(request, cancel)


def long_text(words: int) -> str:
    sentence = "Every narrator reads this sentence about the patient river and the old town."
    count = len(sentence.split())
    return " ".join([sentence] * (words // count + 1))


def assert_timing_invariants(result: SpeechResult, text: str) -> None:
    timings = result.char_timings
    assert timings is not None
    assert len(timings.characters) == len(timings.starts) == len(timings.ends) == len(text)
    assert "".join(timings.characters) == text
    starts = np.array(timings.starts)
    ends = np.array(timings.ends)
    assert (np.diff(starts) >= 0).all()
    assert (starts >= 0).all() and (starts <= ends).all() and (ends <= result.duration).all()
    words = result.word_timings
    assert [w.start for w in words] == sorted(w.start for w in words)
    for word in words:
        assert 0 <= word.start <= word.end <= result.duration
        assert text[word.char_start:word.char_end] == word.word


# ---------------------------------------------------------------------------------------------
# Protocol, models, voices


def test_engine_satisfies_the_protocol(engine: OfflineEngine) -> None:
    assert isinstance(engine, Engine)
    assert engine.name == "offline"
    assert engine.capabilities == Capability.TTS | Capability.TIMESTAMPS
    (model,) = engine.models()
    assert (model.model_id, model.name, model.max_characters) == (
        "offline-espeak", "Offline (espeak-ng)", 100_000)
    assert model.supports_stitching is False and model.cost_multiplier == 0.0


def test_voices_list_bases_and_english_variants(engine: OfflineEngine) -> None:
    voices = {voice.voice_id: voice for voice in engine.voices()}
    assert voices["en-us"].name == "English (America)"
    assert voices["en-us"].labels["language"] == "en-us"
    assert voices["en-us"].category == "offline"
    female = voices["en-us+f3"]
    assert female.name == "English (America) — female 3"
    assert female.labels == {"language": "en-us", "gender": "female", "variant": "f3"}
    assert voices["en-gb-x-rp+m7"].labels["gender"] == "male"
    for base in ("en", "en-gb-x-rp", "fr", "de", "es", "cmn"):
        assert base in voices
    assert "fr+f3" not in voices  # variants only for English, to keep the list short
    assert all(v.voice_id.count("+") <= 1 for v in voices.values())
    assert len(voices) < 400
    assert "fo" not in voices  # the wheel ships no Faroese dictionary
    # Cached: the second call is instant and equal.
    started = time.perf_counter()
    assert engine.voices() == list(voices.values())
    assert time.perf_counter() - started < 0.05


def test_every_listed_voice_id_resolves(engine: OfflineEngine) -> None:
    catalog = offline._catalog()
    for voice in engine.voices():
        name = offline._resolve_voice(voice.voice_id, catalog)
        assert name.lower() == voice.voice_id.lower()


def test_unknown_voice_is_named_in_the_error(engine: OfflineEngine) -> None:
    with pytest.raises(VoiceNotFound, match="klingon"):
        speak(engine, "Hello.", voice="klingon")
    # espeak would silently ignore an unknown variant; we refuse it.
    with pytest.raises(VoiceNotFound, match="nosuchvariant"):
        speak(engine, "Hello.", voice="en-us+nosuchvariant")


def test_variant_names_are_case_insensitive(engine: OfflineEngine) -> None:
    assert offline._resolve_voice("EN-US+annie", offline._catalog()) == "en-us+Annie"
    assert speak(engine, "Hello there.", voice="en-us+ANNIE").duration > 0.3


# ---------------------------------------------------------------------------------------------
# Audio


def test_sentence_gives_plausible_wav(engine: OfflineEngine) -> None:
    result = speak(engine, SENTENCE)
    assert result.format == "wav_22050" and result.sample_rate == 22050
    assert result.cost == 0 and result.request_id is None
    assert abs(result.completed_at - time.time()) < 60
    samples, rate = audio.decode(result.audio, result.format)
    assert rate == 22050
    assert result.duration == pytest.approx(len(samples) / rate)
    assert audio.duration(result.audio, result.format) == pytest.approx(result.duration)
    assert 1.0 < result.duration < 6.0
    assert np.sqrt(np.mean(samples**2)) > 0.02  # not silent


def test_female_variant_sounds_higher(engine: OfflineEngine) -> None:
    def zero_crossings(result: SpeechResult) -> float:
        samples, _ = audio.decode(result.audio, result.format)
        voiced = samples[np.abs(samples) > 0.05]
        return float(np.mean(np.abs(np.diff(np.sign(voiced))) > 0))

    assert zero_crossings(speak(engine, SENTENCE, "en-us+f3")) > zero_crossings(
        speak(engine, SENTENCE, "en-us"))


def test_speed_changes_duration(engine: OfflineEngine) -> None:
    fast = speak(engine, SENTENCE, speed=1.2).duration
    normal = speak(engine, SENTENCE, speed=1.0).duration
    slow = speak(engine, SENTENCE, speed=0.8).duration
    assert fast < normal < slow
    assert slow / fast > 1.2
    # Extreme speeds clamp to espeak's 80-450 words per minute instead of failing.
    assert speak(engine, "Hello.", speed=10.0).duration > 0
    with pytest.raises(RequestInvalid):
        speak(engine, "Hello.", speed=0.0)


def test_break_tag_adds_a_pause(engine: OfflineEngine) -> None:
    plain = speak(engine, "I waited here. Then I left.")
    text = 'I waited here. <break time="2.0s" /> Then I left.'
    paused = speak(engine, text)
    assert paused.duration - plain.duration >= 1.8
    # The break tag is not a word, and it does not leak into the speech as text.
    assert [w.word for w in paused.word_timings] == ["I", "waited", "here.", "Then", "I", "left."]
    here, then = paused.word_timings[2], paused.word_timings[3]
    assert then.start - here.end >= 2.0  # sentence pause plus the break, between the words
    assert here.end - here.start < 1.0
    assert_timing_invariants(paused, text)


@pytest.mark.parametrize(
    ("plain", "tagged", "added"),
    [
        # espeak's own SSML break would *replace* the pause after a full stop (0.3 s < pause).
        ("Done. Next one.", 'Done. <break time="0.3s"/> Next one.', 0.3),
        ("Done, next one.", 'Done, <break time="1500ms"/> next one.', 1.5),
        ("I waited here then I left.", 'I waited here <break time="1s" /> then I left.', 1.0),
        ("He bought it for the family.", 'He bought it for <break time="1s"/> the family.', 1.0),
        ("Start here.", '<break time="1s"/>Start here.', 1.0),
        ("End here.", 'End here.<break time="1s"/>', 1.0),
        ("Two breaks.", 'Two <break time="1s"/><break time="0.5s"/> breaks.', 1.5),
        ("Capped.", 'Capped. <break time="9s"/>', 3.0),
    ],
)
def test_breaks_add_their_time_wherever_they_are(engine: OfflineEngine, plain: str,
                                                 tagged: str, added: float) -> None:
    before = speak(engine, plain)
    after = speak(engine, tagged)
    assert after.duration - before.duration == pytest.approx(added, abs=0.12)
    assert [w.word for w in after.word_timings] == plain.split()
    assert_timing_invariants(after, tagged)
    # The silence sits between words: no word swallows it.
    assert all(w.end - w.start < 1.0 for w in after.word_timings)
    samples, _ = audio.decode(after.audio, after.format)
    assert np.sqrt(np.mean(samples**2)) > 0.01


def test_markup_is_stripped_and_user_text_is_escaped(engine: OfflineEngine) -> None:
    text = ('[whispers] Tom & Jerry <said> 3 > 2 & "quote" '
            '<phoneme alphabet="ipa" ph="ˈtɒm">Tom</phoneme>\'s cat.')
    result = speak(engine, text)
    assert 2.0 < result.duration < 12.0
    words = [w.word for w in result.word_timings]
    assert words[:3] == ["Tom", "&", "Jerry"]
    assert "[whispers]" not in words and not any("phoneme" in w for w in words)
    assert "Tom's" in "".join(text[w.char_start:w.char_end] for w in result.word_timings) or (
        "Tom" in words)
    assert_timing_invariants(result, text)


def test_prepare_maps_every_sent_character_back() -> None:
    text = 'A & B <break time="1.5s" /> C < D [sighs] E\0F'
    prepared = offline._prepare(text)
    assert prepared.ssml.count("&amp;") == 1 and prepared.ssml.count("&lt;") == 1
    assert "[sighs]" not in prepared.ssml and "\0" not in prepared.ssml
    assert "1.5s" not in prepared.ssml  # breaks become inserted silence ...
    assert prepared.breaks == ((prepared.ssml.index(" <break"), 1.5),)
    assert '<break time="1ms"/>' in prepared.ssml  # ... split from the words by a 1 ms break
    assert len(prepared.origin) == len(prepared.ssml)
    assert list(prepared.origin) == sorted(prepared.origin)
    for letter in "ABCDEF":
        assert prepared.origin[prepared.ssml.index(letter)] == text.index(letter)
    assert [text[s:e] for s, e in prepared.words] == ["A", "&", "B", "C", "<", "D", "E\0F"]


def test_break_times() -> None:
    assert offline._prepare('a. <break time="10s"/>').breaks[0][1] == 3.0  # ElevenLabs' cap
    assert offline._prepare("a. <break time='250ms'/>").breaks[0][1] == 0.25
    assert offline._prepare("a. <BREAK TIME=\"2\" />").breaks[0][1] == 2.0
    assert offline._prepare("a. <break />").breaks == ()  # no time: ignored
    # After a full stop espeak already pauses, so no 1 ms split is sent.
    assert "<break" not in offline._prepare('a. <break time="1s"/> b').ssml
    assert "<break" not in offline._prepare('He said "yes." <break time="1s"/> b').ssml


def test_audio_tags_are_lower_case_brackets_only() -> None:
    # Footnote marks and capitalised notes are text, not v3 audio tags.
    assert "[1]" in offline._prepare("Word[1] [Editor's note]").ssml
    assert "[Editor's note]" in offline._prepare("Word[1] [Editor's note]").ssml
    assert "laughs" not in offline._prepare("[laughs harder] Ha.").ssml


# ---------------------------------------------------------------------------------------------
# Timings


def test_word_timings_cover_every_word_in_order(engine: OfflineEngine) -> None:
    text = "He bought a loaf of bread for the family, and the cat watched the door."
    result = speak(engine, text)
    words = result.word_timings
    assert [w.word for w in words] == text.split()
    assert [w.char_start for w in words] == [text.index(w.word, w.char_start)
                                              for w in words]
    assert_timing_invariants(result, text)
    # Every word gets real time, including "the", for which espeak reports no event
    # ("for the family" is spoken as one unit).
    for number, word in enumerate(words):
        assert word.end > word.start, word
        if number:
            assert word.start > words[number - 1].start, word
    assert words[-1].end <= result.duration
    assert words[0].start < 0.1


def test_char_timings_span_each_word(engine: OfflineEngine) -> None:
    text = "  Café naïve — señor, déjà vu.  "
    result = speak(engine, text)
    assert_timing_invariants(result, text)
    timings = result.char_timings
    assert timings is not None
    for word in result.word_timings:
        assert timings.starts[word.char_start] == pytest.approx(word.start)
        assert timings.ends[word.char_end - 1] == pytest.approx(word.end)
    assert timings.starts[0] == 0.0
    assert timings.ends[-1] == pytest.approx(result.duration)


def test_timing_invariants_on_awkward_text(engine: OfflineEngine) -> None:
    for text in ("déjà vu, déjà vu!", "42 1,000,000 3.14 — ... !!!", "Hi.\n\nBye.",
                 "<break time=\"0.5s\"/>", "e\u0301 😀 x", "one"):
        assert_timing_invariants(speak(engine, text), text)


def test_empty_and_oversized_text_are_refused(engine: OfflineEngine) -> None:
    with pytest.raises(RequestInvalid, match="no text"):
        speak(engine, "  \n ")
    with pytest.raises(CharacterLimitExceeded, match="100,000"):
        speak(engine, "a" * 100_001)


def tone(seconds: float) -> np.ndarray:
    n = round(seconds * offline.SAMPLE_RATE)
    return (8000 * np.sin(np.arange(n) * 0.3) + 9000).astype(np.int16)  # never near silence


def test_missing_word_events_are_interpolated_by_character() -> None:
    text = "for the family"
    prepared = offline._prepare(text)
    # espeak reports "for" at 0 ms and "family" at 400 ms, nothing for "the".
    words = offline._word_timings(text, prepared, [(1, 3, 0), (9, 6, 400)], tone(0.6))
    assert [(w.word, w.char_start, w.char_end) for w in words] == [
        ("for", 0, 3), ("the", 4, 7), ("family", 8, 14)]
    assert [w.start for w in words] == pytest.approx([0.0, 0.2, 0.4])
    assert [w.end for w in words] == pytest.approx([0.2, 0.4, 0.6], abs=0.006)


def test_word_timings_without_any_event_spread_over_the_speech() -> None:
    text = "one two three four"
    pcm = np.concatenate((tone(1.0), np.zeros(11025, dtype=np.int16)))
    words = offline._word_timings(text, offline._prepare(text), [], pcm)
    assert words[0].start == 0.0
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert words[-1].end == pytest.approx(1.0, abs=0.006)  # trailing silence is not a word


def test_break_silence_goes_into_the_pause() -> None:
    pcm = np.concatenate((tone(0.2), np.zeros(2205, dtype=np.int16), tone(0.2)))
    events = [(1, 1, 0), (5, 1, 300)]  # the second word starts after the 100 ms pause
    joined, shifted = offline._insert_breaks(pcm, events, ((3, 1.0),))
    assert len(joined) == len(pcm) + 22050
    silent = np.flatnonzero(joined == 0)
    assert silent.min() == 4410 and silent.max() == 4410 + 2205 + 22050 - 1  # one long pause
    assert shifted == [(1, 1, 0), (5, 1, 1300)]


def test_break_silence_cuts_continuous_speech_with_fades() -> None:
    pcm = tone(1.0)
    joined, shifted = offline._insert_breaks(pcm, [(1, 1, 0), (5, 1, 500)], ((3, 0.5),))
    assert len(joined) == len(pcm) + 11025
    silent = np.flatnonzero(joined == 0)
    assert len(silent) >= 11025
    cut = int(silent.min())
    assert 0.43 * 22050 <= cut <= 0.5 * 22050  # just before the next word
    assert abs(int(joined[cut - 1])) < 3000 and abs(int(joined[silent.max() + 1])) < 3000
    assert shifted[1] == (5, 1, 1000)


def test_breaks_at_the_edges() -> None:
    pcm = tone(0.5)
    joined, shifted = offline._insert_breaks(pcm, [(3, 1, 0)], ((0, 0.25),))
    assert len(joined) == len(pcm) + 5512 and shifted == [(3, 1, 250)]
    assert (joined[:5512] == 0).all()
    joined, shifted = offline._insert_breaks(pcm, [(1, 1, 0)], ((9, 0.25),))
    assert (joined[len(pcm):] == 0).all() and shifted == [(1, 1, 0)]


# ---------------------------------------------------------------------------------------------
# Cancellation and threads


def test_cancel_before_start(engine: OfflineEngine) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        speak(engine, SENTENCE, cancel=token)


def test_cancel_from_another_thread_is_quick(engine: OfflineEngine) -> None:
    text = long_text(6000)  # about 25 minutes of audio, seconds of CPU
    token = CancelToken()
    timer = threading.Timer(0.1, token.cancel)
    started = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(Cancelled):
            speak(engine, text, cancel=token)
    finally:
        timer.cancel()
    assert time.perf_counter() - started < 1.0
    # espeak is left clean: the next request speaks its own text only.
    assert 1.0 < speak(engine, SENTENCE).duration < 6.0


def test_cancel_while_queued_behind_another_request(engine: OfflineEngine) -> None:
    engine.voices()  # start espeak first
    release = threading.Event()

    def hold_the_engine() -> None:
        with offline._LOCK:
            release.wait(5)

    holder = threading.Thread(target=hold_the_engine)
    holder.start()
    try:
        while not offline._LOCK.locked():
            time.sleep(0.001)
        token = CancelToken()
        threading.Timer(0.1, token.cancel).start()
        started = time.perf_counter()
        with pytest.raises(Cancelled):
            speak(engine, SENTENCE, cancel=token)
        assert time.perf_counter() - started < 1.0
    finally:
        release.set()
        holder.join()


def test_concurrent_requests_are_serialised(engine: OfflineEngine) -> None:
    texts = {"short": "A short line.", "long": long_text(60)}
    expected = {key: speak(engine, text).duration for key, text in texts.items()}
    assert expected["long"] > 3 * expected["short"]
    results: dict[str, list[SpeechResult]] = {key: [] for key in texts}
    errors: list[BaseException] = []

    def work(key: str) -> None:
        try:
            for _ in range(4):
                results[key].append(speak(engine, texts[key]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(key,)) for key in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    for key, runs in results.items():
        assert len(runs) == 4
        for result in runs:
            samples, _ = audio.decode(result.audio, result.format)
            assert np.sqrt(np.mean(samples**2)) > 0.02
            assert result.duration == pytest.approx(expected[key], rel=0.01)
            assert len(result.word_timings) == len(texts[key].split())


# ---------------------------------------------------------------------------------------------
# Loading failures (never touch the process's real espeak instance)


def test_missing_wheel_is_engine_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    with pytest.raises(EngineUnavailable, match="espeakng-loader"):
        offline._Espeak()


def test_missing_data_is_engine_unavailable(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import espeakng_loader

    monkeypatch.setattr(espeakng_loader, "get_data_path", lambda: str(tmp_path))
    with pytest.raises(EngineUnavailable, match="data is missing"):
        offline._Espeak()


def test_unloadable_library_is_engine_unavailable(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path) -> None:
    import espeakng_loader

    bogus = tmp_path / "libespeak-ng.so"
    bogus.write_bytes(b"not a library")
    monkeypatch.setattr(espeakng_loader, "get_library_path", lambda: str(bogus))
    with pytest.raises(EngineUnavailable, match="could not be loaded"):
        offline._Espeak()
