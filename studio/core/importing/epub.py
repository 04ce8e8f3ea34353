"""EPUB 2 and 3: spine order, chapter titles from the table of contents, no front matter.

Written on zipfile + lxml rather than ebooklib (AGPL, and slower): the container, the OPF
package, the EPUB 3 navigation document or EPUB 2 NCX are small, well-specified XML files.

Chapters follow the spine. A spine document becomes one chapter titled by its table-of-
contents entry; several entries pointing into one document (``file.xhtml#id``) split it; a
document with no entry continues the previous chapter unless it starts with its own heading.
Cover, title page, copyright, imprint, colophon, table of contents, endnotes and the like are
skipped and listed in the report.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from studio.core.errors import TextImportError
from studio.core.importing.base import RawBook, RawChapter, SkippedPart
from studio.core.importing.html import (
    Anchor,
    Heading,
    Para,
    extract_items,
    local_name,
    semantic_types,
)
from studio.core.importing.safety import SafeZip, parse_xml
from studio.core.textsplit import normalize_space

# Semantics that mark a document as matter not to narrate, with the reason shown to the user.
_SKIP_TYPES = {
    "cover": "cover",
    "titlepage": "title page",
    "halftitlepage": "half-title page",
    "copyright-page": "copyright page",
    "imprint": "imprint",
    "colophon": "colophon",
    "toc": "table of contents",
    "landmarks": "landmarks",
    "loi": "list of illustrations",
    "lot": "list of tables",
    "uncopyright": "licence",
    "endnotes": "endnotes",
    "footnotes": "footnotes",
    "rearnotes": "notes",
    "index": "index",
    "bibliography": "bibliography",
    "other-credits": "credits",
    "errata": "errata",
}
_GUIDE_TYPES = {
    "cover": "cover",
    "title-page": "title page",
    "copyright-page": "copyright page",
    "toc": "table of contents",
    "colophon": "colophon",
    "index": "index",
    "notes": "notes",
    "bibliography": "bibliography",
}
_NAME_HINTS = [
    (re.compile(r"(^|[-_/])cover([-_.]|$)", re.I), "cover"),
    (re.compile(r"(^|[-_/])(title|titlepage|halftitle)([-_.]|$)", re.I), "title page"),
    (re.compile(r"(^|[-_/])(copyright|imprint|rights)([-_.]|$)", re.I), "copyright page"),
    (re.compile(r"(^|[-_/])(toc|contents|nav)([-_.]|$)", re.I), "table of contents"),
    (re.compile(r"(^|[-_/])colophon([-_.]|$)", re.I), "colophon"),
]


@dataclass(frozen=True, slots=True)
class TocEntry:
    """One table-of-contents entry: its title, target document and fragment, and depth."""

    title: str
    path: str
    fragment: str
    depth: int


@dataclass(frozen=True, slots=True)
class ManifestItem:
    """One item of the OPF manifest."""

    id: str
    path: str
    media_type: str
    properties: frozenset[str]


def _resolve(base_dir: str, href: str) -> tuple[str, str]:
    href, _, fragment = href.partition("#")
    path = posixpath.normpath(posixpath.join(base_dir, unquote(href))) if href else ""
    return path, unquote(fragment)


def _text(el: etree._Element | None) -> str:
    return normalize_space("".join(el.itertext())) if el is not None else ""


def _find_all(root: etree._Element, name: str) -> list[etree._Element]:
    return [e for e in root.iter() if local_name(e) == name]


def _nav_entries(root: etree._Element, base: str) -> list[TocEntry]:
    navs = [n for n in _find_all(root, "nav") if "toc" in semantic_types(n)]
    if not navs:
        navs = _find_all(root, "nav")[:1]
    if not navs:
        return []
    entries: list[TocEntry] = []

    def walk(ol: etree._Element, depth: int) -> None:
        for li in ol:
            if local_name(li) != "li":
                continue
            for child in li:
                name = local_name(child)
                if name == "a" and child.get("href"):
                    path, frag = _resolve(base, child.get("href") or "")
                    entries.append(TocEntry(_text(child), path, frag, depth))
                elif name == "ol":
                    walk(child, depth + 1)

    for ol in navs[0]:
        if local_name(ol) == "ol":
            walk(ol, 0)
    return entries


def _ncx_entries(root: etree._Element, base: str) -> list[TocEntry]:
    entries: list[TocEntry] = []

    def walk(parent: etree._Element, depth: int) -> None:
        for point in parent:
            if local_name(point) != "navPoint".lower():
                continue
            label = next((c for c in point if local_name(c) == "navlabel"), None)
            content = next((c for c in point if local_name(c) == "content"), None)
            if content is not None and content.get("src"):
                path, frag = _resolve(base, content.get("src") or "")
                entries.append(TocEntry(_text(label), path, frag, depth))
            walk(point, depth + 1)

    nav_map = next((e for e in root.iter() if local_name(e) == "navmap"), None)
    if nav_map is not None:
        walk(nav_map, 0)
    return entries


def _skip_reason(doc: etree._Element, item: ManifestItem, guide: dict[str, str]) -> str | None:
    if "nav" in item.properties:
        return "table of contents"
    if item.path in guide:
        return guide[item.path]
    body = next((e for e in doc.iter() if local_name(e) == "body"), None)
    if body is not None:
        candidates = [body, *[c for c in body if local_name(c) in ("section", "div", "nav")]]
        matter_types = [semantic_types(c) for c in candidates]
        body_types = matter_types[0]
        for types in matter_types:
            for t in types:
                if t in _SKIP_TYPES and not (types - set(_SKIP_TYPES) - {"frontmatter",
                                                                         "backmatter"}):
                    return _SKIP_TYPES[t]
        if {"bodymatter", "chapter", "part"} & body_types:
            return None
    for pattern, reason in _NAME_HINTS:
        if pattern.search(posixpath.basename(item.path)):
            return reason
    return None


class _Package:
    """An EPUB's package document: metadata, manifest, spine, guide and table of contents."""

    def __init__(self, zf: SafeZip, source: Path) -> None:
        self.zf = zf
        self.source = source
        container = parse_xml(zf.read("META-INF/container.xml"), f"{source}: container.xml")
        rootfile = next((e for e in container.iter() if local_name(e) == "rootfile"), None)
        if rootfile is None or not rootfile.get("full-path"):
            raise TextImportError(source, "is not a valid EPUB: container.xml names no package")
        self.opf_path = posixpath.normpath(rootfile.get("full-path") or "")
        self.base = posixpath.dirname(self.opf_path)
        opf = parse_xml(zf.read(self.opf_path), f"{source}: {self.opf_path}")
        self.version = opf.get("version", "2.0")
        self.title = _text(next((e for e in opf.iter() if local_name(e) == "title"), None))
        creators = [e for e in opf.iter() if local_name(e) == "creator"]
        self.author = ", ".join(_text(c) for c in creators if _text(c))
        self.language = _text(next((e for e in opf.iter() if local_name(e) == "language"), None))
        self.manifest: dict[str, ManifestItem] = {}
        for el in opf.iter():
            if local_name(el) == "item" and el.get("id") and el.get("href"):
                path, _ = _resolve(self.base, el.get("href") or "")
                self.manifest[el.get("id") or ""] = ManifestItem(
                    el.get("id") or "",
                    path,
                    el.get("media-type") or "",
                    frozenset((el.get("properties") or "").split()),
                )
        spine_el = next((e for e in opf.iter() if local_name(e) == "spine"), None)
        if spine_el is None:
            raise TextImportError(source, "is not a valid EPUB: the package has no spine")
        self.spine: list[tuple[ManifestItem, bool]] = []
        for ref in spine_el:
            if local_name(ref) == "itemref" and ref.get("idref") in self.manifest:
                item = self.manifest[ref.get("idref") or ""]
                self.spine.append((item, ref.get("linear", "yes") != "no"))
        self.guide = {}
        for ref in opf.iter():
            if local_name(ref) == "reference" and ref.get("type") in _GUIDE_TYPES:
                path, _ = _resolve(self.base, ref.get("href") or "")
                self.guide[path] = _GUIDE_TYPES[ref.get("type") or ""]
        self.toc = self._toc(spine_el)

    def _toc(self, spine_el: etree._Element) -> list[TocEntry]:
        nav = next((i for i in self.manifest.values() if "nav" in i.properties), None)
        if nav is not None and self.zf.has(nav.path):
            root = parse_xml(self.zf.read(nav.path), f"{self.source}: {nav.path}", recover=True)
            entries = _nav_entries(root, posixpath.dirname(nav.path))
            if entries:
                return entries
        ncx_id = spine_el.get("toc")
        ncx = self.manifest.get(ncx_id or "") or next(
            (i for i in self.manifest.values() if i.media_type == "application/x-dtbncx+xml"),
            None,
        )
        if ncx is not None and self.zf.has(ncx.path):
            root = parse_xml(self.zf.read(ncx.path), f"{self.source}: {ncx.path}", recover=True)
            return _ncx_entries(root, posixpath.dirname(ncx.path))
        return []


