"""The chapter timeline, word lookup, chapter rendering and pitch-keeping speed change."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from studio.core.audio import decode, encode_wav
from studio.core.model import Block, Project, TakeId, WordTiming
from studio.core.playback import (
    ArraySource,
    ChapterAudio,
    Segment,
    Stretcher,
    build_timeline,
    locate,
    render_chapter_audio,
    time_stretch,
)
from tests.core.factories import make_project, make_take

RATE = 22050


def _tone(freq: float, seconds: float, rate: int = RATE) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)).astype(
        np.float32
    )


def _give_take(project: Project, block: Block, freq: float, seconds: float, rate: int = RATE):
    take = make_take(project, block.id, encode_wav(_tone(freq, seconds, rate), rate))
    words = tuple(
        WordTiming(f"w{i}", i * 2, i * 2 + 1, i * seconds / 4, (i + 1) * seconds / 4)
        for i in range(4)
    )
    take = dataclasses.replace(
        take, duration=seconds, format=f"wav_{rate}", sample_rate=rate, word_timings=words
    )
    block.takes.append(take)
    block.current_take_id = take.id
    return take


def _project() -> tuple[Project, dict[TakeId, bytes | None]]:
    project = make_project(chapters=1, blocks=4)
    chapter = project.chapters[0]
    _give_take(project, chapter.blocks[0], 440, 0.5)
    # block 1 has no take: it is skipped
    _give_take(project, chapter.blocks[2], 660, 0.25, rate=16000)
    _give_take(project, chapter.blocks[3], 880, 0.5)
    return project, {t.id: t.audio for _, b in project.iter_blocks() for t in b.takes}


def _loader(project: Project):
    takes = {t.id: t for _, b in project.iter_blocks() for t in b.takes}

    def load(take_id: TakeId):
        take = takes[take_id]
        assert take.audio is not None
        return decode(take.audio, take.format)

    return load


def test_timeline_skips_paragraphs_without_takes_and_adds_pauses() -> None:
    project, _ = _project()
    project.settings["paragraph_pause_s"] = 0.25
    chapter = project.chapters[0]
    timeline = build_timeline(project, chapter)
    assert [s.block_id for s in timeline] == ["c0b0", "c0b2", "c0b3"]
    assert [(s.start, s.end) for s in timeline] == [(0.0, 0.5), (0.75, 1.0), (1.25, 1.75)]
    assert timeline[0].take_id == chapter.blocks[0].current_take_id
    assert len(timeline[0].word_timings) == 4
    assert build_timeline(project, chapter, pause_s=0.0)[2].start == pytest.approx(0.75)
    del project.settings["paragraph_pause_s"]
    assert build_timeline(project, chapter)[1].start == pytest.approx(1.0)  # default 0.5


def test_locate_paragraph_and_word() -> None:
    project, _ = _project()
    project.settings["paragraph_pause_s"] = 0.25
    timeline = build_timeline(project, project.chapters[0])
    assert locate(timeline, 0.0) == (0, 0)
    assert locate(timeline, 0.3) == (0, 2)  # words are 0.125 s long
    assert locate(timeline, 0.6) == (0, None)  # in the pause after paragraph 0
    assert locate(timeline, 0.75) == (1, 0)
    assert locate(timeline, 1.74) == (2, 3)
    assert locate(timeline, 1.75) is None
    assert locate(timeline, -0.1) is None
    assert locate([], 0.0) is None


def test_locate_is_fast_on_a_long_chapter() -> None:
    words = tuple(WordTiming("w", 0, 1, i * 0.1, i * 0.1 + 0.1) for i in range(50))
    timeline = [
        Segment(f"b{i}", i * 5.5, i * 5.5 + 5.0, TakeId(f"t{i}"), words)  # type: ignore[arg-type]
        for i in range(5000)
    ]
    started = time.perf_counter()
    for k in range(2000):
        t = (k * 13.7) % (5000 * 5.5)
        hit = locate(timeline, t)
        assert hit is not None and hit[0] == int(t // 5.5)
    assert time.perf_counter() - started < 0.5
    assert locate(timeline, 4999 * 5.5 + 1.05) == (4999, 10)


def test_render_places_each_take_at_its_start_with_silence_between() -> None:
    project, _ = _project()
    timeline = build_timeline(project, project.chapters[0])
    audio = render_chapter_audio(timeline, _loader(project), rate=RATE)
    assert audio.dtype == np.float32
    assert len(audio) == round(timeline[-1].end * RATE)
    for segment, freq in zip(timeline, (440, 660, 880), strict=True):
        part = audio[round(segment.start * RATE) : round(segment.end * RATE)]
        spectrum = np.abs(np.fft.rfft(part))
        assert np.argmax(spectrum) * RATE / len(part) == pytest.approx(freq, rel=0.02)
    pause = audio[round(0.55 * RATE) : round(0.95 * RATE)]
    assert np.abs(pause).max() == 0.0
    assert render_chapter_audio([], _loader(project)).shape == (0,)


def _peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


@pytest.mark.parametrize("speed", [0.5, 0.75, 1.5, 2.0])
def test_time_stretch_keeps_pitch_and_scales_length(speed: float) -> None:
    tone = _tone(440, 1.0)
    out = time_stretch(tone, RATE, speed)
    assert abs(len(out) - len(tone) / speed) <= 1
    assert _peak_hz(out, RATE) == pytest.approx(440, rel=0.02)
    # Steady level: no holes or doubled frames in the middle.
    middle = out[2048:-2048]
    rms = np.sqrt((middle[: len(middle) // 256 * 256].reshape(-1, 256) ** 2).mean(axis=1))
    assert rms.min() > 0.3 and rms.max() < 0.4


def test_time_stretch_at_normal_speed_returns_the_input() -> None:
    tone = _tone(440, 0.1)
    assert np.array_equal(time_stretch(tone, RATE, 1.0), tone)
    with pytest.raises(ValueError):
        time_stretch(tone, RATE, 3.0)


def test_stretcher_streams_the_same_audio_in_chunks_from_an_offset() -> None:
    tone = _tone(440, 1.0)
    whole = Stretcher(tone, RATE, 1.5, start=RATE // 4, end=RATE * 3 // 4)
    expected = whole.read(whole.total)
    streamed = Stretcher(tone, RATE, 1.5, start=RATE // 4, end=RATE * 3 // 4)
    parts = []
    while not streamed.done:
        parts.append(streamed.read(1000))
    assert np.allclose(np.concatenate(parts), expected)
    assert streamed.source_position == pytest.approx(RATE * 3 // 4)
    assert len(expected) == round((RATE // 2) / 1.5)


def _long_timeline(n: int, seconds: float = 1.0) -> tuple[list[Segment], dict[TakeId, bytes]]:
    """``n`` one-second paragraphs (each its own tone) with 0.5 s pauses."""
    audio = {TakeId(f"t{i}"): encode_wav(_tone(200 + 10 * i, seconds), RATE) for i in range(n)}
    segments = [Segment(f"b{i}", i * (seconds + 0.5), i * (seconds + 0.5) + seconds,  # type: ignore[arg-type]
                        TakeId(f"t{i}")) for i in range(n)]
    return segments, audio


def test_chapter_audio_decodes_only_the_takes_read_and_keeps_a_few() -> None:
    segments, audio = _long_timeline(200)
    loads: list[TakeId] = []

    def load(take_id: TakeId):  # type: ignore[no-untyped-def]
        loads.append(take_id)
        return decode(audio[take_id], "wav_22050")

    source = ChapterAudio(segments, load, RATE, cache=3, read_ahead=False)
    assert len(source) == round(segments[-1].end * RATE)
    middle = round(segments[100].start * RATE)
    chunk = source.read(middle - RATE // 4, middle + RATE // 2)  # a pause, then take 100
    assert loads == [TakeId("t100")]
    assert np.all(chunk[: RATE // 4] == 0)
    expected = decode(audio[TakeId("t100")], "wav_22050")[0][: RATE // 2]
    assert np.allclose(chunk[RATE // 4 :], expected, atol=1e-4)
    for i in range(101, 110):  # walk on: the cache stays bounded, nothing is decoded twice
        source.read(round(segments[i].start * RATE), round(segments[i].end * RATE))
    assert loads == [TakeId(f"t{i}") for i in range(100, 110)]
    assert len(source._decoded) <= 3
    # Reading beyond the end gives silence, not an error.
    assert np.all(source.read(len(source), len(source) + 100) == 0)


def test_chapter_audio_reads_ahead_on_another_thread_and_applies_the_voice_volume() -> None:
    import threading

    segments, audio = _long_timeline(5)
    segments = [dataclasses.replace(s, gain_db=-6.0) for s in segments]
    threads: dict[TakeId, str] = {}

    def load(take_id: TakeId):  # type: ignore[no-untyped-def]
        threads[take_id] = threading.current_thread().name
        return decode(audio[take_id], "wav_22050")

    source = ChapterAudio(segments, load, RATE)
    first = source.read(0, RATE)
    deadline = time.monotonic() + 10
    while TakeId("t1") not in threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threads[TakeId("t0")] == threading.current_thread().name
    assert threads[TakeId("t1")] != threading.current_thread().name  # decoded ahead
    assert np.max(np.abs(first)) == pytest.approx(0.5 * 10 ** (-6 / 20), rel=0.01)
    source.close()


def test_the_whole_rendered_chapter_equals_reading_it_in_chunks() -> None:
    project, _ = _project()
    timeline = build_timeline(project, project.chapters[0])
    whole = render_chapter_audio(timeline, _loader(project), rate=RATE)
    source = ChapterAudio(timeline, _loader(project), RATE)
    parts = [source.read(i, i + 1000) for i in range(0, len(whole), 1000)]
    assert np.array_equal(np.concatenate(parts)[: len(whole)], whole)
    source.close()


@pytest.mark.parametrize("speed", [0.5, 1.5])
def test_stretching_a_source_equals_stretching_the_array(speed: float) -> None:
    tone = _tone(330, 2.0)
    from_array = Stretcher(tone, RATE, speed, 1000, 40000)
    from_source = Stretcher(ArraySource(tone, RATE), RATE, speed, 1000, 40000)
    assert np.array_equal(from_array.read(from_array.total), from_source.read(from_source.total))


def test_a_break_is_placed_in_the_silence_the_offline_engine_made_for_it() -> None:
    from studio.core.engines import SpeechRequest
    from studio.core.engines.offline import OfflineEngine
    from studio.core.playback import break_times

    text = 'The fox ran away. <break time="1.5s" /> Then it came back home.'
    result = OfflineEngine().synthesize(SpeechRequest(
        text=text, voice_id="en-us", model_id="offline-espeak", output_format="wav_22050"))
    (at,) = break_times(text, result.word_timings)
    samples, rate = decode(result.audio, result.format)
    around = samples[int((at - 0.5) * rate): int((at + 0.5) * rate)]
    assert np.max(np.abs(around)) < 1e-3  # a second of silence around the mark
    assert break_times("No breaks here.", result.word_timings) == ()
