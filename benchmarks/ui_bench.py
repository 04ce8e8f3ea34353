"""Chapter waveform and paragraph list opening times (offscreen Qt).

For a 1-minute and a 10-hour chapter stored in project files (synthetic peak summaries,
no audio), times opening the chapter's waveform as the window does
(``PlayerBar.set_chapter``: timeline, coarse summaries, lazily built fine envelope) plus
the first paint (``widget.grab()``), median of 5, and prints the 10-hour / 1-minute ratio
(aim < 2).
Then times opening a 5,000-paragraph chapter in ``BlockListModel`` + ``QListView`` with
the app's ``BlockDelegate`` until the first paint, and scrolling it a page at a time.
Last, keystroke-to-repaint latency while editing a paragraph in the middle of that chapter
(the window's in-place editor against a bare ``QPlainTextEdit`` holding the same text,
measured in the same run), and the latency of committing an edit (undoable command, save
to the project file, repaint of the row).
The "window" section drives the whole main window (offscreen) on a project whose chapter has
5,000 narrated paragraphs, and on a 50-paragraph one as the baseline in the same run: open
the project, switch chapters, lock all, split, undo, find "the" (search as you type), Replace
All, delete the chapter and undo that. For each it prints the synchronous time of the action
and the longest gap of the event loop after it (a 5 ms timer that stops ticking while the
window is frozen), and the 5,000 / 50 ratios. Aim: no gap over 200 ms.

    .venv/bin/python benchmarks/ui_bench.py [--save DIR] [--only window]
"""

from __future__ import annotations

import argparse
import itertools
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


def chapter_file(folder: Path, label: str, seconds: float, paragraphs: int) -> Path:
    """A project whose one chapter holds ``paragraphs`` takes filling ``seconds``.

    The takes carry real-sized peak summaries (what opening a chapter reads) and a
    placeholder audio blob: the waveform never decodes audio, so none is needed.
    """
    from studio.core.model import Take, TakeId, inputs_hash
    from studio.core.store import ProjectStore

    coarse = segments(seconds, paragraphs, 65536)
    fine = segments(seconds, paragraphs, 256)
    project = Project(title=label)
    chapter = Chapter(ChapterId("c0"), label, [])
    project.chapters.append(chapter)
    for i in range(paragraphs):
        block = Block(BlockId(f"b{i}"), f"Paragraph {i + 1}.")
        chapter.blocks.append(block)
        duration = len(fine[i][1].data) // 2 * 256 / RATE
        take = Take(TakeId(f"t{i}"), block.id, inputs_hash(project, block), "wav_44100",
                    duration, audio=b"RIFF", peaks_fine=fine[i][1], peaks_coarse=coarse[i][1])
        block.takes.append(take)
        block.current_take_id = take.id
    project.settings["paragraph_pause_s"] = PAUSE
    path = folder / f"{label.replace(' ', '_')}.studio"
    ProjectStore.create(path, project).close()
    return path


def bench_waveform(app: QApplication, label: str, seconds: float, paragraphs: int,
                   folder: Path, save: Path | None) -> float:
    """Open the chapter's waveform from the project file as the window does; return seconds.

    Times ``PlayerBar.set_chapter`` (timeline, coarse summaries in one query, the fine
    envelope only where the detail view looks) plus the first paint (``grab()``).
    """
    from studio.core.store import ProjectStore
    from studio.ui.player import NullSink
    from studio.ui.player_bar import PlayerBar
    from studio.ui.session import ProjectSession

    path = chapter_file(folder, label, seconds, paragraphs)
    store = ProjectStore.open(path)
    session = ProjectSession(store, store.load())
    chapter = session.project.chapters[0]
    view = WaveformView()
    bar = PlayerBar(view, sink=NullSink())
    view.resize(1200, 400)
    view.show()
    app.processEvents()
    times: list[float] = []
    for i in range(RUNS):
        start = time.perf_counter()
        bar.set_chapter(session, chapter)
        image = view.grab()
        times.append(time.perf_counter() - start)
        if save is not None and i == 0:
            image.save(str(save / f"waveform_{label.replace(' ', '_')}.png"))
        bar.set_chapter(None, None)
        app.processEvents()
    total = statistics.median(times)
    print(f"waveform {label:>8}: {paragraphs:5d} takes, {seconds / 3600:5.2f} h | open from the "
          f"project file + first paint (median of {RUNS}) {total * 1000:7.1f} ms")
    view.close()
    store.close()
    return total


