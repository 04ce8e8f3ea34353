"""The transcript model and its edits: speakers, time-ordered segments and their timed words.

Every edit is a function that mutates a :class:`Transcript` and returns a
:class:`TranscriptChanges` saying what changed, so an editor panel repaints only those rows
and an undo command can snapshot what it needs (:meth:`Transcript.copy` is cheap: words are
immutable tuples shared between copies).

Invariants the edits keep:

* segments are sorted by start and never overlap (``a.end <= b.start``);
* every segment has ``start < end`` and belongs to a speaker of the transcript;
* a segment's words lie inside it, in time order; ``char_start``/``char_end`` index the
  segment's ``text``. When the text is edited the words are re-based onto the new text
  (unchanged words keep their times, new ones are interpolated) and ``words_stale`` is set
  until :func:`studio.core.transcript.align.align_words` times them again.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, NewType

from studio.core.errors import EditError

SpeakerId = NewType("SpeakerId", str)
SegmentId = NewType("SegmentId", str)

#: Colours given to new speakers in turn (readable on light and dark backgrounds).
SPEAKER_COLOURS: Final = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
    "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac",
)
_COLOUR_RE: Final = re.compile(r"^#[0-9a-fA-F]{6}$")
_TOKEN_RE: Final = re.compile(r"\S+")
MIN_SEGMENT_S: Final = 0.01  # shortest segment an edit may leave


def new_id() -> str:
    """Return a fresh opaque id."""
    return uuid.uuid4().hex[:12]


class WordType(StrEnum):
    """What a timed token is (the ElevenLabs Speech to Text token types)."""

    WORD = "word"
    SPACING = "spacing"
    AUDIO_EVENT = "audio_event"


@dataclass(frozen=True, slots=True)
class Word:
    """A timed token of a segment: a word, the space between words, or an audio event."""

    text: str
    start: float
    end: float
    type: WordType = WordType.WORD
    confidence: float | None = None  # 0-1 when the engine gave one
    char_start: int = 0  # [char_start, char_end) in the segment's text
    char_end: int = 0


@dataclass(slots=True)
class Speaker:
    """A speaker track; its position in :attr:`Transcript.speakers` is its order."""

    id: SpeakerId
    name: str
    colour: str


@dataclass(slots=True)
class Segment:
    """A stretch of speech by one speaker."""

    id: SegmentId
    start: float
    end: float
    speaker_id: SpeakerId
    text: str
    words: tuple[Word, ...] = ()
    words_stale: bool = False  # text or times edited since the words were aligned

    @property
    def duration(self) -> float:
        """Return the length in seconds."""
        return self.end - self.start


@dataclass(slots=True)
class Transcript:
    """A timed transcript of one media file."""

    speakers: list[Speaker] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    language: str | None = None
    media: str | None = None  # path of the media it transcribes, when known
    duration: float | None = None  # media length in seconds, when known
    source: str = ""  # "elevenlabs", "offline", "srt", "narration", ...

    def copy(self) -> Transcript:
        """Return an independent copy (words are immutable and shared)."""
        # Plain constructor calls: several times faster than dataclasses.replace, which
        # matters for undo snapshots of an hour's transcript (600 segments) on every edit.
        return Transcript(
            speakers=[Speaker(s.id, s.name, s.colour) for s in self.speakers],
            segments=[Segment(s.id, s.start, s.end, s.speaker_id, s.text, s.words,
                              s.words_stale) for s in self.segments],
            language=self.language, media=self.media, duration=self.duration,
            source=self.source,
        )

    def speaker(self, speaker_id: SpeakerId) -> Speaker:
        """Return the speaker with ``speaker_id``."""
        for speaker in self.speakers:
            if speaker.id == speaker_id:
                return speaker
        raise EditError(f"There is no speaker {speaker_id!r} in this transcript.")

    def index(self, segment_id: SegmentId) -> int:
        """Return the position of a segment."""
        for i, segment in enumerate(self.segments):
            if segment.id == segment_id:
                return i
        raise EditError(f"There is no segment {segment_id!r} in this transcript.")

    def segment(self, segment_id: SegmentId) -> Segment:
        """Return the segment with ``segment_id``."""
        return self.segments[self.index(segment_id)]

    def words(self, *, spoken_only: bool = True) -> Iterator[Word]:
        """Yield every word in time order (``spoken_only``: skip spacing tokens)."""
        for segment in self.segments:
            for word in segment.words:
                if not spoken_only or word.type is not WordType.SPACING:
                    yield word

    def segment_at(self, seconds: float) -> Segment | None:
        """Return the segment playing at ``seconds``, if any."""
        import bisect

        i = bisect.bisect_right([s.start for s in self.segments], seconds) - 1
        if i >= 0 and self.segments[i].start <= seconds < self.segments[i].end:
            return self.segments[i]
        return None

    @property
    def text(self) -> str:
        """Return the whole text, one segment per line."""
        return "\n".join(s.text for s in self.segments)


@dataclass(frozen=True, slots=True)
class TranscriptChanges:
    """What an edit changed: ids of segments changed, added and removed, and speakers."""

    segments: frozenset[str] = frozenset()
    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    speakers: frozenset[str] = frozenset()
    removed_speakers: frozenset[str] = frozenset()
    order: bool = False  # segment or speaker order changed

    def __or__(self, other: TranscriptChanges) -> TranscriptChanges:
        return TranscriptChanges(
            self.segments | other.segments, self.added | other.added,
            self.removed | other.removed, self.speakers | other.speakers,
            self.removed_speakers | other.removed_speakers, self.order or other.order,
        )

    @property
    def empty(self) -> bool:
        """Return whether nothing changed."""
        return not (self.segments or self.added or self.removed or self.speakers
                    or self.removed_speakers or self.order)


def _changed(*segment_ids: str) -> TranscriptChanges:
    return TranscriptChanges(segments=frozenset(segment_ids))


# ---------------------------------------------------------------------------------------------
# Building words


def words_from_text(text: str, start: float, end: float) -> tuple[Word, ...]:
    """Spread ``text``'s words over ``[start, end]`` by character count (untimed guess)."""
    tokens = list(_TOKEN_RE.finditer(text))
    if not tokens:
        return ()
    total = sum(len(t.group()) for t in tokens)
    span = max(0.0, end - start)
    out: list[Word] = []
    clock = start
    for token in tokens:
        length = span * len(token.group()) / total
        out.append(Word(token.group(), clock, clock + length, WordType.WORD, None,
                        token.start(), token.end()))
        clock += length
    return tuple(out)


