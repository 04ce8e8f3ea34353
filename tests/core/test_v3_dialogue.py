"""Eleven v3 Text to Dialogue: request shape, limits, warnings, timings (contract §7)."""

from __future__ import annotations

import httpx
import pytest

from studio.core import v3
from studio.core.engines import RequestInvalid
from studio.core.engines.elevenlabs import ElevenLabsEngine
from studio.core.model import PronunciationRule
from tests.fakes.fake_elevenlabs import FakeElevenLabs

KEY = "sk_test_dialogue_SECRET_0123456789"
RACHEL = "21m00Tcm4TlvDq8ikWAM"
DREW = "29vD33N1CtxCmqQRPOHJ"
VOICES = ["21m00Tcm4TlvDq8ikWAM", "29vD33N1CtxCmqQRPOHJ", "2EiwWnXFnvU5JabPnv8n",
          "AZnzlk1XvdvUeBnXmlld", "CYw3kZ02Hs0563khs1Fj", "D38z5RcWu1voky8WS1ja",
          "EXAVITQu4vr4xnSDxMaL", "ErXwobaYiN019PkySvjV", "IKne3meq5aSn9XLyUdCD",
          "JBFqnCBsd6RMkjVDRZzb", "ThT5KcBeYPX3keUQqHPh", "onwK4e9ZLuTAKqWW03F9"]


@pytest.fixture
def fake(fake_eleven_factory: object) -> FakeElevenLabs:
    return fake_eleven_factory(api_keys=(KEY,))  # type: ignore[operator, no-any-return]


@pytest.fixture
def engine(fake: FakeElevenLabs) -> ElevenLabsEngine:
    e = ElevenLabsEngine(KEY, fake.base_url, backoff_base=0.01)
    yield e  # type: ignore[misc]
    e.close()


def test_dialogue_request_shape_audio_timings_and_segments(fake: FakeElevenLabs,
                                                            engine: ElevenLabsEngine) -> None:
    lines = [("[whispers] Is he gone?", RACHEL), ("Yes.", DREW), ("Quite gone.", DREW),
             ("[laughs] Good.", RACHEL)]
    (body,) = v3.dialogue_requests(lines, stability=0.5)
    result = engine.dialogue(body, output_format="pcm_22050")
    (gen,) = fake.generations.values()
    sent = gen.body
    assert sent["inputs"] == [{"text": "[whispers] Is he gone?", "voice_id": RACHEL},
                              {"text": "Yes. Quite gone.", "voice_id": DREW},
                              {"text": "[laughs] Good.", "voice_id": RACHEL}]
    assert sent["model_id"] == "eleven_v3" and sent["settings"] == {"stability": 0.5}
    assert not set(v3.STITCHING_FIELDS) & set(sent)  # no stitching with v3
    req = next(r for r in fake.requests if r.path.startswith("/v1/text-to-dialogue"))
    assert req.path == "/v1/text-to-dialogue/with-timestamps"
    assert req.query["output_format"] == ["pcm_22050"]

    speech = result.speech
    text = " ".join(i["text"] for i in sent["inputs"])
    assert speech.request_id == gen.request_id and speech.cost == len(text)
    assert speech.char_timings is not None
    assert "".join(speech.char_timings.characters) == text
    assert speech.duration == pytest.approx(len(text) * 0.06, abs=0.01)
    assert [w.word for w in speech.word_timings][:2] == ["[whispers]", "Is"]
    assert [(s.voice_id, s.input_index) for s in result.segments] == [
        (RACHEL, 0), (DREW, 1), (RACHEL, 2)]
    for seg, item in zip(result.segments, sent["inputs"], strict=True):
        assert text[seg.char_start:seg.char_end] == item["text"]
        assert seg.start == pytest.approx(speech.char_timings.starts[seg.char_start])
    assert result.segments[-1].end == pytest.approx(speech.duration, abs=0.01)


