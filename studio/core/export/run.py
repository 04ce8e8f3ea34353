"""Write an export: measure, master, encode, tag, check and put the files in place.

Per file, two passes over the assembled stream (:mod:`studio.core.export.assemble`):

1. *measure*: the RMS (ACX) or the integrated loudness (LUFS) of the file, and where each
   chapter starts;
2. *encode*: one linear gain to the target, the true-peak limiter on the few peaks above the
   ceiling, the room tone bed, then ffmpeg through a pipe (so Python prepares the next
   paragraph while ffmpeg encodes).

Then the file is tagged (mutagen), decoded again and measured against ACX's requirements.

Everything is written into a hidden staging folder beside the target and moved into place
only when every file is complete, so a cancel or an error leaves the previous export exactly
as it was and no temporary file behind.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from studio.core.errors import CancelToken
from studio.core.export import acx
from studio.core.export.assemble import AudioSource, Piece, iter_pieces
from studio.core.export.dsp import (
    LoudnessMeter,
    Samples,
    db,
    db_to_gain,
    limit,
    room_tone,
)
from studio.core.export.ffmpeg import Encoder, ffmetadata
from studio.core.export.options import (
    ExportError,
    ExportFormat,
    ExportOptions,
    Layout,
    MasteringMode,
)
from studio.core.export.plan import ExportPlan, FilePlan, Paragraph
from studio.core.export.tags import ChapterMark, info_tags, write_tags
from studio.core.model import Changes, ExportId, ExportRecord, Project, add_export_record, new_id

WAV_LIMIT: Final = 4 * 1024**3  # bytes a RIFF WAV can address
_MAX_GAIN_DB: Final = 40.0
_WEIGHTS: Final = {"measuring": 1.0, "encoding": 2.0, "checking": 0.5}
REPORT_NAME: Final = "ACX report"
#: How far an encoder may push the true peak over the limiter's ceiling before the file is
#: mastered again with a lower ceiling. With ACX's -3.5 dBTP ceiling that is -3.1 dBTP, 0.1 dB
#: inside ACX's limit, so another meter's reading of the same file stays inside it too.
ENCODER_ALLOWANCE_DB: Final = 0.4
REMASTER_TRIES: Final = 3
REMASTER_MARGIN_DB: Final = 0.3  # how far under the allowance a new try aims (times the try)
_LOSSY: Final = (ExportFormat.MP3, ExportFormat.M4B)


@dataclass(frozen=True, slots=True)
class ExportProgress:
    """Where an export is: the stage, the file, and the fraction of the whole work done."""

    stage: str  # "measuring", "encoding", "checking" or "finishing"
    fraction: float
    file: str
    file_index: int  # from 1
    files: int


ProgressCallback = Callable[[ExportProgress], None]


@dataclass(frozen=True, slots=True)
class PlacedParagraph:
    """Where a paragraph's take sits in an exported file: subtitles and read-along use it."""

    paragraph: Paragraph
    chapter: int  # index of its chapter in the file
    start: float  # seconds into the file where its first kept sample plays
    end: float
    offset: float  # take time at ``start`` (the engine's silence cut at a chapter's head)

    def file_time(self, take_time: float) -> float:
        """Return where ``take_time`` (seconds into the take) plays in the file."""
        return min(max(self.start + take_time - self.offset, self.start), self.end)


