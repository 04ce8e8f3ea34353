"""Find and replace across a book's paragraphs, never touching inline break tags.

A paragraph's text holds pause tags (``<break time="1.0s" />``). Searching treats each tag as
a wall: the text between tags is searched piece by piece, so a match never lies inside a tag
nor spans one, and replacing never alters a tag. Offsets are positions in ``Block.text``.

The query is literal text unless ``regex`` is set; ``whole_word`` keeps matches that have no
letter, digit or underscore right before or after them; matching ignores case unless
``case_sensitive``. With ``regex``, the replacement may refer to groups (``\\1``,
``\\g<name>``); otherwise it is inserted as it is.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import overload

from studio.core import model as m
from studio.core.errors import StudioError
from studio.core.model import BlockId, ChapterId, Project

#: Any break tag, even a malformed one: searching must never reach into a tag.
TAG_RE = re.compile(r"<break\b[^<>]*>")
_WS = re.compile(r"\s+")
_GLOBAL_FLAGS = re.compile(r"^\(\?[aiLmsux]+\)")
CONTEXT_BEFORE = 40
CONTEXT_AFTER = 70


class FindError(StudioError):
    """A search could not run: an invalid regular expression or replacement."""


@dataclass(frozen=True, slots=True)
class Match:
    """One occurrence of the query: ``[start, end)`` in a paragraph's text, with context.

    ``before``, ``matched`` and ``after`` are for display: break tags show as spaces and runs
    of white space as one space; ``before``/``after`` are cut at word boundaries with "…".
    """

    chapter_id: ChapterId
    block_id: BlockId
    chapter_index: int
    block_index: int
    start: int
    end: int
    before: str = ""
    matched: str = ""
    after: str = ""
    locked: bool = False

    @property
    def snippet(self) -> str:
        """Return the context line: the text around the match and the match itself."""
        return f"{self.before}{self.matched}{self.after}"

    @property
    def position(self) -> tuple[int, int, int]:
        """Return (chapter index, paragraph index, start): the match's place in reading order."""
        return (self.chapter_index, self.block_index, self.start)


@dataclass(frozen=True, slots=True)
class ReplacePlan:
    """What Replace All would do: each paragraph's new text, and what it leaves alone."""

    texts: Mapping[BlockId, str] = field(default_factory=dict, hash=False)
    replacements: int = 0
    locked_paragraphs: int = 0  # matching paragraphs skipped because they are locked
    locked_matches: int = 0

    @property
    def paragraphs(self) -> int:
        """Return how many paragraphs change."""
        return len(self.texts)


def compile_query(
    query: str, *, case_sensitive: bool = False, whole_word: bool = False, regex: bool = False
) -> re.Pattern[str] | None:
    """Return the pattern for ``query`` (None for an empty query).

    Raises:
        FindError: ``regex`` is set and ``query`` is not a valid regular expression.
    """
    if not query:
        return None
    source = query if regex else re.escape(query)
    flags = 0 if case_sensitive else re.IGNORECASE
    pattern = _compile(source, flags, query)
    if whole_word:  # no letter, digit or _ beside the match (right for "Mr." too, unlike \b)
        lead = _GLOBAL_FLAGS.match(source)  # "(?i)..." must stay at the very start
        head, body = (lead.group(), source[lead.end():]) if lead else ("", source)
        pattern = _compile(rf"{head}(?<!\w)(?:{body})(?!\w)", flags, None)
    return pattern


def _compile(source: str, flags: int, query: str | None) -> re.Pattern[str]:
    """Compile ``source``; positions in errors count in ``query`` when it is the source."""
    try:
        return re.compile(source, flags)
    except re.error as exc:
        where = f" at position {exc.pos + 1}" if exc.pos is not None and query else ""
        raise FindError(f"Invalid regular expression: {exc.msg}{where}") from None
    except OverflowError:
        raise FindError("Invalid regular expression: a repeat count is too large") from None


def text_spans(text: str) -> list[tuple[int, int]]:
    """Return the ``[start, end)`` ranges of ``text`` outside break tags."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for tag in TAG_RE.finditer(text):
        if tag.start() > pos:
            spans.append((pos, tag.start()))
        pos = tag.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return spans


def _hits(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Yield the non-empty matches of ``pattern`` in ``text``, tag by tag (none in a tag)."""
    for a, b in text_spans(text):
        for hit in pattern.finditer(text, a, b):
            if hit.end() > hit.start():  # an empty match finds nothing a reader could see
                yield hit


def _expand(hit: re.Match[str], replacement: str, regex: bool) -> str:
    if not regex:
        return replacement
    try:
        return hit.expand(replacement)
    except (re.error, IndexError) as exc:
        raise FindError(f"Invalid replacement: {exc}") from None


