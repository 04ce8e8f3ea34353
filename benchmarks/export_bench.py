"""Export speed and memory on a long synthetic book, against a bare ffmpeg encode.

Builds a book of ``--hours`` of narration (30-minute chapters of 20-40 s paragraphs, takes
stored in the project file as the engine returns them: 128 kbps MP3 at 44.1 kHz by default),
then for each format exports it as one file through the full pipeline (two passes: measure,
then master + limit + room tone + encode; tags) and, in the same run, encodes the same
concatenated PCM (at the export's gain, with the same room tone) with a bare ffmpeg of the
same codec settings. Prints both times, their
ratio (aim: at most 1.3x) and the peak memory of the export process and of its ffmpeg.

Each export and each bare encode runs in a fresh process, so peak RSS is the export's own.

    .venv/bin/python benchmarks/export_bench.py                 # 10 h -> MP3 192k and M4B
    .venv/bin/python benchmarks/export_bench.py --hours 20 --formats mp3   # memory at 20 h
    .venv/bin/python benchmarks/export_bench.py --hours 1 --check          # quick, with ACX
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from studio.core import audio as audiolib  # noqa: E402
from studio.core.model import (  # noqa: E402
    Block,
    BlockId,
    Chapter,
    ChapterId,
    Project,
    Take,
    TakeId,
    Voice,
    VoiceId,
    inputs_hash,
)
from studio.core.store import ProjectStore  # noqa: E402
from tests.core.test_export_fixtures import speech  # noqa: E402

POOL = 24  # distinct takes, reused across the book (each paragraph still decodes its own copy)
CHAPTER_S = 30 * 60


def _pool(fmt: str) -> list[tuple[bytes, float]]:
    codec, rate = fmt.split("_")[0], audiolib.format_sample_rate(fmt)
    takes = []
    for i in range(POOL):
        x = speech(20.0 + 20.0 * i / POOL, rate, -22.0 - 6.0 * (i % 3), seed=i)
        data = audiolib.encode_wav(x, rate) if codec == "wav" else audiolib.encode_mp3(x, rate,
                                                                                      128)
        takes.append((data, audiolib.duration(data, fmt)))
    return takes


def build(path: Path, hours: float, fmt: str) -> dict[str, float]:
    """Write the synthetic book to ``path``; return its size."""
    pool = _pool(fmt)
    project = Project(title="The Long Book", author="A. Writer")
    voice = Voice(VoiceId("v"), "Narrator", engine="offline", engine_voice_id="en-us")
    project.voices[voice.id] = voice
    project.default_voice_id = voice.id
    total = 0.0
    n = 0
    store: ProjectStore | None = None
    chapters = max(1, round(hours * 3600 / CHAPTER_S))
    for c in range(chapters):
        chapter = Chapter(ChapterId(f"c{c}"), f"Chapter {c + 1}")
        project.chapters.append(chapter)
        length = 0.0
        while length < min(CHAPTER_S, hours * 3600 - total):
            data, seconds = pool[n % POOL]
            block = Block(BlockId(f"b{n}"), f"Paragraph {n}.")
            chapter.blocks.append(block)
            take = Take(TakeId(f"t{n}"), block.id, inputs_hash(project, block), fmt, seconds,
                        voice_id=voice.id, audio=data)
            block.takes.append(take)
            block.current_take_id = take.id
            length += seconds + 0.5
            n += 1
        total += length
    store = ProjectStore.create(path, project, overwrite=True)
    store.close()
    return {"paragraphs": n, "chapters": chapters, "seconds": total,
            "bytes": path.stat().st_size}


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


def _cpu_s() -> float:
    """Return the CPU seconds of this process and its finished children (ffmpeg)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def run_export(book: Path, fmt: str, out: Path, check: bool) -> dict[str, float]:
    """Export ``book`` to one file (child process)."""
    from studio.core.export import ExportFormat, ExportOptions, Layout, plan_export, run_export

    started = time.monotonic()
    cpu = _cpu_s()
    with ProjectStore.open(book, read_only=True) as store:
        project = store.load()
        options = ExportOptions(format=ExportFormat(fmt), layout=Layout.SINGLE, acx_check=check)
        plan = plan_export(project, options, out)
        result = run_export(plan, store.load_take_audio)
    seconds = time.monotonic() - started
    acx = result.files[0].acx
    return {
        "seconds": seconds,
        "cpu_s": _cpu_s() - cpu,
        "gain_db": result.files[0].gain_db,
        "audio_s": result.files[0].duration_s,
        "peak_mb": _peak_mb(resource.RUSAGE_SELF),
        "ffmpeg_peak_mb": _peak_mb(resource.RUSAGE_CHILDREN),
        "bytes": out.stat().st_size,
        "rms_db": acx.rms_db if acx else float("nan"),
        "true_peak_db": acx.true_peak_db if acx else float("nan"),
    }


