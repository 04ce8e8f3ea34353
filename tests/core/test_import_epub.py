"""Import EPUB 2 and 3 books built in code, the Standard Ebooks fixture, and hostile files."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from studio.core.importing import import_source
from studio.core.importing.base import SkippedPart
from studio.core.model import Project
from tests.core.epub_builder import Doc, build_epub, zip_directory
from tests.core.factories import import_error

DATA = Path(__file__).resolve().parent.parent / "data"
SE_SHERLOCK = DATA / "se_sherlock"

XHTML = "{http://www.w3.org/1999/xhtml}"


def _chapters(project: Project) -> list[tuple[str, list[str]]]:
    return [(c.title, [b.text for b in c.blocks]) for c in project.chapters]


def _all_text(project: Project) -> str:
    return "\n".join(b.text for c in project.chapters for b in c.blocks)


# ---------------------------------------------------------------------------------------------
# EPUB 3: nested table of contents, front and back matter, note references

RAIN = (
    "<h2>Chapter 1</h2>"
    '<p>It began<a epub:type="noteref" href="#n1" id="r1">1</a> in the rain, '
    "and the <em>whole</em> street ran for cover.</p>"
    "<p>“Stop,” she said. “Wait for me.”</p>"
    '<aside epub:type="footnote" id="n1"><p>It always rains in this town.</p></aside>'
    "<p>He waited.</p>"
)
SUN = (
    "<h2>Chapter 2</h2>"
    '<p>The sun came out<a epub:type="noteref" href="endnotes.xhtml#e1">2</a>.</p>'
)
HOME = "<h2>Chapter 3</h2><p>They went home at last.</p><p>Nobody followed.</p>"


def _epub3_book(path: Path) -> Path:
    return build_epub(
        path,
        version=3,
        title="The Two Parts",
        author="Ada Writer",
        language="en-GB",
        cover_image=True,
        nav_in_spine=True,
        docs=[
            Doc(
                "cover.xhtml",
                '<img src="../Images/cover.png" alt="Cover"/>',
                "cover",
                body_type="frontmatter",
            ),
            Doc(
                "titlepage.xhtml",
                "<h1>The Two Parts</h1><p>A novel by Ada Writer</p>",
                "titlepage",
                body_type="frontmatter",
            ),
            Doc(
                "copyright.xhtml",
                "<p>Copyright © 2024 Ada Writer.</p><p>All rights reserved.</p>",
                "copyright-page",
                body_type="frontmatter",
            ),
            Doc("part1.xhtml", "<h1>Part One</h1>", "part", body_type="bodymatter"),
            Doc("ch1.xhtml", RAIN, "chapter", body_type="bodymatter"),
            Doc("ch2.xhtml", SUN, "chapter", body_type="bodymatter"),
            Doc(
                "part2.xhtml",
                "<h1>Part Two</h1><p>In which everything ends.</p>",
                "part",
                body_type="bodymatter",
            ),
            Doc("ch3.xhtml", HOME, "chapter", body_type="bodymatter"),
            Doc(
                "colophon.xhtml",
                "<p>Set in Garamond by hand.</p>",
                "colophon",
                body_type="backmatter",
            ),
            Doc(
                "endnotes.xhtml",
                '<h2>Notes</h2><ol><li id="e1" epub:type="endnote"><p>The sun rarely '
                "comes out.</p></li></ol>",
                "endnotes",
                body_type="backmatter",
            ),
        ],
        toc=[
            ("Cover", "cover.xhtml"),
            ("Title Page", "titlepage.xhtml"),
            ("Copyright", "copyright.xhtml"),
            (
                "Part One",
                "part1.xhtml",
                [
                    ("Chapter 1: Rain", "ch1.xhtml"),
                    ("Chapter 2: Sun", "ch2.xhtml"),
                ],
            ),
            ("Part Two", "part2.xhtml", [("Chapter 3: Home", "ch3.xhtml")]),
            ("Colophon", "colophon.xhtml"),
            ("Notes", "endnotes.xhtml"),
        ],
    )


def test_epub3_chapters_follow_the_nested_toc(tmp_path: Path) -> None:
    project, report = import_source(_epub3_book(tmp_path / "two-parts.epub"))
    assert _chapters(project) == [
        (
            "Chapter 1: Rain",
            [
                "It began in the rain, and the whole street ran for cover.",
                "“Stop,” she said. “Wait for me.”",
                "He waited.",
            ],
        ),
        ("Chapter 2: Sun", ["The sun came out."]),
        # A part page is a chapter only when it has text of its own.
        ("Part Two", ["In which everything ends."]),
        ("Chapter 3: Home", ["They went home at last.", "Nobody followed."]),
    ]
    assert (report.format, report.title, report.author) == ("epub3", "The Two Parts", "Ada Writer")
    assert project.language == "en"
    assert [c.title for c in report.chapters] == [c.title for c in project.chapters]
    assert report.paragraphs == 7


def test_epub3_front_and_back_matter_are_skipped_and_reported(tmp_path: Path) -> None:
    project, report = import_source(_epub3_book(tmp_path / "two-parts.epub"))
    reasons = {s.name: s.reason for s in report.skipped}
    assert reasons == {
        "nav.xhtml": "table of contents",
        "Cover": "cover",
        "Title Page": "title page",
        "Copyright": "copyright page",
        "Colophon": "colophon",
        "Notes": "endnotes",
        "Part One": "no text to narrate",
    }
    text = _all_text(project)
    for leftover in ("Copyright", "Garamond", "A novel by", "rarely", "Contents", "Part One"):
        assert leftover not in text
    assert not [w for w in report.warnings if w.kind == "empty-chapter"]


def test_epub3_note_references_and_footnote_bodies_are_removed(tmp_path: Path) -> None:
    project, _ = import_source(_epub3_book(tmp_path / "two-parts.epub"))
    text = _all_text(project)
    assert "began in the rain" in text
    assert "began1" not in text and "out2" not in text
    assert "always rains" not in text  # the <aside epub:type="footnote"> body


# ---------------------------------------------------------------------------------------------
# EPUB 2: NCX and the OPF guide


def _epub2_book(path: Path) -> Path:
    # The front matter has neutral file names and no epub:type: only the guide says what it is.
    return build_epub(
        path,
        version=2,
        title="The Two Parts",
        author="Ada Writer",
        language="en",
        cover_image=True,
        docs=[
            Doc("fm01.xhtml", '<div><img src="../Images/cover.png" alt="Cover"/></div>'),
            Doc("fm02.xhtml", "<h1>The Two Parts</h1><p>A novel by Ada Writer</p>"),
            Doc(
                "fm03.xhtml",
                '<h2>Table of Contents</h2><p><a href="ch1.xhtml">Chapter 1</a></p>'
                '<p><a href="ch2.xhtml">Chapter 2</a></p>',
            ),
            Doc(
                "ch1.xhtml",
                "<h2>Chapter 1</h2><p>It began<sup>1</sup> in the rain at the "
                "Caf&eacute;&nbsp;Royal.</p><p>&ldquo;Stop,&rdquo; she said.</p>",
            ),
            Doc(
                "ch2.xhtml",
                '<h2>Chapter 2</h2><p>The sun came out.<a class="footnote" href="#fn2">'
                "[2]</a></p><p>It was warm.</p>",
            ),
        ],
        toc=[
            (
                "Part One",
                "ch1.xhtml",
                [
                    ("Chapter 1: Rain", "ch1.xhtml"),
                    ("Chapter 2: Sun", "ch2.xhtml"),
                ],
            ),
        ],
        guide=[
            ("cover", "Cover", "fm01.xhtml"),
            ("title-page", "Title Page", "fm02.xhtml"),
            ("toc", "Table of Contents", "fm03.xhtml"),
            ("text", "Beginning", "ch1.xhtml"),
        ],
    )


def test_epub2_ncx_titles_guide_skips_and_html_entities(tmp_path: Path) -> None:
    path = _epub2_book(tmp_path / "two-parts-epub2.epub")
    with zipfile.ZipFile(path) as zf:  # the book really is EPUB 2 with an NCX and no nav
        assert "OEBPS/toc.ncx" in zf.namelist() and "OEBPS/nav.xhtml" not in zf.namelist()
    project, report = import_source(path)
    assert _chapters(project) == [
        # "Part One" and "Chapter 1" both point at ch1.xhtml: the deeper entry names it.
        ("Chapter 1: Rain", ["It began in the rain at the Café Royal.", "“Stop,” she said."]),
        ("Chapter 2: Sun", ["The sun came out.", "It was warm."]),
    ]
    assert report.format == "epub2"
    assert (report.title, report.author) == ("The Two Parts", "Ada Writer")
    assert report.skipped == [
        SkippedPart("Text/fm01.xhtml", "cover"),
        SkippedPart("Text/fm02.xhtml", "title page"),
        SkippedPart("Text/fm03.xhtml", "table of contents"),
    ]


# ---------------------------------------------------------------------------------------------
# Several chapters in one file


ONE_FILE = (
    '<section id="ch1" epub:type="chapter"><h2>One</h2>'
    "<p>First chapter text.</p><p>More of the first.</p></section>"
    '<section id="ch2" epub:type="chapter"><h2>Two</h2><p>Second chapter text.</p></section>'
)


@pytest.mark.parametrize("version", [2, 3])
def test_toc_fragments_split_one_file_into_chapters(tmp_path: Path, version: int) -> None:
    path = build_epub(
        tmp_path / f"one-file-{version}.epub",
        version=version,
        docs=[Doc("book.xhtml", ONE_FILE, body_type="bodymatter")],
        toc=[("The First", "book.xhtml#ch1"), ("The Second", "book.xhtml#ch2")],
    )
    project, _ = import_source(path)
    assert _chapters(project) == [
        ("The First", ["First chapter text.", "More of the first."]),
        ("The Second", ["Second chapter text."]),
    ]


def test_text_before_the_first_fragment_gets_its_own_title(tmp_path: Path) -> None:
    path = build_epub(
        tmp_path / "intro.epub",
        docs=[Doc("book.xhtml", "<p>An editor’s note.</p>" + ONE_FILE, title="The Book")],
        toc=[("The First", "book.xhtml#ch1"), ("The Second", "book.xhtml#ch2")],
    )
    project, _ = import_source(path)
    assert _chapters(project) == [
        ("The Book", ["An editor’s note."]),  # not "One", the heading of the next chapter
        ("The First", ["First chapter text.", "More of the first."]),
        ("The Second", ["Second chapter text."]),
    ]


def test_part_file_is_split_at_its_chapter_entries(tmp_path: Path) -> None:
    body = (
        "<h1>Part One</h1>"
        '<section id="c1" epub:type="chapter"><h2>Chapter 1</h2><p>Alpha.</p></section>'
        '<section id="c2" epub:type="chapter"><h2>Chapter 2</h2><p>Beta.</p></section>'
    )
    path = build_epub(
        tmp_path / "part.epub",
        docs=[Doc("part1.xhtml", body, "part", body_type="bodymatter")],
        toc=[
            (
                "Part One",
                "part1.xhtml",
                [
                    ("Chapter 1", "part1.xhtml#c1"),
                    ("Chapter 2", "part1.xhtml#c2"),
                ],
            )
        ],
    )
    project, _ = import_source(path)
    assert _chapters(project) == [("Chapter 1", ["Alpha."]), ("Chapter 2", ["Beta."])]


def test_untitled_continuation_file_joins_the_previous_chapter(tmp_path: Path) -> None:
    # Producers split long chapters into several files; only the first is in the TOC.
    path = build_epub(
        tmp_path / "split-files.epub",
        docs=[
            Doc("ch1a.xhtml", "<h2>Chapter 1</h2><p>Start of one.</p>", "chapter"),
            Doc("ch1b.xhtml", "<p>End of one.</p>"),
            Doc("ch2.xhtml", "<h2>Chapter 2</h2><p>Two.</p>", "chapter"),
        ],
        toc=[("Chapter 1", "ch1a.xhtml"), ("Chapter 2", "ch2.xhtml")],
    )
    project, _ = import_source(path)
    assert _chapters(project) == [
        ("Chapter 1", ["Start of one.", "End of one."]),
        ("Chapter 2", ["Two."]),
    ]


def test_non_linear_and_missing_documents(tmp_path: Path) -> None:
    path = build_epub(
        tmp_path / "odd-spine.epub",
        docs=[
            Doc("ch1.xhtml", "<h2>Chapter 1</h2><p>One.</p>", "chapter"),
            Doc("popup.xhtml", "<p>A pop-up map legend.</p>", linear=False),
            Doc("ch2.xhtml", "<h2>Chapter 2</h2><p>Two.</p>", "chapter"),
        ],
        toc=[("Chapter 1", "ch1.xhtml"), ("Chapter 2", "ch2.xhtml")],
        omit=["OEBPS/Text/ch2.xhtml"],
    )
    project, report = import_source(path)
    assert _chapters(project) == [("Chapter 1", ["One."])]
    assert SkippedPart("Text/popup.xhtml", "not in the reading order (non-linear)") in (
        report.skipped
    )
    assert [w.message for w in report.warnings if w.kind == "source"] == [
        "the book lists 'Text/ch2.xhtml' but the file is missing"
    ]


# ---------------------------------------------------------------------------------------------
# The real Standard Ebooks source of "The Adventures of Sherlock Holmes" (trimmed)

SE_TITLES = [
    "A Scandal in Bohemia",
    "The Redheaded League",
    "A Case of Identity",
    "The Boscombe Valley Mystery",
    "The Five Orange Pips",
    "The Man with the Twisted Lip",
    "The Adventure of the Blue Carbuncle",
    "The Adventure of the Speckled Band",
    "The Adventure of the Engineer’s Thumb",
    "The Adventure of the Noble Bachelor",
    "The Adventure of the Beryl Coronet",
    "The Adventure of the Copper Beeches",
]


_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))


def _ws(text: str) -> str:
    """Normalise white space and drop the invisible characters the importer drops."""
    return " ".join(text.translate(_INVISIBLE).split())


def _fixture_paragraphs(name: str) -> list[str]:
    """Return the text of every <p> of a fixture story, in document order."""
    root = etree.parse(str(SE_SHERLOCK / "epub" / "text" / name)).getroot()
    return [_ws("".join(p.itertext())) for p in root.iter(f"{XHTML}p")]


def _spine_story_files() -> list[str]:
    opf = etree.parse(str(SE_SHERLOCK / "epub" / "content.opf")).getroot()
    ns = {"opf": "http://www.idpf.org/2007/opf"}
    hrefs = {i.get("id"): i.get("href") for i in opf.findall(".//opf:item", ns)}
    files = [Path(hrefs[r.get("idref")]).name for r in opf.findall(".//opf:itemref", ns)]
    matter = {"titlepage.xhtml", "imprint.xhtml", "colophon.xhtml", "uncopyright.xhtml"}
    return [f for f in files if f not in matter]


@pytest.fixture
def sherlock(tmp_path: Path) -> Path:
    if not (SE_SHERLOCK / "epub" / "content.opf").is_file():
        pytest.fail(f"fixture missing: {SE_SHERLOCK} (see its README.md)")
    path = zip_directory(SE_SHERLOCK, tmp_path / "the-adventures-of-sherlock-holmes.epub")
    with zipfile.ZipFile(path) as zf:
        first = zf.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
    return path


def test_standard_ebooks_twelve_stories_with_toc_titles(sherlock: Path) -> None:
    project, report = import_source(sherlock)
    assert [c.title for c in project.chapters] == SE_TITLES
    assert (report.format, report.title, report.author) == (
        "epub3",
        "The Adventures of Sherlock Holmes",
        "Arthur Conan Doyle",
    )
    assert project.language == "en"
    assert {(s.name, s.reason) for s in report.skipped} == {
        ("Title Page", "title page"),
        ("Imprint", "imprint"),
        ("Colophon", "colophon"),
        ("Uncopyright", "copyright page"),
    }
    text = _all_text(project)
    for leftover in ("Standard Ebooks", "Uncopyright", "public domain", "Table of Contents"):
        assert leftover not in text


def test_standard_ebooks_paragraphs_match_the_source(sherlock: Path) -> None:
    project, _ = import_source(sherlock)
    files = _spine_story_files()
    assert len(files) == len(project.chapters) == 12
    for chapter, name in zip(project.chapters, files, strict=True):
        expected = _fixture_paragraphs(name)
        texts = [_ws(b.text) for b in chapter.blocks]
        assert texts[0] == expected[0], name
        # Every <p> is there, in order; the only other blocks are section numbers.
        assert [t for t in texts if t in expected] == expected, name
        assert [t for t in texts if t not in expected] == (
            ["II", "III"] if name == "a-scandal-in-bohemia.xhtml" else []
        ), name


def test_standard_ebooks_sections_stay_inside_their_story(sherlock: Path) -> None:
    project, _ = import_source(sherlock)
    scandal = project.chapters[0]
    texts = [b.text for b in scandal.blocks]
    # Sections I-III of "A Scandal in Bohemia" are ToC sub-entries, not chapters.
    assert texts[0].startswith("To Sherlock Holmes she is always the woman.")
    assert texts[-1].startswith("“You have really got it!” he cried")
    assert len(texts) == 6 + 2 + 2 + 2  # section I, II, III paragraphs and the II/III labels
    assert all(c.title not in ("I", "II", "III") for c in project.chapters)


def test_standard_ebooks_typography_survives(sherlock: Path) -> None:
    project, _ = import_source(sherlock)
    first = project.chapters[0].blocks[0].text
    # SE puts a word joiner before em dashes and no-break spaces after "Mr.": a speech
    # engine gets neither, but the words on either side stay joined as printed.
    assert "observer—excellent" in first
    text = _all_text(project)
    assert "\u2060" not in text and "\u00a0" not in text
    league = project.chapters[1].blocks[0].text
    assert league.startswith("I had called upon my friend, Mr. Sherlock Holmes,")


# ---------------------------------------------------------------------------------------------
# Broken and hostile files: a clear error naming the file and the problem, never a hang


def _good_epub(path: Path) -> Path:
    paragraphs = "".join(
        f"<p>Paragraph {i}: the keeper climbed the {i * 7} stairs again.</p>" for i in range(200)
    )
    return build_epub(
        path,
        docs=[Doc("ch1.xhtml", f"<h2>Chapter 1</h2>{paragraphs}", "chapter")],
        toc=[("Chapter 1", "ch1.xhtml")],
    )



@pytest.mark.timeout(30)
def test_good_epub_used_for_the_broken_variants_imports(tmp_path: Path) -> None:
    project, _ = import_source(_good_epub(tmp_path / "good.epub"))
    assert len(project.chapters[0].blocks) == 200


@pytest.mark.timeout(30)
def test_truncated_epub(tmp_path: Path) -> None:
    data = _good_epub(tmp_path / "good.epub").read_bytes()
    path = tmp_path / "truncated.epub"
    path.write_bytes(data[: len(data) // 2])
    message = import_error(path)
    assert "truncated" in message and "EPUB" in message


@pytest.mark.timeout(30)
def test_corrupted_compressed_entry(tmp_path: Path) -> None:
    good = _good_epub(tmp_path / "good.epub")
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("OEBPS/Text/ch1.xhtml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 50, start + info.compress_size - 10, 5):
        data[i] ^= 0x5A
    path = tmp_path / "corrupted.epub"
    path.write_bytes(bytes(data))
    message = import_error(path)
    assert "OEBPS/Text/ch1.xhtml" in message and "damaged" in message


@pytest.mark.timeout(30)
def test_entry_outside_the_archive(tmp_path: Path) -> None:
    path = build_epub(
        tmp_path / "evil.epub",
        docs=[Doc("ch1.xhtml", "<p>Harmless.</p>")],
        extra_entries={"../evil.xhtml": b"<p>evil</p>"},
    )
    message = import_error(path)
    assert "unsafe path" in message and "../evil.xhtml" in message


BILLION_LAUGHS = b"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html [
<!ENTITY lol "lol">
<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Laughs</title></head>
<body><h2>Chapter 1</h2><p>&lol9;</p></body></html>
"""


