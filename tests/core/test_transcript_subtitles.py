"""Subtitle cues under rules, cue edits, and SRT/VTT checked by independent parsers."""

from __future__ import annotations

import io as stdio
import re

import pytest
import srt
import webvtt

from studio.core.errors import EditError
from studio.core.transcript.model import (
    Segment,
    SegmentId,
    Transcript,
    add_speaker,
    words_from_text,
)
from studio.core.transcript.subtitles import (
    CueProblem,
    SubtitleRules,
    SubtitleWarning,
    add_cue,
    build_cues,
    cue_problems,
    cues_from,
    delete_cue,
    export_subtitles,
    load_subtitles,
    merge_cues,
    retime_cue,
    split_cue,
    track_problems,
    transcript_from_subtitles,
)

TEXT = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was "
    "the age of foolishness. It was the epoch of belief & <incredulity>, it was the season of "
    "Light --> it was the season of Darkness. We had everything before us, we had nothing "
    "before us. Yes!"
)


def _transcript(text: str = TEXT, seconds: float = 30.0) -> Transcript:
    t = Transcript(duration=seconds + 1)
    speaker = add_speaker(t, "Narrator").speakers
    sid = next(iter(speaker))
    t.segments.append(Segment(SegmentId("s1"), 0.5, seconds, sid, text,  # type: ignore[arg-type]
                              words_from_text(text, 0.5, seconds)))
    return t


def _vtt_grammar(text: str) -> None:
    """A strict check of the WebVTT cue grammar our files use."""
    assert text.startswith("WEBVTT\n\n")
    time = r"\d{2,}:\d{2}:\d{2}\.\d{3}"
    for block in text.strip().split("\n\n")[1:]:
        lines = block.split("\n")
        if "-->" not in lines[0]:
            lines = lines[1:]  # cue identifier
        assert re.fullmatch(rf"{time} --> {time}", lines[0]), lines[0]
        for line in lines[1:]:
            assert line and "-->" not in line and "<" not in line
            assert not re.search(r"&(?!amp;|lt;|gt;)", line)


@pytest.mark.parametrize("rules", [SubtitleRules(), SubtitleRules(max_chars_per_line=20,
                                                                  max_lines=1)])
def test_built_cues_keep_the_rules_and_parse_independently(rules: SubtitleRules) -> None:
    t = _transcript()
    track = build_cues(t, rules)
    assert len(track.cues) > 3
    for problems in track_problems(track):
        assert not problems & {CueProblem.LINE_TOO_LONG, CueProblem.TOO_MANY_LINES,
                               CueProblem.OVERLAP, CueProblem.GAP_TOO_SMALL,
                               CueProblem.TOO_LONG}
    words = " ".join(c.text.replace("\n", " ") for c in track.cues).split()
    assert words == TEXT.split()

    parsed_srt = list(srt.parse(export_subtitles(track, "srt")))
    assert len(parsed_srt) == len(track.cues)
    for cue, item in zip(track.cues, parsed_srt, strict=True):
        assert item.start.total_seconds() == pytest.approx(cue.start, abs=0.001)
        assert item.end.total_seconds() == pytest.approx(cue.end, abs=0.001)
        assert item.content == cue.text.replace("-->", "->")
        assert all(len(line) <= rules.max_chars_per_line for line in item.content.split("\n"))
        assert len(item.content.split("\n")) <= rules.max_lines

    vtt_text = export_subtitles(track, "vtt")
    _vtt_grammar(vtt_text)
    parsed_vtt = webvtt.from_buffer(stdio.StringIO(vtt_text))
    assert len(parsed_vtt) == len(track.cues)
    for cue, item in zip(track.cues, parsed_vtt, strict=True):
        assert item.start_in_seconds + item.start_time.milliseconds / 1000 == pytest.approx(
            cue.start, abs=0.001)
        assert len(item.text.split("\n")) <= rules.max_lines
    assert "&amp;" in vtt_text and "&lt;incredulity&gt;" in vtt_text


def _segments(*parts: tuple[str, float, float]) -> Transcript:
    t = Transcript(duration=parts[-1][2] + 1)
    sid = next(iter(add_speaker(t, "Narrator").speakers))
    for k, (text, start, end) in enumerate(parts):
        t.segments.append(Segment(SegmentId(f"s{k}"), start, end, sid,  # type: ignore[arg-type]
                                  text, words_from_text(text, start, end)))
    return t


def test_a_segment_end_leaves_no_one_word_orphan_cue() -> None:
    # one word more than a full cue, 0.38 s a word, then a pause: the old builder left
    # "be" alone for 0.38 s
    text = ("and mr john guess would have been at leisure to consider how much there might "
            "be")
    end = 0.38 * len(text.split())
    track = build_cues(_segments((text, 0.0, end), ("Next one starts here.", end + 1, end + 3)))
    first = [c for c in track.cues if c.start < end]
    assert len(first) == 2 and all(len(c.text.split()) >= 5 for c in first)
    assert " ".join(c.text.replace("\n", " ") for c in first) == text
    assert not any(track_problems(track))


def test_cues_break_at_sentence_ends_rather_than_run_into_the_next_sentence() -> None:
    text = ("A famished Fox saw some clusters of ripe black grapes hanging from a trellised "
            "vine. She resorted to all her tricks to get at them, but wearied herself in "
            "vain, for she could not reach them.")
    track = build_cues(_segments((text, 0.0, 12.0)))
    cues = [c.text.replace("\n", " ") for c in track.cues]
    assert " ".join(cues) == text
    assert any(c.endswith("vine.") for c in cues)  # not "... vine. She resorted ..."
    for c in cues:
        assert re.fullmatch(r"[^.]*\.?", c), c
    assert not any(problems - {CueProblem.TOO_SHORT} for problems in track_problems(track))