def run_bare(book: Path, fmt: str, out: Path, gain_db: float) -> dict[str, float]:
    """Encode the book's concatenated PCM with a bare ffmpeg (child process).

    The takes are given the export's gain and the same room tone beforehand (outside the
    timed part), so ffmpeg encodes the same kind of signal as in the export: encoders take
    longer over some signals than others (AAC over quiet ones, for one).
    """
    from studio.core.export.dsp import db_to_gain, room_tone
    from studio.core.export.ffmpeg import Encoder

    with ProjectStore.open(book, read_only=True) as store:
        project = store.load()
        decoded: dict[bytes, np.ndarray] = {}
        order = []
        rate = 44100
        for _, block in project.iter_blocks():
            take = block.current_take
            assert take is not None
            data = store.load_take_audio(take.id)
            if data not in decoded:
                x, take_rate = audiolib.decode(data, take.format)
                rate = take_rate
                x = x * np.float32(db_to_gain(gain_db))
                tone = room_tone(rate, -70.0)
                x += np.resize(np.roll(tone, len(decoded) * 12345), len(x))
                decoded[data] = x
            order.append(data)
    codec = (["-c:a", "libmp3lame", "-b:a", "192k", "-f", "mp3"] if fmt == "mp3"
             else ["-c:a", "aac", "-b:a", "64k", "-f", "ipod"])
    pause = room_tone(rate, -70.0)[: int(0.5 * rate)]
    started = time.monotonic()
    cpu = _cpu_s()
    encoder = Encoder(["-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0",
                       "-ar", "44100", *codec], out)
    for data in order:
        encoder.write(decoded[data])
        encoder.write(pause)
    encoder.finish()
    return {"seconds": time.monotonic() - started, "cpu_s": _cpu_s() - cpu,
            "bytes": out.stat().st_size,
            "peak_mb": _peak_mb(resource.RUSAGE_SELF)}


def _child(*args: str) -> dict[str, float]:
    run = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         check=False)
    if run.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{run.stderr}")
    result: dict[str, float] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=10.0)
    parser.add_argument("--formats", default="mp3,m4b")
    parser.add_argument("--take-format", default="mp3_44100_128",
                        help="format the takes are stored in (mp3_44100_128 or wav_22050)")
    parser.add_argument("--check", action="store_true", help="also run the ACX check")
    parser.add_argument("--no-bare", action="store_true",
                        help="skip the bare ffmpeg encode (memory runs)")
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        mode, *rest = args.child
        if mode == "build":
            out = build(Path(rest[0]), float(rest[1]), rest[2])
        elif mode == "export":
            out = run_export(Path(rest[0]), rest[1], Path(rest[2]), rest[3] == "1")
        else:
            out = run_bare(Path(rest[0]), rest[1], Path(rest[2]), float(rest[3]))
        print(json.dumps(out))
        return

    with tempfile.TemporaryDirectory(prefix="export-bench-", dir=args.workdir) as tmp:
        work = Path(tmp)
        book = work / "book.studio"
        t = time.monotonic()
        info = _child("--child", "build", str(book), str(args.hours), args.take_format)
        print(f"Book: {info['seconds'] / 3600:.2f} h in {int(info['chapters'])} chapters, "
              f"{int(info['paragraphs'])} paragraphs of {args.take_format}, project file "
              f"{info['bytes'] / 1e6:.0f} MB (built in {time.monotonic() - t:.0f} s)")
        for fmt in args.formats.split(","):
            export = _child("--child", "export", str(book), fmt, str(work / f"book.{fmt}"),
                            "1" if args.check else "0")
            speed = f"({export['audio_s'] / export['seconds']:.0f}x real time)"
            if args.no_bare:
                print(f"{fmt.upper():4} wall: export {export['seconds']:7.1f} s {speed}; CPU "
                      f"{export['cpu_s']:.1f} s")
            else:
                bare = _child("--child", "bare", str(book), fmt, str(work / f"bare.{fmt}"),
                              str(export["gain_db"]))
                ratio = export["seconds"] / bare["seconds"]
                print(f"{fmt.upper():4} wall: export {export['seconds']:7.1f} s, bare ffmpeg "
                      f"{bare['seconds']:7.1f} s, ratio {ratio:.2f}x {speed}")
                print(f"     CPU:  export {export['cpu_s']:7.1f} s, bare ffmpeg "
                      f"{bare['cpu_s']:7.1f} s, ratio {export['cpu_s'] / bare['cpu_s']:.2f}x")
            print(f"     peak RSS: export process {export['peak_mb']:.0f} MB, its ffmpeg "
                  f"{export['ffmpeg_peak_mb']:.0f} MB; file {export['bytes'] / 1e6:.0f} MB")
            if args.check:
                print(f"     ACX check included: RMS {export['rms_db']:.1f} dB, true peak "
                      f"{export['true_peak_db']:.1f} dBTP")


if __name__ == "__main__":
    main()