def _replace(
    pattern: re.Pattern[str], text: str, replacement: str, regex: bool, only_at: int | None = None
) -> tuple[str, int]:
    parts: list[str] = []
    pos = count = 0
    for hit in _hits(pattern, text):
        if only_at is not None and hit.start() != only_at:
            continue
        parts += [text[pos:hit.start()], _expand(hit, replacement, regex)]
        pos = hit.end()
        count += 1
        if only_at is not None:
            break
    if not count:
        return text, 0
    parts.append(text[pos:])
    return "".join(parts), count


def find_in_text(
    text: str, query: str, *, case_sensitive: bool = False, whole_word: bool = False,
    regex: bool = False,
) -> list[tuple[int, int]]:
    """Return the ``[start, end)`` of every match of ``query`` in ``text`` (outside tags)."""
    pattern = compile_query(query, case_sensitive=case_sensitive, whole_word=whole_word,
                            regex=regex)
    return [] if pattern is None else [hit.span() for hit in _hits(pattern, text)]


def replace_in_text(
    text: str, query: str, replacement: str, *, case_sensitive: bool = False,
    whole_word: bool = False, regex: bool = False,
) -> tuple[str, int]:
    """Return ``text`` with every match of ``query`` replaced, and how many were replaced.

    Raises:
        FindError: an invalid regular expression or group reference in ``replacement``.
    """
    pattern = compile_query(query, case_sensitive=case_sensitive, whole_word=whole_word,
                            regex=regex)
    if pattern is None:
        return text, 0
    return _replace(pattern, text, replacement, regex)


def replace_at(
    text: str, start: int, query: str, replacement: str, *, case_sensitive: bool = False,
    whole_word: bool = False, regex: bool = False,
) -> str:
    """Return ``text`` with the one match of ``query`` that begins at ``start`` replaced.

    Raises:
        FindError: no match begins at ``start`` any more, or the query is invalid.
    """
    pattern = compile_query(query, case_sensitive=case_sensitive, whole_word=whole_word,
                            regex=regex)
    new, count = (text, 0) if pattern is None else _replace(
        pattern, text, replacement, regex, only_at=start)
    if not count:
        raise FindError("The text changed: that match is no longer there. Search again.")
    return new


def _display(text: str, spans: list[tuple[int, int]], a: int, b: int) -> str:
    """Return ``text[a:b]`` as a reader sees it: tags as spaces, white space collapsed."""
    pieces = [text[max(s, a):min(e, b)] for s, e in spans if s < b and e > a]
    return _WS.sub(" ", " ".join(pieces))


def _context(text: str, spans: list[tuple[int, int]], start: int, end: int
             ) -> tuple[str, str, str]:
    a = max(0, start - CONTEXT_BEFORE)
    before = _display(text, spans, a, start)
    if a > 0:  # cut mid-text: drop the partial first word
        cut = before.find(" ")
        before = "…" + (before[cut + 1:] if 0 <= cut < len(before) - 1 else before)
    else:
        before = before.lstrip()
    b = min(len(text), end + CONTEXT_AFTER)
    after = _display(text, spans, end, b)
    if b < len(text):
        cut = after.rfind(" ")
        after = (after[:cut] if cut > 0 else after) + "…"
    else:
        after = after.rstrip()
    return before, _display(text, spans, start, end), after


def _count(pattern: re.Pattern[str], text: str, literal: bool) -> int:
    """Return how many matches ``_hits`` would yield, counting in C where it can."""
    if literal and "<break" not in text:
        # A literal query never matches empty text, and there is no tag to keep out of.
        return len(pattern.findall(text))
    return sum(1 for _ in _hits(pattern, text))


@dataclass(frozen=True, slots=True)
class _Found:
    """The paragraphs with matches: where each is, its text as searched, how many."""

    chapter_id: ChapterId
    block_id: BlockId
    chapter_index: int
    block_index: int
    text: str
    locked: bool


