"""Edits return what changed; a take goes stale exactly when what the engine is sent changes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.core import model as m
from studio.core.errors import EditError
from studio.core.model import BlockId, BlockStatus, ChapterId, VoiceId, VoiceSpan
from tests.core.factories import make_project, make_take


def test_new_block_is_unconverted_and_a_take_converts_it() -> None:
    project = make_project()
    block = project.block(BlockId("c0b0"))
    assert m.block_status(project, block) is BlockStatus.UNCONVERTED
    changes = m.add_take(project, make_take(project, block.id))
    assert changes.blocks == {"c0b0"} and len(changes.takes) == 1
    assert m.block_status(project, block) is BlockStatus.CONVERTED


@pytest.mark.parametrize(
    ("edit", "stale"),
    [
        (lambda p: m.set_block_text(p, BlockId("c0b0"), "Different words."), True),
        (lambda p: m.update_voice(p, VoiceId("v-narrator"), stability=0.9), True),
        (lambda p: m.update_voice(p, VoiceId("v-narrator"), speed=1.1), True),
        (lambda p: m.set_project_meta(p, model_id="eleven_flash_v2_5"), True),
        (lambda p: m.set_dictionaries(p, [m.DictionaryRef(m.DictionaryId("d"), "Names")]), True),
        # Volume is applied after generation and the alias is a label: neither is sent.
        (lambda p: m.update_voice(p, VoiceId("v-narrator"), volume_db=-3.0), False),
        (lambda p: m.update_voice(p, VoiceId("v-narrator"), alias="Reader"), False),
        (lambda p: m.rename_chapter(p, ChapterId("c0"), "Renamed"), False),
        (lambda p: m.set_block_locked(p, BlockId("c0b0"), True), False),
    ],
)
def test_staleness_follows_engine_inputs(edit, stale: bool) -> None:  # type: ignore[no-untyped-def]
    project = make_project()
    m.add_take(project, make_take(project, BlockId("c0b0")))
    changes = edit(project)
    assert not changes.empty
    status = m.block_status(project, project.block(BlockId("c0b0")))
    assert status is (BlockStatus.STALE if stale else BlockStatus.CONVERTED)


def test_voice_change_marks_only_that_voices_paragraphs_stale() -> None:
    project = make_project()
    other = m.Voice(VoiceId("v2"), "Holmes", engine_voice_id="en-gb")
    m.add_voice(project, other)
    m.set_block_voice(project, BlockId("c0b1"), other.id)
    for _, block in project.iter_blocks():
        m.add_take(project, make_take(project, block.id))
    m.update_voice(project, other.id, style=0.4)
    stale = [b.id for _, b in project.iter_blocks()
             if m.block_status(project, b) is BlockStatus.STALE]
    assert stale == ["c0b1"]


def test_locked_paragraph_refuses_edits() -> None:
    project = make_project()
    m.set_block_locked(project, BlockId("c0b0"), True)
    with pytest.raises(EditError, match="locked"):
        m.set_block_text(project, BlockId("c0b0"), "x")
    with pytest.raises(EditError, match="locked"):
        m.merge_blocks(project, BlockId("c0b0"))
    assert project.block(BlockId("c0b0")).text == "Paragraph 1 of chapter 1."


def test_split_and_merge_keep_text_and_spans() -> None:
    project = make_project()
    m.add_voice(project, m.Voice(VoiceId("v2"), "Second"))
    block_id = BlockId("c0b0")
    text = "First sentence here. Second one."
    m.set_block_text(project, block_id, text)
    m.set_block_spans(project, block_id, [VoiceSpan(21, 27, VoiceId("v2"))])
    changes = m.split_block(project, block_id, 20)
    assert changes.structure
    chapter = project.chapter(ChapterId("c0"))
    assert [b.text for b in chapter.blocks[:2]] == ["First sentence here.", "Second one."]
    assert chapter.blocks[1].spans == (VoiceSpan(0, 6, VoiceId("v2")),)
    assert chapter.blocks[1].text[0:6] == "Second"
    changes = m.merge_blocks(project, block_id)
    assert chapter.blocks[0].text == text
    assert chapter.blocks[0].spans == (VoiceSpan(21, 27, VoiceId("v2")),)
    assert len(chapter.blocks) == 3 and len(changes.removed_blocks) == 1


def test_spans_must_not_overlap_or_leave_the_text() -> None:
    project = make_project()
    with pytest.raises(EditError):
        m.set_block_spans(project, BlockId("c0b0"), [VoiceSpan(0, 500, VoiceId("v-narrator"))])
    with pytest.raises(EditError):
        m.set_block_spans(
            project,
            BlockId("c0b0"),
            [VoiceSpan(0, 5, VoiceId("v-narrator")), VoiceSpan(3, 8, VoiceId("v-narrator"))],
        )


def test_chapter_edits_and_lookup_after_reorder() -> None:
    project = make_project(chapters=3)
    m.move_chapter(project, ChapterId("c2"), 0)
    assert [c.id for c in project.chapters] == ["c2", "c0", "c1"]
    assert project.locate(BlockId("c2b1"))[0].id == "c2"
    m.remove_chapter(project, ChapterId("c0"))
    with pytest.raises(EditError):
        project.block(BlockId("c0b0"))
    changes = m.add_chapter(project, "New", ["One.", "Two."], index=1)
    assert project.chapters[1].title == "New" and len(changes.blocks) == 2


def test_takes_are_history_and_deleting_current_clears_it() -> None:
    project = make_project()
    first = make_take(project, BlockId("c0b0"))
    second = make_take(project, BlockId("c0b0"))
    m.add_take(project, first)
    m.add_take(project, second)
    block = project.block(BlockId("c0b0"))
    assert [t.id for t in block.takes] == [first.id, second.id]
    assert block.current_take is second
    m.set_current_take(project, block.id, first.id)
    assert block.current_take is first
    m.delete_take(project, block.id, first.id)
    assert block.current_take is None and [t.id for t in block.takes] == [second.id]


def test_remove_voice_in_use_is_refused() -> None:
    project = make_project()
    m.set_block_voice(project, BlockId("c0b0"), VoiceId("v-narrator"))
    with pytest.raises(EditError, match="reads 1 paragraph"):
        m.remove_voice(project, VoiceId("v-narrator"))


def test_project_info_counts_and_credit_estimate() -> None:
    project = make_project(chapters=1, blocks=2)
    m.set_block_text(project, BlockId("c0b0"), 'Hello <break time="1.0s" /> world.')
    m.add_take(project, make_take(project, BlockId("c0b1")))
    info = m.project_info(project)
    chapter = info["chapters"][0]
    assert chapter["paragraphs"] == 2 and chapter["converted"] == 1
    assert chapter["unconverted"] == 1
    assert info["characters_to_generate"] == len("Hello world.")
    assert info["estimated_credits"] == len("Hello world.")
    m.set_project_meta(project, model_id="eleven_flash_v2_5")
    info = m.project_info(project)
    # A model change makes the converted paragraph stale too; flash costs half.
    total = len("Hello world.") + len("Paragraph 2 of chapter 1.")
    assert info["characters_to_generate"] == total
    assert info["estimated_credits"] == (total + 1) // 2


def test_changes_merge() -> None:
    a = m.Changes(blocks=frozenset({"x"}))
    b = m.Changes(structure=True, blocks=frozenset({"y"}))
    merged = a | b
    assert merged.structure and merged.blocks == {"x", "y"}
    assert m.Changes().empty and not merged.empty


def test_model_change_does_not_stale_offline_narration() -> None:
    project = make_project()
    m.update_voice(project, VoiceId("v-narrator"), engine="offline", engine_voice_id="en-us")
    m.add_take(project, make_take(project, BlockId("c0b0")))
    m.set_project_meta(project, model_id="eleven_flash_v2_5")
    assert m.block_status(project, project.block(BlockId("c0b0"))) is BlockStatus.CONVERTED


def test_editing_text_moves_voice_spans_with_their_words() -> None:
    project = make_project()
    block_id = BlockId("c0b0")
    m.set_block_text(project, block_id, "Then Holmes said nothing at all.")
    m.set_block_spans(project, block_id, [VoiceSpan(5, 11, VoiceId("v-narrator"))])
    block = project.block(block_id)
    m.set_block_text(project, block_id, "And then Holmes said nothing at all.")  # typed before
    assert block.text[block.spans[0].start:block.spans[0].end] == "Holmes"
    m.set_block_text(project, block_id, "And then Sherlock said nothing at all.")  # the words
    assert block.text[block.spans[0].start:block.spans[0].end] == "Sherlock"
    m.set_block_text(project, block_id, "And then Sherlock said nothing.")  # after: unchanged
    assert block.text[block.spans[0].start:block.spans[0].end] == "Sherlock"
    m.set_block_text(project, block_id, "And then said nothing.")  # its words deleted
    assert block.spans == ()


@given(
    text=st.text(alphabet="abc .", min_size=6, max_size=40),
    data=st.data(),
)
def test_spans_keep_their_text_when_editing_elsewhere(text: str, data) -> None:  # type: ignore[no-untyped-def]
    start = data.draw(st.integers(1, len(text) - 3))
    end = data.draw(st.integers(start + 1, len(text) - 1))
    span = VoiceSpan(start, end, VoiceId("v"))
    insert = data.draw(st.text(alphabet="#%", min_size=1, max_size=5))  # never in the text
    before = data.draw(st.integers(0, start - 1))
    new = text[:before] + insert + text[before:]
    (moved,) = m.shift_spans([span], text, new)
    assert new[moved.start:moved.end] == text[start:end]
    after = data.draw(st.integers(end + 1, len(text)))
    new = text[:after] + insert + text[after:]
    assert m.shift_spans([span], text, new) == (span,)
