"""Pronunciation dictionaries on ElevenLabs, against the fake server (contract §6.3, §14).

Upload records the remote id and version; the next TTS request carries the locator and the
fake applies the rules to what it says; a stale locator is one clear error naming the
dictionary; re-upload happens only when the rules changed; phoneme rules on a model that
ignores them give a warning before anything is sent.
"""

from __future__ import annotations

import dataclasses
import logging

import httpx
import pytest

from studio.core import model as m
from studio.core.engines.elevenlabs import DictionaryNotFound, ElevenLabsEngine
from studio.core.generation import plan_render
from studio.core.lexicon import edits
from studio.core.lexicon.eleven import (
    dictionary_warnings,
    locator_names,
    needs_upload,
    phoneme_warnings,
    upload_dictionaries,
)
from studio.core.lexicon.pls import read_pls
from studio.core.model import Project, PronunciationRule, VoiceId
from tests.fakes.fake_elevenlabs import FakeElevenLabs

KEY = "sk_test_dictionary_SECRET_0123456789"
RACHEL = "21m00Tcm4TlvDq8ikWAM"
UN = PronunciationRule("UN", "alias", "United Nations")
CHOLMONDELEY = PronunciationRule("Cholmondeley", "phoneme", "ˈtʃʌmli", "ipa")


def book(model_id: str = "eleven_multilingual_v2",
         rules: tuple[PronunciationRule, ...] = (UN, CHOLMONDELEY)) -> Project:
    project = Project(title="Rules", model_id=model_id)
    m.add_voice(project, m.Voice(VoiceId("narrator"), "Narrator", engine="elevenlabs",
                                 engine_voice_id=RACHEL))
    m.add_chapter(project, "One", ["The UN met at noon.", "Cholmondeley was late.",
                                   "Nobody minded."])
    edits.add_dictionary(project, "Names", rules)
    return project


@pytest.fixture
def fake(fake_eleven_factory: object) -> FakeElevenLabs:
    return fake_eleven_factory(api_keys=(KEY,))  # type: ignore[operator, no-any-return]


@pytest.fixture
def engine(fake: FakeElevenLabs) -> ElevenLabsEngine:
    e = ElevenLabsEngine(KEY, fake.base_url, backoff_base=0.01)
    yield e  # type: ignore[misc]
    e.close()


def posts(fake: FakeElevenLabs) -> list[str]:
    return [r.path for r in fake.requests if r.method == "POST"]


def test_upload_records_ids_and_the_next_request_carries_the_locator(
        fake: FakeElevenLabs, engine: ElevenLabsEngine) -> None:
    project = book()
    results = upload_dictionaries(project, engine)
    ref = project.dictionaries[0]
    assert [r.action for r in results] == ["created"]
    assert ref.engine_dictionary_id and ref.engine_version_id and not needs_upload(ref)
    assert posts(fake) == ["/v1/pronunciation-dictionaries/add-from-file"]  # a PLS file
    upload = fake.requests[0].json
    assert upload["form"]["name"] == "Names" and upload["file"]["size"] > 0
    assert fake.dictionary_rules(ref.engine_dictionary_id) == [
        {"type": "alias", "string_to_replace": "UN", "alias": "United Nations"},
        {"type": "phoneme", "string_to_replace": "Cholmondeley", "phoneme": "ˈtʃʌmli",
         "alphabet": "ipa"}]
    # uploading changes no paragraph: the rules, not where they are kept, make the audio
    assert all(b.current_take is None for _, b in project.iter_blocks())

    plan = plan_render(project, engine="elevenlabs", output_format="pcm_22050")
    job = next(j for j in plan.jobs if "UN" in j.request.text)
    assert job.request.dictionary_locators == ((ref.engine_dictionary_id,
                                                ref.engine_version_id),)
    result = engine.synthesize(job.request)
    gen = fake.generations[result.request_id or ""]
    assert gen.body["pronunciation_dictionary_locators"] == [
        {"pronunciation_dictionary_id": ref.engine_dictionary_id,
         "version_id": ref.engine_version_id}]
    assert gen.spoken_text == "The United Nations met at noon."
    assert [p["effect"] for p in gen.pronunciation] == ["alias"]
    # the alias is heard: the audio is as long as what was said, and "UN" takes that time
    assert result.duration == pytest.approx(len(gen.spoken_text) * 0.06, abs=0.01)
    timings = result.char_timings
    assert timings is not None and "".join(timings.characters) == job.request.text
    u = job.request.text.index("UN")
    assert timings.ends[u + 1] - timings.starts[u] == pytest.approx(
        len("United Nations") * 0.06, abs=1e-3)


