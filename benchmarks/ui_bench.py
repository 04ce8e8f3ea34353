"""Chapter waveform and paragraph list opening times (offscreen Qt).

For a 1-minute and a 10-hour chapter (synthetic peak summaries, no audio), times
``chapter_envelope`` (coarse + fine) + ``WaveformView.set_chapter`` + the first paint
(``widget.grab()``), median of 5, and prints the 10-hour / 1-minute ratio (aim < 2).
Then times opening a 5,000-paragraph chapter in ``BlockListModel`` + ``QListView`` with
the app's ``BlockDelegate`` until the first paint.

    .venv/bin/python benchmarks/ui_bench.py [--save DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from studio.core.model import Block, BlockId, Chapter, ChapterId, PeakSummary, Project  # noqa: E402
from studio.core.waveform import chapter_envelope  # noqa: E402
from studio.ui.waveform import WaveformView  # noqa: E402

RATE = 44100
PAUSE = 0.5
RUNS = 5


def segments(seconds: float, paragraphs: int, spb: int) -> list[tuple[float, PeakSummary]]:
    """Peak summaries of ``paragraphs`` takes filling ``seconds`` with a pause after each."""
    slot = seconds / paragraphs
    rng = np.random.default_rng(paragraphs)
    out = []
    for i in range(paragraphs):
        bins = int(np.ceil((slot - PAUSE) * RATE / spb * rng.uniform(0.9, 1.0)))
        level = (20 + 100 * np.abs(np.sin(np.arange(bins) / 40.0))).astype(np.int8)
        data = np.column_stack((-level, level)).astype(np.int8).tobytes()
        out.append((i * slot, PeakSummary(spb, RATE, data)))
    return out


def bench_waveform(app: QApplication, label: str, seconds: float, paragraphs: int,
                   save: Path | None) -> tuple[float, float]:
    coarse_segs = segments(seconds, paragraphs, 65536)
    fine_segs = segments(seconds, paragraphs, 256)
    view = WaveformView()
    view.resize(1200, 400)
    view.show()
    app.processEvents()

    parts: dict[str, list[float]] = {"envelope": [], "set_chapter": [], "paint": []}

    def run() -> None:
        t0 = time.perf_counter()
        coarse = chapter_envelope(coarse_segs, "coarse")
        fine = chapter_envelope(fine_segs, "fine")
        t1 = time.perf_counter()
        view.set_chapter(coarse, fine)
        t2 = time.perf_counter()
        image = view.grab()
        t3 = time.perf_counter()
        parts["envelope"].append(t1 - t0)
        parts["set_chapter"].append(t2 - t1)
        parts["paint"].append(t3 - t2)
        if save is not None:
            image.save(str(save / f"waveform_{label.replace(' ', '_')}.png"))

    for _ in range(RUNS):
        run()
        view.clear()
        app.processEvents()
    total = statistics.median(
        e + s + p for e, s, p in zip(*parts.values(), strict=True)
    )
    fine_len = len(chapter_envelope(fine_segs, "fine"))
    print(f"waveform {label:>8}: {paragraphs:5d} takes, {fine_len:9,d} fine bins | "
          f"envelope {statistics.median(parts['envelope']) * 1000:7.1f} ms, "
          f"set_chapter {statistics.median(parts['set_chapter']) * 1000:6.1f} ms, "
          f"first paint {statistics.median(parts['paint']) * 1000:6.1f} ms | "
          f"total (median of {RUNS}) {total * 1000:7.1f} ms")
    view.close()
    view.deleteLater()
    return total, total - statistics.median(parts["envelope"])


def bench_blocks(app: QApplication, paragraphs: int) -> None:
    sentence = "The river ran on in the dark, past the mills and the sleeping town. "
    chapter = Chapter(ChapterId("c0"), "Long chapter", [
        Block(BlockId(f"b{i}"), f"Paragraph {i + 1}. " + sentence * (2 + i % 7))
        for i in range(paragraphs)
    ])
    project = Project(title="Bench", chapters=[chapter])
    from studio.ui.main_window import MainWindow

    window = MainWindow()  # the window's own paragraph view, with its settings
    model, view = window.blocks_model, window.block_view
    window.resize(1280, 800)
    window.show()
    app.processEvents()

    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        model.set_chapter(project, chapter)
        view.grab()
        times.append(time.perf_counter() - start)
        model.set_chapter(None, None)
        app.processEvents()
    total = statistics.median(times)
    print(f"paragraph list: {paragraphs:,d} paragraphs, set_chapter + first paint "
          f"(median of {RUNS}) {total * 1000:7.1f} ms")
    window.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", type=Path, help="save the first paints as PNGs here")
    args = parser.parse_args()
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    short = bench_waveform(app, "1 min", 60.0, 10, args.save)
    long = bench_waveform(app, "10 h", 36_000.0, 5000, args.save)
    print(f"waveform ratio 10 h / 1 min: {long[0] / short[0]:.2f} with the envelope build, "
          f"{long[1] / short[1]:.2f} for set_chapter + first paint only (aim < 2)")
    bench_blocks(app, 5000)


if __name__ == "__main__":
    main()
