"""Read the text layer of PDF manuscripts into chapters and paragraphs.

A PDF has no paragraphs, only positioned lines of text. This reader gets each line's position
and font size from pypdf's ``visitor_text`` callback and rebuilds the book from them: running
headers, footers and page numbers are dropped, words hyphenated at line ends are joined, and
paragraphs start at a vertical gap or a first-line indent. Chapters come from the outline
(bookmarks) when there is one, else from heading lines ("Chapter 3", "PROLOGUE", or a clearly
larger font). Scanned PDFs without a text layer are refused with a hint to run OCR.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import re
import statistics
import zlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, PyPdfError

from studio.core.errors import TextImportError
from studio.core.importing.base import RawBook, RawChapter, SkippedPart
from studio.core.textsplit import normalize_space

log = logging.getLogger(__name__)

FURNITURE_LINES = 2  # lines at the top and at the bottom of a page that may be headers/footers
FURNITURE_SHARE = 0.3  # a header recurs on at least this share of the pages ...
FURNITURE_MIN_PAGES = 3  # ... and on at least this many
HEADING_SCALE = 1.2  # a line this much larger than the body text is a heading
PARAGRAPH_GAP = 1.35  # a gap this many times the usual line spacing starts a paragraph
SHORT_LINE = 0.7  # a line shorter than this share of the usual line may end a paragraph
TITLE_PAGE_MAX_PARAGRAPHS = 6  # title, subtitle, author, publisher, place, year
TITLE_PAGE_MAX_CHARS = 300

_NUMBER_WORD = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    r"(?:[-\s](?:one|two|three|four|five|six|seven|eight|nine))?"
    r"|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen|eighteen|nineteen|hundred)"
)
_SEPARATOR = r"(?:\s*[:.\-–—]\s*(?P<sub>\S.{0,80}))?"
_HEADING = re.compile(
    rf"^(?:(?:chapter|chap\.|part|book)\s+(?:\d{{1,4}}|[ivxlcdm]{{1,8}}|{_NUMBER_WORD})\.?"
    rf"|prologue|epilogue|preface|foreword|introduction|afterword|interlude|"
    rf"acknowledge?ments){_SEPARATOR}$",
    re.IGNORECASE,
)
_TOC_SUFFIX = re.compile(r"(?:(?:[.·…]\s*){2,}|\s)\d{1,4}$")  # "The Storm ....... 12"
_TOC_LINE = re.compile(r"(?:[.·]\s?){4,}\s*(?:\d{1,4}|[ivxlc]{1,6})$", re.IGNORECASE)
_CONTENTS = re.compile(r"^(?:table of )?contents$", re.IGNORECASE)
_PAGE_NUMBER = re.compile(
    r"^(?:page\s+)?(?:\d{1,4}|[ivxlcdm]{1,7})(?:\s+of\s+\d{1,4})?$"
    r"|^[-–—]\s*(?:\d{1,4}|[ivxlcdm]{1,7})\s*[-–—]$",
    re.IGNORECASE,
)
_UPPER_ROMAN = re.compile(r"^[IVXLCDM]+$")
_DIGITS = re.compile(r"\d+")
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’»)\]]*$")
_OPENING_PUNCT = "\"'“‘«([—–-"
_FRONT_MATTER = re.compile(
    r"^(?:cover|front cover|title page|title|half[- ]title|copyright(?: page)?|"
    r"(?:table of )?contents)$",
    re.IGNORECASE,
)
_FILE_TITLE = re.compile(r"^microsoft word\s*-\s*|\.(?:docx?|pdf|odt|rtf|indd|tex)$", re.I)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")

# pypdf raises its own errors for most damage, but broken files also surface as these.
_PDF_ERRORS: tuple[type[BaseException], ...] = (
    PyPdfError,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    AssertionError,
    RecursionError,
    zlib.error,
)


@dataclass(slots=True)
class _Line:
    """One line of text on a page, with where and how large it is set."""

    page: int
    text: str
    x: float = 0.0
    y: float = 0.0
    size: float = 0.0
    placed: bool = False  # whether x/y are real coordinates
    blank_before: bool = False  # pypdf put an empty line before it


@dataclass(slots=True)
class _Layout:
    """What the body text looks like: font size, line spacing, margins, line length."""

    body_size: float
    usable: bool  # line positions can be trusted for gaps and indents
    spacing: float
    margins: dict[int, float]
    line_chars: float


# ---------------------------------------------------------------------------------------------
# Entry point


def read(path: Path) -> RawBook:
    """Read a PDF's text layer into a :class:`RawBook`.

    Raises:
        TextImportError: the file is damaged, encrypted, or has no text layer.
    """
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                opened = bool(reader.decrypt(""))
            except DependencyError:  # an encryption method pypdf cannot handle here
                opened = False
                log.warning("cannot decrypt %s", path, exc_info=True)
            if not opened:
                raise TextImportError(
                    path,
                    "is encrypted; open it in a PDF viewer with its password and save an "
                    "unprotected copy",
                )
        pages = list(reader.pages)
    except TextImportError:
        raise
    except _PDF_ERRORS as exc:
        log.warning("pypdf could not open %s", path, exc_info=True)
        raise TextImportError(path, f"is not a valid PDF file: {_short(exc)}") from None
    except OSError as exc:
        raise TextImportError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not pages:
        raise TextImportError(path, "is not a valid PDF file: it has no pages")

    book = RawBook(format="pdf")
    book.title, book.author = _metadata(reader)
    lines: list[list[_Line]] = []
    failed: list[int] = []
    for index, page in enumerate(pages):
        try:
            lines.append(_page_lines(page, index))
        except _PDF_ERRORS:
            log.warning("pypdf could not read page %d of %s", index + 1, path, exc_info=True)
            failed.append(index + 1)
            lines.append([])
    if len(failed) == len(pages):
        raise TextImportError(path, "is not a valid PDF file: no page could be read")
    if not any(page_lines for page_lines in lines):
        raise TextImportError(path, "has no text layer (scanned images?); run OCR first")
    if failed:
        book.warnings.append(f"page(s) {_page_list(failed)} could not be read and are missing")
    # Blank pages are normal in books; a page with an image but no text lost its content.
    empty = [
        i + 1
        for i, page_lines in enumerate(lines)
        if not page_lines and i + 1 not in failed and _has_images(pages[i])
    ]
    if empty:
        book.warnings.append(
            f"page(s) {_page_list(empty)} have no text layer (images?); their text is missing"
        )

    layout = _measure(lines)
    removed = _drop_furniture(lines, layout)
    if removed:
        book.skipped.append(
            SkippedPart(f"{removed} header/footer line(s)", "running headers and page numbers")
        )
    flat, contents = _drop_contents([line for page_lines in lines for line in page_lines])
    if contents:
        book.skipped.append(SkippedPart("table of contents", f"{contents} line(s)"))
    outline = _outline(reader)
    if outline:
        _chapters_from_outline(book, flat, outline, layout)
    else:
        _chapters_from_headings(book, flat, layout)
    return book


def _has_images(page: Any) -> bool:
    """Return whether ``page`` draws images or forms (possibly scanned text)."""
    try:
        resources = page.get("/Resources")
        return bool(resources and resources.get_object().get("/XObject"))
    except _PDF_ERRORS:
        return False


def _short(exc: BaseException) -> str:
    text = normalize_space(str(exc)) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _page_list(pages: list[int]) -> str:
    shown = ", ".join(map(str, pages[:10]))
    return shown + (f" and {len(pages) - 10} more" if len(pages) > 10 else "")


def _metadata(reader: PdfReader) -> tuple[str, str]:
    """Return the cleaned title and author from the document information."""
    try:
        info = reader.metadata
        title = normalize_space(str(info.title or "")) if info else ""
        author = normalize_space(str(info.author or "")) if info else ""
    except _PDF_ERRORS:
        return "", ""
    title = _FILE_TITLE.sub("", title).strip()  # "Microsoft Word - book.docx" -> "book"
    return title, author


# ---------------------------------------------------------------------------------------------
# Lines


def _place(cm: Sequence[float], tm: Sequence[float], size: float) -> tuple[float, float, float]:
    """Return the page position and effective font size of text drawn with ``tm`` and ``cm``."""
    x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
    y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
    c = tm[2] * cm[0] + tm[3] * cm[2]
    d = tm[2] * cm[1] + tm[3] * cm[3]
    scale = math.hypot(c, d)
    return x, y, size * scale if scale > 0 else size


def _page_lines(page: Any, index: int) -> list[_Line]:
    """Return the text lines of one page in content-stream order, with positions."""
    pieces: list[tuple[str, tuple[float, float, float]]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text:
            try:
                where = _place([float(v) for v in cm], [float(v) for v in tm], float(size or 0))
            except (TypeError, ValueError, IndexError):
                where = (0.0, 0.0, 0.0)
            pieces.append((text, where))

    page.extract_text(visitor_text=visit)

    lines: list[_Line] = []
    parts: list[str] = []
    sizes: Counter[float] = Counter()
    where: tuple[float, float, float] | None = None
    placed = True
    blank = False

    def finish() -> None:
        nonlocal where, placed, blank
        text = normalize_space("".join(parts))
        if text:
            x, y, _ = where or (0.0, 0.0, 0.0)
            size = sizes.most_common(1)[0][0] if sizes else 0.0
            lines.append(_Line(index, text, x, y, size, placed and where is not None, blank))
            blank = False
        elif lines:
            blank = True
        parts.clear()
        sizes.clear()
        where, placed = None, True

    for text, piece_where in pieces:
        for n, segment in enumerate(text.split("\n")):
            if n:
                finish()
            if not segment:
                continue
            parts.append(segment)
            if segment.strip():
                sizes[round(piece_where[2] * 2) / 2] += len(segment.strip())
                if where is None:
                    where = piece_where
                    # After a newline inside one piece, the piece's position is not this line's.
                    placed = n == 0
    finish()
    return lines


def _measure(pages: list[list[_Line]]) -> _Layout:
    """Return the body text's layout, measured over all pages."""
    sizes: Counter[float] = Counter()
    for page_lines in pages:
        for line in page_lines:
            sizes[round(line.size * 2) / 2] += len(line.text)
    body_size = sizes.most_common(1)[0][0] if sizes else 0.0
    if body_size <= 0:
        body_size = 10.0

    def is_body(line: _Line) -> bool:
        return abs(line.size - body_size) <= 0.1 * body_size

    down = pairs = 0
    gaps: list[float] = []
    xs: dict[int, Counter[int]] = defaultdict(Counter)
    page_min: dict[int, float] = {}
    lengths: list[int] = []
    for page_lines in pages:
        for prev, line in itertools.pairwise(page_lines):
            if prev.placed and line.placed:
                pairs += 1
                dy = prev.y - line.y
                down += dy > 0
                if is_body(prev) and is_body(line) and 0 < dy < 4 * body_size:
                    gaps.append(dy)
        for line in page_lines:
            if is_body(line):
                lengths.append(len(line.text))
                if line.placed:
                    xs[line.page % 2][round(line.x)] += 1
                    page_min[line.page] = min(page_min.get(line.page, line.x), line.x)
    usable = pairs > 0 and down / pairs >= 0.7 and bool(gaps)
    spacing = statistics.median(gaps) if gaps else 1.2 * body_size
    margins: dict[int, float] = {}
    for page, low in page_min.items():
        # Verso and recto pages often have different margins. A page of one-line dialogue may
        # have every line indented, so the page's own left-most line is not enough.
        parity = xs.get(page % 2)
        usual = float(parity.most_common(1)[0][0]) if parity else low
        margins[page] = min(low, usual)
    line_chars = float(statistics.median(lengths)) if lengths else 60.0
    return _Layout(body_size, usable, spacing, margins, line_chars)


