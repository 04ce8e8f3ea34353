"""The player, driven through a paced NullSink: signals, selection, seek, pause, speed."""

from __future__ import annotations

import gc
import sys
import time
import types

import numpy as np
import pytest

from studio.core.model import BlockId, TakeId, WordTiming
from studio.core.playback import Segment
from studio.ui.player import NullSink, PlaybackUnavailable, Player, playback_available

RATE = 8000
SCALE = 10.0  # the paced sink runs 10x faster than real time
WAIT_MS = 5000


def _timeline() -> tuple[np.ndarray, list[Segment]]:
    """Return 3 paragraphs of 1 s (4 words each) with 0.5 s pauses: 4 s in all."""
    words = tuple(WordTiming(f"w{i}", i, i + 1, i * 0.25, i * 0.25 + 0.25) for i in range(4))
    timeline = [
        Segment(BlockId(f"b{i}"), i * 1.5, i * 1.5 + 1.0, TakeId(f"t{i}"), words)
        for i in range(3)
    ]
    t = np.arange(4 * RATE) / RATE
    samples = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    return samples, timeline


@pytest.fixture
def player(qtbot):
    sink = NullSink(paced=True, time_scale=SCALE)
    p = Player(sink=sink, chunk_frames=256)
    samples, timeline = _timeline()
    p.load(samples, RATE, timeline)
    yield p
    p.stop()
    # Free the QObject (and its timer) while Qt is alive, not during interpreter shutdown.
    p.deleteLater()
    del p
    gc.collect()


def _record(player: Player) -> dict[str, list]:
    log: dict[str, list] = {"pos": [], "para": [], "word": [], "state": [], "error": []}
    player.position_changed.connect(log["pos"].append)
    player.paragraph_changed.connect(log["para"].append)
    player.word_changed.connect(lambda b, w: log["word"].append((b, w)))
    player.state_changed.connect(log["state"].append)
    player.error.connect(log["error"].append)
    return log


def _play_to_end(qtbot, player: Player, **kwargs) -> float:
    started = time.perf_counter()
    with qtbot.waitSignal(
        player.state_changed, timeout=WAIT_MS, check_params_cb=lambda s: s == "stopped"
    ):
        player.play(**kwargs)
    return time.perf_counter() - started


def test_play_reports_paragraphs_words_and_position_in_order(qtbot, player: Player) -> None:
    log = _record(player)
    _play_to_end(qtbot, player)
    assert log["state"] == ["playing", "stopped"]
    assert log["para"] == ["b0", "b1", "b2"]
    assert log["pos"] == sorted(log["pos"])
    assert log["pos"][-1] == pytest.approx(4.0)
    assert player.position == pytest.approx(4.0)
    for block in ("b0", "b1", "b2"):
        indices = [w for b, w in log["word"] if b == block]
        assert indices and indices == sorted(set(indices))  # ticks may skip a word
    assert player.sink.frames_written == 4 * RATE  # type: ignore[attr-defined]
    assert not log["error"]


def test_position_updates_are_throttled(qtbot, player: Player) -> None:
    log = _record(player)
    elapsed = _play_to_end(qtbot, player)
    # 125 chunks were written; position reports follow the ~30 Hz timer, not the chunks.
    assert len(log["pos"]) <= elapsed * 40 + 5


def test_play_selection_stops_at_its_end(qtbot, player: Player) -> None:
    log = _record(player)
    _play_to_end(qtbot, player, start=1.6, end=2.2)
    assert player.position == pytest.approx(2.2, abs=1 / RATE)
    assert min(log["pos"]) >= 1.6 - 1e-9 and max(log["pos"]) <= 2.2 + 1e-6
    assert log["para"] == ["b1"]
    assert player.sink.frames_written == round(0.6 * RATE)  # type: ignore[attr-defined]


