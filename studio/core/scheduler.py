"""Run a :class:`~studio.core.generation.Plan`: chains in parallel, each chain in order.

Worker threads take the longest remaining chain and run its jobs one after another (a
request id is only usable for stitching once its response was read completely, which is
when ``Engine.synthesize`` returns). A gate keeps at most ``limit`` requests in flight; the
limit drops to what the server reports (``maximum-concurrent-requests``) and by one on each
429 ``too_many_concurrent_requests``.

Results travel to the thread that called :meth:`Scheduler.run` as events, so only that thread
touches the project and its store: each finished paragraph is saved at once, which is what
makes a render resumable after a cancel, a crash or a kill.

A Text to Dialogue job (an Eleven v3 paragraph of several voices) goes to the engine's
``dialogue`` instead of ``synthesize``; its answer comes back with timings on the paragraph's
text (:func:`~studio.core.generation.dialogue_speech`) and joins the paragraph's take like
any other part.

Single paragraphs can be cancelled while the render runs (:meth:`Scheduler.skip`) as long as
none of their requests was sent; the chain then goes on with the paragraph after it.
"""

from __future__ import annotations

import dataclasses
import heapq
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from studio.core.engines import (
    AuthError,
    Engine,
    EngineError,
    EngineUnavailable,
    QuotaExceeded,
    RateLimited,
    SpeechResult,
)
from studio.core.errors import Cancelled, CancelToken
from studio.core.generation import (
    Chain,
    Job,
    Plan,
    dialogue_speech,
    make_take,
    resolve_request,
)
from studio.core.model import BlockId, Take

log = logging.getLogger(__name__)

#: Errors after which no other request can succeed either: stop the whole render.
FATAL = (AuthError, QuotaExceeded, EngineUnavailable)


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a render is."""

    jobs_done: int
    jobs_total: int
    characters_done: int
    characters_total: int
    in_flight: int
    limit: int
    elapsed: float
    eta: float | None  # seconds, once something has finished

    @property
    def fraction(self) -> float:
        return self.characters_done / self.characters_total if self.characters_total else 1.0


@dataclass(frozen=True, slots=True)
class TakeReady:
    """A paragraph is narrated: its take, to be saved."""

    block_id: BlockId
    take: Take
    progress: Progress


@dataclass(frozen=True, slots=True)
class JobFailed:
    """A paragraph could not be narrated."""

    block_id: BlockId
    job_id: str
    error: EngineError
    progress: Progress


@dataclass(frozen=True, slots=True)
class JobRetrying:
    """A request is waiting to be tried again (rate limit, service error)."""

    job_id: str
    reason: str
    delay: float
    block_id: BlockId | None = None


@dataclass(frozen=True, slots=True)
class JobStarted:
    """A request is being sent (part ``part`` of ``parts`` of a paragraph; again on retries)."""

    block_id: BlockId
    job_id: str
    part: int
    parts: int


@dataclass(frozen=True, slots=True)
class JobSkipped:
    """A paragraph was cancelled on its own before any of its requests was sent."""

    block_id: BlockId
    progress: Progress


Event = TakeReady | JobFailed | JobRetrying | JobStarted | JobSkipped


@dataclass(frozen=True, slots=True)
class _PartsDone:
    """All parts of a paragraph came back (internal: becomes a TakeReady)."""

    block_id: BlockId
    parts: tuple[tuple[Job, SpeechResult], ...]
    progress: Progress


@dataclass(slots=True)
class RunSummary:
    """How a render ended."""

    takes: int = 0
    failed: dict[BlockId, EngineError] = field(default_factory=dict)
    cancelled: bool = False
    skipped: list[BlockId] = field(default_factory=list)  # cancelled one by one, never sent
    fatal: EngineError | None = None
    characters: int = 0
    cost: int = 0
    elapsed: float = 0.0
    max_in_flight: int = 0
    limit: int = 0  # the in-flight limit at the end (lowered by the server's answers)


class _Skipped(Exception):
    """The paragraph of the job about to be sent was cancelled on its own."""


class _Gate:
    """A counting gate whose limit can change while requests run."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.in_flight = 0
        self.peak = 0
        self._cond = threading.Condition()

    def enter(self, cancel: CancelToken) -> None:
        with self._cond:
            while self.in_flight >= self.limit:
                if cancel.cancelled:
                    raise Cancelled("render")
                self._cond.wait(0.05)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def leave(self) -> None:
        with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    def lower(self, limit: int) -> None:
        with self._cond:
            self.limit = max(1, min(self.limit, limit))


