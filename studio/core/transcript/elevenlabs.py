"""ElevenLabs Speech to Text (``POST /v1/speech-to-text``) and Forced Alignment
(``POST /v1/forced-alignment``), contract sections 10 and 11.

Both are multipart uploads of a media file. Limits are checked *before* uploading, with a
message saying what to do: 1 GB and 4.5 h per file (the conservative pair of the two
documented ones), at most 5 channels for multichannel transcription (which also needs
diarisation off and no speaker count), at most 32 speakers, at most 675,000 characters of
text to align. The file is streamed from disk, never read into memory whole. Errors come out
as the same typed errors as text to speech
(:func:`~studio.core.engines.elevenlabs.error_from_response`), and 429/5xx/connection
failures before an answer are retried with backoff. The key is sent
only in the ``xi-api-key`` header and never appears in messages.
"""

from __future__ import annotations

import contextlib
import json
import logging
import mimetypes
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import httpx

from studio.core.engines import (
    AuthError,
    EngineError,
    RateLimited,
    RequestInvalid,
    ServiceError,
)
from studio.core.engines.elevenlabs import (
    backoff_delay,
    error_from_response,
    new_client,
    transport_error,
)
from studio.core.errors import CancelToken
from studio.core.settings import DEFAULT_BASE_URL
from studio.core.transcript.align import AlignedWord
from studio.core.transcript.io import from_elevenlabs
from studio.core.transcript.media import PcmFile, decode, pcm_wav_bytes, probe
from studio.core.transcript.model import Transcript

log = logging.getLogger(__name__)

MAX_FILE_BYTES: Final = 1_000_000_000  # 1 GB (§10.4, §11: the conservative pair)
MAX_DURATION_S: Final = 4.5 * 3600
MAX_CHANNELS: Final = 5
MAX_SPEAKERS: Final = 32
MAX_ALIGN_CHARS: Final = 675_000
STT_MODELS: Final = ("scribe_v1", "scribe_v1_experimental", "scribe_v2")
GRANULARITIES: Final = ("none", "word", "character")

_Opener = Callable[[], tuple[str, IO[bytes] | bytes, str]]  # (file name, content, MIME type)


@dataclass(frozen=True, slots=True)
class TranscriptionOptions:
    """What to ask Speech to Text for."""

    model_id: str = "scribe_v1"
    language: str | None = None  # ISO-639-1/3; None = detect
    diarize: bool = False
    num_speakers: int | None = None  # at most this many; None = the model's maximum
    tag_audio_events: bool = True
    timestamps_granularity: str = "word"
    multichannel: bool = False  # one speaker per channel (up to 5)
    enable_logging: bool = True  # False = zero retention (enterprise plans)


