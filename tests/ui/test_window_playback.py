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