def bench_envelope(label: str, seconds: float, paragraphs: int) -> float:
    """The eager alternative, for reference: every fine bin laid out before the first paint."""
    fine_segs = segments(seconds, paragraphs, 256)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        env = chapter_envelope(fine_segs, "fine")
        times.append(time.perf_counter() - start)
    total = statistics.median(times)
    print(f"  (eager fine envelope of {label}: {len(env):,d} bins in {total * 1000:.1f} ms — "
          f"not done when opening a chapter)")
    return total


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
    model.set_chapter(project, chapter)
    view.grab()
    bar = view.verticalScrollBar()
    steps = []
    for _ in range(40):  # page down through the chapter, painting each page
        start = time.perf_counter()
        bar.setValue(bar.value() + bar.pageStep())
        view.viewport().repaint()
        steps.append(time.perf_counter() - start)
    print(f"paragraph list: scroll one page + repaint: median {statistics.median(steps) * 1000:.1f}"
          f" ms, worst {max(steps) * 1000:.1f} ms (40 pages)")
    window.close()


def _type_latency(app: QApplication, editor: object, keys: int = 60) -> list[float]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QPlainTextEdit

    assert isinstance(editor, QPlainTextEdit)
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    out = []
    for i in range(keys):
        start = time.perf_counter()
        QTest.keyClick(editor, Qt.Key.Key_A if i % 2 == 0 else Qt.Key.Key_Space)
        editor.viewport().repaint()
        out.append(time.perf_counter() - start)
    return out


def bench_typing(app: QApplication, paragraphs: int, folder: Path) -> None:
    import tempfile

    from PySide6.QtWidgets import QAbstractItemDelegate, QAbstractItemView, QPlainTextEdit

    from studio.core.store import ProjectStore
    from studio.ui.main_window import MainWindow

    sentence = "The river ran on in the dark, past the mills and the sleeping town. "
    chapter = Chapter(ChapterId("c0"), "Long chapter", [
        Block(BlockId(f"b{i}"), f"Paragraph {i + 1}. " + sentence * (2 + i % 7))
        for i in range(paragraphs)
    ])
    project = Project(title="Bench", chapters=[chapter])
    path = Path(tempfile.mkdtemp(dir=folder)) / "bench.studio"
    ProjectStore.create(path, project).close()
    window = MainWindow()
    window.open_project(path)
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    view, model = window.block_view, window.blocks_model
    row = paragraphs // 2
    index = model.index(row)
    view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
    view.setCurrentIndex(index)
    view.edit(index)
    app.processEvents()
    editor = view.findChild(QPlainTextEdit, "paragraphEditor")
    assert editor is not None, "the in-place editor did not open"
    in_window = _type_latency(app, editor)
    view.closeEditor(editor, QAbstractItemDelegate.EndEditHint.RevertModelCache)
    bare = QPlainTextEdit()
    bare.setPlainText(chapter.blocks[row].text)
    bare.resize(900, 120)
    bare.show()
    app.processEvents()
    baseline = _type_latency(app, bare)
    bare.close()
    a, b = statistics.median(in_window), statistics.median(baseline)
    print(f"keystroke -> repaint, paragraph {row + 1:,d} of {paragraphs:,d}: median "
          f"{a * 1000:.2f} ms, worst {max(in_window) * 1000:.2f} ms; bare QPlainTextEdit "
          f"{b * 1000:.2f} ms; ratio {a / b:.2f}")
    commits = []
    for i in range(20):  # commit an edit: command + save + repaint of the row
        start = time.perf_counter()
        model.setData(index, f"Edited {i}. " + chapter.blocks[row].text)
        view.viewport().repaint()
        commits.append(time.perf_counter() - start)
    print(f"commit an edit (undoable command, save, repaint): median "
          f"{statistics.median(commits) * 1000:.1f} ms, worst {max(commits) * 1000:.1f} ms")
    window.close()


