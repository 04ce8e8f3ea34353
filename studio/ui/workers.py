"""Generation off the GUI thread, with results applied on it.

The :class:`GenerationController` runs a :class:`~studio.core.scheduler.Scheduler` on a
Python thread; the scheduler's events cross to the GUI thread through a queued Qt signal,
and the controller records each take through the session there, so only the GUI thread
touches the project and its file.

Events are applied at most every :data:`APPLY_INTERVAL_MS`: the takes that arrived
meanwhile are saved in one transaction and announced in one ``changed``, then each event's
own signals follow in order. A fast engine on a long chapter would otherwise make the GUI
thread save and repaint for every paragraph.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

from studio.core.engines import Engine, EngineError
from studio.core.errors import CancelToken, StudioError
from studio.core.generation import Plan
from studio.core.model import BlockId, ChapterId
from studio.core.scheduler import (
    JobFailed,
    JobRetrying,
    JobSkipped,
    JobStarted,
    Progress,
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

#: Takes that arrive closer together than this are saved and announced together.
APPLY_INTERVAL_MS = 100


class GenerationController(QObject):
    """Run renders one at a time and apply their results to the session.

    Signals:
        started(object): the Plan being run.
        progress(object): a scheduler Progress, at most once per batch of events applied.
        take_added(str): a paragraph's new take was recorded (block id); once per take,
            after the whole batch it came in was saved.
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
        self._unfinished = False  # started, and its RunSummary not handled yet
        self._scheduler: Scheduler | None = None
        self._pending: list[object] = []  # events received, not applied yet
        self._applied_at = 0.0
        self._apply_timer = QTimer(self)
        self._apply_timer.setSingleShot(True)
        self._apply_timer.timeout.connect(self._apply_pending)
        self._event.connect(self._on_event)

    @property
    def running(self) -> bool:
        """Return whether a render is under way.

        It is until its summary has been handled on the GUI thread: the worker thread ends
        first, and takes it sent may still wait in the event queue to be saved.
        """
        return self._thread is not None and (self._thread.is_alive() or self._unfinished)

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
        self._unfinished = True
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
        self._apply_pending()  # takes already received are paid for: save them now
        return not self._thread.is_alive()

    def _exists(self, block_id: BlockId) -> bool:
        try:
            self.session.project.block(block_id)
        except StudioError:
            return False
        return True

    def _on_event(self, event: object) -> None:
        self._pending.append(event)
        if isinstance(event, RunSummary):
            self._apply_pending()  # the last event: nothing to wait for
        elif not self._apply_timer.isActive():
            # The first event after a quiet spell is applied at once; a burst waits for
            # the interval to be over and is applied together.
            wait = APPLY_INTERVAL_MS - (time.monotonic() - self._applied_at) * 1000
            if wait <= 0:
                self._apply_pending()
            else:
                self._apply_timer.start(int(wait) + 1)

    def _apply_pending(self) -> None:
        """Save the takes received so far in one go, then emit each event's signals."""
        self._apply_timer.stop()
        events, self._pending = self._pending, []
        self._applied_at = time.monotonic()
        if not events:
            return
        ready = [e for e in events if isinstance(e, TakeReady)]
        for take_event in ready:  # painted as narrated, not as generating, once saved
            self.generating.discard(take_event.block_id)
        kept = [e for e in ready if self._exists(e.block_id)]
        if kept:
            self.session.add_takes([e.take for e in kept])
        applied = {id(e) for e in kept}
        progress: Progress | None = None
        for event in events:
            if isinstance(event, RunSummary) and progress is not None:
                self.progress.emit(progress)
                progress = None
            progress = self._emit(event, id(event) in applied) or progress
        if progress is not None:
            self.progress.emit(progress)

    def _emit(self, event: object, applied: bool) -> Progress | None:
        """Emit the signals of one applied event; return its Progress, if it has one."""
        if isinstance(event, TakeReady):
            if not applied:
                # Deleted while it was being generated: nowhere to put the audio.
                self.job_failed.emit(event.block_id, "the paragraph was deleted while it was "
                                     "being generated; its audio was not kept")
            else:
                self.take_added.emit(event.block_id)
            return event.progress
        if isinstance(event, JobFailed):
            self.generating.discard(event.block_id)
            self.failures[event.block_id] = str(event.error)
            self.job_failed.emit(event.block_id, str(event.error))
            return event.progress
        if isinstance(event, JobStarted):
            self.job_started.emit(event.block_id, event.part, event.parts)
        elif isinstance(event, JobSkipped):
            self.generating.discard(event.block_id)
            self.job_skipped.emit(event.block_id, event.progress)
            return event.progress
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
            self._unfinished = False
            self.finished.emit(event)
        return None