def test_dialogue_limits_are_kept_and_broken_bodies_are_not_sent(
        fake: FakeElevenLabs, engine: ElevenLabsEngine) -> None:
    # twelve voices and 5,000 characters: split into requests within the documented limits
    sentence = "The night was long and the fire burned low in the grate. "
    lines = [(sentence * 7, VOICES[i % 12]) for i in range(12)]
    bodies = v3.dialogue_requests(lines)
    assert len(bodies) > 1
    for body in bodies:
        assert v3.dialogue_problems(body) == []
        assert len({i["voice_id"] for i in body["inputs"]}) <= v3.DIALOGUE_MAX_VOICES
        assert sum(len(i["text"]) for i in body["inputs"]) <= v3.DIALOGUE_MAX_CHARS
    # one line longer than a request is split at sentence boundaries
    (long_body, *rest) = v3.dialogue_requests([(sentence * 60, RACHEL)])
    assert rest and all(len(b["inputs"][0]["text"]) <= 2000 for b in [long_body, *rest])

    ok = {"inputs": [{"text": "Hello there.", "voice_id": RACHEL}]}
    broken = [
        {**ok, "previous_text": "Before."},
        {**ok, "model_id": "eleven_multilingual_v2"},
        {"inputs": [{"text": "a", "voice_id": v} for v in VOICES[:11]]},
        {"inputs": [{"text": "a" * 2001, "voice_id": RACHEL}]},
        {**ok, "pronunciation_dictionary_locators": [
            {"pronunciation_dictionary_id": str(n)} for n in range(4)]},
        {"inputs": []},
    ]
    for body in broken:
        assert v3.dialogue_problems(body)
        with pytest.raises(RequestInvalid, match="Text to Dialogue"):
            engine.dialogue(body)
    assert fake.requests == []  # nothing was sent


def test_the_fake_enforces_the_contract(fake: FakeElevenLabs) -> None:
    client = httpx.Client(base_url=fake.base_url, headers={"xi-api-key": KEY})
    url = "/v1/text-to-dialogue"
    eleven = {"inputs": [{"text": "a", "voice_id": v} for v in VOICES[:11]]}
    assert client.post(url, json=eleven).status_code == 422
    r = client.post(url, json={"inputs": [{"text": "Hi", "voice_id": RACHEL}],
                               "model_id": "eleven_multilingual_v2"})
    assert r.status_code == 400 and "eleven_v3" in r.json()["detail"]["message"]
    r = client.post(url, json={"inputs": [{"text": "Hi", "voice_id": "nobody"}]})
    assert r.status_code == 404 and r.json()["detail"]["status"] == "voice_not_found"
    r = client.post(url, json={"inputs": [{"text": "Hi", "voice_id": RACHEL}],
                               "pronunciation_dictionary_locators": [
                                   {"pronunciation_dictionary_id": "gone"}]})
    assert r.status_code == 404
    assert r.json()["detail"]["status"] == "pronunciation_dictionary_not_found"
    r = client.post(f"{url}/stream", json={"inputs": [{"text": "Hi there", "voice_id": RACHEL}]})
    assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg" and r.content
    assert "request-id" in r.headers
    client.close()


def test_dictionary_rules_apply_to_dialogue(fake: FakeElevenLabs,
                                            engine: ElevenLabsEngine) -> None:
    remote = engine.add_dictionary_from_rules(
        "Names", [PronunciationRule("UN", "alias", "United Nations")])
    (body,) = v3.dialogue_requests([("The UN agreed.", RACHEL), ("Did it?", DREW)],
                                   locators=[(remote.id, remote.version_id)])
    engine.dialogue(body, output_format="pcm_16000")
    (gen,) = fake.generations.values()
    assert gen.spoken_text == "The United Nations agreed. Did it?"
    assert gen.inputs == [("The UN agreed.", RACHEL), ("Did it?", DREW)]


def test_audio_only_endpoint_when_the_server_has_no_timestamps() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.endswith("/with-timestamps"):
            return httpx.Response(404, json={"detail": "Not Found"})
        return httpx.Response(200, content=b"\x00\x00" * 1600,
                              headers={"request-id": "r1", "character-cost": "4"})

    engine = ElevenLabsEngine(KEY, "http://fake", transport=httpx.MockTransport(handler))
    result = engine.dialogue({"inputs": [{"text": "Hi!", "voice_id": RACHEL}]},
                             output_format="pcm_16000")
    assert seen == ["/v1/text-to-dialogue/with-timestamps", "/v1/text-to-dialogue"]
    assert result.speech.request_id == "r1" and result.speech.duration == pytest.approx(0.1)
    assert result.speech.char_timings is None and result.segments == ()


def test_documented_dialogue_warnings() -> None:
    body = {"inputs": [{"text": "Hi.", "voice_id": RACHEL}, {"text": "Hello.", "voice_id": DREW}]}
    warnings = v3.dialogue_warnings(body, {DREW: "professional"})
    assert any("under 250 characters" in w for w in warnings)
    assert any("professional" in w and DREW in w for w in warnings)
    assert any("not stitched" in w for w in warnings)