SENTENCE = "The river ran on in the dark, past the mills and the sleeping town. "
AUDIO_BYTES = 4096  # per take: small, but loading it for every take would show


def window_project(folder: Path, paragraphs: int) -> Path:
    """A project with a narrated chapter of ``paragraphs`` paragraphs and a short one."""
    from studio.core.importing.base import default_voice
    from studio.core.model import Take, TakeId, add_voice, inputs_hash
    from studio.core.store import ProjectStore

    seconds = 36_000.0 * paragraphs / 5000
    coarse = segments(seconds, paragraphs, 65536)
    fine = segments(seconds, paragraphs, 256)
    project = Project(title=f"Window {paragraphs}")
    voice = default_voice()
    add_voice(project, voice)
    project.default_voice_id = voice.id
    chapter = Chapter(ChapterId("c0"), "Long chapter", [])
    project.chapters.append(chapter)
    audio = b"RIFF" + bytes(AUDIO_BYTES - 4)
    for i in range(paragraphs):
        block = Block(BlockId(f"b{i}"), f"Paragraph {i + 1}. " + SENTENCE * (2 + i % 7))
        chapter.blocks.append(block)
        duration = len(fine[i][1].data) // 2 * 256 / RATE
        take = Take(TakeId(f"t{i}"), block.id, inputs_hash(project, block), "wav_44100",
                    duration, audio=audio, peaks_fine=fine[i][1], peaks_coarse=coarse[i][1])
        block.takes.append(take)
        block.current_take_id = take.id
    project.chapters.append(Chapter(ChapterId("c1"), "Short chapter",
                                    [Block(BlockId("s0"), "Short one. " + SENTENCE)]))
    project.settings["paragraph_pause_s"] = PAUSE
    path = folder / f"window_{paragraphs}.studio"
    ProjectStore.create(path, project).close()
    return path


class _Gaps:
    """Time an action and the longest stall of the event loop after it (a 5 ms timer)."""

    def __init__(self, app: QApplication) -> None:
        from PySide6.QtCore import QTimer

        self.app = app
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))
        self.timer.start()

    def pump(self, seconds: float) -> None:
        from PySide6.QtCore import QEventLoop

        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)
            time.sleep(0.002)

    def measure(self, action: object, settle: float = 1.0) -> tuple[float, float]:
        assert callable(action)
        self.pump(0.1)
        self.ticks.clear()
        start = time.perf_counter()
        action()
        sync = time.perf_counter() - start
        self.pump(settle)
        points = [start, *self.ticks]
        gap = max(b - a for a, b in itertools.pairwise(points))
        return sync, gap