def _rebase_words(old: tuple[Word, ...], old_text: str, text: str, start: float,
                  end: float) -> tuple[Word, ...]:
    """Map words onto edited text: unchanged words keep their times, others are interpolated."""
    tokens = list(_TOKEN_RE.finditer(text))
    if not tokens:
        return ()
    spoken = [w for w in old if w.type is not WordType.SPACING]
    matcher = difflib.SequenceMatcher(
        a=[w.text for w in spoken], b=[t.group() for t in tokens], autojunk=False
    )
    times: list[tuple[float, float] | None] = [None] * len(tokens)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            w = spoken[block.a + k]
            times[block.b + k] = (w.start, w.end)
    # Interpolate the unmatched runs between their timed neighbours, by characters.
    out: list[Word] = []
    i = 0
    while i < len(tokens):
        if times[i] is not None:
            i += 1
            continue
        j = i
        while j < len(tokens) and times[j] is None:
            j += 1
        left = times[i - 1][1] if i > 0 and times[i - 1] is not None else start  # type: ignore[index]
        right = times[j][0] if j < len(tokens) and times[j] is not None else end  # type: ignore[index]
        right = max(left, right)
        run = tokens[i:j]
        total = sum(len(t.group()) for t in run) or 1
        clock = left
        for k, token in enumerate(run):
            length = (right - left) * len(token.group()) / total
            times[i + k] = (clock, clock + length)
            clock += length
        i = j
    for token, span in zip(tokens, times, strict=True):
        assert span is not None
        s, e = min(max(span[0], start), end), min(max(span[1], start), end)
        out.append(Word(token.group(), s, max(s, e), WordType.WORD, None,
                        token.start(), token.end()))
    return tuple(out)


def _check_time(value: float, what: str) -> float:
    if not isinstance(value, int | float) or value != value or value < 0:
        raise EditError(f"The {what} time must be a number of seconds of at least 0.")
    return float(value)


# ---------------------------------------------------------------------------------------------
# Segment edits


def set_segment_text(t: Transcript, segment_id: SegmentId, text: str) -> TranscriptChanges:
    """Replace a segment's text; its words are re-based and marked for re-alignment."""
    segment = t.segment(segment_id)
    text = text.strip()
    if text == segment.text:
        return TranscriptChanges()
    segment.words = _rebase_words(segment.words, segment.text, text, segment.start, segment.end)
    segment.text = text
    segment.words_stale = True
    return _changed(segment.id)


