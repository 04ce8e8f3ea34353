"""Cancelling single paragraphs of a running render, and the 'sending' event."""

from __future__ import annotations

import threading

from studio.core.catalog import ModelInfo
from studio.core.engines import (
    Capability,
    EngineModel,
    EngineVoice,
    ServiceError,
    SpeechRequest,
    SpeechResult,
)
from studio.core.errors import CancelToken
from studio.core.generation import plan_render
from studio.core.model import BlockId
from studio.core.scheduler import (
    Event,
    JobRetrying,
    JobSkipped,
    JobStarted,
    Scheduler,
    TakeReady,
)
from tests.core.factories import make_project, wav_bytes


class ScriptedEngine:
    """Answer with a short tone; hold requests whose text matches ``hold`` until released."""

    name = "elevenlabs"
    capabilities = Capability.TTS

    def __init__(self, hold: str | None = None, fail_once: str | None = None) -> None:
        self.hold = hold
        self.fail_once = fail_once
        self.release = threading.Event()
        self.holding = threading.Event()
        self.sent: list[SpeechRequest] = []
        self._lock = threading.Lock()

    def synthesize(self, request: SpeechRequest, cancel: CancelToken | None = None
                   ) -> SpeechResult:
        with self._lock:
            self.sent.append(request)
            n = len(self.sent)
        if self.fail_once and self.fail_once in request.text:
            self.fail_once = None
            raise ServiceError("HTTP 500; retrying", retry_after=0.01)
        if self.hold and self.hold in request.text:
            self.holding.set()
            assert self.release.wait(10)
        return SpeechResult(wav_bytes(0.1), "wav_22050", 22050, 0.1, request_id=f"req{n:017d}",
                            cost=len(request.text))

    def voices(self) -> list[EngineVoice]:
        return []

    def models(self) -> list[EngineModel]:
        return []


def _texts(engine: ScriptedEngine) -> list[str]:
    return [r.text for r in engine.sent]


def test_skip_while_running_sends_nothing_for_that_paragraph() -> None:
    project = make_project(chapters=1, blocks=4)
    blocks = project.chapters[0].blocks
    plan = plan_render(project, engine="elevenlabs", output_format="wav_22050")
    engine = ScriptedEngine(hold=blocks[0].text)
    events: list[Event] = []
    scheduler = Scheduler(engine, plan, concurrency=1, on_event=events.append)
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(scheduler.run()))
    thread.start()
    assert engine.holding.wait(10)
    assert not scheduler.skip(blocks[0].id)  # already on its way: paid for, goes on
    assert scheduler.skip(blocks[2].id)
    assert not scheduler.skip(BlockId("not-in-this-plan"))
    engine.release.set()
    thread.join(10)
    summary = result[0]

    assert _texts(engine) == [blocks[0].text, blocks[1].text, blocks[3].text]
    assert summary.takes == 3 and summary.skipped == [blocks[2].id]  # type: ignore[attr-defined]
    assert not summary.cancelled and not summary.failed  # type: ignore[attr-defined]
    started = [e.block_id for e in events if isinstance(e, JobStarted)]
    assert started == [blocks[0].id, blocks[1].id, blocks[3].id]
    skipped = [e for e in events if isinstance(e, JobSkipped)]
    assert [e.block_id for e in skipped] == [blocks[2].id]
    last = [e for e in events if isinstance(e, TakeReady)][-1].progress
    # The skipped paragraph left the totals: the render ends at 100 %.
    assert last.jobs_done == last.jobs_total == 3 and last.fraction == 1.0
    assert not scheduler.skip(blocks[3].id)  # finished


def test_skipped_paragraph_is_left_out_of_stitching() -> None:
    project = make_project(chapters=1, blocks=3)
    blocks = project.chapters[0].blocks
    plan = plan_render(project, engine="elevenlabs", output_format="wav_22050")
    engine = ScriptedEngine()
    scheduler = Scheduler(engine, plan, concurrency=2)
    assert scheduler.skip(blocks[1].id)  # before the run starts
    summary = scheduler.run()
    assert _texts(engine) == [blocks[0].text, blocks[2].text]
    assert summary.skipped == [blocks[1].id] and summary.takes == 2
    # The third paragraph is stitched to the first: the skipped one has no request id.
    assert engine.sent[1].previous_request_ids == ("req00000000000000001",)


def test_a_started_multi_part_paragraph_cannot_be_skipped_and_retries_say_sending() -> None:
    project = make_project(chapters=1, blocks=2)
    blocks = project.chapters[0].blocks
    blocks[0].text = "First part is here. Second part is there."
    small = ModelInfo("eleven_multilingual_v2", "small", 25, True, 1.0)
    plan = plan_render(project, engine="elevenlabs", model=small, output_format="wav_22050")
    assert [j.parts for j in plan.jobs][:2] == [2, 2]
    engine = ScriptedEngine(hold="First part", fail_once="Second part")
    events: list[Event] = []
    scheduler = Scheduler(engine, plan, concurrency=1, on_event=events.append,
                          backoff_base=0.01)
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(scheduler.run()))
    thread.start()
    assert engine.holding.wait(10)
    assert not scheduler.skip(blocks[0].id)  # its first part is out: the rest must follow
    engine.release.set()
    thread.join(10)
    summary = result[0]
    assert summary.takes == 2 and summary.skipped == []  # type: ignore[attr-defined]
    retry = next(e for e in events if isinstance(e, JobRetrying))
    assert retry.block_id == blocks[0].id and "500" in retry.reason
    sends = [(e.block_id, e.part) for e in events if isinstance(e, JobStarted)]
    # part 1 is sent twice (the retry), then the second paragraph
    assert sends == [(blocks[0].id, 0), (blocks[0].id, 1), (blocks[0].id, 1), (blocks[1].id, 0)]
