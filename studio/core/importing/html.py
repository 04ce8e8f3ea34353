"""HTML and XHTML: turn a document tree into headings and paragraphs (shared with EPUB).

The walker emits a flat stream of items in reading order: anchors (element ids, so an EPUB's
table of contents can point into the middle of a file), headings and paragraphs. Footnote
references and footnote bodies are dropped; scripts, styles and navigation are ignored.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import lxml.html
from lxml import etree

from studio.core.errors import TextImportError
from studio.core.importing.base import RawBook, RawChapter, SkippedPart
from studio.core.importing.safety import (
    MAX_TEXT_BYTES,
    decode_text,
    parse_xml,
    read_file,
    refuse_entity_declarations,
)
from studio.core.importing.txt import detect_chapters
from studio.core.model import break_tag
from studio.core.textsplit import normalize_space

EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"

_SKIP = {"script", "style", "head", "title", "noscript", "template", "svg", "math", "rt", "rp",
         "nav", "button", "form", "input", "select", "textarea", "iframe", "object", "audio",
         "video", "img", "link", "meta"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS = {"p", "div", "li", "ul", "ol", "dl", "dd", "dt", "blockquote", "pre", "section",
           "article", "aside", "header", "footer", "main", "body", "html", "table", "thead",
           "tbody", "tfoot", "tr", "td", "th", "figure", "figcaption", "caption", "address",
           "hgroup", "hr", "center", "details", "summary", "fieldset", *_HEADINGS}
_NOTE_TYPES = {"noteref", "footnote", "footnotes", "endnote", "endnotes", "rearnote",
               "rearnotes", "annoref", "note"}
_NOTE_ROLES = {"doc-noteref", "doc-footnote", "doc-endnote", "doc-endnotes", "doc-biblioref"}
_BR = "\ue000"  # a <br> while collecting text (a private-use character, never in books)
_BREAKS = re.compile(f"{_BR}(?:\\s*{_BR})+")
_MARKER = re.compile(r"^\s*[\[(]?\s*(?:\d{1,4}|[*†‡§¶a-z])\s*[\])]?\s*$")


@dataclass(frozen=True, slots=True)
class Anchor:
    """An element id: where a table-of-contents fragment can point."""

    id: str


@dataclass(frozen=True, slots=True)
class Heading:
    """A heading of ``level`` 1-6."""

    level: int
    text: str


@dataclass(frozen=True, slots=True)
class Para:
    """A paragraph of text."""

    text: str


Item = Anchor | Heading | Para


_NAMES: dict[str, str] = {}


def _break_seconds(value: str) -> float | None:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*", value)
    if not match:
        return None
    number = float(match.group(1))
    return number / 1000 if match.group(2) == "ms" else number


def local_name(el: etree._Element) -> str:
    """Return an element's tag without namespace, lower-cased ('' for comments)."""
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    name = _NAMES.get(tag)
    if name is None:
        name = _NAMES[tag] = tag.rsplit("}", 1)[-1].lower()
    return name


def semantic_types(el: etree._Element) -> set[str]:
    """Return the EPUB/ARIA semantics of an element (``epub:type`` and ``role`` words)."""
    value = el.get(EPUB_TYPE) or el.get("epub:type") or ""
    words = {w.rsplit(":", 1)[-1].lower() for w in value.split()}
    role = el.get("role")
    if role:
        words.update(r.lower() for r in role.split())
    return words


def _is_note(el: etree._Element, name: str) -> bool:
    if name != "sup" and not el.attrib:
        return False  # notes are marked by attributes; only a bare <sup>1</sup> is not
    types = semantic_types(el)
    if types & _NOTE_TYPES or types & _NOTE_ROLES:
        return True
    cls = (el.get("class") or "").lower()
    if name in ("aside", "section", "div", "ol") and ("footnote" in cls or "endnote" in cls):
        return True
    if name == "sup" and _MARKER.match("".join(el.itertext())):
        return True
    if name == "a":
        href = el.get("href") or ""
        text = "".join(el.itertext())
        if ("footnote" in cls or "noteref" in cls or re.search(r"#(fn|note|ftn|en)", href)) and (
            _MARKER.match(text) or not text.strip()
        ):
            return True
    return False


