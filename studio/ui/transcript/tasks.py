"""Cancellable background work with progress, reported on the GUI thread.

Orange's ``TaskState`` reduced to what the editor needs: :class:`Task` runs
``fn(cancel, progress)`` on a daemon thread; the function polls the :class:`CancelToken`
and calls ``progress(fraction)``. Progress reaches the GUI thread through a queued signal,
only when it moved by at least a percent. Starting another task, or cancelling, makes the
earlier one's results be dropped (stale results never arrive).

Work that holds the GIL (PocketSphinx) would freeze the GUI even on a thread:
:meth:`Task.start_process` runs a :class:`ProcessJob` in a separate process ("spawn": a Qt
process is never forked). Its progress arrives through a queue a timer polls, and
cancelling ends the process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from studio.core.errors import Cancelled, CancelToken, StudioError

Work = Callable[[CancelToken, Callable[[float], None]], Any]

POLL_MS = 25  # how often a process job's queue is read
KILL_AFTER_S = 2.0  # a terminated process still alive then is killed


@dataclass(frozen=True)
class ProcessJob:
    """``fn(*args, progress=...)`` to run in a separate process.

    ``fn`` must be a module-level function and ``args`` picklable (the child imports
    ``fn``'s module afresh); see :mod:`studio.core.transcript.jobs`.
    """

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


@dataclass
class _Child:
    process: Any  # multiprocessing.context.SpawnProcess
    queue: Any  # multiprocessing.Queue
    temp_dir: str
    generation: int
    ended_at: float = field(default=0.0)

    def release(self) -> None:
        """Free the queue and the job's temporary files (the process has ended)."""
        with contextlib.suppress(Exception):
            self.process.join(0)
            self.process.close()
        with contextlib.suppress(Exception):
            self.queue.close()
            self.queue.cancel_join_thread()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


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
        self._child: _Child | None = None
        self._ending: list[_Child] = []  # cancelled or finished processes not yet reaped
        self._last_progress = -1.0
        self._poller = QTimer(self)
        self._poller.setInterval(POLL_MS)
        self._poller.timeout.connect(self._poll)
        self._done.connect(self._on_done)
        self._progress.connect(self._on_progress)

    @property
    def running(self) -> bool:
        """Return whether the latest task is under way."""
        return self._token is not None

    def start_process(self, label: str, job: ProcessJob) -> None:
        """Run ``job`` in a separate process; an earlier task is cancelled."""
        from studio.core.transcript.jobs import run_job

        self.cancel(quiet=True)
        self._generation += 1
        self._token = CancelToken()  # marks the task as running; cancel ends the process
        self.label = label
        self._last_progress = -1.0
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        temp_dir = tempfile.mkdtemp(prefix="studio-job-")
        process = context.Process(target=run_job, args=(job.fn, job.args, results, temp_dir),
                                  name="studio-transcript-job", daemon=True)
        self._child = _Child(process, results, temp_dir, self._generation)
        self.running_changed.emit(True)
        try:
            process.start()
        except BaseException as exc:
            self._child = None
            shutil.rmtree(temp_dir, ignore_errors=True)
            self._done.emit(self._generation, None, exc)
            return
        self._poller.start()

    def _poll(self) -> None:
        self._reap()
        child = self._child
        if child is None:
            if not self._ending:
                self._poller.stop()
            return
        alive = child.process.is_alive()  # before draining: a dead child's queue is complete
        while True:
            try:
                kind, payload = child.queue.get_nowait()
            except (queue.Empty, EOFError, OSError):
                break
            if kind == "progress":
                fraction = float(payload)
                if fraction - self._last_progress >= 0.01 or fraction >= 1.0:
                    self._last_progress = fraction
                    self._on_progress(child.generation, fraction)
                continue
            self._end_child(child)
            try:
                value = pickle.loads(payload)
            except Exception as exc:
                value, kind = exc, "error"
            if kind == "done":
                self._on_done(child.generation, value, None)
            else:
                self._on_done(child.generation, None, value)
            return
        if not alive:
            self._end_child(child)
            code = child.process.exitcode
            self._on_done(child.generation, None, StudioError(
                f"{self.label}: the background process stopped unexpectedly (exit code {code})."))

    def _end_child(self, child: _Child, terminate: bool = False) -> None:
        if self._child is child:
            self._child = None
        if terminate:
            with contextlib.suppress(Exception):
                child.process.terminate()
        child.ended_at = time.monotonic()
        self._ending.append(child)
        if not self._poller.isActive():
            self._poller.start()

    def _reap(self, wait: float = 0.0) -> bool:
        """Release the ended processes; kill any that outlived ``KILL_AFTER_S`` (or ``wait``)."""
        deadline = time.monotonic() + wait
        for child in list(self._ending):
            process = child.process
            with contextlib.suppress(ValueError):  # already closed
                if wait > 0:
                    process.join(max(0.0, deadline - time.monotonic()))
                if process.is_alive():
                    if wait <= 0 and time.monotonic() - child.ended_at < KILL_AFTER_S:
                        continue
                    process.kill()
                    process.join(1.0)
                    if process.is_alive():
                        continue
            child.release()
            self._ending.remove(child)
        return not self._ending

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
        if self._child is not None:
            self._end_child(self._child, terminate=True)
        self._generation += 1
        self.running_changed.emit(False)
        if not quiet:
            self.cancelled.emit()

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait for the worker thread and ended processes to end; return whether they did."""
        start = time.monotonic()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        reaped = self._reap(max(0.01, timeout - (time.monotonic() - start)))
        return reaped and (thread is None or not thread.is_alive())

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