def read(path: Path) -> RawBook:
    """Read an EPUB 2 or 3 book."""
    with SafeZip(path, "EPUB") as zf:
        if not zf.has("META-INF/container.xml"):
            raise TextImportError(path, "is not a valid EPUB: META-INF/container.xml is missing")
        pkg = _Package(zf, path)
        raw = RawBook(
            format=f"epub{pkg.version.split('.')[0]}",
            title=pkg.title,
            author=pkg.author,
            language=pkg.language.split("-")[0].lower(),
        )
        toc_by_path: dict[str, list[TocEntry]] = {}
        for entry in pkg.toc:
            toc_by_path.setdefault(entry.path, []).append(entry)
        # Entries whose document is skipped still tell us which file holds the TOC.
        for item, linear in pkg.spine:
            name = posixpath.relpath(item.path, pkg.base) if pkg.base else item.path
            if "html" not in item.media_type and not item.path.endswith((".xhtml", ".html",
                                                                         ".htm")):
                continue
            if not zf.has(item.path):
                raw.warnings.append(f"the book lists '{name}' but the file is missing")
                continue
            doc = parse_xml(zf.read(item.path), f"{path}: {name}", recover=True)
            reason = _skip_reason(doc, item, pkg.guide)
            entries = toc_by_path.get(item.path, [])
            if reason is None and not linear:
                reason = "not in the reading order (non-linear)"
            if reason is not None:
                label = entries[0].title if entries and entries[0].title else name
                raw.skipped.append(SkippedPart(label, reason))
                continue
            items = extract_items(doc)
            _add_document(raw, items, entries, name, doc)
        # A part's title page or a heading-only page has nothing to narrate; chapters are
        # dropped only now, so text in a following untitled document still joins them.
        for chapter in [c for c in raw.chapters if not c.paragraphs]:
            raw.skipped.append(SkippedPart(chapter.title, "no text to narrate"))
        raw.chapters = [c for c in raw.chapters if c.paragraphs]
        return raw


