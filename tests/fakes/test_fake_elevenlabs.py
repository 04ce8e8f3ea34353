"""The ElevenLabs fake checked against the contract, with plain httpx (no studio code)."""

from __future__ import annotations

import ast
import base64
import io
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf

from tests.fakes import fake_elevenlabs
from tests.fakes.fake_elevenlabs import MODELS, FakeElevenLabs, is_fake_id, mp3_frame_offsets

# the plugin's fixtures, usable before (and harmless after) conftest registers the module
fake_eleven = fake_elevenlabs.fake_eleven
fake_eleven_factory = fake_elevenlabs.fake_eleven_factory

Factory = Callable[..., FakeElevenLabs]
VOICE = "21m00Tcm4TlvDq8ikWAM"
KEY = {"xi-api-key": "test-key"}
TTS = f"/v1/text-to-speech/{VOICE}"
TEXT = "Hello world. This is the fake speaking, one word at a time."
# one TLS context for every client: httpx builds a new one per Client otherwise (~70 ms each);
# nothing here uses TLS, the fake is plain HTTP on 127.0.0.1
_TLS = ssl.create_default_context()


@pytest.fixture
def client(fake_eleven: FakeElevenLabs) -> Iterator[httpx.Client]:
    with make_client(fake_eleven) as c:
        yield c


def make_client(fake: FakeElevenLabs, **kw: Any) -> httpx.Client:
    return httpx.Client(base_url=fake.base_url, headers=KEY, timeout=5.0, verify=_TLS, **kw)


def frames_of(fmt: str, data: bytes) -> tuple[int, int]:
    """(frames, samplerate) of encoded audio, decoded independently with soundfile."""
    codec, rate = fmt.split("_")[0], int(fmt.split("_")[1])
    if codec == "pcm":
        assert len(data) % 2 == 0
        return len(sf.read(io.BytesIO(data), format="RAW", samplerate=rate, channels=1,
                           subtype="PCM_16")[0]), rate
    if codec in ("ulaw", "alaw"):
        return len(data), rate
    audio, sr = sf.read(io.BytesIO(data))
    return len(audio), sr


def expected_frames(text: str, rate: int, speed: float = 1.0, ms: float = 60.0) -> int:
    return round(len(text) * ms / 1000.0 / speed * rate)


# --------------------------------------------------------------------------- independence


