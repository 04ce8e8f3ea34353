"""Freeze what an export will write: files, their chapters and the takes in them.

:func:`plan_export` runs where the project lives (the GUI thread) and returns an immutable
:class:`ExportPlan`; the export itself (:func:`studio.core.export.run_export`) then runs on a
worker without touching the project. :func:`export_readiness` says how many paragraphs have no
audio (or stale audio) and what converting them costs, using the same planner as rendering.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from studio.core.audio import AudioFormatError, format_sample_rate
from studio.core.export.options import (
    ExportError,
    ExportOptions,
    Layout,
    MasteringMode,
    Metadata,
)
from studio.core.generation import Plan, plan_render
from studio.core.model import (
    BlockId,
    BlockStatus,
    Chapter,
    ChapterId,
    Project,
    TakeId,
    WordTiming,
    block_status,
    speakable_text,
)
from studio.core.playback import DEFAULT_PAUSE_S, build_timeline

ACX_SAMPLE_MAX_S: Final = 300.0
ACX_HEAD_S: Final = (0.55, 0.95)
ACX_TAIL_S: Final = (1.05, 4.9)
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One take placed in an export."""

    block_id: BlockId
    take_id: TakeId
    format: str
    duration: float
    number: int  # paragraph number in its chapter, from 1
    gain_db: float = 0.0  # the voice's volume
    audio: bytes | None = field(default=None, repr=False, compare=False)  # takes held in memory
    text: str = field(default="", repr=False, compare=False)  # what the take says
    words: tuple[WordTiming, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ChapterPart:
    """A chapter (or the start of one, for a retail sample) inside one exported file."""

    chapter_id: ChapterId
    title: str
    number: int  # chapter number in the book, from 1
    paragraphs: tuple[Paragraph, ...]
    head_s: float
    tail_s: float
    pause_s: float

    @property
    def estimated_s(self) -> float:
        gaps = max(0, len(self.paragraphs) - 1) * self.pause_s
        return self.head_s + self.tail_s + gaps + sum(p.duration for p in self.paragraphs)


@dataclass(frozen=True, slots=True)
class FilePlan:
    """One file of an export."""

    name: str  # file name (in the folder or ZIP; for a single file, the target's name)
    title: str  # its title tag
    kind: str  # "chapter", "book", "paragraph", "opening-credits", "closing-credits",
    # or "retail-sample"
    track: int
    tracks: int
    chapters: tuple[ChapterPart, ...]

    @property
    def estimated_s(self) -> float:
        return sum(c.estimated_s for c in self.chapters)

    @property
    def extra(self) -> bool:
        """Return whether this is an extra file beside the book (a retail sample)."""
        return self.kind == "retail-sample"


@dataclass(frozen=True, slots=True)
class ParagraphRef:
    """A paragraph that needs converting, for messages and the "convert first" offer."""

    chapter_id: ChapterId
    chapter_title: str
    chapter_number: int
    paragraph_number: int
    block_id: BlockId
    status: BlockStatus


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether a scope can be exported, and what converting the rest costs."""

    paragraphs: int
    unconverted: tuple[ParagraphRef, ...]  # no audio: cannot be exported
    stale: tuple[ParagraphRef, ...]  # audio older than the text or voice: exported as is
    characters: int  # to send to convert unconverted and stale paragraphs
    credits: int  # ElevenLabs credits for that (offline conversion is free)
    plans: tuple[Plan, ...]  # one per engine, ready for the scheduler
    problems: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        """Return whether every paragraph in scope has audio."""
        return not self.unconverted

    @property
    def to_convert(self) -> int:
        return len(self.unconverted) + len(self.stale)

    def describe(self) -> str:
        """Return one sentence for a dialog or the command line."""
        if not self.to_convert:
            return f"All {self.paragraphs} paragraphs are converted; exporting costs nothing."
        parts = []
        if self.unconverted:
            where = _where(self.unconverted)
            parts.append(f"{len(self.unconverted)} of {self.paragraphs} paragraphs have no "
                         f"audio yet ({where})")
        if self.stale:
            parts.append(f"{len(self.stale)} have audio older than their text or voice")
        cost = (f"about {self.credits:,} credits ({self.characters:,} characters)"
                if self.credits else f"{self.characters:,} characters, free offline")
        return "; ".join(parts) + f". Converting them costs {cost}."


def _where(refs: tuple[ParagraphRef, ...]) -> str:
    first = refs[0]
    text = (f"first: chapter {first.chapter_number} '{first.chapter_title}' "
            f"¶{first.paragraph_number}")
    chapters = len({r.chapter_id for r in refs})
    return text + (f", in {chapters} chapters" if chapters > 1 else "")


def _scope(project: Project, chapters: Iterable[ChapterId] | None) -> list[Chapter]:
    if chapters is None:
        return list(project.chapters)
    wanted = list(dict.fromkeys(chapters))
    known = {c.id for c in project.chapters}
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise ExportError(f"the project has no chapter with id {unknown[0]}")
    chosen = set(wanted)
    return [c for c in project.chapters if c.id in chosen]


def export_readiness(
    project: Project,
    chapters: Iterable[ChapterId] | None = None,
    output_format: str = "mp3_44100_128",
) -> Readiness:
    """Return how many paragraphs in scope lack audio or have stale audio, and the cost.

    The cost comes from :func:`studio.core.generation.plan_render` for each engine the
    paragraphs' voices use, so it is exactly what a render of them would charge (older takes
    that still match are restored for free, as the render does).
    """
    scope = _scope(project, chapters)
    numbers = {c.id: n for n, c in enumerate(project.chapters, 1)}
    unconverted: list[ParagraphRef] = []
    stale: list[ParagraphRef] = []
    total = 0
    for chapter in scope:
        for index, block in enumerate(chapter.blocks, 1):
            if not speakable_text(block.text).strip() and block.current_take is None:
                continue  # nothing to say (an empty paragraph)
            total += 1
            status = block_status(project, block)
            if status is BlockStatus.CONVERTED:
                continue
            ref = ParagraphRef(chapter.id, chapter.title, numbers[chapter.id], index, block.id,
                               status)
            (unconverted if status is BlockStatus.UNCONVERTED else stale).append(ref)
    todo = [r.block_id for r in (*unconverted, *stale)]
    plans: list[Plan] = []
    problems: list[str] = []
    engines = sorted({
        voice.engine for r in todo if (voice := project.voice_for(project.block(r))) is not None
    })
    if len(todo) > sum(1 for r in todo if project.voice_for(project.block(r)) is not None):
        problems.append("some paragraphs have no voice; assign one before converting")
    for engine in engines:
        fmt = "wav_22050" if engine == "offline" else output_format
        plan = plan_render(project, engine=engine, blocks=todo, output_format=fmt)
        plans.append(plan)
        problems.extend(p for p in plan.problems if "belongs to the" not in p)
    credits = sum(p.credits for p in plans if p.engine != "offline")
    return Readiness(
        paragraphs=total,
        unconverted=tuple(unconverted),
        stale=tuple(stale),
        characters=sum(p.characters for p in plans),
        credits=credits,
        plans=tuple(plans),
        problems=tuple(dict.fromkeys(problems)),
    )


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """Everything a worker needs to write an export, frozen from the project."""

    target: Path
    options: ExportOptions
    metadata: Metadata
    files: tuple[FilePlan, ...]
    chapter_ids: tuple[ChapterId, ...]
    readiness: Readiness
    work_rate: int  # the rate the audio is assembled at (the takes' usual rate)
    warnings: tuple[str, ...] = ()

    @property
    def estimated_s(self) -> float:
        return sum(f.estimated_s for f in self.files)


def safe_name(text: str, limit: int = 80) -> str:
    """Return ``text`` usable as a file name on every desktop system."""
    cleaned = _UNSAFE.sub("_", text).strip().strip(".")
    return cleaned[:limit].rstrip() or "Untitled"


def _paragraphs(project: Project, chapter: Chapter) -> tuple[Paragraph, ...]:
    numbers = {b.id: n for n, b in enumerate(chapter.blocks, 1)}
    out = []
    for segment in build_timeline(project, chapter):  # what playback plays, in its order
        block = project.block(segment.block_id)
        take = block.current_take
        assert take is not None
        voice = project.voices.get(take.voice_id) if take.voice_id else None
        voice = voice or project.voice_for(block)
        out.append(Paragraph(
            block_id=block.id,
            take_id=take.id,
            format=take.format,
            duration=max(0.0, take.duration),
            number=numbers[block.id],
            gain_db=voice.volume_db if voice is not None else 0.0,
            audio=take.audio,
            text=take.text or block.text,
            words=tuple(take.word_timings),
        ))
    return tuple(out)


def _setting(project: Project, value: float | None, key: str, default: float) -> float:
    if value is not None:
        return float(value)
    try:
        return max(0.0, float(project.settings.get(key, default)))
    except (TypeError, ValueError):
        return default


def _work_rate(files: Iterable[FilePlan], fallback: int) -> int:
    seconds: dict[int, float] = {}
    for f in files:
        for c in f.chapters:
            for p in c.paragraphs:
                try:
                    rate = format_sample_rate(p.format)
                    seconds[rate] = seconds.get(rate, 0.0) + max(p.duration, 0.001)
                except AudioFormatError:
                    continue
    if not seconds:
        return fallback
    best = max(seconds.values())
    rates = sorted(r for r, s in seconds.items() if s == best)
    return fallback if fallback in rates else rates[-1]


def plan_export(
    project: Project, options: ExportOptions, target: str | Path
) -> ExportPlan:
    """Return the files an export of ``project`` to ``target`` will write.

    ``target`` is a folder for :attr:`Layout.PER_CHAPTER`, else a file (``.zip`` for
    :attr:`Layout.ZIP` and :attr:`Layout.PARAGRAPHS`).

    Raises:
        ExportError: the options are invalid, the scope is empty, or paragraphs have no audio
            and ``options.allow_missing`` is false (the message gives the count and the cost).
    """
    options.validate()
    target = Path(target)
    fmt = options.format
    if options.layout is Layout.SINGLE and target.suffix.lower() != fmt.suffix:
        raise ExportError(f"{target}: a {fmt.value.upper()} export's file name must end in "
                          f"{fmt.suffix}")
    if options.layout in (Layout.ZIP, Layout.PARAGRAPHS) and target.suffix.lower() != ".zip":
        raise ExportError(f"{target}: a ZIP export's file name must end in .zip")
    metadata = options.metadata or Metadata.from_project(project)
    scope = _scope(project, options.chapters)
    opening = project.chapter(options.opening_credits) if options.opening_credits else None
    closing = project.chapter(options.closing_credits) if options.closing_credits else None
    body = [c for c in scope if c is not opening and c is not closing]
    if not body and opening is None and closing is None:
        raise ExportError("there is nothing to export: the scope has no chapters")
    readiness = export_readiness(
        project, [c.id for c in (opening, *body, closing) if c is not None]
    )
    warnings: list[str] = []
    if not readiness.ready:
        if not options.allow_missing:
            raise ExportError(readiness.describe() + " Convert them first, or export "
                              "without them.")
        warnings.append(f"{len(readiness.unconverted)} paragraphs without audio are left out")
    if readiness.stale:
        warnings.append(f"{len(readiness.stale)} paragraphs are exported with audio older "
                        "than their text or voice")

    pause = _setting(project, options.paragraph_pause_s, "paragraph_pause_s", DEFAULT_PAUSE_S)
    head = _setting(project, options.head_s, "chapter_head_s", 1.0)
    tail = _setting(project, options.tail_s, "chapter_tail_s", 2.0)
    if options.mastering.mode is MasteringMode.ACX:
        # ACX wants 0.5-1 s of room tone at the head and 1-5 s at the tail: keep the project's
        # pauses (unless given explicitly) inside those windows, away from their edges.
        if options.head_s is None:
            head = min(max(head, ACX_HEAD_S[0]), ACX_HEAD_S[1])
        if options.tail_s is None:
            tail = min(max(tail, ACX_TAIL_S[0]), ACX_TAIL_S[1])
    numbers = {c.id: n for n, c in enumerate(project.chapters, 1)}

    def part(chapter: Chapter) -> ChapterPart:
        return ChapterPart(chapter.id, chapter.title, numbers[chapter.id],
                           _paragraphs(project, chapter), head, tail, pause)

    ordered: list[tuple[str, Chapter]] = []
    if opening is not None:
        ordered.append(("opening-credits", opening))
    ordered.extend(("chapter", c) for c in body)
    if closing is not None:
        ordered.append(("closing-credits", closing))
    parts = [(kind, part(c)) for kind, c in ordered]
    empty = [p.title for _, p in parts if not p.paragraphs]
    if empty and len(empty) == len(parts):
        raise ExportError("no paragraph in the scope has audio; convert them first")
    if empty:
        warnings.append(f"{len(empty)} chapters have no audio and are left out "
                        f"(first: '{empty[0]}')")
    parts = [(k, p) for k, p in parts if p.paragraphs]

    files: list[FilePlan] = []
    ext = fmt.suffix
    if options.layout is Layout.SINGLE:
        files.append(FilePlan(target.name, metadata.title or target.stem, "book", 1, 1,
                              tuple(p for _, p in parts)))
    elif options.layout is Layout.PARAGRAPHS:
        count = sum(len(p.paragraphs) for _, p in parts)
        for _, p in parts:
            for para in p.paragraphs:
                single = ChapterPart(p.chapter_id, p.title, p.number, (para,), 0.0, 0.0,
                                     p.pause_s)
                files.append(FilePlan(
                    f"{p.number:03d}-{para.number:03d} - {safe_name(p.title, 60)}{ext}",
                    f"{p.title} ¶{para.number}", "paragraph", len(files) + 1, count, (single,)))
    else:
        width = max(2, len(str(len(parts))))
        seen: set[str] = set()
        for n, (kind, p) in enumerate(parts, 1):
            name = f"{n:0{width}d} - {safe_name(p.title)}{ext}"
            while name.lower() in seen:
                name = f"{n:0{width}d} - {safe_name(p.title)} ({len(seen)}){ext}"
            seen.add(name.lower())
            files.append(FilePlan(name, p.title, kind, n, len(parts), (p,)))

    if options.retail_sample_s is not None:
        source = next((p for k, p in parts if k == "chapter"), None)
        if source is None:
            warnings.append("no chapter to take a retail sample from")
        else:
            limit = min(options.retail_sample_s, ACX_SAMPLE_MAX_S)
            chosen: list[Paragraph] = []
            length = head + tail
            for para in source.paragraphs:
                extra = para.duration + (pause if chosen else 0.0)
                if chosen and length + extra > limit:
                    break
                chosen.append(para)
                length += extra
            sample = ChapterPart(source.chapter_id, source.title, source.number, tuple(chosen),
                                 head, tail, pause)
            stem = target.stem if options.layout is Layout.SINGLE else safe_name(
                metadata.title or "Book")
            files.append(FilePlan(f"{stem} - Retail Sample{ext}", f"{metadata.title} (sample)"
                                  if metadata.title else "Retail sample", "retail-sample",
                                  1, 1, (sample,)))
            if length < 60.0:
                warnings.append(f"the retail sample is only {math.floor(length)} s long "
                                "(ACX asks for 1 to 5 minutes)")

    plan_files = tuple(files)
    return ExportPlan(
        target=target,
        options=options,
        metadata=metadata,
        files=plan_files,
        chapter_ids=tuple(p.chapter_id for _, p in parts),
        readiness=readiness,
        work_rate=_work_rate(plan_files, options.sample_rate),
        warnings=tuple(warnings),
    )