def test_reupload_only_when_the_rules_changed(fake: FakeElevenLabs,
                                              engine: ElevenLabsEngine) -> None:
    project = book()
    upload_dictionaries(project, engine)
    first = project.dictionaries[0]
    sent = len(fake.requests)
    assert [r.action for r in upload_dictionaries(project, engine)] == ["unchanged"]
    assert len(fake.requests) == sent  # nothing sent

    edits.add_rule(project, first.id, PronunciationRule("Dr.", "alias", "Doctor"))
    assert needs_upload(project.dictionaries[0])
    (result,) = upload_dictionaries(project, engine)
    ref = project.dictionaries[0]
    assert result.action == "updated" and ref.engine_dictionary_id == first.engine_dictionary_id
    assert ref.engine_version_id not in (None, first.engine_version_id)
    assert posts(fake)[-1].endswith("/add-rules")  # only the new rule was sent
    assert [r["string_to_replace"] for r in fake.dictionary_rules(
        ref.engine_dictionary_id or "")] == ["UN", "Cholmondeley", "Dr."]
    # the old version still exists (versions are immutable) and keeps the old rules
    assert len(fake.dictionary_rules(ref.engine_dictionary_id or "",
                                     first.engine_version_id)) == 2

    # a changed rule is removed and added again; a new first rule keeps the order by
    # replacing all of them
    edits.set_rules(project, ref.id, [PronunciationRule("Mr.", "alias", "Mister"),
                                      PronunciationRule("UN", "alias", "U.N."), CHOLMONDELEY])
    upload_dictionaries(project, engine)
    ref = project.dictionaries[0]
    remote = fake.dictionary_rules(ref.engine_dictionary_id or "")
    assert [(r["string_to_replace"], r.get("alias")) for r in remote] == [
        ("Mr.", "Mister"), ("UN", "U.N."), ("Cholmondeley", None)]
    pls = engine.download_dictionary(ref.engine_dictionary_id or "", ref.engine_version_id or "")
    assert [r.grapheme for r in read_pls(pls).rules] == ["Mr.", "UN", "Cholmondeley"]


def test_rules_pls_cannot_hold_go_as_rules_and_a_deleted_dictionary_is_made_again(
        fake: FakeElevenLabs, engine: ElevenLabsEngine) -> None:
    loose = PronunciationRule("nasa", "alias", "NASA", case_sensitive=False)
    project = book(rules=(loose,))
    upload_dictionaries(project, engine)
    assert posts(fake) == ["/v1/pronunciation-dictionaries/add-from-rules"]
    ref = project.dictionaries[0]
    assert fake.dictionary_rules(ref.engine_dictionary_id or "")[0]["case_sensitive"] is False
    listed = engine.dictionaries()
    assert [(d.id, d.name, d.version_id) for d in listed] == [
        (ref.engine_dictionary_id, "Names", ref.engine_version_id)]

    fake.dictionaries.clear()  # deleted on the account
    edits.add_rule(project, ref.id, UN)
    (result,) = upload_dictionaries(project, engine)
    assert result.action == "created"
    assert project.dictionaries[0].engine_dictionary_id != ref.engine_dictionary_id


def test_a_stale_locator_is_one_clear_error_naming_the_dictionary(
        fake: FakeElevenLabs, engine: ElevenLabsEngine) -> None:
    project = book()
    upload_dictionaries(project, engine)
    ref = project.dictionaries[0]
    engine.dictionary_names.update(locator_names(project))
    job = plan_render(project, engine="elevenlabs", output_format="pcm_22050").jobs[0]

    # the version is gone (e.g. the dictionary was replaced on the account)
    fake.dictionaries[ref.engine_dictionary_id or ""]["versions"].clear()
    with pytest.raises(DictionaryNotFound) as info:
        engine.synthesize(job.request)
    message = str(info.value)
    assert "'Names'" in message and ref.engine_version_id in message
    assert "studio lexicon upload" in message and KEY not in message
    assert info.value.dictionary_id == ref.engine_dictionary_id

    fake.dictionaries.clear()  # the dictionary is gone
    with pytest.raises(DictionaryNotFound, match="'Names'"):
        engine.synthesize(job.request)
    assert fake.generations == {}  # nothing was generated or charged
    assert fake.character_count == 0