def test_seek_when_stopped_and_while_playing(qtbot, player: Player) -> None:
    log = _record(player)
    player.seek(3.1)
    assert player.position == pytest.approx(3.1)
    assert log["pos"][-1] == pytest.approx(3.1) and log["para"][-1] == "b2"
    assert log["word"][-1] == ("b2", 0)
    player.seek(0.0)
    with qtbot.waitSignal(player.paragraph_changed, timeout=WAIT_MS):  # b0 -> b1
        player.play()
        qtbot.waitUntil(lambda: player.position > 0.2, timeout=WAIT_MS)
        player.seek(3.5)
        assert player.state == "playing"
    qtbot.waitUntil(lambda: player.state == "stopped", timeout=WAIT_MS)
    player.deleteLater()
    after = log["pos"][log["pos"].index(3.5) :]
    assert after == sorted(after) and after[-1] == pytest.approx(4.0)
    assert "b1" not in log["para"][log["para"].index("b0") :]


def test_pause_holds_the_position_and_play_resumes(qtbot, player: Player) -> None:
    log = _record(player)
    player.play()
    qtbot.waitUntil(lambda: player.position > 1.0, timeout=WAIT_MS)
    with qtbot.waitSignal(player.state_changed, timeout=WAIT_MS):
        player.pause()
    held = player.position
    assert player.state == "paused" and 1.0 < held < 4.0
    qtbot.wait(100)
    assert player.position == held
    assert log["pos"][-1] == held
    with qtbot.waitSignal(
        player.state_changed, timeout=WAIT_MS, check_params_cb=lambda s: s == "stopped"
    ):
        player.play()
    resumed = log["pos"][log["pos"].index(held) :]
    assert resumed == sorted(resumed) and player.position == pytest.approx(4.0)
    assert log["state"] == ["playing", "paused", "playing", "stopped"]


def test_stop_returns_to_where_play_started(qtbot, player: Player) -> None:
    player.play(start=0.5)
    qtbot.waitUntil(lambda: player.position > 1.0, timeout=WAIT_MS)
    with qtbot.waitSignal(player.state_changed, timeout=WAIT_MS):
        player.stop()
    assert player.state == "stopped" and player.position == pytest.approx(0.5)


def test_double_speed_takes_half_the_time_and_reports_original_positions(
    qtbot, player: Player
) -> None:
    _play_to_end(qtbot, player)
    sink: NullSink = player.sink  # type: ignore[assignment]
    assert abs(sink.frames_written - 4 * RATE) <= 1
    sink.chunks.clear()
    log = _record(player)
    player.set_speed(2.0)
    assert player.speed == 2.0
    _play_to_end(qtbot, player)
    # Half as many frames reach the (paced) device: it plays in half the time.
    assert abs(sink.frames_written - 2 * RATE) <= 1
    assert log["para"] == ["b0", "b1", "b2"]
    assert log["pos"] == sorted(log["pos"]) and log["pos"][-1] == pytest.approx(4.0)
    player.set_speed(5.0)
    assert player.speed == 2.0


def test_sink_failure_is_reported_and_stops(qtbot) -> None:
    class BrokenSink(NullSink):
        def open(self, rate: int) -> None:
            raise PlaybackUnavailable("test: no device")

    player = Player(sink=BrokenSink())
    samples, timeline = _timeline()
    player.load(samples, RATE, timeline)
    with qtbot.waitSignal(player.error, timeout=WAIT_MS) as blocker:
        player.play()
    assert isinstance(blocker.args[0], PlaybackUnavailable)
    qtbot.waitUntil(lambda: player.state == "stopped", timeout=WAIT_MS)
    player.deleteLater()


def test_playback_available_gives_a_reason_when_it_is_not() -> None:
    ok, reason = playback_available()  # never opens a stream
    assert isinstance(ok, bool)
    if not ok:
        assert reason


def test_playback_unavailable_without_device_or_portaudio(monkeypatch) -> None:
    fake = types.ModuleType("sounddevice")
    fake.query_devices = lambda kind=None: (_ for _ in ()).throw(ValueError("no default"))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    ok, reason = playback_available()
    assert not ok and "No audio output device" in reason and "no default" in reason

    fake.query_devices = lambda kind=None: {}  # type: ignore[attr-defined]
    assert playback_available()[0] is False

    fake.query_devices = lambda kind=None: {"name": "out", "max_output_channels": 2}  # type: ignore[attr-defined]
    assert playback_available() == (True, "")

    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails like a missing PortAudio
    ok, reason = playback_available()
    assert not ok and "libportaudio2" in reason
