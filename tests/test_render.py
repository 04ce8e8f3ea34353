"""Long-form generation against a loopback server that enforces the ElevenLabs contract.

The server records what it received, so these tests check the stitching ids each request
carried, the number of requests in flight, and what was charged, not only what came back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.core import model as m
from studio.core.engines.elevenlabs import ElevenLabsEngine
from studio.core.generation import plan_render
from studio.core.model import ChapterId, Project, VoiceId
from studio.core.scheduler import Scheduler, TakeReady
from studio.core.store import ProjectStore
from tests.fakes.fake_elevenlabs import FakeElevenLabs

ROOT = Path(__file__).resolve().parents[1]
RACHEL = "21m00Tcm4TlvDq8ikWAM"
DREW = "29vD33N1CtxCmqQRPOHJ"


def book(chapters: int = 30, paragraphs: int = 4, second_voice: bool = True) -> Project:
    """A book whose paragraphs are short and distinct (their text identifies them)."""
    project = Project(title="Thirty Chapters", model_id="eleven_multilingual_v2")
    narrator = m.Voice(VoiceId("narrator"), "Narrator", engine="elevenlabs",
                       engine_voice_id=RACHEL)
    m.add_voice(project, narrator)
    if second_voice:
        m.add_voice(project, m.Voice(VoiceId("holmes"), "Holmes", engine="elevenlabs",
                                     engine_voice_id=DREW))
    for c in range(chapters):
        texts = [f"Chapter {c + 1}, paragraph {p + 1}: the fog lay thick on the river."
                 for p in range(paragraphs)]
        m.add_chapter(project, f"Chapter {c + 1}", texts, chapter_id=ChapterId(f"c{c}"))
        if second_voice and c % 3 == 0:  # some chapters have a second reader
            m.set_block_voice(project, project.chapters[-1].blocks[1].id, VoiceId("holmes"))
    return project


def render(project: Project, store: ProjectStore, fake: FakeElevenLabs, concurrency: int,
           key: str = "test-key") -> object:
    engine = ElevenLabsEngine(key, fake.base_url, retry_concurrency=False, backoff_base=0.01,
                              max_retries=6)
    plan = plan_render(project, engine="elevenlabs", output_format="mp3_44100_128")

    def save(event: object) -> None:
        if isinstance(event, TakeReady):
            store.save(project, m.add_take(project, event.take))

    summary = Scheduler(engine, plan, concurrency=concurrency, on_event=save,
                        backoff_base=0.01).run()
    engine.close()
    return summary


def check_stitching(project: Project, fake: FakeElevenLabs) -> int:
    """Assert every generation sent the ids of the (up to 3) preceding paragraphs of its
    voice in its chapter, each of them read completely before this request started."""
    by_text = {g.text: g for g in fake.generations.values() if g.finished is not None}
    checked = 0
    for chapter in project.chapters:
        history: dict[str, list[str]] = {}
        for block in chapter.blocks:
            voice = project.voice_for(block)
            assert voice is not None
            gen = by_text[block.text]
            take = block.current_take
            assert take is not None and take.request_id == gen.request_id
            expected = history.setdefault(voice.id, [])[-3:]
            assert (gen.previous_request_ids or []) == expected, (block.text, gen)
            for rid in expected:
                earlier = fake.generations[rid]
                assert earlier.finished is not None and earlier.finished <= gen.started
            if expected:
                assert gen.previous_text is None  # ids sent, so no text conditioning
                checked += 1
            history[voice.id].append(gen.request_id)
    return checked


@pytest.mark.timeout(120)
def test_thirty_chapters_concurrency_five(tmp_path: Path,
                                          fake_eleven_factory: object) -> None:
    fake = fake_eleven_factory(max_concurrency=5, latency_base_s=0.02,  # type: ignore[operator]
                               latency_per_char_s=0.0002)
    project = book()
    store = ProjectStore.create(tmp_path / "b.studio", project)
    summary = render(project, store, fake, concurrency=5)
    assert summary.failed == {} and summary.fatal is None  # type: ignore[attr-defined]
    paragraphs = [b for _, b in project.iter_blocks()]
    assert all(len(b.takes) == 1 for b in paragraphs)
    assert fake.max_in_flight_seen <= 5 and summary.max_in_flight == 5  # type: ignore[attr-defined]
    assert check_stitching(project, fake) >= 80
    assert not [r for r in fake.requests if r.status == 429]
    # What the server charged is what the takes record.
    assert fake.character_count == sum(b.current_take.cost for b in paragraphs)
    store.close()
    with ProjectStore.open(tmp_path / "b.studio", read_only=True) as again:
        loaded = again.load()
        assert all(m.block_status(loaded, b) is m.BlockStatus.CONVERTED
                   for _, b in loaded.iter_blocks())


@pytest.mark.timeout(120)
def test_rides_out_429_5xx_and_disconnects(tmp_path: Path, fake_eleven_factory: object) -> None:
    fake = fake_eleven_factory(max_concurrency=3, latency_base_s=0.01)  # type: ignore[operator]
    fake.fail_next(3, 429, "system_busy", retry_after=0.02)
    fake.fail_next(2, 500)
    fake.fail_next(1, 503, retry_after=0.01)
    fake.disconnect_next(2, after_bytes=200)
    fake.stall_next(1, 0.3)
    project = book(chapters=12)
    store = ProjectStore.create(tmp_path / "b.studio", project)
    summary = render(project, store, fake, concurrency=5)  # more than the server allows
    assert summary.failed == {} and summary.fatal is None  # type: ignore[attr-defined]
    paragraphs = [b for _, b in project.iter_blocks()]
    assert all(len(b.takes) == 1 for b in paragraphs), "a paragraph was lost or duplicated"
    faults = [r.fault for r in fake.requests if r.fault]
    assert faults.count("fail") == 6 and faults.count("disconnect") == 2
    assert any(r.status == 429 for r in fake.requests)  # the 3-slot limit was hit, then obeyed
    check_stitching(project, fake)
    texts = sorted(b.text for b in paragraphs)
    assert sorted({b.current_take.text for b in paragraphs}) == texts
    store.close()


def _env(fake: FakeElevenLabs, key: str = "test-key") -> dict[str, str]:
    env = dict(os.environ, ELEVENLABS_API_KEY=key, ELEVENLABS_BASE_URL=fake.base_url,
               PYTHONPATH=str(ROOT))
    return env


@pytest.mark.timeout(180)
def test_killed_render_resumes_without_paying_twice(tmp_path: Path,
                                                    fake_eleven_factory: object) -> None:
    fake = fake_eleven_factory(max_concurrency=2, latency_base_s=0.08)  # type: ignore[operator]
    path = tmp_path / "b.studio"
    ProjectStore.create(path, book(chapters=10, second_voice=False)).close()
    cmd = [sys.executable, "-m", "studio", "render", str(path), "--engine", "elevenlabs",
           "--concurrency", "2", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(fake), cwd=ROOT)
    assert proc.stdout is not None
    takes = 0
    deadline = time.monotonic() + 60
    while takes < 12 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if json.loads(line)["event"] == "take":
            takes += 1
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.stderr is not None
    proc.stderr.close()
    assert takes >= 12
    first_run = {g.request_id for g in fake.generations.values()}

    with ProjectStore.open(path, read_only=True) as store:
        saved = {b.text for _, b in store.load().iter_blocks() if b.current_take}
    assert 12 <= len(saved) < 40

    run = subprocess.run(cmd, capture_output=True, text=True, env=_env(fake), cwd=ROOT,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    second = [g for g in fake.generations.values() if g.request_id not in first_run]
    assert second and not {g.text for g in second} & saved  # nothing rendered twice
    with ProjectStore.open(path, read_only=True) as store:
        loaded = store.load()
        assert all(len(b.takes) == 1 for _, b in loaded.iter_blocks())
        assert all(m.block_status(loaded, b) is m.BlockStatus.CONVERTED
                   for _, b in loaded.iter_blocks())
    events = [json.loads(x) for x in run.stdout.splitlines()]
    assert events[0]["event"] == "plan" and events[0]["already_rendered"] == len(saved)
    assert events[-1]["event"] == "done" and events[-1]["takes"] == 40 - len(saved)


def test_bad_key_gives_one_clear_message(tmp_path: Path, fake_eleven: FakeElevenLabs) -> None:
    path = tmp_path / "b.studio"
    ProjectStore.create(path, book(chapters=2)).close()
    secret = "sk_wrong_key_0123456789abcdef"
    run = subprocess.run(
        [sys.executable, "-m", "studio", "render", str(path), "--engine", "elevenlabs"],
        capture_output=True, text=True, env=_env(fake_eleven, secret), cwd=ROOT, timeout=60,
    )
    assert run.returncode == 1
    errors = [ln for ln in run.stderr.splitlines() if ln.startswith("studio:")]
    assert len(errors) == 1 and "rejected the API key" in errors[0]
    assert "Traceback" not in run.stderr
    assert secret not in run.stderr + run.stdout
    with ProjectStore.open(path, read_only=True) as store:
        assert not any(b.takes for _, b in store.load().iter_blocks())


def test_dry_run_sends_nothing(tmp_path: Path, fake_eleven: FakeElevenLabs) -> None:
    path = tmp_path / "b.studio"
    ProjectStore.create(path, book(chapters=3)).close()
    run = subprocess.run(
        [sys.executable, "-m", "studio", "render", str(path), "--engine", "elevenlabs",
         "--dry-run", "--json"],
        capture_output=True, text=True, env=_env(fake_eleven), cwd=ROOT, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout.splitlines()[0])
    project = book(chapters=3)
    chars = sum(len(b.text) for _, b in project.iter_blocks())
    assert plan["characters"] == chars and plan["credits"] == chars and plan["paragraphs"] == 12
    assert fake_eleven.requests == []


def test_offline_render_of_the_sample_book(tmp_path: Path) -> None:
    path = tmp_path / "sample.studio"
    assert subprocess.run([sys.executable, "-m", "studio", "sample", "-o", str(path)],
                          capture_output=True, cwd=ROOT, timeout=60).returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "ELEVENLABS_API_KEY"}
    env["ELEVENLABS_BASE_URL"] = "http://127.0.0.1:9"  # nothing listens: no network is used
    run = subprocess.run([sys.executable, "-m", "studio", "render", str(path)],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "offline engine" in run.stdout and "no ElevenLabs API key" in run.stdout
    with ProjectStore.open(path, read_only=True) as store:
        project = store.load()
        blocks = [b for _, b in project.iter_blocks()]
        assert len(blocks) == 14 and all(b.current_take is not None for b in blocks)
        take = blocks[0].current_take
        assert take.format == "wav_22050" and take.duration > 2
        assert take.peaks_fine is None  # media is loaded on demand
        fine, coarse = store.load_peaks(take.id)
        assert fine is not None and coarse is not None
        assert len(store.load_take_audio(take.id)) > 44_100
    again = subprocess.run([sys.executable, "-m", "studio", "render", str(path)],
                           capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert "0 paragraphs to render" in again.stdout and "14 already rendered" in again.stdout


@pytest.mark.timeout(120)
def test_quota_exhausted_keeps_paid_audio_and_resumes_without_paying_twice(
    tmp_path: Path, fake_eleven_factory: object
) -> None:
    project = book(chapters=6, second_voice=False)
    for n, (_, block) in enumerate(project.iter_blocks()):  # uneven: requests overlap a lot
        block.text = " ".join([block.text] + ["More words here."] * (n % 7))
    total = sum(len(b.text) for _, b in project.iter_blocks())
    fake = fake_eleven_factory(max_concurrency=5, latency_base_s=0.05,  # type: ignore[operator]
                               character_limit=total // 2)
    store = ProjectStore.create(tmp_path / "b.studio", project)
    summary = render(project, store, fake, concurrency=5)
    assert summary.fatal is not None and "not enough credits" in str(summary.fatal)  # type: ignore[attr-defined]
    fake.wait_idle()
    delivered = {g.text for g in fake.generations.values() if g.finished is not None}
    saved = {b.text for _, b in project.iter_blocks() if b.current_take}
    assert delivered == saved  # every response that was paid for was kept
    fake.set_quota(10 * total)
    summary = render(project, store, fake, concurrency=5)
    assert summary.fatal is None and summary.failed == {}  # type: ignore[attr-defined]
    assert all(len(b.takes) == 1 for _, b in project.iter_blocks())
    assert fake.character_count == total  # each paragraph paid for exactly once
    store.close()


@pytest.mark.timeout(60)
def test_stop_keeps_responses_in_flight_abort_drops_them(
    tmp_path: Path, fake_eleven_factory: object
) -> None:
    import threading

    from studio.core.errors import CancelToken

    for level in ("stop", "abort"):
        fake = fake_eleven_factory(max_concurrency=3)  # type: ignore[operator]
        fake.stall_next(3, 1.0)  # the first three requests take a second
        project = book(chapters=3, second_voice=False)
        store = ProjectStore.create(tmp_path / f"{level}.studio", project)
        engine = ElevenLabsEngine("test-key", fake.base_url, retry_concurrency=False)
        plan = plan_render(project, engine="elevenlabs", output_format="pcm_22050")
        cancel = CancelToken()
        threading.Timer(0.3, cancel.cancel if level == "stop" else cancel.abort).start()

        def save(event: object, project: Project = project, store: ProjectStore = store) -> None:
            if isinstance(event, TakeReady):
                store.save(project, m.add_take(project, event.take))

        started = time.monotonic()
        summary = Scheduler(engine, plan, concurrency=3, cancel=cancel, on_event=save).run()
        assert summary.cancelled and time.monotonic() - started < 3
        fake.wait_idle()
        assert summary.takes == (3 if level == "stop" else 0)
        assert len(fake.generations) == 3  # nothing new was sent after the stop
        store.close()
        engine.close()


@pytest.mark.timeout(60)
def test_paragraph_split_into_mp3_parts_keeps_all_its_audio(
    tmp_path: Path, fake_eleven: FakeElevenLabs
) -> None:
    from studio.core.audio import decode
    from studio.core.catalog import ModelInfo

    project = book(chapters=1, paragraphs=1, second_voice=False)
    block = project.chapters[0].blocks[0]
    block.text = " ".join(f"Sentence {i} of a long paragraph." for i in range(12))
    engine = ElevenLabsEngine("test-key", fake_eleven.base_url)
    plan = plan_render(project, engine="elevenlabs", output_format="mp3_44100_128",
                       model=ModelInfo("eleven_multilingual_v2", "ML", 120, True, 1.0))
    assert len(plan.jobs) >= 3
    takes: list[m.Take] = []
    Scheduler(engine, plan, concurrency=1,
              on_event=lambda e: takes.append(e.take) if isinstance(e, TakeReady) else None).run()
    take = takes[0]
    seconds = len(decode(take.audio, "mp3_44100_128")[0]) / 44100
    expected = sum(len(j.request.text) for j in plan.jobs) * 0.060  # the fake's 60 ms a char
    assert abs(seconds - expected) < 0.05 * len(plan.jobs) + 0.1
    assert abs(take.duration - seconds) < 1e-6
    assert take.char_timings is not None and abs(take.char_timings.ends[-1] - seconds) < 0.2
    assert take.settings["request_ids"] == [
        g.request_id for g in sorted(fake_eleven.generations.values(), key=lambda g: g.started)]
    engine.close()


def test_bad_voice_or_model_is_refused_before_spending(
    tmp_path: Path, fake_eleven: FakeElevenLabs
) -> None:
    path = tmp_path / "b.studio"
    ProjectStore.create(path, book(chapters=3)).close()
    before = path.read_bytes()
    for extra, words in ((["--voice", "NoSuchVoice0000000000"], "was not found"),
                         (["--model", "eleven_bogus"], "unknown model 'eleven_bogus'")):
        run = subprocess.run(
            [sys.executable, "-m", "studio", "render", str(path), "--engine", "elevenlabs",
             *extra], capture_output=True, text=True, env=_env(fake_eleven), cwd=ROOT,
            timeout=60,
        )
        assert run.returncode == 1 and words in run.stderr, run.stderr
        assert len([ln for ln in run.stderr.splitlines() if ln.startswith("studio:")]) == 1
    assert not [g for g in fake_eleven.generations.values()]  # nothing was generated
    with ProjectStore.open(path, read_only=True) as store:
        loaded = store.load()
        assert loaded.model_id == "eleven_multilingual_v2"
        assert loaded.voices[VoiceId("narrator")].engine_voice_id == RACHEL
    assert path.read_bytes() == before


def test_dry_run_changes_nothing(tmp_path: Path, fake_eleven: FakeElevenLabs) -> None:
    path = tmp_path / "b.studio"
    ProjectStore.create(path, book(chapters=2)).close()
    run = subprocess.run(
        [sys.executable, "-m", "studio", "render", str(path), "--engine", "elevenlabs",
         "--model", "eleven_flash_v2_5", "--voice", DREW, "--dry-run", "--json"],
        capture_output=True, text=True, env=_env(fake_eleven), cwd=ROOT, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout.splitlines()[0])
    assert plan["model"] == "eleven_flash_v2_5"
    chars = sum(len(b.text) for _, b in book(chapters=2).iter_blocks())
    assert plan["credits"] == sum(-(-len(b.text) // 2) for _, b in book(chapters=2).iter_blocks())
    assert plan["characters"] == chars
    with ProjectStore.open(path, read_only=True) as store:
        loaded = store.load()
        assert loaded.model_id == "eleven_multilingual_v2"
        assert loaded.voices[VoiceId("narrator")].engine_voice_id == RACHEL


def test_unreachable_server_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "b.studio"
    ProjectStore.create(path, book(chapters=2)).close()
    env = dict(os.environ, ELEVENLABS_API_KEY="test-key",
               ELEVENLABS_BASE_URL="http://127.0.0.1:9", PYTHONPATH=str(ROOT))
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "studio", "render", str(path)],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert run.returncode == 1 and "Could not reach ElevenLabs" in run.stderr
    assert time.monotonic() - started < 15


@pytest.mark.timeout(60)
def test_cancel_stops_within_a_request(tmp_path: Path, fake_eleven_factory: object) -> None:
    import threading

    from studio.core.errors import CancelToken

    fake = fake_eleven_factory(max_concurrency=3, latency_base_s=0.3)  # type: ignore[operator]
    project = book(chapters=6, second_voice=False)
    store = ProjectStore.create(tmp_path / "b.studio", project)
    engine = ElevenLabsEngine("test-key", fake.base_url, retry_concurrency=False)
    plan = plan_render(project, engine="elevenlabs", output_format="pcm_22050")
    cancel = CancelToken()
    saved: list[str] = []

    def save(event: object) -> None:
        if isinstance(event, TakeReady):
            store.save(project, m.add_take(project, event.take))
            saved.append(event.block_id)
            if len(saved) == 4:
                threading.Timer(0.05, cancel.cancel).start()

    started = time.monotonic()
    summary = Scheduler(engine, plan, concurrency=3, cancel=cancel, on_event=save).run()
    assert summary.cancelled and 4 <= summary.takes < 24
    assert time.monotonic() - started < 0.3 * 24 / 3  # well before the whole book
    engine.close()
    store.close()
    with ProjectStore.open(tmp_path / "b.studio", read_only=True) as again:
        assert sum(1 for _, b in again.load().iter_blocks() if b.takes) == summary.takes


def test_catalogue_and_preview_against_the_server(fake_eleven: FakeElevenLabs) -> None:
    from studio.core.engines import SpeechRequest, VoiceNotFound

    engine = ElevenLabsEngine("test-key", fake_eleven.base_url)
    voices = engine.voices(page_size=5)  # several pages
    assert len(voices) == len(fake_eleven.voices) and len({v.voice_id for v in voices}) == 12
    assert engine.voice(RACHEL).name == "Rachel"
    with pytest.raises(VoiceNotFound):
        engine.voice("nonexistent0000000000")
    assert engine.default_settings().similarity == 0.75
    models = {mo.model_id: mo for mo in engine.models()}
    assert models["eleven_multilingual_v2"].max_characters == 10_000
    assert not models["eleven_v3"].supports_stitching
    assert models["eleven_flash_v2_5"].cost_multiplier == 0.5
    sub = engine.subscription()
    assert sub.tier == "creator" and sub.remaining == sub.character_limit - sub.character_count
    chunks = list(engine.stream_preview(SpeechRequest(
        text="A quick preview of this voice.", voice_id=RACHEL,
        model_id="eleven_multilingual_v2", output_format="mp3_44100_128")))
    from studio.core.audio import duration

    text_seconds = len("A quick preview of this voice.") * 0.060  # the fake's 60 ms a character
    assert len(chunks) > 1
    assert abs(duration(b"".join(chunks), "mp3_44100_128") - text_seconds) < 0.1
    engine.close()


def test_voices_command_for_both_engines(fake_eleven: FakeElevenLabs) -> None:
    env = _env(fake_eleven)
    run = subprocess.run([sys.executable, "-m", "studio", "voices", "--engine", "elevenlabs",
                          "--json"], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert {v["voice_id"] for v in json.loads(run.stdout)} == {
        v["voice_id"] for v in fake_eleven.voices}
    run = subprocess.run([sys.executable, "-m", "studio", "voices", "--engine", "offline",
                          "--search", "female"], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=60)
    assert run.returncode == 0 and "en-us+f3" in run.stdout and "female 3" in run.stdout


def test_the_key_is_never_logged(tmp_path: Path, fake_eleven_factory: object,
                                 caplog: pytest.LogCaptureFixture) -> None:
    import logging

    secret = "sk_live_0123456789abcdefSECRET"
    fake = fake_eleven_factory(api_keys=(secret,))  # type: ignore[operator]
    fake.fail_next(2, 500)
    caplog.set_level(logging.DEBUG)
    project = book(chapters=2, second_voice=False)
    store = ProjectStore.create(tmp_path / "b.studio", project)
    summary = render(project, store, fake, concurrency=2, key=secret)
    assert summary.takes == 8  # type: ignore[attr-defined]
    store.close()
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "retrying" in logged  # the retries were logged ...
    assert secret not in logged  # ... without the key
    assert secret.encode() not in (tmp_path / "b.studio").read_bytes()