# ---------------------------------------------------------------------------------------------
# Running headers, footers and page numbers


def _furniture_key(text: str) -> str:
    return normalize_space(_DIGITS.sub("#", text.lower()))


def _is_page_number(line: _Line, layout: _Layout) -> bool:
    text = line.text.strip()
    if not _PAGE_NUMBER.match(text):
        return False
    if line.size > layout.body_size * 1.15:
        return False  # a number set large is a chapter number
    core = text.strip("-–— ").removeprefix("Page ").removeprefix("page ").strip()
    # An upper-case "IV" set larger than the body text is a chapter number, not a page number.
    return not (_UPPER_ROMAN.match(core) and line.size > layout.body_size * 1.05)


def _edge_lines(page_lines: list[_Line]) -> list[int]:
    """Return the indexes of the lines that may be a header or footer on this page."""
    n = len(page_lines)
    edge = set(range(min(FURNITURE_LINES, n))) | set(range(max(0, n - FURNITURE_LINES), n))
    placed = [i for i, line in enumerate(page_lines) if line.placed]
    if placed:
        by_height = sorted(placed, key=lambda i: -page_lines[i].y)
        edge |= set(by_height[:FURNITURE_LINES]) | set(by_height[-FURNITURE_LINES:])
    return sorted(edge)


