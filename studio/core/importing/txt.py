"""Plain text and Markdown manuscripts; chapter detection from heading-like lines."""

from __future__ import annotations

import re
from pathlib import Path

from studio.core.importing.base import RawBook, RawChapter, SkippedPart
from studio.core.importing.safety import (
    MAX_TEXT_BYTES,
    decode_text,
    read_file,
    refuse_entity_declarations,
)
from studio.core.textsplit import normalize_space, split_paragraphs

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    "eighty|ninety|hundred|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|"
    "tenth|last|final"
)
_LABEL = (
    r"(?:chapter|chap\.?|book|part|volume|vol\.?|act|scene|letter|canto|stave|section)"
    rf"\s+(?:\d{{1,4}}|[ivxlcdm]{{1,8}}|(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))?)"
)
_LABEL_RE = re.compile(rf"^{_LABEL}\b\.?", re.IGNORECASE)
_STANDALONE = re.compile(
    r"^(?:prologue|epilogue|preface|foreword|introduction|afterword|interlude|conclusion|"
    r"\d{1,3}\.?)$",
    re.IGNORECASE,
)
# A Roman numeral alone, upper case and well-formed: "IV." is a heading, "Vivid." or "Did."
# are not.
_ROMAN = re.compile(
    r"^(?=[MDCLXVI])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})\.?$"
)
_ANY_LABEL = re.compile(rf"\b{_LABEL}\b", re.IGNORECASE)
# Footnote bodies as Project Gutenberg prints them: "[1] The bay ..." or "[Footnote 1: ...]".
_FOOTNOTE_BODY = re.compile(r"^\[(?:\d{1,3}|[*†‡§]|Footnote\b[^\]]*)\]")
_STANDALONE_WORD = re.compile(
    r"^(?:prologue|epilogue|preface|foreword|introduction|afterword|interlude|conclusion)\b",
    re.IGNORECASE,
)
_CONTENTS = re.compile(r"^(?:table of )?contents\.?$", re.IGNORECASE)
_GUTENBERG_START = re.compile(r"^\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG.*$", re.M | re.I)
_GUTENBERG_END = re.compile(r"^\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG.*$", re.M | re.I)


_SMALL_WORDS_TEXT = (
    "a an the of in on and or nor but to at by for with from into onto upon over under "
    "about after before between through as is it its his her their our my your off out up "
    "so yet than"
)
_SMALL_WORDS = frozenset(_SMALL_WORDS_TEXT.split())


def _title_case_rest(rest: str) -> bool:
    words = re.findall(r"[A-Za-z][\w'’-]*", rest)
    return bool(words) and all(w[0].isupper() or w.lower() in _SMALL_WORDS for w in words)


def heading_label(paragraph: str) -> str | None:
    """Return the heading ``paragraph`` is, cleaned, or ``None`` when it is body text.

    Recognised: "Chapter 3", "CHAPTER III.", "Chapter Three: The Storm", "Book II — Exile",
    "Prologue", a Roman numeral or number alone ("IV.", "12").
    """
    text = paragraph.strip()
    if not text or len(text) > 80 or len(text.split()) > 12 or text.endswith((",", ";")):
        return None
    if _STANDALONE.match(text) or _ROMAN.match(text):
        return text.rstrip(".")
    label = _LABEL_RE.match(text) or _STANDALONE_WORD.match(text)
    if not label:
        return None
    rest = text[label.end() :].strip()
    if not rest:
        return text.rstrip(".")
    # "CHAPTER VI. Letters from London": punctuation right after the label marks a title.
    punctuated = text[label.end() - 1] in ".:" or rest[0] in ".:—–-"
    if (punctuated and not rest.endswith((".", "!", "?"))) or _title_case_rest(rest) or (
        rest.isupper()
    ):
        return text.rstrip(".") if not text.endswith("..") else text
    return None


def _soften_caps(title: str) -> str:
    """Return an ALL-CAPS title in title case ("THE SILENT HARBOUR" -> "The Silent Harbour")."""
    if not title.isupper():
        return title
    words = title.lower().split()
    return " ".join(
        w if (i and w in _SMALL_WORDS) else w[:1].upper() + w[1:] for i, w in enumerate(words)
    )


def _is_contents_list(paragraph: str) -> bool:
    """Return whether a paragraph is a (hard-wrapped) list of chapter labels."""
    return len(_ANY_LABEL.findall(paragraph)) >= 2 and len(paragraph) < 5000


def _is_bare_label(heading: str) -> bool:
    rest = _LABEL_RE.sub("", heading).strip(" .")
    return not rest or bool(_STANDALONE.match(heading))


def _looks_like_subtitle(paragraph: str) -> bool:
    text = re.sub(r"\s?\[[^\]]{1,12}\]", "", paragraph).strip()  # without footnote markers
    if not text or len(text) > 70 or len(text.split()) > 10 or heading_label(text):
        return False
    return text.isupper() or not text.endswith((".", "?", "!", ",", ";", ":", "”", '"'))


