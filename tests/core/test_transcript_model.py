"""Transcript model, edits and JSON/TXT/HTML (no Qt, no audio)."""

from __future__ import annotations

import json

import pytest

from studio.core.errors import EditError
from studio.core.transcript import io
from studio.core.transcript.model import (
    SegmentId,
    Transcript,
    Word,
    WordType,
    add_segment,
    add_speaker,
    check_transcript,
    delete_segment,
    delete_speaker,
    merge_segments,
    move_speaker,
    move_speaker_segments,
    reassign_segment,
    recolour_speaker,
    rename_speaker,
    retime_segment,
    set_segment_text,
    split_segment,
    split_segment_at_word,
)

EL_ANSWER = {
    "language_code": "en", "language_probability": 0.99, "text": "Hello there. Hi! (laughter)",
    "words": [
        {"text": "Hello", "start": 0.1, "end": 0.4, "type": "word", "speaker_id": "speaker_0",
         "logprob": -0.1},
        {"text": " ", "start": 0.4, "end": 0.5, "type": "spacing", "speaker_id": "speaker_0"},
        {"text": "there.", "start": 0.5, "end": 0.9, "type": "word", "speaker_id": "speaker_0"},
        {"text": " ", "start": 0.9, "end": 1.2, "type": "spacing", "speaker_id": "speaker_0"},
        {"text": "Hi!", "start": 1.2, "end": 1.5, "type": "word", "speaker_id": "speaker_1"},
        {"text": " ", "start": 1.5, "end": 1.6, "type": "spacing", "speaker_id": "speaker_1"},
        {"text": "(laughter)", "start": 1.6, "end": 2.2, "type": "audio_event",
         "speaker_id": "speaker_1"},
    ],
}


def _two_speakers() -> Transcript:
    return io.from_elevenlabs(EL_ANSWER)


def test_elevenlabs_answer_becomes_segments_per_speaker() -> None:
    t = _two_speakers()
    assert [s.name for s in t.speakers] == ["Speaker 1", "Speaker 2"]
    assert [s.text for s in t.segments] == ["Hello there.", "Hi! (laughter)"]
    first = t.segments[0]
    assert [w.type for w in first.words] == [WordType.WORD, WordType.SPACING, WordType.WORD]
    assert first.words[0].confidence == pytest.approx(0.905, abs=1e-3)
    assert first.text[first.words[2].char_start:first.words[2].char_end] == "there."
    assert t.segments[1].words[-1].type is WordType.AUDIO_EVENT
    assert check_transcript(t) == []


def test_multichannel_answer_merges_channels_by_time() -> None:
    left = {"language_code": "en", "channel_index": 0, "text": "a", "words": [
        {"text": "One.", "start": 0.0, "end": 0.5, "type": "word"}]}
    right = {"language_code": "en", "channel_index": 1, "text": "b", "words": [
        {"text": "Two.", "start": 0.6, "end": 1.0, "type": "word"}]}
    t = io.from_json({"transcripts": [right, left]})
    assert [s.text for s in t.segments] == ["One.", "Two."]
    assert len(t.speakers) == 2


def _speech(pauses: dict[int, float], count: int, *, spacing: bool = False
            ) -> list[tuple[Word, str]]:
    """``count`` unpunctuated words of 0.25 s, 0.05 s apart, with ``pauses`` (the pause
    before word *i*), as the offline recogniser produces them."""
    stream: list[tuple[Word, str]] = []
    t = 0.0
    for i in range(count):
        t += pauses.get(i, 0.05)
        if spacing and stream:
            stream.append((Word(" ", stream[-1][0].end, t, WordType.SPACING), "speaker_0"))
        stream.append((Word(f"w{i}", t, t + 0.25), "speaker_0"))
        t += 0.25
    return stream


def test_unpunctuated_speech_is_cut_into_short_segments() -> None:
    # 60 s of speech without punctuation or a 1.5 s pause used to be one 200-word segment
    pauses = {i: 0.55 for i in (5, 20, 40, 47)} | {i: 0.3 for i in range(60, 200, 7)}
    stream = _speech(pauses, 200)
    t = io.words_to_transcript(stream, language="en", source="offline")
    assert len(t.segments) > 5
    assert [w.text for s in t.segments for w in s.words] == [f"w{i}" for i in range(200)]
    for s in t.segments:
        assert len(s.words) <= io.HARD_MAX_WORDS and s.end - s.start <= io.HARD_MAX_S
    firsts = [s.words[0].text for s in t.segments]
    # a 0.55 s pause ends a segment of 12+ words (w20, w40), not a shorter one (w5, w47)
    assert firsts[:3] == ["w0", "w20", "w40"]
    assert "w5" not in firsts and "w47" not in firsts
    # no pause of 0.5 s from w40 on: the cap cuts at the largest pause (0.3 s, every 7th)
    later = [int(f[1:]) for f in firsts if int(f[1:]) > 60]
    assert later and all((i - 60) % 7 == 0 for i in later)
    assert check_transcript(t) == []


