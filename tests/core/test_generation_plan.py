"""The planner: chains, skipping, reuse, splitting and the stitching references of each job."""

from __future__ import annotations

import dataclasses

from studio.core import model as m
from studio.core.catalog import ModelInfo
from studio.core.engines import SpeechResult
from studio.core.generation import (
    STITCH_MAX_AGE_S,
    Ref,
    plan_render,
    resolve_request,
    snapshot,
)
from studio.core.model import BlockId, ChapterId, VoiceId, VoiceSpan
from tests.core.factories import make_project, make_take

NOW = 1_800_000_000.0


def _with_take(project: m.Project, block_id: str, request_id: str, age: float = 60) -> None:
    take = dataclasses.replace(
        make_take(project, BlockId(block_id)), request_id=request_id, created=NOW - age
    )
    m.add_take(project, take)


def test_one_chain_per_chapter_and_voice_longest_first() -> None:
    project = make_project(chapters=2, blocks=4)
    m.add_voice(project, m.Voice(VoiceId("v2"), "Holmes", engine="elevenlabs",
                                 engine_voice_id="JBFqnCBsd6RMkjVDRZzb"))
    m.set_block_voice(project, BlockId("c1b1"), VoiceId("v2"))
    m.set_block_text(project, BlockId("c1b0"), "A much longer paragraph. " * 20)
    plan = plan_render(project, engine="elevenlabs", now=NOW)
    keys = [c.key for c in plan.chains]
    assert sorted(keys) == sorted(["c0:v-narrator", "c1:v-narrator", "c1:v2"])
    assert keys[0] == "c1:v-narrator"  # longest first
    assert [c.characters for c in plan.chains] == sorted(
        (c.characters for c in plan.chains), reverse=True
    )
    chain = next(c for c in plan.chains if c.key == "c0:v-narrator")
    assert [j.block_id for j in chain.jobs] == ["c0b0", "c0b1", "c0b2", "c0b3"]
    assert plan.paragraphs == 8 and plan.credits == plan.characters


def test_stitching_refs_in_a_fresh_chapter() -> None:
    project = make_project(chapters=1, blocks=5)
    plan = plan_render(project, engine="elevenlabs", now=NOW)
    jobs = plan.jobs
    assert jobs[0].prev_refs == ()
    assert jobs[1].prev_refs == (Ref(job_id="c0b0:0"),)
    assert jobs[4].prev_refs == (Ref(job_id="c0b1:0"), Ref(job_id="c0b2:0"),
                                 Ref(job_id="c0b3:0"))
    assert all(j.next_refs == () for j in jobs)  # nothing after them exists yet
    assert jobs[2].request.previous_text.endswith("Paragraph 2 of chapter 1.")
    assert jobs[2].request.next_text.startswith("Paragraph 4 of chapter 1.")


def test_regenerating_the_middle_uses_existing_ids_both_ways() -> None:
    project = make_project(chapters=1, blocks=7)
    for i in range(7):
        _with_take(project, f"c0b{i}", f"req{i}")
    m.set_block_text(project, BlockId("c0b3"), "A corrected middle paragraph.")
    plan = plan_render(project, engine="elevenlabs", now=NOW)
    assert plan.skipped == 6 and len(plan.jobs) == 1
    job = plan.jobs[0]
    assert [r.request_id for r in job.prev_refs] == ["req0", "req1", "req2"]
    assert [r.request_id for r in job.next_refs] == ["req4", "req5", "req6"]
    sent = resolve_request(job, {}, now=NOW)
    assert sent.previous_request_ids == ("req0", "req1", "req2")
    assert sent.next_request_ids == ("req4", "req5", "req6")


def test_ids_older_than_two_hours_are_not_sent() -> None:
    project = make_project(chapters=1, blocks=3)
    _with_take(project, "c0b0", "old", age=STITCH_MAX_AGE_S + 1)
    _with_take(project, "c0b2", "fresh", age=10)
    plan = plan_render(project, engine="elevenlabs", now=NOW)
    job = plan.jobs[0]
    assert job.block_id == "c0b1"
    assert job.prev_refs == () and [r.request_id for r in job.next_refs] == ["fresh"]
    sent = resolve_request(job, {}, now=NOW)
    assert sent.previous_request_ids == () and sent.previous_text  # text where no ids


