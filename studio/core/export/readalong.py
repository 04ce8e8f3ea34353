"""A read-along book: EPUB 3 with media overlays, so e-readers highlight text as it is read.

Each chapter becomes an XHTML document whose sentences carry ids, a SMIL document pairing
each sentence with its clip of the chapter's MP3 (``<par><text/><audio clipBegin clipEnd/>``),
and the MP3 itself, written by the audio export pipeline (:func:`plan_export` and
:func:`run_export`, one file per chapter). Sentence clips come from where that export placed
each take (:mod:`studio.core.export.timedtext`), so highlighting matches the audio.

As with audio exports, :func:`plan_read_along` freezes what to write on the thread that owns
the project and :func:`run_read_along` writes it on a worker: into a hidden staging folder
beside the target, moved into place only when complete.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from lxml import etree

from studio.core.errors import CancelToken
from studio.core.export.assemble import AudioSource
from studio.core.export.options import (
    ExportError,
    ExportFormat,
    ExportOptions,
    Layout,
    Mastering,
    Metadata,
)
from studio.core.export.plan import ExportPlan, plan_export
from studio.core.export.run import (
    ExportedFile,
    ExportProgress,
    ExportResult,
    ProgressCallback,
    run_export,
)
from studio.core.export.timedtext import SentenceClip, paragraph_sentences
from studio.core.model import BlockId, ChapterId, Project, speakable_text

XHTML_NS: Final = "http://www.w3.org/1999/xhtml"
EPUB_NS: Final = "http://www.idpf.org/2007/ops"
OPF_NS: Final = "http://www.idpf.org/2007/opf"
DC_NS: Final = "http://purl.org/dc/elements/1.1/"
SMIL_NS: Final = "http://www.w3.org/ns/SMIL"
CONTAINER_NS: Final = "urn:oasis:names:tc:opendocument:xmlns:container"
ACTIVE_CLASS: Final = "read-along-active"
STYLE: Final = f"""body {{ font-family: serif; line-height: 1.5; margin: 1em; }}
h1 {{ font-size: 1.4em; margin: 1em 0; }}
p {{ text-indent: 1.2em; margin: 0 0 0.4em 0; }}
.{ACTIVE_CLASS} {{ background-color: #ffe58a; color: #000; }}
"""


@dataclass(frozen=True, slots=True)
class ChapterText:
    """A chapter's paragraphs as the reader sees them (break tags removed)."""

    chapter_id: ChapterId
    title: str
    paragraphs: tuple[tuple[BlockId, str], ...]


@dataclass(frozen=True, slots=True)
class ReadAlongPlan:
    """Everything a worker needs to write a read-along EPUB, frozen from the project."""

    target: Path
    audio: ExportPlan  # the chapters' MP3s (its target is replaced by a staging folder)
    chapters: tuple[ChapterText, ...]  # in the order of the audio plan's files
    metadata: Metadata
    language: str
    identifier: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChapterOverlay:
    """One chapter in the book: its documents and what its overlay says."""

    title: str
    stem: str  # "ch001"
    audio: ExportedFile
    sentences: int
    duration_s: float  # the sum of its clips (the overlay's media:duration)


@dataclass(frozen=True, slots=True)
class ReadAlongResult:
    """What a read-along export wrote."""

    target: Path
    chapters: tuple[ChapterOverlay, ...]
    warnings: tuple[str, ...]
    seconds: float
    audio: ExportResult = field(repr=False)

    @property
    def duration_s(self) -> float:
        return sum(c.duration_s for c in self.chapters)


def clock(seconds: float) -> str:
    """Return a SMIL full clock value, ``h:mm:ss.fff``."""
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h}:{m:02d}:{s:02d}.{ms:03d}"


def plan_read_along(
    project: Project,
    target: str | Path,
    *,
    chapters: tuple[ChapterId, ...] | None = None,
    bitrate_kbps: int = 128,
    mastering: Mastering | None = None,
    allow_missing: bool = False,
    metadata: Metadata | None = None,
) -> ReadAlongPlan:
    """Return what a read-along EPUB of ``project`` at ``target`` (``.epub``) will hold.

    Raises:
        ExportError: the name does not end in ``.epub``, the scope is empty, or paragraphs
            have no audio and ``allow_missing`` is false.
    """
    target = Path(target)
    if target.suffix.lower() != ".epub":
        raise ExportError(f"{target}: a read-along book's file name must end in .epub")
    options = ExportOptions(
        format=ExportFormat.MP3, layout=Layout.PER_CHAPTER, chapters=chapters,
        bitrate_kbps=bitrate_kbps, mastering=mastering or Mastering(), acx_check=False,
        allow_missing=allow_missing, metadata=metadata,
    )
    audio = plan_export(project, options, target.with_suffix(""))
    texts: list[ChapterText] = []
    for file in audio.files:
        chapter = project.chapter(file.chapters[0].chapter_id)
        paragraphs = tuple(
            (b.id, " ".join(speakable_text(b.text).split())) for b in chapter.blocks
            if speakable_text(b.text).strip()
        )
        texts.append(ChapterText(chapter.id, chapter.title, paragraphs))
    ident = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'narrator-studio:{project.id}')}"
    return ReadAlongPlan(target, audio, tuple(texts), audio.metadata,
                         project.language or "en", ident, audio.warnings)


