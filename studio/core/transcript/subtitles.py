"""Subtitles: cues built from a transcript under rules, checked, edited and written as SRT/VTT.

A :class:`SubtitleTrack` is independent of the transcript it was built from (as in the
ElevenLabs editor): editing one never changes the other. Cues have no words and no speakers,
never overlap, and each reports the rules it breaks (:func:`cue_problems`). Reading and
writing SRT and VTT goes through pysubs2; VTT text is escaped here (pysubs2 writes it raw).
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final

import pysubs2

from studio.core.errors import EditError
from studio.core.transcript.io import TranscriptFormatError
from studio.core.transcript.model import (
    MIN_SEGMENT_S,
    Segment,
    SegmentId,
    Transcript,
    Word,
    WordType,
    ensure_speaker,
    new_id,
    words_from_text,
)

_PAUSE_BREAK_S: Final = 0.7  # a pause this long ends a cue
_PUNCTUATION_END: Final = re.compile(r"[.!?…;:,—–][\"'”’)\]]*$")
_SENTENCE_END: Final = re.compile(r"[.!?…][\"'”’)\]]*$")


@dataclass(frozen=True, slots=True)
class SubtitleRules:
    """The rules cues are built under and checked against (ElevenLabs' three plus gaps)."""

    max_chars_per_line: int = 42
    max_lines: int = 2
    min_duration: float = 1.0
    max_duration: float = 7.0
    min_gap: float = 0.08  # seconds between one cue's end and the next one's start
    max_chars_per_second: float | None = None  # reading speed cap, e.g. 17; None = unchecked

    def __post_init__(self) -> None:
        if self.max_chars_per_line < 1 or self.max_lines < 1:
            raise EditError("Characters per line and lines per cue must be at least 1.")
        if not 0 < self.min_duration <= self.max_duration:
            raise EditError("The minimum cue duration must be positive and at most the maximum.")
        if self.min_gap < 0:
            raise EditError("The minimum gap between cues cannot be negative.")


class CueProblem(StrEnum):
    """A rule a cue breaks."""

    LINE_TOO_LONG = "line too long"
    TOO_MANY_LINES = "too many lines"
    TOO_SHORT = "too short"
    TOO_LONG = "too long"
    GAP_TOO_SMALL = "too close to the next cue"
    OVERLAP = "overlaps the next cue"
    TOO_FAST = "reading speed too high"
    EMPTY = "no text"


@dataclass(slots=True)
class Cue:
    """One subtitle: lines of text shown from ``start`` to ``end`` (seconds)."""

    id: str
    start: float
    end: float
    text: str  # lines separated by "\n"

    @property
    def lines(self) -> list[str]:
        """Return the cue's lines."""
        return self.text.split("\n")


@dataclass(slots=True)
class SubtitleTrack:
    """Cues in time order plus the rules they are checked against."""

    cues: list[Cue] = field(default_factory=list)
    rules: SubtitleRules = SubtitleRules()

    def index(self, cue_id: str) -> int:
        """Return the position of a cue."""
        for i, cue in enumerate(self.cues):
            if cue.id == cue_id:
                return i
        raise EditError(f"There is no cue {cue_id!r}.")

    def copy(self) -> SubtitleTrack:
        """Return an independent copy."""
        return SubtitleTrack([dataclasses.replace(c) for c in self.cues], self.rules)


@dataclass(frozen=True, slots=True)
class CueChanges:
    """What a cue edit changed."""

    cues: frozenset[str] = frozenset()
    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    order: bool = False
    rules: bool = False


# ---------------------------------------------------------------------------------------------
# Rules


def cue_problems(track: SubtitleTrack, index: int) -> frozenset[CueProblem]:
    """Return the rules the cue at ``index`` breaks."""
    rules = track.rules
    cue = track.cues[index]
    found: set[CueProblem] = set()
    lines = cue.lines
    if not cue.text.strip():
        found.add(CueProblem.EMPTY)
    if any(len(line) > rules.max_chars_per_line for line in lines):
        found.add(CueProblem.LINE_TOO_LONG)
    if len(lines) > rules.max_lines:
        found.add(CueProblem.TOO_MANY_LINES)
    duration = cue.end - cue.start
    if duration < rules.min_duration - 1e-6:
        found.add(CueProblem.TOO_SHORT)
    if duration > rules.max_duration + 1e-6:
        found.add(CueProblem.TOO_LONG)
    if rules.max_chars_per_second and duration > 0:
        chars = sum(len(line) for line in lines)
        if chars / duration > rules.max_chars_per_second + 1e-6:
            found.add(CueProblem.TOO_FAST)
    if index + 1 < len(track.cues):
        gap = track.cues[index + 1].start - cue.end
        if gap < -1e-6:
            found.add(CueProblem.OVERLAP)
        elif gap < rules.min_gap - 1e-6:
            found.add(CueProblem.GAP_TOO_SMALL)
    return frozenset(found)


def track_problems(track: SubtitleTrack) -> list[frozenset[CueProblem]]:
    """Return each cue's broken rules, in order."""
    return [cue_problems(track, i) for i in range(len(track.cues))]


def set_rules(track: SubtitleTrack, rules: SubtitleRules) -> CueChanges:
    """Change the rules (cues are not rebuilt; their problems are re-checked)."""
    track.rules = rules
    return CueChanges(cues=frozenset(c.id for c in track.cues), rules=True)


def wrap_lines(text: str, max_chars: int, max_lines: int) -> list[str] | None:
    """Break ``text`` into at most ``max_lines`` balanced lines of ``max_chars``, or None."""
    words = text.split()
    if not words:
        return [""]
    if len(" ".join(words)) <= max_chars:
        return [" ".join(words)]
    if max_lines <= 1:
        return None
    # Balanced: the split whose longest line is shortest, preferring a break after punctuation.
    best: tuple[float, list[str]] | None = None
    for i in range(1, len(words)):
        head = " ".join(words[:i])
        if len(head) > max_chars:
            break
        rest = wrap_lines(" ".join(words[i:]), max_chars, max_lines - 1)
        if rest is None:
            continue
        lines = [head, *rest]
        score = max(len(line) for line in lines) - (3 if _PUNCTUATION_END.search(head) else 0)
        if best is None or score < best[0]:
            best = (score, lines)
    return None if best is None else best[1]


# ---------------------------------------------------------------------------------------------
# Building cues from a transcript


def _spoken_words(t: Transcript, include_events: bool) -> list[tuple[Word, tuple[str, str]]]:
    """Return the words to subtitle, each with (speaker, segment): a cue never spans two."""
    out: list[tuple[Word, tuple[str, str]]] = []
    for segment in t.segments:
        words = [w for w in segment.words if w.type is WordType.WORD
                 or (include_events and w.type is WordType.AUDIO_EVENT)]
        if not words and segment.text.strip():
            words = list(words_from_text(segment.text, segment.start, segment.end))
        out.extend((w, (segment.speaker_id, segment.id)) for w in words)
    return out


def build_cues(t: Transcript, rules: SubtitleRules | None = None, *,
               include_events: bool = False) -> SubtitleTrack:
    """Build cues from a transcript's word times under ``rules``.

    The words are cut into runs at segment (and so speaker) changes and pauses; each run is then
    divided into cues whose text wraps into the allowed lines and whose duration stays under the
    maximum, choosing among all such divisions (:func:`_divide_run`) the one that breaks at
    sentence ends (else after punctuation), leaves no one- or two-word orphan and no cue shorter
    than the minimum duration where it can, and uses few, evenly filled cues. Then short cues
    are lengthened into the silence after them, and every cue ends at least ``min_gap`` before
    the next one.
    """
    rules = rules or SubtitleRules()
    words = _spoken_words(t, include_events)
    groups: list[list[Word]] = []
    run: list[Word] = []
    speaker: tuple[str, str] = ("", "")
    for word, who in words:
        if run and (who != speaker or word.start - run[-1].end >= _PAUSE_BREAK_S):
            groups.extend(_divide_run(run, rules))
            run = []
        if not run:
            speaker = who
        run.append(word)
    if run:
        groups.extend(_divide_run(run, rules))

    cues: list[Cue] = []
    for group in groups:
        text = " ".join(w.text for w in group)
        lines = wrap_lines(text, rules.max_chars_per_line, rules.max_lines) or [text]
        cues.append(Cue(new_id(), group[0].start, max(group[-1].end, group[0].start + 0.01),
                        "\n".join(lines)))
    _settle_times(cues, rules, t.duration)
    return SubtitleTrack(cues, rules)


#: Costs of a division of a run into cues (lower is better): each cue,
_CUE_COST: Final = 1.0
#: a break after a comma, colon... rather than a sentence end, a break mid-phrase,
_PUNCTUATION_BREAK_COST: Final = 0.4
_MID_PHRASE_BREAK_COST: Final = 1.5
#: a cue that holds a sentence end and runs on into the next sentence though it did not
#: start with that first sentence or does not end with the second,
_STRADDLE_COST: Final = 1.5
#: a cue of one or two words (an orphan), a cue shorter than the minimum duration,
_ORPHAN_COST: Final = 2.5
_SHORT_COST: Final = 1.0
#: and, times the squared unused fraction of the cue's characters, an unevenly filled cue.
_EMPTY_COST: Final = 0.3


def _divide_run(run: list[Word], rules: SubtitleRules) -> list[list[Word]]:
    """Divide a run of words (no speaker change or pause inside) into cues at the least cost.

    Dynamic programming over the break points: a cue may hold ``run[i:j]`` if its text wraps
    and it lasts at most ``max_duration`` (a single word always may).
    """
    n = len(run)
    capacity = rules.max_chars_per_line * rules.max_lines
    best = [0.0] + [math.inf] * n
    back = [0] * (n + 1)
    for i in range(n):
        if best[i] == math.inf:
            continue
        chars = -1
        lines, line = 1, -1  # greedy filling: the fewest lines the words can wrap into
        starts_sentence = i == 0 or bool(_SENTENCE_END.search(run[i - 1].text))
        inner_end = False  # a sentence ends inside run[i:j - 1]
        for j in range(i + 1, n + 1):
            word = run[j - 1]
            if j - 1 > i and _SENTENCE_END.search(run[j - 2].text):
                inner_end = True
            chars += len(word.text) + 1
            if line < 0 or line + 1 + len(word.text) <= rules.max_chars_per_line:
                line += len(word.text) + 1
            else:
                lines, line = lines + 1, len(word.text)
            duration = word.end - run[i].start
            if j > i + 1 and (lines > rules.max_lines or line > rules.max_chars_per_line
                              or duration > rules.max_duration):
                break  # (wrap_lines finds lines exactly when greedy filling does)
            cost = _CUE_COST + _EMPTY_COST * (1 - min(chars, capacity) / capacity) ** 2
            ends_sentence = j == n or bool(_SENTENCE_END.search(word.text))
            if inner_end and not (starts_sentence and ends_sentence):
                cost += _STRADDLE_COST
            if not ends_sentence:
                cost += _PUNCTUATION_BREAK_COST if _PUNCTUATION_END.search(word.text) \
                    else _MID_PHRASE_BREAK_COST
            if j - i <= 2:
                cost += _ORPHAN_COST
            if duration < rules.min_duration:
                cost += _SHORT_COST
            if best[i] + cost < best[j]:
                best[j], back[j] = best[i] + cost, i
    groups: list[list[Word]] = []
    j = n
    while j > 0:
        groups.append(run[back[j]:j])
        j = back[j]
    return groups[::-1]


def _settle_times(cues: list[Cue], rules: SubtitleRules, duration: float | None) -> None:
    """Lengthen short cues into the following silence; keep the minimum gap; no overlaps."""
    for i, cue in enumerate(cues):
        limit = cues[i + 1].start - rules.min_gap if i + 1 < len(cues) else (
            duration if duration is not None else float("inf")
        )
        if cue.end - cue.start < rules.min_duration:
            cue.end = max(cue.end, min(cue.start + rules.min_duration, limit))
        if cue.end > limit:
            cue.end = max(cue.start + MIN_SEGMENT_S, limit)
        if i + 1 < len(cues) and cue.end > cues[i + 1].start:
            cue.end = cues[i + 1].start


# ---------------------------------------------------------------------------------------------
# Cue edits


def _bounds(track: SubtitleTrack, index: int) -> tuple[float, float]:
    low = track.cues[index - 1].end if index > 0 else 0.0
    high = track.cues[index + 1].start if index + 1 < len(track.cues) else float("inf")
    return low, high


def set_cue_text(track: SubtitleTrack, cue_id: str, text: str) -> CueChanges:
    """Replace a cue's text (lines separated by newlines)."""
    cue = track.cues[track.index(cue_id)]
    text = "\n".join(line.strip() for line in text.strip().split("\n"))
    if text == cue.text:
        return CueChanges()
    cue.text = text
    return CueChanges(cues=frozenset({cue_id}))


def retime_cue(track: SubtitleTrack, cue_id: str, start: float, end: float, *,
               clamp: bool = True) -> CueChanges:
    """Move a cue's edges; they stop at the neighbours (``clamp``) or an overlap is refused."""
    index = track.index(cue_id)
    low, high = _bounds(track, index)
    if clamp:
        start, end = max(start, low), min(end, high)
    elif start < low - 1e-9 or end > high + 1e-9:
        raise EditError("Cues cannot overlap: the new times run into a neighbour.")
    if start < 0 or end - start < MIN_SEGMENT_S:
        raise EditError("A cue must end after it starts.")
    cue = track.cues[index]
    cue.start, cue.end = start, end
    return CueChanges(cues=frozenset({cue_id}))


def split_cue(track: SubtitleTrack, cue_id: str, offset: int) -> CueChanges:
    """Split a cue at character ``offset``; time is shared in proportion to the text."""
    index = track.index(cue_id)
    cue = track.cues[index]
    head, tail = cue.text[:offset].strip(), cue.text[offset:].strip()
    if not head or not tail:
        raise EditError("Put the cursor inside the cue's text to split it.")
    cut = cue.start + (cue.end - cue.start) * len(head) / (len(head) + len(tail))
    cut = min(max(cut, cue.start + MIN_SEGMENT_S), cue.end - MIN_SEGMENT_S)
    if cut <= cue.start:
        raise EditError("The cue is too short to split.")
    new = Cue(new_id(), cut, cue.end, tail)
    cue.text, cue.end = head, cut
    track.cues.insert(index + 1, new)
    return CueChanges(cues=frozenset({cue_id}), added=frozenset({new.id}), order=True)


def merge_cues(track: SubtitleTrack, cue_id: str) -> CueChanges:
    """Merge a cue with the next one."""
    index = track.index(cue_id)
    if index + 1 >= len(track.cues):
        raise EditError("This is the last cue: there is nothing after it to merge with.")
    first, second = track.cues[index], track.cues.pop(index + 1)
    text = " ".join(f"{first.text} {second.text}".split())
    rules = track.rules
    first.text = "\n".join(wrap_lines(text, rules.max_chars_per_line, rules.max_lines) or [text])
    first.end = second.end
    return CueChanges(cues=frozenset({cue_id}), removed=frozenset({second.id}), order=True)


def add_cue(track: SubtitleTrack, start: float, end: float, text: str = "") -> CueChanges:
    """Add a cue in a free stretch of time; refuse one that would overlap another."""
    if start < 0 or end - start < MIN_SEGMENT_S:
        raise EditError("A cue must end after it starts.")
    import bisect

    index = bisect.bisect_right([c.start for c in track.cues], start)
    if (index > 0 and track.cues[index - 1].end > start + 1e-9) or (
        index < len(track.cues) and track.cues[index].start < end - 1e-9
    ):
        raise EditError("Cues cannot overlap: choose a free stretch of the timeline.")
    cue = Cue(new_id(), start, end, text.strip())
    track.cues.insert(index, cue)
    return CueChanges(added=frozenset({cue.id}), order=True)


def delete_cue(track: SubtitleTrack, cue_id: str) -> CueChanges:
    """Delete a cue."""
    del track.cues[track.index(cue_id)]
    return CueChanges(removed=frozenset({cue_id}), order=True)


# ---------------------------------------------------------------------------------------------
# SRT / VTT


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def to_ssafile(track: SubtitleTrack, fmt: str) -> pysubs2.SSAFile:
    """Return the track as a pysubs2 file, text escaped for ``fmt`` (``srt`` or ``vtt``)."""
    subs = pysubs2.SSAFile()
    for cue in track.cues:
        if not cue.text.strip():
            continue  # an empty cue would end the block early in both formats
        lines = [line for line in cue.lines if line.strip()]
        if fmt == "vtt":
            lines = [html.escape(line, quote=False).replace("-->", "--&gt;") for line in lines]
        else:
            lines = [line.replace("-->", "->") for line in lines]
        # "\N" is pysubs2's line break; a literal backslash-N in the text must not become one.
        text = "\\N".join(line.replace("\\", "\\\u2060") for line in lines)
        subs.append(pysubs2.SSAEvent(start=_ms(cue.start), end=_ms(cue.end), text=text))
    return subs


def export_subtitles(track: SubtitleTrack, fmt: str) -> str:
    """Return the track as SRT or VTT text."""
    if fmt not in ("srt", "vtt"):
        raise EditError(f"Unknown subtitle format {fmt!r}; use srt or vtt.")
    return str(to_ssafile(track, fmt).to_string(fmt))


_VTT_VOICE: Final = re.compile(r"<v(?:\.[^ >]*)?\s+([^>]+)>")
_VTT_SKIP: Final = ("NOTE", "STYLE", "REGION")


def _clean_vtt(text: str) -> tuple[str, list[str]]:
    """Drop NOTE/STYLE/REGION blocks (pysubs2 folds them into cues); collect cue voices."""
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip())
    kept: list[str] = []
    voices: list[str] = []
    for block in blocks:
        first = block.lstrip().split("\n", 1)[0]
        if first.startswith("WEBVTT"):
            kept.append("WEBVTT")
            continue
        if first.split(" ", 1)[0] in _VTT_SKIP or "-->" not in block:
            continue
        match = _VTT_VOICE.search(block)
        voices.append(match.group(1).strip() if match else "")
        lines = block.split("\n")
        timing = next(i for i, line in enumerate(lines) if "-->" in line)
        kept.append("\n".join(lines[timing:]))  # pysubs2 reads an identifier as text
    return "\n\n".join(kept) + "\n", voices


