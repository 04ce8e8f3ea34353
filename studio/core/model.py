"""The project model: plain, typed dataclasses and the edit functions that change them.

A :class:`Project` holds chapters of :class:`Block` s (paragraphs), the cast of
:class:`Voice` s, pronunciation dictionary references and export records. Every block keeps an
append-only history of :class:`Take` s (generated audio); one of them may be current.

Edits are module-level functions that mutate the project and return a :class:`Changes`
record saying what changed, so the store writes only those rows and views repaint only those
items. Edits never touch takes' audio: undoing a text edit never destroys narration.

A block's current take is *stale* when :func:`inputs_hash` of the block (the text, voices,
settings, model and dictionary versions the engine would be sent) differs from the hash the
take was generated with.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NewType

from studio.core.catalog import DEFAULT_MODEL_ID, estimate_credits
from studio.core.errors import EditError

ProjectId = NewType("ProjectId", str)
ChapterId = NewType("ChapterId", str)
BlockId = NewType("BlockId", str)
VoiceId = NewType("VoiceId", str)
TakeId = NewType("TakeId", str)
DictionaryId = NewType("DictionaryId", str)
ExportId = NewType("ExportId", str)

#: Inline pause tag, the syntax ElevenLabs accepts in text: ``<break time="1.5s" />``.
BREAK_RE = re.compile(r'<break\s+time\s*=\s*"(\d+(?:\.\d+)?)s"\s*/>')
_SPACES = re.compile(r"\s{2,}")
BREAK_MIN_S = 0.1
BREAK_MAX_S = 3.0
BREAK_DEFAULT_S = 1.0


def new_id() -> str:
    """Return a fresh opaque id (64 random bits, hex)."""
    return os.urandom(8).hex()


def break_tag(seconds: float = BREAK_DEFAULT_S) -> str:
    """Return the inline tag for a pause of ``seconds`` (clamped to the allowed range)."""
    seconds = min(max(seconds, BREAK_MIN_S), BREAK_MAX_S)
    return f'<break time="{seconds:.1f}s" />'


def speakable_text(text: str) -> str:
    """Return ``text`` without inline break tags."""
    if "<break" not in text:
        return text
    return _SPACES.sub(" ", BREAK_RE.sub(" ", text)).strip()


def count_words(text: str) -> int:
    """Return the number of words in ``text`` (break tags not counted)."""
    return len(speakable_text(text).split())


# ---------------------------------------------------------------------------------------------
# Entities


@dataclass(slots=True)
class Voice:
    """A voice in the project's cast, with the settings sent to (or applied after) the engine."""

    id: VoiceId
    alias: str
    engine: str = "offline"
    engine_voice_id: str = "en-us"
    volume_db: float = 0.0
    speed: float = 1.0
    stability: float = 0.5
    similarity: float = 0.75
    style: float = 0.0
    speaker_boost: bool = True

    def engine_fingerprint(self) -> dict[str, Any]:
        """Return what of this voice reaches the engine (volume is applied afterwards)."""
        return {
            "engine": self.engine,
            "voice": self.engine_voice_id,
            "speed": round(self.speed, 4),
            "stability": round(self.stability, 4),
            "similarity": round(self.similarity, 4),
            "style": round(self.style, 4),
            "speaker_boost": self.speaker_boost,
        }


@dataclass(frozen=True, slots=True)
class VoiceSpan:
    """Part of a block's text, ``[start, end)`` in characters, read by another voice."""

    start: int
    end: int
    voice_id: VoiceId