def _char_split_time(segment: Segment, offset: int) -> float:
    """Return the time at which character ``offset`` of the segment is spoken."""
    before = [w for w in segment.words if w.char_end <= offset and w.type is not WordType.SPACING]
    after = [w for w in segment.words if w.char_start >= offset and w.type is not WordType.SPACING]
    if before and after:
        return (before[-1].end + after[0].start) / 2
    if before:
        return before[-1].end
    if after:
        return after[0].start
    fraction = offset / max(1, len(segment.text))
    return segment.start + fraction * segment.duration


def split_segment(t: Transcript, segment_id: SegmentId, offset: int) -> TranscriptChanges:
    """Split a segment at character ``offset`` of its text (Enter in the editor).

    The new second segment gets the words from ``offset`` on and starts between the last word
    before the cut and the first word after it. Returns the new segment's id in ``added``.
    """
    index = t.index(segment_id)
    segment = t.segments[index]
    head, tail = segment.text[:offset].rstrip(), segment.text[offset:].lstrip()
    if not 0 < offset < len(segment.text) or not head or not tail:
        raise EditError("Put the cursor inside the segment's text, between two words, to split.")
    cut = min(max(_char_split_time(segment, offset), segment.start + MIN_SEGMENT_S),
              segment.end - MIN_SEGMENT_S)
    if cut <= segment.start or cut >= segment.end:
        raise EditError("The segment is too short to split.")
    shift = len(segment.text) - len(segment.text[offset:].lstrip())
    left_words = tuple(w for w in segment.words if w.char_end <= offset
                       and not (w.type is WordType.SPACING and w.char_end == offset))
    right_words = tuple(
        dataclasses.replace(w, char_start=w.char_start - shift, char_end=w.char_end - shift)
        for w in segment.words if w.char_start >= shift
    )
    new = Segment(SegmentId(new_id()), cut, segment.end, segment.speaker_id, tail,
                  tuple(_clamp_word(w, cut, segment.end) for w in right_words),
                  segment.words_stale)
    segment.text, segment.end = head, cut
    segment.words = tuple(_clamp_word(w, segment.start, cut) for w in left_words)
    t.segments.insert(index + 1, new)
    return TranscriptChanges(segments=frozenset({segment.id}), added=frozenset({new.id}),
                             order=True)


def split_segment_at_word(t: Transcript, segment_id: SegmentId, word_index: int
                          ) -> TranscriptChanges:
    """Split a segment before its ``word_index``-th word (counting spoken words only)."""
    segment = t.segment(segment_id)
    spoken = [w for w in segment.words if w.type is not WordType.SPACING]
    if not 0 < word_index < len(spoken):
        raise EditError("Choose a word after the first one to split before.")
    return split_segment(t, segment_id, spoken[word_index].char_start)


def _clamp_word(word: Word, start: float, end: float) -> Word:
    s = min(max(word.start, start), end)
    return dataclasses.replace(word, start=s, end=min(max(word.end, s), end))


def merge_segments(t: Transcript, segment_id: SegmentId) -> TranscriptChanges:
    """Merge a segment with the next one; both must belong to the same speaker."""
    index = t.index(segment_id)
    if index + 1 >= len(t.segments):
        raise EditError("This is the last segment: there is nothing after it to merge with.")
    first, second = t.segments[index], t.segments[index + 1]
    if first.speaker_id != second.speaker_id:
        raise EditError(
            "Only adjacent segments of the same speaker can be merged; reassign one first."
        )
    offset = len(first.text) + 1
    moved = tuple(dataclasses.replace(w, char_start=w.char_start + offset,
                                      char_end=w.char_end + offset) for w in second.words)
    gap = Word(" ", first.end, second.start, WordType.SPACING, None, offset - 1, offset)
    has_spacing = any(w.type is WordType.SPACING for w in first.words + second.words)
    first.words = first.words + ((gap,) if has_spacing else ()) + moved
    first.text = f"{first.text} {second.text}"
    first.end = second.end
    first.words_stale = first.words_stale or second.words_stale
    del t.segments[index + 1]
    return TranscriptChanges(segments=frozenset({first.id}), removed=frozenset({second.id}),
                             order=True)


def _neighbour_bounds(t: Transcript, index: int) -> tuple[float, float]:
    low = t.segments[index - 1].end if index > 0 else 0.0
    high = t.segments[index + 1].start if index + 1 < len(t.segments) else float("inf")
    if t.duration is not None:
        high = min(high, t.duration)
    return low, high


