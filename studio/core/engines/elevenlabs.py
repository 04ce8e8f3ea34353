"""The ElevenLabs HTTP API over httpx (contract: ``shared/spec/elevenlabs-api.md``).

Every request carries the key in ``xi-api-key``; the key is never logged, never put in an
exception message and never written anywhere by this module. Documented errors become typed
:class:`~studio.core.engines.EngineError` s with a message a user can act on.

Retries: 429 ``system_busy``, 408/409/5xx and dropped connections are retried with
exponential backoff (jittered, capped) that honours ``retry-after-ms``/``Retry-After``.
429 ``too_many_concurrent_requests`` is raised at once (:class:`RateLimited` with
``concurrency=True``) when ``retry_concurrency`` is off, so the scheduler can lower its
parallelism instead of hammering the limit.
"""

from __future__ import annotations

import base64
import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from studio import __version__
from studio.core import audio as audiolib
from studio.core.engines import (
    AuthError,
    Capability,
    CharacterLimitExceeded,
    EngineError,
    EngineModel,
    EngineUnavailable,
    EngineVoice,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    RequestInvalid,
    ServiceError,
    SpeechRequest,
    SpeechResult,
    Subscription,
    VoiceNotFound,
    VoiceParams,
)
from studio.core.errors import CancelToken
from studio.core.model import CharTimings, WordTiming
from studio.core.settings import DEFAULT_BASE_URL

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024


def _retry_after(response: httpx.Response) -> float | None:
    """Return the server's requested delay in seconds, if it gave one."""
    ms = response.headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None  # not seconds, not a date: fall back to our own backoff
            return max(0.0, parsed.timestamp() - time.time())
    return None