def _drop_furniture(pages: list[list[_Line]], layout: _Layout) -> int:
    """Remove running headers, footers and page numbers in place; return how many lines."""
    with_text = sum(1 for page_lines in pages if page_lines)
    seen: dict[str, set[int]] = defaultdict(set)
    for page_lines in pages:
        for i in _edge_lines(page_lines):
            line = page_lines[i]
            seen[_furniture_key(line.text)].add(line.page)
    needed = max(FURNITURE_MIN_PAGES, math.ceil(FURNITURE_SHARE * with_text))
    recurring = {key for key, on in seen.items() if len(on) >= needed}
    removed = 0
    for page_lines in pages:
        drop = set()
        for i in _edge_lines(page_lines):
            line = page_lines[i]
            if _is_page_number(line, layout):
                drop.add(i)
            elif _furniture_key(line.text) in recurring and line.size <= layout.body_size * 1.15:
                drop.add(i)  # a chapter heading set large is never taken for a running header
        if drop:
            page_lines[:] = [line for i, line in enumerate(page_lines) if i not in drop]
            removed += len(drop)
    return removed


def _drop_contents(lines: list[_Line]) -> tuple[list[_Line], int]:
    """Return ``lines`` without table-of-contents entries ("The Storm . . . . 12")."""
    toc = [bool(_TOC_LINE.search(line.text)) for line in lines]
    for i, line in enumerate(lines):
        if _CONTENTS.match(line.text) and any(toc[i + 1 : i + 3]):
            toc[i] = True  # the "Contents" heading goes with its entries
    return [line for line, drop in zip(lines, toc, strict=True) if not drop], sum(toc)