def add_segment(t: Transcript, start: float, end: float, speaker_id: SpeakerId,
                text: str = "") -> TranscriptChanges:
    """Add a segment in a free stretch of time; refuse one that would overlap another."""
    start, end = _check_time(start, "start"), _check_time(end, "end")
    if end - start < MIN_SEGMENT_S:
        raise EditError("A segment must end after it starts.")
    t.speaker(speaker_id)
    if t.duration is not None and end > t.duration + 1e-6:
        raise EditError(f"A segment cannot end after the media ({t.duration:.2f} s).")
    import bisect

    index = bisect.bisect_right([s.start for s in t.segments], start)
    if (index > 0 and t.segments[index - 1].end > start + 1e-9) or (
        index < len(t.segments) and t.segments[index].start < end - 1e-9
    ):
        raise EditError("Segments cannot overlap: choose a free stretch of the timeline.")
    text = text.strip()
    segment = Segment(SegmentId(new_id()), start, end, speaker_id, text,
                      words_from_text(text, start, end), words_stale=bool(text))
    t.segments.insert(index, segment)
    return TranscriptChanges(added=frozenset({segment.id}), order=True)


def delete_segment(t: Transcript, segment_id: SegmentId) -> TranscriptChanges:
    """Delete a segment."""
    del t.segments[t.index(segment_id)]
    return TranscriptChanges(removed=frozenset({segment_id}), order=True)


def retime_segment(t: Transcript, segment_id: SegmentId, start: float, end: float, *,
                   clamp: bool = True) -> TranscriptChanges:
    """Move a segment's edges; its words are stretched to fit and marked for re-alignment.

    With ``clamp`` the edges stop at the neighbouring segments (dragging an edge); without
    it an overlap is refused.
    """
    index = t.index(segment_id)
    segment = t.segments[index]
    start, end = _check_time(start, "start"), _check_time(end, "end")
    low, high = _neighbour_bounds(t, index)
    if clamp:
        start, end = max(start, low), min(end, high)
    elif start < low - 1e-9 or end > high + 1e-9:
        raise EditError("Segments cannot overlap: the new times run into a neighbour.")
    if end - start < MIN_SEGMENT_S:
        raise EditError("A segment must end after it starts.")
    if (start, end) == (segment.start, segment.end):
        return TranscriptChanges()
    scale = (end - start) / segment.duration if segment.duration > 0 else 0.0
    segment.words = tuple(
        dataclasses.replace(w, start=start + (w.start - segment.start) * scale,
                            end=start + (w.end - segment.start) * scale)
        for w in segment.words
    )
    segment.start, segment.end = start, end
    segment.words_stale = bool(segment.words)
    return _changed(segment.id)


def set_segment_words(t: Transcript, segment_id: SegmentId, words: Iterable[Word]
                      ) -> TranscriptChanges:
    """Replace a segment's words with freshly aligned ones (clears ``words_stale``)."""
    segment = t.segment(segment_id)
    segment.words = tuple(_clamp_word(w, segment.start, segment.end) for w in words)
    segment.words_stale = False
    return _changed(segment.id)


# ---------------------------------------------------------------------------------------------
# Speakers


def _check_colour(colour: str) -> str:
    if not _COLOUR_RE.match(colour):
        raise EditError(f"{colour!r} is not a colour; use #rrggbb.")
    return colour.lower()


def add_speaker(t: Transcript, name: str | None = None, colour: str | None = None
                ) -> TranscriptChanges:
    """Add a speaker at the end of the list; returns its id in ``speakers``."""
    used = {s.colour for s in t.speakers}
    if colour is None:
        colour = next((c for c in SPEAKER_COLOURS if c not in used),
                      SPEAKER_COLOURS[len(t.speakers) % len(SPEAKER_COLOURS)])
    name = (name or "").strip() or f"Speaker {len(t.speakers) + 1}"
    speaker = Speaker(SpeakerId(new_id()), name, _check_colour(colour))
    t.speakers.append(speaker)
    return TranscriptChanges(speakers=frozenset({speaker.id}), order=True)


def rename_speaker(t: Transcript, speaker_id: SpeakerId, name: str) -> TranscriptChanges:
    """Rename a speaker."""
    name = name.strip()
    if not name:
        raise EditError("A speaker needs a name.")
    t.speaker(speaker_id).name = name
    return TranscriptChanges(speakers=frozenset({speaker_id}))


def recolour_speaker(t: Transcript, speaker_id: SpeakerId, colour: str) -> TranscriptChanges:
    """Set a speaker's colour (``#rrggbb``); it applies to all of its segments."""
    t.speaker(speaker_id).colour = _check_colour(colour)
    return TranscriptChanges(
        speakers=frozenset({speaker_id}),
        segments=frozenset(s.id for s in t.segments if s.speaker_id == speaker_id),
    )