def _is_page_footer(el: etree._Element, name: str) -> bool:
    """Return whether ``el`` is a web page's footer (copyright line, site links).

    Only a footer of the whole page counts: footers inside an article or a quotation (a
    letter's signature in an ebook) are text to narrate.
    """
    if name != "footer":
        return False
    parent = el.getparent()
    return "contentinfo" in semantic_types(el) or (
        parent is not None and local_name(parent) == "body"
    )


class _Walker:
    """Flatten a document tree into :data:`Item` s."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self._inline: list[str] = []

    def flush(self) -> None:
        # Paragraph text is left as found; build_project normalises white space once.
        text = "".join(self._inline)
        self._inline = []
        if _BR in text:
            # Two or more line breaks in a row separate paragraphs (old web pages do
            # this instead of <p>); a single one is a line break inside the paragraph.
            for piece in _BREAKS.split(text):
                piece = piece.replace(_BR, " ")
                if piece and not piece.isspace():
                    self.items.append(Para(piece))
            return
        if text and not text.isspace():
            self.items.append(Para(text))

    def inline_text(self, el: etree._Element) -> str:
        """Return the text of an inline subtree, without notes and skipped elements."""
        parts: list[str] = []
        self._collect(el, parts)
        return "".join(parts)

    def _collect(self, el: etree._Element, parts: list[str]) -> None:
        name = local_name(el)
        if name and name not in _SKIP and not _is_note(el, name):
            if name == "br":
                parts.append(_BR)
            elif name == "break":
                # An inline pause written in the manuscript: keep it as our break tag.
                seconds = _break_seconds(el.get("time") or "")
                if seconds is not None:
                    parts.append(f" {break_tag(seconds)} ")
            if el.text:
                parts.append(el.text)
            for child in el:
                self._collect(child, parts)
                if child.tail:
                    parts.append(child.tail)
            if name in _BLOCKS:
                parts.append(" ")

    def walk(self, el: etree._Element) -> None:
        name = local_name(el)
        if not name or name in _SKIP or _is_note(el, name) or _is_page_footer(el, name):
            return
        el_id = el.get("id")
        if el_id:
            self.flush()
            self.items.append(Anchor(el_id))
        if name in _HEADINGS:
            self.flush()
            text = normalize_space(self.inline_text(el).replace(_BR, " "))
            if text:
                self.items.append(Heading(_HEADINGS[name], text))
            return
        if name == "hgroup":
            self.flush()
            levels = [_HEADINGS[local_name(c)] for c in el if local_name(c) in _HEADINGS]
            parts = [normalize_space(self.inline_text(c).replace(_BR, " ")) for c in el]
            text = ": ".join(p for p in parts if p)
            if text:
                self.items.append(Heading(min(levels) if levels else 2, text))
            return
        is_block = name in _BLOCKS
        if is_block and len(el) == 0:  # the common leaf paragraph: no inline markup at all
            self.flush()
            if el.text:
                self._inline.append(el.text)
                self.flush()
            return
        has_block_child = is_block and any(local_name(c) in _BLOCKS for c in el)
        if is_block and not has_block_child:
            self.flush()
            self._inline.append(self.inline_text(el))
            self.flush()
            return
        if is_block:
            self.flush()
        if el.text:
            self._inline.append(el.text)
        items = self.items
        inline = self._inline
        for child in el:
            child_name = _NAMES.get(child.tag) or local_name(child)
            if child_name == "p" and len(child) == 0 and not child.attrib:
                # The bulk of every book: a bare paragraph of plain text. Same result as
                # walk(child), without the general checks.
                if inline:
                    self.flush()
                    inline = self._inline
                text = child.text
                if text and not text.isspace():
                    items.append(Para(text))
            elif child_name in _BLOCKS or child.get("id"):
                self.walk(child)
                inline = self._inline
            else:
                self._collect(child, inline)
            tail = child.tail
            # White space between blocks separates nothing; keep it only inside inline runs.
            if tail and (inline or not tail.isspace()):
                inline.append(tail)
        if is_block:
            self.flush()


def extract_items(root: etree._Element) -> list[Item]:
    """Return the headings, paragraphs and anchors of a document in reading order."""
    body = None
    for el in root.iter():
        if local_name(el) == "body":
            body = el
            break
    walker = _Walker()
    walker.walk(body if body is not None else root)
    walker.flush()
    return walker.items


def parse_html_text(text: str, source: str | Path) -> etree._Element:
    """Parse an HTML document from text (forgiving, no network, no entity expansion)."""
    parser = lxml.html.HTMLParser(remove_comments=True, no_network=True, recover=True)
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise TextImportError(source, f"is not a readable HTML document ({exc})") from None
    return root


def chapters_from_items(
    items: list[Item], book_title: str
) -> tuple[str, list[RawChapter], list[SkippedPart]]:
    """Group items into chapters at the top heading level used more than once.

    Returns the document title found (a lone top-level heading above the chapters), the
    chapters and the parts skipped. Without usable headings, chapter detection falls back
    to heading-like paragraphs ("Chapter 1").
    """
    headings = [it for it in items if isinstance(it, Heading)]
    counts = Counter(h.level for h in headings)
    doc_title = ""
    chapter_level = None
    for level in sorted(counts):
        if counts[level] >= 2:
            chapter_level = level
            break
    if chapter_level is None:
        if len(headings) == 1 or (headings and counts[min(counts)] == 1):
            doc_title = headings[0].text
        paragraphs = [it.text for it in items if isinstance(it, Para)]
        found, found_skipped = detect_chapters(paragraphs, doc_title or book_title)
        return doc_title, found, found_skipped
    top = [h for h in headings if h.level < chapter_level]
    if len(top) == 1:
        doc_title = top[0].text
    chapters: list[RawChapter] = []
    preamble: list[str] = []
    for it in items:
        if isinstance(it, Heading) and it.level <= chapter_level:
            if it.level == chapter_level:
                chapters.append(RawChapter(it.text))
        elif isinstance(it, (Heading, Para)):
            (chapters[-1].paragraphs if chapters else preamble).append(it.text)
    skipped: list[SkippedPart] = []
    if preamble:
        if len(preamble) <= 3 and sum(len(p) for p in preamble) < 300:
            skipped.append(SkippedPart(" / ".join(preamble)[:80], "title page"))
        else:
            chapters.insert(0, RawChapter("Opening", preamble))
    return doc_title, chapters, skipped


def book_from_html_tree(root: etree._Element, source: str | Path) -> RawBook:
    """Make a :class:`RawBook` from a parsed HTML document."""
    raw = RawBook(format="html")
    title_el = next((e for e in root.iter() if local_name(e) == "title"), None)
    page_title = normalize_space("".join(title_el.itertext())) if title_el is not None else ""
    for meta in root.iter():
        if local_name(meta) == "meta" and (meta.get("name") or "").lower() == "author":
            raw.author = normalize_space(meta.get("content") or "")
    lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    raw.language = (lang or "").split("-")[0].lower()
    doc_title, raw.chapters, raw.skipped = chapters_from_items(
        extract_items(root), page_title or Path(source).stem
    )
    raw.title = doc_title or page_title
    return raw


def read(path: Path) -> RawBook:
    """Read an HTML or XHTML manuscript."""
    data = read_file(path, MAX_TEXT_BYTES)
    refuse_entity_declarations(data, path)  # HTML parsers show declarations as text
    head = data[:512].lstrip().lower()
    if path.suffix.lower() == ".xhtml" or head.startswith(b"<?xml"):
        root = parse_xml(data, str(path), recover=True)
        return book_from_html_tree(root, path)
    text, warning = decode_text(data, path)
    raw = book_from_html_tree(parse_html_text(text, path), path)
    if warning:
        raw.warnings.append(warning)
    return raw
