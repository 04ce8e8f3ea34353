"""Offline transcription and alignment as jobs for a separate process.

PocketSphinx holds the GIL for a whole utterance (``process_raw(full_utt=True)`` takes
10-25 s on a long one), so a worker thread does not keep a GUI responsive: the editor runs
these in a process of their own (``multiprocessing``'s "spawn" context) and stops them by
ending the process. Each job is a top-level function of picklable arguments that returns a
picklable result and reports progress through ``progress(fraction)``. :func:`run_job` is
the child process's entry point.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

from studio.core.errors import StudioError
from studio.core.transcript.model import SegmentId, Transcript

Progress = Callable[[float], None]

ALIGN_BATCH = 20  # segments aligned between progress reports


def transcribe_offline_job(media: str, progress: Progress) -> Transcript:
    """Transcribe ``media`` with PocketSphinx (see ``align.transcribe_offline``)."""
    from studio.core.transcript.align import transcribe_offline

    return transcribe_offline(media, progress=progress)


def align_offline_job(transcript: Transcript, segment_ids: Sequence[SegmentId], media: str,
                      progress: Progress) -> Transcript:
    """Align the words of ``segment_ids`` of ``transcript`` (in place) and return it."""
    from studio.core.transcript.align import OfflineAligner, align_words

    ids = list(segment_ids)
    with OfflineAligner(media) as aligner:
        for k in range(0, len(ids), ALIGN_BATCH):
            align_words(transcript, ids[k:k + ALIGN_BATCH], aligner)
            progress(min(len(ids), k + ALIGN_BATCH) / max(len(ids), 1))
    return transcript


def _portable(exc: BaseException) -> BaseException:
    """Return ``exc`` if it survives pickling, else a :class:`StudioError` saying the same."""
    try:
        back = pickle.loads(pickle.dumps(exc))
    except Exception:
        back = None
    if isinstance(back, BaseException) and str(back) == str(exc):
        return exc
    return StudioError(str(exc) or type(exc).__name__)


def run_job(fn: Callable[..., Any], args: tuple[Any, ...], queue: Any, temp_dir: str) -> None:
    """Run ``fn(*args, progress=...)`` in this (child) process and report on ``queue``.

    Messages: ("progress", fraction), then ("done", result) or ("error", exception). The
    result is pickled here, so a result that cannot cross is reported as an error rather
    than lost. Temporary files go to ``temp_dir``, which the parent deletes even when it
    ends this process mid-job.
    """
    tempfile.tempdir = temp_dir

    def progress(fraction: float) -> None:
        queue.put(("progress", float(fraction)))

    try:
        message: tuple[str, Any] = ("done", pickle.dumps(fn(*args, progress=progress)))
    except BaseException as exc:  # reported to the parent, never lost
        message = ("error", pickle.dumps(_portable(exc)))
    queue.put(message)
    queue.close()
    queue.join_thread()