# ---------------------------------------------------------------------------------------------
# Paragraphs


def _join(text: str, line: str) -> str:
    """Append ``line`` to ``text``, joining words hyphenated or dashed across the break."""
    if not text:
        return line
    if text.endswith("\u00ad"):
        return text[:-1] + line
    if len(text) >= 2 and text[-1] == "-" and text[-2].isalpha():
        if line[:1].islower():
            return text[:-1] + line  # "narra-" + "tion"
        return text + line  # "well-" + "Known": a real hyphen
    if text[-1] in "—–" and len(text) >= 2 and not text[-2].isspace():
        return text + line  # "word—" + "word": dashes set closed
    return f"{text} {line}"


def _ends_paragraph(line: _Line, layout: _Layout) -> bool:
    """Return whether ``line`` looks like the short last line of a paragraph."""
    short = len(line.text) < SHORT_LINE * layout.line_chars
    return short and bool(_ENDS_SENTENCE.search(line.text))


def _starts_sentence(text: str) -> bool:
    stripped = text.lstrip(_OPENING_PUNCT + " ")
    return bool(stripped) and (stripped[0].isupper() or stripped[0].isdigit() or text[0] in "“‘«")


def _indented(line: _Line, layout: _Layout) -> bool:
    margin = layout.margins.get(line.page)
    if not layout.usable or not line.placed or margin is None:
        return False
    return line.x - margin > max(0.6 * layout.body_size, 2.0)


def _new_paragraph(prev: _Line | None, line: _Line, layout: _Layout) -> bool:
    """Return whether ``line`` starts a new paragraph after ``prev``."""
    if prev is None or line.blank_before:
        return True
    tolerance = 0.15 * layout.body_size
    if abs(line.size - prev.size) > tolerance:
        return True  # a heading or a block in another size is a paragraph of its own
    heuristic = _ends_paragraph(prev, layout) and _starts_sentence(line.text)
    if not layout.usable or not (prev.placed and line.placed):
        return heuristic
    if prev.page == line.page:
        dy = prev.y - line.y
        if dy > PARAGRAPH_GAP * layout.spacing and dy > layout.spacing + tolerance:
            return True
    if _indented(line, layout) and (not _indented(prev, layout) or _ends_paragraph(prev, layout)):
        return True
    return heuristic


def _paragraphs(lines: list[_Line], layout: _Layout) -> list[str]:
    """Join lines into paragraphs."""
    paragraphs: list[str] = []
    text = ""
    prev: _Line | None = None
    for line in lines:
        if _new_paragraph(prev, line, layout) and text:
            paragraphs.append(text)
            text = ""
        text = _join(text, line.text)
        prev = line
    if text:
        paragraphs.append(text)
    return paragraphs


