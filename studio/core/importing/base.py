"""Shared shapes of the importers: what a reader returns, and the report a user sees.

Each format module (``txt``, ``html``, ``epub``, ``docx``, ``pdf``, ``article``,
``json_text``) turns a source into a :class:`RawBook`: metadata plus chapters of plain
paragraphs, the parts it skipped and any warnings. :func:`build_project` then cleans the
paragraphs (footnote markers, white space), checks them, and makes a
:class:`~studio.core.model.Project` and an :class:`ImportReport`.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from studio.core.model import (
    Block,
    BlockId,
    Chapter,
    ChapterId,
    Project,
    Voice,
    VoiceId,
    count_words,
    new_id,
    speakable_text,
)
from studio.core.textsplit import normalize_space, split_long

LONG_PARAGRAPH = 900  # characters; longer paragraphs get a sentence-boundary split offered


@dataclass(slots=True)
class RawChapter:
    """A chapter as read from the source: a title and plain-text paragraphs."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    source: str = ""  # where in the source it came from (file in an EPUB, page range, ...)


@dataclass(frozen=True, slots=True)
class SkippedPart:
    """A part of the source deliberately left out (cover, copyright page, ...)."""

    name: str
    reason: str


@dataclass(slots=True)
class RawBook:
    """What a reader found in a source, before cleaning and checks."""

    format: str
    title: str = ""
    author: str = ""
    language: str = ""
    chapters: list[RawChapter] = field(default_factory=list)
    skipped: list[SkippedPart] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    project: Project | None = None  # set by the JSON reader, which restores a whole project


@dataclass(frozen=True, slots=True)
class ImportWarning:
    """Something in the import worth the user's attention."""

    kind: str  # "empty-chapter", "long-paragraph", "encoding", "source", ...
    message: str
    chapter: int | None = None  # index into the report's chapters
    paragraph: int | None = None
    split: tuple[str, ...] = ()  # for long paragraphs: the offered sentence-boundary split


@dataclass(frozen=True, slots=True)
class ChapterReport:
    """Counts for one imported chapter."""

    title: str
    paragraphs: int
    words: int
    characters: int


