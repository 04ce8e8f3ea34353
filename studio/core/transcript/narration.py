"""The transcript of a project's own narration, from its takes' word timings (exact and free).

Times follow the chapter timeline that playback uses (:func:`studio.core.playback.build_timeline`:
each current take in reading order, a paragraph pause after each); ``head_s`` shifts them for
an exported file that starts with silence. One segment per paragraph, one speaker per voice.
"""

from __future__ import annotations

from studio.core.model import BREAK_RE, Chapter, Project, speakable_text
from studio.core.playback import build_timeline
from studio.core.transcript.model import (
    Segment,
    SegmentId,
    Transcript,
    Word,
    WordType,
    ensure_speaker,
    words_from_text,
)


def _spoken(text: str) -> tuple[str, int]:
    """Return take text with break tags blanked (offsets kept) and trimmed, and the shift."""
    blanked = BREAK_RE.sub(lambda m: " " * len(m.group()), text)
    lead = len(blanked) - len(blanked.lstrip())
    return blanked.strip(), lead


def narration_transcript(project: Project, chapter: Chapter, *, head_s: float = 0.0,
                         pause_s: float | None = None) -> Transcript:
    """Return the transcript of a chapter's narration from its current takes."""
    t = Transcript(language=project.language, source="narration")
    timeline = build_timeline(project, chapter, pause_s)
    takes = {b.id: b.current_take for b in chapter.blocks}
    for item in timeline:
        take = takes.get(item.block_id)
        if take is None:
            continue
        block = project.block(item.block_id)
        voice = project.voice_for(block)
        speaker = ensure_speaker(t, voice.alias if voice is not None else "Narrator")
        start, end = head_s + item.start, head_s + item.end
        text, lead = _spoken(take.text or block.text)
        if not text:
            continue
        words = tuple(
            Word(w.word, min(start + w.start, end), min(start + max(w.end, w.start), end),
                 WordType.WORD, 1.0, max(0, w.char_start - lead), max(0, w.char_end - lead))
            for w in item.word_timings
        )
        stale = not words
        if stale:
            words = words_from_text(speakable_text(text), start, end)
        t.segments.append(Segment(SegmentId(str(block.id)), start, max(end, start + 0.01),
                                  speaker, " ".join(text.split()) if stale else text, words,
                                  stale))
    if timeline:
        t.duration = head_s + timeline[-1].end
    return t
