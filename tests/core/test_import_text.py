"""Import plain text, Markdown and HTML manuscripts written in the tests."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from studio.core.importing import detect_format, import_source
from studio.core.importing.base import LONG_PARAGRAPH, SkippedPart
from studio.core.importing.safety import decode_text
from studio.core.importing.txt import heading_label
from studio.core.model import Project
from tests.core.factories import import_error


def _chapters(project: Project) -> list[tuple[str, list[str]]]:
    return [(c.title, [b.text for b in c.blocks]) for c in project.chapters]


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------------------------------------
# Plain text

GUTENBERG = """\
The Project Gutenberg eBook of The Lantern Keeper

This ebook is for the use of anyone anywhere in the United States and
most other parts of the world at no cost and with almost no restrictions
whatsoever.

Title: The Lantern Keeper

Author: Mary Ellen Fairweather

Release date: January 1, 2020 [eBook #99999]

Language: English

*** START OF THE PROJECT GUTENBERG EBOOK THE LANTERN KEEPER ***




THE LANTERN KEEPER

by Mary Ellen Fairweather


{contents}


CHAPTER I.

THE STORM

The wind rose in the night and shook the tower until the old glass
rattled in its frames. Nobody in the village slept.[1]

“Is it the lamp?” asked Tom. “Will it hold? Tell me, Mr. Hale, will
it hold?”

“It will hold,” said the keeper, “as it always has.”


CHAPTER II.

THE SHIP

At dawn a ship came round the point,[2] her sails torn, her masts
bare. The keeper watched her from the gallery.

*** END OF THE PROJECT GUTENBERG EBOOK THE LANTERN KEEPER ***

Updated editions will replace the previous one. The Project Gutenberg
Literary Archive Foundation asks that you read the licence.
"""

CONTENTS_WRAPPED = """\
CONTENTS

 CHAPTER I.     The Storm
 CHAPTER II.    The Ship"""

CONTENTS_SPACED = """\
CONTENTS


CHAPTER I. The Storm

CHAPTER II. The Ship"""


@pytest.mark.parametrize("contents", [CONTENTS_WRAPPED, CONTENTS_SPACED], ids=["wrapped", "spaced"])
def test_gutenberg_text(tmp_path: Path, contents: str) -> None:
    path = _write(tmp_path / "pg99999.txt", GUTENBERG.format(contents=contents))
    project, report = import_source(path)
    assert (report.title, report.author) == ("The Lantern Keeper", "Mary Ellen Fairweather")
    assert (project.title, project.author) == ("The Lantern Keeper", "Mary Ellen Fairweather")
    assert report.format == "txt"
    assert _chapters(project) == [
        (
            "CHAPTER I: THE STORM",
            [
                "The wind rose in the night and shook the tower until the old glass rattled in "
                "its frames. Nobody in the village slept.",
                "“Is it the lamp?” asked Tom. “Will it hold? Tell me, Mr. Hale, will it hold?”",
                "“It will hold,” said the keeper, “as it always has.”",
            ],
        ),
        (
            "CHAPTER II: THE SHIP",
            [
                "At dawn a ship came round the point, her sails torn, her masts bare. The keeper "
                "watched her from the gallery.",
            ],
        ),
    ]
    reasons = [s.reason for s in report.skipped]
    assert reasons.count("boilerplate") == 1
    assert "table of contents" in reasons
    assert SkippedPart("THE LANTERN KEEPER / by Mary Ellen Fairweather", "title page") in (
        report.skipped
    )
    assert not report.warnings  # no empty chapter from the contents list
    text = " ".join(b.text for c in project.chapters for b in c.blocks)
    assert "Gutenberg" not in text and "licence" not in text


def test_subtitle_on_the_next_line_joins_the_label(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "novel.txt",
        "CHAPTER IV.\nTHE RETURN\n\nHe came back in spring.\n\n"
        "Chapter 5\n\nThey talked all night.\n",
    )
    project, _ = import_source(path)
    assert _chapters(project) == [
        ("CHAPTER IV. THE RETURN", ["He came back in spring."]),
        ("Chapter 5", ["They talked all night."]),
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Chapter 1", "Chapter 1"),
        ("CHAPTER IV.", "CHAPTER IV"),
        ("Chapter Three: The Storm", "Chapter Three: The Storm"),
        ("Book II — Exile", "Book II — Exile"),
        ("Prologue", "Prologue"),
        ("XII.", "XII"),
        ("Chapter 1 was the best part of the book, she thought.", None),
        ("Part of the problem was the weather.", None),
        ("I", "I"),
        ("It was late.", None),
    ],
)
def test_heading_label(line: str, expected: str | None) -> None:
    assert heading_label(line) == expected


def test_one_paragraph_per_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "notes.txt",
        "The first paragraph is a single line of text.\n"
        "“A second one,” she said, “with dialogue.”\n"
        "A third one ends the file.\n",
    )
    project, report = import_source(path)
    assert _chapters(project) == [
        (
            "notes",
            [
                "The first paragraph is a single line of text.",
                "“A second one,” she said, “with dialogue.”",
                "A third one ends the file.",
            ],
        )
    ]
    assert report.title == "Notes"


def test_title_and_author_arguments_win(tmp_path: Path) -> None:
    path = _write(tmp_path / "pg.txt", GUTENBERG.format(contents=CONTENTS_SPACED))
    project, report = import_source(path, title="My Title", author="Me")
    assert (project.title, project.author, report.title, report.author) == (
        "My Title",
        "Me",
        "My Title",
        "Me",
    )


CP1252_TEXT = (
    "Café crème, naïve fiancée à la fenêtre. “Déjà vu,” he said – and left.\n\n"
    "Deuxième paragraphe très élégant, où l’on mange des crêpes en février.\n"
)


def test_cp1252_text_is_decoded_and_reported(tmp_path: Path) -> None:
    path = _write(tmp_path / "french.txt", CP1252_TEXT, encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the fixture really is not UTF-8
    project, report = import_source(path)
    assert [b.text for b in project.chapters[0].blocks] == [
        "Café crème, naïve fiancée à la fenêtre. “Déjà vu,” he said – and left.",
        "Deuxième paragraphe très élégant, où l’on mange des crêpes en février.",
    ]
    encoding = [w for w in report.warnings if w.kind == "source"]
    assert len(encoding) == 1
    assert "not UTF-8" in encoding[0].message and "accented" in encoding[0].message


DECODING_SAMPLES = {
    "english-cp1252": ("“Hello,” she said – it’s fine… I’ll go. The café was shut.\n", "cp1252"),
    "french-cp1252": (CP1252_TEXT, "cp1252"),
    "french-latin1": ("Il était une fois une élève très sérieuse et gâtée.\n", "latin-1"),
    "german-cp1252": ("Müller aß Brötchen und Äpfel. Grüße aus Köln – „schön“.\n", "cp1252"),
    "spanish-cp1252": ("¿Dónde está el niño? —preguntó la señora. ¡Qué día!\n", "cp1252"),
    "polish-cp1250": ("Zażółć gęślą jaźń. Pójdźże, kiń tę chmurność w głąb flaszy!\n", "cp1250"),
    "czech-cp1250": ("Příliš žluťoučký kůň úpěl ďábelské ódy. Čeština je krásná.\n", "cp1250"),
    "russian-cp1251": ("Съешь же ещё этих мягких французских булок, да выпей чаю.\n", "cp1251"),
    "greek-cp1253": ("Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Καλημέρα κόσμε!\n", "cp1253"),
    "lithuanian-cp1257": (
        "Įlinkdama fechtuotojo špaga sublykčiojusi pragręžė apvalų arbūzą. Labas rytas!\n",
        "cp1257",
    ),
}


@pytest.mark.parametrize("sample", DECODING_SAMPLES)
def test_legacy_encodings_are_read_right(sample: str) -> None:
    text, encoding = DECODING_SAMPLES[sample]
    decoded, warning = decode_text(text.encode(encoding), f"{sample}.txt")
    assert decoded == text
    assert warning is not None and warning.startswith("not UTF-8: read as ")


def test_utf8_with_bom_has_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "Zoë’s text.\n".encode())
    project, report = import_source(path)
    assert project.chapters[0].blocks[0].text == "Zoë’s text."
    assert not report.warnings



PNG_HEADER = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000100000001008060000001ff3ff61")


@pytest.mark.parametrize(
    "data",
    [
        PNG_HEADER + bytes(200),
        random.Random(7).randbytes(4096) + b"\x00\x00",
        b"Mostly text\x00with a NUL in the middle.\n" * 20,
    ],
    ids=["png", "random", "nul"],
)
def test_binary_named_txt(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "story.txt"
    path.write_bytes(data)
    assert "binary" in import_error(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert "empty" in import_error(path)


def test_whitespace_only_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "blank.txt", "\n   \n\t\n\n")
    assert "no text to narrate" in import_error(path)


def test_file_over_the_text_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # txt.read passes its own imported MAX_TEXT_BYTES to read_file: patch that name.
    monkeypatch.setattr("studio.core.importing.txt.MAX_TEXT_BYTES", 1024 * 1024)
    path = _write(tmp_path / "huge.txt", ("All work and no play. " * 64 + "\n\n") * 2300)
    assert path.stat().st_size > 3 * 1024 * 1024
    message = import_error(path)
    assert "3 MB" in message and "largest" in message and "1 MB" in message


def test_unknown_extension(tmp_path: Path) -> None:
    path = _write(tmp_path / "novel.odt", "Hello, this is not a format we read.")
    message = import_error(path)
    assert "unknown manuscript type '.odt'" in message and ".txt" in message


def test_rtf_is_an_unknown_type_not_broken_json(tmp_path: Path) -> None:
    path = _write(tmp_path / "novel.rtf", "{\\rtf1\\ansi Hello}")
    assert "unknown manuscript type '.rtf'" in import_error(path)


def test_unknown_extension_is_sniffed_when_the_content_is_clear(tmp_path: Path) -> None:
    path = _write(tmp_path / "page.data", "<!DOCTYPE html><html><body><p>Hi.</p></body></html>")
    assert detect_format(path) == "html"


def test_missing_file(tmp_path: Path) -> None:
    assert "not found" in import_error(tmp_path / "nowhere.txt")


# ---------------------------------------------------------------------------------------------
# Markdown

MARKDOWN = """\
# The Quiet Harbour

## The Arrival

The boat came in at *dawn*, and the **whole** town watched.[^1]

“Who is it?” asked _Mary_. “Who comes so `early`?”

- a list item
- another one

## The Departure

She left with the tide.[^tide] Nobody saw her go.

[^1]: Dawn in late autumn, around seven.
[^tide]: The ebb tide, which runs out fast.
"""


def test_markdown_title_chapters_footnotes_and_emphasis(tmp_path: Path) -> None:
    project, report = import_source(_write(tmp_path / "harbour.md", MARKDOWN))
    assert report.format == "markdown"
    assert project.title == "The Quiet Harbour"
    assert _chapters(project) == [
        (
            "The Arrival",
            [
                "The boat came in at dawn, and the whole town watched.",
                "“Who is it?” asked Mary. “Who comes so early?”",
                "a list item",
                "another one",
            ],
        ),
        ("The Departure", ["She left with the tide. Nobody saw her go."]),
    ]
    text = " ".join(b.text for c in project.chapters for b in c.blocks)
    for marker in ("*", "_", "`", "[^", "autumn", "ebb"):
        assert marker not in text


# ---------------------------------------------------------------------------------------------
# HTML

HTML_PAGE = """\
<!DOCTYPE html>
<html lang="en-GB">
<head>
  <title>The Orchard | My Blog</title>
  <meta name="author" content="Anne Example">
  <style>p { color: red; } h2::before { content: "Chapter"; }</style>
  <script>var chapter = "Chapter Script";</script>
</head>
<body>
  <nav><ul><li><a href="/">Home</a></li><li><a href="/about">About me</a></li></ul></nav>
  <header><h1>The Orchard</h1></header>
  <main>
    <h2>Spring</h2>
    <p>The trees blossomed<sup>1</sup> early that year.</p>
    <p>“Look,” said Ann, “the bees are back.”</p>
    <h2>Autumn</h2>
    <p>The apples fell<sup><a href="#fn2">2</a></sup> in the night.</p>
    <ol class="footnotes"><li id="fn1">Blossom came in March.</li>
      <li id="fn2">A storm, probably.</li></ol>
  </main>
  <footer><p>© 2024 Anne Example · <a href="/privacy">Privacy</a></p></footer>
  <script>document.write("tracking pixel");</script>
</body>
</html>
"""


def test_html_page_chapters_without_page_chrome(tmp_path: Path) -> None:
    project, report = import_source(_write(tmp_path / "orchard.html", HTML_PAGE))
    assert report.format == "html"
    assert (project.title, project.author, project.language) == (
        "The Orchard",
        "Anne Example",
        "en",
    )
    assert _chapters(project) == [
        (
            "Spring",
            ["The trees blossomed early that year.", "“Look,” said Ann, “the bees are back.”"],
        ),
        ("Autumn", ["The apples fell in the night."]),
    ]
    text = " ".join(b.text for c in project.chapters for b in c.blocks)
    for chrome in ("Home", "About", "color", "Script", "tracking", "©", "Privacy", "March"):
        assert chrome not in text


def test_html_without_headings_uses_chapter_lines(tmp_path: Path) -> None:
    html = (
        "<html><body><p>Chapter 1</p><p>It was cold.</p><p>Chapter 2</p><p>It was warm.</p>"
        "</body></html>"
    )
    project, _ = import_source(_write(tmp_path / "plain.htm", html))
    assert _chapters(project) == [("Chapter 1", ["It was cold."]), ("Chapter 2", ["It was warm."])]


# ---------------------------------------------------------------------------------------------
# Long paragraphs

SENTENCES = [
    f"Sentence number {i} tells of the long voyage, the wind in the rigging and the salt on "
    f"the deck, and of Mr. Hale who kept the log."
    for i in range(1, 16)
]
LONG = " ".join(SENTENCES)


def _long_book(tmp_path: Path) -> Path:
    return _write(tmp_path / "voyage.txt", f"Chapter 1\n\nShort opening.\n\n{LONG}\n")


def test_long_paragraph_gets_a_warning_with_a_split(tmp_path: Path) -> None:
    assert len(LONG) > 1500
    project, report = import_source(_long_book(tmp_path))
    assert [b.text for b in project.chapters[0].blocks] == ["Short opening.", LONG]
    warnings = [w for w in report.warnings if w.kind == "long-paragraph"]
    assert len(warnings) == 1
    warning = warnings[0]
    assert (warning.chapter, warning.paragraph) == (0, 1)
    assert f"{len(LONG)} characters" in warning.message
    assert len(warning.split) >= 2
    assert all(len(piece) <= LONG_PARAGRAPH for piece in warning.split)
    assert " ".join(warning.split) == LONG
    # Pieces end at sentence ends, never inside "Mr. Hale".
    assert all(piece.endswith("the log.") for piece in warning.split)
    assert report.splits_applied == 0


def test_split_long_applies_the_offered_split(tmp_path: Path) -> None:
    _, offered = import_source(_long_book(tmp_path))
    split = next(w.split for w in offered.warnings if w.kind == "long-paragraph")
    project, report = import_source(_long_book(tmp_path), split_long=True)
    assert [b.text for b in project.chapters[0].blocks] == ["Short opening.", *split]
    assert report.splits_applied == 1
    assert not [w for w in report.warnings if w.kind == "long-paragraph"]
    assert report.paragraphs == 1 + len(split)


def test_long_sentence_without_boundaries_is_split_at_clauses(tmp_path: Path) -> None:
    clause = "and the sea rolled on under the grey sky while the gulls cried, "
    text = ("Then " + clause * 20).rstrip(", ") + "."
    assert len(text) > LONG_PARAGRAPH
    project, report = import_source(_write(tmp_path / "one.txt", text), split_long=True)
    pieces = [b.text for b in project.chapters[0].blocks]
    assert len(pieces) >= 2 and all(len(p) <= LONG_PARAGRAPH for p in pieces)
    assert " ".join(pieces) == text
    assert report.splits_applied == 1


# ---------------------------------------------------------------------------------------------
# Project Gutenberg layouts found in review

_TITLES = ["The Arrival", "A Stranger at the Inn", "Letters from London", "Mr. Pike Explains"]
_ROMANS = ["I", "II", "III", "IV"]


def _gutenberg(contents: str, heading: str) -> str:
    chapters = "".join(
        heading.format(roman=r, title=t)
        + f'Text of chapter {r.lower()}. "Is it you?" she asked.\n\nSecond paragraph.\n\n\n'
        for r, t in zip(_ROMANS, _TITLES, strict=True)
    )
    return (
        "*** START OF THE PROJECT GUTENBERG EBOOK THE SILENT HARBOUR ***\n\n\n"
        "THE SILENT HARBOUR\n\nBy Mary Example\n\n\nCONTENTS\n\n"
        + contents + "\n\n\n" + chapters
        + "*** END OF THE PROJECT GUTENBERG EBOOK THE SILENT HARBOUR ***\nLicence text.\n"
    )


@pytest.mark.parametrize(
    ("contents_sep", "heading", "expected"),
    [
        # contents hard-wrapped into one block; label and title on separate paragraphs
        ("\n", "CHAPTER {roman}.\n\n{title}\n\n", "CHAPTER {roman}: {title}"),
        # contents one entry per paragraph; label and title on one line
        ("\n\n", "CHAPTER {roman}. {title}\n\n", "CHAPTER {roman}. {title}"),
    ],
)
def test_gutenberg_contents_and_headings(
    tmp_path: Path, contents_sep: str, heading: str, expected: str
) -> None:
    contents = contents_sep.join(
        f" CHAPTER {r}.     {t}" for r, t in zip(_ROMANS, _TITLES, strict=True)
    )
    path = _write(tmp_path / "harbour.txt", _gutenberg(contents, heading))
    project, report = import_source(path)
    assert project.title == "The Silent Harbour" and project.author == "Mary Example"
    assert [c.title for c in project.chapters] == [
        expected.format(roman=r, title=t) for r, t in zip(_ROMANS, _TITLES, strict=True)
    ]
    for chapter, roman in zip(project.chapters, _ROMANS, strict=True):
        assert [b.text for b in chapter.blocks] == [
            f'Text of chapter {roman.lower()}. "Is it you?" she asked.',
            "Second paragraph.",
        ]
    reasons = [s.reason for s in report.skipped]
    assert "table of contents" in reasons and "title page" in reasons
    assert all("Licence" not in b.text for _, b in project.iter_blocks())


def test_footnote_bodies_and_spaced_markers(tmp_path: Path) -> None:
    text = (
        "Chapter 1\n\nThe bay [1] was quiet that night.[2]\n\n"
        "[1] The bay was then called Pike's Reach.\n\n"
        "[Footnote 2: A later hand adds this.]\n\nThe end.\n"
    )
    project, report = import_source(_write(tmp_path / "notes.txt", text))
    assert [b.text for b in project.chapters[0].blocks] == [
        "The bay was quiet that night.",
        "The end.",
    ]
    assert any(s.reason == "footnotes" for s in report.skipped)


@pytest.mark.parametrize("word", ["Vivid.", "Did.", "Mild.", "Civil.", "Mix"])
def test_words_made_of_roman_letters_are_not_headings(word: str) -> None:
    assert heading_label(word) is None


@pytest.mark.parametrize("numeral", ["IV.", "XII", "I.", "MCMXIV"])
def test_roman_numerals_alone_are_headings(numeral: str) -> None:
    assert heading_label(numeral) == numeral.rstrip(".")


def test_html_declaring_entities_is_refused(tmp_path: Path) -> None:
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(8))
    path = _write(
        tmp_path / "lol.html",
        f"<!DOCTYPE html [{lol}]><html><body><h1>T</h1><p>&l7;</p></body></html>",
    )
    assert "declares XML entities" in import_error(path)


def test_html_double_line_breaks_separate_paragraphs(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "old.html",
        "<html><body><h2>One</h2><div>A verse line,<br>and its pair.<br><br>"
        "Next paragraph.<br/> <br/>Last one.</div>"
        "<h2>Two</h2><p>Plain.</p></body></html>",
    )
    project, _ = import_source(path)
    assert [b.text for b in project.chapters[0].blocks] == [
        "A verse line, and its pair.",
        "Next paragraph.",
        "Last one.",
    ]


def test_break_tags_survive_markdown_and_html(tmp_path: Path) -> None:
    md = _write(
        tmp_path / "b.md",
        '# Book\n\n## One\n\nHe paused. <break time="1.5s" /> Then on.\n\n'
        '## Two\n\nShort <break time="700ms"/> pause.\n',
    )
    project, _ = import_source(md)
    assert [c.blocks[0].text for c in project.chapters] == [
        'He paused. <break time="1.5s" /> Then on.',
        'Short <break time="0.7s" /> pause.',
    ]