def _doc_title(doc: etree._Element) -> str:
    title = next((e for e in doc.iter() if local_name(e) == "title"), None)
    return _text(title)


def _add_document(
    raw: RawBook,
    items: list[Anchor | Heading | Para],
    entries: list[TocEntry],
    name: str,
    doc: etree._Element,
) -> None:
    """Add one spine document's text to the book, splitting it at its TOC entries."""
    # Where each chapter of this document starts: index into items, and its title.
    starts: list[tuple[int, str]] = []
    if entries:
        min_depth = min(e.depth for e in entries)
        # Prefer the deepest level that names this document when entries nest inside it
        # (a part entry and its chapter entries may point into the same file).
        fragment_entries = [e for e in entries if e.fragment]
        whole = [e for e in entries if not e.fragment]
        anchors = {it.id: i for i, it in enumerate(items) if isinstance(it, Anchor)}
        if whole:
            # "Part One" and "Chapter 1" may both name the chapter's file: use the deeper.
            head = max(whole, key=lambda e: e.depth)
            starts.append((0, head.title))
            if not _is_part(doc):
                # Entries nested under a whole-file entry are sections of that chapter
                # (Standard Ebooks' "I", "II", "III"), not chapters; only a part's file is
                # split at its sub-entries.
                fragment_entries = [e for e in fragment_entries if e.depth <= head.depth]
        for entry in fragment_entries:
            index = anchors.get(entry.fragment)
            if index is None:
                continue
            if not starts and _no_text_before(items, index):
                starts.append((0, entry.title))
            elif not starts:
                # Text before the first entry: it gets a title of its own, not the entry's.
                starts.append((0, _first_heading(items[:index]) or _doc_title(doc) or name))
                starts.append((index, entry.title))
            elif index > starts[-1][0] and _text_between(items, starts[-1][0], index):
                starts.append((index, entry.title))
            elif entry.depth > min_depth and not _text_between(items, starts[-1][0], index):
                starts[-1] = (starts[-1][0], entry.title)
        if not starts:
            starts.append((0, entries[0].title))
    else:
        first = next((it for it in items if isinstance(it, Para | Heading)), None)
        if isinstance(first, Heading) or not raw.chapters:
            starts.append((0, _first_heading(items) or _doc_title(doc) or name))
        else:
            raw.chapters[-1].paragraphs.extend(_paragraphs(items, 0, len(items), drop_lead=False))
            return
    for n, (start, title) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(items)
        paragraphs = _paragraphs(items, start, end, drop_lead=True)
        chapter_title = title or _first_heading(items[start:end]) or name
        raw.chapters.append(RawChapter(chapter_title, paragraphs, source=name))


_PART_TYPES = {"part", "volume", "division"}


def _is_part(doc: etree._Element) -> bool:
    """Return whether a document is marked as a part or volume (holding chapters)."""
    body = next((e for e in doc.iter() if local_name(e) == "body"), None)
    if body is None:
        return False
    wrappers = [body, *[c for c in body if local_name(c) in ("section", "div", "article")]]
    return any(semantic_types(w) & _PART_TYPES for w in wrappers)


def _no_text_before(items: list[Anchor | Heading | Para], index: int) -> bool:
    return not any(isinstance(it, Para) for it in items[:index])


def _text_between(items: list[Anchor | Heading | Para], a: int, b: int) -> bool:
    return any(isinstance(it, Para) for it in items[a:b])


def _first_heading(items: list[Anchor | Heading | Para]) -> str:
    return next((it.text for it in items if isinstance(it, Heading)), "")


def _paragraphs(
    items: list[Anchor | Heading | Para], start: int, end: int, drop_lead: bool
) -> list[str]:
    """Return the paragraphs of ``items[start:end]``; headings before the first text (the
    chapter's own title) are dropped, later headings (sections) kept as paragraphs."""
    out: list[str] = []
    for it in items[start:end]:
        if isinstance(it, Para) or (isinstance(it, Heading) and (out or not drop_lead)):
            out.append(it.text)
    return out