@pytest.mark.timeout(30)
def test_billion_laughs_chapter(tmp_path: Path) -> None:
    path = build_epub(
        tmp_path / "laughs.epub",
        docs=[Doc("ch1.xhtml", raw=BILLION_LAUGHS)],
        toc=[("Chapter 1", "ch1.xhtml")],
    )
    message = import_error(path)
    assert "Text/ch1.xhtml" in message and "entit" in message and "refusing" in message


@pytest.mark.timeout(30)
def test_zip_bomb_entry(tmp_path: Path) -> None:
    path = _good_epub(tmp_path / "bomb.epub")
    chunk = bytes(1024 * 1024)
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("OEBPS/Images/huge.png", "w") as fh,
    ):
        for _ in range(50):  # 50 MB of zeros, written in chunks
            fh.write(chunk)
    assert path.stat().st_size < 200 * 1024  # the bomb itself stays small
    message = import_error(path)
    assert "zip bomb" in message and "OEBPS/Images/huge.png" in message


@pytest.mark.timeout(30)
def test_zip_without_container(tmp_path: Path) -> None:
    path = build_epub(
        tmp_path / "no-container.epub",
        docs=[Doc("ch1.xhtml", "<p>Text.</p>")],
        omit=["META-INF/container.xml"],
    )
    message = import_error(path)
    assert "META-INF/container.xml" in message and "missing" in message


