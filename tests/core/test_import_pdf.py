"""Import PDF manuscripts built in code with fpdf2."""

from __future__ import annotations

import textwrap
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fpdf import FPDF

from studio.core.errors import TextImportError
from studio.core.importing import import_source, read_source
from studio.core.importing import pdf as pdf_reader
from studio.core.importing.base import SkippedPart

BOOK = "THE TEST BOOK"
SENTENCES = [
    "The wind came down from the hills and rattled every shutter in the village.",
    "Nobody in the house could sleep, so they sat together by the kitchen fire.",
    "Grandmother told the old story about the miller and his three clever daughters.",
    "Outside, the river was rising, and the bridge creaked under the weight of the water.",
    "By midnight the rain had softened into a fine and patient drizzle.",
    "Somewhere a dog barked twice and then thought better of it.",
]


def _sentences(seed: int, count: int) -> str:
    return " ".join(SENTENCES[(seed + i) % len(SENTENCES)] for i in range(count))


@dataclass
class _Para:
    lines: list[str]
    expected: str = ""
    pages: set[int] = field(default_factory=set)  # pages it was printed on

    def __post_init__(self) -> None:
        self.expected = self.expected or " ".join(self.lines)


@dataclass
class _Chapter:
    heading: list[str]  # lines of the heading
    paras: list[_Para] = field(default_factory=list)
    big: bool = True  # heading set larger than the body text


def _wrapped(seed: int, count: int) -> _Para:
    return _Para(textwrap.wrap(_sentences(seed, count), 55))


def _chapters() -> list[_Chapter]:
    hyphenated = _Para(
        [
            "The narra-",
            "tion of that night was passed down in the family, and",
            "every child learnt the Anglo-",
            "Saxon names of the seven fields by heart.",
        ],
        expected="The narration of that night was passed down in the family, and every child "
        "learnt the Anglo-Saxon names of the seven fields by heart.",
    )
    return [
        _Chapter(["Chapter 1"], [_wrapped(0, 5), hyphenated, _wrapped(2, 12), _wrapped(4, 9)]),
        _Chapter(
            ["Chapter 2", "The Storm"],
            [
                _wrapped(1, 6),
                _Para(['"Is it over?" she asked.']),
                _Para(['"Not yet."']),
                _wrapped(3, 4),
            ],
        ),
        _Chapter(["CHAPTER III"], [_wrapped(5, 3), _wrapped(0, 2)], big=False),
    ]


def _expected_titles() -> list[str]:
    return ["Chapter 1", "Chapter 2: The Storm", "CHAPTER III"]


