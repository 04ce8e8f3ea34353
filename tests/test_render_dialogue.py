"""Eleven v3 renders a paragraph of several voices as Text to Dialogue (contract §7).

Against the loopback fake server: what was sent (one dialogue request with the paragraph's
runs in order and their voices), the take (one per paragraph, timed on its own text), the
limits (2,000 characters, 10 voices), and that other models and the offline engine keep
one request per voice run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core import model as m
from studio.core import v3
from studio.core.engines.elevenlabs import ElevenLabsEngine
from studio.core.generation import Plan, plan_render
from studio.core.model import BlockId, ChapterId, Project, VoiceId, VoiceSpan
from studio.core.scheduler import RunSummary, Scheduler, TakeReady
from studio.core.store import ProjectStore
from tests.fakes.fake_elevenlabs import FakeElevenLabs

ROOT = Path(__file__).resolve().parents[1]
RACHEL = "21m00Tcm4TlvDq8ikWAM"
DREW = "29vD33N1CtxCmqQRPOHJ"
VOICES = ["21m00Tcm4TlvDq8ikWAM", "29vD33N1CtxCmqQRPOHJ", "2EiwWnXFnvU5JabPnv8n",
          "AZnzlk1XvdvUeBnXmlld", "CYw3kZ02Hs0563khs1Fj", "D38z5RcWu1voky8WS1ja",
          "EXAVITQu4vr4xnSDxMaL", "ErXwobaYiN019PkySvjV", "IKne3meq5aSn9XLyUdCD",
          "JBFqnCBsd6RMkjVDRZzb", "ThT5KcBeYPX3keUQqHPh", "onwK4e9ZLuTAKqWW03F9"]
CAST = ("“Come in,” said Holmes, without looking up. “Sit down, Watson. You have been in "
        "Afghanistan, I perceive.” I stared at him in astonishment. “How on earth did you "
        "know that?”")


def _spans(text: str, *who: str) -> list[VoiceSpan]:
    """Voice spans on the quoted lines of ``text``, the n-th quote read by ``who[n]``."""
    spans, at = [], 0
    for voice in who:
        start = text.index("“", at)
        at = text.index("”", start) + 1
        spans.append(VoiceSpan(start, at, VoiceId(voice)))
    return spans


def book(model_id: str = "eleven_v3") -> Project:
    """A chapter: a narrated paragraph, a cast paragraph (Holmes and Watson), another one."""
    project = Project(title="Dialogue", model_id=model_id)
    m.add_voice(project, m.Voice(VoiceId("narrator"), "Narrator", engine="elevenlabs",
                                 engine_voice_id=RACHEL))
    m.add_voice(project, m.Voice(VoiceId("holmes"), "Holmes", engine="elevenlabs",
                                 engine_voice_id=DREW))
    m.add_voice(project, m.Voice(VoiceId("watson"), "Watson", engine="elevenlabs",
                                 engine_voice_id=VOICES[6]))
    m.add_chapter(project, "Chapter 1", [
        "It was a cold morning in the early spring when I first called at Baker Street.",
        CAST,
        "He smiled, and did not answer at once.",
    ], chapter_id=ChapterId("c0"))
    cast = project.chapters[0].blocks[1]
    m.set_block_spans(project, cast.id, _spans(CAST, "holmes", "holmes", "watson"))
    return project


def render(project: Project, fake: FakeElevenLabs, store: ProjectStore | None = None,
           ) -> tuple[Plan, RunSummary]:
    engine = ElevenLabsEngine("test-key", fake.base_url, backoff_base=0.01)
    plan = plan_render(project, engine="elevenlabs", output_format="mp3_44100_128")

    def save(event: object) -> None:
        if isinstance(event, TakeReady):
            changes = m.add_take(project, event.take)
            if store is not None:
                store.save(project, changes)

    try:
        summary = Scheduler(engine, plan, concurrency=2, on_event=save,
                            backoff_base=0.01).run()
    finally:
        engine.close()
    assert summary.failed == {} and summary.fatal is None
    return plan, summary


def _dialogue_posts(fake: FakeElevenLabs) -> list[object]:
    return [r for r in fake.requests if r.path.startswith("/v1/text-to-dialogue")]


def _check_timed_on_paragraph(take: m.Take, text: str) -> None:
    """The take's timings are on the paragraph's own text and cover all of its audio."""
    assert take.text == text
    assert take.char_timings is not None
    assert "".join(take.char_timings.characters) == text
    starts, ends = take.char_timings.starts, take.char_timings.ends
    assert all(a <= b for a, b in zip(starts, ends, strict=True))
    assert list(starts) == sorted(starts)
    assert [w.word for w in take.word_timings] == text.split()
    for w in take.word_timings:
        assert text[w.char_start:w.char_end] == w.word and w.start <= w.end
    assert take.word_timings[0].start == pytest.approx(0.0, abs=0.05)
    assert take.word_timings[-1].end == pytest.approx(take.duration, abs=0.1)


def test_v3_cast_paragraph_is_one_dialogue_request_and_one_take(
        tmp_path: Path, fake_eleven: FakeElevenLabs) -> None:
    project = book()
    store = ProjectStore.create(tmp_path / "d.studio", project)
    plan, summary = render(project, fake_eleven, store)
    assert plan.dialogue_requests == 1 and plan.dialogue_paragraphs == 1
    assert len(plan.jobs) == 3  # one request per paragraph

    (post,) = _dialogue_posts(fake_eleven)
    assert post.path == "/v1/text-to-dialogue/with-timestamps"
    assert post.json["model_id"] == "eleven_v3"
    assert post.json["inputs"] == [
        {"text": "“Come in,”", "voice_id": DREW},
        {"text": "said Holmes, without looking up.", "voice_id": RACHEL},
        {"text": "“Sit down, Watson. You have been in Afghanistan, I perceive.”",
         "voice_id": DREW},
        {"text": "I stared at him in astonishment.", "voice_id": RACHEL},
        {"text": "“How on earth did you know that?”", "voice_id": VOICES[6]},
    ]
    assert not set(v3.STITCHING_FIELDS) & set(post.json)  # v3: no stitching
    tts = [r for r in fake_eleven.requests if r.path.startswith("/v1/text-to-speech")]
    assert len(tts) == 2 and all(CAST not in str(r.json) for r in tts)
    # Charged what the plan said.
    assert fake_eleven.character_count == plan.characters == summary.cost

    cast = project.chapters[0].blocks[1]
    take = cast.current_take
    assert take is not None and m.block_status(project, cast) is m.BlockStatus.CONVERTED
    (gen,) = [g for g in fake_eleven.generations.values() if g.endpoint.startswith("dialogue")]
    assert take.request_id == gen.request_id
    assert take.duration == pytest.approx(gen.duration_s, abs=0.05)
    _check_timed_on_paragraph(take, CAST)
    # The words of each voice are timed where that voice speaks.
    afghanistan = next(w for w in take.word_timings if w.word == "Afghanistan,")
    assert afghanistan.start > next(w for w in take.word_timings if w.word == "said").end
    assert {b.id: m.block_status(project, b) for b in project.chapters[0].blocks} == {
        b.id: m.BlockStatus.CONVERTED for b in project.chapters[0].blocks}
    store.close()

    # A second render has nothing to send.
    before = len(fake_eleven.requests)
    with ProjectStore.open(tmp_path / "d.studio", read_only=True) as again:
        loaded = again.load()
        assert plan_render(loaded, engine="elevenlabs").jobs == []
        saved = loaded.chapters[0].blocks[1].current_take
        assert saved is not None and saved.char_timings == take.char_timings
    assert len(fake_eleven.requests) == before


def test_long_dialogue_paragraph_splits_into_requests_within_the_limits(
        fake_eleven: FakeElevenLabs) -> None:
    project = book()
    sentence = "The night was long, and the fire burned low in the grate. "
    lines = [f"“{(sentence * 4).strip()}”" for _ in range(12)]
    text = " said one, and another answered: ".join(lines)
    block = project.chapters[0].blocks[1]
    m.set_block_text(project, block.id, text)
    for n, voice in enumerate(VOICES):
        m.add_voice(project, m.Voice(VoiceId(f"v{n}"), f"Voice {n}", engine="elevenlabs",
                                     engine_voice_id=voice))
    m.set_block_spans(project, block.id, _spans(text, *(f"v{n}" for n in range(12))))
    plan, _ = render(project, fake_eleven)
    posts = _dialogue_posts(fake_eleven)
    assert len(posts) == plan.dialogue_requests >= 2
    sent = [i for p in posts for i in p.json["inputs"]]
    assert " ".join(i["text"] for i in sent) == " ".join(text.split())  # all of it, in order
    for p in posts:
        inputs = p.json["inputs"]
        assert len(" ".join(i["text"] for i in inputs)) <= v3.DIALOGUE_MAX_CHARS
        assert len({i["voice_id"] for i in inputs}) <= v3.DIALOGUE_MAX_VOICES
        assert inputs[-1]["text"][-1] in ".”:"  # split between lines or sentences
    take = project.block(block.id).current_take
    assert take is not None and len(take.settings["request_ids"]) == len(posts)
    gens = [g for g in fake_eleven.generations.values() if g.endpoint.startswith("dialogue")]
    assert take.duration == pytest.approx(sum(g.duration_s for g in gens), abs=0.2)
    _check_timed_on_paragraph(take, text)

    # One line longer than a request is split at its sentences.
    long_line = f"“{(sentence * 50).strip()}”"
    groups = v3.paragraph_dialogue(long_line + " he said.", [
        (0, len(long_line), DREW), (len(long_line) + 1, len(long_line) + 9, RACHEL)])
    assert len(groups) >= 2
    assert all(len(" ".join(x.text for x in g)) <= v3.DIALOGUE_MAX_CHARS for g in groups)
    assert all(x.text.endswith((".", ".”")) for g in groups[:-1] for x in g)


def test_other_models_and_the_offline_engine_keep_a_request_per_voice_run(
        fake_eleven: FakeElevenLabs) -> None:
    project = book(model_id="eleven_multilingual_v2")
    plan, _ = render(project, fake_eleven)
    assert plan.dialogue_requests == 0 and _dialogue_posts(fake_eleven) == []
    cast_jobs = [j for j in plan.jobs if j.block_id == project.chapters[0].blocks[1].id]
    assert [j.request.voice_id for j in cast_jobs] == [DREW, RACHEL, DREW, RACHEL, VOICES[6]]

    offline = book()
    for voice in list(offline.voices.values()):
        m.update_voice(offline, voice.id, engine="offline", engine_voice_id="en-us")
    plan = plan_render(offline, engine="offline")
    assert plan.dialogue_requests == 0 and len(plan.jobs) == 2 + 5

    # A v3 paragraph whose spans all have the paragraph's voice is plain Text to Speech.
    single = book()
    m.update_voice(single, VoiceId("holmes"), engine_voice_id=RACHEL)
    m.update_voice(single, VoiceId("watson"), engine_voice_id=RACHEL)
    assert plan_render(single, engine="elevenlabs").dialogue_requests == 0


def test_dry_run_shows_the_dialogue_requests(tmp_path: Path,
                                             fake_eleven: FakeElevenLabs) -> None:
    path = tmp_path / "d.studio"
    ProjectStore.create(path, book()).close()
    env = dict(os.environ, ELEVENLABS_API_KEY="test-key", ELEVENLABS_BASE_URL=fake_eleven.base_url,
               PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "studio", "render", str(path), "--engine", "elevenlabs",
           "--dry-run"]
    run = subprocess.run([*cmd, "--json"], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout.splitlines()[0])
    assert plan["requests"] == 3 and plan["dialogue_requests"] == 1
    assert plan["characters"] == len(CAST) + sum(len(b.text) for b in (
        book().chapters[0].blocks[0], book().chapters[0].blocks[2]))
    assert any("Text to Dialogue" in w for w in plan["warnings"])
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert "dialogue: 1 paragraphs of several voices as 1 Text to Dialogue requests" in run.stdout
    assert fake_eleven.requests == []
    with ProjectStore.open(path, read_only=True) as store:
        assert not any(b.takes for _, b in store.load().iter_blocks())


def test_dialogue_requests_carry_the_dictionary_locators(fake_eleven: FakeElevenLabs) -> None:
    rule = m.PronunciationRule("Afghanistan", "alias", "Af-ghan-i-stan")
    engine = ElevenLabsEngine("test-key", fake_eleven.base_url)
    remote = engine.add_dictionary_from_rules("Names", [rule])
    engine.close()
    project = book()
    project.dictionaries = [m.DictionaryRef(m.DictionaryId("d1"), "Names", 1, remote.id,
                                            remote.version_id, (rule,))]
    render(project, fake_eleven)
    (post,) = _dialogue_posts(fake_eleven)
    assert post.json["pronunciation_dictionary_locators"] == [
        {"pronunciation_dictionary_id": remote.id, "version_id": remote.version_id}]
    (gen,) = [g for g in fake_eleven.generations.values() if g.endpoint.startswith("dialogue")]
    assert "Af-ghan-i-stan" in gen.spoken_text  # the server applied the rule
    _check_timed_on_paragraph(project.chapters[0].blocks[1].current_take, CAST)


def test_plan_counts_dialogue_characters_and_credits() -> None:
    project = book()
    plan = plan_render(project, engine="elevenlabs")
    (job,) = [j for j in plan.jobs if j.dialogue]
    assert job.request.text == " ".join(x.text for x in job.dialogue)
    assert job.characters == len(job.request.text) == len(CAST)
    assert plan.credits == plan.characters  # v3 costs one credit a character
    body = job.dialogue_body()
    assert v3.dialogue_problems(body) == []
    assert body["settings"] == {"stability": project.voices[VoiceId("narrator")].stability}
    assert [x.start for x in job.dialogue] == [CAST.index(x.text) for x in job.dialogue]
    assert BlockId(job.block_id) == project.chapters[0].blocks[1].id