def test_in_run_ids_resolve_once_finished() -> None:
    project = make_project(chapters=1, blocks=3)
    plan = plan_render(project, engine="elevenlabs", now=NOW)
    done = {"c0b0:0": SpeechResult(b"", "mp3_44100_128", 44100, 1.0, request_id="R0"),
            "c0b1:0": SpeechResult(b"", "mp3_44100_128", 44100, 1.0, request_id="R1")}
    assert resolve_request(plan.jobs[2], done, now=NOW).previous_request_ids == ("R0", "R1")


def test_v3_and_offline_carry_no_stitching() -> None:
    project = make_project(chapters=1, blocks=3)
    m.set_project_meta(project, model_id="eleven_v3")
    plan = plan_render(project, engine="elevenlabs", now=NOW)
    assert all(j.prev_refs == () and j.request.previous_text is None for j in plan.jobs)
    m.update_voice(project, VoiceId("v-narrator"), engine="offline", engine_voice_id="en-us")
    plan = plan_render(project, engine="offline", now=NOW)
    assert all(j.prev_refs == () and j.request.next_text is None for j in plan.jobs)


def test_converted_skipped_and_older_matching_take_reused() -> None:
    project = make_project(chapters=1, blocks=2)
    _with_take(project, "c0b0", "a")
    original = project.block(BlockId("c0b1")).text
    _with_take(project, "c0b1", "b")
    old_take = project.block(BlockId("c0b1")).current_take
    m.set_block_text(project, BlockId("c0b1"), "Changed.")
    m.set_block_text(project, BlockId("c0b1"), original)  # back to what the take says
    m.set_current_take(project, BlockId("c0b1"), None)
    plan = plan_render(project, engine="elevenlabs", now=NOW)
    assert plan.jobs == [] and plan.skipped == 1
    assert plan.reused == ((BlockId("c0b1"), old_take.id),)


def test_text_over_the_limit_splits_at_sentences() -> None:
    project = make_project(chapters=1, blocks=1)
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    m.set_block_text(project, BlockId("c0b0"), text)
    small = ModelInfo("eleven_multilingual_v2", "ML", 200, True, 1.0)
    plan = plan_render(project, engine="elevenlabs", model=small, now=NOW)
    parts = plan.jobs
    assert len(parts) > 1 and all(len(j.request.text) <= 200 for j in parts)
    assert " ".join(j.request.text for j in parts) == text
    assert all(j.request.text.endswith(".") for j in parts)
    assert parts[1].prev_refs == (Ref(job_id="c0b0:0"),)
    assert {j.parts for j in parts} == {len(parts)}


def test_voice_spans_become_parts_with_their_voice() -> None:
    project = make_project(chapters=1, blocks=1)
    m.add_voice(project, m.Voice(VoiceId("v2"), "Holmes", engine="elevenlabs",
                                 engine_voice_id="JBFqnCBsd6RMkjVDRZzb"))
    text = 'He said: "Come at once." Then he left.'
    m.set_block_text(project, BlockId("c0b0"), text)
    m.set_block_spans(project, BlockId("c0b0"), [VoiceSpan(9, 24, VoiceId("v2"))])
    jobs = plan_render(project, engine="elevenlabs", now=NOW).jobs
    assert [(j.request.text, j.request.voice_id) for j in jobs] == [
        ("He said:", "21m00Tcm4TlvDq8ikWAM"),
        ('"Come at once."', "JBFqnCBsd6RMkjVDRZzb"),
        ("Then he left.", "21m00Tcm4TlvDq8ikWAM"),
    ]


def test_scope_and_engine_mismatch() -> None:
    project = make_project(chapters=3, blocks=2)
    plan = plan_render(project, engine="elevenlabs", chapters=[ChapterId("c1")], now=NOW)
    assert {j.chapter_id for j in plan.jobs} == {"c1"}
    plan = plan_render(project, engine="offline", now=NOW)
    assert plan.jobs == [] and len(plan.problems) == 6
    assert "belongs to the elevenlabs engine" in plan.problems[0]


def test_ids_that_age_during_a_long_render_are_dropped_when_sent() -> None:
    project = make_project(chapters=1, blocks=3)
    _with_take(project, "c0b0", "aging", age=STITCH_MAX_AGE_S - 60)
    job = plan_render(project, engine="elevenlabs", now=NOW).jobs[0]
    assert resolve_request(job, {}, now=NOW).previous_request_ids == ("aging",)
    later = resolve_request(job, {}, now=NOW + 120)  # two minutes into the render
    assert later.previous_request_ids == () and later.previous_text