# ---------------------------------------------------------------------------------------------
# Chapters


@dataclass(slots=True)
class _Entry:
    """An outline entry resolved to a position in the text."""

    title: str
    page: int
    top: float | None


def _outline(reader: PdfReader) -> list[_Entry]:
    """Return the chapter-level outline entries, or an empty list."""
    try:
        outline = list(reader.outline or [])
    except _PDF_ERRORS:
        log.warning("unreadable PDF outline", exc_info=True)
        return []
    top_level = [item for item in outline if not isinstance(item, list)]
    if len(top_level) == 1:  # one entry for the whole book: its children are the chapters
        children = next((item for item in outline if isinstance(item, list)), [])
        items = [item for item in children if not isinstance(item, list)] or top_level
    else:
        items = top_level
    entries: list[_Entry] = []
    for item in items:
        try:
            page = reader.get_destination_page_number(item)
            title = normalize_space(str(item.title or ""))
            top = item.get("/Top")
            top_value = float(top) if isinstance(top, int | float) else None
        except _PDF_ERRORS:
            continue
        if page is None or page < 0 or not title:
            continue
        entries.append(_Entry(title, page, top_value))
    return entries


def _norm(text: str) -> str:
    return normalize_space(_NOT_ALNUM.sub(" ", text.lower()))


def _cut(lines: list[_Line], pages: list[int], entry: _Entry) -> int:
    """Return the index of the first line of the chapter ``entry`` points at.

    ``pages`` holds each line's page number (ascending), for bisection.
    """
    first = bisect.bisect_left(pages, entry.page)
    on_page = range(first, bisect.bisect_right(pages, entry.page))
    if entry.top is not None:
        below = [i for i in on_page if not lines[i].placed or lines[i].y < entry.top + 2]
    else:
        below = list(on_page)
    title = _norm(entry.title)
    for i in below:
        text = _norm(lines[i].text)
        if text and (title.startswith(text) or text.startswith(title)):
            return i
    if below:
        return below[0]
    return on_page.stop  # the chapter starts with the next page that has text


def _drop_title_lines(lines: list[_Line], title: str) -> list[_Line]:
    """Return ``lines`` without the leading lines that repeat the chapter title."""
    rest = _norm(title)
    start = 0
    while start < len(lines) and rest:
        text = _norm(lines[start].text)
        if not text or not rest.startswith(text):
            break
        rest = rest[len(text) :].strip()
        start += 1
    return lines[start:]


def _source(lines: list[_Line]) -> str:
    if not lines:
        return ""
    first, last = lines[0].page + 1, lines[-1].page + 1
    return f"page {first}" if first == last else f"pages {first}-{last}"


def _front_matter(book: RawBook, lines: list[_Line], layout: _Layout) -> None:
    """Skip a short title page before the first chapter, or keep longer text as 'Opening'."""
    if not lines:
        return
    largest = max(lines, key=lambda line: line.size)
    if not book.title and largest.size >= HEADING_SCALE * layout.body_size:
        book.title = largest.text  # no title in the metadata: the largest line up front
    paragraphs = _paragraphs(lines, layout)
    if (
        len(paragraphs) <= TITLE_PAGE_MAX_PARAGRAPHS
        and sum(map(len, paragraphs)) < TITLE_PAGE_MAX_CHARS
    ):
        book.skipped.append(SkippedPart("before first heading", "title page"))
        return
    book.chapters.insert(0, RawChapter("Opening", paragraphs, _source(lines)))


def _chapters_from_outline(
    book: RawBook, lines: list[_Line], entries: list[_Entry], layout: _Layout
) -> None:
    """Split ``lines`` at the outline's chapter entries."""
    pages = [line.page for line in lines]
    cuts = sorted(
        ((_cut(lines, pages, e), n, e) for n, e in enumerate(entries)), key=lambda c: c[:2]
    )
    merged: list[tuple[int, str]] = []
    for index, _, entry in cuts:
        if merged and merged[-1][0] == index:  # "Part One" and "Chapter 1" at the same spot
            merged[-1] = (index, f"{merged[-1][1]} — {entry.title}")
        else:
            merged.append((index, entry.title))
    _front_matter(book, lines[: merged[0][0]], layout)
    for n, (start, title) in enumerate(merged):
        end = merged[n + 1][0] if n + 1 < len(merged) else len(lines)
        part = lines[start:end]
        if _FRONT_MATTER.match(title):
            book.skipped.append(SkippedPart(title, "front matter"))
            continue
        body = _drop_title_lines(part, title)
        book.chapters.append(RawChapter(title, _paragraphs(body, layout), _source(part)))


