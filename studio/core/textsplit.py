"""Sentence and paragraph splitting that keeps dialogue and quotations whole.

Hand-written because no maintained, offline library does this well for fiction: ``pysbd`` is
unmaintained and NLTK's Punkt needs a model download. The rules are small and tested with
hypothesis (``tests/core/test_textsplit.py``): pieces are always exact, in-order slices of the
input separated only by white space.
"""

from __future__ import annotations

import re

# Abbreviations after which a period does not end a sentence (lower case, no period).
ABBREVIATIONS = frozenset(
    """
    mr mrs ms messrs dr prof rev st sr jr mt ft capt col gen lt sgt maj cmdr adm gov sen rep
    hon esp etc vs viz cf ibid al approx no nos vol vols ch chap fig p pp ed eds inc ltd co jan
    feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
    """.split()  # noqa: SIM905
)

_OPEN_DOUBLE = "“«„"
_CLOSE_DOUBLE = "”»"
_TERMINATORS = ".!?…"
_CLOSERS = "\"'”’»)]"
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def _quote_depths(text: str) -> list[int]:
    """Return, for each index, how deep inside double quotations it is."""
    depth = 0
    straight_open = False
    depths = [0] * len(text)
    for i, ch in enumerate(text):
        if ch in _OPEN_DOUBLE:
            depth += 1
        elif ch in _CLOSE_DOUBLE:
            depth = max(0, depth - 1)
        elif ch == '"':
            if straight_open:
                depth = max(0, depth - 1)
            else:
                depth += 1
            straight_open = not straight_open
        depths[i] = depth
    return depths


def _is_abbreviation(text: str, dot: int) -> bool:
    match = _WORD_BEFORE.search(text[max(0, dot - 20) : dot])
    if not match:
        return False
    word = match.group(1).lower().rstrip(".")
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. R. Smith"
    if "." in word:
        return True  # "e.g", "i.e", "U.S"
    return word in ABBREVIATIONS


def sentence_spans(text: str, respect_quotes: bool = True) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences of ``text``.

    A sentence ends at ``. ! ? …`` (plus closing quotes or brackets) followed by white space
    and a capital, digit or opening quote. With ``respect_quotes`` a boundary inside a
    quotation is not used, so ``“Stop. Wait,” he said.`` stays one piece.
    """
    n = len(text)
    depths = _quote_depths(text) if respect_quotes else None
    spans: list[tuple[int, int]] = []
    start = 0
    while start < n and text[start].isspace():
        start += 1
    i = start
    while i < n:
        ch = text[i]
        if ch in _TERMINATORS:
            end = i + 1
            while end < n and text[end] in _TERMINATORS:
                end += 1
            while end < n and text[end] in _CLOSERS:
                end += 1
            nxt = end
            while nxt < n and text[nxt].isspace():
                nxt += 1
            boundary = (
                nxt > end
                and nxt < n
                and (text[nxt].isupper() or text[nxt].isdigit() or text[nxt] in "\"“‘'«(")
            )
            if boundary and ch == "." and _is_abbreviation(text, i):
                boundary = False
            if boundary and depths is not None and depths[end - 1] > 0:
                boundary = False
            if boundary:
                spans.append((start, end))
                start = nxt
                i = nxt
                continue
            i = end
            continue
        i += 1
    end = n
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
    return spans


def split_sentences(text: str) -> list[str]:
    """Return the sentences of ``text`` (quotations kept whole)."""
    return [text[a:b] for a, b in sentence_spans(text)]


def _cut_after_mark(text: str, start: int, end: int, limit: int, marks: str) -> int:
    """Return the offset from ``start`` just after the last of ``marks`` (and any closing
    quotes or brackets after it) that keeps the piece within ``limit``; -1 if none."""
    for i in range(min(limit, end - start) - 1, limit // 3, -1):
        if text[start + i] in marks:
            cut = i + 1
            while start + cut < end and text[start + cut] in _CLOSERS:
                cut += 1
            if cut <= limit:
                return cut
    return -1


def _hard_split(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` into spans of at most ``limit`` at clause marks or spaces."""
    spans: list[tuple[int, int]] = []
    while end - start > limit:
        cut = -1
        for marks in (";:", ",—–"):
            cut = _cut_after_mark(text, start, end, limit, marks)
            if cut > 0:
                break
        if cut <= 0:
            # A cut at a space drops the space, which may be the character just past the limit.
            best = text.rfind(" ", start, start + limit + 1) - start
            cut = best if best > limit // 3 else limit
        piece_end = start + cut
        while piece_end > start and text[piece_end - 1].isspace():
            piece_end -= 1
        spans.append((start, piece_end))
        start += cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        spans.append((start, end))
    return spans


def split_long(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters at sentence boundaries.

    Quotations are kept whole when they fit; an over-long sentence or quotation is split at
    inner sentence boundaries, then at clause marks, then at spaces. Text that fits is
    returned as one piece.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    stripped = text.strip()
    if len(stripped) <= limit:
        return [stripped] if stripped else []
    units: list[tuple[int, int]] = []
    for a, b in sentence_spans(text):
        if b - a <= limit:
            units.append((a, b))
            continue
        for c, d in sentence_spans(text[a:b], respect_quotes=False):
            if d - c <= limit:
                units.append((a + c, a + d))
            else:
                units.extend(_hard_split(text, a + c, a + d, limit))
    pieces: list[str] = []
    cur_start, cur_end = units[0]
    for a, b in units[1:]:
        if b - cur_start <= limit:
            cur_end = b
        else:
            pieces.append(text[cur_start:cur_end])
            cur_start, cur_end = a, b
    pieces.append(text[cur_start:cur_end])
    return pieces




_INVISIBLE_CHARS = "\u00ad\u200b\u2060\ufeff"  # soft hyphen, zero-width space/joiner, BOM
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS))


def normalize_space(text: str) -> str:
    """Collapse runs of white space (including non-breaking) into single spaces.

    Soft hyphens and zero-width characters (word joiner, zero-width space, BOM) are dropped:
    they are invisible in print and only confuse speech engines.
    """
    # Most paragraphs are already clean. str.isprintable() is False for every white-space
    # character but the plain space and for the invisible characters, in one fast C loop:
    # far cheaper than splitting and joining, above all for non-ASCII text.
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    if not text.isascii():
        text = text.translate(_INVISIBLE)
    return " ".join(text.split())


def split_paragraphs(text: str) -> list[str]:
    """Split plain text into paragraphs.

    Paragraphs are separated by blank lines; the lines of a hard-wrapped paragraph are joined.
    Text with no blank lines at all is read as one paragraph per line, and an indented line
    (a common typewriter convention) also starts a paragraph.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    chunks = re.split(r"\n[ \t\u00a0]*\n", text)
    paragraphs: list[str] = []
    per_line = len([c for c in chunks if c.strip()]) <= 1 and text.count("\n") > 1
    for chunk in chunks:
        lines = [ln for ln in chunk.split("\n") if ln.strip()]
        if not lines:
            continue
        if per_line:
            paragraphs.extend(normalize_space(ln) for ln in lines)
            continue
        current: list[str] = []
        for ln in lines:
            if current and re.match(r"^(?:\t| {2,})\S", ln):
                paragraphs.append(normalize_space(" ".join(current)))
                current = []
            current.append(ln)
        paragraphs.append(normalize_space(" ".join(current)))
    return [p for p in paragraphs if p]