@dataclass(frozen=True, slots=True)
class ExportedFile:
    """One file an export wrote."""

    name: str
    path: Path  # where it is now (inside the ZIP for a ZIP export: the ZIP's path)
    kind: str
    duration_s: float
    chapters: tuple[ChapterMark, ...]
    gain_db: float
    limited_s: float  # how long the limiter acted
    size: int
    acx: acx.AcxReport | None = None
    ceiling_dbtp: float | None = None  # the limiter's ceiling (lower if the encoder overshot)
    paragraphs: tuple[PlacedParagraph, ...] = ()  # where each take plays in the file
    subtitles: Path | None = None  # the SRT/VTT file beside it (inside the ZIP: its name)


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote."""

    target: Path
    files: tuple[ExportedFile, ...]
    reports: tuple[Path, ...]  # the ACX report's CSV and JSON, if checked
    warnings: tuple[str, ...]
    seconds: float
    record: ExportRecord = field(repr=False)

    @property
    def acx_passed(self) -> bool | None:
        """Return whether every file passed the ACX checks (None: not checked)."""
        checked = [f.acx for f in self.files if f.acx is not None]
        return all(r.passed for r in checked) if checked else None

    @property
    def duration_s(self) -> float:
        return sum(f.duration_s for f in self.files if f.kind != "retail-sample")


class _Progress:
    def __init__(self, plan: ExportPlan, callback: ProgressCallback | None) -> None:
        self.callback = callback
        check = plan.options.acx_check
        per_second = _WEIGHTS["measuring"] + _WEIGHTS["encoding"] + (
            _WEIGHTS["checking"] if check else 0.0)
        self.total = max(1e-6, plan.estimated_s * per_second)
        self.done = 0.0
        self.files = len(plan.files)
        self._last = -1.0

    def advance(self, stage: str, seconds: float, file: FilePlan, index: int) -> None:
        self.done += seconds * _WEIGHTS.get(stage, 0.0)
        fraction = min(0.999, self.done / self.total)
        if self.callback is not None and (fraction - self._last >= 0.002 or seconds == 0.0):
            self._last = fraction
            self.callback(ExportProgress(stage, fraction, file.name, index, self.files))

    def extend(self, seconds: float, checking: bool) -> None:
        """Add another encoding (and check) of ``seconds`` of audio to the work."""
        self.total += seconds * (_WEIGHTS["encoding"] + (_WEIGHTS["checking"] if checking
                                                         else 0.0))

    def finish(self, name: str) -> None:
        if self.callback is not None:
            self.callback(ExportProgress("finishing", 1.0, name, self.files, self.files))


def _encoder_args(
    options: ExportOptions, work_rate: int, meta_path: Path | None, tags: dict[str, str]
) -> list[str]:
    fmt = options.format
    args = ["-f", "f32le", "-ar", str(work_rate), "-ac", "1", "-i", "pipe:0"]
    if meta_path is not None:
        args += ["-i", str(meta_path), "-map_metadata", "1", "-map_chapters", "1"]
    else:
        args += ["-map_metadata", "-1"]
    args += ["-map", "0:a", "-ar", str(options.sample_rate)]
    filters = []
    if work_rate != options.sample_rate:
        filters.append("aresample=resampler=soxr:precision=28")
    if options.channels == 2:
        filters.append("pan=stereo|FL=c0|FR=c0")  # the same signal at full level on both sides
    if filters:
        args += ["-af", ",".join(filters)]
    if fmt is ExportFormat.MP3:
        args += ["-c:a", "libmp3lame", "-b:a", f"{options.bitrate}k", "-id3v2_version", "0",
                 "-write_id3v1", "0", "-f", "mp3"]
    elif fmt is ExportFormat.M4B:
        args += ["-c:a", "aac", "-b:a", f"{options.bitrate}k", "-f", "ipod"]
    elif fmt is ExportFormat.FLAC:
        if options.bit_depth == 24:
            args += ["-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24"]
        else:
            args += ["-c:a", "flac", "-sample_fmt", "s16"]
        args += ["-f", "flac"]
    else:
        codec = "pcm_s24le" if options.bit_depth == 24 else "pcm_s16le"
        args += ["-c:a", codec, "-rf64", "auto"]
        for key, value in tags.items():
            if value:
                args += ["-metadata", f"{key}={value}"]
        args += ["-f", "wav"]
    return args


def _gain_db(options: ExportOptions, sumsq: float, frames: int, loudness: float | None) -> float:
    mastering = options.mastering
    if mastering.mode is MasteringMode.OFF or frames == 0:
        return 0.0
    if mastering.mode is MasteringMode.LUFS:
        if loudness is None or loudness <= -70.0:
            return 0.0
        gain = mastering.target - loudness
    else:
        mean_square = sumsq / frames
        if mean_square <= 0.0:
            return 0.0
        tone = 10 ** (mastering.room_tone_db / 10) if mastering.room_tone_db is not None else 0.0
        wanted = max(10 ** (mastering.target / 10) - tone, 1e-12)
        gain = 10 * math.log10(wanted / mean_square)
    return max(-_MAX_GAIN_DB, min(_MAX_GAIN_DB, gain))


def _export_file(
    plan: ExportPlan,
    file: FilePlan,
    index: int,
    staging: Path,
    audio: AudioSource | None,
    progress: _Progress,
    cancel: CancelToken,
    warnings: list[str],
) -> ExportedFile:
    options = plan.options
    rate = plan.work_rate
    mastering = options.mastering

    # Pass 1: measure (and keep the assembled audio on disk for pass 2, if there is room).
    lufs = LoudnessMeter(rate) if mastering.mode is MasteringMode.LUFS else None
    sumsq = 0.0
    frames = 0
    starts: list[int] = []
    placed: list[PlacedParagraph] = []
    spool = _Spool.open(staging / f".{index}.spool", file.estimated_s * rate)
    measured = iter_pieces(file, rate, options, audio, workers=2)  # decode ahead on 2 cores
    try:
        for piece in measured:
            cancel.raise_if_cancelled("export")
            if piece.starts_chapter:
                starts.append(frames)
            if piece.samples is None:
                if lufs is not None:
                    lufs.add_silence(piece.frames)
            else:
                if piece.paragraph is not None:
                    placed.append(PlacedParagraph(piece.paragraph, piece.chapter, frames / rate,
                                                  (frames + piece.frames) / rate,
                                                  piece.trimmed / rate))
                x = piece.samples
                sumsq += float(np.dot(x, x))
                if lufs is not None:
                    lufs.add(x)
            if spool is not None:
                try:
                    spool.add(piece)
                except OSError:  # the disk filled up: decode the takes again instead
                    spool.close()
                    spool = None
            frames += piece.frames
            progress.advance("measuring", piece.frames / rate, file, index)
    except BaseException:
        if spool is not None:
            spool.close()
        raise
    finally:
        measured.close()
    gain_db = _gain_db(options, sumsq, frames, lufs.integrated if lufs else None)
    gain = np.float32(db_to_gain(gain_db))
    ends = [*starts[1:], frames]
    marks = tuple(ChapterMark(c.title, s / rate, e / rate)
                  for c, s, e in zip(file.chapters, starts, ends, strict=True))

    fmt = options.format
    out_bytes = frames / rate * options.sample_rate * options.channels * options.bit_depth / 8
    if fmt is ExportFormat.WAV and out_bytes > WAV_LIMIT - 1024 * 1024:
        warnings.append(f"{file.name} is {out_bytes / 1024**3:.1f} GiB, over the 4 GiB a WAV "
                        "file can hold; it was written as RF64, which some players cannot "
                        "read. Export one file per chapter for plain WAV files.")

    # Pass 2: master and encode; again with a lower ceiling if the encoder overshot.
    tags = info_tags(plan.metadata, file.title, file.track, file.tracks)
    meta_path: Path | None = None
    path = staging / file.name
    try:
        if fmt is ExportFormat.M4B:
            meta_path = staging / f".{index}.ffmetadata"
            chapters = [(c.title, s, e)
                        for c, s, e in zip(file.chapters, starts, ends, strict=True)]
            try:
                meta_path.write_text(ffmetadata({"title": file.title}, chapters, rate),
                                     encoding="utf-8")
            except OSError as exc:
                raise ExportError(f"{file.name}: cannot write its chapter list "
                                  f"{meta_path} ({exc.strerror or exc})") from None
        ceiling_db = mastering.ceiling_dbtp
        allowed_db = ceiling_db + ENCODER_ALLOWANCE_DB
        report = None
        for attempt in range(1 + (REMASTER_TRIES if fmt in _LOSSY else 0)):
            if attempt:
                progress.extend(frames / rate, options.acx_check)
            encoded = _encode(plan, file, index, path, spool, audio, gain, ceiling_db,
                              meta_path, tags, progress, cancel)
            if encoded.frames != frames:  # pragma: no cover - the layout is deterministic
                raise ExportError(f"{file.name}: the two passes disagree "
                                  f"({frames} != {encoded.frames})")
            if fmt not in _LOSSY:
                break
            # Decode what was written: the encoder's overshoot is what players and ACX see.
            cancel.raise_if_cancelled("export")
            if options.acx_check:
                report = acx.measure(path, fmt)
                peak_db = report.true_peak_db
                progress.advance("checking", frames / rate, file, index)
            else:
                peak_db = acx.measure_true_peak(path, options.sample_rate, options.channels)
            if peak_db <= allowed_db:
                break
            if attempt == REMASTER_TRIES:
                warnings.append(
                    f"{file.name}: the encoder pushes true peaks to {peak_db:.1f} dBTP even "
                    f"with the limiter at {ceiling_db:.1f} dBTP; choose a higher bitrate")
                break
            # Lower the ceiling by the overshoot and a margin (growing with each try), below
            # the loudest sample sent if the limiter did not act.
            sent_db = min(ceiling_db, db(encoded.peak))
            ceiling_db = sent_db - (peak_db - allowed_db) - REMASTER_MARGIN_DB * (attempt + 1)
    finally:
        if spool is not None:
            spool.close()
        if meta_path is not None:
            meta_path.unlink(missing_ok=True)

    write_tags(path, fmt, plan.metadata, file.title, file.track, file.tracks,
               marks if len(marks) > 1 else ())
    if options.acx_check and report is None:
        cancel.raise_if_cancelled("export")
        report = acx.measure(path, fmt)
        progress.advance("checking", frames / rate, file, index)
    return ExportedFile(
        name=file.name,
        path=path,
        kind=file.kind,
        duration_s=frames / rate,
        chapters=marks,
        gain_db=gain_db,
        limited_s=encoded.limited / rate,
        size=path.stat().st_size,
        acx=report,
        ceiling_dbtp=ceiling_db,
        paragraphs=tuple(placed),
    )


@dataclass(frozen=True, slots=True)
class _Encoded:
    frames: int
    limited: int  # samples the limiter touched
    peak: float  # the largest sample sent to the encoder (linear, before the room tone)


def _encode(
    plan: ExportPlan,
    file: FilePlan,
    index: int,
    path: Path,
    spool: _Spool | None,
    audio: AudioSource | None,
    gain: np.float32,
    ceiling_db: float,
    meta_path: Path | None,
    tags: dict[str, str],
    progress: _Progress,
    cancel: CancelToken,
) -> _Encoded:
    """Master the assembled stream (gain, limiter, room tone) and encode it to ``path``."""
    options = plan.options
    rate = plan.work_rate
    mastering = options.mastering
    encoder = Encoder(_encoder_args(options, rate, meta_path, tags), path)
    tone = room_tone(rate, mastering.room_tone_db) if mastering.room_tone_db is not None else None
    ceiling = db_to_gain(ceiling_db)
    written = 0
    limited = 0
    peak = 0.0
    if spool is not None:
        replayed: Iterator[Samples | int] = spool.replay()
    else:  # decode again; ffmpeg has the other core
        replayed = (p.frames if p.samples is None else p.samples
                    for p in iter_pieces(file, rate, options, audio, workers=1))
    try:
        for stretch in replayed:
            cancel.raise_if_cancelled("export")
            if isinstance(stretch, int):  # a pause
                y = np.zeros(stretch, dtype=np.float32)
            else:
                y = stretch
                y *= gain
                limited += limit(y, ceiling, rate)
                if len(y):
                    peak = max(peak, float(np.abs(y).max()))
            if tone is not None and len(y):
                _add_loop(y, tone, written)
            encoder.write(y)
            written += len(y)
            progress.advance("encoding", len(y) / rate, file, index)
        encoder.finish()
    except BaseException:
        encoder.kill()
        raise
    return _Encoded(written, limited, peak)


class _Spool:
    """The first pass's assembled audio, kept on disk so the second pass need not decode again.

    Decoding compressed takes is most of the export's own work; reading them back is cheap.
    Each paragraph is stored as 16-bit samples scaled to its own peak (so the rounding stays
    about 98 dB under the paragraph's loudest moment, far under the room tone after any gain);
    pauses are stored as their length only. Used only when the disk has room for it.
    """

    _MARGIN = 512 * 1024**2  # leave this much free beside the export

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("w+b")
        self._layout: list[tuple[int, float]] = []  # (frames, scale); scale 0: a pause

    @classmethod
    def open(cls, path: Path, frames: float) -> _Spool | None:
        try:
            free = shutil.disk_usage(path.parent).free
        except OSError:
            return None
        if free < frames * 2 * 1.1 + cls._MARGIN:
            return None
        try:
            return cls(path)
        except OSError:
            return None

    def add(self, piece: Piece) -> None:
        x = piece.samples
        if x is None or len(x) == 0:
            self._layout.append((piece.frames, 0.0))
            return
        peak = float(np.abs(x).max())
        scale = peak / 32767.0 if peak > 0.0 else 1.0
        q = np.rint(x * np.float32(1.0 / scale)).astype("<i2")
        self._file.write(q.data)
        self._layout.append((len(x), scale))

    def replay(self) -> Iterator[Samples | int]:
        """Yield each paragraph's samples (float32) and each pause's length, in order."""
        self._file.flush()
        self._file.seek(0)
        for frames, scale in self._layout:
            if scale == 0.0:
                yield frames
                continue
            data = self._file.read(frames * 2)
            if len(data) != frames * 2:  # pragma: no cover - the disk lost our data
                raise ExportError(f"{self.path.name}: the temporary audio was cut short")
            samples = np.frombuffer(data, dtype="<i2").astype(np.float32)
            samples *= np.float32(scale)
            yield samples

    def close(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


def _add_loop(y: np.ndarray[Any, np.dtype[np.float32]], loop: np.ndarray[Any, np.dtype[
        np.float32]], position: int) -> None:
    """Add ``loop`` (repeated) to ``y`` as if ``y`` started at ``position`` of the stream."""
    n = len(loop)
    offset = position % n
    done = 0
    while done < len(y):
        take = min(len(y) - done, n - offset)
        y[done : done + take] += loop[offset : offset + take]
        done += take
        offset = 0


def _check_target(plan: ExportPlan) -> Path:
    target = plan.target
    parent = target.parent
    if not parent.is_dir():
        raise ExportError(f"{parent}: the folder does not exist")
    if plan.options.layout is Layout.PER_CHAPTER:
        if target.exists() and not target.is_dir():
            raise ExportError(f"{target}: is a file; a per-chapter export writes a folder")
    elif target.is_dir():
        raise ExportError(f"{target}: is a folder; give a file name")
    return parent


def _package(
    plan: ExportPlan, files: list[ExportedFile], staging: Path, reports: list[acx.AcxReport]
) -> tuple[list[ExportedFile], list[Path]]:
    """Move the staged files (and reports) into place; return them with their final paths."""
    target = plan.target
    layout = plan.options.layout
    report_paths: list[Path] = []
    if reports:
        acx.write_reports(reports, staging / f"{REPORT_NAME}.csv", staging / f"{REPORT_NAME}.json")
    moves: list[tuple[Path, Path]] = []
    placed: list[ExportedFile] = []
    if layout in (Layout.ZIP, Layout.PARAGRAPHS):
        archive = staging / ".archive.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for f in files:
                zf.write(f.path, f.name)
                if f.subtitles is not None:
                    zf.write(f.subtitles, f.subtitles.name)
            for suffix in (".csv", ".json") if reports else ():
                zf.write(staging / f"{REPORT_NAME}{suffix}", f"{REPORT_NAME}{suffix}")
        moves.append((archive, target))
        placed = [dataclasses.replace(f, path=target, subtitles=None if f.subtitles is None
                                      else Path(f.subtitles.name)) for f in files]
        for suffix in (".csv", ".json") if reports else ():
            dest = target.with_name(f"{target.stem}.acx{suffix}")
            moves.append((staging / f"{REPORT_NAME}{suffix}", dest))
            report_paths.append(dest)
    else:
        if layout is Layout.SINGLE:
            folder = target.parent
            names = {f.name: (target if f.kind == "book" else folder / f.name) for f in files}
            report_base = target.with_name(f"{target.stem}.acx")
        else:
            folder = target
            folder.mkdir(exist_ok=True)
            names = {f.name: folder / f.name for f in files}
            report_base = folder / REPORT_NAME
        for f in files:
            moves.append((f.path, names[f.name]))
            sidecar = None
            if f.subtitles is not None:
                sidecar = names[f.name].with_suffix(f.subtitles.suffix)
                moves.append((f.subtitles, sidecar))
            placed.append(dataclasses.replace(f, path=names[f.name], subtitles=sidecar))
        for suffix in (".csv", ".json") if reports else ():
            dest = report_base.with_name(report_base.name + suffix)
            moves.append((staging / f"{REPORT_NAME}{suffix}", dest))
            report_paths.append(dest)
    umask = os.umask(0)
    os.umask(umask)
    for source, dest in moves:
        os.chmod(source, 0o666 & ~umask)
        os.replace(source, dest)
    return placed, report_paths


def run_export(
    plan: ExportPlan,
    audio: AudioSource | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ExportResult:
    """Write the export ``plan`` describes; safe to run on a worker thread.

    Args:
        audio: returns a take's audio bytes for takes not held in memory (for example
            ``store.load_take_audio`` of a store opened read-only for the worker).
        progress: called with an :class:`ExportProgress` as the work advances.
        cancel: polled between paragraphs; a cancel stops the export, removes everything it
            wrote, and raises :class:`studio.core.errors.Cancelled`.

    Raises:
        ExportError: a take's audio cannot be used (the message names the paragraph), the
            target cannot be written, or ffmpeg failed.
        Cancelled: the export was cancelled; nothing was changed on disk.
    """
    started = time.monotonic()
    cancel = cancel or CancelToken()
    parent = _check_target(plan)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{plan.target.name}.", suffix=".partial",
                                        dir=parent))
    except OSError as exc:
        raise ExportError(f"{parent}: cannot write here ({exc.strerror})") from None
    tracker = _Progress(plan, progress)
    warnings = list(plan.warnings)
    try:
        try:
            files = [
                _export_file(plan, f, n, staging, audio, tracker, cancel, warnings)
                for n, f in enumerate(plan.files, 1)
            ]
            if plan.options.subtitles is not None:
                from studio.core.export.timedtext import write_subtitles

                files = [write_subtitles(f, plan.options.subtitles) for f in files]
        except OSError as exc:  # a full disk, a vanished folder: name what was being written
            where = f" ({exc.filename})" if exc.filename else ""
            raise ExportError(f"{plan.target}: cannot be written: {exc.strerror or exc}{where}; "
                              "nothing was changed") from None
        reports: list[acx.AcxReport] = []
        if plan.options.acx_check:
            reports = acx.check_consistency([f.acx for f in files if f.acx is not None])
            files = [dataclasses.replace(f, acx=r) for f, r in zip(files, reports, strict=True)]
            long = [f.name for f in files if f.duration_s > acx.DURATION_MAX_S]
            if long:
                warnings.append(f"{long[0]} is longer than ACX's 120 minutes per file; "
                                "export one file per chapter for ACX")
        cancel.raise_if_cancelled("export")
        try:
            placed, report_paths = _package(plan, files, staging, reports)
        except OSError as exc:
            raise ExportError(f"{plan.target}: cannot be written ({exc.strerror or exc})") \
                from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    tracker.finish(plan.target.name)
    options = plan.options
    record = ExportRecord(
        id=ExportId(new_id()),
        path=str(plan.target),
        format=options.format.value,
        chapter_ids=plan.chapter_ids,
        settings={
            "layout": options.layout.value,
            "bitrate_kbps": options.bitrate,
            "bit_depth": options.bit_depth if options.bitrate is None else None,
            "sample_rate": options.sample_rate,
            "channels": options.channels,
            "mastering": {
                "mode": options.mastering.mode.value,
                "target": options.mastering.target,
                "ceiling_dbtp": options.mastering.ceiling_dbtp,
                "room_tone_db": options.mastering.room_tone_db,
            },
            "files": [f.name for f in placed],
            "subtitles": options.subtitles,
            "duration_s": round(sum(f.duration_s for f in placed), 3),
            "acx_passed": all(r.passed for r in reports) if reports else None,
            "warnings": warnings,
        },
    )
    return ExportResult(
        target=plan.target,
        files=tuple(placed),
        reports=tuple(report_paths),
        warnings=tuple(warnings),
        seconds=time.monotonic() - started,
        record=record,
    )


def record_export(project: Project, result: ExportResult) -> Changes:
    """Record a finished export in the project (on the thread that owns the project)."""
    return add_export_record(project, result.record)
