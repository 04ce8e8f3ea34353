"""Read Word (DOCX) manuscripts: heading styles become chapters.

The archive is checked with :class:`SafeZip` and its XML parts for entity declarations before
python-docx sees it, so a hostile file fails with a clear message instead of a hang.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from studio.core.errors import TextImportError
from studio.core.importing.base import RawBook, RawChapter, SkippedPart
from studio.core.importing.safety import SafeZip, parse_xml
from studio.core.importing.txt import detect_chapters
from studio.core.textsplit import normalize_space

log = logging.getLogger(__name__)

KIND = "Word (DOCX)"
DOCUMENT_PART = "word/document.xml"
TITLE_PAGE_MAX_PARAGRAPHS = 3
TITLE_PAGE_MAX_CHARS = 300

# Authors that tools write by default; they say nothing about who wrote the book.
_PLACEHOLDER_AUTHORS = frozenset({"python-docx", "unknown", "author", "user", "administrator"})

_HEADING_NAME = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)
_HEADING_ID = re.compile(r"^heading([1-9])$", re.IGNORECASE)
_TOC_STYLE = re.compile(r"^toc\s*(?:\d|heading)", re.IGNORECASE)  # Word's "TOC 1", "TOC Heading"
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_OUTLINE_LEVEL = f"{{{_W}}}pPr/{{{_W}}}outlineLvl"
_VAL = f"{{{_W}}}val"


@dataclass(frozen=True, slots=True)
class _Para:
    """A non-empty body paragraph: its text and heading level (0 = body text)."""

    text: str
    level: int = 0
    is_title: bool = False


@dataclass(slots=True)
class _Left:
    """Counts of what the reader leaves out."""

    tables: int = 0
    contents: int = 0


def read(path: Path) -> RawBook:
    """Read a DOCX file into a :class:`RawBook`; heading styles start chapters.

    Raises:
        TextImportError: the file is not a safe, valid Word document.
    """
    _check_package(path)
    import docx  # deferred: python-docx is only needed for this format
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
        paras, left = _paragraphs(document)
        core = document.core_properties
        meta_title = normalize_space(core.title or "")
        meta_author = normalize_space(core.author or "")
    except (
        PackageNotFoundError,
        KeyError,
        ValueError,
        NotImplementedError,
        zipfile.BadZipFile,
        etree.LxmlError,
    ) as exc:
        log.warning("python-docx could not read %s", path, exc_info=True)
        raise TextImportError(path, f"is not a valid {KIND} file: {_short(exc)}") from None

    book = RawBook(format="docx")
    if meta_author.lower() not in _PLACEHOLDER_AUTHORS:
        book.author = meta_author
    _build_chapters(book, paras, meta_title)
    if left.contents:
        book.skipped.append(SkippedPart("table of contents", f"{left.contents} entries"))
    if left.tables:
        book.skipped.append(SkippedPart(f"{left.tables} table(s)", "tables are not narrated"))
    return book


def _check_package(path: Path) -> None:
    """Refuse archives that are damaged, hostile, or not Word documents."""
    with SafeZip(path, KIND) as archive:
        if not archive.has(DOCUMENT_PART):
            raise TextImportError(
                path, f"is not a valid {KIND} file: it has no '{DOCUMENT_PART}' part"
            )
        for name in archive.names:
            if not name.lower().endswith((".xml", ".rels")):
                continue
            # python-docx parses every XML part; none of them may declare entities.
            data = archive.read(name)
            if _ENTITY.search(data):
                raise TextImportError(
                    path,
                    f"'{name}' declares XML entities (possible entity-expansion attack); "
                    "refusing it",
                )
            if name == DOCUMENT_PART:
                try:
                    parse_xml(data, name)
                except TextImportError as exc:
                    raise TextImportError(
                        path, f"is not a valid {KIND} file: {exc.source} {exc.problem}"
                    ) from None


def _short(exc: BaseException) -> str:
    text = normalize_space(str(exc)) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _style_level(style: Any) -> tuple[int, bool]:
    """Return ``(heading level or 0, is the Title style)`` for a paragraph style."""
    seen = 0
    while style is not None and seen < 10:  # follow based-on styles, but never loop forever
        name = style.name or ""
        style_id = style.style_id or ""
        if name.lower() == "title" or style_id.lower() == "title":
            return 0, True
        match = _HEADING_NAME.match(name) or _HEADING_ID.match(style_id)
        if match:
            return int(match.group(1)), False
        outline = style.element.find(_OUTLINE_LEVEL)
        if outline is not None:
            return _outline_level(outline.get(_VAL)), False
        style = style.base_style
        seen += 1
    return 0, False


def _outline_level(value: str | None) -> int:
    """Map a ``w:outlineLvl`` value (0-8 headings, 9 body text) to a heading level."""
    try:
        level = int(value or "9")
    except ValueError:
        return 0
    return level + 1 if 0 <= level <= 8 else 0


def _paragraphs(document: Any) -> tuple[list[_Para], _Left]:
    """Return the non-empty body paragraphs and what was left out."""
    paras: list[_Para] = []
    left = _Left(tables=len(document.tables))
    for paragraph in document.paragraphs:
        text = normalize_space(paragraph.text)
        if not text:
            continue
        style = paragraph.style
        if style is not None and _TOC_STYLE.match(style.name or ""):
            left.contents += 1
            continue
        direct = paragraph._p.find(_OUTLINE_LEVEL)  # an outline level set on the paragraph
        if direct is not None:
            level, is_title = _outline_level(direct.get(_VAL)), False
        else:
            level, is_title = _style_level(style)
        paras.append(_Para(text, level, is_title))
    return paras, left


def _build_chapters(book: RawBook, paras: list[_Para], meta_title: str) -> None:
    """Fill ``book`` with the title and the chapters found in ``paras``."""
    title = next((p.text for p in paras if p.is_title), "")
    paras = [p for p in paras if not p.is_title]
    counts = Counter(p.level for p in paras if p.level)
    if not counts:
        # No heading styles (a manuscript typed with bold "Chapter 1" lines): find chapters
        # from heading-like paragraphs, as for plain text.
        book.title = title or meta_title
        chapters, skipped = detect_chapters([p.text for p in paras], book.title)
        book.chapters.extend(chapters)
        book.skipped.extend(skipped)
        title_page = next((s for s in skipped if s.reason == "title page"), None)
        if not book.title and title_page is not None:
            book.title = title_page.name.split(" / ")[0]
        return
    repeated = [level for level, n in counts.items() if n > 1]
    chapter_level = min(repeated) if repeated else min(counts)

    front: list[str] = []
    current: RawChapter | None = None
    for p in paras:
        if p.level and p.level < chapter_level:
            # Used once above the chapter level: the book's title (or a part title).
            if not title:
                title = p.text
            else:
                book.skipped.append(SkippedPart(f"heading '{p.text}'", "above chapter level"))
            continue
        if p.level == chapter_level:
            current = RawChapter(p.text)
            book.chapters.append(current)
            continue
        if current is None:
            front.append(p.text)
        else:
            current.paragraphs.append(p.text)  # deeper headings read as ordinary paragraphs
    book.title = title or meta_title
    if front:
        if len(front) <= TITLE_PAGE_MAX_PARAGRAPHS and sum(map(len, front)) < TITLE_PAGE_MAX_CHARS:
            book.skipped.append(SkippedPart("before first heading", "title page"))
        else:
            book.chapters.insert(0, RawChapter("Opening", front))