def test_at_most_three_locators(fake: FakeElevenLabs, engine: ElevenLabsEngine) -> None:
    project = book()
    for n in range(3):
        edits.add_dictionary(project, f"Extra {n}", [PronunciationRule(f"W{n}", "alias", "x")])
    upload_dictionaries(project, engine)
    assert len({d.engine_dictionary_id for d in project.dictionaries}) == 4
    plan = plan_render(project, engine="elevenlabs", output_format="pcm_22050")
    assert len(plan.jobs[0].request.dictionary_locators) == 3
    assert any("at most 3" in w and "'Extra 2'" in w for w in plan.warnings)
    result = engine.synthesize(plan.jobs[0].request)
    assert len(fake.generations[result.request_id or ""].body[
        "pronunciation_dictionary_locators"]) == 3
    # the fake refuses a fourth, as the API does
    locators = [{"pronunciation_dictionary_id": d.engine_dictionary_id}
                for d in project.dictionaries]
    r = httpx.post(f"{fake.base_url}/v1/text-to-speech/{RACHEL}", headers={"xi-api-key": KEY},
                   json={"text": "Hi", "pronunciation_dictionary_locators": locators})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "pronunciation_dictionary_locators"]


def test_phoneme_rules_warn_where_the_model_ignores_them(
        fake: FakeElevenLabs, engine: ElevenLabsEngine) -> None:
    rules = [UN, CHOLMONDELEY]
    (warning,) = phoneme_warnings("eleven_multilingual_v2", rules)
    assert "'Cholmondeley'" in warning and "eleven_flash_v2" in warning
    assert phoneme_warnings("eleven_multilingual_v2", [UN]) == []
    assert phoneme_warnings("eleven_flash_v2", rules) == []
    assert phoneme_warnings("eleven_turbo_v2", rules) == []
    assert phoneme_warnings("eleven_v3", rules) != []
    assert phoneme_warnings("eleven_multilingual_v2", rules, engine="offline") == []

    project = book()
    # before upload: the rules do not reach ElevenLabs at all
    plan = plan_render(project, engine="elevenlabs", output_format="pcm_22050")
    assert any("ignores phoneme rules" in w for w in plan.warnings)
    assert any("'Names' is not uploaded" in w for w in plan.warnings)
    assert plan.problems == ()  # warnings, not reasons to skip a paragraph
    upload_dictionaries(project, engine)
    plan = plan_render(project, engine="elevenlabs", output_format="pcm_22050")
    assert [w for w in plan.warnings if "ignores phoneme" in w]
    assert not [w for w in plan.warnings if "upload" in w]
    # only rules in the scope count: a chapter without the word gives no phoneme warning
    assert dictionary_warnings(project, engine="elevenlabs", model_id="eleven_multilingual_v2",
                               texts=["Nobody minded."]) == []
    # a rule edited after the upload: ElevenLabs would still use the old rules
    edits.add_rule(project, project.dictionaries[0].id, PronunciationRule("noon", "alias", "12"))
    plan = plan_render(project, engine="elevenlabs", output_format="pcm_22050")
    assert any("changed since it was uploaded" in w for w in plan.warnings)
    assert plan_render(project, engine="offline").warnings == ()

    upload_dictionaries(project, engine)
    job = next(j for j in plan_render(project, engine="elevenlabs",
                                      output_format="pcm_22050").jobs
               if "Cholmondeley" in j.request.text)
    res = engine.synthesize(job.request)
    skipped = fake.generations[res.request_id or ""]
    assert skipped.pronunciation[0]["effect"] == "skipped"  # the word is not said at all
    assert "Cholmondeley" not in skipped.spoken_text
    flash = engine.synthesize(dataclasses.replace(job.request, model_id="eleven_flash_v2"))
    said = fake.generations[flash.request_id or ""]
    assert said.pronunciation[0]["effect"] == "phoneme" and "ˈtʃʌmli" in said.spoken_text


def test_the_key_is_never_in_messages_or_logs(fake: FakeElevenLabs, engine: ElevenLabsEngine,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fail_next(2, 503, path_contains="/v1/pronunciation-dictionaries")
    project = book()
    upload_dictionaries(project, engine)  # retried through the failures
    assert project.dictionaries[0].engine_dictionary_id
    fake.fail_next(1, 400, "invalid_pls_file", path_contains="/add-rules")
    edits.add_rule(project, project.dictionaries[0].id, PronunciationRule("Dr.", "alias", "D"))
    with pytest.raises(Exception) as info:
        upload_dictionaries(project, engine)
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "retrying" in logged
    assert KEY not in logged and KEY not in str(info.value) and KEY not in repr(engine)
    bad = ElevenLabsEngine("wrong-key", fake.base_url)
    with pytest.raises(Exception, match="rejected the API key") as info:
        upload_dictionaries(book(), bad)
    bad.close()
    assert "wrong-key" not in str(info.value)