def test_neighbours_split_into_parts_give_their_nearest_ids() -> None:
    project = make_project(chapters=1, blocks=3)
    for i, ids in enumerate((["a1", "a2"], ["b1"], ["c1", "c2", "c3"])):
        _with_take(project, f"c0b{i}", ids[-1])
        take = project.block(BlockId(f"c0b{i}")).current_take
        take.settings["request_ids"] = ids
    m.set_block_text(project, BlockId("c0b1"), "Rewritten middle.")
    job = plan_render(project, engine="elevenlabs", now=NOW).jobs[0]
    sent = resolve_request(job, {}, now=NOW)
    assert sent.previous_request_ids == ("a2",)  # the last part before it
    assert sent.next_request_ids == ("c1",)  # the first part after it


def test_v3_split_parts_send_no_neighbour_text() -> None:
    project = make_project(chapters=1, blocks=1)
    m.set_project_meta(project, model_id="eleven_v3")
    m.set_block_text(project, BlockId("c0b0"), "A sentence that goes on. " * 200)
    jobs = plan_render(project, engine="elevenlabs", now=NOW).jobs
    assert len(jobs) >= 3 and all(len(j.request.text) <= 2000 for j in jobs)
    assert all(j.request.previous_text is None and j.request.next_text is None for j in jobs)


def test_planning_a_long_chapter_looks_each_paragraph_voice_up_a_bounded_number_of_times(
        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each paragraph's neighbours of its voice are found without rescanning the chapter."""
    n = 2000
    project = make_project(chapters=1, blocks=n)
    m.add_voice(project, m.Voice(VoiceId("v2"), "Holmes", engine="elevenlabs",
                                 engine_voice_id="JBFqnCBsd6RMkjVDRZzb"))
    for i in range(1, n, 2):  # the voices alternate
        m.set_block_voice(project, BlockId(f"c0b{i}"), VoiceId("v2"))
    for i in range(9, n, 10):  # every tenth paragraph is narrated already
        _with_take(project, f"c0b{i}", f"req{i}")
    calls = 0
    voice_for = m.Project.voice_for

    def counting(self: m.Project, block: m.Block) -> m.Voice | None:
        nonlocal calls
        calls += 1
        return voice_for(self, block)

    monkeypatch.setattr(m.Project, "voice_for", counting)
    plan = plan_render(project, engine="elevenlabs", now=NOW)
    assert calls < 5 * n
    assert plan.skipped == n // 10 and len(plan.jobs) == n - n // 10
    jobs = {j.block_id: j for j in plan.jobs}
    # The stitching is still that of each voice's own paragraphs, in reading order.
    assert jobs[BlockId("c0b100")].prev_refs == (
        Ref(job_id="c0b94:0"), Ref(job_id="c0b96:0"), Ref(job_id="c0b98:0"))
    holmes = jobs[BlockId("c0b97")]
    assert holmes.prev_refs == (
        Ref(job_id="c0b91:0"), Ref(job_id="c0b93:0"), Ref(job_id="c0b95:0"))
    assert [r.request_id for r in holmes.next_refs] == ["req99"]
    assert holmes.request.previous_text.endswith("Paragraph 97 of chapter 1.")
    assert holmes.request.next_text.startswith("Paragraph 99 of chapter 1.")


def test_a_snapshot_plans_like_the_project_and_is_not_changed_by_later_edits() -> None:
    project = make_project(chapters=2, blocks=4)
    m.add_voice(project, m.Voice(VoiceId("v2"), "Holmes", engine="elevenlabs",
                                 engine_voice_id="JBFqnCBsd6RMkjVDRZzb"))
    m.set_block_voice(project, BlockId("c1b1"), VoiceId("v2"))
    m.set_block_spans(project, BlockId("c1b2"), [VoiceSpan(0, 9, VoiceId("v2"))])
    m.set_block_locked(project, BlockId("c1b3"), True)
    _with_take(project, "c0b1", "req1")
    copy = snapshot(project)
    assert copy == project  # every field of every paragraph, voice and setting
    assert plan_render(copy, engine="elevenlabs", now=NOW) == plan_render(
        project, engine="elevenlabs", now=NOW)
    m.set_block_text(project, BlockId("c0b0"), "Changed after the snapshot.")
    m.update_voice(project, VoiceId("v2"), speed=1.2)
    _with_take(project, "c0b2", "req2")
    assert copy.chapters[0].blocks[0].text == "Paragraph 1 of chapter 1."
    assert copy.voices[VoiceId("v2")].speed == 1.0
    assert copy.chapters[0].blocks[2].takes == []
    only = snapshot(project, [ChapterId("c1")])
    assert [len(c.blocks) for c in only.chapters] == [0, 4]
