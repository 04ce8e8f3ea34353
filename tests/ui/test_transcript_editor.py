"""The transcript editor window: follow-along highlight, click to seek, undoable edits."""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtTest import QTest

from studio.core.errors import CancelToken
from studio.core.transcript import io as tio
from studio.core.transcript.align import AlignedWord
from studio.core.transcript.model import (
    Segment,
    SegmentId,
    Transcript,
    Word,
    WordTimes,
    WordType,
    add_speaker,
    new_id,
    set_segment_text,
)
from studio.core.transcript.subtitles import SubtitleRules
from studio.ui.player import NullSink
from studio.ui.transcript.media import media_from_samples
from studio.ui.transcript.text_view import SegmentEditor
from studio.ui.transcript.window import TranscriptEditorWindow, free_span

RATE = 16000
VOCAB = ("the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while",
         "narrators", "read", "chapters", "aloud", "slowly", "and", "listeners", "follow")


@pytest.fixture(autouse=True)
def _env(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)


def synthetic(segments: int = 6, words: int = 6, seed: int = 1, gap: float = 0.5) -> Transcript:
    """Return a transcript with known word times: three speakers taking turns."""
    rnd = random.Random(seed)
    t = Transcript()
    for name in ("Alice", "Bob", "Narrator"):
        add_speaker(t, name)
    clock = 0.3
    for i in range(segments):
        out: list[Word] = []
        text = ""
        for k in range(words):
            w = rnd.choice(VOCAB) + ("." if k == words - 1 else "")
            if text:
                out.append(Word(" ", clock - 0.05, clock, WordType.SPACING, None, len(text),
                                len(text) + 1))
                text += " "
            d = 0.15 + 0.03 * len(w)
            out.append(Word(w, clock, clock + d, WordType.WORD, 0.9, len(text), len(text) + len(w)))
            text += w
            clock += d + 0.05
        speaker = t.speakers[(i // 2) % 3].id
        t.segments.append(Segment(SegmentId(new_id()), out[0].start, out[-1].end + 0.05, speaker,
                                  text, tuple(out)))
        clock += gap
    t.duration = clock + 0.5
    return t


def tone(seconds: float) -> np.ndarray:
    n = int(seconds * RATE)
    return (0.2 * np.sin(np.arange(n) * 2 * np.pi * 200 / RATE)).astype(np.float32)


@pytest.fixture
def editor(qtbot) -> Callable[..., TranscriptEditorWindow]:  # type: ignore[no-untyped-def]
    def make(t: Transcript | None = None, sink: NullSink | None = None
             ) -> TranscriptEditorWindow:
        window = TranscriptEditorWindow(player_sink=sink or NullSink())
        window.ask_before_closing = False
        qtbot.addWidget(window)
        t = t or synthetic()
        window.set_media(media_from_samples(tone(t.duration or 10.0), RATE, label="test"))
        window.set_transcript(t)
        window.resize(1100, 760)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


# -- the done-when test ---------------------------------------------------------------------------


def test_word_highlight_follows_playback_and_clicking_a_word_seeks(qtbot, editor) -> None:  # type: ignore[no-untyped-def]
    sink = NullSink(paced=True, time_scale=4.0)  # four times faster than real time
    window = editor(synthetic(segments=4, words=5), sink)
    t = window.transcript
    index = WordTimes(t)
    seen: list[tuple[str, int]] = []
    mismatches: list[tuple[float, tuple[str, int], tuple[int, int] | None]] = []

    def on_highlight(segment_id: str, word: int) -> None:
        if word < 0:
            return
        seen.append((segment_id, word))
        # The word highlighted is the word under the playhead at that moment.
        at = index.at(window.player.position)
        expected = (t.segments[at[0]].id, at[1]) if at is not None else None
        if expected != (segment_id, word):
            mismatches.append((window.player.position, (segment_id, word), at))

    window.word_highlighted.connect(on_highlight)
    window.play_action.trigger()  # Space
    qtbot.waitUntil(lambda: window.player.state == "stopped", timeout=20_000)

    order = {(s.id, k): s.words[k].start for s in t.segments for k in range(len(s.words))}
    starts = [order[key] for key in seen]
    assert starts == sorted(starts), "the highlight went back in time"
    spoken = sum(1 for _ in t.words())
    assert len(set(seen)) >= spoken * 0.6  # paced at 30 Hz, a few short words may be skipped
    assert seen[0][0] == t.segments[0].id and seen[0][1] <= 2
    assert seen[-1][0] == t.segments[-1].id
    assert not mismatches
    # The highlighted segment is kept in view.
    last_row = window.segment_model.row_of(t.segments[-1].id)
    assert window.text_view.visualRect(window.segment_model.index(last_row)).intersects(
        window.text_view.viewport().rect())

    # Click a word: the player goes to its start, and that word is highlighted.
    segment = t.segments[2]
    k = 4  # the third spoken word (spacing tokens between)
    rect = window.text_view.word_rect(segment.id, k)
    assert rect.isValid() and window.text_view.viewport().rect().contains(rect.center())
    QTest.mouseClick(window.text_view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, rect.center())
    assert window.player.position == pytest.approx(segment.words[k].start, abs=1e-3)
    assert window.current_word() == (segment.id, k)
    assert window.waveform.playhead_position() == pytest.approx(segment.words[k].start, abs=1e-3)


# -- undoable edits ------------------------------------------------------------------------------


def _snapshot(window: TranscriptEditorWindow) -> str:
    return json.dumps([tio.to_json(window.transcript),
                       [(c.id, c.start, c.end, c.text) for c in window.doc.subtitles.cues],
                       str(window.doc.subtitles.rules)], sort_keys=True)


def assert_undoable(window: TranscriptEditorWindow, action: Callable[[], object]) -> None:
    """Apply, check something changed, then undo, redo, undo, redo comparing snapshots."""
    stack = window.doc.undo_stack
    before = _snapshot(window)
    count = stack.count()
    action()
    after = _snapshot(window)
    assert after != before, "the edit changed nothing"
    assert stack.count() == count + 1, "the edit is not one undo step"
    for _ in range(2):
        stack.undo()
        assert _snapshot(window) == before
        assert window.segment_model.rowCount() == len(window.transcript.segments)
        stack.redo()
        assert _snapshot(window) == after
        assert window.segment_model.rowCount() == len(window.transcript.segments)


def _select(window: TranscriptEditorWindow, *rows: int) -> None:
    view = window.text_view
    view.clearSelection()
    for row in rows:
        view.selectionModel().select(window.segment_model.index(row),
                                     view.selectionModel().SelectionFlag.Select)
    view.setCurrentIndex(window.segment_model.index(rows[0]))


def test_every_transcript_edit_is_undoable(editor) -> None:  # type: ignore[no-untyped-def]
    window = editor()
    t = window.transcript
    sid = lambda row: t.segments[row].id  # noqa: E731
    alice, bob = t.speakers[0].id, t.speakers[1].id

    assert_undoable(window, lambda: window.split_with_text(sid(0), t.segments[0].text, 9))
    _select(window, 0)
    assert_undoable(window, window.merge_selected)
    assert_undoable(window, lambda: window.segment_model.setData(
        window.segment_model.index(1), "Entirely new words here."))
    assert t.segments[1].words_stale
    _select(window, 3)
    assert_undoable(window, window.delete_selected)
    window.waveform.set_playhead(t.duration - 0.3)  # past the last segment: free time
    window.player.seek(t.duration - 0.3)
    assert_undoable(window, window.add_at_playhead)
    first = t.segments[1]
    assert_undoable(window, lambda: window._on_region_retimed(first.id, first.start + 0.1,
                                                               first.end - 0.1))
    _select(window, 2)
    assert_undoable(window, lambda: window.assign_selected(bob if t.segments[2].speaker_id
                                                           != bob else alice))
    speakers = window.speakers
    assert_undoable(window, speakers.add)
    speakers.select(bob)
    assert_undoable(window, lambda: speakers.move(-1))
    assert_undoable(window, lambda: speakers.recolour(bob, "#123456"))
    item = speakers.list.item(0)
    assert_undoable(window, lambda: item.setText("Robert"))
    assert_undoable(window, lambda: speakers.move_segments(alice, bob))
    speakers.select(bob)
    assert_undoable(window, lambda: speakers.delete(confirm=False))
    assert not window.transcript.segments or all(
        s.speaker_id != bob for s in window.transcript.segments)


def test_merge_refuses_different_speakers_and_split_needs_a_cursor_inside(editor) -> None:  # type: ignore[no-untyped-def]
    window = editor()
    t = window.transcript
    assert t.segments[1].speaker_id != t.segments[2].speaker_id
    _select(window, 1)
    count = window.doc.undo_stack.count()
    window.merge_selected()
    assert window.doc.undo_stack.count() == count
    assert "same speaker" in window.statusBar().currentMessage()
    window.split_with_text(t.segments[0].id, t.segments[0].text, 0)  # at the start: refused
    assert len(t.segments) == 6


def test_enter_in_a_segment_splits_it_at_the_cursor(qtbot, editor) -> None:  # type: ignore[no-untyped-def]
    window = editor()
    t = window.transcript
    segment = t.segments[0]
    text = segment.text
    cut = text.index(" ", len(text) // 2)
    window.text_view.edit_segment(segment.id, cut)
    qtbot.waitUntil(lambda: window.text_view.is_editing())
    editor_widget = window.findChild(SegmentEditor)
    assert editor_widget is not None and editor_widget.textCursor().position() == cut
    QTest.keyClicks(editor_widget, "x ")  # Space types a space here: it does not play
    assert window.player.state != "playing"
    QTest.keyClick(editor_widget, Qt.Key.Key_Return)
    assert len(t.segments) == 7
    assert t.segments[0].text == text[:cut].strip() + "x"
    assert t.segments[1].text == text[cut:].strip()
    assert t.segments[0].end <= t.segments[1].start
    qtbot.waitUntil(lambda: window.text_view.is_editing())  # goes on in the second part
    window.doc.undo_stack.undo()
    assert t.segments[0].text == text


def test_dragging_a_region_edge_retimes_without_overlap(editor) -> None:  # type: ignore[no-untyped-def]
    window = editor()
    t = window.transcript
    window.waveform.set_visible_range(0.0, t.duration)
    window.regions.refresh()
    first, second = t.segments[0], t.segments[1]
    region = window.regions.region_for(first.id)
    assert region is not None and set(window.regions.shown_ids()) >= {first.id, second.id}
    region.lines[1].setValue(second.start + 1.0)  # bounded by the neighbour while dragging
    region.sigRegionChangeFinished.emit(region)
    assert first.end <= second.start + 1e-9
    assert window.doc.undo_stack.count() == 1
    window._on_region_retimed(first.id, first.start, second.end)  # clamped by the core too
    assert first.end <= second.start + 1e-9


# -- subtitles ------------------------------------------------------------------------------------


def test_subtitle_cues_show_their_rules_and_every_edit_is_undoable(editor) -> None:  # type: ignore[no-untyped-def]
    window = editor(synthetic(segments=8, words=9))
    assert_undoable(window, window.build_subtitles)
    track = window.doc.subtitles
    model = window.subtitles.model
    assert model.rowCount() == len(track.cues) > 2
    window.tabs.setCurrentIndex(1)
    assert_undoable(window, lambda: window.subtitles.rules_form.chars.setValue(20))
    assert any(model.problems(r) for r in range(model.rowCount()))
    bad = next(r for r in range(model.rowCount()) if model.problems(r))
    assert "line too long" in model.index(bad, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, 5).data() in ("OK",) or model.problems(0)
    window.subtitles.rules_form.set_rules(SubtitleRules())
    cue = track.cues[0]
    assert_undoable(window, lambda: model.setData(model.index(0, 4), "Hello\nthere"))
    assert_undoable(window, lambda: window.split_cue_with_text(cue.id, "Hello\nthere", 5))
    window.subtitles.select_cue(track.cues[0].id)
    assert_undoable(window, window.merge_selected)
    assert_undoable(window, lambda: model.setData(model.index(1, 2), track.cues[1].end - 0.2))
    count = window.doc.undo_stack.count()
    model.setData(model.index(0, 2), track.cues[1].start + 0.5)  # typed overlap: refused
    assert window.doc.undo_stack.count() == count
    assert track.cues[0].end <= track.cues[1].start
    window.subtitles.select_cue(track.cues[2].id)
    assert_undoable(window, window.delete_selected)
    window.waveform.set_playhead(window.transcript.duration - 0.2)
    assert_undoable(window, window.add_at_playhead)
    ends = [(c.start, c.end) for c in track.cues]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ends))


# -- exports, alignment, background work ----------------------------------------------------------


def test_exports_every_format(editor, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pysubs2

    window = editor()
    for fmt in ("txt", "json", "html", "srt", "vtt"):
        path = tmp_path / f"out.{fmt}"
        assert window.export_to(path, fmt)
        text = path.read_text(encoding="utf-8")
        assert window.transcript.segments[0].text.split()[0].rstrip(".") in text
    assert tio.load_json(tmp_path / "out.json").segments[0].text == \
        window.transcript.segments[0].text
    assert len(pysubs2.load(str(tmp_path / "out.srt"))) >= len(window.transcript.segments)
    assert (tmp_path / "out.vtt").read_text().startswith("WEBVTT")
    assert 'data-start="' in (tmp_path / "out.html").read_text()


def test_align_words_runs_in_the_background_and_is_undoable(qtbot, editor, tmp_path) -> None:  # type: ignore[no-untyped-def]
    window = editor()
    window.media.path = tmp_path / "talk.wav"  # the aligner is a fake: no file is read
    t = window.transcript
    calls: list[list[tuple[float, float, str]]] = []

    class FakeAligner:
        def align_spans(self, spans, cancel=None):  # type: ignore[no-untyped-def]
            calls.append(list(spans))
            out = []
            for start, end, text in spans:
                tokens = text.split()
                step = (end - start) / len(tokens)
                pos, words = 0, []
                for i, tok in enumerate(tokens):
                    pos = text.index(tok, pos)
                    words.append(AlignedWord(tok, start + i * step, start + (i + 1) * step,
                                             pos, pos + len(tok)))
                    pos += len(tok)
                out.append(words)
            return out

    window.make_aligner = lambda engine, media: FakeAligner()
    window.doc.edit("Edit", lambda tr: set_segment_text(tr, t.segments[2].id, "Brand new text"))
    assert t.segments[2].words_stale
    window._update_actions()
    assert window.align_action.isEnabled()
    with qtbot.waitSignal(window.task.finished, timeout=10_000):
        window.align_action.trigger()
    assert [s[2] for s in calls[0]] == ["Brand new text"]
    assert not t.segments[2].words_stale
    assert [w.text for w in t.segments[2].words] == ["Brand", "new", "text"]
    window.doc.undo_stack.undo()
    assert t.segments[2].words_stale


def test_background_task_reports_progress_and_cancels(qtbot) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.transcript.tasks import Task

    task = Task()
    seen: list[float] = []
    task.progressed.connect(seen.append)

    def slow(cancel: CancelToken, progress: Callable[[float], None]) -> str:
        for i in range(200):
            cancel.raise_if_cancelled("test")
            progress(i / 200)
            time.sleep(0.005)
        return "done"

    with qtbot.waitSignal(task.finished, timeout=10_000) as blocker:
        task.start("work", slow)
    assert blocker.args == ["done"] and seen and seen == sorted(seen)
    with qtbot.waitSignal(task.cancelled, timeout=2_000):
        task.start("work", slow)
        task.cancel()
    assert task.wait(5.0)
    assert not task.running


def test_open_media_decodes_off_the_gui_thread(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import soundfile as sf

    path = tmp_path / "talk.wav"
    sf.write(path, tone(3.0), RATE)
    window = TranscriptEditorWindow(player_sink=NullSink())
    window.ask_before_closing = False
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.task.finished, timeout=20_000):
        window.open_media(path)
    assert window.media is not None and window.media.duration == pytest.approx(3.0, abs=0.05)
    assert window.transcribe_action.isEnabled() and window.player.duration == \
        pytest.approx(3.0, abs=0.05)
    assert float(np.abs(window.player._source.read(0, 1600)).max()) > 0.1
    window.shutdown()


def test_free_span_finds_room_at_the_playhead() -> None:
    spans = [(1.0, 2.0), (2.5, 4.0)]
    assert free_span(spans, 0.2, 10.0) == (0.2, 1.0)
    assert free_span(spans, 1.5, 10.0) == (2.0, 2.5)  # inside a span: after it
    assert free_span(spans, 5.0, 10.0) == (5.0, 7.0)
    assert free_span([(0.0, 1.0), (1.0, 2.0)], 0.5, 2.0) is None


@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_tools_menu_opens_the_editor_and_narration_needs_a_chapter(qtbot) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.main_window import MainWindow

    main = MainWindow(player_sink=NullSink())
    qtbot.addWidget(main)
    main.transcript_editor_action.trigger()
    window = main.findChild(TranscriptEditorWindow)
    assert window is not None and window.isVisible()
    window.ask_before_closing = False
    main.transcript_editor_action.trigger()  # the same window again, raised
    assert main.findChildren(TranscriptEditorWindow) == [window]
    assert window.narration_action.isEnabled()
    window.open_narration()  # no project open: said in the status bar, nothing changes
    assert "project" in window.statusBar().currentMessage()
    window.close()


def test_cli_transcript_editor_reports_a_missing_file(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from studio.cli import main

    assert main(["transcript-editor", str(tmp_path / "missing.srt")]) == 1
    assert "missing.srt: does not exist" in capsys.readouterr().err


def test_narration_of_a_generated_chapter_opens_with_its_take_timings(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The project's own narration: one segment per narrated paragraph, its words where the
    takes say, and it plays the chapter's audio."""
    import tempfile

    from studio.core import model as m
    from studio.core.playback import build_timeline
    from studio.core.sample import create_sample_project
    from studio.ui.main_window import MainWindow

    main = MainWindow(player_sink=NullSink())
    qtbot.addWidget(main)
    main.open_project(create_sample_project(Path(tempfile.mkdtemp()) / "s.studio"))
    assert main.controller is not None and main.session is not None
    with qtbot.waitSignal(main.controller.finished, timeout=60_000):
        main.generate_chapter_action.trigger()
    chapter = main.session.project.chapters[0]
    timeline = build_timeline(main.session.project, chapter)
    main.transcript_editor_action.trigger()
    window = main.findChild(TranscriptEditorWindow)
    assert window is not None
    window.ask_before_closing = False
    window.open_narration()
    t = window.transcript
    assert len(t.segments) == len(chapter.blocks) == len(timeline)
    for segment, block, placed in zip(t.segments, chapter.blocks, timeline, strict=True):
        assert segment.text == m.speakable_text(block.text)
        assert segment.start == pytest.approx(placed.start, abs=0.01)
        take_words = [w for w in segment.words if w.type is WordType.WORD]
        assert take_words[0].start == pytest.approx(placed.start + placed.word_timings[0].start,
                                                    abs=0.01)
    sink: NullSink = window.player.sink  # type: ignore[assignment]
    window.player.play()
    qtbot.waitUntil(lambda: window.player.state == "stopped" and sink.frames_written > 0,
                    timeout=30_000)
    assert sink.frames_written / sink.rate == pytest.approx(timeline[-1].end, abs=0.1)
    window.close()


def _spoken_wav(path: Path, text: str) -> Path:
    from studio.core.engines import SpeechRequest
    from studio.core.engines.offline import OfflineEngine

    result = OfflineEngine().synthesize(
        SpeechRequest(text=text, voice_id="en-us", model_id="offline-espeak"))
    assert result.audio[:4] == b"RIFF"
    path.write_bytes(result.audio)
    return path


class _StallWatch:
    """Record the longest gap between ticks of a 20 ms timer (the GUI event loop's stalls)."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.worst = 0.0
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self._last)
        self._last = now

    def stop(self) -> None:
        self._timer.stop()


def test_offline_transcription_runs_in_another_process_and_cancels(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """PocketSphinx holds the GIL for a whole utterance: on a thread it froze the window."""
    pytest.importorskip("pocketsphinx")
    import multiprocessing

    wav = _spoken_wav(tmp_path / "speech.wav", "The quick brown fox jumps over the lazy dog. "
                      "Narrators read chapters aloud while listeners follow the words.")
    window = TranscriptEditorWindow(player_sink=NullSink())
    window.ask_before_closing = False
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.task.finished, timeout=30_000):
        window.open_media(wav)
    watch = _StallWatch()
    qtbot.wait(100)
    watch.worst = 0.0
    with qtbot.waitSignal(window.task.finished, timeout=120_000):
        window.transcribe("offline")
        assert [p.name for p in multiprocessing.active_children()] == ["studio-transcript-job"]
    qtbot.wait(60)
    watch.stop()
    assert watch.worst < 0.3, f"the GUI stalled for {watch.worst:.2f} s"
    words = [w.text for w in window.transcript.words()]
    assert len(words) >= 5  # espeak through the general model: words, if not these ones
    assert window.transcript.source == "offline"
    qtbot.waitUntil(lambda: multiprocessing.active_children() == [], timeout=5_000)  # reaped

    # Align words: the same, in a process of its own. (Choosing the engine imports the
    # ElevenLabs client and asks the keyring once, ~0.5 s: done first, outside the watch.)
    from studio.ui.transcript.dialogs import engine_default

    engine_default()
    watch = _StallWatch()
    with qtbot.waitSignal(window.task.finished, timeout=120_000):
        window.align_words([s.id for s in window.transcript.segments])
        assert len(multiprocessing.active_children()) == 1
    qtbot.wait(60)
    watch.stop()
    assert watch.worst < 0.3, f"the GUI stalled for {watch.worst:.2f} s aligning"
    assert "Aligned the words of" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: multiprocessing.active_children() == [], timeout=5_000)

    # Cancel ends the process; its result never arrives.
    arrived: list[object] = []
    window.task.finished.connect(arrived.append)
    window.transcribe("offline")
    assert len(multiprocessing.active_children()) == 1
    with qtbot.waitSignal(window.task.cancelled, timeout=2_000):
        window.cancel_button.click()
    assert not window.task.running and window.task.wait(5.0)
    qtbot.wait(200)
    assert arrived == [] and multiprocessing.active_children() == []
    window.shutdown()


def test_opening_a_transcript_or_the_narration_asks_before_dropping_edits(
        qtbot, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    import studio.core.playback

    other = synthetic(segments=2, seed=7)
    path = tmp_path / "other.json"
    path.write_text(tio.dumps(other), encoding="utf-8")
    t = synthetic()
    from types import SimpleNamespace

    found = (SimpleNamespace(project=None, store=None), SimpleNamespace(title="One"))
    window = TranscriptEditorWindow(player_sink=NullSink(), narration=lambda: found)
    qtbot.addWidget(window)
    window.set_media(media_from_samples(tone(t.duration or 10.0), RATE, label="x"))
    window.set_transcript(t)
    window.doc.edit("Edit", lambda tr: set_segment_text(tr, t.segments[0].id, "My edit"))
    asked: list[str] = []
    answer = [QMessageBox.StandardButton.No]

    def question(parent, title, text, *args):  # type: ignore[no-untyped-def]
        asked.append(text)
        return answer[0]

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    monkeypatch.setattr(studio.core.playback, "build_timeline", lambda project, chapter: [1])

    window.open_transcript(path)
    assert len(asked) == 1
    assert window.transcript is t and t.segments[0].text == "My edit"
    assert window.doc.undo_stack.canUndo()
    window.open_narration()
    assert len(asked) == 2
    assert window.transcript is t and t.segments[0].text == "My edit"

    answer[0] = QMessageBox.StandardButton.Yes
    window.open_transcript(path)
    assert len(asked) == 3
    assert [s.text for s in window.transcript.segments] == [s.text for s in other.segments]
    window.ask_before_closing = False


def _editing_window(qtbot) -> TranscriptEditorWindow:  # type: ignore[no-untyped-def]
    t = synthetic()  # segments 0 and 1 share a speaker
    window = TranscriptEditorWindow(player_sink=NullSink())
    window.ask_before_closing = False
    qtbot.addWidget(window)
    window.set_media(media_from_samples(tone(t.duration or 10.0), RATE, label="x"))
    window.set_transcript(t)
    window.resize(1100, 760)
    window.show()
    qtbot.waitExposed(window)
    return window


def _type_into_first_segment(qtbot, window: TranscriptEditorWindow, typed: str) -> str:  # type: ignore[no-untyped-def]
    first = window.transcript.segments[0]
    window.text_view.edit_segment(first.id, 0)
    editor = window.findChild(SegmentEditor)
    assert editor is not None and window.text_view.is_editing()
    QTest.keyClicks(editor, typed)
    return typed + first.text


def _close_editor_by_clicking_elsewhere(qtbot, window: TranscriptEditorWindow) -> None:  # type: ignore[no-untyped-def]
    view = window.text_view
    last = view.visualRect(window.segment_model.index(window.segment_model.rowCount() - 1))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, last.center())
    qtbot.wait(50)
    assert not view.is_editing()


def test_a_structural_edit_commits_the_open_segment_editor_first(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Merge (Ctrl+M), Speaker, region drag: the editor's text is committed before them, and
    never written, stale, over them afterwards."""
    window = _editing_window(qtbot)
    t = window.transcript
    a, b = t.segments[0], t.segments[1]
    second = b.text
    typed = _type_into_first_segment(qtbot, window, "Hello ")
    window.merge_action.trigger()
    assert not window.text_view.is_editing()
    assert t.segments[0].text == typed + " " + second
    _close_editor_by_clicking_elsewhere(qtbot, window)
    assert t.segments[0].text == typed + " " + second
    assert t.segments[0].text.count("Hello") == 1 and len(t.segments) == 5
    stack = window.doc.undo_stack
    assert [stack.text(i) for i in range(stack.count())] == ["Edit segment text", "Merge segments"]
    window.undo()
    assert [s.text for s in t.segments[:2]] == [typed, second]

    # The speaker menu and a region drag: the typed text stays, the edit too.
    window.text_view.clearSelection()
    _type_into_first_segment(qtbot, window, "Again ")
    window.assign_selected(t.speakers[2].id)
    _close_editor_by_clicking_elsewhere(qtbot, window)
    assert t.segments[0].speaker_id == t.speakers[2].id
    assert t.segments[0].text == "Again " + typed
    _type_into_first_segment(qtbot, window, "More ")
    start = t.segments[0].start
    window._on_region_retimed(a.id, start + 0.1, t.segments[0].end)
    _close_editor_by_clicking_elsewhere(qtbot, window)
    assert t.segments[0].start == pytest.approx(start + 0.1)
    assert t.segments[0].text == "More Again " + typed


def test_undo_with_the_segment_editor_open_never_writes_stale_text(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = _editing_window(qtbot)
    t = window.transcript
    original = t.segments[0].text
    window.doc.edit("Edit", lambda tr: set_segment_text(tr, tr.segments[0].id, "Earlier edit"))
    typed = _type_into_first_segment(qtbot, window, "Typed ")
    assert typed == "Typed Earlier edit"
    window.undo_action.trigger()  # undoes the typing, committed first as its own step
    _close_editor_by_clicking_elsewhere(qtbot, window)
    assert t.segments[0].text == "Earlier edit"
    window.undo()
    assert t.segments[0].text == original
    window.redo()
    window.redo()
    assert t.segments[0].text == typed  # nothing lost

    # Undone under the editor by other means: the stale text is dropped, not written back.
    _type_into_first_segment(qtbot, window, "Stale ")
    window.doc.undo_stack.undo()
    _close_editor_by_clicking_elsewhere(qtbot, window)
    assert t.segments[0].text == "Earlier edit"
    assert window.doc.undo_stack.canRedo()


def test_cancelling_an_elevenlabs_transcription_ends_the_request(  # type: ignore[no-untyped-def]
        fake_eleven, monkeypatch, tmp_path: Path) -> None:
    import threading

    import soundfile as sf

    from studio.core.errors import Cancelled
    from studio.ui.transcript.window import _transcribe

    monkeypatch.setenv("ELEVENLABS_API_KEY", "test-key")
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake_eleven.base_url)
    media = tmp_path / "tone.wav"
    sf.write(media, tone(1.0), RATE)
    fake_eleven.stall_next(1, 30.0, "speech-to-text")  # the service takes its time
    cancel = CancelToken()
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            _transcribe("elevenlabs", media, None, cancel, lambda f: None)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not fake_eleven.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # the upload is in flight, its answer stalled
    started = time.monotonic()
    cancel.abort()
    thread.join(5.0)
    assert not thread.is_alive(), "the request went on after cancelling"
    assert time.monotonic() - started < 3.0
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)


def test_cli_media_wins_over_the_file_the_transcript_names(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import soundfile as sf

    from studio.ui.transcript.window import standalone_window

    named, given = tmp_path / "named.wav", tmp_path / "given.wav"
    sf.write(named, tone(2.0), RATE)
    sf.write(given, tone(3.0), RATE)
    t = synthetic(segments=1)
    t.media = "named.wav"
    path = tmp_path / "t.json"
    path.write_text(tio.dumps(t), encoding="utf-8")
    window = standalone_window(given, path)
    qtbot.addWidget(window)
    window.ask_before_closing = False
    qtbot.waitUntil(lambda: window.media is not None and not window.task.running,
                    timeout=20_000)
    assert window.media is not None and window.media.path == given

    # One cue, said so.
    window.build_subtitles()
    assert len(window.doc.subtitles.cues) == 1
    assert window.statusBar().currentMessage().startswith("Built 1 cue;")
    assert window.subtitles.summary.text().startswith("1 cue ·")
    window.shutdown()
