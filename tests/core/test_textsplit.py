"""Sentence and paragraph splitting: worked examples and hypothesis properties."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from studio.core.textsplit import (
    normalize_space,
    sentence_spans,
    split_long,
    split_paragraphs,
    split_sentences,
)

# ---------------------------------------------------------------------------------------------
# Worked examples


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Holmes arrived. He sat down.", ["Mr. Holmes arrived.", "He sat down."]),
        (
            "Dr. Watson and Mrs. Hudson met St. Clair. It rained.",
            ["Dr. Watson and Mrs. Hudson met St. Clair.", "It rained."],
        ),
        (
            "J. R. R. Tolkien wrote it. It sold well.",
            ["J. R. R. Tolkien wrote it.", "It sold well."],
        ),
        ("See e.g. the note. Done.", ["See e.g. the note.", "Done."]),
        (
            "“Stop. Wait,” he said. Then she left.",
            ["“Stop. Wait,” he said.", "Then she left."],
        ),
        ('He said "Go. Now." She went.', ['He said "Go. Now."', "She went."]),
        ("“Who?” she asked. Nobody knew.", ["“Who?” she asked.", "Nobody knew."]),
        ("He paused... Then he spoke.", ["He paused...", "Then he spoke."]),
        ("Wait… Then go.", ["Wait…", "Then go."]),
        ("What?! No way. Really?", ["What?!", "No way.", "Really?"]),
        ("It was 3.5 m long. Big.", ["It was 3.5 m long.", "Big."]),
        ("(He left.) She stayed.", ["(He left.)", "She stayed."]),
        ("It cost five pounds. 2 people paid.", ["It cost five pounds.", "2 people paid."]),
        ("no capital. after this one", ["no capital. after this one"]),
        ("  Leading and trailing.  ", ["Leading and trailing."]),
        ("", []),
        ("   \n\t ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_quotes_can_be_ignored() -> None:
    text = "“Stop. Wait,” he said."
    assert split_sentences(text) == [text]
    assert [text[a:b] for a, b in sentence_spans(text, respect_quotes=False)] == [
        "“Stop.",
        "Wait,” he said.",
    ]


def test_split_long_keeps_short_text_whole() -> None:
    assert split_long("  One. Two.  ", 100) == ["One. Two."]
    assert split_long("   ", 10) == []


def test_split_long_packs_sentences_up_to_the_limit() -> None:
    text = "One one. Two two. Three three. Four four."
    assert split_long(text, 20) == ["One one. Two two.", "Three three.", "Four four."]


def test_split_long_keeps_a_quotation_whole_when_it_fits() -> None:
    text = "He spoke. “Stop. Wait. Listen to me,” he said. She left."
    assert split_long(text, 40) == [
        "He spoke.",
        "“Stop. Wait. Listen to me,” he said.",
        "She left.",
    ]


def test_split_long_breaks_an_overlong_sentence_at_clause_marks() -> None:
    text = "First clause here; second clause there, and a third one at the end."
    pieces = split_long(text, 30)
    assert pieces == ["First clause here;", "second clause there,", "and a third one at the end."]


def test_split_long_cut_after_a_mark_never_exceeds_the_limit() -> None:
    # The colon is the 10th character: cutting after it would give limit + 1 characters.
    assert split_long("aaaa bbbb: cccc", 9) == ["aaaa", "bbbb:", "cccc"]


def test_split_long_keeps_a_closing_quote_with_its_comma() -> None:
    assert split_long("Word “Hi,” Word", 10) == ["Word “Hi,”", "Word"]
    # Comma and quote would make 11 characters: cut at the space before them instead.
    assert split_long("aaaa bbbb,” cccc", 10) == ["aaaa", "bbbb,”", "cccc"]


def test_split_long_cuts_a_word_longer_than_the_limit() -> None:
    assert split_long("abcdefghijkl mn", 5) == ["abcde", "fghij", "kl mn"]


def test_split_long_rejects_a_non_positive_limit() -> None:
    with pytest.raises(ValueError, match="limit"):
        split_long("text", 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One.\n\nTwo.", ["One.", "Two."]),
        (
            "A hard-\nwrapped line\nis joined.\n\nNext.",
            ["A hard- wrapped line is joined.", "Next."],
        ),
        ("First line.\nSecond line.\nThird line.", ["First line.", "Second line.", "Third line."]),
        (
            "Para one line one\nline two.\n\n    Indented new para\n  another.",
            [
                "Para one line one line two.",
                "Indented new para",
                "another.",
            ],
        ),
        ("Windows\r\nline.\r\n\r\nNext.\r\n", ["Windows line.", "Next."]),
        ("Spaced\u00a0out\u00a0words and soft\u00adhyphen.", ["Spaced out words and softhyphen."]),
        ("\n\n\n", []),
    ],
)
def test_split_paragraphs(text: str, expected: list[str]) -> None:
    assert split_paragraphs(text) == expected


def test_normalize_space() -> None:
    assert normalize_space("  a \t b\n\nc\u00a0d  ") == "a b c d"
    assert normalize_space("co\u00adop\u00adera\u00adtion") == "cooperation"


# ---------------------------------------------------------------------------------------------
# Properties

# Pieces of prose that exercise the rules, mixed with arbitrary unicode.
_TOKENS = st.sampled_from(
    [
        "a",
        "B",
        "word",
        "The",
        "Holmes",
        "Mr.",
        "Dr.",
        "e.g.",
        "J.",
        "U.S.",
        "3.5",
        "1",
        " ",
        " ",
        " ",
        "  ",
        "\n",
        "\n\n",
        "\t",
        "\u00a0",
        "\u00ad",
        "\u2060",
        ".",
        ". ",
        "!",
        "?",
        "?!",
        "…",
        "...",
        ",",
        ";",
        ":",
        "—",
        "–",
        "-",
        '"',
        "'",
        "“",
        "”",
        "‘",
        "’",
        "«",
        "»",
        "(",
        ")",
        "[",
        "]",
        "é",
        "Ö",
        "ß",
        "漢字",
        "😀",
    ]
)
TEXT = st.one_of(
    st.lists(_TOKENS, max_size=150).map("".join),
    st.text(max_size=300),
)

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_exact_pieces(text: str, spans: list[tuple[int, int]]) -> None:
    """Check spans are in order, apart, trimmed, separated only by white space and cover
    all non-white-space text."""
    pos = 0
    for start, end in spans:
        assert pos <= start < end <= len(text)
        assert text[pos:start].strip() == ""  # only white space between pieces
        assert not text[start].isspace() and not text[end - 1].isspace()
        pos = end
    assert text[pos:].strip() == ""


@SETTINGS
@given(TEXT)
@example("“Stop. Wait,” he said. Then she left.")
@example('"unclosed. Quote. Here')
@example("”Closing first. Then opening “ never closed. Ok.")
def test_sentence_spans_are_exact_in_order_and_cover_the_text(text: str) -> None:
    for respect_quotes in (True, False):
        _check_exact_pieces(text, sentence_spans(text, respect_quotes=respect_quotes))


def _slice_positions(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Find each piece in ``text`` after the previous one; fail if one is not there."""
    spans = []
    pos = 0
    for piece in pieces:
        start = text.find(piece, pos)
        assert start >= 0, f"{piece!r} is not a slice of the text after {pos}"
        spans.append((start, start + len(piece)))
        pos = start + len(piece)
    return spans


