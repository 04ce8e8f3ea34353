"""Cancellable background work with progress, reported on the GUI thread.

Orange's ``TaskState`` reduced to what the editor needs: :class:`Task` runs
``fn(cancel, progress)`` on a daemon thread; the function polls the :class:`CancelToken`
and calls ``progress(fraction)``. Progress reaches the GUI thread through a queued signal,
only when it moved by at least a percent. Starting another task, or cancelling, makes the
earlier one's results be dropped (stale results never arrive).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.core.errors import Cancelled, CancelToken

Work = Callable[[CancelToken, Callable[[float], None]], Any]


class Task(QObject):
    """Run one cancellable function at a time off the GUI thread.

    Signals:
        progressed(float): fraction done, 0-1 (throttled to 1% steps).
        finished(object): the function's return value.
        failed(object): the exception it raised (never a :class:`Cancelled`).
        cancelled(): the task stopped because it was cancelled.
        running_changed(bool): whether a task is under way.
    """

    progressed = Signal(float)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    running_changed = Signal(bool)
    _done = Signal(int, object, object)
    _progress = Signal(int, float)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._token: CancelToken | None = None
        self._thread: threading.Thread | None = None
        self.label = ""
        self._done.connect(self._on_done)
        self._progress.connect(self._on_progress)

    @property
    def running(self) -> bool:
        """Return whether the latest task is under way."""
        return self._token is not None

    def start(self, label: str, fn: Work) -> None:
        """Run ``fn(cancel, progress)`` in the background; an earlier task is cancelled."""
        self.cancel(quiet=True)
        self._generation += 1
        generation = self._generation
        token = CancelToken()
        self._token = token
        self.label = label
        last = [-1.0]

        def progress(fraction: float) -> None:
            if fraction - last[0] >= 0.01 or fraction >= 1.0:
                last[0] = fraction
                with contextlib.suppress(RuntimeError):
                    self._progress.emit(generation, float(fraction))

        def run() -> None:
            try:
                result, error = fn(token, progress), None
            except BaseException as exc:  # delivered to the GUI thread, never lost
                result, error = None, exc
            with contextlib.suppress(RuntimeError):  # the receiver is gone: nobody to tell
                self._done.emit(generation, result, error)

        self._thread = threading.Thread(target=run, name="studio-transcript-task", daemon=True)
        self.running_changed.emit(True)
        self._thread.start()

    def cancel(self, quiet: bool = False) -> None:
        """Ask the running task to stop; its result, if any, is dropped."""
        token, self._token = self._token, None
        if token is None:
            return
        token.abort()
        self._generation += 1
        self.running_changed.emit(False)
        if not quiet:
            self.cancelled.emit()

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait for the worker thread to end; return whether it did."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _on_progress(self, generation: int, fraction: float) -> None:
        if generation == self._generation:
            self.progressed.emit(fraction)

    def _on_done(self, generation: int, result: object, error: object) -> None:
        if generation != self._generation:
            return
        self._token = None
        self.running_changed.emit(False)
        if isinstance(error, Cancelled):
            self.cancelled.emit()
        elif error is not None:
            self.failed.emit(error)
        else:
            self.finished.emit(result)
