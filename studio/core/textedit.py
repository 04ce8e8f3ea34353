"""Paragraph text edits and offset maps: break tags, voice spans, typed and shown offsets.

A paragraph's stored text holds inline ``<break time="1.0s" />`` tags, and its voice spans
index that text, tags included. The chapter editor shows each tag as a compact chip, the
player highlights words of the *speakable* text (tags gone, see
:func:`~studio.core.model.speakable_text`), and the in-place editor's offsets index the text
as typed, before white space is collapsed on commit. This module maps offsets between those
texts and makes the edits (replace a range, insert or change a break, give words a voice,
split) that keep the voice spans on their words. Nothing here needs Qt.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from studio.core.errors import EditError
from studio.core.model import (
    BREAK_MAX_S,
    BREAK_MIN_S,
    BREAK_RE,
    BlockId,
    Changes,
    Project,
    VoiceId,
    VoiceSpan,
    break_tag,
    set_block_spans,
    set_block_text,
)

#: Spec §2.9: "use at most 2–3 breaks per paragraph"; more than this many get a warning.
MAX_BREAKS_PER_PARAGRAPH = 3
NBSP = "\u00a0"
#: Room at the start of a chip label for the pause icon, which the view draws over it.
CHIP_ICON = NBSP * 4


# ---------------------------------------------------------------------------------------------
# What a paragraph shows, and where


@dataclass(frozen=True, slots=True)
class Chip:
    """A break tag: where it is in the raw text and in the shown text, and its duration."""

    raw_start: int
    raw_end: int
    start: int
    end: int
    seconds: float


@dataclass(frozen=True, slots=True)
class ParagraphDisplay:
    """The text a paragraph shows (tags replaced by chip labels) and the offset mapping."""

    text: str
    chips: tuple[Chip, ...]
    raw_to_shown: tuple[int, ...]  # one entry per raw offset, 0..len(raw) inclusive

    def shown(self, raw_offset: int) -> int:
        """Return the shown offset of raw offset ``raw_offset`` (a tag maps to its chip)."""
        return self.raw_to_shown[min(max(raw_offset, 0), len(self.raw_to_shown) - 1)]


def seconds_label(seconds: float) -> str:
    """Return a break duration as shown on its chip: ``1.0``, ``1.25``, ``3.0``."""
    text = f"{seconds:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def chip_label(seconds: float) -> str:
    """Return the label a break of ``seconds`` shows as: icon room, ``1.5 s``, a space."""
    return f"{CHIP_ICON}{seconds_label(seconds)}{NBSP}s{NBSP}"


@functools.lru_cache(maxsize=4096)
def paragraph_display(raw: str) -> ParagraphDisplay:
    """Return what ``raw`` shows: each break tag becomes a chip label such as ``1.0 s``."""
    if "<break" not in raw:
        return ParagraphDisplay(raw, (), tuple(range(len(raw) + 1)))
    parts: list[str] = []
    chips: list[Chip] = []
    mapping: list[int] = []
    shown = 0
    last = 0
    for match in BREAK_RE.finditer(raw):
        plain = raw[last:match.start()]
        mapping.extend(range(shown, shown + len(plain)))
        parts.append(plain)
        shown += len(plain)
        seconds = float(match.group(1))
        label = chip_label(seconds)
        mapping.extend([shown] * (match.end() - match.start()))
        chips.append(Chip(match.start(), match.end(), shown, shown + len(label), seconds))
        parts.append(label)
        shown += len(label)
        last = match.end()
    tail = raw[last:]
    mapping.extend(range(shown, shown + len(tail) + 1))
    parts.append(tail)
    return ParagraphDisplay("".join(parts), tuple(chips), tuple(mapping))


def speakable_to_raw(raw: str) -> list[int]:
    """Return, for each character of ``speakable_text(raw)``, its offset in ``raw``.

    A space that stands for a break tag maps to the tag's start; one that stands for a run
    of white space maps to the run's first character.
    """
    if "<break" not in raw:
        return list(range(len(raw)))
    chars: list[tuple[str, int]] = []
    last = 0
    for match in BREAK_RE.finditer(raw):  # as speakable_text: each tag becomes one space
        chars.extend((c, i) for i, c in enumerate(raw[last:match.start()], last))
        chars.append((" ", match.start()))
        last = match.end()
    chars.extend((c, i) for i, c in enumerate(raw[last:], last))
    collapsed: list[tuple[str, int]] = []  # then runs of 2+ white space become one space
    i = 0
    while i < len(chars):
        j = i
        while j < len(chars) and chars[j][0].isspace():
            j += 1
        if j - i >= 2:
            collapsed.append((" ", chars[i][1]))
            i = j
        else:
            collapsed.append(chars[i])
            i += 1
    text = "".join(c for c, _ in collapsed)
    lead = len(text) - len(text.lstrip())
    kept = collapsed[lead:lead + len(text.strip())]
    return [i for _, i in kept]


def normalized_offset(text: str, offset: int) -> int:
    """Return where ``offset`` of ``text`` lands in ``" ".join(text.split())``.

    The paragraph model stores text with white space collapsed (see BlockListModel.setData);
    editor offsets are mapped through this before they index the stored text.
    """
    out = 0
    pending = started = False
    for ch in text[:offset]:
        if ch.isspace():
            pending = started
        else:
            if pending:
                out += 1
                pending = False
            out += 1
            started = True
    if pending and text[offset:].strip():
        out += 1
    return out


@functools.lru_cache(maxsize=4096)
def break_warnings(raw: str, v3: bool = False) -> tuple[str, ...]:
    """Return why the breaks of a paragraph go beyond the guidance (spec §2.9), if they do.

    More than three breaks in one paragraph can make the voice speed up or add noise; a
    break outside 0.1–3.0 s (typed by hand) is clamped when sent; Eleven v3 may not honour
    break tags at all. The total length of the pauses is not a documented risk, so it is
    not flagged.
    """
    if "<break" not in raw:
        return ()
    seconds = [float(mt.group(1)) for mt in BREAK_RE.finditer(raw)]
    reasons = []
    if len(seconds) > MAX_BREAKS_PER_PARAGRAPH:
        reasons.append(
            f"{len(seconds)} breaks in one paragraph: more than {MAX_BREAKS_PER_PARAGRAPH} "
            "can make the voice speed up or add noise. Use at most 2–3, or split the "
            "paragraph.")
    outside = [s for s in seconds if not BREAK_MIN_S <= s <= BREAK_MAX_S]
    if outside:
        reasons.append(
            f"A break of {seconds_label(outside[0])} s is outside {BREAK_MIN_S}–{BREAK_MAX_S} s; "
            "it will be clamped.")
    if v3 and seconds:
        reasons.append("Eleven v3 may ignore break tags; use punctuation or [pauses] instead.")
    return tuple(reasons)


# ---------------------------------------------------------------------------------------------
# Text edits with spans kept in place


def replace_range(text: str, spans: Sequence[VoiceSpan], start: int, end: int, new: str
                  ) -> tuple[str, tuple[VoiceSpan, ...]]:
    """Replace ``text[start:end]`` with ``new``, moving the voice spans with their words.

    Unlike :func:`~studio.core.model.shift_spans`, which infers the changed region from two
    texts, the region is given: a span wholly inside it is dropped, a span's end inside it
    snaps to the replacement's end and a span's start to its start.
    """
    delta = len(new) - (end - start)

    def move(pos: int, is_end: bool) -> int:
        if pos <= start:
            return pos
        if pos >= end:
            return pos + delta
        return start + len(new) if is_end else start

    out = []
    for span in spans:
        if start < end and start <= span.start and span.end <= end:
            continue  # the span's text is gone
        a, b = move(span.start, False), move(span.end, True)
        if a < b:
            out.append(VoiceSpan(a, b, span.voice_id))
    return text[:start] + new + text[end:], tuple(out)


def with_break(text: str, spans: Sequence[VoiceSpan], offset: int, seconds: float
               ) -> tuple[str, tuple[VoiceSpan, ...], int]:
    """Insert a break tag at ``offset`` (one space either side); return text, spans, tag start."""
    head, tail = text[:offset].rstrip(), text[offset:].lstrip()
    start, end = len(head), len(text) - len(tail)
    tag = break_tag(seconds)
    new_text, new_spans = replace_range(
        text, spans, start, end, (" " if head else "") + tag + (" " if tail else ""))
    return new_text, new_spans, start + (1 if head else 0)


def with_break_seconds(text: str, spans: Sequence[VoiceSpan], tag_start: int, seconds: float
                       ) -> tuple[str, tuple[VoiceSpan, ...]]:
    """Change the duration of the break tag starting at ``tag_start``.

    Raises:
        EditError: no break tag starts at ``tag_start``.
    """
    match = BREAK_RE.match(text, tag_start)
    if match is None:
        raise EditError("there is no break at that place in the paragraph")
    return replace_range(text, spans, match.start(), match.end(), break_tag(seconds))


def with_voice(text: str, spans: Sequence[VoiceSpan], start: int, end: int,
               voice_id: VoiceId | None) -> tuple[VoiceSpan, ...]:
    """Return ``spans`` with ``[start, end)`` read by ``voice_id`` (None: the paragraph's own).

    The range is trimmed of white space and widened so that it never cuts a break tag;
    neighbouring spans of the same voice are joined.

    Raises:
        EditError: the range holds nothing but white space.
    """
    end = min(end, len(text))
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    for tag in BREAK_RE.finditer(text):
        if tag.start() < start < tag.end():
            start = tag.start()
        if tag.start() < end < tag.end():
            end = tag.end()
    if start >= end:
        raise EditError("select some words inside the paragraph first")
    out: list[VoiceSpan] = []
    for span in spans:
        if span.end <= start or span.start >= end:
            out.append(span)
            continue
        if span.start < start:  # what is left of it, without white space at the cut
            left = start
            while left > span.start and text[left - 1].isspace():
                left -= 1
            out.append(VoiceSpan(span.start, left, span.voice_id))
        if span.end > end:
            right = end
            while right < span.end and text[right].isspace():
                right += 1
            out.append(VoiceSpan(right, span.end, span.voice_id))
    out = [s for s in out if s.start < s.end]
    if voice_id is not None:
        out.append(VoiceSpan(start, end, voice_id))
    out.sort(key=lambda s: s.start)
    joined: list[VoiceSpan] = []
    for span in out:
        if joined and joined[-1].voice_id == span.voice_id and joined[-1].end == span.start:
            joined[-1] = VoiceSpan(joined[-1].start, span.end, span.voice_id)
        else:
            joined.append(span)
    return tuple(joined)


def split_spans(text: str, spans: Sequence[VoiceSpan], offset: int) -> tuple[VoiceSpan, ...]:
    """Cut the spans that straddle a split at ``offset``, so both halves keep their voice."""
    head_end = len(text[:offset].rstrip())
    tail_start = len(text) - len(text[offset:].lstrip())
    out = []
    for span in spans:
        if span.start < head_end < span.end or span.start < tail_start < span.end or (
                span.start < head_end and span.end > tail_start):
            if span.start < head_end:
                out.append(VoiceSpan(span.start, head_end, span.voice_id))
            if span.end > tail_start:
                out.append(VoiceSpan(max(span.start, tail_start), span.end, span.voice_id))
        else:
            out.append(span)
    return tuple(s for s in out if s.start < s.end)


def check_spans(project: Project, text: str, spans: Sequence[VoiceSpan]) -> None:
    """Check that ``spans`` lie inside ``text``, do not overlap and name voices of the cast.

    Raises:
        EditError: they do not.
    """
    end = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < end or not 0 <= span.start < span.end <= len(text):
            raise EditError("voice spans must lie inside the paragraph and not overlap")
        if span.voice_id not in project.voices:
            raise EditError("that voice is not in the project's cast")
        end = span.end


def set_text_and_spans(project: Project, block_id: BlockId, text: str,
                       spans: Sequence[VoiceSpan]) -> Changes:
    """Set a paragraph's text and spans together (checked first: a refusal changes nothing).

    Raises:
        EditError: the paragraph is locked, or the spans do not fit (see :func:`check_spans`).
    """
    block = project.block(block_id)
    if block.locked:
        raise EditError("this paragraph is locked; unlock it to edit it")
    check_spans(project, text, spans)
    changes = set_block_text(project, block_id, text)
    return changes | set_block_spans(project, block_id, spans)