@dataclass(frozen=True, slots=True)
class CharTimings:
    """Per-character timing of a take, as the engine returned it (seconds)."""

    characters: tuple[str, ...]
    starts: tuple[float, ...]
    ends: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class WordTiming:
    """One spoken word: its span in the take's text and its time in the audio (seconds)."""

    word: str
    char_start: int
    char_end: int
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class PeakSummary:
    """Min/max envelope of a take: int8 pairs ``[min0, max0, min1, max1, ...]`` per bin."""

    samples_per_bin: int
    sample_rate: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Take:
    """One generation of a block: audio exactly as the engine returned it, plus its facts.

    ``audio`` and the peak summaries are ``None`` when the take was loaded from a project
    file without its media; :class:`studio.core.store.ProjectStore` loads them on demand.
    """

    id: TakeId
    block_id: BlockId
    inputs_hash: str
    format: str
    duration: float
    created: float = field(default_factory=time.time)
    engine: str = "offline"
    voice_id: VoiceId | None = None
    model_id: str = ""
    settings: dict[str, Any] = field(default_factory=dict, hash=False)
    text: str = ""
    sample_rate: int = 0
    request_id: str | None = None
    cost: int = 0
    char_timings: CharTimings | None = None
    word_timings: tuple[WordTiming, ...] = ()
    audio: bytes | None = field(default=None, repr=False, compare=False)
    peaks_fine: PeakSummary | None = field(default=None, repr=False, compare=False)
    peaks_coarse: PeakSummary | None = field(default=None, repr=False, compare=False)


class BlockStatus(Enum):
    """Where a block stands with respect to its narration."""

    UNCONVERTED = "unconverted"
    CONVERTED = "converted"
    STALE = "stale"


@dataclass(slots=True)
class Block:
    """A paragraph: text with inline break tags, voices for it and its parts, and its takes."""

    id: BlockId
    text: str
    voice_id: VoiceId | None = None
    spans: tuple[VoiceSpan, ...] = ()
    locked: bool = False
    takes: list[Take] = field(default_factory=list)
    current_take_id: TakeId | None = None

    @property
    def current_take(self) -> Take | None:
        """Return the take that plays and exports for this block, if any."""
        if self.current_take_id is None:
            return None
        for take in reversed(self.takes):
            if take.id == self.current_take_id:
                return take
        return None


@dataclass(slots=True)
class Chapter:
    """A chapter: a title and its blocks in reading order."""

    id: ChapterId
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PronunciationRule:
    """One dictionary rule: a grapheme (word or phrase) and how to say it.

    ``kind`` is ``"alias"`` (``replacement`` is text to say instead) or ``"phoneme"``
    (``replacement`` is phonemes in ``alphabet``: ``"ipa"`` or ``"cmu-arpabet"``).
    ``alternates`` (kind, text, alphabet), ``role`` and ``examples`` carry what a PLS lexeme
    holds besides its preferred pronunciation, so PLS files round-trip without loss.
    """

    grapheme: str
    kind: str
    replacement: str
    alphabet: str = ""
    case_sensitive: bool = True
    word_boundaries: bool = True
    alternates: tuple[tuple[str, str, str], ...] = ()
    role: str = ""
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DictionaryRef:
    """A pronunciation dictionary the project uses, at a given version.

    ``rules`` is ``None`` for a dictionary known only by reference (its rules live on the
    engine); such a dictionary counts by version in :func:`block_inputs`.
    """

    id: DictionaryId
    name: str
    version: int = 1
    engine_dictionary_id: str | None = None
    engine_version_id: str | None = None
    rules: tuple[PronunciationRule, ...] | None = None
    language: str = "en-US"


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """A finished export: where it went, in what format, of which chapters."""

    id: ExportId
    path: str
    format: str
    chapter_ids: tuple[ChapterId, ...] = ()
    created: float = field(default_factory=time.time)
    settings: dict[str, Any] = field(default_factory=dict, hash=False)


DEFAULT_SETTINGS: dict[str, Any] = {
    "paragraph_pause_s": 0.5,
    "chapter_head_s": 1.0,
    "chapter_tail_s": 2.0,
}


