"""Generation off the GUI thread, with results applied on it.

The :class:`GenerationController` runs a :class:`~studio.core.scheduler.Scheduler` on a
Python thread; the scheduler's events cross to the GUI thread through a queued Qt signal,
and the controller records each take through the session there, so only the GUI thread
touches the project and its file.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from studio.core.engines import Engine, EngineError
from studio.core.errors import CancelToken, StudioError
from studio.core.generation import Plan
from studio.core.model import BlockId, ChapterId
from studio.core.scheduler import (
    JobFailed,
    JobRetrying,
    JobSkipped,
    JobStarted,
    RunSummary,
    Scheduler,
    TakeReady,
)
from studio.ui.session import ProjectSession


@dataclass(frozen=True, slots=True)
class GenerationScope:
    """What to generate: the whole book (the default), some chapters or some paragraphs.

    With ``force``, paragraphs that are already narrated get a new take too.
    """

    chapters: tuple[ChapterId, ...] | None = None
    blocks: tuple[BlockId, ...] | None = None
    force: bool = False


log = logging.getLogger(__name__)


class GenerationController(QObject):
    """Run renders one at a time and apply their results to the session.

    Signals:
        started(object): the Plan being run.
        progress(object): a scheduler Progress, at most once per finished paragraph.
        take_added(str): a paragraph's new take was recorded (block id).
        job_failed(str, str): a paragraph failed (block id, reason).
        job_started(str, int, int): a paragraph's request is being sent (block id, part,
            parts); again after each retry.
        job_retrying(str, str): a paragraph's request waits to be retried (block id, reason).
        job_skipped(str, object): a paragraph was cancelled before anything was sent for it
            (block id, Progress).
        retrying(str): a request waits to be retried (reason).
        finished(object): the RunSummary, after every worker has stopped.
    """

    started = Signal(object)
    progress = Signal(object)
    take_added = Signal(str)
    job_failed = Signal(str, str)
    job_started = Signal(str, int, int)
    job_retrying = Signal(str, str)
    job_skipped = Signal(str, object)
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
        self._scheduler: Scheduler | None = None
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
        # In place: the paragraph model holds this very set to paint "generating" stripes.
        self.generating.clear()
        self.generating.update(j.block_id for j in plan.jobs)
        for block_id in self.generating:
            self.failures.pop(block_id, None)
        scheduler = Scheduler(engine, plan, concurrency=concurrency, cancel=self._cancel,
                              on_event=self._event.emit)
        self._scheduler = scheduler

        def run() -> None:
            try:
                summary = scheduler.run()
            except Exception as exc:  # a bug must not leave the window stuck "generating"
                log.exception("the render stopped on an unexpected error")
                summary = RunSummary(fatal=EngineError(
                    f"The render stopped on an unexpected error ({type(exc).__name__}: {exc}). "
                    "Paragraphs finished before it are saved."))
            finally:
                close = getattr(engine, "close", None)
                if close is not None:
                    close()  # the HTTP connection pool of a network engine
            self._event.emit(summary)

        self._thread = threading.Thread(target=run, name="generation", daemon=True)
        self.started.emit(plan)
        self._thread.start()

    def skip(self, block_id: str) -> bool:
        """Cancel one paragraph of the render if nothing was sent for it yet; return whether."""
        if self._scheduler is None or not self.running:
            return False
        return self._scheduler.skip(BlockId(block_id))

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

    def _exists(self, block_id: BlockId) -> bool:
        try:
            self.session.project.block(block_id)
        except StudioError:
            return False
        return True

    def _on_event(self, event: object) -> None:
        if isinstance(event, TakeReady):
            self.generating.discard(event.block_id)
            if not self._exists(event.block_id):
                # Deleted while it was being generated: nowhere to put the audio.
                self.job_failed.emit(event.block_id, "the paragraph was deleted while it was "
                                     "being generated; its audio was not kept")
            else:
                self.session.add_take(event.take)
                self.take_added.emit(event.block_id)
            self.progress.emit(event.progress)
        elif isinstance(event, JobFailed):
            self.generating.discard(event.block_id)
            self.failures[event.block_id] = str(event.error)
            self.job_failed.emit(event.block_id, str(event.error))
            self.progress.emit(event.progress)
        elif isinstance(event, JobStarted):
            self.job_started.emit(event.block_id, event.part, event.parts)
        elif isinstance(event, JobSkipped):
            self.generating.discard(event.block_id)
            self.job_skipped.emit(event.block_id, event.progress)
            self.progress.emit(event.progress)
        elif isinstance(event, JobRetrying):
            if event.block_id is not None:
                self.job_retrying.emit(event.block_id, event.reason)
            self.retrying.emit(event.reason)
        elif isinstance(event, RunSummary):
            if self._thread is not None:
                # The summary is the thread's last act: let it end, so that handlers of
                # ``finished`` see ``running`` false and may start the next render.
                self._thread.join(5)
            self.generating.clear()
            self._scheduler = None
            self.finished.emit(event)
