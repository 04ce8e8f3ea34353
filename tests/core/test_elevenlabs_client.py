"""The ElevenLabs client's error mapping, retries and payloads (httpx.MockTransport).

The end-to-end behaviour against a real HTTP server is in tests/test_render.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest

from studio.core.engines import (
    AuthError,
    CharacterLimitExceeded,
    EngineUnavailable,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    RequestInvalid,
    ServiceError,
    SpeechRequest,
    VoiceNotFound,
)
from studio.core.engines.elevenlabs import ElevenLabsEngine

KEY = "sk_test_secret_value_1234567890"
OK_BODY = {
    "audio_base64": base64.b64encode(b"\x00\x00" * 2205).decode(),
    "alignment": {
        "characters": list("Hi there"),
        "character_start_times_seconds": [i * 0.01 for i in range(8)],
        "character_end_times_seconds": [i * 0.01 + 0.01 for i in range(8)],
    },
}


def engine(handler: Callable[[httpx.Request], httpx.Response], **kw: object) -> ElevenLabsEngine:
    sleeps: list[float] = []
    e = ElevenLabsEngine(KEY, "http://fake", transport=httpx.MockTransport(handler),
                         sleep=sleeps.append, **kw)  # type: ignore[arg-type]
    e.sleeps = sleeps  # type: ignore[attr-defined]
    return e


def req(**kw: object) -> SpeechRequest:
    base: dict[str, object] = {"text": "Hi there", "voice_id": "v1", "model_id":
                               "eleven_multilingual_v2", "output_format": "pcm_22050"}
    base.update(kw)
    return SpeechRequest(**base)  # type: ignore[arg-type]


def error(status: int, code: str | None = None, message: str = "", **headers: str
          ) -> Callable[[httpx.Request], httpx.Response]:
    detail: object = {"status": code, "message": message} if code else message
    return lambda r: httpx.Response(status, json={"detail": detail}, headers=headers)


@pytest.mark.parametrize(
    ("response", "kind", "words"),
    [
        (error(401, "invalid_api_key", "Invalid API key"), AuthError, "rejected the API key"),
        (error(401, "quota_exceeded", "This request exceeds your quota of 10000. You have 0 "
               "credits remaining, while 91 credits are required for this request."),
         QuotaExceeded, "91 credits are required"),
        (error(404, "voice_not_found", "A voice with the voice_id v1 was not found."),
         VoiceNotFound, "voice_id v1 was not found"),
        (error(400, "voice_not_found", "A voice with the voice_id v1 was not found."),
         VoiceNotFound, "Choose another voice"),
        (error(400, "max_character_limit_exceeded", "Text is too long"), CharacterLimitExceeded,
         "too long"),
        (error(403, "only_for_creator+", "Professional voices need Creator"), PermissionDenied,
         "plan does not allow"),
        (lambda r: httpx.Response(422, json={"detail": [
            {"loc": ["body", "voice_settings", "speed"], "msg": "must be <= 1.2",
             "type": "less_than_equal"}]}),
         RequestInvalid, "voice_settings.speed: must be <= 1.2"),
    ],
)
def test_documented_errors_become_typed_errors(response, kind, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(kind) as info:
        engine(response).synthesize(req())
    assert words in str(info.value)
    assert KEY not in str(info.value) and KEY not in repr(info.value)


def test_validation_error_names_the_field() -> None:
    e = engine(lambda r: httpx.Response(422, json={"detail": [
        {"loc": ["body", "text"], "msg": "field required", "type": "missing"}]}))
    with pytest.raises(RequestInvalid) as info:
        e.synthesize(req())
    assert info.value.field_name == "text"


def test_busy_and_server_errors_are_retried_honouring_retry_after() -> None:
    answers = [
        httpx.Response(429, json={"detail": {"status": "system_busy", "message": "busy"}},
                       headers={"retry-after": "2"}),
        httpx.Response(503, json={"detail": "unavailable"}, headers={"retry-after-ms": "250"}),
        httpx.Response(500, json={"detail": "oops"}),
        httpx.Response(200, json=OK_BODY, headers={"request-id": "abcdefghij0123456789",
                                                   "character-cost": "8",
                                                   "maximum-concurrent-requests": "5"}),
    ]
    e = engine(lambda r: answers.pop(0))
    result = e.synthesize(req())
    assert result.request_id == "abcdefghij0123456789" and result.cost == 8
    assert result.concurrency_limit == 5 and abs(result.duration - 0.1) < 1e-6
    assert result.char_timings is not None and len(result.char_timings.characters) == 8
    assert [w.word for w in result.word_timings] == ["Hi", "there"]
    sleeps = e.sleeps  # type: ignore[attr-defined]
    assert sleeps[:2] == [2.0, 0.25] and len(sleeps) == 3 and 0 < sleeps[2] <= 30


def test_dropped_connections_are_retried() -> None:
    calls = {"n": 0}

    def handler(r: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] < 3:
            raise httpx.RemoteProtocolError("peer closed connection", request=r)
        return httpx.Response(200, json=OK_BODY, headers={"request-id": "x" * 20})

    assert engine(handler).synthesize(req()).request_id == "x" * 20
    assert calls["n"] == 3


def test_too_many_concurrent_is_left_to_the_scheduler_when_asked() -> None:
    e = engine(error(429, "too_many_concurrent_requests", "Too many concurrent requests"),
               retry_concurrency=False)
    with pytest.raises(RateLimited) as info:
        e.synthesize(req())
    assert info.value.concurrency and e.sleeps == []  # type: ignore[attr-defined]


def test_giving_up_and_offline() -> None:
    e = engine(error(500, None, "down"), max_retries=2)
    with pytest.raises(ServiceError, match="gave up after 3 attempts"):
        e.synthesize(req())

    def refuse(r: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Name or service not known", request=r)

    with pytest.raises(EngineUnavailable, match="Could not reach ElevenLabs"):
        engine(refuse, max_retries=1).synthesize(req())


def test_payload_stitching_rules() -> None:
    seen: list[dict[str, object]] = []

    def handler(r: httpx.Request) -> httpx.Response:
        seen.append(json.loads(r.content))
        assert r.headers["xi-api-key"] == KEY
        assert r.url.params["output_format"] == "pcm_22050"
        return httpx.Response(200, json=OK_BODY, headers={"request-id": "y" * 20})

    e = engine(handler)
    e.synthesize(req(previous_request_ids=("a", "b", "c", "d"), previous_text="before",
                     next_text="after"))
    e.synthesize(req(previous_text="before", next_text="after"))
    first, second = seen
    assert first["previous_request_ids"] == ["b", "c", "d"]
    assert "previous_text" not in first and first["next_text"] == "after"
    assert second["previous_text"] == "before" and "previous_request_ids" not in second
    assert first["voice_settings"] == {"stability": 0.5, "similarity_boost": 0.75, "style": 0.0,
                                       "use_speaker_boost": True, "speed": 1.0}


def test_voices_walk_every_page() -> None:
    pages = {
        None: {"voices": [{"voice_id": "a", "name": "A"}], "has_more": True,
               "next_page_token": "t1"},
        "t1": {"voices": [{"voice_id": "b", "name": "B", "labels": {"gender": "female"}}],
               "has_more": False, "next_page_token": None},
    }

    def handler(r: httpx.Request) -> httpx.Response:
        assert r.url.path == "/v2/voices"
        return httpx.Response(200, json=pages[r.url.params.get("next_page_token")])

    voices = engine(handler).voices()
    assert [v.voice_id for v in voices] == ["a", "b"] and voices[1].labels == {"gender": "female"}


def test_unparseable_retry_after_falls_back_to_backoff() -> None:
    answers = [
        httpx.Response(503, json={"detail": "busy"}, headers={"retry-after": "soon"}),
        httpx.Response(200, json=OK_BODY, headers={"request-id": "z" * 20}),
    ]
    e = engine(lambda r: answers.pop(0))
    assert e.synthesize(req()).request_id == "z" * 20
    assert len(e.sleeps) == 1 and 0 < e.sleeps[0] <= 1  # type: ignore[attr-defined]


def test_a_stop_ends_a_backoff_wait_but_not_a_body() -> None:
    from studio.core.errors import Cancelled, CancelToken

    cancel = CancelToken()

    def busy(r: httpx.Request) -> httpx.Response:
        cancel.cancel()  # the user stops while the request is being refused
        return httpx.Response(503, json={"detail": "busy"}, headers={"retry-after": "30"})

    started = __import__("time").monotonic()
    with pytest.raises(Cancelled):
        engine(busy).synthesize(req(), cancel)
    assert __import__("time").monotonic() - started < 1  # did not sit out the 30 s

    stopped = CancelToken()
    stopped_late = engine(lambda r: (stopped.cancel(), httpx.Response(
        200, json=OK_BODY, headers={"request-id": "w" * 20}))[1])
    # A response already under way is paid for: a stop lets it arrive.
    assert stopped_late.synthesize(req(), stopped).request_id == "w" * 20