def test_fake_does_not_import_studio() -> None:
    tree = ast.parse(Path(__file__).with_name("fake_elevenlabs.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        assert not any(n == "studio" or n.startswith("studio.") for n in names)


# --------------------------------------------------------------------------- headers, basics


def test_request_id_arrives_before_the_body(fake_eleven_factory: Factory) -> None:
    fake = fake_eleven_factory(chunk_size=1024, chunk_delay_s=0.02)
    with make_client(fake) as c, c.stream("POST", f"{TTS}/stream",
                                          params={"output_format": "pcm_16000"},
                                          json={"text": "Streaming body."}) as r:
        rid = r.headers["request-id"]
        assert r.status_code == 200 and is_fake_id(rid)
        # headers are here, the body is not: the generation is not finished yet
        assert fake.generations[rid].finished is None
        assert r.headers["transfer-encoding"] == "chunked"
        assert r.headers["content-type"] == "audio/pcm"
        assert r.headers["character-cost"] == "15"
        assert r.headers["current-concurrent-requests"] == "1"
        assert r.headers["maximum-concurrent-requests"] == "5"
        assert is_fake_id(r.headers["history-item-id"])
        body = b"".join(r.iter_bytes())
    assert len(body) == 2 * expected_frames("Streaming body.", 16000)
    gen = fake.generations[rid]
    assert gen.finished is not None and gen.finished >= gen.started
    assert fake.wait_idle(2)
    rec = fake.requests[-1]
    assert rec.request_id == rid and rec.body_fully_sent and rec.status == 200
    assert "test-key" not in repr(rec) and rec.headers["xi-api-key"] == "test-key"


def test_ids_are_new_per_request_and_logging_off_has_no_history(client: httpx.Client) -> None:
    ids = {client.post(TTS, json={"text": "a"}).headers["request-id"] for _ in range(3)}
    assert len(ids) == 3
    r = client.post(f"{TTS}/", params={"enable_logging": "false"}, json={"text": "a"})
    assert r.status_code == 200 and "history-item-id" not in r.headers
    r = client.post(TTS, params={"enable_logging": "0"}, json={"text": "a", "unknown": 1},
                    headers={"X-Fern-SDK-Name": "elevenlabs"})
    assert r.status_code == 200 and "history-item-id" not in r.headers
    assert client.post(TTS, params={"enable_logging": "1"}, json={"text": "a"}).headers.get(
        "history-item-id")


def test_stitching_fields_are_logged_and_unknown_ids_accepted(
        fake_eleven: FakeElevenLabs, client: httpx.Client) -> None:
    first = client.post(TTS, json={"text": "One."}).headers["request-id"]
    r = client.post(TTS, json={"text": "Two.", "model_id": "eleven_flash_v2_5",
                               "previous_request_ids": [first, "unknownUnknown000000"],
                               "next_text": "Three.", "previous_text": "One."})
    assert r.status_code == 200 and r.headers["character-cost"] == "2"
    gen = fake_eleven.generations[r.headers["request-id"]]
    assert gen.previous_request_ids == [first, "unknownUnknown000000"]
    assert (gen.next_text, gen.previous_text, gen.model_id) == ("Three.", "One.",
                                                                "eleven_flash_v2_5")
    assert gen.voice_id == VOICE and gen.text == "Two." and gen.cost == 2


# --------------------------------------------------------------------------- error bodies


def test_401_invalid_api_key(fake_eleven: FakeElevenLabs) -> None:
    expected = {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}
    with httpx.Client(base_url=fake_eleven.base_url, timeout=5, verify=_TLS) as c:
        for headers in ({}, {"xi-api-key": "wrong"}):
            r = c.post(TTS, json={"text": "hi"}, headers=headers)
            assert (r.status_code, r.json()) == (401, expected)
            r = c.get("/v1/voices", headers=headers)
            assert (r.status_code, r.json()) == (401, expected)
    assert fake_eleven.generations == {}


@pytest.mark.parametrize("status", [404, 400])
def test_voice_not_found(fake_eleven_factory: Factory, status: int) -> None:
    fake = fake_eleven_factory(voice_not_found_status=status)
    with make_client(fake) as c:
        r = c.post("/v1/text-to-speech/foo", json={"text": "hi"})
        assert r.status_code == status
        assert r.json() == {"detail": {"status": "voice_not_found",
                                       "message": "A voice with the voice_id foo was not found."}}
        assert c.get("/v1/voices/foo").status_code == status


def test_unknown_route_404(client: httpx.Client) -> None:
    for method, path in (("GET", "/v1/nothing"), ("POST", "/v1/voices"),
                         ("GET", f"{TTS}/stream"), ("DELETE", "/v2/voices")):
        r = client.request(method, path)
        assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})


@pytest.mark.parametrize(("endpoint", "params", "body", "loc", "kind"), [
    ("", {}, {"model_id": "eleven_multilingual_v2"}, ["body", "text"], "missing"),
    ("", {}, {"text": 5}, ["body", "text"], "string_type"),
    ("", {}, {"text": ""}, ["body", "text"], "string_too_short"),
    ("/stream", {"output_format": "wav_44100"}, {"text": "a"}, ["query", "output_format"],
     "enum"),
    ("/stream/with-timestamps", {"output_format": "wav_16000"}, {"text": "a"},
     ["query", "output_format"], "enum"),
    ("", {"output_format": "flac_44100"}, {"text": "a"}, ["query", "output_format"], "enum"),
    ("", {"output_format": "opus_48000_64"}, {"text": "a"}, ["query", "output_format"],
     "value_error"),
    ("", {"enable_logging": "maybe"}, {"text": "a"}, ["query", "enable_logging"],
     "bool_parsing"),
    ("", {}, {"text": "a", "previous_request_ids": ["a", "b", "c", "d"]},
     ["body", "previous_request_ids"], "too_long"),
    ("", {}, {"text": "a", "next_request_ids": ["a", "b", "c", "d"]},
     ["body", "next_request_ids"], "too_long"),
    ("", {}, {"text": "a", "voice_settings": {"speed": 1.3}},
     ["body", "voice_settings", "speed"], "less_than_equal"),
    ("", {}, {"text": "a", "voice_settings": {"speed": 0.69}},
     ["body", "voice_settings", "speed"], "greater_than_equal"),
    ("", {}, {"text": "a", "voice_settings": {"stability": 1.01}},
     ["body", "voice_settings", "stability"], "less_than_equal"),
    ("", {}, {"text": "a", "voice_settings": {"style": -0.1}},
     ["body", "voice_settings", "style"], "greater_than_equal"),
    ("", {}, {"text": "a", "pronunciation_dictionary_locators": [
        {"pronunciation_dictionary_id": str(i)} for i in range(4)]},
     ["body", "pronunciation_dictionary_locators"], "too_long"),
    ("", {}, {"text": "a", "apply_text_normalization": "sometimes"},
     ["body", "apply_text_normalization"], "enum"),
])
def test_422_validation_shape(fake_eleven: FakeElevenLabs, client: httpx.Client, endpoint: str,
                              params: dict[str, str], body: dict[str, Any], loc: list[Any],
                              kind: str) -> None:
    r = client.post(f"{TTS}{endpoint}", params=params, json=body)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail
    for entry in detail:
        assert isinstance(entry["loc"], list) and isinstance(entry["msg"], str)
        assert isinstance(entry["type"], str)
    assert [(e["loc"], e["type"]) for e in detail] == [(loc, kind)]
    assert fake_eleven.generations == {} and fake_eleven.character_count == 0