class SubtitleWarning(UserWarning):
    """Something in a subtitle file was changed to read it (the message names the file)."""


Warn = Callable[[str], None]


def _warn_default(message: str) -> None:
    warnings.warn(SubtitleWarning(message), stacklevel=3)


def load_subtitles(path: str | Path, *, warn: Warn | None = None
                   ) -> tuple[SubtitleTrack, list[str]]:
    """Read an SRT or VTT file; return its cues and each cue's VTT voice (or "").

    Overlapping cues are trimmed (cues never overlap) and reported: ``warn`` is called with
    "FILE: N overlapping cues were trimmed" (default: a :class:`SubtitleWarning`).
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("srt", "vtt"):
        raise TranscriptFormatError(path, "is not an SRT or VTT file")
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise TranscriptFormatError(path, "does not exist") from None
    except OSError as exc:
        raise TranscriptFormatError(path, f"could not be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise TranscriptFormatError(path, "is not UTF-8 text") from None
    voices: list[str] = []
    if fmt == "vtt":
        if not raw.lstrip().startswith("WEBVTT"):
            raise TranscriptFormatError(path, "does not start with WEBVTT")
        raw, voices = _clean_vtt(raw)
    try:
        subs = pysubs2.SSAFile.from_string(raw, format_=fmt)
    except Exception as exc:  # pysubs2 raises several types for bad input
        raise TranscriptFormatError(path, f"could not be parsed as {fmt.upper()} ({exc})") \
            from None
    cues: list[Cue] = []
    kept_voices: list[str] = []
    trimmed = 0
    # each event keeps its own voice: sorting a file that is not in time order must not
    # hand a voice to another cue
    voiced = [(event, voices[i] if i < len(voices) else "") for i, event in enumerate(subs)]
    for event, voice in sorted(voiced, key=lambda item: item[0].start):
        text = event.plaintext.strip()
        if fmt == "vtt":
            text = html.unescape(re.sub(r"</?[a-z][^>]*>", "", text))
        if not text or event.end <= event.start:
            continue
        start = event.start / 1000
        if cues and start < cues[-1].end:  # overlapping input: trim the earlier cue
            trimmed += 1
            cues[-1].end = max(cues[-1].start + MIN_SEGMENT_S, start)
            start = max(start, cues[-1].end)
        cues.append(Cue(new_id(), start, max(start + MIN_SEGMENT_S, event.end / 1000), text))
        kept_voices.append(voice)
    if not cues:
        raise TranscriptFormatError(path, f"has no {fmt.upper()} cues")
    if trimmed:
        (warn or _warn_default)(
            f"{path}: {trimmed} overlapping cue{'s were' if trimmed > 1 else ' was'} trimmed")
    return SubtitleTrack(cues), kept_voices


def transcript_from_subtitles(path: str | Path, *, warn: Warn | None = None) -> Transcript:
    """Import an SRT or VTT file as a transcript: one segment per cue (VTT voices as speakers).

    Subtitles carry no word times, so words are spread over each cue by length and marked
    for alignment. ``warn`` is as for :func:`load_subtitles`.
    """
    track, voices = load_subtitles(path, warn=warn)
    t = Transcript(source=Path(path).suffix.lower().lstrip("."))
    for cue, voice in zip(track.cues, voices, strict=True):
        speaker = ensure_speaker(t, voice or "Speaker 1")
        text = " ".join(cue.text.split())
        t.segments.append(Segment(SegmentId(new_id()), cue.start, cue.end, speaker, text,
                                  words_from_text(text, cue.start, cue.end), words_stale=True))
    return t


def cues_from(entries: Iterable[tuple[float, float, str]]) -> SubtitleTrack:
    """Make a track from (start, end, text) triples (for tests and scripts)."""
    return SubtitleTrack([Cue(new_id(), s, e, x) for s, e, x in entries])
