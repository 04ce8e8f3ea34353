"""Run one blocking call (network, synthesis) off the GUI thread; get its result back on it.

Picard's ``run_task``, reduced to what dialogs need: :class:`BackgroundCall` runs a function
on a daemon Python thread and delivers the result or the exception through a queued signal,
so the receiver only ever runs on the GUI thread. Starting a new call on the same object
makes the previous one's result be ignored (Orange's rule: stale results never arrive).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal


class BackgroundCall(QObject):
    """Run functions one after another in the background, reporting on the GUI thread.

    Signals:
        finished(object): the latest call's return value.
        failed(object): the exception the latest call raised.
        running_changed(bool): whether a call is under way.
    """

    finished = Signal(object)
    failed = Signal(object)
    running_changed = Signal(bool)
    _done = Signal(int, object, object)  # worker thread -> GUI thread (queued)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._done.connect(self._on_done)

    @property
    def running(self) -> bool:
        """Return whether the latest call is still under way."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` on a worker thread; a result from an earlier call is dropped."""
        self._generation += 1
        generation = self._generation

        def run() -> None:
            try:
                result, error = fn(), None
            except BaseException as exc:  # delivered to the GUI thread, never lost
                result, error = None, exc
            # RuntimeError: the receiver was deleted meanwhile, so there is nobody to tell.
            with contextlib.suppress(RuntimeError):
                self._done.emit(generation, result, error)

        self._thread = threading.Thread(target=run, name="studio-background", daemon=True)
        self.running_changed.emit(True)
        self._thread.start()

    def discard(self) -> None:
        """Drop the result of the call under way (it still runs to its end)."""
        if self.running:
            self._generation += 1
            self.running_changed.emit(False)

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait for the worker thread to end; return whether it did."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _on_done(self, generation: int, result: object, error: object) -> None:
        if generation != self._generation:
            return
        self.running_changed.emit(False)
        if error is not None:
            self.failed.emit(error)
        else:
            self.finished.emit(result)