@pytest.mark.timeout(30)
def test_container_naming_a_missing_package(tmp_path: Path) -> None:
    path = build_epub(
        tmp_path / "no-opf.epub",
        docs=[Doc("ch1.xhtml", "<p>Text.</p>")],
        omit=["OEBPS/content.opf"],
    )
    message = import_error(path)
    assert "OEBPS/content.opf" in message and "missing" in message


@pytest.mark.timeout(30)
def test_plain_text_named_epub(tmp_path: Path) -> None:
    path = tmp_path / "novel.epub"
    path.write_text("Chapter 1\n\nThis is plain text, not an EPUB.\n", encoding="utf-8")
    message = import_error(path)
    assert "not a valid EPUB" in message and "not a ZIP" in message


@pytest.mark.timeout(30)
def test_epub_with_no_text(tmp_path: Path) -> None:
    path = build_epub(
        tmp_path / "pictures.epub",
        cover_image=True,
        docs=[Doc("cover.xhtml", '<img src="../Images/cover.png" alt="Cover"/>', "cover")],
        toc=[("Cover", "cover.xhtml")],
    )
    message = import_error(path)
    assert re.search(r"no text to narrate", message)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_entity_declarations_are_refused_in_any_encoding(tmp_path: Path, codec: str) -> None:
    xhtml = (
        f'<?xml version="1.0" encoding="{codec.upper()}"?>\n'
        '<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>C</title></head>'
        "<body><p>&xxe; Secret.</p></body></html>"
    )
    path = build_epub(
        tmp_path / f"xxe-{codec}.epub",
        docs=[Doc("ch1.xhtml", "<p>Plain.</p>"), Doc("ch2.xhtml", "", raw=xhtml.encode(codec))],
    )
    assert "declares XML entities" in import_error(path)
