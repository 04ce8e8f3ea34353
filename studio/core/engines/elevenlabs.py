"""The ElevenLabs HTTP API over httpx (contract: ``shared/spec/elevenlabs-api.md``).

Every request carries the key in ``xi-api-key``; the key is never logged, never put in an
exception message and never written anywhere by this module. Documented errors become typed
:class:`~studio.core.engines.EngineError` s with a message a user can act on.

Retries: 429 ``system_busy``, 408/409/5xx and dropped connections are retried with
exponential backoff (jittered, capped) that honours ``retry-after-ms``/``Retry-After``.
429 ``too_many_concurrent_requests`` is raised at once (:class:`RateLimited` with
``concurrency=True``) when ``retry_concurrency`` is off, so the scheduler can lower its
parallelism instead of hammering the limit.

Pronunciation dictionaries (§14): create from a PLS file or from rules, add and remove rules
(each change is a new version id), get, list, download. A locator the account does not have
becomes :class:`DictionaryNotFound`, named by its project name when ``dictionary_names`` knows
it. Text to Dialogue (§7): :meth:`ElevenLabsEngine.dialogue` sends one Eleven v3 request built
by :func:`studio.core.v3.dialogue_requests` (no stitching), with timings where the API has
``/with-timestamps`` and audio alone where it has not.
"""

from __future__ import annotations

import base64
import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
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
from studio.core.model import CharTimings, PronunciationRule, WordTiming
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


class DictionaryNotFound(RequestInvalid):
    """A pronunciation dictionary locator names a dictionary or version the account lacks."""

    def __init__(self, message: str, dictionary_id: str | None = None) -> None:
        self.dictionary_id = dictionary_id
        super().__init__(message, "pronunciation_dictionary_locators")


class _RouteNotFound(RequestInvalid):
    """The server has no such endpoint (404 ``{"detail": "Not Found"}``)."""


_DICTIONARY_CODES = ("pronunciation_dictionary_not_found",
                     "pronunciation_dictionary_version_not_found")


def error_from_response(response: httpx.Response) -> EngineError:
    """Turn an error response into a typed error with an actionable message."""
    status = response.status_code
    code, message, detail = _detail(response)
    retry_after = _retry_after(response)
    if code in _DICTIONARY_CODES or (status == 404 and "dictionar" in message.lower()):
        return DictionaryNotFound(
            f"ElevenLabs: {message or 'pronunciation dictionary not found'} Upload the "
            "project's dictionaries again (studio lexicon upload).")
    if status == 404 and detail == "Not Found":
        return _RouteNotFound("ElevenLabs has no such endpoint (HTTP 404: Not Found)")
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


