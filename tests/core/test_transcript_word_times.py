"""The word-by-time index used for follow-along highlighting."""

from __future__ import annotations

from studio.core.transcript.model import (
    Segment,
    SegmentId,
    Speaker,
    SpeakerId,
    Transcript,
    Word,
    WordTimes,
    WordType,
)


def _transcript() -> Transcript:
    s = SpeakerId("a")
    words = (Word("Hello", 1.0, 1.4, char_start=0, char_end=5),
             Word(" ", 1.4, 1.6, WordType.SPACING, char_start=5, char_end=6),
             Word("there", 1.6, 2.0, char_start=6, char_end=11))
    return Transcript([Speaker(s, "A", "#4e79a7")], [
        Segment(SegmentId("one"), 1.0, 2.5, s, "Hello there", words),
        Segment(SegmentId("two"), 4.0, 5.0, s, "Bye", (Word("Bye", 4.1, 4.6, char_end=3),)),
    ])


def test_word_at_follows_words_and_skips_spacing_and_gaps() -> None:
    index = WordTimes(_transcript())
    assert len(index) == 3
    assert index.at(0.5) is None
    assert index.at(1.0) == (0, 0)
    assert index.at(1.5) == (0, 0)  # the pause after "Hello" (a spacing token) keeps it
    assert index.at(1.6) == (0, 2)
    assert index.at(2.2) == (0, 2)  # after the last word, still inside the segment
    assert index.at(3.0) is None  # between segments
    assert index.at(4.05) is None
    assert index.at(4.2) == (1, 0)
    assert index.at(4.9) == (1, 0)
    assert index.at(5.5) is None


def test_empty_transcript_has_no_words() -> None:
    assert WordTimes(Transcript()).at(1.0) is None
