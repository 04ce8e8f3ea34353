"""Lay one exported file out as a stream of pieces: room tone, paragraphs and pauses.

A file is its chapters in order; a chapter is its head room tone, its paragraphs (the takes
playback plays, in the same order) with the paragraph pause between them, and its tail room
tone. Each paragraph's take is decoded, brought to the working rate, given its voice's volume,
trimmed at the chapter's edges (so the head and tail are exactly what was asked for) and faded
in and out over a few milliseconds (no clicks at joins). One take is in memory at a time.

The same pieces come out on every pass (measure, then encode): the layout is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from studio.core.audio import decode
from studio.core.errors import StudioError
from studio.core.export.dsp import Samples, db_to_gain, fade_edges, resample, sound_bounds
from studio.core.export.options import ExportError, ExportOptions
from studio.core.export.plan import ChapterPart, FilePlan, Paragraph
from studio.core.model import TakeId

_EDGE_MARGIN_S = 0.02

#: Returns a take's audio bytes (for example ``ProjectStore.load_take_audio``).
AudioSource = Callable[[TakeId], bytes]


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of the file: a paragraph's samples, or ``frames`` of pause (room tone)."""

    frames: int
    chapter: int  # index of the chapter in the file
    samples: Samples | None = None
    paragraph: Paragraph | None = None
    starts_chapter: bool = False


def load_take(
    part: ChapterPart, para: Paragraph, rate: int, audio: AudioSource | None
) -> Samples:
    """Return a paragraph's take as float32 mono at ``rate`` with its voice's volume.

    Raises:
        ExportError: the audio is missing, damaged or undecodable; the message names the
            chapter and paragraph.
    """
    where = f"chapter {part.number} '{part.title}', paragraph {para.number}"
    try:
        data = para.audio
        if data is None:
            if audio is None:
                raise ExportError("its audio is not loaded")
            data = audio(para.take_id)
        samples, take_rate = decode(data, para.format)
    except StudioError as exc:
        raise ExportError(f"{where}: its audio cannot be used ({exc}); generate it again") \
            from exc
    samples = resample(samples, take_rate, rate)
    if para.gain_db:
        samples = samples * np.float32(db_to_gain(para.gain_db))
    else:
        samples = np.array(samples, dtype=np.float32, copy=True)
    return samples


def iter_pieces(
    file: FilePlan, rate: int, options: ExportOptions, audio: AudioSource | None
) -> Iterator[Piece]:
    """Yield the pieces of ``file`` at ``rate``, in order.

    With ``trim_edges``, the engine's silence before a chapter's first sound and after its last
    is cut (20 ms of it kept) and counted in the head and tail, so the quiet before the first
    sound is ``head_s`` and after the last is ``tail_s``.
    """
    fade = round(options.fade_ms / 1000 * rate)
    margin = round(_EDGE_MARGIN_S * rate)
    for index, part in enumerate(file.chapters):
        last = len(part.paragraphs) - 1
        lead = trail = 0
        for n, para in enumerate(part.paragraphs):
            x = load_take(part, para, rate, audio)
            if options.trim_edges and (n == 0 or n == last):
                start, end = sound_bounds(x, rate)
                cut_start = max(0, start - margin) if n == 0 else 0
                cut_end = min(len(x), end + margin) if n == last else len(x)
                if n == 0:
                    lead = start - cut_start
                if n == last:
                    trail = cut_end - end
                x = x[cut_start:cut_end]
            if n == 0:
                yield Piece(max(0, round(part.head_s * rate) - lead), index, starts_chapter=True)
            fade_edges(x, fade)
            yield Piece(len(x), index, x, para)
            if n != last:
                yield Piece(round(part.pause_s * rate), index)
        if last < 0:
            yield Piece(round(part.head_s * rate), index, starts_chapter=True)
        yield Piece(max(0, round(part.tail_s * rate) - trail), index)