# ---------------------------------------------------------------------------------------------
# Documents


def _xml(root: etree._Element, doctype: str | None = None) -> bytes:
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True, doctype=doctype)
    return out


def _sub(parent: etree._Element, tag: str, text: str | None = None,
         **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, {k.replace("__", ":"): v for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def _xhtml_root(title: str, language: str, css: str) -> tuple[etree._Element, etree._Element]:
    root = etree.Element(f"{{{XHTML_NS}}}html", nsmap={None: XHTML_NS, "epub": EPUB_NS})
    root.set("{http://www.w3.org/XML/1998/namespace}lang", language)
    root.set("lang", language)
    head = _sub(root, f"{{{XHTML_NS}}}head")
    _sub(head, f"{{{XHTML_NS}}}meta", charset="utf-8")
    _sub(head, f"{{{XHTML_NS}}}title", title)
    _sub(head, f"{{{XHTML_NS}}}link", rel="stylesheet", type="text/css", href=css)
    body = _sub(root, f"{{{XHTML_NS}}}body")
    return root, body


def chapter_documents(
    text: ChapterText, audio: ExportedFile, stem: str, language: str
) -> tuple[bytes, bytes, int, float]:
    """Return a chapter's XHTML and SMIL, its sentence count and its overlay's duration.

    Paragraphs with audio get one ``<span id>`` per sentence, each paired in the SMIL with
    its clip; paragraphs without audio are plain text.
    """
    placed = {p.paragraph.block_id: (i, p) for i, p in enumerate(audio.paragraphs)}
    root, body = _xhtml_root(text.title, language, "../style.css")
    section = _sub(body, f"{{{XHTML_NS}}}section", id=f"{stem}-section")
    section.set(f"{{{EPUB_NS}}}type", "chapter")
    _sub(section, f"{{{XHTML_NS}}}h1", text.title, id=f"{stem}-title")
    smil = etree.Element(f"{{{SMIL_NS}}}smil", nsmap={None: SMIL_NS, "epub": EPUB_NS},
                         version="3.0")
    seq = _sub(_sub(smil, f"{{{SMIL_NS}}}body"), f"{{{SMIL_NS}}}seq", id=f"{stem}-seq")
    seq.set(f"{{{EPUB_NS}}}textref", f"../text/{stem}.xhtml#{stem}-section")
    seq.set(f"{{{EPUB_NS}}}type", "chapter")
    count = 0
    total_ms = 0
    for n, (block_id, plain) in enumerate(text.paragraphs, 1):
        p = _sub(section, f"{{{XHTML_NS}}}p", id=f"{stem}-p{n}")
        where = placed.get(block_id)
        clips: list[SentenceClip] = paragraph_sentences(where[1], where[0]) if where else []
        if not clips:
            p.text = plain
            continue
        last: etree._Element | None = None
        for clip in clips:
            count += 1
            sid = f"{stem}-s{count}"
            span = _sub(p, f"{{{XHTML_NS}}}span", clip.text, id=sid)
            if last is not None:
                last.tail = " "
            last = span
            begin, end = round(clip.start * 1000), round(clip.end * 1000)
            total_ms += end - begin
            par = _sub(seq, f"{{{SMIL_NS}}}par", id=f"{stem}-par{count}")
            _sub(par, f"{{{SMIL_NS}}}text", src=f"../text/{stem}.xhtml#{sid}")
            _sub(par, f"{{{SMIL_NS}}}audio", src=f"../audio/{stem}.mp3",
                 clipBegin=clock(begin / 1000), clipEnd=clock(end / 1000))
    if count == 0:  # a SMIL seq may not be empty: pair the heading with the whole file
        par = _sub(seq, f"{{{SMIL_NS}}}par", id=f"{stem}-par0")
        _sub(par, f"{{{SMIL_NS}}}text", src=f"../text/{stem}.xhtml#{stem}-title")
        end = round(audio.duration_s * 1000)
        _sub(par, f"{{{SMIL_NS}}}audio", src=f"../audio/{stem}.mp3", clipBegin=clock(0),
             clipEnd=clock(end / 1000))
        total_ms = end
    return _xml(root, "<!DOCTYPE html>"), _xml(smil), count, total_ms / 1000


def nav_document(titles: list[tuple[str, str]], title: str, language: str) -> bytes:
    """Return the EPUB navigation document (table of contents) for ``(stem, title)`` pairs."""
    root, body = _xhtml_root(title, language, "style.css")
    nav = _sub(body, f"{{{XHTML_NS}}}nav", id="toc")
    nav.set(f"{{{EPUB_NS}}}type", "toc")
    _sub(nav, f"{{{XHTML_NS}}}h1", "Contents")
    ol = _sub(nav, f"{{{XHTML_NS}}}ol")
    for stem, chapter_title in titles:
        li = _sub(ol, f"{{{XHTML_NS}}}li")
        _sub(li, f"{{{XHTML_NS}}}a", chapter_title or stem, href=f"text/{stem}.xhtml")
    return _xml(root, "<!DOCTYPE html>")


def package_document(plan: ReadAlongPlan, chapters: list[ChapterOverlay],
                     cover: tuple[str, str] | None, modified: str) -> bytes:
    """Return the OPF package document with the media overlay properties and durations."""
    meta = plan.metadata
    root = etree.Element(f"{{{OPF_NS}}}package", nsmap={None: OPF_NS}, version="3.0")
    root.set("unique-identifier", "book-id")
    root.set("{http://www.w3.org/XML/1998/namespace}lang", plan.language)
    md = etree.SubElement(root, f"{{{OPF_NS}}}metadata", nsmap={"dc": DC_NS})
    _sub(md, f"{{{DC_NS}}}identifier", plan.identifier, id="book-id")
    _sub(md, f"{{{DC_NS}}}title", meta.title or "Untitled")
    _sub(md, f"{{{DC_NS}}}language", plan.language)
    if meta.author:
        _sub(md, f"{{{DC_NS}}}creator", meta.author, id="author")
    if meta.publisher:
        _sub(md, f"{{{DC_NS}}}publisher", meta.publisher)
    if meta.description:
        _sub(md, f"{{{DC_NS}}}description", meta.description)
    _sub(md, f"{{{OPF_NS}}}meta", modified, property="dcterms:modified")
    total_ms = 0
    for c in chapters:
        ms = round(c.duration_s * 1000)
        total_ms += ms
        _sub(md, f"{{{OPF_NS}}}meta", clock(ms / 1000), property="media:duration",
             refines=f"#{c.stem}-overlay")
    _sub(md, f"{{{OPF_NS}}}meta", clock(total_ms / 1000), property="media:duration")
    if meta.narrator:
        _sub(md, f"{{{OPF_NS}}}meta", meta.narrator, property="media:narrator")
    _sub(md, f"{{{OPF_NS}}}meta", ACTIVE_CLASS, property="media:active-class")
    manifest = _sub(root, f"{{{OPF_NS}}}manifest")
    _sub(manifest, f"{{{OPF_NS}}}item", id="nav", href="nav.xhtml",
         **{"media-type": "application/xhtml+xml", "properties": "nav"})
    _sub(manifest, f"{{{OPF_NS}}}item", id="css", href="style.css",
         **{"media-type": "text/css"})
    if cover is not None:
        _sub(manifest, f"{{{OPF_NS}}}item", id="cover-image", href=cover[0],
             **{"media-type": cover[1], "properties": "cover-image"})
    for c in chapters:
        _sub(manifest, f"{{{OPF_NS}}}item", id=c.stem, href=f"text/{c.stem}.xhtml",
             **{"media-type": "application/xhtml+xml", "media-overlay": f"{c.stem}-overlay"})
        _sub(manifest, f"{{{OPF_NS}}}item", id=f"{c.stem}-overlay", href=f"smil/{c.stem}.smil",
             **{"media-type": "application/smil+xml"})
        _sub(manifest, f"{{{OPF_NS}}}item", id=f"{c.stem}-audio", href=f"audio/{c.stem}.mp3",
             **{"media-type": "audio/mpeg"})
    spine = _sub(root, f"{{{OPF_NS}}}spine")
    for c in chapters:
        _sub(spine, f"{{{OPF_NS}}}itemref", idref=c.stem)
    return _xml(root)


CONTAINER: Final = f"""<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="{CONTAINER_NS}">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
""".encode()


# ---------------------------------------------------------------------------------------------
# Writing


def _write_epub(path: Path, plan: ReadAlongPlan, files: tuple[ExportedFile, ...],
                cancel: CancelToken) -> list[ChapterOverlay]:
    chapters: list[ChapterOverlay] = []
    width = max(3, len(str(len(files))))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        # The mimetype comes first, stored: readers identify the file by its first bytes.
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip",
                    compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/container.xml", CONTAINER)
        zf.writestr("OEBPS/style.css", STYLE)
        for n, (text, audio) in enumerate(zip(plan.chapters, files, strict=True), 1):
            cancel.raise_if_cancelled("export")
            stem = f"ch{n:0{width}d}"
            xhtml, smil, count, duration = chapter_documents(text, audio, stem, plan.language)
            zf.writestr(f"OEBPS/text/{stem}.xhtml", xhtml)
            zf.writestr(f"OEBPS/smil/{stem}.smil", smil)
            zf.write(audio.path, f"OEBPS/audio/{stem}.mp3", compress_type=zipfile.ZIP_STORED)
            chapters.append(ChapterOverlay(text.title, stem, audio, count, duration))
        cover = None
        meta = plan.metadata
        if meta.cover and meta.cover_mime in ("image/jpeg", "image/png"):
            name = "images/cover." + ("jpg" if meta.cover_mime == "image/jpeg" else "png")
            zf.writestr(f"OEBPS/{name}", meta.cover, compress_type=zipfile.ZIP_STORED)
            cover = (name, meta.cover_mime)
        zf.writestr("OEBPS/nav.xhtml", nav_document([(c.stem, c.title) for c in chapters],
                                                    meta.title or "Contents", plan.language))
        modified = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        zf.writestr("OEBPS/content.opf", package_document(plan, chapters, cover, modified))
    return chapters


def run_read_along(
    plan: ReadAlongPlan,
    audio: AudioSource | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ReadAlongResult:
    """Write the read-along EPUB ``plan`` describes; safe to run on a worker thread.

    Raises:
        ExportError: a take's audio cannot be used, or the target cannot be written.
        Cancelled: nothing was changed on disk.
    """
    started = time.monotonic()
    cancel = cancel or CancelToken()
    target = plan.target
    if not target.parent.is_dir():
        raise ExportError(f"{target.parent}: the folder does not exist")
    if target.is_dir():
        raise ExportError(f"{target}: is a folder; give a file name")
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial",
                                        dir=target.parent))
    except OSError as exc:
        raise ExportError(f"{target.parent}: cannot write here ({exc.strerror})") from None

    def audio_progress(p: ExportProgress) -> None:
        if progress is not None:
            progress(dataclasses.replace(p, fraction=p.fraction * 0.97))

    try:
        audio_plan = dataclasses.replace(plan.audio, target=staging / "audio")
        result = run_export(audio_plan, audio, audio_progress, cancel)
        book = staging / "book.epub"
        try:
            chapters = _write_epub(book, plan, result.files, cancel)
            cancel.raise_if_cancelled("export")
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(book, 0o666 & ~umask)
            os.replace(book, target)
        except OSError as exc:
            raise ExportError(f"{target}: cannot be written: {exc.strerror or exc}; nothing "
                              "was changed") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if progress is not None:
        progress(ExportProgress("finishing", 1.0, target.name, len(chapters), len(chapters)))
    return ReadAlongResult(target, tuple(chapters), result.warnings,
                           time.monotonic() - started, result)


def export_read_along(project: Project, target: str | Path, audio: AudioSource | None = None,
                      progress: ProgressCallback | None = None,
                      cancel: CancelToken | None = None, **options: object) -> ReadAlongResult:
    """Plan and write a read-along EPUB in one call (scripts and tests)."""
    plan = plan_read_along(project, target, **options)  # type: ignore[arg-type]
    return run_read_along(plan, audio, progress, cancel)


__all__ = [
    "ReadAlongPlan",
    "ReadAlongResult",
    "clock",
    "export_read_along",
    "plan_read_along",
    "run_read_along",
]