def detect_chapters(
    paragraphs: list[str], book_title: str
) -> tuple[list[RawChapter], list[SkippedPart]]:
    """Group paragraphs into chapters at heading-like paragraphs.

    A bare label followed by a short title line is merged ("Chapter I: The Storm"). A run of
    headings with no text between them is a table of contents and is skipped, as is a short
    block of text before the first heading (a title page). Without any heading the whole text
    is one chapter named after the book.
    """
    skipped: list[SkippedPart] = []
    chapters: list[RawChapter] = []
    preamble: list[str] = []
    # Headings between a "CONTENTS" line and the first body text are contents entries, even
    # when a hard-wrapped list was joined into a single heading-like paragraph.
    in_contents = False
    contents_entries: set[int] = set()
    i = 0
    while i < len(paragraphs):
        para = paragraphs[i]
        if _CONTENTS.match(para.strip()):
            skipped.append(SkippedPart(para.strip(), "table of contents"))
            in_contents = True
            i += 1
            continue
        if (in_contents or not chapters) and _is_contents_list(para):
            skipped.append(SkippedPart(para.strip()[:60] + "…", "table of contents"))
            i += 1
            continue
        heading = heading_label(para)
        if heading is not None:
            if (
                _is_bare_label(heading)
                and i + 1 < len(paragraphs)
                and _looks_like_subtitle(paragraphs[i + 1])
            ):
                heading = f"{heading}: {paragraphs[i + 1].strip().rstrip('.')}"
                i += 1
            chapters.append(RawChapter(heading))
            if in_contents:
                contents_entries.add(id(chapters[-1]))
        elif chapters:
            chapters[-1].paragraphs.append(para)
            in_contents = False
        else:
            preamble.append(para)
            in_contents = False
        i += 1
    if not chapters:
        return [RawChapter(book_title, preamble)], skipped
    # A run of two or more empty chapters (or any right after "CONTENTS") is a table of
    # contents.
    kept: list[RawChapter] = []
    run: list[RawChapter] = []
    for chapter in [*chapters, RawChapter("", ["<end>"])]:
        if not chapter.paragraphs:
            run.append(chapter)
            continue
        if len(run) >= 2 or (run and id(run[0]) in contents_entries):
            name = run[0].title if len(run) == 1 else f"{run[0].title} … {run[-1].title}"
            skipped.append(SkippedPart(name, "table of contents"))
        else:
            kept.extend(run)
        run = []
        kept.append(chapter)
    kept.pop()
    if preamble:
        if len(preamble) <= 3 and sum(len(p) for p in preamble) < 300:
            skipped.append(SkippedPart(" / ".join(preamble)[:80], "title page"))
        else:
            kept.insert(0, RawChapter("Opening", preamble))
    return kept, skipped


def _strip_gutenberg(text: str, raw: RawBook) -> str:
    start = _GUTENBERG_START.search(text)
    end = _GUTENBERG_END.search(text)
    if not start:
        return text
    header = text[: start.start()]
    for key, attr in (("Title", "title"), ("Author", "author"), ("Language", "language")):
        match = re.search(rf"^{key}:\s*(.+)$", header, re.M)
        if match and attr != "language":
            setattr(raw, attr, match.group(1).strip())
    raw.skipped.append(SkippedPart("Project Gutenberg header and licence", "boilerplate"))
    return text[start.end() : end.start() if end else len(text)]


def read(path: Path) -> RawBook:
    """Read a plain-text manuscript."""
    text, warning = decode_text(read_file(path, MAX_TEXT_BYTES), path)
    raw = RawBook(format="txt")
    if warning:
        raw.warnings.append(warning)
    text = _strip_gutenberg(text, raw)
    paragraphs = split_paragraphs(text)
    notes = [p for p in paragraphs if _FOOTNOTE_BODY.match(p)]
    if notes:
        paragraphs = [p for p in paragraphs if not _FOOTNOTE_BODY.match(p)]
        raw.skipped.append(SkippedPart(f"{len(notes)} footnote(s)", "footnotes"))
    raw.chapters, skipped = detect_chapters(paragraphs, raw.title or path.stem)
    raw.skipped.extend(skipped)
    title_page = next((s for s in skipped if s.reason == "title page"), None)
    if title_page is not None:
        lines = title_page.name.split(" / ")
        if not raw.title:
            raw.title = _soften_caps(lines[0])
        by = next((ln for ln in lines[1:] if re.match(r"^by\s+\S", ln, re.I)), None)
        if by and not raw.author:
            raw.author = by[3:].strip()
    return raw


def read_markdown(path: Path) -> RawBook:
    """Read a Markdown manuscript (rendered to HTML, then read as HTML)."""
    import markdown

    from studio.core.importing.html import book_from_html_tree, parse_html_text

    data = read_file(path, MAX_TEXT_BYTES)
    refuse_entity_declarations(data, path)  # raw HTML passes through Markdown untouched
    text, warning = decode_text(data, path)
    html = markdown.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    raw = book_from_html_tree(parse_html_text(f"<html><body>{html}</body></html>", path), path)
    raw.format = "markdown"
    if warning:
        raw.warnings.append(warning)
    raw.title = normalize_space(raw.title)
    return raw
