"""Import Word (DOCX) manuscripts built in code with python-docx."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from studio.core.errors import TextImportError
from studio.core.importing import import_source, read_source
from studio.core.importing.base import SkippedPart

LONG = (
    "The harbour lay quiet under a pale sky, and the boats rocked gently at their moorings "
    "while the gulls argued over the remains of the morning catch."
)


def _texts(project: object, index: int) -> list[str]:
    chapter = project.chapters[index]  # type: ignore[attr-defined]
    return [block.text for block in chapter.blocks]


def _save(document: docx.document.Document, path: Path) -> Path:
    document.save(str(path))
    return path


@pytest.fixture
def novel(tmp_path: Path) -> Path:
    """Return a DOCX with a Title, an author, front matter and three Heading 1 chapters."""
    d = docx.Document()
    d.core_properties.author = "Jane Writer"
    d.core_properties.title = "Metadata Title"
    d.add_heading("The Lighthouse Keeper", level=0)  # the Title style
    d.add_paragraph("A novel")
    d.add_paragraph("")  # empty paragraphs are dropped
    d.add_paragraph("Contents", style="TOC Heading")  # Word's table of contents: skipped
    toc = d.styles.add_style("TOC 1", WD_STYLE_TYPE.PARAGRAPH)
    for name in ("Chapter One", "Chapter Two", "Chapter Three"):
        d.add_paragraph(f"{name}\t1", style=toc)
    d.add_heading("Chapter One", level=1)
    d.add_paragraph("It was a dark and stormy night.")
    d.add_paragraph("   ")
    d.add_paragraph("The keeper climbed the stairs.")
    d.add_heading("A smaller heading", level=2)  # deeper heading: an ordinary paragraph
    d.add_paragraph("He lit the lamp.")
    d.add_heading("Chapter Two", level=1)
    d.add_paragraph("Morning came slowly.")
    d.add_heading("Chapter Three", level=1)
    p = d.add_paragraph("The ship ")
    p.add_run("arrived").bold = True
    p.add_run(" at last.")
    return _save(d, tmp_path / "lighthouse.docx")


def test_heading_one_chapters_title_author_and_report(novel: Path) -> None:
    project, report = import_source(novel)

    assert project.title == "The Lighthouse Keeper"
    assert project.author == "Jane Writer"
    assert [c.title for c in project.chapters] == ["Chapter One", "Chapter Two", "Chapter Three"]
    assert _texts(project, 0) == [
        "It was a dark and stormy night.",
        "The keeper climbed the stairs.",
        "A smaller heading",
        "He lit the lamp.",
    ]
    assert _texts(project, 1) == ["Morning came slowly."]
    assert _texts(project, 2) == ["The ship arrived at last."]
    assert report.format == "docx"
    assert [c.paragraphs for c in report.chapters] == [4, 1, 1]
    assert report.paragraphs == 6
    assert report.words == 7 + 5 + 3 + 4 + 3 + 5
    assert report.skipped == [
        SkippedPart("before first heading", "title page"),
        SkippedPart("table of contents", "4 entries"),
    ]


def test_single_heading_one_is_the_title_and_heading_twos_are_chapters(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_heading("Collected Tales", level=1)
    d.add_heading("The Fox", level=2)
    d.add_paragraph("The fox ran.")
    d.add_heading("Notes on the fox", level=3)
    d.add_paragraph("Foxes are quick.")
    d.add_heading("The Crow", level=2)
    d.add_paragraph("The crow sang.")
    d.add_heading("The Owl", level=2)
    d.add_paragraph("The owl watched.")
    project, report = import_source(_save(d, tmp_path / "tales.docx"))

    assert project.title == "Collected Tales"
    assert [c.title for c in project.chapters] == ["The Fox", "The Crow", "The Owl"]
    assert _texts(project, 0) == ["The fox ran.", "Notes on the fox", "Foxes are quick."]
    assert _texts(project, 2) == ["The owl watched."]
    assert report.paragraphs == 5
    assert not report.skipped


def test_no_headings_gives_one_chapter_named_after_the_book(tmp_path: Path) -> None:
    d = docx.Document()
    d.core_properties.title = "A Quiet Essay"
    for i in range(4):
        d.add_paragraph(f"Paragraph number {i + 1} of the essay.")
    project, report = import_source(_save(d, tmp_path / "essay.docx"))

    assert project.title == "A Quiet Essay"
    assert project.author == ""  # python-docx's placeholder author is not a person
    assert [c.title for c in project.chapters] == ["A Quiet Essay"]
    assert _texts(project, 0) == [f"Paragraph number {i} of the essay." for i in range(1, 5)]
    assert report.paragraphs == 4


def test_no_title_anywhere_falls_back_to_the_file_name(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_paragraph("Just one line.")
    project, _ = import_source(_save(d, tmp_path / "my_short-note.docx"))

    assert project.title == "My Short Note"
    assert read_source(tmp_path / "my_short-note.docx").title == ""


def test_long_text_before_first_heading_becomes_an_opening_chapter(tmp_path: Path) -> None:
    d = docx.Document()
    for _ in range(4):
        d.add_paragraph(LONG)
    d.add_heading("Chapter 1", level=1)
    d.add_paragraph("First.")
    d.add_heading("Chapter 2", level=1)
    d.add_paragraph("Second.")
    project, report = import_source(_save(d, tmp_path / "opening.docx"))

    assert [c.title for c in project.chapters] == ["Opening", "Chapter 1", "Chapter 2"]
    assert _texts(project, 0) == [LONG] * 4
    assert not report.skipped


def test_localized_heading_style_is_found_by_outline_level(tmp_path: Path) -> None:
    d = docx.Document()
    # What a German Word writes: its own style name and id, with the outline level set.
    style = d.styles.add_style("Überschrift 1", WD_STYLE_TYPE.PARAGRAPH)
    p_pr = style.element.get_or_add_pPr()
    level = OxmlElement("w:outlineLvl")
    level.set(qn("w:val"), "0")
    p_pr.append(level)
    for name in ("Kapitel A", "Kapitel B"):
        d.add_paragraph(name, style="Überschrift 1")
        d.add_paragraph(f"Text von {name}.")
    project, _ = import_source(_save(d, tmp_path / "de.docx"))

    assert [c.title for c in project.chapters] == ["Kapitel A", "Kapitel B"]
    assert _texts(project, 1) == ["Text von Kapitel B."]


def test_truncated_docx_names_the_file(novel: Path, tmp_path: Path) -> None:
    data = novel.read_bytes()
    broken = tmp_path / "broken.docx"
    broken.write_bytes(data[: len(data) // 2])

    with pytest.raises(TextImportError) as info:
        import_source(broken)
    assert str(broken) in str(info.value)
    assert "Word (DOCX)" in str(info.value)


def _rewrite(src: Path, dst: Path, replace: dict[str, bytes], extra: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, replace.get(item.filename, zin.read(item.filename)))
        for name, data in extra.items():
            zout.writestr(name, data)
    return dst


def test_zip_entry_outside_the_archive_is_refused(novel: Path, tmp_path: Path) -> None:
    evil = _rewrite(novel, tmp_path / "evil.docx", {}, {"../evil.txt": b"gotcha"})

    with pytest.raises(TextImportError, match="unsafe path") as info:
        import_source(evil)
    assert str(evil) in str(info.value)


def test_entity_declarations_are_refused(novel: Path, tmp_path: Path) -> None:
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE w:document [\n'
        b'<!ENTITY lol "lol">\n'
        b'<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
        b'<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">\n'
        b"]>\n"
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"
    )
    bomb = _rewrite(novel, tmp_path / "laughs.docx", {"word/document.xml": laughs}, {})

    with pytest.raises(TextImportError, match="entit") as info:
        import_source(bomb)
    assert str(bomb) in str(info.value)


def test_zip_without_a_word_document_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notword.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("hello.txt", b"hello")

    with pytest.raises(TextImportError, match=r"word/document\.xml"):
        import_source(path)


def test_malformed_document_xml_is_refused(novel: Path, tmp_path: Path) -> None:
    bad = _rewrite(novel, tmp_path / "bad.docx", {"word/document.xml": b"<w:document><w:body>"}, {})

    with pytest.raises(TextImportError, match="not a valid Word"):
        import_source(bad)


def test_docx_without_heading_styles_finds_chapter_lines(tmp_path: Path) -> None:
    doc = docx.Document()
    doc.add_paragraph("My Manuscript").runs[0].bold = True
    for n in (1, 2, 3):
        doc.add_paragraph(f"Chapter {n}").runs[0].bold = True
        doc.add_paragraph(f"First paragraph of chapter {n}, in plain Normal style.")
        doc.add_paragraph(f"Second paragraph of chapter {n}.")
    path = tmp_path / "plain.docx"
    doc.save(str(path))
    project, report = import_source(path)
    assert [c.title for c in project.chapters] == ["Chapter 1", "Chapter 2", "Chapter 3"]
    assert [b.text for b in project.chapters[1].blocks] == [
        "First paragraph of chapter 2, in plain Normal style.",
        "Second paragraph of chapter 2.",
    ]
    assert project.title == "My Manuscript"
    assert any(s.reason == "title page" for s in report.skipped)