@dataclass(slots=True)
class Project:
    """A book being narrated."""

    title: str
    author: str = ""
    language: str = "en"
    model_id: str = DEFAULT_MODEL_ID
    default_voice_id: VoiceId | None = None
    settings: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    voices: dict[VoiceId, Voice] = field(default_factory=dict)
    chapters: list[Chapter] = field(default_factory=list)
    dictionaries: list[DictionaryRef] = field(default_factory=list)
    exports: list[ExportRecord] = field(default_factory=list)
    id: ProjectId = field(default_factory=lambda: ProjectId(new_id()))
    cover: bytes | None = field(default=None, repr=False)  # JPEG or PNG cover art
    _where: dict[BlockId, tuple[Chapter, int]] = field(
        default_factory=dict, repr=False, compare=False
    )

    # -- lookups ------------------------------------------------------------------------------

    def iter_blocks(self) -> Iterator[tuple[Chapter, Block]]:
        """Yield every block with its chapter, in reading order."""
        for chapter in self.chapters:
            for block in chapter.blocks:
                yield chapter, block

    def chapter(self, chapter_id: ChapterId) -> Chapter:
        """Return the chapter with ``chapter_id``."""
        for chapter in self.chapters:
            if chapter.id == chapter_id:
                return chapter
        raise EditError(f"no chapter with id {chapter_id}")

    def locate(self, block_id: BlockId) -> tuple[Chapter, int]:
        """Return the chapter holding ``block_id`` and the block's index in it."""
        hit = self._where.get(block_id)
        if hit is not None:
            chapter, index = hit
            blocks = chapter.blocks
            if (
                index < len(blocks)
                and blocks[index].id == block_id
                and any(c is chapter for c in self.chapters)
            ):
                return hit
        self._where = {
            b.id: (c, i) for c in self.chapters for i, b in enumerate(c.blocks)
        }
        try:
            return self._where[block_id]
        except KeyError:
            raise EditError(f"no paragraph with id {block_id}") from None

    def block(self, block_id: BlockId) -> Block:
        """Return the block with ``block_id``."""
        chapter, index = self.locate(block_id)
        return chapter.blocks[index]

    def voice_for(self, block: Block) -> Voice | None:
        """Return the voice that reads ``block`` (its own, else the project default)."""
        voice_id = block.voice_id or self.default_voice_id
        return self.voices.get(voice_id) if voice_id else None


# ---------------------------------------------------------------------------------------------
# Staleness and counts


def block_inputs(project: Project, block: Block) -> dict[str, Any]:
    """Return everything the engine would be sent for ``block``, as plain JSON data."""
    voice = project.voice_for(block)
    # The offline engine ignores the project's ElevenLabs model: changing it must not make
    # offline narration stale.
    model = "offline-espeak" if voice is not None and voice.engine == "offline" else (
        project.model_id
    )
    spans = []
    for span in block.spans:
        span_voice = project.voices.get(span.voice_id)
        spans.append(
            [span.start, span.end, span_voice.engine_fingerprint() if span_voice else None]
        )
    return {
        "text": block.text,
        "language": project.language,
        "model": model,
        "voice": voice.engine_fingerprint() if voice else None,
        "spans": spans,
        "dictionaries": _dictionary_inputs(project, block.text),
    }


def _dictionary_inputs(project: Project, text: str) -> list[Any]:
    """Return what of the dictionaries reaches ``text``: the rules that apply to it.

    A rule edit then makes stale only the paragraphs containing an affected word. A
    dictionary without local rules counts by version, as before rules were kept locally.
    """
    if not project.dictionaries:
        return []
    from studio.core.lexicon.match import applied_rules  # the lexicon imports this module

    out: list[Any] = [[d.id, d.version] for d in project.dictionaries if d.rules is None]
    out.extend(
        [r.grapheme, r.kind, r.replacement, r.alphabet]
        for r in applied_rules(project.dictionaries, text)
    )
    return out


