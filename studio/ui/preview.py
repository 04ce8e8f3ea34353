"""Voice previews: fetch off the GUI thread (:mod:`studio.core.preview`), play on a Player.

The previewer plays through the same kind of output sink as the window's player bar (the
window passes its sink down), so tests hear previews on a recording sink. Without a sound
device it says so and plays nothing, like the player bar.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from studio.core.errors import StudioError
from studio.core.preview import PreviewAudio
from studio.ui.background import BackgroundCall
from studio.ui.player import OutputSink, Player, playback_available


class VoicePreviewer(QObject):
    """Get a preview in the background, then play it.

    Signals:
        status(str): a line for the user ("Getting a preview…", "Playing…", an error, "").
        played(object): the :class:`PreviewAudio` that started playing.
    """

    status = Signal(str)
    played = Signal(object)

    def __init__(self, sink: OutputSink | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.available, self.reason = (True, "") if sink is not None else playback_available()
        self.player = Player(sink=sink, parent=self)
        self.player.error.connect(self._on_failed)
        self.player.state_changed.connect(self._on_state)
        self._call = BackgroundCall(self)
        self._call.finished.connect(self._on_ready)
        self._call.failed.connect(self._on_failed)
        self._what = ""
        self._playing = False  # "Playing…" is shown: clear it when playback ends

    @property
    def busy(self) -> bool:
        """Return whether a preview is being fetched."""
        return self._call.running

    def preview(self, fetch: Callable[[], PreviewAudio], what: str) -> bool:
        """Fetch with ``fetch()`` on a worker thread and play the result; False if unavailable."""
        if not self.available:
            self.status.emit(f"Preview off: {self.reason}")
            return False
        self.player.stop()
        self._what = what
        self.status.emit(f"Getting a preview of {what}…")
        self._call.start(fetch)
        return True

    def stop(self) -> None:
        """Stop playing (a fetch under way is still played when it arrives)."""
        self.player.stop()

    def cancel(self) -> None:
        """Stop playing and drop a preview still being fetched."""
        self._call.discard()
        self.player.stop()

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait for a fetch under way to end (tests, closing)."""
        return self._call.wait(timeout)

    def _on_ready(self, audio: object) -> None:
        assert isinstance(audio, PreviewAudio)
        self.player.load(audio.samples, audio.rate, [])
        self.player.play(0.0)
        self._playing = True
        self.status.emit(f"Playing {self._what} ({audio.duration:.1f} s)")
        self.played.emit(audio)

    def _on_failed(self, error: object) -> None:
        self._playing = False  # keep the error on screen when the player then stops
        if isinstance(error, StudioError):
            self.status.emit(f"No preview: {error}")
        else:
            self.status.emit(f"No preview: {type(error).__name__}: {error}")

    def _on_state(self, state: str) -> None:
        if state == "stopped" and self._playing:
            self._playing = False
            self.status.emit("")