def _size_text(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def _hours(seconds: float) -> str:
    h, rest = divmod(int(seconds), 3600)
    return f"{h} h {rest // 60:02d} min"


def check_media(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES,
                max_seconds: float = MAX_DURATION_S) -> tuple[int, float, int]:
    """Check a file against the upload limits; return (bytes, seconds, channels).

    Raises:
        RequestInvalid: the file is too big or too long (the message says what to do).
        MediaError: the file is missing or has no audio.
    """
    info = probe(path)
    if info.size > max_bytes:
        raise RequestInvalid(
            f"{info.path}: {_size_text(info.size)} is over ElevenLabs' {_size_text(max_bytes)} "
            "upload limit; export it at a lower bitrate or split it.", "file"
        )
    if info.duration > max_seconds:
        raise RequestInvalid(
            f"{info.path}: {_hours(info.duration)} is longer than ElevenLabs' "
            f"{_hours(max_seconds)} limit; split it into parts.", "file"
        )
    return info.size, info.duration, info.channels


def check_options(options: TranscriptionOptions, channels: int) -> None:
    """Refuse option combinations the API refuses, before anything is uploaded."""
    if options.model_id not in STT_MODELS:
        raise RequestInvalid(f"Unknown transcription model {options.model_id!r}; use one of "
                             f"{', '.join(STT_MODELS)}.", "model_id")
    if options.timestamps_granularity not in GRANULARITIES:
        raise RequestInvalid("Timestamps must be 'none', 'word' or 'character'.",
                             "timestamps_granularity")
    if options.num_speakers is not None and not 1 <= options.num_speakers <= MAX_SPEAKERS:
        raise RequestInvalid(f"The number of speakers must be 1 to {MAX_SPEAKERS}.",
                             "num_speakers")
    if options.language is not None and not (
        options.language.isalpha() and 2 <= len(options.language) <= 3
    ):
        raise RequestInvalid(f"{options.language!r} is not a language code such as 'en' or "
                             "'eng' (leave it empty to detect the language).", "language_code")
    if options.multichannel:
        if options.diarize:
            raise RequestInvalid("Multichannel transcription gives one speaker per channel: "
                                 "turn diarisation off.", "diarize")
        if options.num_speakers is not None:
            raise RequestInvalid("Multichannel transcription takes no number of speakers "
                                 "(each channel is one speaker).", "num_speakers")
        if channels > MAX_CHANNELS:
            raise RequestInvalid(f"The file has {channels} channels; multichannel "
                                 f"transcription takes at most {MAX_CHANNELS}. Select or mix "
                                 "down channels first.", "use_multi_channel")


def _bool(value: bool) -> str:
    return "true" if value else "false"


class ElevenLabsSpeech:
    """Speech to Text and Forced Alignment over the ElevenLabs API."""

    def __init__(self, api_key: str, base_url: str = DEFAULT_BASE_URL, *,
                 transport: httpx.BaseTransport | None = None, timeout: float = 600.0,
                 max_retries: int = 3, backoff_base: float = 0.5, backoff_cap: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not api_key:
            raise AuthError(
                "No ElevenLabs API key is set (Settings, keyring or ELEVENLABS_API_KEY)."
            )
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_bytes = MAX_FILE_BYTES
        self.max_seconds = MAX_DURATION_S
        self._sleep = sleep
        self._client = new_client(self.base_url, api_key, timeout, transport)

    def __repr__(self) -> str:
        return f"ElevenLabsSpeech(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def abort(self) -> None:
        """End any request in flight (from another thread), then close the client.

        Closing alone does not wake a thread blocked reading the answer (a socket closed
        under a ``recv`` stays blocked on Linux): the open connections are shut down first.
        """
        pool = getattr(getattr(self._client, "_transport", None), "_pool", None)
        for connection in list(getattr(pool, "connections", ())):
            stream: Any = getattr(getattr(connection, "_connection", None), "_network_stream",
                                  None)
            with contextlib.suppress(Exception):
                stream.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self._client.close()

    def __enter__(self) -> ElevenLabsSpeech:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------------

    def _post(self, path: str, data: dict[str, Any], open_file: _Opener,
              params: dict[str, str] | None = None, cancel: CancelToken | None = None) -> Any:
        """Upload with retries; return the JSON answer."""
        attempt = 0
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled("upload")
            name, content, mime = open_file()
            try:
                response = self._client.post(path, data=data, params=params,
                                             files={"file": (name, content, mime)})
                if response.status_code >= 400:
                    raise error_from_response(response)
                try:
                    return response.json()
                except ValueError:
                    raise ServiceError(f"ElevenLabs sent an unreadable answer for {path}") \
                        from None
            except (RateLimited, ServiceError) as exc:
                error: EngineError = exc
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                error = transport_error(exc, attempt, self.max_retries, self.base_url)
            finally:
                if hasattr(content, "close"):
                    content.close()
            if attempt >= self.max_retries:
                raise type(error)(str(error).replace("; retrying", "")
                                  + f" (gave up after {attempt + 1} attempts)") from None
            delay = backoff_delay(attempt, error, self.backoff_base, self.backoff_cap)
            log.info("retrying %s in %.2fs: %s", path, delay, error)
            attempt += 1
            if cancel is not None:
                if cancel.wait(delay):
                    cancel.raise_if_cancelled("upload")
            else:
                self._sleep(delay)

    @staticmethod
    def _file(path: Path) -> _Opener:
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return lambda: (path.name, open(path, "rb"), mime)

    # -- Speech to Text ----------------------------------------------------------------------

    def transcribe(self, media: str | Path, options: TranscriptionOptions | None = None, *,
                   cancel: CancelToken | None = None) -> Transcript:
        """Transcribe a media file; return the transcript (speakers from diarisation/channels).

        Raises:
            RequestInvalid: the file or the options break a limit (nothing was uploaded).
            AuthError, QuotaExceeded, RateLimited, ServiceError: as for text to speech.
        """
        options = options or TranscriptionOptions()
        path = Path(media)
        _, seconds, channels = check_media(path, max_bytes=self.max_bytes,
                                           max_seconds=self.max_seconds)
        check_options(options, channels)
        data: dict[str, Any] = {
            "model_id": options.model_id,
            "tag_audio_events": _bool(options.tag_audio_events),
            "timestamps_granularity": options.timestamps_granularity,
            "diarize": _bool(options.diarize),
        }
        if options.language:
            data["language_code"] = options.language
        if options.num_speakers is not None:
            data["num_speakers"] = str(options.num_speakers)
        if options.multichannel:
            data["use_multi_channel"] = "true"
        params = None if options.enable_logging else {"enable_logging": "false"}
        answer = self._post("/v1/speech-to-text", data, self._file(path), params, cancel)
        transcript = from_elevenlabs(answer, "ElevenLabs answer")
        transcript.media = str(path)
        if transcript.duration is None:
            transcript.duration = seconds
        return transcript

    # -- Forced alignment --------------------------------------------------------------------

    def align(self, media: str | Path, text: str, *, cancel: CancelToken | None = None
              ) -> list[AlignedWord]:
        """Align plain text to a media file; return one entry per whitespace token."""
        path = Path(media)
        check_media(path, max_bytes=self.max_bytes, max_seconds=self.max_seconds)
        return self._align(self._file(path), text, 0.0, cancel)

    def _align(self, open_file: _Opener, text: str,
               offset: float, cancel: CancelToken | None) -> list[AlignedWord]:
        if not text.strip():
            raise RequestInvalid("There is no text to align.", "text")
        if len(text) > MAX_ALIGN_CHARS:
            raise RequestInvalid(f"The text has {len(text):,} characters; ElevenLabs aligns at "
                                 f"most {MAX_ALIGN_CHARS:,} at once. Split it.", "text")
        answer = self._post("/v1/forced-alignment", {"text": text}, open_file, None, cancel)
        return _aligned_words(answer, text, offset)


def _aligned_words(answer: Any, text: str, offset: float) -> list[AlignedWord]:
    """Map the API's words (split on whitespace) back onto the text's tokens."""
    import re

    words = answer.get("words") if isinstance(answer, dict) else None
    if not isinstance(words, list):
        raise ServiceError("ElevenLabs sent an alignment without words")
    tokens = list(re.finditer(r"\S+", text))
    out: list[AlignedWord] = []
    k = 0
    for token in tokens:
        while k < len(words) and not str(words[k].get("text", "")).strip():
            k += 1
        if k < len(words):
            w = words[k]
            start, end = float(w.get("start", 0.0)), float(w.get("end", 0.0))
            k += 1
            out.append(AlignedWord(token.group(), offset + start, offset + max(start, end),
                                   token.start(), token.end()))
        else:
            clock = out[-1].end if out else offset
            out.append(AlignedWord(token.group(), clock, clock, token.start(), token.end(),
                                   False))
    return out


class ElevenLabsAligner:
    """"Align words" with ElevenLabs: each span's audio is cut out and aligned on its own."""

    def __init__(self, client: ElevenLabsSpeech, media: str | Path) -> None:
        self.client = client
        self.media = Path(media)
        self._pcm: PcmFile | None = None

    def align_spans(self, spans: Sequence[tuple[float, float, str]],
                    cancel: CancelToken | None = None) -> list[list[AlignedWord]]:
        """Return the aligned words of each (start, end, text) span."""
        if self._pcm is None:
            self._pcm = decode(self.media, cancel=cancel)
        pcm = self._pcm
        results: list[list[AlignedWord]] = []
        for start, end, text in spans:
            wav = pcm_wav_bytes(pcm.read(start, end))

            def opener(wav: bytes = wav) -> tuple[str, IO[bytes] | bytes, str]:
                return ("span.wav", wav, "audio/wav")

            words = self.client._align(opener, text, start, cancel)
            results.append([AlignedWord(w.text, min(w.start, end), min(w.end, end),
                                        w.char_start, w.char_end, w.aligned) for w in words])
        return results

    def close(self) -> None:
        """Delete the decoded audio."""
        if self._pcm is not None:
            self._pcm.close()
            self._pcm = None


def answer_json(answer: Any) -> str:
    """Return an API answer as indented JSON (for saving the raw response)."""
    return json.dumps(answer, ensure_ascii=False, indent=1)