def inputs_hash(project: Project, block: Block) -> str:
    """Return the cache key of ``block``: a hash of what the engine would be sent."""
    payload = json.dumps(block_inputs(project, block), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def block_status(project: Project, block: Block) -> BlockStatus:
    """Return whether ``block`` is unconverted, converted, or stale."""
    take = block.current_take
    if take is None:
        return BlockStatus.UNCONVERTED
    if take.inputs_hash != inputs_hash(project, block):
        return BlockStatus.STALE
    return BlockStatus.CONVERTED


@dataclass(frozen=True, slots=True)
class ChapterSummary:
    """Counts for one chapter, as ``studio info`` and the sidebar show them."""

    id: ChapterId
    title: str
    paragraphs: int
    words: int
    characters: int
    converted: int
    stale: int
    unconverted: int
    characters_to_generate: int


def summarize_chapter(project: Project, chapter: Chapter) -> ChapterSummary:
    """Return the counts of ``chapter``."""
    words = chars = todo_chars = 0
    status_counts = dict.fromkeys(BlockStatus, 0)
    for block in chapter.blocks:
        spoken = speakable_text(block.text)
        words += len(spoken.split())
        chars += len(spoken)
        status = block_status(project, block)
        status_counts[status] += 1
        if status is not BlockStatus.CONVERTED:
            todo_chars += len(spoken)
    return ChapterSummary(
        id=chapter.id,
        title=chapter.title,
        paragraphs=len(chapter.blocks),
        words=words,
        characters=chars,
        converted=status_counts[BlockStatus.CONVERTED],
        stale=status_counts[BlockStatus.STALE],
        unconverted=status_counts[BlockStatus.UNCONVERTED],
        characters_to_generate=todo_chars,
    )


def project_info(project: Project) -> dict[str, Any]:
    """Return the project's summary as JSON data (``studio info --json``)."""
    chapters = [summarize_chapter(project, c) for c in project.chapters]
    todo = sum(c.characters_to_generate for c in chapters)
    return {
        "title": project.title,
        "author": project.author,
        "language": project.language,
        "model": project.model_id,
        "voices": [v.alias for v in project.voices.values()],
        "chapters": [
            {
                "title": c.title,
                "paragraphs": c.paragraphs,
                "words": c.words,
                "characters": c.characters,
                "converted": c.converted,
                "stale": c.stale,
                "unconverted": c.unconverted,
            }
            for c in chapters
        ],
        "paragraphs": sum(c.paragraphs for c in chapters),
        "words": sum(c.words for c in chapters),
        "characters": sum(c.characters for c in chapters),
        "characters_to_generate": todo,
        "estimated_credits": estimate_credits(todo, project.model_id),
    }


# ---------------------------------------------------------------------------------------------
# Changes


def _fs(items: Iterable[str] = ()) -> frozenset[str]:
    return frozenset(items)


@dataclass(frozen=True, slots=True)
class Changes:
    """What an edit changed. ``structure`` means the chapter list or a block list changed."""

    project: bool = False
    structure: bool = False
    chapters: frozenset[str] = field(default_factory=frozenset)
    blocks: frozenset[str] = field(default_factory=frozenset)
    voices: frozenset[str] = field(default_factory=frozenset)
    takes: frozenset[str] = field(default_factory=frozenset)
    removed_chapters: frozenset[str] = field(default_factory=frozenset)
    removed_blocks: frozenset[str] = field(default_factory=frozenset)
    removed_voices: frozenset[str] = field(default_factory=frozenset)
    removed_takes: frozenset[str] = field(default_factory=frozenset)
    dictionaries: bool = False
    exports: bool = False

    def __or__(self, other: Changes) -> Changes:
        merged: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            merged[f.name] = (a or b) if isinstance(a, bool) else a | b
        return Changes(**merged)

    @property
    def empty(self) -> bool:
        """Return whether nothing changed."""
        return not any(getattr(self, f.name) for f in dataclasses.fields(self))


# ---------------------------------------------------------------------------------------------
# Edits: each mutates the project and returns what changed.


def _check_unlocked(block: Block) -> None:
    if block.locked:
        raise EditError("this paragraph is locked; unlock it to edit it")


def image_mime(data: bytes) -> str:
    """Return ``image/jpeg`` or ``image/png`` for such an image's bytes, else ``""``."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    return ""


def set_project_meta(project: Project, **fields: Any) -> Changes:
    """Set title, author, language, model_id, default_voice_id, settings or cover."""
    allowed = {"title", "author", "language", "model_id", "default_voice_id", "settings",
               "cover"}
    unknown = set(fields) - allowed
    if unknown:
        raise EditError(f"unknown project field(s): {', '.join(sorted(unknown))}")
    if fields.get("default_voice_id") and fields["default_voice_id"] not in project.voices:
        raise EditError("the default voice is not in the project's cast")
    if fields.get("cover") is not None and not image_mime(fields["cover"]):
        raise EditError("the cover must be a JPEG or PNG image")
    for name, value in fields.items():
        setattr(project, name, dict(value) if name == "settings" else value)
    return Changes(project=True)


def add_chapter(
    project: Project,
    title: str,
    texts: Iterable[str] = (),
    index: int | None = None,
    chapter_id: ChapterId | None = None,
) -> Changes:
    """Insert a chapter titled ``title`` holding one block per text of ``texts``."""
    blocks = [Block(BlockId(new_id()), t) for t in texts]
    chapter = Chapter(chapter_id or ChapterId(new_id()), title, blocks)
    if index is None:
        project.chapters.append(chapter)
    else:
        project.chapters.insert(index, chapter)
    return Changes(
        structure=True, chapters=_fs([chapter.id]), blocks=_fs(b.id for b in blocks)
    )


def rename_chapter(project: Project, chapter_id: ChapterId, title: str) -> Changes:
    """Rename a chapter."""
    project.chapter(chapter_id).title = title
    return Changes(chapters=_fs([chapter_id]))


def move_chapter(project: Project, chapter_id: ChapterId, new_index: int) -> Changes:
    """Move a chapter to ``new_index`` in the chapter list."""
    chapter = project.chapter(chapter_id)
    if not 0 <= new_index < len(project.chapters):
        raise EditError(f"chapter position {new_index} is out of range")
    project.chapters.remove(chapter)
    project.chapters.insert(new_index, chapter)
    # Only the chapter order changed: no chapter's own blocks need rewriting.
    return Changes(structure=True)


def remove_chapter(project: Project, chapter_id: ChapterId) -> Changes:
    """Remove a chapter with its blocks and their takes."""
    chapter = project.chapter(chapter_id)
    locked = [b for b in chapter.blocks if b.locked]
    if locked:
        raise EditError(f"chapter '{chapter.title}' has {len(locked)} locked paragraph(s)")
    project.chapters.remove(chapter)
    return Changes(
        structure=True,
        removed_chapters=_fs([chapter_id]),
        removed_blocks=_fs(b.id for b in chapter.blocks),
        removed_takes=_fs(t.id for b in chapter.blocks for t in b.takes),
    )


def insert_block(
    project: Project, chapter_id: ChapterId, index: int, text: str, voice_id: VoiceId | None = None
) -> Changes:
    """Insert a new block at ``index`` of a chapter."""
    chapter = project.chapter(chapter_id)
    if not 0 <= index <= len(chapter.blocks):
        raise EditError(f"paragraph position {index} is out of range")
    block = Block(BlockId(new_id()), text, voice_id=voice_id)
    chapter.blocks.insert(index, block)
    return Changes(structure=True, chapters=_fs([chapter.id]), blocks=_fs([block.id]))


def remove_block(project: Project, block_id: BlockId) -> Changes:
    """Remove a block and its takes."""
    chapter, index = project.locate(block_id)
    block = chapter.blocks[index]
    _check_unlocked(block)
    del chapter.blocks[index]
    return Changes(
        structure=True,
        chapters=_fs([chapter.id]),
        removed_blocks=_fs([block_id]),
        removed_takes=_fs(t.id for t in block.takes),
    )


def shift_spans(spans: Iterable[VoiceSpan], old: str, new: str) -> tuple[VoiceSpan, ...]:
    """Move voice spans from ``old`` text to ``new`` so they stay on the same words.

    The edit is taken as one changed region between the texts' common start and common
    end (what typing, pasting or a replacement does). Spans before it stay, spans after it
    move by the change in length, and a span's end inside it snaps to the region's new
    bounds; a span left empty is dropped.
    """
    if isinstance(spans, tuple) and not spans:
        return ()  # the usual case: no spans, and no character-by-character walk
    limit = min(len(old), len(new))
    head = 0
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_end, new_end = len(old) - tail, len(new) - tail  # the changed region's ends

    def move(offset: int, is_start: bool) -> int:
        if offset <= head:
            return offset
        if offset >= old_end:
            return offset + len(new) - len(old)
        return new_end if is_start else min(offset, new_end)  # inside the changed part

    out = []
    for s in spans:
        start, end = move(s.start, True), move(s.end, False)
        if end > start:
            out.append(VoiceSpan(start, end, s.voice_id))
    return tuple(out)


def set_block_text(project: Project, block_id: BlockId, text: str) -> Changes:
    """Replace a block's text; voice spans move with their words (see :func:`shift_spans`)."""
    block = project.block(block_id)
    _check_unlocked(block)
    block.spans = shift_spans(block.spans, block.text, text)
    block.text = text
    return Changes(blocks=_fs([block_id]))


def set_block_voice(project: Project, block_id: BlockId, voice_id: VoiceId | None) -> Changes:
    """Set the voice that reads a block (``None``: the project default)."""
    block = project.block(block_id)
    _check_unlocked(block)
    if voice_id is not None and voice_id not in project.voices:
        raise EditError("that voice is not in the project's cast")
    block.voice_id = voice_id
    return Changes(blocks=_fs([block_id]))


def set_block_spans(project: Project, block_id: BlockId, spans: Iterable[VoiceSpan]) -> Changes:
    """Set the voice spans of a block; spans must lie inside the text and not overlap."""
    block = project.block(block_id)
    _check_unlocked(block)
    ordered = tuple(sorted(spans, key=lambda s: s.start))
    end = 0
    for span in ordered:
        if span.start < end or not 0 <= span.start < span.end <= len(block.text):
            raise EditError("voice spans must lie inside the paragraph and not overlap")
        if span.voice_id not in project.voices:
            raise EditError("that voice is not in the project's cast")
        end = span.end
    block.spans = ordered
    return Changes(blocks=_fs([block_id]))


def set_block_locked(project: Project, block_id: BlockId, locked: bool) -> Changes:
    """Lock or unlock a block."""
    project.block(block_id).locked = locked
    return Changes(blocks=_fs([block_id]))


def split_block(project: Project, block_id: BlockId, offset: int) -> Changes:
    """Split a block at character ``offset``; the second part becomes a new block."""
    chapter, index = project.locate(block_id)
    block = chapter.blocks[index]
    _check_unlocked(block)
    head, tail = block.text[:offset].rstrip(), block.text[offset:].lstrip()
    if not head or not tail:
        raise EditError("split point must leave text on both sides")
    cut = len(block.text) - len(tail)
    new = Block(
        BlockId(new_id()),
        tail,
        voice_id=block.voice_id,
        spans=tuple(
            VoiceSpan(s.start - cut, s.end - cut, s.voice_id) for s in block.spans if s.start >= cut
        ),
    )
    block.text = head
    block.spans = tuple(s for s in block.spans if s.end <= len(head))
    chapter.blocks.insert(index + 1, new)
    return Changes(structure=True, chapters=_fs([chapter.id]), blocks=_fs([block.id, new.id]))


def merge_blocks(project: Project, block_id: BlockId) -> Changes:
    """Merge a block with the one after it; the merged block keeps the first one's takes."""
    chapter, index = project.locate(block_id)
    if index + 1 >= len(chapter.blocks):
        raise EditError("there is no paragraph after this one to merge with")
    first, second = chapter.blocks[index], chapter.blocks[index + 1]
    _check_unlocked(first)
    _check_unlocked(second)
    shift = len(first.text) + 1
    first.text = f"{first.text} {second.text}"
    first.spans = first.spans + tuple(
        VoiceSpan(s.start + shift, s.end + shift, s.voice_id) for s in second.spans
    )
    del chapter.blocks[index + 1]
    return Changes(
        structure=True,
        chapters=_fs([chapter.id]),
        blocks=_fs([first.id]),
        removed_blocks=_fs([second.id]),
        removed_takes=_fs(t.id for t in second.takes),
    )


def add_voice(project: Project, voice: Voice) -> Changes:
    """Add a voice to the cast; the first voice becomes the default."""
    if voice.id in project.voices:
        raise EditError(f"voice '{voice.alias}' is already in the cast")
    project.voices[voice.id] = voice
    changes = Changes(voices=_fs([voice.id]))
    if project.default_voice_id is None:
        project.default_voice_id = voice.id
        changes = changes | Changes(project=True)
    return changes


def update_voice(project: Project, voice_id: VoiceId, **fields: Any) -> Changes:
    """Change a voice's alias or settings."""
    voice = project.voices.get(voice_id)
    if voice is None:
        raise EditError(f"no voice with id {voice_id}")
    names = {f.name for f in dataclasses.fields(Voice)} - {"id"}
    unknown = set(fields) - names
    if unknown:
        raise EditError(f"unknown voice field(s): {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(voice, name, value)
    return Changes(voices=_fs([voice_id]))


def remove_voice(project: Project, voice_id: VoiceId) -> Changes:
    """Remove a voice no paragraph uses."""
    users = [
        b for _, b in project.iter_blocks()
        if b.voice_id == voice_id or any(s.voice_id == voice_id for s in b.spans)
    ]
    if users:
        raise EditError(f"the voice reads {len(users)} paragraph(s); reassign them first")
    del project.voices[voice_id]
    changes = Changes(removed_voices=_fs([voice_id]))
    if project.default_voice_id == voice_id:
        project.default_voice_id = next(iter(project.voices), None)
        changes = changes | Changes(project=True)
    return changes


def add_take(project: Project, take: Take, make_current: bool = True) -> Changes:
    """Append a take to its block's history, by default making it current."""
    block = project.block(take.block_id)
    block.takes.append(take)
    if make_current:
        block.current_take_id = take.id
    return Changes(blocks=_fs([block.id]), takes=_fs([take.id]))


def set_current_take(project: Project, block_id: BlockId, take_id: TakeId | None) -> Changes:
    """Choose which of a block's takes is current (``None``: none)."""
    block = project.block(block_id)
    if take_id is not None and all(t.id != take_id for t in block.takes):
        raise EditError("that take does not belong to this paragraph")
    block.current_take_id = take_id
    return Changes(blocks=_fs([block_id]))


def delete_take(project: Project, block_id: BlockId, take_id: TakeId) -> Changes:
    """Delete a take from a block's history."""
    block = project.block(block_id)
    before = len(block.takes)
    block.takes = [t for t in block.takes if t.id != take_id]
    if len(block.takes) == before:
        raise EditError("that take does not belong to this paragraph")
    if block.current_take_id == take_id:
        block.current_take_id = None
    return Changes(blocks=_fs([block_id]), removed_takes=_fs([take_id]))


def set_dictionaries(project: Project, dictionaries: Iterable[DictionaryRef]) -> Changes:
    """Replace the project's pronunciation dictionary references (order matters)."""
    project.dictionaries = list(dictionaries)
    return Changes(dictionaries=True)


def add_export_record(project: Project, record: ExportRecord) -> Changes:
    """Record a finished export."""
    project.exports.append(record)
    return Changes(exports=True)