def test_each_cue_reports_the_rules_it_breaks() -> None:
    rules = SubtitleRules(max_chars_per_line=10, max_lines=1, min_duration=1.0,
                          max_duration=3.0, min_gap=0.2, max_chars_per_second=5)
    track = cues_from([(0.0, 0.5, "far too long a line\nand two"), (0.6, 5.0, "ok"),
                       (4.0, 6.0, "")])
    track.rules = rules
    assert cue_problems(track, 0) == {CueProblem.LINE_TOO_LONG, CueProblem.TOO_MANY_LINES,
                                      CueProblem.TOO_SHORT, CueProblem.GAP_TOO_SMALL,
                                      CueProblem.TOO_FAST}
    assert cue_problems(track, 1) == {CueProblem.TOO_LONG, CueProblem.OVERLAP}
    assert CueProblem.EMPTY in cue_problems(track, 2)


def test_cue_edits_never_overlap() -> None:
    track = cues_from([(0.0, 2.0, "one two"), (3.0, 4.0, "three")])
    changes = split_cue(track, track.cues[0].id, 3)
    assert [c.text for c in track.cues] == ["one", "two", "three"] and changes.added
    assert track.cues[0].end == track.cues[1].start
    merge_cues(track, track.cues[0].id)
    assert [c.text for c in track.cues] == ["one two", "three"]
    with pytest.raises(EditError, match="overlap"):
        add_cue(track, 1.5, 3.5, "x")
    add_cue(track, 2.2, 2.8, "between")
    retime_cue(track, track.cues[1].id, 1.0, 3.5)  # clamped to the neighbours
    assert (track.cues[1].start, track.cues[1].end) == (2.0, 3.0)
    with pytest.raises(EditError):
        retime_cue(track, track.cues[1].id, 1.0, 3.5, clamp=False)
    delete_cue(track, track.cues[1].id)
    assert all(a.end <= b.start for a, b in zip(track.cues, track.cues[1:], strict=False))


OVERLAPPING_SRT = (
    "1\n00:00:01,000 --> 00:00:04,000\nHello there my friend\n\n"
    "2\n00:00:03,000 --> 00:00:06,000\nthis overlaps the first cue\n\n"
    "3\n00:00:05,500 --> 00:00:07,000\nand so does this\n\n"
)


def test_overlapping_cues_are_trimmed_and_reported(tmp_path) -> None:
    path = tmp_path / "overlap.srt"
    path.write_text(OVERLAPPING_SRT, encoding="utf-8")
    notes: list[str] = []
    track, _ = load_subtitles(path, warn=notes.append)
    assert [(c.start, c.end) for c in track.cues] == [(1.0, 3.0), (3.0, 5.5), (5.5, 7.0)]
    assert notes == [f"{path}: 2 overlapping cues were trimmed"]
    with pytest.warns(SubtitleWarning, match=r"overlap\.srt: 2 overlapping cues were trimmed"):
        transcript_from_subtitles(path)
    (tmp_path / "fine.srt").write_text(OVERLAPPING_SRT.split("2\n")[0], encoding="utf-8")
    load_subtitles(tmp_path / "fine.srt", warn=notes.append)
    assert len(notes) == 1  # nothing trimmed, nothing said


def test_vtt_voices_stay_with_their_cues_when_the_file_is_not_in_time_order(tmp_path) -> None:
    path = tmp_path / "unsorted.vtt"
    path.write_text("WEBVTT\n\n00:00:05.000 --> 00:00:07.000\n<v Bob>I am Bob, second in time."
                    "\n\n00:00:01.000 --> 00:00:03.000\n<v Alice>I am Alice, first in time.\n",
                    encoding="utf-8")
    track, voices = load_subtitles(path)
    assert [(c.text, v) for c, v in zip(track.cues, voices, strict=True)] == [
        ("I am Alice, first in time.", "Alice"), ("I am Bob, second in time.", "Bob")]
    t = transcript_from_subtitles(path)
    names = {s.id: s.name for s in t.speakers}
    assert [(names[s.speaker_id], s.text.split(",")[0]) for s in t.segments] == [
        ("Alice", "I am Alice"), ("Bob", "I am Bob")]


def test_import_srt_and_vtt_with_voices(tmp_path) -> None:
    (tmp_path / "a.srt").write_text(
        "1\n00:00:01,000 --> 00:00:02,500\nHello <i>there</i>\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nSecond line\nwraps\n\n", encoding="utf-8")
    t = transcript_from_subtitles(tmp_path / "a.srt")
    assert [s.text for s in t.segments] == ["Hello there", "Second line wraps"]
    assert t.segments[0].start == 1.0 and t.segments[0].words_stale
    (tmp_path / "b.vtt").write_text(
        "WEBVTT\n\nNOTE a comment\n\n00:01.000 --> 00:02.000\n<v Alice>Hi &amp; bye\n\n"
        "c2\n00:00:02.500 --> 00:00:03.000 align:start\n<v Bob>Yo\n", encoding="utf-8")
    t = transcript_from_subtitles(tmp_path / "b.vtt")
    assert [s.text for s in t.segments] == ["Hi & bye", "Yo"]
    assert [s.name for s in t.speakers] == ["Alice", "Bob"]
    track, _ = load_subtitles(tmp_path / "b.vtt")
    assert len(track.cues) == 2
    (tmp_path / "bad.vtt").write_text("hello", encoding="utf-8")
    with pytest.raises(Exception, match=r"bad\.vtt"):
        transcript_from_subtitles(tmp_path / "bad.vtt")