def test_422_invalid_json_and_accepted_edges(client: httpx.Client) -> None:
    r = client.post(TTS, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"
    created = client.post("/v1/pronunciation-dictionaries/add-from-rules", json={
        "name": "p", "rules": [{"type": "alias", "string_to_replace": "b", "alias": "bee"}]})
    pid = created.json()["id"]
    ok = {"text": "a", "previous_request_ids": ["a", "b", "c"],
          "voice_settings": {"speed": 0.7, "stability": 0, "similarity_boost": 1,
                             "style": 0.0, "use_speaker_boost": True},
          "pronunciation_dictionary_locators": [{"pronunciation_dictionary_id": pid}] * 3}
    assert client.post(TTS, json=ok).status_code == 200


def test_400_character_limit_and_models(client: httpx.Client) -> None:
    r = client.post(TTS, json={"text": "x" * 10_001})
    assert r.status_code == 400
    assert r.json()["detail"]["status"] == "max_character_limit_exceeded"
    assert "10001" in r.json()["detail"]["message"]
    assert set(r.json()["detail"]) == {"status", "message"}
    r = client.post(TTS, json={"text": "x" * 10_001, "model_id": "eleven_v3"})
    assert r.json()["detail"]["status"] == "max_character_limit_exceeded"
    r = client.post(TTS, json={"text": "x" * 40_001, "model_id": "eleven_flash_v2_5"})
    assert r.json()["detail"]["status"] == "max_character_limit_exceeded"
    r = client.post(TTS, json={"text": "a", "model_id": "eleven_nonexistent"})
    assert r.status_code == 400 and r.json()["detail"]["status"] == "model_not_found"
    r = client.post(TTS, json={"text": "a", "model_id": "eleven_multilingual_sts_v2"})
    assert r.status_code == 400


def test_output_format_tier_gating(fake_eleven_factory: Factory) -> None:
    creator = fake_eleven_factory()
    with make_client(creator) as c:
        r = c.post(TTS, params={"output_format": "pcm_44100"}, json={"text": "a"})
        assert r.status_code == 403
        assert r.json()["detail"]["status"] == "output_format_not_allowed"
        assert c.post(TTS, params={"output_format": "mp3_44100_192"},
                      json={"text": "a"}).status_code == 200
    pro = fake_eleven_factory(tier="pro")
    with make_client(pro) as c:
        assert c.post(TTS, params={"output_format": "pcm_44100"},
                      json={"text": "a"}).status_code == 200


# --------------------------------------------------------------------------- quota


def test_quota_debit_and_exhaustion(fake_eleven: FakeElevenLabs, client: httpx.Client) -> None:
    fake_eleven.set_quota(100)
    r = client.post(TTS, json={"text": "y" * 60})
    assert r.status_code == 200 and r.headers["character-cost"] == "60"
    assert fake_eleven.character_count == 60
    r = client.post(TTS, json={"text": "y" * 60})
    assert r.status_code == 401
    assert r.json() == {"detail": {
        "status": "quota_exceeded",
        "message": "This request exceeds your quota of 100. You have 40 credits remaining, "
                   "while 60 credits are required for this request."}}
    r = client.post(TTS, json={"text": "y" * 61, "model_id": "eleven_turbo_v2_5"})
    assert r.status_code == 200 and r.headers["character-cost"] == "31"  # 0.5 x, rounded up
    sub = client.get("/v1/user/subscription").json()
    assert (sub["character_count"], sub["character_limit"]) == (91, 100)
    assert {"tier", "status", "next_character_count_reset_unix", "voice_limit",
            "can_extend_character_limit", "currency"} <= set(sub)
    assert client.get("/v1/user").json()["subscription"]["character_count"] == 91


# --------------------------------------------------------------------------- concurrency


def _parallel(fake: FakeElevenLabs, n: int) -> list[httpx.Response]:
    barrier = threading.Barrier(n)
    results: list[httpx.Response | None] = [None] * n

    def run(i: int) -> None:
        with make_client(fake) as c:
            barrier.wait(timeout=5)
            results[i] = c.post(TTS, params={"output_format": "pcm_8000"},
                                json={"text": f"Request number {i}."})

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def test_concurrency_reject(fake_eleven_factory: Factory) -> None:
    fake = fake_eleven_factory(max_concurrency=3, latency_base_s=0.3)
    responses = _parallel(fake, 8)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 3 + [429] * 5
    refused = next(r for r in responses if r.status_code == 429)
    detail = refused.json()["detail"]
    assert detail["status"] == "too_many_concurrent_requests"
    assert "maximum of 3 concurrent requests" in detail["message"]
    assert refused.headers["maximum-concurrent-requests"] == "3"
    assert fake.max_in_flight_seen == 3
    assert len(fake.generations) == 3 and fake.character_count == sum(
        g.cost for g in fake.generations.values())


def test_concurrency_queue(fake_eleven_factory: Factory) -> None:
    fake = fake_eleven_factory(max_concurrency=3, latency_base_s=0.3,
                               concurrency_mode="queue")
    t0 = time.monotonic()
    responses = _parallel(fake, 8)
    assert [r.status_code for r in responses] == [200] * 8
    assert time.monotonic() - t0 >= 0.85  # three waves of 0.3 s
    assert fake.max_in_flight_seen == 3
    assert max(int(r.headers["current-concurrent-requests"]) for r in responses) == 3
    assert fake.wait_idle(2) and fake.in_flight == 0


def test_sequential_requests_never_hit_the_limit(fake_eleven_factory: Factory) -> None:
    fake = fake_eleven_factory(max_concurrency=1)
    with make_client(fake) as c:
        for _ in range(20):
            assert c.post(TTS, json={"text": "ab"}).status_code == 200
            with c.stream("POST", f"{TTS}/stream", json={"text": "ab"}) as r:
                assert r.status_code == 200
                r.read()


# --------------------------------------------------------------------------- faults


def test_disconnect_truncates_stream(fake_eleven: FakeElevenLabs, client: httpx.Client) -> None:
    fake_eleven.disconnect_next(1, after_bytes=100)
    got = bytearray()
    with pytest.raises(httpx.TransportError), client.stream(
            "POST", f"{TTS}/stream", json={"text": TEXT}) as r:
        rid = r.headers["request-id"]
        for chunk in r.iter_bytes():
            got += chunk
    assert len(got) == 100
    assert fake_eleven.wait_idle(2)
    assert fake_eleven.generations[rid].finished is None
    rec = fake_eleven.requests[-1]
    assert (rec.status, rec.body_fully_sent, rec.fault) == (200, False, "disconnect")
    assert fake_eleven.in_flight == 0
    # the next request is served normally, on a new connection
    r2 = client.post(TTS, json={"text": "again"})
    assert r2.status_code == 200
    assert fake_eleven.wait_idle(2) and fake_eleven.generations[
        r2.headers["request-id"]].finished is not None


def test_disconnect_truncates_plain_body(fake_eleven: FakeElevenLabs,
                                         client: httpx.Client) -> None:
    fake_eleven.disconnect_next(1, after_bytes=10)
    with pytest.raises(httpx.TransportError):
        client.post(f"{TTS}/with-timestamps", json={"text": TEXT})
    assert fake_eleven.wait_idle(2)
    (gen,) = fake_eleven.generations.values()
    assert gen.finished is None


def test_fail_next_with_retry_after(fake_eleven: FakeElevenLabs, client: httpx.Client) -> None:
    fake_eleven.fail_next(2, 429, "system_busy", 0.05)
    for _ in range(2):
        r = client.post(TTS, json={"text": "busy"})
        assert r.status_code == 429 and r.headers["retry-after"] == "0.05"
        assert r.json()["detail"]["status"] == "system_busy"
        assert set(r.json()["detail"]) == {"status", "message"}
        assert "request-id" not in r.headers
    assert client.post(TTS, json={"text": "busy"}).status_code == 200
    fake_eleven.fail_next(1, 500)
    fake_eleven.fail_next(1, 503, retry_after=2)
    r = client.post(f"{TTS}/stream", json={"text": "x"})
    assert r.status_code == 500 and r.json()["detail"]["status"] == "internal_server_error"
    r = client.post(f"{TTS}/stream", json={"text": "x"})
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    assert client.post(TTS, json={"text": "x"}).status_code == 200
    assert len(fake_eleven.generations) == 2 and fake_eleven.character_count == 5
    # path filter: a voices fault leaves TTS alone
    fake_eleven.fail_next(1, 500, path_contains="/v2/voices")
    assert client.post(TTS, json={"text": "x"}).status_code == 200
    assert client.get("/v2/voices").status_code == 500


def test_stall_next_delays_first_byte(fake_eleven: FakeElevenLabs, client: httpx.Client) -> None:
    fake_eleven.stall_next(1, 0.3)
    t0 = time.monotonic()
    with client.stream("POST", f"{TTS}/stream", json={"text": "slow"}) as r:
        assert time.monotonic() - t0 >= 0.29
        r.read()
    t0 = time.monotonic()
    client.post(TTS, json={"text": "fast"})
    assert time.monotonic() - t0 < 0.25


def test_latency_model(fake_eleven_factory: Factory) -> None:
    fake = fake_eleven_factory(latency_base_s=0.1, latency_per_char_s=0.01)
    with make_client(fake) as c:
        t0 = time.monotonic()
        c.post(TTS, params={"output_format": "pcm_8000"}, json={"text": "x" * 10})
        assert 0.19 <= time.monotonic() - t0 < 1.0


# --------------------------------------------------------------------------- audio


@pytest.mark.parametrize("fmt", ["mp3_44100_128", "mp3_22050_32", "mp3_24000_48", "mp3_44100_64",
                                 "wav_16000", "wav_24000", "pcm_24000", "pcm_8000", "ulaw_8000",
                                 "alaw_8000"])
def test_audio_decodes_to_expected_duration(client: httpx.Client, fmt: str) -> None:
    r = client.post(TTS, params={"output_format": fmt}, json={"text": TEXT})
    assert r.status_code == 200
    n, rate = frames_of(fmt, r.content)
    assert rate == int(fmt.split("_")[1])
    if fmt in ("mp3_22050_32", "mp3_24000_48"):
        # MPEG-2 frames this small cannot hold the LAME/Info tag, so a decoder cannot trim the
        # encoder delay and padding: the decoded audio is a little longer (as with real files)
        assert 0 <= n - expected_frames(TEXT, rate) <= 3 * 576
    else:
        assert abs(n - expected_frames(TEXT, rate)) <= 1
    if fmt.startswith("mp3"):
        assert r.headers["content-type"] == "audio/mpeg"
        offsets = mp3_frame_offsets(r.content)
        h = r.content[offsets[2]:offsets[2] + 4]  # an audio frame (frame 0 is the Info tag)
        version = (h[1] >> 3) & 3
        table = ((0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320) if version == 3
                 else (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160))
        assert table[h[2] >> 4] == int(fmt.split("_")[2])
    if fmt.startswith("ulaw"):
        assert set(r.content) == {0xFF}
    if fmt.startswith("alaw"):
        assert set(r.content) == {0xD5}


def test_audio_is_a_quiet_tone_with_word_gaps(client: httpx.Client) -> None:
    text = "ab cd"
    r = client.post(TTS, params={"output_format": "pcm_16000"}, json={"text": text})
    pcm = np.frombuffer(r.content, dtype="<i2").astype(np.float64) / 32768
    slot = int(0.06 * 16000)
    voiced = pcm[int(0.2 * slot):2 * slot]
    gap = pcm[2 * slot + 10:3 * slot - 100]  # the space, before the next word fades in
    assert 0.03 < np.sqrt(np.mean(voiced ** 2)) < 0.2
    assert np.max(np.abs(gap)) < 1e-3


def test_speed_scales_duration(client: httpx.Client) -> None:
    r = client.post(TTS, params={"output_format": "wav_22050"},
                    json={"text": TEXT, "voice_settings": {"speed": 1.2}})
    n, rate = frames_of("wav_22050", r.content)
    assert abs(n - expected_frames(TEXT, rate, speed=1.2)) <= 1


def test_ms_per_char_option(fake_eleven_factory: Factory) -> None:
    fake = fake_eleven_factory(ms_per_char=5.0)
    with make_client(fake) as c:
        r = c.post(TTS, params={"output_format": "pcm_16000"}, json={"text": TEXT})
    assert len(r.content) // 2 == expected_frames(TEXT, 16000, ms=5.0)


def _check_alignment(al: dict[str, Any], text: str) -> None:
    chars, starts, ends = (al["characters"], al["character_start_times_seconds"],
                           al["character_end_times_seconds"])
    assert chars == list(text)
    assert len(chars) == len(starts) == len(ends)
    assert all(s < e for s, e in zip(starts, ends, strict=True))
    assert all(abs(e - s2) < 1e-9 for e, s2 in zip(ends, starts[1:], strict=False))


def test_with_timestamps_invariants(client: httpx.Client) -> None:
    r = client.post(f"{TTS}/with-timestamps", params={"output_format": "wav_16000"},
                    json={"text": TEXT})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert is_fake_id(r.headers["request-id"])
    doc = r.json()
    assert set(doc) == {"audio_base64", "alignment", "normalized_alignment"}
    _check_alignment(doc["alignment"], TEXT)
    _check_alignment(doc["normalized_alignment"], TEXT)
    assert doc["alignment"]["character_start_times_seconds"][0] == 0
    duration = len(TEXT) * 0.06
    assert abs(doc["alignment"]["character_end_times_seconds"][-1] - duration) < 1e-6
    n, rate = frames_of("wav_16000", base64.b64decode(doc["audio_base64"]))
    assert abs(n / rate - duration) <= 1 / rate


def _ndjson(client: httpx.Client, fmt: str, text: str) -> list[dict[str, Any]]:
    with client.stream("POST", f"{TTS}/stream/with-timestamps", params={"output_format": fmt},
                       json={"text": text}) as r:
        assert r.status_code == 200 and is_fake_id(r.headers["request-id"])
        lines = [line for line in r.iter_lines() if line.strip()]
    return [json.loads(line) for line in lines]


@pytest.mark.parametrize("fmt", ["pcm_16000", "mp3_44100_128", "ulaw_8000"])
def test_ndjson_stream_matches_non_stream(client: httpx.Client, fmt: str) -> None:
    text = TEXT * 3
    chunks = _ndjson(client, fmt, text)
    assert len(chunks) > 3
    audio = b"".join(base64.b64decode(c["audio_base64"]) for c in chunks)
    whole = client.post(TTS, params={"output_format": fmt}, json={"text": text}).content
    assert frames_of(fmt, audio)[0] == frames_of(fmt, whole)[0]
    assert audio == whole
    chars = [ch for c in chunks if c["alignment"] for ch in c["alignment"]["characters"]]
    assert "".join(chars) == text
    starts = [s for c in chunks if c["alignment"]
              for s in c["alignment"]["character_start_times_seconds"]]
    assert starts == sorted(starts) and starts[0] == 0  # absolute times by default
    if fmt.startswith("pcm"):
        for c in chunks:  # each piece covers exactly its characters' time span
            al = c["alignment"]
            span = al["character_end_times_seconds"][-1] - al["character_start_times_seconds"][0]
            assert abs(len(base64.b64decode(c["audio_base64"])) / 2 / 16000 - span) <= 1 / 16000


def test_ndjson_chunk_relative_times(fake_eleven_factory: Factory) -> None:
    fake = fake_eleven_factory(timestamps_mode="chunk-relative")
    with make_client(fake) as c:
        chunks = _ndjson(c, "pcm_16000", TEXT * 2)
    offset = 0.0
    absolute: list[float] = []
    for ch in chunks:
        al = ch["alignment"]
        assert al["character_start_times_seconds"][0] == 0
        absolute += [round(s + offset, 6) for s in al["character_start_times_seconds"]]
        offset += al["character_end_times_seconds"][-1]
    assert absolute == [round(i * 0.06, 6) for i in range(len(TEXT) * 2)]


# --------------------------------------------------------------------------- voices, models


def test_voices_v1_and_single(fake_eleven: FakeElevenLabs, client: httpx.Client) -> None:
    voices = client.get("/v1/voices/").json()["voices"]
    assert len(voices) == 12 and all(is_fake_id(v["voice_id"]) for v in voices)
    assert {v["category"] for v in voices} == {"premade"}
    assert all(v["preview_url"].startswith(fake_eleven.base_url) for v in voices)
    rachel = client.get(f"/v1/voices/{VOICE}").json()
    assert rachel["name"] == "Rachel" and rachel["labels"]["gender"] == "female"
    preview = client.get(rachel["preview_url"], headers={"xi-api-key": ""})
    assert preview.status_code == 200 and sf.info(io.BytesIO(preview.content)).duration > 0.5
    defaults = {"stability": 0.5, "similarity_boost": 0.75, "style": 0.0,
                "use_speaker_boost": True, "speed": 1.0}
    assert client.get("/v1/voices/settings/default").json() == defaults
    assert client.get(f"/v1/voices/{VOICE}/settings").json() == defaults
    r = client.get("/v1/voices/nope/settings")
    assert r.status_code == 404 and r.json()["detail"]["status"] == "voice_not_found"


def test_v2_voices_pagination_walks_every_voice_once(client: httpx.Client) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"page_size": 5}
    for _ in range(10):
        page = client.get("/v2/voices", params=params).json()
        assert page["total_count"] == 12
        seen += [v["voice_id"] for v in page["voices"]]
        if not page["has_more"]:
            assert page["next_page_token"] is None
            break
        params["next_page_token"] = page["next_page_token"]
    assert len(seen) == 12 and len(set(seen)) == 12
    first = client.get("/v2/voices").json()
    assert len(first["voices"]) == 10 and first["has_more"]
    assert client.get("/v2/voices", params={"page_size": 101}).status_code == 422
    assert client.get("/v2/voices", params={"page_size": 100}).json()["has_more"] is False
    british = client.get("/v2/voices", params={"search": "British"}).json()
    assert {v["name"] for v in british["voices"]} == {"George", "Dorothy", "Daniel", "Dave"}
    assert client.get("/v2/voices", params={"search": "rachel"}).json()["total_count"] == 1
    assert client.get("/v2/voices", params={"voice_type": "default"}).json()["total_count"] == 12
    assert client.get("/v2/voices", params={"voice_type": "personal"}).json()["voices"] == []
    assert client.get("/v2/voices", params={"category": "cloned"}).json()["total_count"] == 0
    assert client.get("/v2/voices", params={"category": "famous!"}).status_code == 422
    names = [v["name"] for v in client.get("/v2/voices", params={
        "sort": "name", "sort_direction": "desc", "page_size": 100}).json()["voices"]]
    assert names == sorted(names, reverse=True)


