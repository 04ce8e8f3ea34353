"""Timed text for exported audio: subtitles per file and sentence clips for read-along books.

Times come from where the export itself placed each take (:class:`PlacedParagraph`, recorded
while the file was assembled: head room tone, the engine's silence trimmed at the chapter's
edges, paragraph pauses), so subtitles and media overlays cannot disagree with the audio.
Within a take, words keep the engine's timings (character or word events).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from studio.core.export.run import ExportedFile, PlacedParagraph
from studio.core.model import BREAK_RE
from studio.core.textsplit import sentence_spans
from studio.core.transcript.model import (
    Segment,
    SegmentId,
    Transcript,
    Word,
    WordType,
    ensure_speaker,
    words_from_text,
)
from studio.core.transcript.subtitles import SubtitleRules, build_cues, export_subtitles


def spoken_text(text: str) -> str:
    """Return ``text`` with break tags blanked to spaces (character offsets kept)."""
    return BREAK_RE.sub(lambda m: " " * len(m.group()), text)


def paragraph_words(placed: PlacedParagraph) -> tuple[Word, ...]:
    """Return a placed paragraph's words in file time; offsets index its take's text.

    A take without word timings gets its words spread over its length (an estimate).
    """
    para = placed.paragraph
    text = spoken_text(para.text)
    if para.words:
        return tuple(
            Word(w.word, placed.file_time(w.start), placed.file_time(max(w.end, w.start)),
                 WordType.WORD, 1.0, w.char_start, w.char_end)
            for w in para.words
        )
    return words_from_text(text, placed.start, placed.end)


def file_transcript(file: ExportedFile) -> Transcript:
    """Return the transcript of an exported file: one segment per paragraph, in file time."""
    t = Transcript(source="narration", duration=file.duration_s)
    speaker = ensure_speaker(t, "Narrator")
    for placed in file.paragraphs:
        words = paragraph_words(placed)
        text = spoken_text(placed.paragraph.text)
        if not text.strip() or not words:
            continue
        # Word offsets must index the segment's text; keep the take's text as it is.
        t.segments.append(Segment(SegmentId(f"{placed.paragraph.block_id}"), placed.start,
                                  max(placed.end, placed.start + 0.01), speaker, text, words))
    return t


def subtitles_for(file: ExportedFile, fmt: str, rules: SubtitleRules | None = None) -> str:
    """Return SRT or VTT text for an exported file, timed to its audio."""
    return export_subtitles(build_cues(file_transcript(file), rules), fmt)


def write_subtitles(file: ExportedFile, fmt: str, rules: SubtitleRules | None = None
                    ) -> ExportedFile:
    """Write the subtitle file beside ``file`` (same name, ``.srt``/``.vtt``); return it noted."""
    path = file.path.with_suffix(f".{fmt}")
    path.write_text(subtitles_for(file, fmt, rules), encoding="utf-8")
    return dataclasses.replace(file, subtitles=path)


@dataclass(frozen=True, slots=True)
class SentenceClip:
    """A sentence of a paragraph and the stretch of the file that speaks it (seconds)."""

    text: str
    start: float
    end: float
    paragraph: int  # index into the file's placed paragraphs


def paragraph_sentences(placed: PlacedParagraph, index: int = 0) -> list[SentenceClip]:
    """Return the sentences of a placed paragraph with their clips in file time.

    A sentence's clip runs from its first word's start to the next sentence's first word (the
    last one to the paragraph's end), so clips tile the paragraph without gaps or overlaps.
    """
    text = spoken_text(placed.paragraph.text)
    spans = [(a, b) for a, b in sentence_spans(text) if text[a:b].strip()]
    if not spans:
        return []
    words = paragraph_words(placed)
    starts: list[float | None] = []
    for a, b in spans:
        inside = [w for w in words if a <= w.char_start < b]
        starts.append(inside[0].start if inside else None)
    # A sentence without a timed word (the engine skipped it) starts where the one before did.
    filled: list[float] = []
    for i, s in enumerate(starts):
        if i == 0:
            filled.append(placed.start)
        elif s is None or s < filled[-1]:
            filled.append(filled[-1])
        else:
            filled.append(s)
    ends = [*filled[1:], placed.end]
    out: list[SentenceClip] = []
    for (a, b), start, end in zip(spans, filled, ends, strict=True):
        out.append(SentenceClip(" ".join(text[a:b].split()), start, end, index))
    # Merge zero-length clips into the one before them (a clip must have a duration).
    merged: list[SentenceClip] = []
    for clip in out:
        if merged and clip.end - clip.start < 0.001:
            prev = merged[-1]
            merged[-1] = SentenceClip(f"{prev.text} {clip.text}", prev.start,
                                      max(prev.end, clip.end), index)
        else:
            merged.append(clip)
    return merged


def file_sentences(file: ExportedFile) -> list[SentenceClip]:
    """Return every sentence of an exported file with its clip, in order."""
    out: list[SentenceClip] = []
    for i, placed in enumerate(file.paragraphs):
        out.extend(paragraph_sentences(placed, i))
    return out


__all__ = [
    "SentenceClip",
    "file_sentences",
    "file_transcript",
    "paragraph_sentences",
    "paragraph_words",
    "spoken_text",
    "subtitles_for",
    "write_subtitles",
]