@dataclass(slots=True)
class ImportReport:
    """What an import produced: counts, skipped parts and warnings."""

    source: str
    format: str
    title: str
    author: str
    chapters: list[ChapterReport] = field(default_factory=list)
    skipped: list[SkippedPart] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)
    splits_applied: int = 0

    @property
    def paragraphs(self) -> int:
        return sum(c.paragraphs for c in self.chapters)

    @property
    def words(self) -> int:
        return sum(c.words for c in self.chapters)

    @property
    def characters(self) -> int:
        return sum(c.characters for c in self.chapters)

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON data."""
        data = asdict(self)
        data.update(paragraphs=self.paragraphs, words=self.words, characters=self.characters)
        return data

    def to_text(self) -> str:
        """Return the report as lines for a terminal or a dialog."""
        lines = [
            f"Imported {self.source} ({self.format})",
            f"Title: {self.title}" + (f"  Author: {self.author}" if self.author else ""),
            f"{len(self.chapters)} chapters, {self.paragraphs} paragraphs, "
            f"{self.words} words, {self.characters} characters",
        ]
        width = len(str(len(self.chapters)))
        for i, c in enumerate(self.chapters, 1):
            lines.append(
                f"  {i:>{width}}. {c.title}  ({_plural(c.paragraphs, 'paragraph')}, "
                f"{_plural(c.words, 'word')})"
            )
        if self.skipped:
            lines.append("Skipped:")
            lines.extend(f"  - {s.name}: {s.reason}" for s in self.skipped)
        if self.splits_applied:
            lines.append(f"Split {self.splits_applied} long paragraph(s) at sentence boundaries")
        if self.warnings:
            lines.append("Warnings:")
            lines.extend(f"  - {w.message}" for w in self.warnings)
            if any(w.kind == "long-paragraph" for w in self.warnings):
                lines.append(
                    "Long paragraphs can be split at sentence boundaries "
                    "('studio import --split-long')."
                )
        return "\n".join(lines)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ---------------------------------------------------------------------------------------------
# Cleaning

_FOOTNOTE_TEXT = re.compile(
    r"(?<=[^\s\[]) ?\[(?:\d{1,3}|[*†‡§])\]"  # "word[12]"  "word.[*]"  "word [3]"
    r"|(?<=[A-Za-z.,;:!?’”\"')])[¹²³⁴⁵⁶⁷⁸⁹⁰]+"  # "word¹²"
)


_SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹⁰"


def _may_have_markers(text: str) -> bool:
    return "[" in text or (not text.isascii() and any(map(text.__contains__, _SUPERSCRIPTS)))


def clean_paragraph(text: str) -> str:
    """Return ``text`` with footnote markers removed and white space normalised."""
    if _may_have_markers(text):
        text = _FOOTNOTE_TEXT.sub("", text)
    return normalize_space(text)


def default_voice() -> Voice:
    """Return the voice a fresh project starts with (offline engine, US English)."""
    return Voice(VoiceId(new_id()), "Narrator", engine="offline", engine_voice_id="en-us")


def build_project(
    raw: RawBook,
    source: str,
    title: str | None = None,
    author: str | None = None,
    split_long_paragraphs: bool = False,
) -> tuple[Project, ImportReport]:
    """Clean and check a :class:`RawBook`; return the new project and the import report."""
    book_title = title or raw.title or "Untitled"
    book_author = author if author is not None else raw.author
    report = ImportReport(
        source=source,
        format=raw.format,
        title=book_title,
        author=book_author,
        skipped=list(raw.skipped),
        warnings=[ImportWarning("source", w) for w in raw.warnings],
    )
    if raw.project is not None:  # a project's own JSON export: restore it as it was
        project = raw.project
        if title:
            project.title = title
        if author is not None:
            project.author = author
        report.title, report.author = project.title, project.author
        for chapter in project.chapters:
            report.chapters.append(_chapter_report(chapter.title, [b.text for b in chapter.blocks]))
        return project, report

    project = Project(title=book_title, author=book_author, language=raw.language or "en")
    voice = default_voice()
    project.voices[voice.id] = voice
    project.default_voice_id = voice.id
    for ci, raw_chapter in enumerate(raw.chapters):
        title_text = normalize_space(raw_chapter.title) or f"Chapter {ci + 1}"
        texts: list[str] = []
        # One scan of the whole chapter tells whether any paragraph can hold a footnote
        # marker; most chapters have none and need only white-space normalising.
        joined = "".join(raw_chapter.paragraphs)
        clean = clean_paragraph if _may_have_markers(joined) else normalize_space
        for raw_text in raw_chapter.paragraphs:
            paragraph = clean(raw_text)
            if not paragraph:
                continue
            if len(paragraph) > LONG_PARAGRAPH:
                pieces = tuple(split_long(paragraph, LONG_PARAGRAPH))
                if split_long_paragraphs and len(pieces) > 1:
                    texts.extend(pieces)
                    report.splits_applied += 1
                    continue
                if len(pieces) > 1:
                    report.warnings.append(
                        ImportWarning(
                            "long-paragraph",
                            f"'{title_text}', paragraph {len(texts) + 1}: {len(paragraph)} "
                            f"characters; a split into {len(pieces)} at sentence boundaries is "
                            "offered",
                            chapter=ci,
                            paragraph=len(texts),
                            split=pieces,
                        )
                    )
            texts.append(paragraph)
        if not texts:
            report.warnings.append(
                ImportWarning("empty-chapter", f"'{title_text}' has no text", chapter=ci)
            )
        ids = _new_ids(len(texts))
        chapter = Chapter(
            ChapterId(new_id()),
            title_text,
            [Block(BlockId(i), t) for i, t in zip(ids, texts, strict=True)],
        )
        project.chapters.append(chapter)
        report.chapters.append(_chapter_report(title_text, texts))
    if not project.chapters or not any(c.blocks for c in project.chapters):
        report.warnings.append(ImportWarning("empty-book", "no text was found to narrate"))
    return project, report


def _new_ids(n: int) -> list[str]:
    """Return ``n`` fresh ids like :func:`new_id`, drawn in one system call."""
    pool = os.urandom(8 * n).hex()
    return [pool[i : i + 16] for i in range(0, 16 * n, 16)]


def _words(text: str) -> int:
    # Cleaned paragraphs have single spaces: counting them is much cheaper than splitting.
    if "<break" in text or "  " in text:
        return count_words(text)
    return text.count(" ") + 1 if text else 0


def _chapter_report(title: str, texts: list[str]) -> ChapterReport:
    return ChapterReport(
        title=title,
        paragraphs=len(texts),
        words=sum(_words(t) for t in texts),
        characters=sum(len(speakable_text(t)) for t in texts),
    )
