"""Generation off the GUI thread, with results applied on it.

The :class:`GenerationController` runs a :class:`~studio.core.scheduler.Scheduler` on a
Python thread; the scheduler's events cross to the GUI thread through a queued Qt signal,
and the controller records each take through the session there, so only the GUI thread
touches the project and its file.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from studio.core.engines import Engine
from studio.core.errors import CancelToken
from studio.core.generation import Plan
from studio.core.model import BlockId
from studio.core.scheduler import JobFailed, JobRetrying, RunSummary, Scheduler, TakeReady
from studio.ui.session import ProjectSession


class GenerationController(QObject):
    """Run renders one at a time and apply their results to the session.

    Signals:
        started(object): the Plan being run.
        progress(object): a scheduler Progress, at most once per finished paragraph.
        take_added(str): a paragraph's new take was recorded (block id).
        job_failed(str, str): a paragraph failed (block id, reason).
        retrying(str): a request waits to be retried (reason).
        finished(object): the RunSummary, after every worker has stopped.
    """

    started = Signal(object)
    progress = Signal(object)
    take_added = Signal(str)
    job_failed = Signal(str, str)
    retrying = Signal(str)
    finished = Signal(object)
    _event = Signal(object)  # worker thread -> GUI thread (queued)

    def __init__(self, session: ProjectSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.failures: dict[BlockId, str] = {}  # reasons shown on hover
        self.generating: set[BlockId] = set()
        self._cancel: CancelToken | None = None
        self._thread: threading.Thread | None = None
        self._event.connect(self._on_event)

    @property
    def running(self) -> bool:
        """Return whether a render is under way."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, plan: Plan, engine: Engine, concurrency: int = 1) -> None:
        """Run ``plan`` on ``engine`` in the background."""
        if self.running:
            raise RuntimeError("a render is already running")
        self._cancel = CancelToken()
        self.generating = {j.block_id for j in plan.jobs}
        for block_id in self.generating:
            self.failures.pop(block_id, None)
        scheduler = Scheduler(engine, plan, concurrency=concurrency, cancel=self._cancel,
                              on_event=self._event.emit)

        def run() -> None:
            try:
                summary = scheduler.run()
            finally:
                close = getattr(engine, "close", None)
                if close is not None:
                    close()  # the HTTP connection pool of a network engine
            self._event.emit(summary)

        self._thread = threading.Thread(target=run, name="generation", daemon=True)
        self.started.emit(plan)
        self._thread.start()

    def stop(self) -> None:
        """Send nothing new; let responses under way arrive (they are paid for)."""
        if self._cancel is not None:
            self._cancel.cancel()

    def abort(self) -> None:
        """Stop and abandon responses under way too."""
        if self._cancel is not None:
            self._cancel.abort()

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait for the worker thread to end; return whether it did."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _on_event(self, event: object) -> None:
        if isinstance(event, TakeReady):
            self.generating.discard(event.block_id)
            self.session.add_take(event.take)
            self.take_added.emit(event.block_id)
            self.progress.emit(event.progress)
        elif isinstance(event, JobFailed):
            self.generating.discard(event.block_id)
            self.failures[event.block_id] = str(event.error)
            self.job_failed.emit(event.block_id, str(event.error))
            self.progress.emit(event.progress)
        elif isinstance(event, JobRetrying):
            self.retrying.emit(event.reason)
        elif isinstance(event, RunSummary):
            self.generating.clear()
            self.finished.emit(event)