def bench_window_actions(app: QApplication, folder: Path, paragraphs: int
                         ) -> dict[str, tuple[float, float]]:
    """Run the window's actions on a ``paragraphs``-paragraph chapter; return sync and gap."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QAbstractItemView, QPlainTextEdit

    from studio.ui import commands
    from studio.ui.main_window import MainWindow
    from studio.ui.player import NullSink

    path = window_project(folder, paragraphs)
    gaps = _Gaps(app)
    window = MainWindow(player_sink=NullSink())
    window.resize(1280, 800)
    window.show()
    gaps.pump(0.3)
    view = window.block_view
    out: dict[str, tuple[float, float]] = {}
    ctrl = Qt.KeyboardModifier.ControlModifier
    out["open the project"] = gaps.measure(lambda: window.open_project(path), 2.0)
    window.chapter_view.setCurrentIndex(window.chapters_model.index(1))
    gaps.pump(0.5)
    out["switch to the chapter"] = gaps.measure(
        lambda: window.chapter_view.setCurrentIndex(window.chapters_model.index(0)), 2.0)
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_A, ctrl)
    out["lock all (Ctrl+A, Ctrl+L)"] = gaps.measure(
        lambda: QTest.keyClick(view, Qt.Key.Key_L, ctrl))
    assert all(b.locked for b in window.blocks_model.chapter.blocks)
    out["undo lock all"] = gaps.measure(lambda: window.undo_action.trigger())
    middle = window.blocks_model.index(paragraphs // 2)
    view.clearSelection()
    view.setCurrentIndex(middle)
    for _ in range(100):  # wait for the layout to reach the middle row
        view.scrollTo(middle, QAbstractItemView.ScrollHint.PositionAtCenter)
        gaps.pump(0.1)
        if not view.visualRect(middle).isEmpty():
            break
    view.edit(middle)
    gaps.pump(0.2)

    def split() -> None:
        editor = next(e for e in view.findChildren(QPlainTextEdit) if e.isVisible())
        cursor = editor.textCursor()
        cursor.setPosition(15)
        editor.setTextCursor(cursor)
        window.editor_actions.split_action.trigger()

    count = len(window.blocks_model.chapter.blocks)
    out["split a paragraph"] = gaps.measure(split)
    assert len(window.blocks_model.chapter.blocks) == count + 1
    out["undo split"] = gaps.measure(lambda: window.undo_action.trigger())
    panel = window.find_panel  # type: ignore[attr-defined]

    def find_the() -> None:
        window.find_action.trigger()  # type: ignore[attr-defined]
        panel.find_edit.setText("the")

    out['find "the" (as you type)'] = gaps.measure(find_the, 1.5)
    out["matches"] = (len(panel.matches), 0.0)

    def replace_all() -> None:
        panel.replace_edit.setText("THE")
        panel.replace_all()

    out["replace all"] = gaps.measure(replace_all, 1.5)
    out["undo replace all"] = gaps.measure(lambda: window.undo_action.trigger(), 1.5)
    session = window.session
    assert session is not None
    out["delete the chapter"] = gaps.measure(
        lambda: session.push(commands.remove_chapter(session, ChapterId("c0"))), 1.5)
    out["undo delete chapter"] = gaps.measure(lambda: window.undo_action.trigger(), 1.5)
    assert len(session.project.chapters) == 2
    window.close()
    gaps.timer.stop()
    return out


def bench_window(app: QApplication, folder: Path) -> None:
    """Print the window's actions on 5,000 paragraphs against 50, with ratios."""
    from PySide6.QtCore import QStandardPaths

    QStandardPaths.setTestModeEnabled(True)  # the window's settings and recent files
    base = bench_window_actions(app, folder, 50)
    big = bench_window_actions(app, folder, 5000)
    print(f"window: {'action':28s} {'5,000 paragraphs':>22s} {'50 paragraphs':>22s} "
          f"{'ratio (gap)':>12s}")
    print(f"window: {'':28s} {'sync':>10s} {'max gap':>11s} {'sync':>10s} {'max gap':>11s}")
    for name, (sync, gap) in big.items():
        b_sync, b_gap = base[name]
        if name == "matches":
            print(f"window: {'  (matches found)':28s} {int(sync):>10,d} {'':11s} "
                  f"{int(b_sync):>10,d}")
            continue
        print(f"window: {name:28s} {sync * 1000:8.0f} ms {gap * 1000:8.0f} ms "
              f"{b_sync * 1000:7.0f} ms {b_gap * 1000:8.0f} ms {gap / b_gap:11.1f}×")
    worst = max(gap for name, (_, gap) in big.items() if name != "matches")
    print(f"window: longest stall on 5,000 paragraphs {worst * 1000:.0f} ms (aim < 200 ms)")


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", type=Path, help="save the first paints as PNGs here")
    parser.add_argument("--only", choices=["window"], help="run only this section")
    args = parser.parse_args()
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory() as folder:
        if args.only == "window":
            bench_window(app, Path(folder))
            return
        short = bench_waveform(app, "1 min", 60.0, 10, Path(folder), args.save)
        long = bench_waveform(app, "10 h", 36_000.0, 5000, Path(folder), args.save)
        print(f"waveform ratio 10 h / 1 min: {long / short:.2f} (aim < 2)")
        bench_envelope("10 h", 36_000.0, 5000)
        bench_blocks(app, 5000)
        bench_typing(app, 5000, Path(folder))
        bench_window(app, Path(folder))


if __name__ == "__main__":
    main()