@SETTINGS
@given(TEXT, st.integers(min_value=1, max_value=120))
@example("aaaa bbbb: cccc", 9)
@example("Word “Hi,” Word", 10)
@example("aaaa bbbb,” cccc", 10)
@example("x" * 50, 7)
@example("“" + "Stop. " * 30 + "” he said. Then she left.", 40)
def test_split_long_pieces_fit_and_are_exact_slices(text: str, limit: int) -> None:
    pieces = split_long(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    spans = _slice_positions(text, pieces)
    # Pieces are exact, trimmed slices, in order, separated by white space only, and
    # together hold every non-white-space character.
    _check_exact_pieces(text, spans)
    if len(text.strip()) <= limit:
        assert pieces == ([text.strip()] if text.strip() else [])


@SETTINGS
@given(
    st.lists(
        st.sampled_from(["Word", "word", "Mr.", "it", "“Hi,”", "she", "said"]),
        min_size=1,
        max_size=40,
    ).map(" ".join),
    st.integers(min_value=10, max_value=60),
)
def test_split_long_of_single_spaced_text_joins_back(text: str, limit: int) -> None:
    # With single spaces between words, joining the pieces with a space gives the text back.
    assert " ".join(split_long(text, limit)) == text


_DROPPED = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))


def _visible(text: str) -> str:
    """Return the non-white-space characters of ``text``, minus those the splitter drops
    (soft hyphen, zero-width characters); non-breaking spaces count as white space."""
    return "".join(text.translate(_DROPPED).split())


@SETTINGS
@given(TEXT)
@example("line one\nline two\n\n\n  indented\r\nwindows\r\rold mac")
def test_split_paragraphs_never_loses_a_character(text: str) -> None:
    paragraphs = split_paragraphs(text)
    assert "".join(_visible(p) for p in paragraphs) == _visible(text)
    for paragraph in paragraphs:
        assert paragraph and paragraph == normalize_space(paragraph)
        assert "\n" not in paragraph