class Scheduler:
    """Run a plan's jobs on ``engine`` with at most ``concurrency`` requests in flight.

    ``on_event`` is called on the thread that calls :meth:`run`, never on a worker.
    """

    def __init__(
        self,
        engine: Engine,
        plan: Plan,
        *,
        concurrency: int = 2,
        cancel: CancelToken | None = None,
        on_event: Callable[[Event], None] | None = None,
        max_attempts: int = 8,
        backoff_base: float = 0.25,
        backoff_cap: float = 20.0,
    ) -> None:
        self.engine = engine
        self.plan = plan
        self.cancel = cancel or CancelToken()
        self.on_event = on_event
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._gate = _Gate(concurrency)
        self._workers = max(1, min(concurrency, len(plan.chains)))
        self._events: queue.Queue[Event | _PartsDone | None] = queue.Queue()
        self._lock = threading.Lock()
        self._finished: dict[str, SpeechResult] = {}
        self._chains: list[tuple[int, int, Chain]] = [
            (-c.characters, i, c) for i, c in enumerate(plan.chains)
        ]
        heapq.heapify(self._chains)
        self._jobs_total = len(plan.jobs)
        self._chars_total = plan.characters
        self._jobs_done = 0
        self._chars_done = 0
        self._cost = 0
        self._fatal: EngineError | None = None
        self._started = 0.0
        self._skipped: set[BlockId] = set()  # asked to skip (guarded by _lock)
        self._sent: set[BlockId] = set()  # paragraphs with a request sent (guarded by _lock)
        self._parts = {j.block_id: (j.parts, 0) for j in plan.jobs}
        for j in plan.jobs:
            parts, chars = self._parts[j.block_id]
            self._parts[j.block_id] = (parts, chars + j.characters)

    def skip(self, block_id: BlockId) -> bool:
        """Cancel one paragraph if none of its requests was sent yet; return whether it was.

        Thread-safe: a paragraph is either skipped before its first request leaves, or its
        request is already on its way (paid for) and it goes on.
        """
        with self._lock:
            if block_id not in self._parts or block_id in self._sent:
                return False
            self._skipped.add(block_id)
            return True

    # -- worker side ---------------------------------------------------------------------------

    def _progress(self) -> Progress:
        elapsed = time.monotonic() - self._started
        eta = None
        if self._chars_done:
            rate = self._chars_done / elapsed if elapsed > 0 else 0.0
            eta = (self._chars_total - self._chars_done) / rate if rate else None
        return Progress(
            self._jobs_done, self._jobs_total, self._chars_done, self._chars_total,
            self._gate.in_flight, self._gate.limit, elapsed, eta,
        )

    def _next_chain(self) -> Chain | None:
        with self._lock:
            if not self._chains or self._fatal is not None:
                return None
            return heapq.heappop(self._chains)[2]

    def _check_skipped(self, job: Job, claim: bool = False) -> None:
        """Raise _Skipped for a paragraph cancelled on its own; with ``claim``, mark it sent."""
        with self._lock:
            if job.block_id in self._skipped and job.block_id not in self._sent:
                raise _Skipped(job.block_id)
            if claim:
                self._sent.add(job.block_id)

    def _call(self, job: Job) -> tuple[Job, SpeechResult]:
        """Send one job (with retries the engine itself did not absorb)."""
        attempt = 0
        while True:
            self.cancel.raise_if_cancelled("render")
            with self._lock:
                request = resolve_request(job, self._finished)
            sent = dataclasses.replace(job, request=request)
            self._check_skipped(job)  # before waiting for a free slot
            self._gate.enter(self.cancel)
            try:
                self._check_skipped(job, claim=True)  # a skip may have come while waiting
            except _Skipped:
                self._gate.leave()
                raise
            self._events.put(JobStarted(job.block_id, job.id, job.part, job.parts))
            try:
                if job.dialogue:
                    result = self._dialogue(sent)
                else:
                    result = self.engine.synthesize(request, self.cancel)
            except RateLimited as exc:
                if exc.concurrency:
                    self._gate.lower(self._gate.limit - 1)
                error: EngineError = exc
            except EngineError as exc:
                if not exc.retryable:
                    raise
                error = exc
            else:
                if result.concurrency_limit:
                    self._gate.lower(result.concurrency_limit)
                return sent, result
            finally:
                self._gate.leave()
            attempt += 1
            if attempt >= self.max_attempts:
                raise error
            delay = getattr(error, "retry_after", None)
            if delay is None:
                delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
            self._events.put(JobRetrying(job.id, str(error), delay, job.block_id))
            end = time.monotonic() + delay
            while time.monotonic() < end:
                self.cancel.raise_if_cancelled("render")
                time.sleep(min(0.05, max(0.0, end - time.monotonic())))

    def _dialogue(self, job: Job) -> SpeechResult:
        """Send a Text to Dialogue job; return its answer timed on the paragraph's text."""
        send = getattr(self.engine, "dialogue", None)
        if send is None:
            raise EngineError(f"the {self.engine.name} engine has no Text to Dialogue")
        answer = send(job.dialogue_body(), job.request.output_format, self.cancel)
        return dialogue_speech(job, answer.speech, answer.segments)

    def _run_chain(self, chain: Chain) -> None:
        parts: list[tuple[Job, SpeechResult]] = []
        skip_block: BlockId | None = None
        for job in chain.jobs:
            if job.block_id == skip_block:
                continue
            try:
                sent, result = self._call(job)
            except _Skipped:
                skip_block = job.block_id
                n_parts, chars = self._parts[job.block_id]
                with self._lock:
                    self._jobs_total -= n_parts
                    self._chars_total -= chars
                    progress = self._progress()
                self._events.put(JobSkipped(job.block_id, progress))
                continue
            except Cancelled:
                raise
            except EngineError as exc:
                if isinstance(exc, FATAL):
                    with self._lock:
                        if self._fatal is None:
                            self._fatal = exc
                    self.cancel.cancel()
                    raise Cancelled("render") from exc
                parts = []
                skip_block = job.block_id
                with self._lock:
                    self._jobs_done += 1
                    progress = self._progress()
                self._events.put(JobFailed(job.block_id, job.id, exc, progress))
                continue
            with self._lock:
                self._finished[job.id] = result
                self._cost += result.cost
            parts.append((sent, result))
            if job.part == job.parts - 1:
                # The take (decoding, peak summaries) is built on the consuming thread, so
                # the chain's next request goes out at once.
                with self._lock:
                    self._jobs_done += job.parts
                    self._chars_done += sum(len(j.request.text) for j, _ in parts)
                    progress = self._progress()
                self._events.put(_PartsDone(job.block_id, tuple(parts), progress))
                parts = []

    def _worker(self) -> None:
        try:
            while not self.cancel.cancelled:
                chain = self._next_chain()
                if chain is None:
                    return
                self._run_chain(chain)
        except Cancelled:
            return
        except Exception:  # a bug must not hang the render: report and stop
            log.exception("render worker failed")
            self.cancel.cancel()
        finally:
            self._events.put(None)

    # -- caller side --------------------------------------------------------------------------

    def run(self) -> RunSummary:
        """Run the plan; deliver events on this thread; return when all work has stopped."""
        self._started = time.monotonic()
        summary = RunSummary()
        threads = [
            threading.Thread(target=self._worker, name=f"render-{i}", daemon=True)
            for i in range(self._workers)
        ]
        for t in threads:
            t.start()
        running = len(threads)
        while running:
            event = self._events.get()
            if event is None:
                running -= 1
                continue
            if isinstance(event, _PartsDone):
                try:
                    take = make_take(event.parts, self.engine.name)
                except Exception as exc:  # undecodable audio: this paragraph failed
                    log.exception("could not build the take of %s", event.block_id)
                    error = EngineError(f"the audio received could not be read ({exc})")
                    event = JobFailed(event.block_id, event.parts[-1][0].id, error,
                                      event.progress)
                else:
                    event = TakeReady(event.block_id, take, event.progress)
            if isinstance(event, TakeReady):
                summary.takes += 1
            elif isinstance(event, JobFailed):
                summary.failed[event.block_id] = event.error
            elif isinstance(event, JobSkipped):
                summary.skipped.append(event.block_id)
            if self.on_event is not None:
                self.on_event(event)
        for t in threads:
            t.join()
        summary.cancelled = self.cancel.cancelled and self._fatal is None and bool(
            self._chains or self._jobs_done < self._jobs_total
        )
        summary.fatal = self._fatal
        summary.characters = self._chars_done
        summary.cost = self._cost
        summary.elapsed = time.monotonic() - self._started
        summary.max_in_flight = self._gate.peak
        summary.limit = self._gate.limit
        return summary