def test_models_endpoint(client: httpx.Client) -> None:
    models = client.get("/v1/models").json()
    assert isinstance(models, list) and len(models) == len(MODELS)
    by_id = {m["model_id"]: m for m in models}
    expected = {"eleven_multilingual_v2": (10_000, 1.0), "eleven_v3": (10_000, 1.0),
                "eleven_flash_v2_5": (40_000, 0.5), "eleven_turbo_v2_5": (40_000, 0.5)}
    for model_id, (limit, mult) in expected.items():
        m = by_id[model_id]
        assert m["can_do_text_to_speech"] is True
        assert m["maximum_text_length_per_request"] == limit
        assert m["max_characters_request_subscribed_user"] == limit
        assert m["model_rates"]["character_cost_multiplier"] == mult
        assert {"language_id": "en", "name": "English"} in m["languages"]
    assert by_id["eleven_multilingual_sts_v2"]["can_do_text_to_speech"] is False


def test_stop_is_prompt_even_with_work_in_flight() -> None:
    fake = FakeElevenLabs(latency_base_s=30).start()
    done = threading.Event()

    def call() -> None:
        with make_client(fake) as c, pytest.raises(httpx.TransportError):
            c.post(TTS, json={"text": "never"})
        done.set()

    t = threading.Thread(target=call)
    t.start()
    deadline = time.monotonic() + 2
    while fake.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    t0 = time.monotonic()
    fake.stop()
    assert time.monotonic() - t0 < 2
    assert done.wait(3)
    t.join(timeout=3)
    assert fake.errors == []
