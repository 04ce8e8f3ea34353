"""Voice previews, heard on a recording output sink: offline synthesis, an ElevenLabs voice's
own preview URL (fetched without the key), an ElevenLabs sample sentence, a project voice
with the form's settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, QStandardPaths

from studio.core import audio as audiolib
from studio.core.engines import EngineVoice, SpeechRequest
from studio.core.engines.offline import OfflineEngine
from studio.core.preview import SAMPLE_SENTENCE, preview_text
from studio.core.sample import create_sample_project
from studio.ui.main_window import MainWindow
from studio.ui.panels.voices import AddVoiceDialog
from studio.ui.player import playback_available
from studio.ui.preview import VoicePreviewer
from tests.fakes.fake_elevenlabs import FakeElevenLabs


class RecordingSink:
    """An OutputSink that keeps what it is asked to play."""

    def __init__(self) -> None:
        self.rate = 0
        self.chunks: list[np.ndarray] = []

    def open(self, rate: int) -> None:
        self.rate = rate
        self.chunks = []

    def write(self, frames: np.ndarray) -> None:
        self.chunks.append(np.array(frames, copy=True))

    def close(self) -> None:
        pass

    @property
    def played(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    monkeypatch.delenv("ELEVENLABS_BASE_URL", raising=False)


def _play(qtbot, previewer: VoicePreviewer, start) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Start a preview, wait until it has played; return the samples that were fetched."""
    with qtbot.waitSignal(previewer.played, timeout=30_000) as ready:
        assert start()
    qtbot.waitUntil(lambda: previewer.player.state == "stopped", timeout=30_000)
    return ready.args[0].samples


def _spoken(text: str, voice: str) -> np.ndarray:
    samples, _ = audiolib.decode(OfflineEngine().synthesize(
        SpeechRequest(text, voice, "offline-espeak")).audio, "wav_22050")
    return samples


def test_offline_voice_preview_in_the_add_dialog(qtbot) -> None:  # type: ignore[no-untyped-def]
    sink = RecordingSink()
    previewer = VoicePreviewer(sink)
    voices = [v for v in OfflineEngine().voices() if v.voice_id in ("en-us", "en-us+f3")]
    dialog = AddVoiceDialog(voices, previewer=previewer)
    qtbot.addWidget(dialog)
    assert dialog.engine == "offline" and dialog.preview_button.isEnabled()
    dialog.combo.setCurrentIndex(dialog.combo.findData(voices[1]))
    fetched = _play(qtbot, previewer, lambda: dialog.preview_button.click() or True)

    assert sink.rate == 22050 and np.array_equal(sink.played, fetched)  # all of it played
    expected = _spoken(SAMPLE_SENTENCE, voices[1].voice_id)  # espeak varies by a few samples
    assert abs(len(fetched) - len(expected)) < 0.02 * len(expected)
    assert dialog.status.text() == ""  # "Playing…" cleared when it ended


def test_elevenlabs_preview_url_is_fetched_without_the_key(  # type: ignore[no-untyped-def]
        qtbot, fake_eleven: FakeElevenLabs) -> None:
    from studio.core.engines.elevenlabs import ElevenLabsEngine

    engine = ElevenLabsEngine("test-key", fake_eleven.base_url)
    voices = engine.voices()
    engine.close()
    voice = next(v for v in voices if v.preview_url)
    sink = RecordingSink()
    previewer = VoicePreviewer(sink)
    dialog = AddVoiceDialog(voices, previewer=previewer)
    qtbot.addWidget(dialog)
    assert dialog.engine == "elevenlabs"
    dialog.combo.setCurrentIndex(dialog.combo.findText(voice.name))
    _play(qtbot, previewer, dialog.preview)

    fetched = [r for r in fake_eleven.requests if r.path.startswith("/_fake/previews/")]
    assert [r.path for r in fetched] == [f"/_fake/previews/{voice.voice_id}.mp3"]
    assert "xi-api-key" not in fetched[0].headers  # a public URL never gets the key
    assert not [r for r in fake_eleven.requests if "text-to-speech" in r.path]  # no credits
    assert sink.rate == 44100 and len(sink.played) > 44100  # over a second of speech


def test_elevenlabs_voice_without_url_speaks_the_sample(  # type: ignore[no-untyped-def]
        qtbot, fake_eleven: FakeElevenLabs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEVENLABS_API_KEY", "test-key")
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake_eleven.base_url)
    voice_id = fake_eleven.voices[0]["voice_id"]
    voices = [EngineVoice(voice_id, "Cloned", "cloned")]
    sink = RecordingSink()
    previewer = VoicePreviewer(sink)
    dialog = AddVoiceDialog(voices, previewer=previewer)
    qtbot.addWidget(dialog)
    _play(qtbot, previewer, dialog.preview)
    calls = [r for r in fake_eleven.requests if r.path.startswith("/v1/text-to-speech/")]
    assert [r.path for r in calls] == [f"/v1/text-to-speech/{voice_id}/stream"]
    assert calls[0].json["text"] == SAMPLE_SENTENCE and len(sink.played) > 0


def test_failed_preview_is_said(qtbot) -> None:  # type: ignore[no-untyped-def]
    previewer = VoicePreviewer(RecordingSink())
    dialog = AddVoiceDialog([EngineVoice("no-such-voice", "Ghost", "offline")],
                            previewer=previewer)
    qtbot.addWidget(dialog)
    dialog.preview()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("No preview:"), timeout=30_000)
    assert previewer.player.state == "stopped"


@pytest.fixture
def window(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    sink = RecordingSink()
    w = MainWindow(player_sink=sink)
    qtbot.addWidget(w)
    w.open_project(create_sample_project(tmp_path / "sample.studio"))
    w.sink = sink
    return w


def test_project_voice_preview_uses_the_form_and_the_paragraph(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow) -> None:
    panel = window.voices_panel
    previewer = panel.previewer
    assert panel.preview_button.isEnabled()
    block = window.blocks_model.block_at(1)
    window.block_view.selectionModel().select(window.blocks_model.index(1),
                                              QItemSelectionModel.SelectionFlag.Select)
    normal = _play(qtbot, previewer, panel.preview_voice)
    assert np.array_equal(window.sink.played, normal)  # type: ignore[attr-defined]
    text = preview_text(block.text)  # the selected paragraph's first sentence
    assert text.startswith("At last she turned away") and text.endswith("thought.”")
    expected = _spoken(text, "en-us")
    assert abs(len(normal) - len(expected)) < 0.02 * len(expected)

    panel.spins["speed"].setValue(1.2)  # not applied: the preview still uses it
    faster = _play(qtbot, previewer, panel.preview_voice)
    assert np.array_equal(window.sink.played, faster)  # type: ignore[attr-defined]
    assert len(faster) < 0.9 * len(normal)
    project = window.session.project
    assert project.voices[project.default_voice_id].speed == 1.0  # nothing was changed


def test_without_a_device_preview_is_off_and_says_why(qtbot) -> None:  # type: ignore[no-untyped-def]
    available, reason = playback_available()
    if available:
        pytest.skip("this machine has an audio output device")
    dialog = AddVoiceDialog(OfflineEngine().voices()[:3])
    qtbot.addWidget(dialog)
    assert not dialog.preview_button.isEnabled()
    assert dialog.status.text() == f"Preview off: {reason}"
    assert dialog.preview_button.toolTip() == reason