def new_client(base_url: str, api_key: str, timeout: float,
               transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """Return the HTTP client every ElevenLabs client of the app uses (key in a header)."""
    return httpx.Client(
        base_url=base_url,
        headers={"xi-api-key": api_key, "user-agent": f"NarratorStudio/{__version__}"},
        timeout=httpx.Timeout(timeout, connect=15.0),
        transport=transport,
        follow_redirects=False,
    )


def backoff_delay(attempt: int, error: EngineError, base: float, cap: float) -> float:
    """Return how long to wait before retry ``attempt + 1``: the server's hint, else an
    exponential backoff with jitter, never over ``cap``."""
    hinted = getattr(error, "retry_after", None)
    if hinted is not None:
        return float(min(hinted, cap))
    return float(min(cap, base * (2**attempt)) * (0.5 + random.random() / 2))


def transport_error(exc: httpx.TransportError, attempt: int, max_retries: int,
                    base_url: str) -> EngineError:
    """Return the retryable error for a failed connection or a timeout.

    Raises:
        EngineUnavailable: nothing answers at ``base_url`` after a couple of quick tries.
    """
    if isinstance(exc, httpx.TimeoutException):
        return ServiceError("ElevenLabs did not answer in time; retrying")
    if isinstance(exc, httpx.ConnectError):
        if attempt >= min(max_retries, 2):
            raise EngineUnavailable(
                f"Could not reach ElevenLabs at {base_url}: check your connection "
                "(or use the offline engine)."
            ) from None
        return ServiceError("could not connect to ElevenLabs")
    return ServiceError(f"the connection to ElevenLabs failed ({type(exc).__name__})")


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


@dataclass(frozen=True, slots=True)
class RemoteDictionary:
    """A pronunciation dictionary on the account: its id and latest version (§14)."""

    id: str
    name: str
    version_id: str
    rules: int  # rules in that version
    description: str = ""
    created_unix: int = 0
    archived: bool = False


@dataclass(frozen=True, slots=True)
class VoiceSegment:
    """Where one Text to Dialogue input is in the audio and in the character timings."""

    voice_id: str
    start: float
    end: float
    char_start: int
    char_end: int  # exclusive
    input_index: int


@dataclass(frozen=True, slots=True)
class DialogueResult:
    """Audio, timings and per-input segments of one Text to Dialogue request."""

    speech: SpeechResult
    segments: tuple[VoiceSegment, ...] = ()


def rule_json(rule: PronunciationRule) -> dict[str, Any]:
    """Return ``rule`` as an API rule object (§14).

    ``case_sensitive``/``word_boundaries`` are newer than the documented API: they are sent
    only where a rule turns them off (the documented behaviour is on).
    """
    if rule.kind == "alias":
        out: dict[str, Any] = {"type": "alias", "string_to_replace": rule.grapheme,
                               "alias": rule.replacement}
    else:
        out = {"type": "phoneme", "string_to_replace": rule.grapheme,
               "phoneme": rule.replacement, "alphabet": rule.alphabet or "ipa"}
    if not rule.case_sensitive:
        out["case_sensitive"] = False
    if not rule.word_boundaries:
        out["word_boundaries"] = False
    return out


def _version(data: Any) -> RemoteDictionary:
    if not isinstance(data, dict) or not data.get("id") or not data.get("version_id"):
        raise ServiceError("ElevenLabs sent an unreadable pronunciation dictionary answer")
    return RemoteDictionary(
        id=str(data["id"]), name=str(data.get("name") or ""), version_id=str(data["version_id"]),
        rules=int(data.get("version_rules_num") or 0),
        description=str(data.get("description") or ""),
        created_unix=int(data.get("creation_time_unix") or 0))


def _metadata(data: Any) -> RemoteDictionary:
    if not isinstance(data, dict) or not data.get("id"):
        raise ServiceError("ElevenLabs sent an unreadable pronunciation dictionary answer")
    return RemoteDictionary(
        id=str(data["id"]), name=str(data.get("name") or ""),
        version_id=str(data.get("latest_version_id") or ""),
        rules=int(data.get("latest_version_rules_num") or 0),
        description=str(data.get("description") or ""),
        created_unix=int(data.get("creation_time_unix") or 0),
        archived=data.get("archived_time_unix") is not None)


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
        #: engine dictionary id -> the project's name for it, for errors that name it
        self.dictionary_names: dict[str, str] = {}
        self._client = new_client(self.base_url, api_key, timeout, transport)

    def __repr__(self) -> str:
        return f"ElevenLabsEngine(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    # -- transport -------------------------------------------------------------------------

    def _delay(self, attempt: int, error: EngineError) -> float:
        return backoff_delay(attempt, error, self.backoff_base, self.backoff_cap)

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        cancel: CancelToken | None = None,
        on_headers: Callable[[httpx.Response], None] | None = None,
    ) -> bytes:
        """Send a request with retries; return the whole body once read to the end.

        ``data`` and ``files`` make a ``multipart/form-data`` body instead of JSON.
        """
        attempt = 0
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled("generation")
            try:
                with self._client.stream(method, path, params=params, json=json_body,
                                         data=data, files=files) as resp:
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
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                # Nothing listening or no route: a couple of quick retries, then say so.
                error = transport_error(exc, attempt, self.max_retries, self.base_url)
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
        return self._json("GET", path, params=params)

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        body = self._send(method, path, **kw)
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

        try:
            body = self._send(
                "POST",
                f"/v1/text-to-speech/{request.voice_id}/with-timestamps",
                params={"output_format": request.output_format},
                json_body=self._payload(request),
                cancel=cancel,
                on_headers=keep,
            )
        except DictionaryNotFound as exc:
            raise self._named(exc, request.dictionary_locators[:3]) from None
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

    # -- pronunciation dictionaries (§14) -----------------------------------------------------

    def _named(self, error: DictionaryNotFound,
               locators: Sequence[tuple[str, str | None]]) -> DictionaryNotFound:
        """Return ``error`` naming the project's dictionary the stale locator belongs to."""
        text = str(error)
        for dictionary_id, version_id in locators:
            if dictionary_id in text:
                name = self.dictionary_names.get(dictionary_id, dictionary_id)
                version = f", version {version_id}" if version_id else ""
                return DictionaryNotFound(
                    f"ElevenLabs does not have the pronunciation dictionary '{name}' (id "
                    f"{dictionary_id}{version}) that this request uses: it was deleted or "
                    "changed on the account. Upload the project's dictionaries again (studio "
                    "lexicon upload), then render.", dictionary_id)
        return error

    def add_dictionary_from_file(self, name: str, pls: bytes, *, description: str | None = None,
                                 filename: str = "lexicon.pls") -> RemoteDictionary:
        """Create a dictionary from a PLS file (``add-from-file``, multipart)."""
        data = {"name": name, **({"description": description} if description else {})}
        return _version(self._json(
            "POST", "/v1/pronunciation-dictionaries/add-from-file", data=data,
            files={"file": (filename, pls, "application/pls+xml")}))

    def add_dictionary_from_rules(self, name: str, rules: Sequence[PronunciationRule], *,
                                  description: str | None = None) -> RemoteDictionary:
        """Create a dictionary from rules (``add-from-rules``)."""
        body: dict[str, Any] = {"name": name, "rules": [rule_json(r) for r in rules]}
        if description:
            body["description"] = description
        return _version(self._json("POST", "/v1/pronunciation-dictionaries/add-from-rules",
                                   json_body=body))

    def add_dictionary_rules(self, dictionary_id: str, rules: Sequence[PronunciationRule]
                             ) -> RemoteDictionary:
        """Add rules (one for an existing word replaces it); return the new version."""
        return _version(self._json(
            "POST", f"/v1/pronunciation-dictionaries/{dictionary_id}/add-rules",
            json_body={"rules": [rule_json(r) for r in rules]}))

    def remove_dictionary_rules(self, dictionary_id: str, words: Sequence[str]
                                ) -> RemoteDictionary:
        """Remove the rules for ``words`` (their ``string_to_replace``); return the new version."""
        return _version(self._json(
            "POST", f"/v1/pronunciation-dictionaries/{dictionary_id}/remove-rules",
            json_body={"rule_strings": list(words)}))

    def dictionary(self, dictionary_id: str) -> RemoteDictionary:
        """Return a dictionary's metadata and latest version."""
        return _metadata(self._get_json(f"/v1/pronunciation-dictionaries/{dictionary_id}"))

    def dictionaries(self, page_size: int = 100) -> list[RemoteDictionary]:
        """Return every dictionary of the account (all pages)."""
        found: list[RemoteDictionary] = []
        cursor: str | None = None
        for _ in range(1000):  # a bound, in case a server keeps saying has_more
            params: dict[str, Any] = {"page_size": page_size}
            if cursor:
                params["cursor"] = cursor
            page = self._get_json("/v1/pronunciation-dictionaries", params)
            found.extend(_metadata(d) for d in page.get("pronunciation_dictionaries") or [])
            cursor = page.get("next_cursor")
            if not page.get("has_more") or not cursor:
                break
        return found

    def download_dictionary(self, dictionary_id: str, version_id: str) -> bytes:
        """Return the PLS file of one version of a dictionary."""
        return self._send(
            "GET", f"/v1/pronunciation-dictionaries/{dictionary_id}/{version_id}/download")

    # -- Text to Dialogue (§7) -----------------------------------------------------------------

    def dialogue(self, body: Mapping[str, Any], output_format: str = "mp3_44100_128",
                 cancel: CancelToken | None = None) -> DialogueResult:
        """Send one Text to Dialogue request (a body of :func:`v3.dialogue_requests`).

        The body is checked against the documented limits first (:func:`v3.dialogue_problems`:
        Eleven v3 only, at most 10 voices and 2,000 characters, no stitching fields, at most
        three dictionary locators); a body that breaks them raises :class:`RequestInvalid`
        and sends nothing. Timings come from ``/with-timestamps``; a server without that
        (newer) endpoint answers 404 and the audio-only endpoint is used instead.
        """
        from studio.core import v3

        problems = v3.dialogue_problems(body)
        if problems:
            raise RequestInvalid("Text to Dialogue: " + "; ".join(problems), "inputs")
        if output_format.startswith("opus"):
            raise RequestInvalid(f"Text to Dialogue: {output_format} is not supported here",
                                 "output_format")
        headers: dict[str, str] = {}

        def keep(resp: httpx.Response) -> None:
            headers.update({k.lower(): v for k, v in resp.headers.items()})

        locators = [(str(loc.get("pronunciation_dictionary_id")), loc.get("version_id"))
                    for loc in body.get("pronunciation_dictionary_locators") or []]
        timed = True
        try:
            try:
                raw = self._send("POST", "/v1/text-to-dialogue/with-timestamps",
                                 params={"output_format": output_format}, json_body=dict(body),
                                 cancel=cancel, on_headers=keep)
            except _RouteNotFound:
                timed = False
                raw = self._send("POST", "/v1/text-to-dialogue",
                                 params={"output_format": output_format}, json_body=dict(body),
                                 cancel=cancel, on_headers=keep)
        except DictionaryNotFound as exc:
            raise self._named(exc, locators) from None
        completed = time.time()
        segments: tuple[VoiceSegment, ...] = ()
        timings: CharTimings | None = None
        if timed:
            try:
                data = json.loads(raw)
                audio = base64.b64decode(data["audio_base64"])
                segments = tuple(
                    VoiceSegment(str(s["voice_id"]), float(s["start_time_seconds"]),
                                 float(s["end_time_seconds"]), int(s["character_start_index"]),
                                 int(s["character_end_index"]), int(s["dialogue_input_index"]))
                    for s in data.get("voice_segments") or [])
            except (ValueError, KeyError, TypeError):
                raise ServiceError("ElevenLabs sent an unreadable dialogue answer") from None
            timings = _alignment(data.get("alignment"))
        else:
            audio = raw
        cost = headers.get("character-cost", "")
        speech = SpeechResult(
            audio=audio, format=output_format, sample_rate=_sample_rate(output_format),
            duration=_duration(audio, output_format, timings),
            request_id=headers.get("request-id"), cost=int(cost) if cost.isdigit() else 0,
            char_timings=timings, word_timings=_word_timings(timings) if timings else (),
            concurrency_limit=self.concurrency_limit, completed_at=completed)
        return DialogueResult(speech, segments)