def test_word_stream_segments_end_at_utterance_boundaries_and_spacing_is_kept() -> None:
    stream = _speech({}, 30)
    cut = (stream[9][0].end + stream[10][0].start) / 2
    t = io.words_to_transcript(stream, boundaries=[cut])
    assert [s.words[0].text for s in t.segments] == ["w0", "w10"]
    # the cap counts words, not spacing tokens
    t = io.words_to_transcript(_speech({}, 50, spacing=True))
    assert [len(s.text.split()) for s in t.segments] == [40, 10]
    assert all(not s.text.startswith(" ") and not s.text.endswith(" ") for s in t.segments)
    assert check_transcript(t) == []


def test_split_at_character_and_word_keeps_word_times() -> None:
    t = _two_speakers()
    first = t.segments[0]
    changes = split_segment(t, first.id, first.text.index("there"))
    new_id = next(iter(changes.added))
    assert [s.text for s in t.segments][:2] == ["Hello", "there."]
    second = t.segment(SegmentId(new_id))
    assert first.end == second.start == pytest.approx(0.45)
    assert second.words[0].text == "there." and second.words[0].char_start == 0
    assert check_transcript(t) == []
    with pytest.raises(EditError):
        split_segment(t, first.id, 0)
    t2 = _two_speakers()
    split_segment_at_word(t2, t2.segments[0].id, 1)
    assert [s.text for s in t2.segments][:2] == ["Hello", "there."]


def test_merge_only_adjacent_same_speaker() -> None:
    t = _two_speakers()
    with pytest.raises(EditError, match="same speaker"):
        merge_segments(t, t.segments[0].id)
    split_segment(t, t.segments[0].id, 6)
    changes = merge_segments(t, t.segments[0].id)
    assert t.segments[0].text == "Hello there." and len(changes.removed) == 1
    assert check_transcript(t) == []
    with pytest.raises(EditError, match="last segment"):
        merge_segments(t, t.segments[-1].id)


def test_add_delete_and_retime_never_overlap() -> None:
    t = _two_speakers()
    speaker = t.speakers[0].id
    with pytest.raises(EditError, match="overlap"):
        add_segment(t, 0.3, 0.6, speaker)
    add_segment(t, 2.5, 3.0, speaker, "Later words")
    assert t.segments[-1].words_stale and len(t.segments[-1].words) == 2
    # Dragging an edge stops at the neighbour; without clamping an overlap is refused.
    retime_segment(t, t.segments[1].id, 0.5, 2.8)
    assert t.segments[1].start == t.segments[0].end and t.segments[1].end == 2.5
    with pytest.raises(EditError, match="overlap"):
        retime_segment(t, t.segments[1].id, 0.0, 2.0, clamp=False)
    assert check_transcript(t) == []
    delete_segment(t, t.segments[-1].id)
    assert len(t.segments) == 2


def test_edit_text_rebases_words_and_marks_them_stale() -> None:
    t = _two_speakers()
    seg = t.segments[0]
    set_segment_text(t, seg.id, "Hello out there.")
    assert seg.words_stale
    assert [w.text for w in seg.words] == ["Hello", "out", "there."]
    assert seg.words[0].start == 0.1 and seg.words[2].start == 0.5  # unchanged words keep times
    assert 0.4 <= seg.words[1].start <= 0.5


def test_speakers_add_rename_recolour_reorder_reassign_delete() -> None:
    t = _two_speakers()
    a, b = t.speakers[0].id, t.speakers[1].id
    c = next(iter(add_speaker(t, "Narrator").speakers))
    rename_speaker(t, a, "Alice")
    changes = recolour_speaker(t, a, "#112233")
    assert t.speaker(a).colour == "#112233" and t.segments[0].id in changes.segments
    with pytest.raises(EditError):
        recolour_speaker(t, a, "red")
    move_speaker(t, c, 0)
    assert [s.name for s in t.speakers] == ["Narrator", "Alice", "Speaker 2"]
    reassign_segment(t, t.segments[0].id, b)
    assert t.segments[0].speaker_id == b
    moved = move_speaker_segments(t, b, c)
    assert len(moved.segments) == 2 and all(s.speaker_id == c for s in t.segments)
    changes = delete_speaker(t, c)
    assert not t.segments and len(changes.removed) == 2


def test_json_round_trip_and_copy_is_independent(tmp_path) -> None:
    t = _two_speakers()
    t.duration = 3.0
    path = tmp_path / "t.json"
    path.write_text(io.dumps(t), encoding="utf-8")
    back = io.load_json(path)
    assert io.to_json(back) == io.to_json(t)
    copy = t.copy()
    split_segment(copy, copy.segments[0].id, 6)
    assert len(t.segments) == 2 and len(copy.segments) == 3
    (tmp_path / "el.json").write_text(json.dumps(EL_ANSWER))
    assert io.load_transcript(tmp_path / "el.json").segments[0].text == "Hello there."
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "narrator-studio-transcript", "segments": [{"start": 1}]}')
    with pytest.raises(io.TranscriptFormatError, match=r"bad\.json"):
        io.load_json(bad)


def test_exports_text_and_html() -> None:
    t = _two_speakers()
    text = io.export_text(t, timestamps=True)
    assert "Speaker 1: Hello there." in text and "[00:00:00.100 --> " in text
    page = io.export_html(t, "A <talk>")
    assert "A &lt;talk&gt;" in page and 'data-start="0.500"' in page and "there." in page
    assert io.export(t, "json").startswith("{")