def _make_book(
    path: Path,
    *,
    style: str = "indent",
    outline: bool = False,
    title_page: bool = True,
    footer: str = "plain",
    headings: list[list[str]] | None = None,
    metadata: bool = True,
) -> list[_Chapter]:
    """Write a book with running headers and page numbers; return what it contains."""
    chapters = _chapters()
    if headings:
        for chapter, heading in zip(chapters, headings, strict=True):
            chapter.heading, chapter.big = heading, True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fpdf2 warns that the A5 size changed in 2.8.5
        pdf = FPDF(format="A5", unit="mm")
    pdf.set_auto_page_break(False)
    if metadata:
        pdf.set_author("Jane Writer")
        pdf.set_title("The Test Book")
    left, top, bottom, line_h = 20.0, 24.0, 188.0, 5.5
    y = top
    if title_page:
        pdf.add_page()
        if outline:
            pdf.set_y(40)
            pdf.start_section("Title Page")
        pdf.set_font("Helvetica", "B", 24)
        pdf.set_xy(left, 60)
        pdf.cell(108, 12, BOOK, align="C")
        pdf.set_font("Helvetica", "", 12)
        pdf.set_xy(left, 80)
        pdf.cell(108, 6, "by Jane Writer", align="C")

    def new_page() -> None:
        nonlocal y
        pdf.add_page()
        pdf.set_font("Helvetica", "", 8)
        pdf.set_xy(left, 10)
        pdf.cell(108, 4, BOOK, align="C")
        n = pdf.page_no()
        number = {"plain": str(n), "dashes": f"- {n} -", "page": f"Page {n}"}[footer]
        pdf.set_xy(left, 195)
        pdf.cell(108, 4, number, align="C")
        y = top

    for chapter in chapters:
        new_page()
        y += 6
        pdf.set_y(y)
        if outline:
            pdf.start_section(": ".join(chapter.heading))
        for text in chapter.heading:
            pdf.set_font("Helvetica", "B", 18 if chapter.big else 10)
            pdf.set_xy(left, y)
            pdf.cell(108, 9, text)
            y += 10 if chapter.big else line_h
        y += 6
        for n, para in enumerate(chapter.paras):
            if outline and n == 1:
                pdf.set_y(y)
                pdf.start_section("A scene inside", level=1)  # nested: not a chapter
            if style == "spacing" and n:
                y += 3.5
            for i, text in enumerate(para.lines):
                if y > bottom:
                    new_page()
                indent = 7.0 if style == "indent" and i == 0 else 0.0
                pdf.set_font("Helvetica", "", 10)
                pdf.set_xy(left + indent, y)
                pdf.cell(108 - indent, line_h, text)
                para.pages.add(pdf.page_no())
                y += line_h
    pdf.output(str(path))
    return chapters


def _paragraphs(project: object) -> list[list[str]]:
    return [[b.text for b in c.blocks] for c in project.chapters]  # type: ignore[attr-defined]


def _check_book(path: Path, chapters: list[_Chapter]) -> None:
    project, report = import_source(path)
    assert [c.title for c in project.chapters] == _expected_titles()
    assert _paragraphs(project) == [[p.expected for p in c.paras] for c in chapters]
    everything = " ".join(p for chapter in _paragraphs(project) for p in chapter)
    assert BOOK not in everything
    assert "Jane Writer" not in everything
    assert project.author == "Jane Writer"
    assert project.title == "The Test Book"
    assert report.paragraphs == sum(len(c.paras) for c in chapters)


@pytest.mark.parametrize(("style", "footer"), [("indent", "plain"), ("spacing", "page")])
def test_book_with_headings_headers_and_page_numbers(
    tmp_path: Path, style: str, footer: str
) -> None:
    path = tmp_path / "book.pdf"
    chapters = _make_book(path, style=style, footer=footer)

    _check_book(path, chapters)
    raw = read_source(path)
    assert SkippedPart("before first heading", "title page") in raw.skipped
    assert any("header/footer" in s.name for s in raw.skipped)
    # The page-crossing paragraph and the hyphenated words came through whole.
    assert "narration of that night" in raw.chapters[0].paragraphs[1]
    assert any(len(p.pages) > 1 for c in chapters for p in c.paras)  # one crosses a page
    assert not any(p.strip().isdigit() for c in raw.chapters for p in c.paragraphs)


def test_book_with_outline_uses_the_bookmarks(tmp_path: Path) -> None:
    path = tmp_path / "outlined.pdf"
    chapters = _make_book(path, outline=True, footer="dashes")

    _check_book(path, chapters)
    raw = read_source(path)
    assert SkippedPart("Title Page", "front matter") in raw.skipped
    assert raw.chapters[0].source == "pages 2-3"


def test_headings_found_by_font_size_alone(tmp_path: Path) -> None:
    path = tmp_path / "untitled.pdf"
    headings = [["A Quiet Morning"], ["The Long Road", "Westward"], ["Home Again"]]
    chapters = _make_book(path, headings=headings, metadata=False)

    project, _ = import_source(path)
    assert project.title == BOOK  # the one line larger than the chapter headings
    assert project.author == ""
    assert [c.title for c in project.chapters] == [
        "A Quiet Morning",
        "The Long Road: Westward",
        "Home Again",
    ]
    assert _paragraphs(project) == [[p.expected for p in c.paras] for c in chapters]