class MatchList(Sequence[Match]):
    """Every match of a search, in reading order, made into :class:`Match` only when read.

    Searching counts the matches of each paragraph (in C for a literal query) and keeps the
    paragraphs' texts as they were; a match's offsets and display context are worked out
    when it is read, so a search with 100,000 matches costs about one pass of the regular
    expression over the book, and showing a screenful of them costs a screenful.
    """

    _KEEP = 2048  # matches kept once made (a results list asks for the same rows often)

    def __init__(self, pattern: re.Pattern[str] | None, hits: list[_Found],
                 counts: list[int]) -> None:
        self._pattern = pattern
        self._found = hits
        self._firsts: list[int] = []  # the row of each paragraph's first match
        total = 0
        for n in counts:
            self._firsts.append(total)
            total += n
        self._len = total
        self._positions = [(h.chapter_index, h.block_index) for h in hits]
        self._spans: dict[int, list[tuple[int, int]]] = {}
        self._made: dict[int, Match] = {}

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, row: int) -> Match: ...

    @overload
    def __getitem__(self, row: slice) -> list[Match]: ...

    def __getitem__(self, row: int | slice) -> Match | list[Match]:
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(self._len))]
        if row < 0:
            row += self._len
        if not 0 <= row < self._len:
            raise IndexError("match row out of range")
        made = self._made.get(row)
        if made is not None:
            return made
        k = bisect_right(self._firsts, row) - 1
        h = self._found[k]
        start, end = self._block_spans(k)[row - self._firsts[k]]
        before, matched, after = _context(h.text, text_spans(h.text), start, end)
        made = Match(h.chapter_id, h.block_id, h.chapter_index, h.block_index, start, end,
                     before, matched, after, h.locked)
        if len(self._made) >= self._KEEP:
            self._made.clear()
        self._made[row] = made
        return made

    def _block_spans(self, k: int) -> list[tuple[int, int]]:
        spans = self._spans.get(k)
        if spans is None:
            assert self._pattern is not None
            spans = [hit.span() for hit in _hits(self._pattern, self._found[k].text)]
            self._spans[k] = spans
        return spans

    def row_at(self, position: tuple[int, int, int]) -> int | None:
        """Return the first row at or after ``position`` (chapter, paragraph, offset)."""
        chapter, block, offset = position
        k = bisect_left(self._positions, (chapter, block))
        if k < len(self._found) and self._positions[k] == (chapter, block):
            starts = [a for a, _ in self._block_spans(k)]
            i = bisect_left(starts, offset)
            if i < len(starts):
                return self._firsts[k] + i
            k += 1
        return self._firsts[k] if k < len(self._found) else None

    def row_of(self, block_id: BlockId, start: int, end: int) -> int | None:
        """Return the row of the match of paragraph ``block_id`` at ``[start, end)``."""
        for k, h in enumerate(self._found):
            if h.block_id == block_id:
                spans = self._block_spans(k)
                return self._firsts[k] + spans.index((start, end)) if (
                    (start, end) in spans) else None
        return None


EMPTY = MatchList(None, [], [])


def search(
    project: Project, query: str, *, case_sensitive: bool = False, whole_word: bool = False,
    regex: bool = False,
) -> MatchList:
    """Return every match of ``query`` in the book, in reading order, made when read.

    Raises:
        FindError: ``regex`` is set and ``query`` is not a valid regular expression.
    """
    pattern = compile_query(query, case_sensitive=case_sensitive, whole_word=whole_word,
                            regex=regex)
    if pattern is None:
        return EMPTY
    hits: list[_Found] = []
    counts: list[int] = []
    literal = not regex
    for ci, chapter in enumerate(project.chapters):
        for bi, block in enumerate(chapter.blocks):
            n = _count(pattern, block.text, literal)
            if n:
                hits.append(_Found(chapter.id, block.id, ci, bi, block.text, block.locked))
                counts.append(n)
    return MatchList(pattern, hits, counts)


def find_matches(
    project: Project, query: str, *, case_sensitive: bool = False, whole_word: bool = False,
    regex: bool = False,
) -> list[Match]:
    """Return every match of ``query`` in the book, in reading order.

    Raises:
        FindError: ``regex`` is set and ``query`` is not a valid regular expression.
    """
    return list(search(project, query, case_sensitive=case_sensitive, whole_word=whole_word,
                       regex=regex))


def plan_replace_all(
    project: Project, query: str, replacement: str, *, case_sensitive: bool = False,
    whole_word: bool = False, regex: bool = False,
) -> ReplacePlan:
    """Return the new text of every unlocked paragraph Replace All would change.

    Locked paragraphs are left alone and counted. A paragraph whose text would come out the
    same (the replacement equals what it replaces) is not a change and is not counted.

    Raises:
        FindError: an invalid regular expression or group reference in ``replacement``.
    """
    pattern = compile_query(query, case_sensitive=case_sensitive, whole_word=whole_word,
                            regex=regex)
    if pattern is None:
        return ReplacePlan()
    texts: dict[BlockId, str] = {}
    replacements = locked_paragraphs = locked_matches = 0
    # A literal replacement as a template for Pattern.subn, which replaces in C.
    template = None if regex else replacement.replace("\\", "\\\\")
    for _, block in project.iter_blocks():
        if block.locked:
            hits = _count(pattern, block.text, not regex)
            if hits:
                locked_paragraphs += 1
                locked_matches += hits
            continue
        if template is not None and "<break" not in block.text:
            new, count = pattern.subn(template, block.text)
        else:
            new, count = _replace(pattern, block.text, replacement, regex)
        if count and new != block.text:
            texts[block.id] = new
            replacements += count
    return ReplacePlan(texts, replacements, locked_paragraphs, locked_matches)


def apply_texts(project: Project, texts: Mapping[BlockId, str]) -> m.Changes:
    """Set the text of each paragraph in ``texts``; return what changed.

    Raises:
        EditError: a paragraph is locked or gone; nothing after it was changed.
    """
    for block_id, text in texts.items():
        m.set_block_text(project, block_id, text)
    # One record at the end: merging thousands one by one copies the sets each time.
    return m.Changes(blocks=frozenset(texts))