def _detail(response: httpx.Response) -> tuple[str, str, Any]:
    """Return (status code word, message, raw detail) from an error body, defensively."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200].strip(), None
    detail = body.get("detail") if isinstance(body, dict) else body
    if isinstance(detail, dict):
        return str(detail.get("status", "")), str(detail.get("message", "")), detail
    if isinstance(detail, str):
        return "", detail, detail
    return "", "", detail


def error_from_response(response: httpx.Response) -> EngineError:
    """Turn an error response into a typed error with an actionable message."""
    status = response.status_code
    code, message, detail = _detail(response)
    retry_after = _retry_after(response)
    if status == 401 and code == "quota_exceeded":
        return QuotaExceeded(
            f"ElevenLabs: not enough credits for this request. {message} Add credits or "
            "enable usage-based billing, then render again; finished paragraphs are kept."
        )
    if status == 401 or code == "invalid_api_key":
        return AuthError(
            "ElevenLabs rejected the API key. Check it in Settings, the OS keyring or "
            "ELEVENLABS_API_KEY."
        )
    if code in ("voice_not_found", "voice_does_not_exist") or (
        status == 404 and "voice" in message.lower()
    ):
        return VoiceNotFound(
            f"ElevenLabs: {message or 'voice not found'} Choose another voice for it."
        )
    if code == "max_character_limit_exceeded":
        return CharacterLimitExceeded(
            f"ElevenLabs: the text is too long for one request ({message})", "text"
        )
    if status == 403:
        return PermissionDenied(
            f"ElevenLabs: your plan does not allow this ({message or code or 'forbidden'})."
        )
    if status == 422:
        fields: list[str] = []
        msgs: list[str] = []
        if isinstance(detail, list):
            for item in detail:
                if isinstance(item, dict):
                    loc = item.get("loc") or []
                    name = ".".join(str(x) for x in loc if x not in ("body", "query"))
                    fields.append(name or "request")
                    msgs.append(f"{name or 'request'}: {item.get('msg', 'invalid')}")
        text = "; ".join(msgs) or message or "invalid request"
        return RequestInvalid(
            f"ElevenLabs refused the request: {text}", fields[0] if fields else None
        )
    if status == 429:
        concurrency = code == "too_many_concurrent_requests"
        what = "too many requests at once" if concurrency else "the service is busy"
        return RateLimited(f"ElevenLabs: {what}; retrying", retry_after, concurrency)
    if status in (408, 409) or status >= 500:
        return ServiceError(
            f"ElevenLabs had a problem (HTTP {status}{': ' + message if message else ''}); "
            "retrying",
            retry_after,
        )
    return RequestInvalid(f"ElevenLabs refused the request (HTTP {status}: {message or code})")


def _word_timings(timings: CharTimings) -> tuple[WordTiming, ...]:
    """Group character timings into words (runs of non-space characters)."""
    words: list[WordTiming] = []
    start: int | None = None
    chars = timings.characters
    for i, ch in enumerate([*chars, " "]):
        if ch.isspace():
            if start is not None:
                text = "".join(chars[start:i])
                words.append(
                    WordTiming(text, start, i, timings.starts[start], timings.ends[i - 1])
                )
                start = None
        elif start is None:
            start = i
    return tuple(words)


def _alignment(data: Any) -> CharTimings | None:
    if not isinstance(data, dict):
        return None
    chars = data.get("characters") or []
    starts = data.get("character_start_times_seconds") or []
    ends = data.get("character_end_times_seconds") or []
    if not (len(chars) == len(starts) == len(ends)):
        return None
    return CharTimings(tuple(chars), tuple(float(s) for s in starts), tuple(float(e) for e in ends))


def _sample_rate(fmt: str) -> int:
    try:
        return audiolib.format_sample_rate(fmt)
    except audiolib.AudioFormatError:
        return 44100


def _duration(audio: bytes, fmt: str, timings: CharTimings | None) -> float:
    try:
        return float(audiolib.duration(audio, fmt))
    except audiolib.AudioFormatError:  # fall back to the timings when it cannot be measured
        return timings.ends[-1] if timings and timings.ends else 0.0


class ElevenLabsEngine:
    """ElevenLabs text to speech, voices, models and subscription."""

    name = "elevenlabs"
    capabilities = Capability.TTS | Capability.TIMESTAMPS | Capability.STITCHING | (
        Capability.STREAMING
    )

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 240.0,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        retry_concurrency: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise AuthError(
                "No ElevenLabs API key is set (Settings, keyring or ELEVENLABS_API_KEY)."
            )
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_concurrency = retry_concurrency
        self._sleep = sleep
        self.concurrency_limit: int | None = None  # from "maximum-concurrent-requests"
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"xi-api-key": api_key, "user-agent": f"NarratorStudio/{__version__}"},
            timeout=httpx.Timeout(timeout, connect=15.0),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"ElevenLabsEngine(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    # -- transport -------------------------------------------------------------------------

    def _delay(self, attempt: int, error: EngineError) -> float:
        hinted = getattr(error, "retry_after", None)
        if hinted is not None:
            return float(min(hinted, self.backoff_cap))
        base = min(self.backoff_cap, self.backoff_base * (2**attempt))
        return float(base * (0.5 + random.random() / 2))

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        cancel: CancelToken | None = None,
        on_headers: Callable[[httpx.Response], None] | None = None,
    ) -> bytes:
        """Send a request with retries; return the whole body once read to the end."""
        attempt = 0
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled("generation")
            try:
                with self._client.stream(method, path, params=params, json=json_body) as resp:
                    if resp.status_code >= 400:
                        resp.read()
                        raise error_from_response(resp)
                    if on_headers is not None:
                        on_headers(resp)
                    parts: list[bytes] = []
                    for chunk in resp.iter_bytes(_CHUNK):
                        # A response under way is paid for: only an abort drops it.
                        if cancel is not None:
                            cancel.raise_if_aborted("generation")
                        parts.append(chunk)
                    return b"".join(parts)
            except (RateLimited, ServiceError) as exc:
                if isinstance(exc, RateLimited) and exc.concurrency and not self.retry_concurrency:
                    raise
                error: EngineError = exc
            except httpx.TimeoutException:
                error = ServiceError("ElevenLabs did not answer in time; retrying")
            except httpx.ConnectError:
                # Nothing listening or no route: a couple of quick retries, then say so.
                if attempt >= min(self.max_retries, 2):
                    raise EngineUnavailable(
                        f"Could not reach ElevenLabs at {self.base_url}: check your connection "
                        "(or use the offline engine)."
                    ) from None
                error = ServiceError("could not connect to ElevenLabs")
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                error = ServiceError(f"the connection to ElevenLabs failed ({type(exc).__name__})")
            if attempt >= self.max_retries:
                raise type(error)(str(error).replace("; retrying", "") + " (gave up after "
                                  f"{attempt + 1} attempts)") from None
            delay = self._delay(attempt, error)
            log.info("retrying %s %s in %.2fs: %s", method, path, delay, error)
            attempt += 1
            if cancel is not None:
                if cancel.wait(delay):  # a stop ends the wait: nothing was paid for yet
                    cancel.raise_if_cancelled("generation")
            else:
                self._sleep(delay)

    def _get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        body = self._send("GET", path, params=params)
        try:
            return json.loads(body)
        except ValueError:
            raise ServiceError(f"ElevenLabs sent an unreadable answer for {path}") from None

    # -- text to speech ----------------------------------------------------------------------

    @staticmethod
    def _payload(request: SpeechRequest) -> dict[str, Any]:
        p: VoiceParams = request.params
        body: dict[str, Any] = {
            "text": request.text,
            "model_id": request.model_id,
            "voice_settings": {
                "stability": p.stability,
                "similarity_boost": p.similarity,
                "style": p.style,
                "use_speaker_boost": p.speaker_boost,
                "speed": p.speed,
            },
        }
        if request.language_code:
            body["language_code"] = request.language_code
        if request.previous_request_ids:
            body["previous_request_ids"] = list(request.previous_request_ids[-3:])
        if request.next_request_ids:
            body["next_request_ids"] = list(request.next_request_ids[:3])
        if request.previous_text and not request.previous_request_ids:
            body["previous_text"] = request.previous_text
        if request.next_text and not request.next_request_ids:
            body["next_text"] = request.next_text
        if request.dictionary_locators:
            body["pronunciation_dictionary_locators"] = [
                {"pronunciation_dictionary_id": d, **({"version_id": v} if v else {})}
                for d, v in request.dictionary_locators[:3]
            ]
        return body

    def synthesize(
        self, request: SpeechRequest, cancel: CancelToken | None = None
    ) -> SpeechResult:
        """Generate speech with character timings (``/with-timestamps``)."""
        headers: dict[str, str] = {}

        def keep(resp: httpx.Response) -> None:
            headers.update({k.lower(): v for k, v in resp.headers.items()})

        body = self._send(
            "POST",
            f"/v1/text-to-speech/{request.voice_id}/with-timestamps",
            params={"output_format": request.output_format},
            json_body=self._payload(request),
            cancel=cancel,
            on_headers=keep,
        )
        completed = time.time()
        try:
            data = json.loads(body)
            audio = base64.b64decode(data["audio_base64"])
        except (ValueError, KeyError, TypeError):
            raise ServiceError("ElevenLabs sent an unreadable speech answer") from None
        timings = _alignment(data.get("alignment"))
        limit = headers.get("maximum-concurrent-requests")
        if limit and limit.isdigit():
            self.concurrency_limit = int(limit)
        cost = headers.get("character-cost", "")
        return SpeechResult(
            audio=audio,
            format=request.output_format,
            sample_rate=_sample_rate(request.output_format),
            duration=_duration(audio, request.output_format, timings),
            request_id=headers.get("request-id"),
            cost=int(cost) if cost.isdigit() else 0,
            char_timings=timings,
            word_timings=_word_timings(timings) if timings else (),
            concurrency_limit=self.concurrency_limit,
            completed_at=completed,
        )

    def stream_preview(
        self, request: SpeechRequest, cancel: CancelToken | None = None
    ) -> Iterator[bytes]:
        """Yield audio chunks of a quick preview as they arrive (``/stream``; no retries)."""
        fmt = request.output_format if not request.output_format.startswith("wav") else (
            "mp3_44100_128"
        )
        with self._client.stream(
            "POST",
            f"/v1/text-to-speech/{request.voice_id}/stream",
            params={"output_format": fmt},
            json=self._payload(request),
        ) as resp:
            if resp.status_code >= 400:
                resp.read()
                raise error_from_response(resp)
            for chunk in resp.iter_bytes(8192):
                if cancel is not None and cancel.cancelled:
                    return
                yield chunk

    # -- account and catalogue ---------------------------------------------------------------

    @staticmethod
    def _voice(data: dict[str, Any]) -> EngineVoice:
        return EngineVoice(
            voice_id=str(data.get("voice_id", "")),
            name=str(data.get("name") or data.get("voice_id", "")),
            category=str(data.get("category") or ""),
            labels={str(k): str(v) for k, v in (data.get("labels") or {}).items()},
            description=str(data.get("description") or ""),
            preview_url=data.get("preview_url"),
            settings=dict(data.get("settings") or {}),
        )

    def voices(self, search: str | None = None, page_size: int = 100) -> list[EngineVoice]:
        """Return every voice of the account (``/v2/voices``, all pages)."""
        found: list[EngineVoice] = []
        token: str | None = None
        for _ in range(1000):  # a bound, in case a server keeps saying has_more
            params: dict[str, Any] = {"page_size": page_size}
            if token:
                params["next_page_token"] = token
            if search:
                params["search"] = search
            page = self._get_json("/v2/voices", params)
            found.extend(self._voice(v) for v in page.get("voices", []) if v.get("voice_id"))
            token = page.get("next_page_token")
            if not page.get("has_more") or not token:
                break
        return found

    def voice(self, voice_id: str) -> EngineVoice:
        """Return one voice (``/v1/voices/{id}``)."""
        return self._voice(self._get_json(f"/v1/voices/{voice_id}"))

    def default_settings(self) -> VoiceParams:
        """Return the account's default voice settings."""
        d = self._get_json("/v1/voices/settings/default")
        return VoiceParams(
            stability=float(d.get("stability", 0.5)),
            similarity=float(d.get("similarity_boost", 0.75)),
            style=float(d.get("style", 0.0)),
            speaker_boost=bool(d.get("use_speaker_boost", True)),
            speed=float(d.get("speed", 1.0)),
        )

    def models(self) -> list[EngineModel]:
        """Return the text-to-speech models with their limits and stitching support."""
        out: list[EngineModel] = []
        for m in self._get_json("/v1/models"):
            if not isinstance(m, dict) or not m.get("can_do_text_to_speech", True):
                continue
            model_id = str(m.get("model_id", ""))
            limit = (
                m.get("maximum_text_length_per_request")
                or m.get("max_characters_request_subscribed_user")
                or 5000
            )
            rates = m.get("model_rates") or {}
            out.append(
                EngineModel(
                    model_id=model_id,
                    name=str(m.get("name") or model_id),
                    max_characters=int(limit),
                    supports_stitching=not model_id.startswith("eleven_v3"),
                    cost_multiplier=float(rates.get("character_cost_multiplier", 1.0)),
                    languages=tuple(
                        str(lang.get("language_id"))
                        for lang in m.get("languages") or []
                        if isinstance(lang, dict)
                    ),
                )
            )
        return out

    def subscription(self) -> Subscription:
        """Return the plan and its character use."""
        s = self._get_json("/v1/user/subscription")
        return Subscription(
            tier=str(s.get("tier", "")),
            character_count=int(s.get("character_count", 0)),
            character_limit=int(s.get("character_limit", 0)),
            next_reset_unix=s.get("next_character_count_reset_unix"),
            status=str(s.get("status", "")),
        )

