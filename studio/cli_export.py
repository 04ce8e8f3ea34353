"""``studio export``: write a project's narration as MP3, WAV, FLAC or M4B files."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from studio.cli_render import chapter_ranges
from studio.core.errors import Cancelled, CancelToken, ProjectBusyError, StudioError
from studio.core.export import (
    ExportFormat,
    ExportOptions,
    ExportProgress,
    ExportResult,
    Layout,
    Mastering,
    MasteringMode,
    Metadata,
    export_readiness,
    plan_export,
    record_export,
    run_export,
)
from studio.core.export.options import AAC_BITRATES, MP3_BITRATES
from studio.core.model import ChapterId, Project
from studio.core.store import ProjectStore

R = TypeVar("R")


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None


def add_parser(sub: Any) -> None:
    """Add the ``export`` subcommand."""
    p = sub.add_parser(
        "export",
        help="write the narration as MP3, WAV, FLAC or M4B, mastered for ACX",
        description="Export chapters or the whole book: one file per chapter (a folder), one "
        "file, or a ZIP of per-chapter files. Loudness is normalised linearly (one gain per file "
        "plus a true-peak limiter) to ACX's window by default. Paragraphs without audio stop "
        "the export unless --allow-missing is given.",
    )
    p.add_argument("project", metavar="BOOK.studio", type=Path)
    p.add_argument("-o", "--output", required=True, type=Path, metavar="PATH",
                   help="a folder for --per-chapter, a file for --single, --zip and "
                   "--paragraphs")
    p.add_argument("--format", choices=[*(f.value for f in ExportFormat), "epub3"],
                   default="mp3", help="epub3: a read-along EPUB 3 (text + MP3 + media "
                   "overlays); -o names the .epub")
    p.add_argument("--read-along", dest="format", action="store_const", const="epub3",
                   help="same as --format epub3")
    p.add_argument("--subtitles", choices=("srt", "vtt"),
                   help="also write subtitles timed to each file, beside it")
    p.add_argument("--chapters", type=chapter_ranges, metavar="1,3-5",
                   help="chapters to export (default: all)")
    layout = p.add_mutually_exclusive_group()
    layout.add_argument("--per-chapter", dest="layout", action="store_const",
                        const=Layout.PER_CHAPTER, help="one file per chapter in the folder "
                        "PATH (default, except for M4B)")
    layout.add_argument("--single", dest="layout", action="store_const", const=Layout.SINGLE,
                        help="one file with chapter marks (default for M4B)")
    layout.add_argument("--zip", dest="layout", action="store_const", const=Layout.ZIP,
                        help="a ZIP of per-chapter files")
    layout.add_argument("--paragraphs", dest="layout", action="store_const",
                        const=Layout.PARAGRAPHS, help="a ZIP of one file per paragraph")
    p.add_argument("--bitrate", type=int, metavar="K",
                   help=f"kbps: MP3 {'/'.join(map(str, MP3_BITRATES))} CBR (default 192), "
                   f"M4B {'/'.join(map(str, AAC_BITRATES))} (default 64)")
    p.add_argument("--bit-depth", type=int, choices=(16, 24), default=16,
                   help="WAV and FLAC (default 16)")
    p.add_argument("--stereo", action="store_true", help="two channels (default mono)")
    p.add_argument("--normalize", choices=[m.value for m in MasteringMode], default="acx",
                   help="acx: RMS -20 dB, true peak under -3.5 dB (default); lufs: integrated "
                   "loudness; off: no gain")
    p.add_argument("--target", type=float, metavar="DB",
                   help="RMS dBFS for acx (default -20), LUFS for lufs (default -18)")
    p.add_argument("--no-room-tone", action="store_true",
                   help="leave pauses digitally silent (default: -70 dB room tone)")
    p.add_argument("--acx-report", action="store_true",
                   help="measure every file against ACX's requirements; write CSV and JSON")
    p.add_argument("--cover", type=Path, metavar="IMAGE",
                   help="JPEG or PNG cover art (default: the project's cover, if it has one)")
    for name in ("title", "author", "narrator", "year", "isbn", "description"):
        p.add_argument(f"--{name}", help=f"{name} tag (default: from the project)")
    p.add_argument("--opening-credits", type=int, metavar="N",
                   help="chapter N is the opening credits (exported first, as its own file)")
    p.add_argument("--closing-credits", type=int, metavar="N",
                   help="chapter N is the closing credits (exported last)")
    p.add_argument("--retail-sample", type=_seconds, nargs="?", const=180.0, metavar="SECONDS",
                   help="also write a retail sample from the first chapter (default 180 s)")
    p.add_argument("--allow-missing", action="store_true",
                   help="export even if paragraphs have no audio (they are left out)")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


# ---------------------------------------------------------------------------------------------


class _Bar:
    """A progress line on a terminal; nothing otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = False

    def __call__(self, p: ExportProgress) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * p.fraction)
        sys.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {p.fraction:6.1%} "
                         f"{p.stage:<9} {p.file_index}/{p.files} {p.file[:40]:<40}")
        sys.stdout.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stdout.write("\n")
            sys.stdout.flush()


