"""Speech engines: one protocol, capability flags, and the typed errors engines raise.

Two engines implement :class:`Engine`: ``elevenlabs`` (HTTP API, request stitching) and
``offline`` (espeak-ng, no key, no network). Generation code talks only to this protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Flag, auto
from typing import Any, Protocol, runtime_checkable

from studio.core.errors import CancelToken, StudioError
from studio.core.model import CharTimings, PronunciationRule, WordTiming


class Capability(Flag):
    """What an engine can do."""

    TTS = auto()
    TIMESTAMPS = auto()  # character timings with every take
    STITCHING = auto()  # previous/next request ids and text
    STREAMING = auto()  # quick previews streamed as they are made
    VOICE_DESIGN = auto()
    REMIX = auto()
    DUBBING = auto()
    STT = auto()
    ALIGNMENT = auto()


@dataclass(frozen=True, slots=True)
class EngineVoice:
    """A voice an engine offers."""

    voice_id: str
    name: str
    category: str = ""
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    description: str = ""
    preview_url: str | None = None
    settings: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class EngineModel:
    """A speech model an engine offers."""

    model_id: str
    name: str
    max_characters: int
    supports_stitching: bool
    cost_multiplier: float = 1.0
    languages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VoiceParams:
    """Voice settings sent with a request (ElevenLabs ``voice_settings``)."""

    stability: float = 0.5
    similarity: float = 0.75
    style: float = 0.0
    speaker_boost: bool = True
    speed: float = 1.0


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    """Everything one synthesis request sends to an engine."""

    text: str
    voice_id: str
    model_id: str
    params: VoiceParams = VoiceParams()
    output_format: str = "mp3_44100_128"
    language_code: str | None = None
    previous_request_ids: tuple[str, ...] = ()
    next_request_ids: tuple[str, ...] = ()
    previous_text: str | None = None
    next_text: str | None = None
    dictionary_locators: tuple[tuple[str, str | None], ...] = ()  # (dictionary id, version id)
    # Pronunciation rules applying to ``text``, for engines that apply them locally (offline).
    lexicon: tuple[PronunciationRule, ...] = ()


@dataclass(frozen=True, slots=True)
class SpeechResult:
    """What an engine returned for one request."""

    audio: bytes  # exactly as returned (encoded in ``format``)
    format: str  # e.g. "mp3_44100_128", "pcm_22050", "wav_22050"
    sample_rate: int
    duration: float  # seconds
    request_id: str | None = None
    cost: int = 0  # characters/credits charged
    char_timings: CharTimings | None = None
    word_timings: tuple[WordTiming, ...] = ()
    concurrency_limit: int | None = None  # "maximum-concurrent-requests", when reported
    completed_at: float = 0.0  # time.time() when the body was read completely


@dataclass(frozen=True, slots=True)
class Subscription:
    """The account's plan and credit use."""

    tier: str
    character_count: int
    character_limit: int
    next_reset_unix: int | None = None
    status: str = ""

    @property
    def remaining(self) -> int:
        """Return the credits left in this period."""
        return max(0, self.character_limit - self.character_count)


@runtime_checkable
class Engine(Protocol):
    """A speech engine."""

    name: str
    capabilities: Capability

    def synthesize(self, request: SpeechRequest, cancel: CancelToken | None = None) -> SpeechResult:
        """Speak ``request.text``; return the audio and its facts."""
        ...

    def voices(self) -> list[EngineVoice]:
        """Return the voices available to this engine."""
        ...

    def models(self) -> list[EngineModel]:
        """Return the speech models available to this engine."""
        ...


# ---------------------------------------------------------------------------------------------
# Errors. Each carries a message a user can act on and never contains the API key.


class EngineError(StudioError):
    """An engine failed."""

    retryable = False


class AuthError(EngineError):
    """The API key is missing or wrong."""


class QuotaExceeded(EngineError):
    """The account has no credits left for this request."""


class VoiceNotFound(EngineError):
    """The voice does not exist for this account."""


class PermissionDenied(EngineError):
    """The plan does not allow this (for example professional voices on a free plan)."""


class RequestInvalid(EngineError):
    """The engine refused the request's content (validation error, text too long)."""

    def __init__(self, message: str, field_name: str | None = None) -> None:
        self.field_name = field_name
        super().__init__(message)


class CharacterLimitExceeded(RequestInvalid):
    """The text is longer than the model accepts in one request."""


class RateLimited(EngineError):
    """Too many requests at once, or the service is busy; retry later."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None,
                 concurrency: bool = False) -> None:
        self.retry_after = retry_after
        self.concurrency = concurrency  # too_many_concurrent_requests (vs system_busy)
        super().__init__(message)


class ServiceError(EngineError):
    """The service failed (5xx, dropped connection, timeout); retry later."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class EngineUnavailable(EngineError):
    """The engine cannot be used here (offline, library missing)."""