def move_speaker(t: Transcript, speaker_id: SpeakerId, new_index: int) -> TranscriptChanges:
    """Move a speaker to position ``new_index`` in the order."""
    speaker = t.speaker(speaker_id)
    old = t.speakers.index(speaker)
    new_index = max(0, min(new_index, len(t.speakers) - 1))
    if old == new_index:
        return TranscriptChanges()
    t.speakers.insert(new_index, t.speakers.pop(old))
    return TranscriptChanges(speakers=frozenset({speaker_id}), order=True)


def delete_speaker(t: Transcript, speaker_id: SpeakerId) -> TranscriptChanges:
    """Delete a speaker and all of its segments."""
    speaker = t.speaker(speaker_id)
    removed = frozenset(s.id for s in t.segments if s.speaker_id == speaker_id)
    t.segments = [s for s in t.segments if s.speaker_id != speaker_id]
    t.speakers.remove(speaker)
    return TranscriptChanges(removed=removed, removed_speakers=frozenset({speaker_id}),
                             order=True)


def reassign_segment(t: Transcript, segment_id: SegmentId, speaker_id: SpeakerId
                     ) -> TranscriptChanges:
    """Give one segment to another speaker."""
    t.speaker(speaker_id)
    segment = t.segment(segment_id)
    if segment.speaker_id == speaker_id:
        return TranscriptChanges()
    segment.speaker_id = speaker_id
    return _changed(segment.id)


def move_speaker_segments(t: Transcript, from_id: SpeakerId, to_id: SpeakerId
                          ) -> TranscriptChanges:
    """Give all of one speaker's segments to another (``Move Segments To``)."""
    t.speaker(from_id)
    t.speaker(to_id)
    moved = [s for s in t.segments if s.speaker_id == from_id and from_id != to_id]
    for segment in moved:
        segment.speaker_id = to_id
    return TranscriptChanges(segments=frozenset(s.id for s in moved))


def ensure_speaker(t: Transcript, name: str) -> SpeakerId:
    """Return the id of the speaker called ``name``, adding it if needed."""
    for speaker in t.speakers:
        if speaker.name == name:
            return speaker.id
    changes = add_speaker(t, name)
    return SpeakerId(next(iter(changes.speakers)))


def check_transcript(t: Transcript) -> list[str]:
    """Return a description of each broken invariant (empty when the transcript is sound)."""
    problems: list[str] = []
    ids = {s.id for s in t.speakers}
    previous_end = 0.0
    for i, s in enumerate(t.segments):
        if s.speaker_id not in ids:
            problems.append(f"segment {i + 1} has an unknown speaker")
        if not s.end > s.start:
            problems.append(f"segment {i + 1} ends before it starts")
        if s.start < previous_end - 1e-6:
            problems.append(f"segment {i + 1} overlaps the one before")
        previous_end = max(previous_end, s.end)
        for w in s.words:
            if w.start < s.start - 1e-6 or w.end > s.end + 1e-6 or w.end < w.start:
                problems.append(f"segment {i + 1} has a word outside it ({w.text!r})")
                break
    return problems


class WordTimes:
    """An index of a transcript's spoken words by time, for follow-along highlighting.

    Built once after an edit (one pass over the words); :meth:`at` is a binary search, cheap
    enough for every playhead tick of an hour-long transcript.
    """

    __slots__ = ("_ends", "_rows", "_segment_ends", "_starts", "_words")

    def __init__(self, t: Transcript) -> None:
        # Flat lists of floats and ints only: no tuple per word, which would keep the garbage
        # collector busy on an hour's 9,000 words.
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._segment_ends: list[float] = []
        self._rows: list[int] = []  # segment index
        self._words: list[int] = []  # index into segment.words
        spacing = WordType.SPACING
        for row, segment in enumerate(t.segments):
            for k, word in enumerate(segment.words):
                if word.type is not spacing:
                    self._starts.append(word.start)
                    self._ends.append(word.end)
                    self._segment_ends.append(segment.end)
                    self._rows.append(row)
                    self._words.append(k)

    def __len__(self) -> int:
        return len(self._rows)

    def at(self, seconds: float) -> tuple[int, int] | None:
        """Return (segment index, word index) of the word being spoken at ``seconds``.

        That is the last word started at or before ``seconds``; it stays current through the
        pause after it until the next word starts, but never past the end of its segment.
        """
        import bisect

        i = bisect.bisect_right(self._starts, seconds) - 1
        if i < 0:
            return None
        if seconds < self._ends[i] or seconds < self._segment_ends[i]:
            return self._rows[i], self._words[i]
        return None