def _chapter_id(project: Project, number: int | None, what: str, path: Path) -> ChapterId | None:
    if number is None:
        return None
    if not 1 <= number <= len(project.chapters):
        raise StudioError(f"{path}: has {len(project.chapters)} chapters; there is no chapter "
                          f"{number} for the {what}")
    return project.chapters[number - 1].id


def _options(args: argparse.Namespace, project: Project) -> ExportOptions:
    fmt = ExportFormat(args.format)
    layout = args.layout or (Layout.SINGLE if fmt is ExportFormat.M4B else Layout.PER_CHAPTER)
    chapters: tuple[ChapterId, ...] | None = None
    if args.chapters:
        too_big = [n for n in args.chapters if n > len(project.chapters)]
        if too_big:
            raise StudioError(f"{args.project}: has {len(project.chapters)} chapters; there is "
                              f"no chapter {too_big[0]}")
        chapters = tuple(project.chapters[n - 1].id for n in args.chapters)
    mode = MasteringMode(args.normalize)
    if mode is MasteringMode.ACX:
        mastering = Mastering(target=-20.0 if args.target is None else args.target)
    elif mode is MasteringMode.LUFS:
        mastering = Mastering.lufs(-18.0 if args.target is None else args.target)
    else:
        mastering = Mastering.off()
    if args.no_room_tone:
        mastering = Mastering(mastering.mode, mastering.target, mastering.ceiling_dbtp, None)
    overrides = {k: getattr(args, k) for k in ("title", "author", "narrator", "year", "isbn",
                                               "description")}
    metadata = Metadata.from_project(project, **overrides)
    if args.cover:
        metadata = metadata.with_cover_file(args.cover)
    return ExportOptions(
        format=fmt,
        layout=layout,
        chapters=chapters,
        bitrate_kbps=args.bitrate,
        bit_depth=args.bit_depth,
        channels=2 if args.stereo else 1,
        mastering=mastering,
        acx_check=args.acx_report,
        opening_credits=_chapter_id(project, args.opening_credits, "opening credits",
                                    args.project),
        closing_credits=_chapter_id(project, args.closing_credits, "closing credits",
                                    args.project),
        retail_sample_s=args.retail_sample,
        allow_missing=args.allow_missing,
        metadata=metadata,
        subtitles=args.subtitles,
    )


def _check_output(args: argparse.Namespace, layout: Layout, names: list[str]) -> None:
    out: Path = args.output
    if args.force:
        return
    if layout is Layout.PER_CHAPTER:
        clashes = [n for n in names if (out / n).exists()]
        if clashes:
            raise StudioError(f"{out / clashes[0]}: already exists (use --force to replace it)")
    else:
        taken = [out] + [out.parent / n for n in names[1:]]
        clash = next((p for p in taken if p.exists()), None)
        if clash is not None:
            raise StudioError(f"{clash}: already exists (use --force to replace it)")


def _interrupts(cancel: CancelToken) -> dict[int, Any]:
    def stop(signum: int, frame: FrameType | None) -> None:
        cancel.cancel()

    return {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}


def _run_with_progress(args: argparse.Namespace, run: Callable[[Any, CancelToken], R]
                       ) -> R | None:
    """Run ``run(bar, cancel)`` with a progress bar, Ctrl+C (or SIGTERM) cancelling it.

    Return its result, or None when it was cancelled (said on stderr; nothing written).
    """
    cancel = CancelToken()
    bar = _Bar(sys.stdout.isatty() and not args.json)
    previous = _interrupts(cancel)
    try:
        return run(bar, cancel)
    except Cancelled:
        bar.close()
        print("studio: export cancelled; nothing was written", file=sys.stderr)
        return None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        bar.close()


