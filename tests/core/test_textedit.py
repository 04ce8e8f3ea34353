"""Paragraph text edits and offset maps (no Qt): worked examples and hypothesis properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.core import model as m
from studio.core.errors import EditError
from studio.core.model import BREAK_RE, BlockId, Voice, VoiceId, VoiceSpan
from studio.core.textedit import (
    CHIP_ICON,
    MAX_BREAKS_PER_PARAGRAPH,
    NBSP,
    break_warnings,
    check_spans,
    chip_label,
    normalized_offset,
    paragraph_display,
    replace_range,
    seconds_label,
    set_text_and_spans,
    speakable_to_raw,
    split_spans,
    with_break,
    with_break_seconds,
    with_voice,
)
from tests.core.factories import make_project

FOX = VoiceId("v-fox")
CROW = VoiceId("v-crow")
TAG = '<break time="1.5s" />'

# ---------------------------------------------------------------------------------------------
# Strategies: paragraphs of words, white space and break tags


_words = st.text(alphabet="abcxyz.,’é", min_size=1, max_size=6)
_space = st.sampled_from([" ", "  ", "\n", " \t ", "\u00a0"])
_tag = st.builds(lambda s, gap: f'<break{gap}time="{s}s"{gap}/>',
                 st.sampled_from(["0.1", "0.5", "1", "1.25", "3.0", "5.0"]),
                 st.sampled_from([" ", "  "]))
_raw = st.lists(st.one_of(_words, _space, _tag), max_size=14).map("".join)


def _tag_spans(raw: str) -> list[tuple[int, int]]:
    return [mt.span() for mt in BREAK_RE.finditer(raw)]


def _inside_tag(raw: str, offset: int) -> tuple[int, int] | None:
    return next(((a, b) for a, b in _tag_spans(raw) if a <= offset < b), None)


# ---------------------------------------------------------------------------------------------
# What a paragraph shows


def test_seconds_label_and_chip_label() -> None:
    assert [seconds_label(s) for s in (1, 1.5, 1.25, 3.0, 0.1)] == [
        "1.0", "1.5", "1.25", "3.0", "0.1"]
    assert chip_label(1.5) == f"{CHIP_ICON}1.5{NBSP}s{NBSP}"


def test_plain_text_shows_as_itself() -> None:
    shown = paragraph_display("No breaks here.")
    assert shown.text == "No breaks here." and shown.chips == ()
    assert shown.raw_to_shown == tuple(range(len("No breaks here.") + 1))


def test_a_tag_shows_as_a_chip_and_maps_to_its_start() -> None:
    raw = f"Wait {TAG} now."
    shown = paragraph_display(raw)
    (chip,) = shown.chips
    assert (chip.raw_start, chip.raw_end, chip.seconds) == (5, 5 + len(TAG), 1.5)
    assert shown.text == f"Wait {chip_label(1.5)} now."
    assert shown.text[chip.start:chip.end] == chip_label(1.5)
    assert {shown.shown(i) for i in range(chip.raw_start, chip.raw_end)} == {chip.start}
    assert shown.text[shown.shown(raw.index("now")):].startswith("now")
    assert shown.shown(-4) == 0 and shown.shown(10_000) == len(shown.text)  # clamped


@given(_raw)
def test_raw_to_shown_keeps_every_character_outside_tags(raw: str) -> None:
    shown = paragraph_display(raw)
    mapping = shown.raw_to_shown
    assert len(mapping) == len(raw) + 1
    assert mapping[0] == 0 and mapping[-1] == len(shown.text)
    assert all(a <= b for a, b in itertools.pairwise(mapping))
    chips = iter(shown.chips)
    for offset, char in enumerate(raw):
        tag = _inside_tag(raw, offset)
        if tag is None:
            assert shown.text[mapping[offset]] == char
            assert mapping[offset + 1] == mapping[offset] + 1
        elif offset == tag[0]:
            chip = next(chips)
            assert (chip.raw_start, chip.raw_end) == tag
            assert chip.start == mapping[offset]
            assert shown.text[chip.start:chip.end] == chip_label(chip.seconds)
            assert mapping[tag[1]] == chip.end  # the text after the tag follows the chip
        else:
            assert mapping[offset] == mapping[tag[0]]
    assert next(chips, None) is None


def test_speakable_offsets_point_back_into_the_raw_text() -> None:
    raw = f"  At last {TAG} she  turned {TAG}"
    spoken = m.speakable_text(raw)
    assert spoken == "At last she turned"
    to_raw = speakable_to_raw(raw)
    assert raw[to_raw[spoken.index("she")]:].startswith("she")
    assert raw[to_raw[spoken.index("turned")]:].startswith("turned")
    assert speakable_to_raw("plain  text") == list(range(len("plain  text")))


@given(_raw)
def test_speakable_to_raw_aligns_with_speakable_text(raw: str) -> None:
    spoken = m.speakable_text(raw)
    to_raw = speakable_to_raw(raw)
    assert len(to_raw) == len(spoken)
    assert all(a < b for a, b in itertools.pairwise(to_raw))
    for char, offset in zip(spoken, to_raw, strict=True):
        if char.isspace():  # white space, or the space a tag leaves
            assert raw[offset].isspace() or BREAK_RE.match(raw, offset)
        else:
            assert raw[offset] == char and _inside_tag(raw, offset) is None


def test_typed_offsets_map_to_collapsed_text() -> None:
    typed = "At  last\n she"
    assert normalized_offset(typed, typed.index("she")) == "At last she".index("she")
    assert normalized_offset("  lead", 2) == 0
    assert normalized_offset("end  ", 5) == 3  # trailing white space is dropped
    assert normalized_offset("a  b", 2) == 2  # inside the gap: before the next word


@given(st.lists(st.one_of(_words, _space), max_size=12).map("".join), st.data())
def test_normalized_offset_keeps_the_character(text: str, data: st.DataObject) -> None:
    stored = " ".join(text.split())
    offset = data.draw(st.integers(0, len(text)))
    at = normalized_offset(text, offset)
    assert 0 <= at <= len(stored)
    assert normalized_offset(text, len(text)) == len(stored)
    if offset < len(text) and not text[offset].isspace():
        assert stored[at] == text[offset]
    if stored == text:
        assert at == offset


def test_break_warnings() -> None:
    assert break_warnings("plain") == ()
    assert break_warnings(" ".join([TAG] * MAX_BREAKS_PER_PARAGRAPH)) == ()
    (many,) = break_warnings(" ".join([TAG] * (MAX_BREAKS_PER_PARAGRAPH + 1)))
    assert "4 breaks" in many
    (outside,) = break_warnings('Wait <break time="5.0s" />')
    assert "5.0 s" in outside and "clamped" in outside
    assert len(break_warnings(TAG, v3=True)) == 1 and "v3" in break_warnings(TAG, True)[0]


# ---------------------------------------------------------------------------------------------
# Edits that keep spans on their words


def test_replace_range_moves_and_drops_spans() -> None:
    text = "one two three four"
    spans = (VoiceSpan(4, 7, FOX), VoiceSpan(8, 13, CROW))  # "two", "three"
    new, moved = replace_range(text, spans, 0, 3, "uno dos")
    assert new == "uno dos two three four"
    assert [new[s.start:s.end] for s in moved] == ["two", "three"]
    assert replace_range(text, spans, 4, 7, "")[1] == (VoiceSpan(5, 10, CROW),)
    # A replacement inside a span grows the span with it.
    assert replace_range(text, spans, 9, 12, "HRE")[1][1] == VoiceSpan(8, 13, CROW)


@given(_raw, st.data())
def test_replace_range_keeps_spans_outside_the_range_on_their_text(
        raw: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(raw)))
    end = data.draw(st.integers(start, len(raw)))
    a = data.draw(st.integers(0, len(raw)))
    b = data.draw(st.integers(a, len(raw)))
    new = data.draw(st.text(alphabet="xy ", max_size=5))
    spans = (VoiceSpan(a, b, FOX),) if a < b else ()
    text, moved = replace_range(raw, spans, start, end, new)
    assert text == raw[:start] + new + raw[end:]
    # Text inserted at a span's start joins the span; otherwise spans clear of the range keep
    # their words.
    if spans and (b <= start or (a >= end and a > start)):
        assert [text[s.start:s.end] for s in moved] == [raw[a:b]]
    assert all(0 <= s.start < s.end <= len(text) for s in moved)


def test_with_break_pads_the_tag_with_single_spaces() -> None:
    text = "one two"
    new, spans, at = with_break(text, (VoiceSpan(4, 7, FOX),), 3, 1.0)
    assert new == f"one {m.break_tag(1.0)} two"
    assert new[at:].startswith("<break") and new[spans[0].start:spans[0].end] == "two"
    assert with_break("end", (), 3, 9.0)[0] == f"end {m.break_tag(3.0)}"  # clamped
    assert with_break("start", (), 0, 1.0)[:3:2] == (f"{m.break_tag(1.0)} start", 0)


def test_with_break_seconds_changes_only_the_tag() -> None:
    text = f"one {TAG} two"
    new, spans = with_break_seconds(text, (VoiceSpan(len(text) - 3, len(text), FOX),), 4, 0.5)
    assert new == f"one {m.break_tag(0.5)} two" and new[spans[0].start:] == "two"
    with pytest.raises(EditError):
        with_break_seconds(text, (), 0, 0.5)


def test_with_voice_trims_widens_and_joins() -> None:
    text = "one two three four"
    spans = (VoiceSpan(4, 7, FOX),)
    assert with_voice(text, spans, 3, 14, CROW) == (VoiceSpan(4, 13, CROW),)
    assert with_voice(text, (VoiceSpan(0, 13, FOX),), 4, 7, None) == (
        VoiceSpan(0, 3, FOX), VoiceSpan(8, 13, FOX))
    assert with_voice(text, (VoiceSpan(0, 3, CROW), VoiceSpan(3, 4, CROW)), 4, 7, CROW) == (
        VoiceSpan(0, 7, CROW),)
    tagged = f"one {TAG} two"
    assert with_voice(tagged, (), 6, 12, FOX) == (VoiceSpan(4, 4 + len(TAG), FOX),)
    with pytest.raises(EditError):
        with_voice(text, spans, 3, 4, FOX)  # only white space


@given(_raw, st.data())
def test_with_voice_never_overlaps_or_cuts_a_tag(raw: str, data: st.DataObject) -> None:
    spans: tuple[VoiceSpan, ...] = ()
    for voice in (FOX, CROW, None, FOX):
        start = data.draw(st.integers(0, len(raw)))
        end = data.draw(st.integers(start, len(raw)))
        try:
            spans = with_voice(raw, spans, start, end, voice)
        except EditError:
            assert not raw[start:end].strip()
            continue
    ends = [0] + [s.end for s in spans]
    for span, previous_end in zip(spans, ends, strict=False):
        assert previous_end <= span.start < span.end <= len(raw)
        for edge in (span.start, span.end):
            tag = _inside_tag(raw, edge)
            assert tag is None or tag[0] == edge  # at a tag's start, never inside it


def test_split_spans_cuts_at_the_gap() -> None:
    text = "one two three"
    assert split_spans(text, (VoiceSpan(0, 13, FOX),), 7) == (
        VoiceSpan(0, 7, FOX), VoiceSpan(8, 13, FOX))
    assert split_spans(text, (VoiceSpan(0, 3, FOX),), 7) == (VoiceSpan(0, 3, FOX),)


# ---------------------------------------------------------------------------------------------
# Setting text and spans on a project


def _project() -> m.Project:
    project = make_project(chapters=1, blocks=2)
    project.voices[FOX] = Voice(FOX, "Vixen")
    return project


def test_set_text_and_spans_checks_before_it_changes() -> None:
    project = _project()
    block_id = BlockId("c0b0")
    text = f"The fox {TAG} ran."
    changes = set_text_and_spans(project, block_id, text, (VoiceSpan(4, 7, FOX),))
    assert block_id in changes.blocks
    assert project.block(block_id).text == text
    assert project.block(block_id).spans == (VoiceSpan(4, 7, FOX),)
    for bad in ((VoiceSpan(0, 99, FOX),), (VoiceSpan(0, 3, CROW),),
                (VoiceSpan(0, 5, FOX), VoiceSpan(4, 7, FOX))):
        with pytest.raises(EditError):
            set_text_and_spans(project, block_id, "Other text.", bad)
        assert project.block(block_id).text == text  # refused: nothing changed
    project.block(block_id).locked = True
    with pytest.raises(EditError, match="locked"):
        set_text_and_spans(project, block_id, "Other text.", ())


def test_check_spans_accepts_disjoint_spans_in_any_order() -> None:
    check_spans(_project(), "one two", (VoiceSpan(4, 7, FOX), VoiceSpan(0, 3, FOX)))
