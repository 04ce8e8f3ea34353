"""Transcript editor: open and edit a one-hour transcript without stalls (offscreen Qt).

A synthetic one-hour transcript (600 segments, 9,000 words, three speakers, one hour of
16 kHz audio in memory) is opened in :class:`TranscriptEditorWindow`; the baseline in the
same run is the same text in a bare ``QPlainTextEdit`` and a 10-segment transcript in the
editor. Each figure is the synchronous time of the action plus the events and repaints that follow
(``processEvents``; opening also times a full ``grab()``), median and worst of the runs:

* open: building the window, then loading the transcript until its first paint, and the
  media (peak summaries of an hour);
* keystroke: one key typed in a segment's in-place editor vs. in the bare ``QPlainTextEdit``
  (key event + the repaint of what changed; no full grab);
* edits through the undo stack: commit a segment's text, split, merge, retime, undo, redo,
  reassign a speaker, recolour a speaker (every row repaints);
* a playhead tick during playback (highlight the word under it, keep it in view, move the
  waveform's playhead), and a seek to a random time.

    .venv/bin/python benchmarks/transcript_ui_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QWidget  # noqa: E402

from studio.core.transcript.model import (  # noqa: E402
    Segment,
    SegmentId,
    Transcript,
    Word,
    WordType,
    add_speaker,
    merge_segments,
    new_id,
    reassign_segment,
    recolour_speaker,
    retime_segment,
    set_segment_text,
    split_segment,
)
from studio.ui.player import NullSink  # noqa: E402
from studio.ui.transcript.media import media_from_samples  # noqa: E402
from studio.ui.transcript.text_view import SegmentEditor  # noqa: E402
from studio.ui.transcript.window import TranscriptEditorWindow  # noqa: E402

RATE = 16000
VOCAB = ("the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while",
         "narrators", "read", "chapters", "aloud", "slowly", "and", "listeners", "follow")


def synthetic(segments: int, words: int, seconds: float) -> Transcript:
    """Return a transcript of ``segments`` x ``words`` spread evenly over ``seconds``."""
    rnd = random.Random(7)
    t = Transcript()
    for name in ("Alice", "Bob", "Narrator"):
        add_speaker(t, name)
    per = seconds / segments
    for i in range(segments):
        start = i * per + 0.2
        step = (per - 0.8) / words
        out: list[Word] = []
        text = ""
        for k in range(words):
            w = rnd.choice(VOCAB) + ("." if k == words - 1 else "")
            if text:
                text += " "
            out.append(Word(w, start + k * step, start + (k + 0.8) * step, WordType.WORD, 0.9,
                            len(text), len(text) + len(w)))
            text += w
        t.segments.append(Segment(SegmentId(new_id()), start, start + per - 0.5,
                                  t.speakers[(i // 4) % 3].id, text, tuple(out)))
    t.duration = seconds
    return t


def timed(fn: Callable[[], object], paint: QWidget | None, app: QApplication) -> float:
    """Return ms for ``fn`` plus the events and repaints it causes (and a full ``grab``)."""
    t0 = time.perf_counter()
    fn()
    app.processEvents()  # delivers the update requests: what changed is repainted here
    if paint is not None:
        paint.grab()
    return (time.perf_counter() - t0) * 1000


def row(label: str, values: list[float], baseline: list[float] | None = None) -> None:
    med, worst = statistics.median(values), max(values)
    text = f"  {label:<44} median {med:8.2f} ms   worst {worst:8.2f} ms"
    if baseline:
        text += f"   (baseline median {statistics.median(baseline):6.2f} ms)"
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    runs = args.runs

    hour = synthetic(600, 15, 3600.0)
    small = synthetic(10, 15, 60.0)
    words = sum(1 for _ in hour.words())
    print(f"One-hour transcript: {len(hour.segments)} segments, {words:,} words, "
          f"{len(hour.text):,} characters; 1 h of 16 kHz audio.")

    # -- baseline: a bare QPlainTextEdit with the same text -------------------------------------
    plain = QPlainTextEdit()
    plain.resize(900, 500)
    plain.show()
    app.processEvents()
    base_open = [timed(lambda: plain.setPlainText(hour.text), plain, app) for _ in range(3)]
    cursor = plain.textCursor()
    cursor.setPosition(len(hour.text) // 2)
    plain.setTextCursor(cursor)
    base_key = [timed(lambda: QTest.keyClick(plain, Qt.Key.Key_A), None, app)
                for _ in range(runs)]

    # -- the editor -------------------------------------------------------------------------------
    print("\nOpen")
    make: list[float] = []
    windows: list[TranscriptEditorWindow] = []
    for _ in range(3):
        t0 = time.perf_counter()
        w = TranscriptEditorWindow(player_sink=NullSink())
        w.ask_before_closing = False
        w.resize(1280, 800)
        w.show()
        app.processEvents()
        w.grab()
        make.append((time.perf_counter() - t0) * 1000)
        windows.append(w)
    row("empty editor window, to first paint", make)
    for w in windows[1:]:
        w.close()
    window = windows[0]
    samples = (np.random.default_rng(0).standard_normal(3600 * RATE) * 3000).astype(np.int16)
    t0 = time.perf_counter()
    media = media_from_samples(samples, RATE, label="hour")
    peaks_ms = (time.perf_counter() - t0) * 1000
    row("1 h media: peak summaries (decoded audio)", [peaks_ms])
    row("1 h media: waveform + regions, first paint",
        [timed(lambda: window.set_media(media), window, app)])
    opens_small = [timed(lambda: window.set_transcript(small.copy()), window, app)
                   for _ in range(3)]
    opens = [timed(lambda: window.set_transcript(hour.copy()), window, app) for _ in range(3)]
    row("10-segment transcript, to first paint", opens_small)
    row("1 h transcript (600 segments), to first paint", opens, base_open)
    print(f"  {'':<44} bare QPlainTextEdit setPlainText of the same text: "
          f"{statistics.median(base_open):.1f} ms")

    t = window.transcript
    view = window.text_view
    middle = t.segments[300].id
    print("\nTyping (one key, to repaint)")
    view.edit_segment(middle, 10)
    app.processEvents()
    editor = window.findChild(SegmentEditor)
    assert editor is not None
    keys = [timed(lambda: QTest.keyClick(editor, Qt.Key.Key_A), None, app) for _ in range(runs)]
    row("segment editor keystroke (1 h transcript)", keys, base_key)
    row("bare QPlainTextEdit keystroke (1 h of text)", base_key)
    view.setFocus()  # commits the edit
    app.processEvents()

    print("\nEdits through the undo stack (to repaint)")
    rnd = random.Random(3)

    def pick() -> SegmentId:
        return t.segments[rnd.randrange(50, len(t.segments) - 50)].id

    def edit_text() -> None:
        sid = pick()
        window.doc.edit("text", lambda tr: set_segment_text(tr, sid, tr.segment(sid).text
                                                              + " more"))

    def split() -> None:
        sid = pick()
        window.doc.edit("split", lambda tr: split_segment(tr, sid, tr.segment(sid).text
                                                          .index(" ", 20)))

    def merge() -> None:
        for _ in range(50):
            i = rnd.randrange(50, len(t.segments) - 50)
            if t.segments[i].speaker_id == t.segments[i + 1].speaker_id:
                sid = t.segments[i].id
                window.doc.edit("merge", lambda tr, sid=sid: merge_segments(tr, sid))
                return

    def retime() -> None:
        sid = pick()
        window.doc.edit("retime", lambda tr: retime_segment(
            tr, sid, tr.segment(sid).start + 0.05, tr.segment(sid).end - 0.05))

    def reassign() -> None:
        sid = pick()
        to = t.speakers[rnd.randrange(3)].id
        window.doc.edit("reassign", lambda tr: reassign_segment(tr, sid, to))

    def recolour() -> None:
        sid = t.speakers[0].id
        colour = f"#{rnd.randrange(0x1000000):06x}"
        window.doc.edit("recolour", lambda tr: recolour_speaker(tr, sid, colour))

    for label, fn in (("commit a segment's text", edit_text), ("split a segment", split),
                      ("merge two segments", merge), ("retime a segment", retime),
                      ("reassign a segment's speaker", reassign),
                      ("recolour a speaker (all rows)", recolour),
                      ("undo", window.doc.undo_stack.undo),
                      ("redo", window.doc.undo_stack.redo)):
        row(label, [timed(fn, None, app) for _ in range(runs)])

    print("\nPlayback")
    clock = [1800.0]

    def tick() -> None:  # what the player does ~30 times a second at 1x
        clock[0] += 0.033
        window._on_player_position(clock[0])

    window.player._state = "playing"  # follow as during playback (no audio is played)
    row("playhead tick while playing (highlight, follow)", [timed(tick, None, app)
                                                            for _ in range(runs * 5)])
    row("seek to a random time (highlight, scroll, waveform)",
        [timed(lambda: window._on_player_position(rnd.uniform(0, 3600)), None, app)
         for _ in range(runs)])
    window.player._state = "stopped"
    window.close()
    plain.close()


if __name__ == "__main__":
    main()
