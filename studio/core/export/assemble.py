"""Lay one exported file out as a stream of pieces: room tone, paragraphs and pauses.

A file is its chapters in order; a chapter is its head room tone, its paragraphs (the takes
playback plays, in the same order) with the paragraph pause between them, and its tail room
tone. Each paragraph's take is decoded, brought to the working rate, given its voice's volume,
trimmed at the chapter's edges (so the head and tail are exactly what was asked for) and faded
in and out over a few milliseconds (no clicks at joins). One take is in memory at a time.

The same pieces come out on every pass (measure, then encode): the layout is deterministic.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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
    trimmed: int = 0  # frames of the take cut before these samples (its time offset)


def _fetch(part: ChapterPart, para: Paragraph, audio: AudioSource | None) -> bytes:
    if para.audio is not None:
        return para.audio
    if audio is None:
        raise ExportError(f"{_where(part, para)}: its audio is not loaded")
    try:
        return audio(para.take_id)
    except StudioError as exc:
        raise ExportError(f"{_where(part, para)}: its audio cannot be used ({exc}); generate it "
                          "again") from exc


def _where(part: ChapterPart, para: Paragraph) -> str:
    return f"chapter {part.number} '{part.title}', paragraph {para.number}"


def load_take(
    part: ChapterPart, para: Paragraph, rate: int, audio: AudioSource | None,
    data: bytes | None = None,
) -> Samples:
    """Return a paragraph's take as float32 mono at ``rate`` with its voice's volume.

    Raises:
        ExportError: the audio is missing, damaged or undecodable; the message names the
            chapter and paragraph.
    """
    if data is None:
        data = _fetch(part, para, audio)
    try:
        samples, take_rate = decode(data, para.format)
    except StudioError as exc:
        raise ExportError(f"{_where(part, para)}: its audio cannot be used ({exc}); generate "
                          "it again") from exc
    samples = resample(samples, take_rate, rate)
    if para.gain_db:
        samples = samples * np.float32(db_to_gain(para.gain_db))
    else:
        samples = np.array(samples, dtype=np.float32, copy=True)
    return samples


def _takes(
    file: FilePlan, rate: int, audio: AudioSource | None, workers: int
) -> Iterator[Samples]:
    """Yield the file's takes decoded, in order; ``workers`` threads decode ahead.

    The audio source is only called from this (the caller's) thread: a project store's
    connection belongs to one thread. Decoding (libsndfile, numpy) runs outside the GIL.
    """
    jobs = [(part, para) for part in file.chapters for para in part.paragraphs]
    if workers < 1:
        for part, para in jobs:
            yield load_take(part, para, rate, audio)
        return
    pending: deque[Future[Samples]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="export-decode") as pool:
        queue = iter(jobs)
        try:
            for part, para in queue:
                pending.append(pool.submit(load_take, part, para, rate, audio,
                                           _fetch(part, para, audio)))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def iter_pieces(
    file: FilePlan, rate: int, options: ExportOptions, audio: AudioSource | None,
    workers: int = 0,
) -> Generator[Piece, None, None]:
    """Yield the pieces of ``file`` at ``rate``, in order.

    With ``trim_edges``, the engine's silence before a chapter's first sound and after its last
    is cut (20 ms of it kept) and counted in the head and tail, so the quiet before the first
    sound is ``head_s`` and after the last is ``tail_s``.
    """
    fade = round(options.fade_ms / 1000 * rate)
    margin = round(_EDGE_MARGIN_S * rate)
    takes = _takes(file, rate, audio, workers)
    for index, part in enumerate(file.chapters):
        last = len(part.paragraphs) - 1
        lead = trail = 0
        for n, para in enumerate(part.paragraphs):
            x = next(takes)
            cut_start = 0
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
            yield Piece(len(x), index, x, para, trimmed=cut_start)
            if n != last:
                yield Piece(round(part.pause_s * rate), index)
        if last < 0:
            yield Piece(round(part.head_s * rate), index, starts_chapter=True)
        yield Piece(max(0, round(part.tail_s * rate) - trail), index)
