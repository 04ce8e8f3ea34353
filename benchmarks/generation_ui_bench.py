"""How the window holds up while it narrates a long chapter (offscreen Qt, offline engine).

Opens a :class:`~studio.ui.main_window.MainWindow` on a one-chapter project and, with a
10 ms ``QTimer`` recording the gaps between its ticks (an event-loop stall shows as a long
gap), times:

* the synchronous part of Generate Chapter, the time until the render runs (a long chapter
  is planned in the background) and the longest stall meanwhile;
* the longest stall and the paragraphs narrated per second over the first ``--seconds`` of
  the render;
* the synchronous part of Stop and the longest stall until the render has ended;
* the synchronous part of Regenerate Chapter (a forced plan of every paragraph), then Stop.

It runs a 50-paragraph chapter first (the baseline: the same window and engine with little
to keep up to date) and then the long one (5,000 paragraphs by default), and prints the
ratios. The aim: no stall over 200 ms, and the long chapter narrated as fast as the short one.

    .venv/bin/python benchmarks/generation_ui_bench.py [--paragraphs 5000] [--seconds 15]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
_HOME = tempfile.mkdtemp(prefix="studio-bench-home-")
for _var, _sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                   ("XDG_CACHE_HOME", "cache"), ("XDG_STATE_HOME", "state")):
    os.environ[_var] = os.path.join(_HOME, _sub)
os.environ.pop("ELEVENLABS_API_KEY", None)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QCoreApplication, QEventLoop, QStandardPaths, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

SENTENCE = "The river ran on in the dark, past the mills and the sleeping town. "


class StallMeter:
    """Record when a 10 ms timer fires; a long gap between ticks is a stalled event loop."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))
        self.timer.start()

    def reset(self) -> float:
        self.ticks.clear()
        start = time.perf_counter()
        self.ticks.append(start)
        return start

    def worst(self) -> float:
        """Return the longest gap (seconds) since the last reset, up to now."""
        points = [*self.ticks, time.perf_counter()]
        return max((b - a for a, b in itertools.pairwise(points)), default=0.0)


def run_loop(ms: int, until: object = None) -> None:
    """Run the real event loop for ``ms`` (or until ``until()`` is true)."""
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        loop = QEventLoop()
        QTimer.singleShot(min(50, max(1, int((end - time.monotonic()) * 1000))), loop.quit)
        loop.exec()
        if callable(until) and until():
            return


def build(folder: Path, paragraphs: int) -> Path:
    """Write a one-chapter project of ``paragraphs`` un-narrated paragraphs; return its path."""
    from studio.core import model as m
    from studio.core.importing.base import default_voice
    from studio.core.model import Block, BlockId, Chapter, ChapterId, Project
    from studio.core.store import ProjectStore

    project = Project(title="Bench")
    voice = default_voice()
    m.add_voice(project, voice)
    project.default_voice_id = voice.id
    project.chapters.append(Chapter(ChapterId("c0"), "Long chapter", [
        Block(BlockId(f"b{i}"), f"Paragraph {i + 1}. " + SENTENCE * (1 + i % 3))
        for i in range(paragraphs)]))
    path = folder / f"gen{paragraphs}.studio"
    ProjectStore.create(path, project).close()
    return path


def bench(folder: Path, paragraphs: int, seconds: float) -> dict[str, float]:
    """Generate, render for ``seconds``, stop, regenerate, stop; return the figures."""
    from studio.ui.main_window import MainWindow
    from studio.ui.player import NullSink

    path = build(folder, paragraphs)
    window = MainWindow(player_sink=NullSink())
    window.resize(1280, 800)
    window.show()
    window.open_project(path)
    run_loop(1500)
    meter = StallMeter()
    controller = window.controller
    assert controller is not None and window.project is not None
    blocks = window.project.chapters[0].blocks

    def done() -> int:
        return sum(1 for b in blocks if b.current_take_id)

    out: dict[str, float] = {}
    start = meter.reset()
    window.generate_chapter_action.trigger()
    out["generate_sync"] = time.perf_counter() - start
    run_loop(60_000, until=lambda: controller.running)  # planned, perhaps in the background
    out["generate_start"] = time.perf_counter() - start
    out["generate_stall"] = meter.worst()
    begun, done_at_start = time.perf_counter(), done()
    meter.reset()
    run_loop(int(seconds * 1000), until=lambda: not controller.running)
    out["render_stall"] = meter.worst()
    out["paragraphs_per_s"] = (done() - done_at_start) / (time.perf_counter() - begun)

    start = meter.reset()
    window.stop_action.trigger()
    out["stop_sync"] = time.perf_counter() - start
    run_loop(60_000, until=lambda: not controller.running)
    run_loop(500)
    out["stop_stall"] = meter.worst()

    start = meter.reset()
    window.regenerate_chapter_action.trigger()
    out["regenerate_sync"] = time.perf_counter() - start
    run_loop(60_000, until=lambda: controller.running)
    out["regenerate_start"] = time.perf_counter() - start
    run_loop(2000)
    out["regenerate_stall"] = meter.worst()
    window.stop_action.trigger()
    run_loop(60_000, until=lambda: not controller.running)
    run_loop(300)
    window.close()
    meter.timer.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv)
    QCoreApplication.setOrganizationName("NarratorStudioBench")
    QCoreApplication.setApplicationName("NarratorStudioBench")
    QStandardPaths.setTestModeEnabled(True)
    # Regenerate asks first; the bench always says yes.
    QMessageBox.question = staticmethod(  # type: ignore[method-assign]
        lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert app is not None
    from studio.core.settings import AppSettings, save_settings

    # The offline engine even where a keyring holds a key: nothing to pay, no network.
    save_settings(AppSettings(engine="offline"))
    folder = Path(tempfile.mkdtemp(prefix="studio-genbench-"))
    sizes = (50, args.paragraphs)
    results = {n: bench(folder, n, args.seconds) for n in sizes}
    small, big = results[sizes[0]], results[sizes[1]]
    rows = (
        ("Generate Chapter, synchronous part", "generate_sync", "ms"),
        ("Generate Chapter, until the render runs", "generate_start", "ms"),
        ("longest stall until then", "generate_stall", "ms"),
        (f"longest stall, first {args.seconds:.0f} s of the render", "render_stall", "ms"),
        ("paragraphs narrated per second", "paragraphs_per_s", "/s"),
        ("Stop, synchronous part", "stop_sync", "ms"),
        ("longest stall until the render ended", "stop_stall", "ms"),
        ("Regenerate Chapter, synchronous part", "regenerate_sync", "ms"),
        ("Regenerate Chapter, until the render runs", "regenerate_start", "ms"),
        ("longest stall until then and 2 s on", "regenerate_stall", "ms"),
    )
    print(f"{'':42s} {sizes[0]:>10,d} ¶ {sizes[1]:>10,d} ¶   ratio")
    for label, key, unit in rows:
        scale = 1000 if unit == "ms" else 1
        a, b = small[key] * scale, big[key] * scale
        ratio = b / a if a else float("inf")
        print(f"{label:42s} {a:10.1f} {unit:2s}{b:10.1f} {unit:2s} {ratio:7.2f}")
    worst = max(big[k] for k in ("generate_sync", "generate_stall", "render_stall", "stop_sync",
                                 "stop_stall", "regenerate_sync", "regenerate_stall"))
    print(f"worst stall with {sizes[1]:,d} paragraphs: {worst * 1000:.0f} ms (aim: under 200 ms)")


if __name__ == "__main__":
    main()