def _result_json(result: ExportResult) -> dict[str, Any]:
    return {
        "target": str(result.target),
        "seconds": round(result.seconds, 2),
        "files": [
            {"name": f.name, "path": str(f.path), "kind": f.kind,
             "duration_s": round(f.duration_s, 3), "gain_db": round(f.gain_db, 2),
             "limited_s": round(f.limited_s, 3), "size": f.size,
             "chapters": [{"title": c.title, "start": round(c.start, 3), "end": round(c.end, 3)}
                          for c in f.chapters],
             "acx": f.acx.to_json() if f.acx else None}
            for f in result.files
        ],
        "acx_passed": result.acx_passed,
        "reports": [str(p) for p in result.reports],
        "warnings": list(result.warnings),
    }


def _print_result(result: ExportResult) -> None:
    minutes = result.duration_s / 60
    print(f"Wrote {len(result.files)} file(s), {minutes:.1f} min of audio, to {result.target} "
          f"in {result.seconds:.1f} s")
    for f in result.files:
        line = f"  {f.name}  {f.duration_s / 60:5.1f} min  gain {f.gain_db:+.1f} dB"
        if f.acx is not None:
            a = f.acx
            verdict = "ACX pass" if a.passed else "ACX FAIL: " + ", ".join(
                f"{c.name} {c.value}" for c in a.failures)
            line += (f"  RMS {a.rms_db:.1f} dB, peak {a.true_peak_db:.1f} dBTP, noise "
                     f"{a.noise_floor_db:.0f} dB  {verdict}")
        print(line)
    for path in result.reports:
        print(f"ACX report: {path}")


def cmd_export(args: argparse.Namespace) -> int:
    """Export a project."""
    if args.format == "epub3":
        return _cmd_read_along(args)
    with ProjectStore.open(args.project, read_only=True) as store:
        project = store.load()
        options = _options(args, project)
        if not args.allow_missing:
            scope = options.chapters
            if scope is not None:
                extra = (options.opening_credits, options.closing_credits)
                scope = (*scope, *(c for c in extra if c is not None))
            ready = export_readiness(project, scope)
            if not ready.ready:
                raise StudioError(
                    f"{args.project}: {ready.describe()} Run 'studio render {args.project}' "
                    "first, or pass --allow-missing to export without them."
                )
        plan = plan_export(project, options, args.output)
        for warning in plan.warnings:
            print(f"studio: warning: {warning}", file=sys.stderr)
        _check_output(args, options.layout, [f.name for f in plan.files])
        result = _run_with_progress(
            args, lambda bar, cancel: run_export(plan, store.load_take_audio, bar, cancel))
        if result is None:
            return 130
    for warning in result.warnings[len(plan.warnings):]:
        print(f"studio: warning: {warning}", file=sys.stderr)
    try:
        with ProjectStore.open(args.project) as writable:
            latest = writable.load()
            writable.save(latest, record_export(latest, result))
    except ProjectBusyError:
        print(f"studio: note: {args.project} is open elsewhere; this export was not added to "
              "its export history", file=sys.stderr)
    if args.json:
        print(json.dumps(_result_json(result), ensure_ascii=False, indent=1))
    else:
        _print_result(result)
    return 0


def _cmd_read_along(args: argparse.Namespace) -> int:
    """Write a read-along EPUB 3 (media overlays)."""
    from studio.core.export.readalong import plan_read_along, run_read_along

    out: Path = args.output
    if out.exists() and not args.force:
        raise StudioError(f"{out}: already exists (use --force to replace it)")
    with ProjectStore.open(args.project, read_only=True) as store:
        project = store.load()
        chapters = None
        if args.chapters:
            too_big = [n for n in args.chapters if n > len(project.chapters)]
            if too_big:
                raise StudioError(f"{args.project}: has {len(project.chapters)} chapters; "
                                  f"there is no chapter {too_big[0]}")
            chapters = tuple(project.chapters[n - 1].id for n in args.chapters)
        plan = plan_read_along(project, out, chapters=chapters,
                               bitrate_kbps=args.bitrate or 128,
                               allow_missing=args.allow_missing)
        for warning in plan.warnings:
            print(f"studio: warning: {warning}", file=sys.stderr)
        result = _run_with_progress(
            args, lambda bar, cancel: run_read_along(plan, store.load_take_audio, bar, cancel))
        if result is None:
            return 130
    sentences = sum(c.sentences for c in result.chapters)
    if args.json:
        print(json.dumps({"target": str(result.target), "chapters": len(result.chapters),
                          "sentences": sentences, "duration_s": round(result.duration_s, 3),
                          "warnings": list(result.warnings)}, indent=1))
    else:
        print(f"Wrote {result.target}: a read-along EPUB 3 of {len(result.chapters)} "
              f"chapter(s), {sentences} synchronised sentences, "
              f"{result.duration_s / 60:.1f} min of narration, in {result.seconds:.1f} s")
    return 0
