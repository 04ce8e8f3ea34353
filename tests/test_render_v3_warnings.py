"""Eleven v3's documented warnings reach the render plan; audio tags never reach other models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from studio.core import model as m
from studio.core import v3
from studio.core.generation import plan_render
from studio.core.model import Project, VoiceId
from studio.core.store import ProjectStore
from tests.fakes.fake_elevenlabs import FakeElevenLabs
from tests.test_render_dialogue import DREW, RACHEL, book, render

ROOT = Path(__file__).resolve().parents[1]
TAGGED = "[whispers] Come closer, she said. [laughs] The letter [sic] was unsigned."


def tagged_book(model_id: str) -> Project:
    project = Project(title="Tags", model_id=model_id)
    m.add_voice(project, m.Voice(VoiceId("n"), "Narrator", engine="elevenlabs",
                                 engine_voice_id=RACHEL))
    m.add_chapter(project, "One", [TAGGED, "No tags here."])
    return project


def test_dry_run_on_a_non_v3_model_warns_about_tags_and_counts_them_out(
        tmp_path: Path, fake_eleven: FakeElevenLabs) -> None:
    path = tmp_path / "t.studio"
    ProjectStore.create(path, tagged_book("eleven_multilingual_v2")).close()
    env = dict(os.environ, ELEVENLABS_API_KEY="test-key", PYTHONPATH=str(ROOT),
               ELEVENLABS_BASE_URL=fake_eleven.base_url)
    cmd = [sys.executable, "-m", "studio", "render", str(path), "--engine", "elevenlabs",
           "--dry-run"]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "warning: 1 paragraphs hold audio tags" in run.stdout
    assert "eleven_multilingual_v2" in run.stdout
    plan = json.loads(subprocess.run([*cmd, "--json"], capture_output=True, text=True,
                                     env=env, cwd=ROOT, timeout=60).stdout.splitlines()[0])
    sent = v3.strip_audio_tags(TAGGED)
    assert sent == "Come closer, she said. The letter [sic] was unsigned."
    assert plan["characters"] == len(sent) + len("No tags here.")
    assert fake_eleven.requests == []


def test_non_v3_models_are_sent_the_text_without_audio_tags(
        fake_eleven: FakeElevenLabs) -> None:
    project = tagged_book("eleven_turbo_v2_5")
    render(project, fake_eleven)
    sent = [r.json["text"] for r in fake_eleven.requests
            if r.path.startswith("/v1/text-to-speech")]
    assert "Come closer, she said. The letter [sic] was unsigned." in sent
    assert not any("[whispers]" in t or "[laughs]" in t for t in sent)
    assert project.chapters[0].blocks[0].current_take is not None
    # v3 reads them: sent as written, no tag warning.
    v3_plan = plan_render(tagged_book("eleven_v3"), engine="elevenlabs")
    assert any("[whispers]" in j.request.text for j in v3_plan.jobs)
    assert not any("audio tags" in w for w in v3_plan.warnings)
    assert not any("audio tags" in w for w in plan_render(
        tagged_book("eleven_multilingual_v2"), engine="offline").warnings)


def test_v3_plan_names_professional_clones_and_gives_the_dialogue_advice() -> None:
    project = book()  # eleven_v3, one paragraph read by Holmes and Watson as dialogue
    plain = plan_render(project, engine="elevenlabs")
    assert any("not stitched to the requests before or after" in w for w in plain.warnings)
    assert not any("professional" in w for w in plain.warnings)
    plan = plan_render(project, engine="elevenlabs",
                       voice_categories={DREW: "professional", RACHEL: "premade"})
    pro = [w for w in plan.warnings if "professional voice clones" in w]
    assert len(pro) == 1 and "Holmes" in pro[0] and "Narrator" not in pro[0]
