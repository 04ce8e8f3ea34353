"""Play a generated chapter in the window: the spoken paragraph and word are highlighted."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths

from studio.core.sample import create_sample_project
from studio.ui.main_window import MainWindow
from studio.ui.models import SPOKEN_ROLE
from studio.ui.player import NullSink


@pytest.fixture(autouse=True)
def _env(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)


def test_play_highlights_words_and_follows_paragraphs(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sink = NullSink(paced=True, time_scale=8.0)  # plays 8x faster than real time
    window = MainWindow(player_sink=sink)
    qtbot.addWidget(window)
    window.open_project(create_sample_project(tmp_path / "s.studio"))
    window.resize(1280, 800)
    window.show()
    assert window.controller is not None
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.generate_chapter_action.trigger()
    bar = window.player_bar
    assert bar.available and len(bar.timeline) == 3
    assert window.waveform.playhead_position() == 0.0

    spoken: list[tuple[str, int]] = []
    highlighted: list[tuple[int, int]] = []

    def on_word(block_id: str, word: int) -> None:
        spoken.append((block_id, word))
        row = [b.id for b in window.blocks_model.chapter.blocks].index(block_id)
        span = window.blocks_model.index(row).data(SPOKEN_ROLE)
        if span is not None:
            highlighted.append(span)

    bar.word_spoken.connect(on_word)
    window.play_action.trigger()  # Space
    qtbot.waitUntil(lambda: bar.player.state == "stopped" and bool(spoken), timeout=30_000)
    chapter = window.blocks_model.chapter
    order = [b for b, _ in spoken]
    assert order[0] == chapter.blocks[0].id and order[-1] == chapter.blocks[-1].id
    assert sorted(set(order), key=order.index) == [b.id for b in chapter.blocks]
    assert len(highlighted) > 10
    text0 = chapter.blocks[0].text
    first = next(s for (b, _), s in zip(spoken, highlighted, strict=False)
                 if b == chapter.blocks[0].id)
    assert text0[first[0]:first[1]].strip(".,;:“”\"'!?").isalpha()
    assert window.waveform.playhead_position() > bar.timeline[-1].end * 0.9
    # Once playback has stopped no word stays highlighted.
    assert all(window.blocks_model.index(r).data(SPOKEN_ROLE) is None for r in range(3))
    bar.player.deleteLater()


def test_without_a_device_playback_is_off_with_a_reason(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.player import playback_available

    available, reason = playback_available()
    if available:
        pytest.skip("this machine has an audio output device")
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(create_sample_project(tmp_path / "s.studio"))
    bar = window.player_bar
    assert not bar.play_button.isEnabled() and bar.play_button.toolTip() == reason
    assert reason in bar.note.text()
    window.play_action.trigger()  # Space does nothing, and nothing breaks
    assert bar.player.state == "stopped"


def _generated_window(qtbot, tmp_path: Path, sink: NullSink) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(player_sink=sink)
    qtbot.addWidget(window)
    window.open_project(create_sample_project(tmp_path / "s.studio"))
    assert window.controller is not None
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.generate_chapter_action.trigger()
    return window


def _played_seconds(qtbot, window: MainWindow, sink: NullSink, trigger) -> float:  # type: ignore[no-untyped-def]
    before = sink.frames_written
    trigger()
    player = window.player_bar.player
    qtbot.waitUntil(lambda: player.state == "stopped" and sink.frames_written > before,
                    timeout=30_000)
    return (sink.frames_written - before) / 22050


def test_play_selected_paragraphs_and_play_to_end(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sink = NullSink()
    window = _generated_window(qtbot, tmp_path, sink)
    timeline = window.player_bar.timeline
    window.block_view.setCurrentIndex(window.blocks_model.index(1))  # the middle paragraph
    played = _played_seconds(qtbot, window, sink, window.play_selection_action.trigger)
    assert played == pytest.approx(timeline[1].end - timeline[1].start, abs=0.05)
    played = _played_seconds(qtbot, window, sink, window.play_to_end_action.trigger)
    assert played == pytest.approx(timeline[-1].end - timeline[1].start, abs=0.05)


def test_history_plays_an_older_take_on_its_own(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from studio.core import audio

    sink = NullSink()
    window = _generated_window(qtbot, tmp_path, sink)
    window.block_view.setCurrentIndex(window.blocks_model.index(0))
    history = window.history_panel
    assert history.list.count() == 1 and history.play_button.isEnabled()
    take = history.selected_take()
    assert take is not None and window.session is not None
    samples, rate = audio.decode(window.session.store.load_take_audio(take.id), take.format)
    played = _played_seconds(qtbot, window, sink, history.play_button.click)
    assert played == pytest.approx(len(samples) / rate, abs=0.02)
    # The chapter plays whole again afterwards (the one-off take was not left loaded).
    played = _played_seconds(qtbot, window, sink, window.play_action.trigger)
    assert played == pytest.approx(window.player_bar.timeline[-1].end, abs=0.05)


def test_space_on_a_focused_check_box_is_the_check_boxs(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sink = NullSink()
    window = _generated_window(qtbot, tmp_path, sink)
    window.show()
    qtbot.waitExposed(window)
    boost = window.voices_panel.boost
    boost.setFocus()
    qtbot.waitUntil(lambda: boost.hasFocus(), timeout=5_000)
    before = boost.isChecked()
    window.play_action.trigger()  # what the Space shortcut does
    qtbot.waitUntil(lambda: boost.isChecked() != before, timeout=5_000)
    assert window.player_bar.player.state == "stopped"  # and nothing started playing


def test_the_chapter_is_decoded_off_the_gui_thread_around_the_playhead(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path, monkeypatch) -> None:
    import threading

    from studio.core import audio as audiolib

    sink = NullSink()
    window = _generated_window(qtbot, tmp_path, sink)
    bar = window.player_bar
    decoded: list[tuple[str, int]] = []  # (thread, bytes) of every take decoded for playback
    real_decode = audiolib.decode

    def spy(data: bytes, fmt: str):  # type: ignore[no-untyped-def]
        decoded.append((threading.current_thread().name, len(data)))
        return real_decode(data, fmt)

    monkeypatch.setattr(audiolib, "decode", spy)
    timeline = bar.timeline
    assert len(timeline) >= 3
    # Played from the last paragraph, only its take is decoded, not the chapter before it.
    window.block_view.setCurrentIndex(window.blocks_model.index(len(timeline) - 1))
    window.play_selection_action.trigger()
    assert bar.player.state == "playing"  # at once: the decode is the player thread's
    qtbot.waitUntil(lambda: bar.player.state == "stopped" and sink.frames_written > 0,
                    timeout=30_000)
    assert len(decoded) == 1
    assert sink.frames_written / 22050 == pytest.approx(
        timeline[-1].end - timeline[-1].start, abs=0.05)
    sink.chunks.clear()
    window.play_action.trigger()  # the whole chapter: every take, none on the GUI thread
    qtbot.waitUntil(lambda: bar.player.state == "stopped" and sink.frames_written > 0,
                    timeout=30_000)
    assert sink.frames_written / 22050 == pytest.approx(timeline[-1].end, abs=0.05)
    assert len(decoded) >= len(timeline)
    assert all(name != threading.main_thread().name for name, _ in decoded)
