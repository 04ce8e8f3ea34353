"""``studio lexicon upload`` and the dictionary warnings of ``studio render --dry-run``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.core import model as m
from studio.core.lexicon import edits
from studio.core.model import Project, PronunciationRule, VoiceId
from studio.core.store import ProjectStore
from tests.fakes.fake_elevenlabs import FakeElevenLabs

KEY = "sk_test_cli_upload_SECRET_42"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    project = Project(title="Rules", model_id="eleven_multilingual_v2")
    m.add_voice(project, m.Voice(VoiceId("narrator"), "Narrator", engine="elevenlabs",
                                 engine_voice_id="21m00Tcm4TlvDq8ikWAM"))
    m.add_chapter(project, "One", ["Cholmondeley met the UN.", "Nobody minded."])
    edits.add_dictionary(project, "Names", [
        PronunciationRule("UN", "alias", "United Nations"),
        PronunciationRule("Cholmondeley", "phoneme", "CH AH1 M L IY0", "cmu-arpabet")])
    path = tmp_path / "book.studio"
    ProjectStore.create(path, project).close()
    return path


def test_upload_then_unchanged_and_the_render_warnings(
        book: Path, fake_eleven_factory: object, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    fake: FakeElevenLabs = fake_eleven_factory(api_keys=(KEY,))  # type: ignore[operator]
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.base_url)

    assert main(["render", str(book), "--engine", "elevenlabs", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "warning: eleven_multilingual_v2 ignores phoneme rules" in out
    assert "warning: pronunciation dictionary 'Names' is not uploaded" in out

    assert main(["lexicon", "upload", str(book)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Names: 2 rules uploaded (id ")
    with ProjectStore.open(book, read_only=True) as store:
        ref = store.load().dictionaries[0]
    assert ref.engine_dictionary_id in fake.dictionaries and ref.engine_version_id
    assert main(["lexicon", "upload", str(book), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["action"] == "unchanged" and row["version_id"] == ref.engine_version_id
    assert [r.path for r in fake.requests if r.method == "POST"] == [
        "/v1/pronunciation-dictionaries/add-from-file"]

    assert main(["render", str(book), "--engine", "elevenlabs", "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out.splitlines()[0])
    assert plan["problems"] == [] and len(plan["warnings"]) == 1
    assert "ignores phoneme rules" in plan["warnings"][0]
    assert not [r for r in fake.requests if "text-to-speech" in r.path]
    assert KEY.encode() not in book.read_bytes()


def test_upload_errors(book: Path, fake_eleven_factory: object, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    monkeypatch.setattr("studio.core.settings.keyring_key", lambda: None)
    assert main(["lexicon", "upload", str(book)]) == 1
    assert "No ElevenLabs API key" in capsys.readouterr().err
    fake: FakeElevenLabs = fake_eleven_factory(api_keys=(KEY,))  # type: ignore[operator]
    monkeypatch.setenv("ELEVENLABS_API_KEY", "sk_wrong_SECRET")
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.base_url)
    assert main(["lexicon", "upload", str(book)]) == 1
    err = capsys.readouterr().err
    assert "rejected the API key" in err and "sk_wrong_SECRET" not in err