def _heading_match(line: _Line) -> re.Match[str] | None:
    if len(line.text) > 100:
        return None
    return _HEADING.match(line.text)


def _chapters_from_headings(book: RawBook, lines: list[_Line], layout: _Layout) -> None:
    """Split ``lines`` at heading lines; one chapter when there are none."""
    big = [line.size >= HEADING_SCALE * layout.body_size and len(line.text) <= 80 for line in lines]
    starts: dict[int, tuple[str, int]] = {}  # first line -> (title, lines it takes)
    toc = 0
    for i, line in enumerate(lines):
        match = _heading_match(line)
        if match is None:
            continue
        if match.group("sub") and _TOC_SUFFIX.search(match.group("sub")):
            starts[i] = ("", 1)  # a table-of-contents entry: dropped below
            toc += 1
            continue
        title, taken = line.text, 1
        while (
            taken < 3
            and i + taken < len(lines)
            and big[i + taken]
            and lines[i + taken].page == line.page
            and _heading_match(lines[i + taken]) is None
        ):
            sep = " " if title.endswith((":", ".", "—", "–")) else ": "
            title, taken = f"{title}{sep}{lines[i + taken].text}", taken + 1
        starts[i] = (title, taken)
    if len(starts) == toc:  # no named headings: use the largest font used more than once
        starts.update(_big_headings(book, lines, big))
    if not starts:
        book.chapters.append(RawChapter(book.title, _paragraphs(lines, layout), _source(lines)))
        return
    if toc:
        book.skipped.append(SkippedPart("table of contents", f"{toc} entries"))
    order = sorted(starts)
    _front_matter(book, [ln for ln in lines[: order[0]] if ln.text], layout)
    for n, start in enumerate(order):
        title, taken = starts[start]
        end = order[n + 1] if n + 1 < len(order) else len(lines)
        if not title:
            continue
        part = lines[start:end]
        book.chapters.append(RawChapter(title, _paragraphs(part[taken:], layout), _source(part)))
    _drop_contents_runs(book)


def _big_headings(book: RawBook, lines: list[_Line], big: list[bool]) -> dict[int, tuple[str, int]]:
    """Return chapter starts set in a large font; a larger one-off line is the book title."""
    groups: list[tuple[int, int, float]] = []  # (first line, line count, size)
    i = 0
    while i < len(lines):
        if not big[i]:
            i += 1
            continue
        j = i + 1
        while (
            j < len(lines)
            and big[j]
            and lines[j].page == lines[i].page
            and abs(lines[j].size - lines[i].size) <= 0.15 * lines[i].size
            and j - i < 3
        ):
            j += 1
        groups.append((i, j - i, round(max(ln.size for ln in lines[i:j]) * 2) / 2))
        i = j
    if not groups:
        return {}
    counts = Counter(size for _, _, size in groups)
    repeated = [size for size, n in counts.items() if n > 1]
    level = max(repeated) if repeated else max(counts)
    starts: dict[int, tuple[str, int]] = {}
    for first, count, size in groups:
        text = ": ".join(line.text for line in lines[first : first + count])
        if size == level:
            starts[first] = (text, count)
        elif size > level and not starts:
            if not book.title:
                book.title = text
            for line in lines[first : first + count]:
                line.text = ""  # the book title is not read as part of the front matter
    return starts


def _drop_contents_runs(book: RawBook) -> None:
    """Drop runs of three or more empty chapters: a table of contents read as headings."""
    kept: list[RawChapter] = []
    run: list[RawChapter] = []
    for chapter in [*book.chapters, None]:
        if chapter is not None and not chapter.paragraphs:
            run.append(chapter)
            continue
        if len(run) >= 3:
            book.skipped.append(SkippedPart("table of contents", f"{len(run)} entries"))
        else:
            kept.extend(run)
        run = []
        if chapter is not None:
            kept.append(chapter)
    book.chapters[:] = kept
