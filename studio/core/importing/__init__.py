"""Turn manuscripts (files or article URLs) into projects.

``import_source(path_or_url)`` picks the reader by extension, checks the content really is of
that kind, and returns ``(project, report)``. Readers live one per format in this package.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from studio.core.errors import TextImportError
from studio.core.importing.base import (
    ImportReport,
    ImportWarning,
    RawBook,
    RawChapter,
    SkippedPart,
    build_project,
)
from studio.core.importing.safety import check_file
from studio.core.model import Project

__all__ = [
    "FORMATS",
    "ImportReport",
    "ImportWarning",
    "RawBook",
    "RawChapter",
    "SkippedPart",
    "detect_format",
    "import_source",
    "read_source",
]

#: extension -> format name (= reader module in this package)
FORMATS: dict[str, str] = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".epub": "epub",
    ".docx": "docx",
    ".pdf": "pdf",
    ".json": "json_text",
}

_READERS = {
    "txt": "studio.core.importing.txt",
    "markdown": "studio.core.importing.txt",
    "html": "studio.core.importing.html",
    "epub": "studio.core.importing.epub",
    "docx": "studio.core.importing.docx",
    "pdf": "studio.core.importing.pdf",
    "json_text": "studio.core.importing.json_text",
}


def is_url(source: str | Path) -> bool:
    """Return whether ``source`` is an http(s) URL."""
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def _sniff(path: Path) -> str | None:
    with path.open("rb") as fh:
        head = fh.read(2048)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        if b"mimetypeapplication/epub+zip" in head:
            return "epub"
        if b"word/" in head or b"[Content_Types].xml" in head:
            return "docx"
        return "zip"
    stripped = head.lstrip().lower()
    if stripped.startswith(b"{") and b"narrator-studio/text" in head:
        return "json_text"
    if stripped.startswith((b"<!doctype html", b"<html", b"<?xml")):
        return "html"
    return None


def detect_format(path: Path) -> str:
    """Return the reader for ``path``, checking that the content matches its extension."""
    check_file(path)
    ext = path.suffix.lower()
    sniffed = _sniff(path)
    fmt = FORMATS.get(ext)
    if fmt is None:
        if sniffed in (None, "zip"):
            known = ", ".join(sorted(FORMATS))
            raise TextImportError(path, f"unknown manuscript type '{ext}' (supported: {known})")
        return sniffed
    if fmt in ("epub", "docx") and sniffed not in (fmt, "zip"):
        what = "EPUB" if fmt == "epub" else "Word (DOCX)"
        raise TextImportError(path, f"is not a valid {what} file: it is not a ZIP archive")
    if fmt == "pdf" and sniffed != "pdf":
        raise TextImportError(path, "is not a valid PDF file: it has no PDF header")
    return fmt


def read_source(source: str | Path) -> RawBook:
    """Read a file or article URL into a :class:`RawBook`."""
    if is_url(source):
        from studio.core.importing import article

        return article.read_url(str(source))
    path = Path(source)
    fmt = detect_format(path)
    module = importlib.import_module(_READERS[fmt])
    raw: RawBook = module.read(path) if fmt != "markdown" else module.read_markdown(path)
    return raw


def import_source(
    source: str | Path,
    *,
    title: str | None = None,
    author: str | None = None,
    split_long: bool = False,
) -> tuple[Project, ImportReport]:
    """Import a manuscript file or article URL; return the project and the import report.

    Raises:
        TextImportError: the source cannot be read or holds no text to narrate.
    """
    raw = read_source(source)
    default_title = ""
    if not is_url(source):
        default_title = Path(source).stem.replace("_", " ").replace("-", " ").strip().title()
    project, report = build_project(
        raw,
        str(source),
        title=title or raw.title or default_title or None,
        author=author,
        split_long_paragraphs=split_long,
    )
    if not any(chapter.blocks for chapter in project.chapters):
        raise TextImportError(source, "contains no text to narrate")
    return project, report
