"""Media for the editor: what the waveform draws and what the player plays (no Qt here).

A media file is decoded once by ffmpeg (:func:`studio.core.transcript.media.decode`) to 16 kHz
mono PCM in a temporary file; the player reads it by range through a memory map
(:class:`PcmSource`) and the waveform draws peak summaries made from the same map, so an
hour of audio never sits in memory as floats. The project's own narration comes as its
chapter timeline instead (:func:`narration_media`), its takes decoded around the playhead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from studio.core.audio import peaks
from studio.core.errors import CancelToken
from studio.core.playback import SampleSource
from studio.core.transcript.media import SAMPLE_RATE, PcmFile, decode, probe
from studio.core.waveform import ChapterEnvelope, LazyEnvelope, chapter_envelope


class PcmSource:
    """A :class:`SampleSource` over a decoded :class:`PcmFile` (int16 read through a map)."""

    def __init__(self, pcm: PcmFile) -> None:
        self.pcm = pcm
        self.rate = SAMPLE_RATE
        self._map: npt.NDArray[np.int16] | None = (
            np.memmap(pcm.path, dtype="<i2", mode="r", shape=(pcm.samples,))
            if pcm.samples else np.zeros(0, np.int16)
        )

    def __len__(self) -> int:
        return self.pcm.samples

    @property
    def samples(self) -> npt.NDArray[np.int16]:
        """Return the whole signal as int16 (a memory map: nothing is read until used)."""
        assert self._map is not None, "closed"
        return self._map

    def read(self, first: int, last: int) -> npt.NDArray[np.float32]:
        """Return samples ``[first, last)`` as float32, zeros outside the file."""
        first, last = int(first), max(int(first), int(last))
        out = np.zeros(last - first, dtype=np.float32)
        lo, hi = max(first, 0), min(last, len(self))
        if hi > lo and self._map is not None:
            out[lo - first:hi - first] = self._map[lo:hi].astype(np.float32) / 32768.0
        return out

    def close(self) -> None:
        """Drop the map and delete the temporary file."""
        self._map = None
        self.pcm.close()


@dataclass(eq=False)
class LoadedMedia:
    """Audio ready for the editor: a source to play, envelopes to draw, and where it came from."""

    source: SampleSource
    rate: int
    coarse: ChapterEnvelope
    fine: ChapterEnvelope | LazyEnvelope
    duration: float
    path: Path | None = None  # the media file (None for the project's narration)
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Release the source (temporary files, decode threads)."""
        close = getattr(self.source, "close", None)
        if close is not None:
            close()


def media_from_samples(samples: npt.ArrayLike, rate: int, *, path: Path | None = None,
                       label: str = "") -> LoadedMedia:
    """Wrap float or int16 mono samples already in memory (tests, short clips)."""
    from studio.core.playback import ArraySource

    array = np.asarray(samples)
    fine, coarse = peaks(array, rate)
    duration = len(array) / rate
    source = ArraySource(array.astype(np.float32) / (32768.0 if array.dtype == np.int16
                                                     else 1.0), rate)
    return LoadedMedia(source, rate, chapter_envelope([(0.0, coarse)], "coarse"),
                       chapter_envelope([(0.0, fine)], "fine"), duration, path, label)


def load_media(path: str | Path, *, cancel: CancelToken | None = None,
               progress: Callable[[float], None] | None = None) -> LoadedMedia:
    """Decode a media file for the editor (run it off the GUI thread).

    Raises:
        MediaError: the file is missing or ffmpeg cannot decode it.
        Cancelled: ``cancel`` was set.
    """
    path = Path(path)
    expected = max(1.0, probe(path).duration * SAMPLE_RATE)
    done = [0]

    def on_block(block: npt.NDArray[np.int16]) -> None:
        done[0] += len(block)
        if progress is not None:
            progress(min(0.95, 0.95 * done[0] / expected))

    pcm = decode(path, on_block=on_block, cancel=cancel)
    try:
        source = PcmSource(pcm)
        fine, coarse = peaks(source.samples, SAMPLE_RATE)
    except BaseException:
        pcm.close()
        raise
    if progress is not None:
        progress(1.0)
    return LoadedMedia(source, SAMPLE_RATE, chapter_envelope([(0.0, coarse)], "coarse"),
                       chapter_envelope([(0.0, fine)], "fine"), pcm.duration, path, path.name)


def narration_media(store: Any, chapter: Any, timeline: list[Any]) -> LoadedMedia:
    """Return a chapter's narration as editor media: its takes in reading order, as played."""
    from studio.ui.player_bar import PLAY_RATE, _chapter_audio

    coarse = store.load_peaks_many([s.take_id for s in timeline], "coarse")
    fine = LazyEnvelope([s.start for s in timeline], [s.end for s in timeline],
                        lambda i: store.load_peaks(timeline[i].take_id)[0])
    envelope = chapter_envelope([(s.start, coarse[s.take_id]) for s in timeline
                                 if coarse.get(s.take_id) is not None], "coarse")
    duration = timeline[-1].end if timeline else 0.0
    return LoadedMedia(_chapter_audio(store.path, chapter, timeline), PLAY_RATE, envelope,
                       fine, duration, None, chapter.title)
