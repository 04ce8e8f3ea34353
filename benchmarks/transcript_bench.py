"""Offline alignment on long audio: speed (seconds of audio per CPU second) and peak memory.

Builds 2, 10 and 30 minutes of espeak-ng speech from the bundled sample book (its paragraphs
repeated), aligns the known text (DTW anchors, then PocketSphinx chunk by chunk), and compares
word starts with espeak's own word events. Each length runs in a fresh process so its peak
memory (ru_maxrss) is its own. CPU counts this process (espeak-ng synthesis included) and its
ffmpeg decoder.

The aligner's DTW speaks the text with espeak-ng's en-us voice, so speech in that same voice
flatters it; ``--voice`` reads the book in another espeak voice (e.g. ``en-gb-x-rp+f3``,
a British female variant) to see how the anchors hold up when the voices differ.

    .venv/bin/python benchmarks/transcript_bench.py [--voice VOICE] [MINUTES ...]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _paragraphs() -> list[str]:
    text = (ROOT / "resources" / "sample" / "aesop.md").read_text(encoding="utf-8")
    return [p.strip() for p in text.split("\n\n")
            if p.strip() and not p.lstrip().startswith(("#", "*"))]


def _make(path: Path, seconds: float, voice: str = "en-us") -> tuple[str, list[float]]:
    import numpy as np
    import soundfile as sf

    from studio.core import audio
    from studio.core.engines import SpeechRequest
    from studio.core.engines.offline import MODEL_ID, SAMPLE_RATE, OfflineEngine

    engine = OfflineEngine()
    paragraphs = _paragraphs()
    starts: list[float] = []
    texts: list[str] = []
    clock = 0.0
    gap = np.zeros(int(0.6 * SAMPLE_RATE), np.int16)
    with sf.SoundFile(path, "w", SAMPLE_RATE, 1, "PCM_16") as out:
        i = 0
        while clock < seconds:
            text = paragraphs[i % len(paragraphs)]
            i += 1
            result = engine.synthesize(SpeechRequest(text, voice, MODEL_ID))
            pcm, rate = audio.decode(result.audio, result.format)
            out.write(np.rint(pcm * 32767).astype(np.int16))
            out.write(gap)
            starts += [clock + w.start for w in result.word_timings]
            texts.append(text)
            clock += len(pcm) / rate + 0.6
    return "\n\n".join(texts), starts


def run_one(minutes: float, voice: str = "en-us") -> dict[str, float]:
    """Build and align ``minutes`` of speech in this process; return the figures."""
    import numpy as np

    from studio.core.transcript.align import align_text

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "speech.wav"
        text, starts = _make(path, minutes * 60, voice)
        import soundfile as sf

        duration = sf.info(str(path)).duration
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self0 = resource.getrusage(resource.RUSAGE_SELF)
        child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.perf_counter()
        words = align_text(path, text)
        wall = time.perf_counter() - wall
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (self1.ru_utime + self1.ru_stime - self0.ru_utime - self0.ru_stime
           + child1.ru_utime + child1.ru_stime - child0.ru_utime - child0.ru_stime)
    errors = np.abs(np.array([w.start for w in words]) - np.array(starts))
    return {
        "minutes": round(duration / 60, 1),
        "words": len(words),
        "cpu_s": round(cpu, 1),
        "wall_s": round(wall, 1),
        "x_realtime_cpu": round(duration / cpu, 1),
        "peak_rss_mb": round(self1.ru_maxrss / 1024, 1),
        "rss_before_align_mb": round(rss_before / 1024, 1),
        "median_start_error_ms": round(float(np.median(errors)) * 1000, 1),
        "p95_start_error_ms": round(float(np.percentile(errors, 95)) * 1000, 1),
        "unaligned_words": sum(1 for w in words if not w.aligned),
    }


def main() -> None:
    """Run each length in its own process and print a table."""
    args = sys.argv[1:]
    voice = "en-us"
    if len(args) >= 2 and args[0] == "--voice":
        voice, args = args[1], args[2:]
    if len(args) == 2 and args[0] == "--one":
        print(json.dumps(run_one(float(args[1]), voice)))
        return
    lengths = [float(a) for a in args] or [2.0, 10.0, 30.0]
    print(f"voice {voice}")
    print(f"{'audio':>8} {'words':>6} {'CPU s':>7} {'x RT':>6} {'peak MB':>8} "
          f"{'median':>7} {'p95':>6} {'missed':>6}")
    for minutes in lengths:
        proc = subprocess.run([sys.executable, __file__, "--voice", voice, "--one", str(minutes)],
                              capture_output=True, text=True, check=True, cwd=ROOT)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{r['minutes']:>6.1f} m {r['words']:>6} {r['cpu_s']:>7.1f} "
              f"{r['x_realtime_cpu']:>5.1f}x {r['peak_rss_mb']:>8.1f} "
              f"{r['median_start_error_ms']:>5.0f}ms {r['p95_start_error_ms']:>4.0f}ms "
              f"{r['unaligned_words']:>6}", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