def test_lines_without_positions_use_sentence_heuristics() -> None:
    layout = pdf_reader._Layout(10.0, False, 12.0, {}, 50.0)
    texts = [
        "It was late when the last of the guests finally went",
        "home to their beds.",  # short and ends a sentence: the paragraph ends
        "Morning came with a cold wind off the sea and a grey",
        "sky. Then it rained.",  # short, but the next line goes on in lower case
        "and the gutters overflowed into the narrow street.",  # full width: no end
        "Everyone stayed indoors.",
    ]
    lines = [pdf_reader._Line(0, t, size=10.0) for t in texts]

    assert pdf_reader._paragraphs(lines, layout) == [" ".join(texts[:2]), " ".join(texts[2:])]


def test_pdf_without_title_page_or_metadata(tmp_path: Path) -> None:
    path = tmp_path / "plain-story.pdf"
    pdf = FPDF(unit="mm")
    pdf.set_font("Helvetica", "", 11)
    pdf.add_page()
    lines = textwrap.wrap(_sentences(0, 6), 70)
    for i, text in enumerate(lines):
        pdf.set_xy(20, 30 + 6 * i)
        pdf.cell(170, 6, text)
    pdf.output(str(path))

    project, report = import_source(path)
    assert project.title == "Plain Story"
    assert len(project.chapters) == 1
    assert _paragraphs(project) == [[" ".join(lines)]]
    assert report.paragraphs == 1


def test_scanned_pdf_without_text_is_refused(tmp_path: Path) -> None:
    from PIL import Image

    picture = tmp_path / "page.png"
    Image.new("L", (120, 160), 200).save(picture)
    path = tmp_path / "scan.pdf"
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.image(str(picture), x=10, y=10, w=190)  # what a scanner makes: a picture per page
        pdf.line(20, 20, 170, 220)
    pdf.output(str(path))

    with pytest.raises(TextImportError, match="no text layer") as info:
        import_source(path)
    assert "OCR" in str(info.value)


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n" + bytes(range(256)) * 20, b"This is not a PDF at all, just text.\n" * 5],
)
def test_garbage_with_pdf_extension_is_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fake.pdf"
    path.write_bytes(data)

    with pytest.raises(TextImportError, match="is not a valid PDF") as info:
        import_source(path)
    assert str(path) in str(info.value)


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    pdf = FPDF()
    pdf.set_encryption(owner_password="owner-secret", user_password="secret")
    pdf.add_page()
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(100, 10, "You cannot read me without the password.")
    pdf.output(str(path))

    with pytest.raises(TextImportError, match="encrypted"):
        import_source(path)


def test_pdf_with_owner_password_only_opens(tmp_path: Path) -> None:
    path = tmp_path / "restricted.pdf"
    pdf = FPDF()
    pdf.set_encryption(owner_password="owner-secret")  # the empty user password opens it
    pdf.add_page()
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(100, 10, "Anyone may read this sentence.")
    pdf.output(str(path))

    project, _ = import_source(path)
    assert _paragraphs(project) == [["Anyone may read this sentence."]]


def test_image_page_without_text_is_reported(tmp_path: Path) -> None:
    from PIL import Image

    picture = tmp_path / "scan.png"
    Image.new("L", (60, 80), 128).save(picture)
    path = tmp_path / "mixed.pdf"
    pdf = FPDF()
    pdf.set_font("Helvetica", "", 12)
    pdf.add_page()
    pdf.cell(100, 10, "The first page has real text on it.")
    pdf.add_page()
    pdf.image(str(picture), x=20, y=20, w=60)
    pdf.add_page()  # a blank page: normal in books, not worth a warning
    pdf.output(str(path))

    project, report = import_source(path)
    assert _paragraphs(project) == [["The first page has real text on it."]]
    assert [w.message for w in report.warnings] == [
        "page(s) 2 have no text layer (images?); their text is missing"
    ]
