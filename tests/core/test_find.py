"""Find and replace: worked examples and hypothesis properties (tags are never touched)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.core import model as m
from studio.core.find import (
    TAG_RE,
    FindError,
    apply_texts,
    compile_query,
    find_in_text,
    find_matches,
    plan_replace_all,
    replace_at,
    replace_in_text,
)
from studio.core.model import BlockId, ChapterId, break_tag, speakable_text
from tests.core.factories import make_project

PAUSE = break_tag(1.0)  # <break time="1.0s" />


def spans(text: str, query: str, **opts: bool) -> list[str]:
    return [text[a:b] for a, b in find_in_text(text, query, **opts)]


# -- matching ------------------------------------------------------------------------------


def test_matching_ignores_case_unless_asked() -> None:
    text = "The fox and the Fox; FOXES."
    assert spans(text, "fox") == ["fox", "Fox", "FOX"]
    assert spans(text, "Fox", case_sensitive=True) == ["Fox"]


def test_whole_word_keeps_only_words_even_with_punctuation() -> None:
    text = "The fox, the foxes and the fox. Mr. Fox met Mr.Smith"
    assert find_in_text(text, "fox", whole_word=True) == [(4, 7), (27, 30), (36, 39)]
    assert spans(text, "Mr.", whole_word=True, case_sensitive=True) == ["Mr."]
    assert spans(text, "fox", whole_word=False) == ["fox", "fox", "fox", "Fox"]


def test_query_is_literal_unless_regex() -> None:
    text = "Costs $5 (or 5.0) each. 570"
    assert spans(text, "5.0") == ["5.0"]
    assert spans(text, "(or") == ["(or"]
    assert spans(text, "5.0", regex=True) == ["5.0", "570"]
    assert spans(text, r"\d+", regex=True, whole_word=True) == ["5", "5", "0", "570"]


def test_never_matches_inside_a_break_tag() -> None:
    text = f"Wait {PAUSE} here; the time is 1.0s. {PAUSE} Break!"
    assert spans(text, "time") == ["time"]
    assert spans(text, "break") == ["Break"]
    assert spans(text, "1.0s") == ["1.0s"]
    assert spans(text, "<") == [] and spans(text, '"') == [] and spans(text, "/>") == []
    for a, b in find_in_text(text, "e", regex=False):
        assert all(b <= t.start() or a >= t.end() for t in TAG_RE.finditer(text))


def test_a_match_never_spans_a_tag() -> None:
    text = f"one {PAUSE} two"
    assert find_in_text(text, "one.*two", regex=True) == []
    assert find_in_text(text, "one  two") == []
    # greedy patterns stop at the tag instead of swallowing it
    assert spans(text, r"o\w*.*", regex=True) == ["one ", "o"]


def test_empty_query_and_empty_regex_matches_find_nothing() -> None:
    assert find_in_text("anything", "") == []
    assert find_in_text("anything", "x*", regex=True) == []
    assert replace_in_text("anything", "", "z") == ("anything", 0)


@pytest.mark.parametrize("query", ["a(b", "[unclosed", "*", "(?<=a+)b"])
def test_an_invalid_regex_raises_a_clear_studio_error(query: str) -> None:
    with pytest.raises(FindError, match="Invalid regular expression"):
        compile_query(query, regex=True)
    with pytest.raises(FindError):
        find_matches(make_project(), query, regex=True, whole_word=True)
    assert compile_query(query, regex=False) is not None  # literal text is always fine


def test_the_error_names_the_position() -> None:
    with pytest.raises(FindError) as info:
        compile_query("ab(c", regex=True)
    assert str(info.value) == (
        "Invalid regular expression: missing ), unterminated subpattern at position 3")


def test_global_flags_work_with_whole_word() -> None:
    assert spans("X xy x", "(?i)x", regex=True, whole_word=True, case_sensitive=True) == [
        "X", "x"]


# -- replacing -----------------------------------------------------------------------------


def test_replace_in_text_counts_and_keeps_tags() -> None:
    text = f"The time {PAUSE} is time."
    assert replace_in_text(text, "time", "hour") == (f"The hour {PAUSE} is hour.", 2)
    assert replace_in_text(text, "break", "pause") == (text, 0)


def test_replacement_is_literal_unless_regex() -> None:
    assert replace_in_text("Smith, John", r"(\w+), (\w+)", r"\2 \1") == ("Smith, John", 0)
    assert replace_in_text("Smith, John", r"(\w+), (\w+)", r"\2 \1", regex=True) == (
        "John Smith", 1)
    assert replace_in_text("a b", "a", r"\1") == (r"\1 b", 1)
    assert replace_in_text("mr smith", r"(?P<t>mr) ", r"\g<t>. ", regex=True) == (
        "mr. smith", 1)


def test_a_bad_group_reference_raises_find_error() -> None:
    with pytest.raises(FindError, match="Invalid replacement"):
        replace_in_text("abc", "b", r"\3", regex=True)


def test_replace_at_replaces_only_that_match() -> None:
    text = "cat cat cat"
    assert replace_at(text, 4, "cat", "dog") == "cat dog cat"
    with pytest.raises(FindError, match="no longer there"):
        replace_at(text, 5, "cat", "dog")


# -- across the book ---------------------------------------------------------------------


def book() -> m.Project:
    project = make_project(chapters=3, blocks=3)
    project.block(BlockId("c0b1")).text = f"The fox ran. {PAUSE} The Fox hid."
    project.block(BlockId("c1b0")).text = "No animals here."
    project.block(BlockId("c2b2")).text = "A fox, locked away."
    project.block(BlockId("c2b2")).locked = True
    return project


def test_find_matches_in_reading_order_with_context() -> None:
    project = book()
    matches = find_matches(project, "fox")
    assert [(x.chapter_id, x.block_id, x.start, x.end) for x in matches] == [
        (ChapterId("c0"), BlockId("c0b1"), 4, 7),
        (ChapterId("c0"), BlockId("c0b1"), 39, 42),
        (ChapterId("c2"), BlockId("c2b2"), 2, 5),
    ]
    first, second, third = matches
    assert (first.before, first.matched, first.after) == ("The ", "fox", " ran. The Fox hid.")
    assert second.snippet == "The fox ran. The Fox hid."  # the tag shows as a space
    assert (second.chapter_index, second.block_index) == (0, 1)
    assert third.locked and not first.locked
    assert project.block(first.block_id).text[first.start:first.end] == "fox"


def test_context_of_a_long_paragraph_is_cut_at_words() -> None:
    project = make_project(chapters=1, blocks=1)
    words = " ".join(f"word{i}" for i in range(60))
    project.chapters[0].blocks[0].text = words
    (hit,) = find_matches(project, "word30", whole_word=True)
    assert hit.before.startswith("…word") and hit.after.endswith("…")
    assert hit.before.endswith("word29 ") and hit.after.startswith(" word31")
    assert len(hit.snippet) < 130
    assert all(w.startswith("word") for w in hit.snippet.strip("…").split())


def test_plan_replace_all_skips_locked_paragraphs() -> None:
    project = book()
    plan = plan_replace_all(project, "fox", "hare")
    assert dict(plan.texts) == {BlockId("c0b1"): f"The hare ran. {PAUSE} The hare hid."}
    assert (plan.replacements, plan.paragraphs) == (2, 1)
    assert (plan.locked_paragraphs, plan.locked_matches) == (1, 1)
    assert project.block(BlockId("c0b1")).text.startswith("The fox")  # planning changes nothing


def test_plan_ignores_replacements_that_change_nothing() -> None:
    project = book()
    assert plan_replace_all(project, "fox", "fox", case_sensitive=True).paragraphs == 0
    assert plan_replace_all(project, "", "x").paragraphs == 0


def test_apply_texts_edits_and_reports_the_paragraphs() -> None:
    project = book()
    plan = plan_replace_all(project, "paragraph", "Section")
    assert plan.paragraphs == 6 and plan.locked_paragraphs == 0  # c2b2 has no "paragraph"
    changes = apply_texts(project, plan.texts)
    assert changes.blocks == frozenset(plan.texts)
    assert project.block(BlockId("c2b0")).text == "Section 1 of chapter 3."
    assert not find_matches(project, "paragraph")


def test_apply_texts_refuses_a_locked_paragraph() -> None:
    project = book()
    with pytest.raises(m.EditError):
        apply_texts(project, {BlockId("c2b2"): "changed"})
    assert project.block(BlockId("c2b2")).text == "A fox, locked away."


# -- properties ------------------------------------------------------------------------------

_words = st.sampled_from(
    ["time", "break", "1.0s", "s", "the", "Time", "fox", "<", "/>", '"', "=", "a", "e", "."])
_pieces = st.one_of(_words, st.sampled_from([PAUSE, break_tag(0.5), break_tag(3)]))
_texts = st.lists(_pieces, min_size=0, max_size=12).map(" ".join)
_queries = st.one_of(_words, st.text(alphabet="aeimst .<>/=\"1", min_size=1, max_size=4))
_replacements = st.text(alphabet="xyz <>/=\"", max_size=4).filter(lambda r: "<break" not in r)


@settings(max_examples=300, deadline=None)
@given(text=_texts, query=_queries, replacement=_replacements, case=st.booleans(),
       word=st.booleans())
def test_replacing_never_alters_a_tag(text: str, query: str, replacement: str, case: bool,
                                      word: bool) -> None:
    new, count = replace_in_text(text, query, replacement, case_sensitive=case,
                                 whole_word=word)
    assert TAG_RE.findall(new) == TAG_RE.findall(text)
    assert count == len(find_in_text(text, query, case_sensitive=case, whole_word=word))


@settings(max_examples=300, deadline=None)
@given(text=_texts, query=_queries, case=st.booleans(), word=st.booleans())
def test_matches_lie_outside_tags_and_equal_the_query(text: str, query: str, case: bool,
                                                      word: bool) -> None:
    tags = [t.span() for t in TAG_RE.finditer(text)]
    for a, b in find_in_text(text, query, case_sensitive=case, whole_word=word):
        assert all(b <= ta or a >= tb for ta, tb in tags)
        assert text[a:b] == query if case else text[a:b].lower() == query.lower()


@settings(max_examples=200, deadline=None)
@given(text=_texts, query=_queries)
def test_replacing_a_match_by_itself_changes_nothing(text: str, query: str) -> None:
    assert replace_in_text(text, query, query, case_sensitive=True)[0] == text


@settings(max_examples=200, deadline=None)
@given(text=_texts, query=st.sampled_from(["fox", "time", "the"]))
def test_after_replace_all_the_spoken_text_has_the_replacement(text: str, query: str) -> None:
    new, count = replace_in_text(text, query, "QQ", case_sensitive=True, whole_word=True)
    assert not find_in_text(new, query, case_sensitive=True, whole_word=True)
    assert len(find_in_text(new, "QQ", case_sensitive=True)) == count
    assert speakable_text(new).count("QQ") == count
