"""A local fake of the ElevenLabs HTTP API, for the client's tests.

Real HTTP/1.1 on 127.0.0.1 (stdlib ``ThreadingHTTPServer`` in a daemon thread), chunked
bodies where the real API streams, real audio in the requested format. The contract is
``/work/shared/spec/elevenlabs-api.md``; section numbers below (§) refer to it.

Independent of the ``studio`` package on purpose: it must not import anything from it.

Decisions where the contract leaves a choice (all "inferred" in the spec):

* unknown ``model_id`` -> 400 ``model_not_found`` ("A model with model ID x does not exist.");
  a model that cannot do TTS (speech-to-speech models) -> 400 ``model_can_not_do_text_to_speech``.
* empty ``text`` -> 422 ``string_too_short``.
* ``output_format`` tier gating (§4.5): ``mp3_44100_192`` needs creator+, ``pcm_44100`` and
  ``wav_44100`` need pro+; otherwise 403 ``output_format_not_allowed``
  (switch: ``enforce_format_tiers=False``).
* ``opus_*`` -> 422 (the fake has no Opus encoder; documented limitation).
* order of checks for TTS: route 404 -> auth 401 -> body/query 422 -> voice 404/400 -> model 400
  -> text length 400 -> format tier 403 -> injected fault -> quota 401 -> concurrency 429/queue.
* one concurrency pool and one credit account shared by all configured API keys.
* ``finished`` / ``body_fully_sent`` are stamped immediately before the final write of the body
  and cleared again if that write fails, and the concurrency slot is released at the same
  moment, so a client that has read a whole body never races the fake's bookkeeping.
  Request records (``ended``) may still lag by a few microseconds: call ``wait_idle()``.
* times in the logs are ``time.monotonic()`` seconds.
* speech to text / forced alignment (§10, §11): multipart bodies; a body that is not
  multipart -> 422; missing ``model_id``/``file``/``text``, unknown model, bad boolean,
  ``num_speakers`` over 32, multichannel with ``diarize`` or ``num_speakers`` -> 422; an upload
  over ``stt_max_bytes`` -> 400 ``file_too_large``, over ``stt_max_seconds`` -> 400
  ``audio_too_long``, multichannel with more than 5 channels -> 400 ``too_many_channels``
  (status codes and codes inferred). Duration and channels come from the upload when
  libsndfile reads it, else 16 kB per second. The transcript is ``stt_fixture_text`` (or
  ``stt_texts[sha256]``) spread evenly with spacing tokens; diarised speakers change per
  sentence. URL sources are not fetched.
* pronunciation dictionaries (§14): stored per version; a TTS or dialogue locator naming an
  unknown dictionary or version -> 404 ``pronunciation_dictionary_not_found`` /
  ``pronunciation_dictionary_version_not_found`` (checked after voice and model); an unreadable
  PLS upload -> 400 ``invalid_pls_file``; ``add-rules`` replaces a rule for the same word in
  place and appends new ones. The located rules change what the fake "says" (``_Speech``):
  aliases are said instead of the word, phoneme words are said as their phonemes by
  ``PHONEME_MODELS`` and skipped by the others; audio, ``alignment`` times and
  ``normalized_alignment`` follow what was said; billing stays on the text sent.
* Text to Dialogue (§7): v3 only (other models -> 400 ``model_can_not_do_text_to_dialogue``),
  more than 10 distinct voices -> 422; the inputs are said joined by one space, and
  ``voice_segments`` index into that text.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import json
import math
import random
import re
import socket
import string
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np
import pytest
import soundfile as sf

__all__ = [
    "DEFAULT_VOICE_SETTINGS",
    "MODELS",
    "OUTPUT_FORMATS",
    "STREAM_OUTPUT_FORMATS",
    "FakeElevenLabs",
    "Generation",
    "RecordedRequest",
    "fake_eleven",
    "fake_eleven_factory",
]

# --------------------------------------------------------------------------- contract data

#: §4.5 full set (TTS convert and with-timestamps).
OUTPUT_FORMATS: tuple[str, ...] = (
    "mp3_22050_32", "mp3_24000_48", "mp3_44100_32", "mp3_44100_64", "mp3_44100_96",
    "mp3_44100_128", "mp3_44100_192",
    "pcm_8000", "pcm_16000", "pcm_22050", "pcm_24000", "pcm_32000", "pcm_44100", "pcm_48000",
    "ulaw_8000", "alaw_8000",
    "opus_48000_32", "opus_48000_64", "opus_48000_96", "opus_48000_128", "opus_48000_192",
    "wav_8000", "wav_16000", "wav_22050", "wav_24000", "wav_32000", "wav_44100", "wav_48000",
)
#: §4.5 "AllowedOutputFormats": the stream endpoints take no ``wav_*``.
STREAM_OUTPUT_FORMATS: tuple[str, ...] = tuple(
    f for f in OUTPUT_FORMATS if not f.startswith("wav_")
)
DEFAULT_OUTPUT_FORMAT = "mp3_44100_128"
DEFAULT_MODEL_ID = "eleven_multilingual_v2"

_TIERS = ("free", "starter", "creator", "pro", "scale", "business", "enterprise")
_FORMAT_MIN_TIER = {"mp3_44100_192": "creator", "pcm_44100": "pro", "wav_44100": "pro"}

#: §8.4 fake default voice settings.
DEFAULT_VOICE_SETTINGS: dict[str, Any] = {
    "stability": 0.5,
    "similarity_boost": 0.75,
    "style": 0.0,
    "use_speaker_boost": True,
    "speed": 1.0,
}

_LANGUAGE_NAMES = {
    "en": "English", "ja": "Japanese", "zh": "Chinese", "de": "German", "hi": "Hindi",
    "fr": "French", "ko": "Korean", "pt": "Portuguese", "it": "Italian", "es": "Spanish",
    "id": "Indonesian", "nl": "Dutch", "tr": "Turkish", "fil": "Filipino", "pl": "Polish",
    "sv": "Swedish", "bg": "Bulgarian", "ro": "Romanian", "ar": "Arabic", "cs": "Czech",
    "el": "Greek", "fi": "Finnish", "hr": "Croatian", "ms": "Malay", "sk": "Slovak",
    "da": "Danish", "ta": "Tamil", "uk": "Ukrainian", "ru": "Russian", "hu": "Hungarian",
    "no": "Norwegian", "vi": "Vietnamese",
}
_LANGS_V2 = ["en", "ja", "zh", "de", "hi", "fr", "ko", "pt", "it", "es", "id", "nl", "tr", "fil",
             "pl", "sv", "bg", "ro", "ar", "cs", "el", "fi", "hr", "ms", "sk", "da", "ta", "uk",
             "ru"]
_LANGS_V25 = [*_LANGS_V2, "hu", "no", "vi"]


def _model(model_id: str, name: str, description: str, *, limit: int, multiplier: float,
           langs: Sequence[str], tts: bool = True, sts: bool = False, group: str = "standard",
           alpha: bool = False) -> dict[str, Any]:
    return {
        "model_id": model_id,
        "name": name,
        "can_be_finetuned": tts and not alpha,
        "can_do_text_to_speech": tts,
        "can_do_voice_conversion": sts,
        "can_use_style": True,
        "can_use_speaker_boost": True,
        "serves_pro_voices": True,
        "token_cost_factor": 1.0,
        "description": description,
        "requires_alpha_access": False,
        "max_characters_request_free_user": limit,
        "max_characters_request_subscribed_user": limit,
        "maximum_text_length_per_request": limit,
        "languages": [{"language_id": c, "name": _LANGUAGE_NAMES[c]} for c in langs],
        "model_rates": {"character_cost_multiplier": multiplier},
        "concurrency_group": group,
    }


#: §17.1 / §4.1 / §4.2. Limits and multipliers drive validation and billing.
MODELS: tuple[dict[str, Any], ...] = (
    _model("eleven_multilingual_v2", "Eleven Multilingual v2",
           "Our most lifelike model with rich emotional expression.",
           limit=10_000, multiplier=1.0, langs=_LANGS_V2),
    _model("eleven_v3", "Eleven v3 (alpha)",
           "Our most expressive text to speech model.",
           limit=10_000, multiplier=1.0, langs=_LANGS_V25, alpha=True),
    _model("eleven_flash_v2_5", "Eleven Flash v2.5",
           "Our ultra low latency model in 32 languages.",
           limit=40_000, multiplier=0.5, langs=_LANGS_V25, group="turbo"),
    _model("eleven_turbo_v2_5", "Eleven Turbo v2.5",
           "High quality, low latency model in 32 languages.",
           limit=40_000, multiplier=0.5, langs=_LANGS_V25, group="turbo"),
    _model("eleven_flash_v2", "Eleven Flash v2",
           "Our ultra low latency model, English only.",
           limit=30_000, multiplier=0.5, langs=["en"], group="turbo"),
    _model("eleven_turbo_v2", "Eleven Turbo v2",
           "English-only low latency model.",
           limit=30_000, multiplier=0.5, langs=["en"], group="turbo"),
    _model("eleven_multilingual_v1", "Eleven Multilingual v1",
           "Legacy multilingual model.", limit=10_000, multiplier=1.0,
           langs=["en", "de", "pl", "es", "it", "fr", "pt", "hi"]),
    _model("eleven_multilingual_sts_v2", "Eleven Multilingual v2 (speech to speech)",
           "Voice changer model.", limit=10_000, multiplier=1.0, langs=_LANGS_V2,
           tts=False, sts=True),
    _model("eleven_english_sts_v2", "Eleven English v2 (speech to speech)",
           "English voice changer model.", limit=10_000, multiplier=1.0, langs=["en"],
           tts=False, sts=True),
)

_HQ_MODELS = ["eleven_v2_flash", "eleven_flash_v2", "eleven_turbo_v2_5", "eleven_multilingual_v2",
              "eleven_v2_5_flash", "eleven_flash_v2_5", "eleven_turbo_v2"]

_VOICE_ROWS = (
    ("21m00Tcm4TlvDq8ikWAM", "Rachel", "american", "calm", "young", "female", "narration"),
    ("29vD33N1CtxCmqQRPOHJ", "Drew", "american", "well-rounded", "middle aged", "male", "news"),
    ("2EiwWnXFnvU5JabPnv8n", "Clyde", "american", "war veteran", "middle aged", "male",
     "characters"),
    ("AZnzlk1XvdvUeBnXmlld", "Domi", "american", "strong", "young", "female", "narration"),
    ("CYw3kZ02Hs0563khs1Fj", "Dave", "british-essex", "conversational", "young", "male",
     "characters"),
    ("D38z5RcWu1voky8WS1ja", "Fin", "irish", "sailor", "old", "male", "characters"),
    ("EXAVITQu4vr4xnSDxMaL", "Sarah", "american", "soft", "young", "female", "news"),
    ("ErXwobaYiN019PkySvjV", "Antoni", "american", "well-rounded", "young", "male", "narration"),
    ("IKne3meq5aSn9XLyUdCD", "Charlie", "australian", "casual", "middle aged", "male",
     "conversational"),
    ("JBFqnCBsd6RMkjVDRZzb", "George", "british", "raspy", "middle aged", "male", "narration"),
    ("ThT5KcBeYPX3keUQqHPh", "Dorothy", "british", "pleasant", "young", "female",
     "children's stories"),
    ("onwK4e9ZLuTAKqWW03F9", "Daniel", "british", "authoritative", "middle aged", "male", "news"),
)


def _premade_voices() -> list[dict[str, Any]]:
    voices: list[dict[str, Any]] = []
    for vid, name, accent, desc, age, gender, use_case in _VOICE_ROWS:
        voices.append({
            "voice_id": vid,
            "name": name,
            "samples": None,
            "category": "premade",
            "fine_tuning": {
                "is_allowed_to_fine_tune": True,
                "state": {},
                "verification_failures": [],
                "verification_attempts_count": 0,
                "manual_verification_requested": False,
                "language": "en",
                "progress": {},
                "message": {},
            },
            "labels": {"accent": accent, "description": desc, "age": age, "gender": gender,
                       "use_case": use_case},
            "description": None,
            "preview_url": None,  # set by start(): served by the fake itself, never the network
            "available_for_tiers": [],
            "settings": None,
            "sharing": None,
            "high_quality_base_model_ids": list(_HQ_MODELS),
            "verified_languages": [],
            "safety_control": None,
            "voice_verification": {"requires_verification": False, "is_verified": False,
                                   "verification_failures": [],
                                   "verification_attempts_count": 0, "language": None,
                                   "verification_attempts": None},
            "permission_on_resource": None,
            "is_owner": False,
            "is_legacy": False,
            "is_mixed": False,
            "favorited_at_unix": None,
            "created_at_unix": None,
        })
    return voices


_ID_ALPHABET = string.ascii_letters + string.digits
_ID_RE = re.compile(r"^[A-Za-z0-9]{20}$")


def _new_id(rng: random.Random) -> str:
    return "".join(rng.choice(_ID_ALPHABET) for _ in range(20))


# --------------------------------------------------------------------------- synthetic audio

_TONE_HZ = 220.0
_TONE_AMPLITUDE = 0.1  # -20 dBFS: audible but quiet
#: libsndfile maps compression_level to the LAME CBR bitrate in steps; these land exactly on
#: the bitrate named by each format (checked by the fake's own tests).
_MP3_LEVEL = {
    (22050, 32): 0.84, (24000, 48): 0.73, (44100, 32): 0.99, (44100, 64): 0.87,
    (44100, 96): 0.78, (44100, 128): 0.65, (44100, 192): 0.44,
}


def parse_output_format(fmt: str) -> tuple[str, int, int | None]:
    """``"mp3_44100_128"`` -> ``("mp3", 44100, 128)``; ``"pcm_16000"`` -> ``("pcm", 16000, None)``.
    """
    parts = fmt.split("_")
    return parts[0], int(parts[1]), (int(parts[2]) if len(parts) > 2 else None)


def _speech_headers(fake: Any, request_id: str, cost: int, current: int,
                    history_id: str | None) -> list[tuple[str, str]]:
    """Return the headers every speech answer carries (contract: request id, cost, load)."""
    headers = [
        ("request-id", request_id),
        ("character-cost", str(cost)),
        ("current-concurrent-requests", str(current)),
        ("maximum-concurrent-requests", str(fake.max_concurrency)),
    ]
    if history_id is not None:
        headers.append(("history-item-id", history_id))
    return headers


def _audio_pieces(fake: Any, audio: bytes, endpoint: str) -> list[bytes]:
    """Return ``audio`` in the pieces it is sent in: the stream endpoint's chunk size."""
    step = fake.chunk_size if endpoint == "stream" else 65536
    return [audio[i:i + step] for i in range(0, len(audio), step)]


def _content_type(fmt: str) -> str:
    codec = fmt.split("_")[0]
    return {
        "mp3": "audio/mpeg", "pcm": "audio/pcm", "wav": "audio/wav",
        "ulaw": "audio/basic", "alaw": "audio/x-alaw-basic", "opus": "audio/ogg",
    }[codec]


def _slot_boundaries(n_chars: int, slot_s: float, sr: int) -> np.ndarray:
    """Sample index where each character's slot starts (plus the end), length n_chars + 1."""
    b = np.round(np.arange(n_chars + 1, dtype=np.float64) * slot_s * sr).astype(np.int64)
    return np.maximum(b, 0)


def _n_samples(n_chars: int, slot_s: float, sr: int) -> int:
    return max(1, round(n_chars * slot_s * sr))


_CACHE_BUDGET = 256 * 1024 * 1024  # bytes of encoded audio kept across all fakes
_cache: OrderedDict[tuple[str, bytes, float], bytes] = OrderedDict()
_cache_size = 0
_cache_lock = threading.Lock()


def _render_audio(fmt: str, voiced: bytes, slot_s: float) -> bytes:
    """Encoded audio: a 220 Hz tone during voiced characters, silence during the others.

    ``voiced`` has one byte per character (1 = letter/digit, 0 = space/punctuation), so every
    word gap is a short silence. Cached (LRU, byte budget) by format, voicing and slot length:
    MP3 encoding runs at ~50x real time, so a repeated text costs nothing the second time.
    """
    global _cache_size
    key = (fmt, voiced, slot_s)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    data = _encode_audio(fmt, voiced, slot_s)
    with _cache_lock:
        if key not in _cache and len(data) <= _CACHE_BUDGET:
            _cache[key] = data
            _cache_size += len(data)
            while _cache_size > _CACHE_BUDGET:
                _, old = _cache.popitem(last=False)
                _cache_size -= len(old)
    return data


def _encode_audio(fmt: str, voiced: bytes, slot_s: float) -> bytes:
    codec, sr, kbps = parse_output_format(fmt)
    n = _n_samples(len(voiced), slot_s, sr)
    if codec == "ulaw":
        return b"\xff" * n
    if codec == "alaw":
        return b"\xd5" * n
    bounds = _slot_boundaries(len(voiced), slot_s, sr)
    bounds[-1] = n
    bounds = np.minimum(bounds, n)
    flags = np.frombuffer(voiced, dtype=np.uint8).astype(np.float32)
    mask = np.repeat(flags, np.diff(bounds))
    fade = max(1, int(0.005 * sr))  # 5 ms ramps: no clicks at word edges
    if fade > 1 and n > fade:
        csum = np.concatenate(([0.0], np.cumsum(mask, dtype=np.float64)))
        smooth = (csum[fade:] - csum[:-fade]) / fade
        mask = np.concatenate((smooth, mask[len(smooth):])).astype(np.float32)
    phase = np.arange(n, dtype=np.float64) * (2.0 * math.pi * _TONE_HZ / sr)
    signal = (np.sin(phase) * _TONE_AMPLITUDE).astype(np.float32) * mask
    if codec == "pcm":
        return (signal * 32767.0).round().astype("<i2").tobytes()
    buf = io.BytesIO()
    if codec == "wav":
        sf.write(buf, signal, sr, format="WAV", subtype="PCM_16")
    elif codec == "mp3":
        level = _MP3_LEVEL.get((sr, kbps or 128), 0.65)
        sf.write(buf, signal, sr, format="MP3", subtype="MPEG_LAYER_III",
                 bitrate_mode="CONSTANT", compression_level=level)
    else:  # pragma: no cover - opus is refused before rendering
        raise ValueError(f"cannot render {fmt}")
    return buf.getvalue()


_MP3_BITRATES = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1 L3
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2 L3
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000)}


def mp3_frame_offsets(data: bytes) -> list[int]:
    """Byte offsets of the MPEG audio frames in ``data`` (MPEG-1/2 Layer III only)."""
    offsets: list[int] = []
    i = 0
    while i + 4 <= len(data):
        h1, h2 = data[i + 1], data[i + 2]
        version = (h1 >> 3) & 3
        if data[i] == 0xFF and (h1 & 0xE0) == 0xE0 and version in (2, 3) and (h1 >> 1) & 3 == 1:
            br = _MP3_BITRATES[version][(h2 >> 4) & 15] if (h2 >> 4) & 15 < 15 else 0
            sri = (h2 >> 2) & 3
            if br and sri < 3:
                rate = _MP3_RATES[version][sri]
                size = (144 if version == 3 else 72) * br * 1000 // rate + ((h2 >> 1) & 1)
                offsets.append(i)
                i += size
                continue
        i += 1
    return offsets


# --------------------------------------------------------------------------- records


class _MaskedHeaders(dict[str, str]):
    """Request headers (lower-case names); the API key value never appears in a repr."""

    def __repr__(self) -> str:
        shown = {k: ("***" if k == "xi-api-key" else v) for k, v in self.items()}
        return repr(shown)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: _MaskedHeaders
    json: Any = None
    status: int | None = None
    started: float = 0.0
    ended: float | None = None
    request_id: str | None = None
    body_fully_sent: bool = False
    bytes_sent: int = 0  # body bytes written (whole or partial)
    fault: str | None = None  # "fail", "disconnect", "stall" when an injected fault applied


@dataclass
class Generation:
    request_id: str
    endpoint: str  # "convert", "stream", "with-timestamps", "stream/with-timestamps"
    voice_id: str
    model_id: str
    text: str
    output_format: str
    previous_request_ids: list[str] | None
    next_request_ids: list[str] | None
    previous_text: str | None
    next_text: str | None
    voice_settings: dict[str, Any] | None
    enable_logging: bool
    cost: int
    duration_s: float
    history_item_id: str | None
    body: dict[str, Any] = field(repr=False, default_factory=dict)
    started: float = 0.0
    finished: float | None = None
    #: what was "said" once the located dictionaries' rules applied (§14), and each applied
    #: rule: ``{"string_to_replace", "type", "effect": "alias"|"phoneme"|"skipped", "start"}``
    spoken_text: str = ""
    pronunciation: list[dict[str, Any]] = field(default_factory=list)
    #: Text to Dialogue (§7): the request's inputs, ``[(text, voice_id), ...]``
    inputs: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Rule:
    kind: str  # "fail", "disconnect", "stall"
    remaining: int
    path_contains: str
    status: int = 0
    code: str | None = None
    retry_after: float | None = None
    after_bytes: int = 0
    seconds: float = 0.0


class _Stopped(Exception):
    """The fake is stopping: abandon the request."""


_FAIL_MESSAGES = {
    "system_busy": "The system is experiencing heavy traffic, please try again later. "
                   "Higher subscriptions have higher priority.",
    "too_many_concurrent_requests": "Too many concurrent requests.",
    "internal_server_error": "Internal Server error. All such crashes are reported to us "
                             "automatically.",
    "service_unavailable": "The service is temporarily unavailable, please try again later.",
    "gateway_timeout": "The request timed out, please try again later.",
    "request_timeout": "The request timed out.",
}
_DEFAULT_FAIL_CODE = {429: "system_busy", 500: "internal_server_error",
                      502: "service_unavailable", 503: "service_unavailable",
                      504: "gateway_timeout", 408: "request_timeout"}

_STT_DEFAULT_TEXT = ("The quick brown fox jumps over the lazy dog. (laughter) "
                     "It was a bright cold day in April, and the clocks were striking thirteen.")


def _parse_multipart(content_type: str, body: bytes
                     ) -> tuple[dict[str, str] | None, tuple[str, str, bytes] | None]:
    """Fields and the uploaded ``file`` (name, type, bytes) of a multipart/form-data body."""
    from email import message_from_bytes
    from email.policy import HTTP

    if not content_type.lower().startswith("multipart/form-data") or not body:
        return None, None
    message = message_from_bytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body,
                                 policy=HTTP)
    if not message.is_multipart():
        return None, None
    fields: dict[str, str] = {}
    upload: tuple[str, str, bytes] | None = None
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if name == "file" and part.get_filename() is not None:
            upload = (part.get_filename(), part.get_content_type(), payload)
        elif name:
            fields[str(name)] = payload.decode("utf-8", "replace")
    return fields, upload


def _stt_doc(text: str, seconds: float, language: str, granularity: str, diarize: bool,
             speakers: int, events: bool, channel: int | None = None, offset: float = 0.0,
             ) -> dict[str, Any]:
    """§10.1 shape (a): words with spacing tokens, monotonic times, speakers per sentence."""
    tokens = re.findall(r"\([^)]*\)|\S+", text)
    if not events:
        tokens = [t for t in tokens if not t.startswith("(")]
    span = max(0.1, seconds - offset - 0.1) / max(1, 2 * len(tokens))
    words: list[dict[str, Any]] = []
    clock = offset + 0.05
    sentence = 0
    for i, token in enumerate(tokens):
        kind = "audio_event" if token.startswith("(") else "word"
        word: dict[str, Any] = {"text": token, "start": round(clock, 3),
                                "end": round(clock + span * 1.5, 3), "type": kind,
                                "logprob": -0.05}
        if channel is not None:
            word["speaker_id"] = f"speaker_{channel}"
            word["channel_index"] = channel
        elif diarize:
            word["speaker_id"] = f"speaker_{sentence % max(1, speakers)}"
        if granularity == "character" and kind == "word":
            step = span * 1.5 / len(token)
            word["characters"] = [{"text": c, "start": round(clock + k * step, 3),
                                   "end": round(clock + (k + 1) * step, 3)}
                                  for k, c in enumerate(token)]
        if granularity == "none":
            word.pop("start")
            word.pop("end")
        words.append(word)
        clock += span * 2
        if re.search(r"[.!?]$", token):
            sentence += 1
        if i + 1 < len(tokens):
            gap = {"text": " ", "start": round(clock - span * 0.5, 3), "end": round(clock, 3),
                   "type": "spacing", "logprob": 0.0}
            if "speaker_id" in word:
                gap["speaker_id"] = word["speaker_id"]
            if granularity != "none":
                words.append(gap)
    doc: dict[str, Any] = {"language_code": language, "language_probability": 0.98,
                           "text": " ".join(tokens), "words": words}
    if channel is not None:
        doc["channel_index"] = channel
    return doc


_EXPOSED = ("request-id, history-item-id, character-cost, regeneration-count, generation-info, "
            "current-concurrent-requests, maximum-concurrent-requests")


# --------------------------------------------------------------------------- validation helpers


def _err(kind: str, loc: list[Any], msg: str, value: Any, ctx: dict[str, Any] | None = None,
         ) -> dict[str, Any]:
    e: dict[str, Any] = {"type": kind, "loc": loc, "msg": msg, "input": value}
    if ctx:
        e["ctx"] = ctx
    return e


def _enum_msg(values: Sequence[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    return "Input should be " + (", ".join(quoted[:-1]) + " or " + quoted[-1]
                                 if len(quoted) > 1 else quoted[0])


_TRUE = {"true", "1", "yes", "on", "t", "y"}
_FALSE = {"false", "0", "no", "off", "f", "n"}


def _parse_bool(raw: str) -> bool | None:
    v = raw.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return None


def _json_bool(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        return _parse_bool(v)
    return None


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


_VOICE_SETTING_RANGES = {
    "stability": (0.0, 1.0),
    "similarity_boost": (0.0, 1.0),
    "style": (0.0, 1.0),
    "speed": (0.7, 1.2),
}


def _check_str_list(body: dict[str, Any], name: str, errors: list[dict[str, Any]]) -> None:
    v = body.get(name)
    if v is None:
        return
    if not isinstance(v, list):
        errors.append(_err("list_type", ["body", name], "Input should be a valid list", v))
        return
    for i, item in enumerate(v):
        if not isinstance(item, str):
            errors.append(_err("string_type", ["body", name, i],
                               "Input should be a valid string", item))
    if len(v) > 3:
        errors.append(_err("too_long", ["body", name],
                           f"List should have at most 3 items after validation, not {len(v)}",
                           v, {"field_type": "List", "max_length": 3, "actual_length": len(v)}))


def _validate_tts_body(body: Any) -> list[dict[str, Any]]:
    """FastAPI/pydantic-style 422 entries for a TTS JSON body (§5.2)."""
    if not isinstance(body, dict):
        return [_err("model_attributes_type", ["body"],
                     "Input should be a valid dictionary or object to extract fields from", body)]
    errors: list[dict[str, Any]] = []
    if "text" not in body:
        errors.append(_err("missing", ["body", "text"], "Field required", body))
    elif not isinstance(body["text"], str):
        errors.append(_err("string_type", ["body", "text"], "Input should be a valid string",
                           body["text"]))
    elif body["text"] == "":
        errors.append(_err("string_too_short", ["body", "text"],
                           "String should have at least 1 character", "", {"min_length": 1}))
    for name in ("model_id", "language_code", "previous_text", "next_text"):
        v = body.get(name)
        if v is not None and not isinstance(v, str):
            errors.append(_err("string_type", ["body", name], "Input should be a valid string", v))
    vs = body.get("voice_settings")
    if vs is not None:
        if not isinstance(vs, dict):
            errors.append(_err("model_attributes_type", ["body", "voice_settings"],
                               "Input should be a valid dictionary or object to extract fields "
                               "from", vs))
        else:
            for name, (lo, hi) in _VOICE_SETTING_RANGES.items():
                v = vs.get(name)
                loc: list[Any] = ["body", "voice_settings", name]
                if v is None:
                    continue
                if not _is_number(v):
                    errors.append(_err("float_type", loc, "Input should be a valid number", v))
                elif v < lo:
                    errors.append(_err("greater_than_equal", loc,
                                       f"Input should be greater than or equal to {lo:g}", v,
                                       {"ge": lo}))
                elif v > hi:
                    errors.append(_err("less_than_equal", loc,
                                       f"Input should be less than or equal to {hi:g}", v,
                                       {"le": hi}))
            usb = vs.get("use_speaker_boost")
            if usb is not None and _json_bool(usb) is None:
                errors.append(_err("bool_type", ["body", "voice_settings", "use_speaker_boost"],
                                   "Input should be a valid boolean", usb))
    locs = body.get("pronunciation_dictionary_locators")
    if locs is not None:
        if not isinstance(locs, list):
            errors.append(_err("list_type", ["body", "pronunciation_dictionary_locators"],
                               "Input should be a valid list", locs))
        else:
            for i, item in enumerate(locs):
                loc = ["body", "pronunciation_dictionary_locators", i]
                if not isinstance(item, dict):
                    errors.append(_err("model_attributes_type", loc,
                                       "Input should be a valid dictionary or object to extract "
                                       "fields from", item))
                    continue
                pid = item.get("pronunciation_dictionary_id")
                if pid is None:
                    errors.append(_err("missing", [*loc, "pronunciation_dictionary_id"],
                                       "Field required", item))
                elif not isinstance(pid, str):
                    errors.append(_err("string_type", [*loc, "pronunciation_dictionary_id"],
                                       "Input should be a valid string", pid))
                ver = item.get("version_id")
                if ver is not None and not isinstance(ver, str):
                    errors.append(_err("string_type", [*loc, "version_id"],
                                       "Input should be a valid string", ver))
            if len(locs) > 3:
                errors.append(_err("too_long", ["body", "pronunciation_dictionary_locators"],
                                   "List should have at most 3 items after validation, "
                                   f"not {len(locs)}", locs,
                                   {"field_type": "List", "max_length": 3,
                                    "actual_length": len(locs)}))
    _check_str_list(body, "previous_request_ids", errors)
    _check_str_list(body, "next_request_ids", errors)
    seed = body.get("seed")
    if seed is not None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            errors.append(_err("int_type", ["body", "seed"], "Input should be a valid integer",
                               seed))
        elif not 0 <= seed <= 4294967295:
            errors.append(_err("less_than_equal" if seed > 0 else "greater_than_equal",
                               ["body", "seed"], "Input should be between 0 and 4294967295",
                               seed))
    atn = body.get("apply_text_normalization")
    if atn is not None and atn not in ("auto", "on", "off"):
        errors.append(_err("enum", ["body", "apply_text_normalization"],
                           _enum_msg(("auto", "on", "off")), atn,
                           {"expected": "'auto', 'on' or 'off'"}))
    for name in ("use_pvc_as_ivc", "apply_language_text_normalization"):
        v = body.get(name)
        if v is not None and _json_bool(v) is None:
            errors.append(_err("bool_type", ["body", name], "Input should be a valid boolean", v))
    return errors


def _group_characters(text: str, target: int = 24) -> list[tuple[int, int]]:
    """Split ``text`` into [start, end) character ranges of whole words, ~target chars each."""
    groups: list[tuple[int, int]] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        while i < n and not text[i].isspace():
            i += 1
        while i < n and text[i].isspace():
            i += 1
        if i - start >= target or i >= n:
            groups.append((start, i))
            start = i
    return groups or [(0, n)]


# --------------------------------------------------------------------------- pronunciation (§14)

#: §6.3/§14: the only models that honour phoneme rules; the others silently skip the word.
PHONEME_MODELS: tuple[str, ...] = ("eleven_flash_v2", "eleven_turbo_v2", "eleven_monolingual_v1")
_PLS_NS = "http://www.w3.org/2005/01/pronunciation-lexicon"
_WORKSPACE_ACCESS = ("admin", "editor", "commenter", "viewer")


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _rule_pattern(rule: dict[str, Any]) -> re.Pattern[str]:
    s: str = rule["string_to_replace"]
    pattern = re.escape(s)
    if rule.get("word_boundaries") is not False:
        if _is_word_char(s[0]):
            pattern = r"(?<!\w)" + pattern
        if _is_word_char(s[-1]):
            pattern += r"(?!\w)"
    return re.compile(pattern, 0 if rule.get("case_sensitive") is not False else re.IGNORECASE)


@dataclass
class _Speech:
    """What the fake "says" for ``text`` once dictionary rules applied (§6.3, §14).

    Alias rules replace the words; phoneme rules are said as their phonemes by the models in
    ``PHONEME_MODELS`` and silently skipped (said as nothing) by every other model. Matching is
    case-sensitive unless a rule says ``case_sensitive: false``, on word boundaries unless
    ``word_boundaries: false``, leftmost first, and the first rule in locator order wins.
    ``o2s[i]`` is the index in ``spoken`` where original character ``i`` starts.
    """

    text: str
    spoken: str
    o2s: list[int]
    spans: list[tuple[int, int, int, int]]  # original [a, b) said as spoken [c, d)
    applied: list[dict[str, Any]]
    slot_s: float

    @classmethod
    def of(cls, text: str, rules: Sequence[dict[str, Any]], model_id: str,
           slot_s: float) -> _Speech:
        found: list[tuple[int, int, int]] = []
        for order, rule in enumerate(rules):
            if rule.get("string_to_replace"):
                found.extend((m.start(), order, m.end())
                             for m in _rule_pattern(rule).finditer(text) if m.end() > m.start())
        found.sort()
        pieces: list[str] = []
        spans: list[tuple[int, int, int, int]] = []
        applied: list[dict[str, Any]] = []
        o2s: list[int] = []
        cursor = 0
        said = 0
        for start, order, end in found:
            if start < cursor:
                continue
            rule = rules[order]
            o2s.extend(range(said, said + start - cursor))
            pieces.append(text[cursor:start])
            said += start - cursor
            if rule.get("type") == "alias":
                say, effect = str(rule.get("alias", "")), "alias"
            elif model_id in PHONEME_MODELS:
                say, effect = str(rule.get("phoneme", "")), "phoneme"
            else:
                say, effect = "", "skipped"
            spans.append((start, end, said, said + len(say)))
            o2s.extend([said] * (end - start))
            pieces.append(say)
            said += len(say)
            applied.append({"string_to_replace": rule["string_to_replace"],
                            "type": rule.get("type"), "effect": effect, "start": start})
            cursor = end
        o2s.extend(range(said, said + len(text) - cursor + 1))
        pieces.append(text[cursor:])
        return cls(text, "".join(pieces), o2s, spans, applied, slot_s)

    def _times(self, i: int) -> tuple[float, float]:
        slot = self.slot_s
        for a, b, c, d in self.spans:
            if a <= i < b:
                share = (d - c) * slot / (b - a)
                return c * slot + (i - a) * share, c * slot + (i - a + 1) * share
        p = self.o2s[i]
        return p * slot, (p + 1) * slot

    def alignment(self, a: int, b: int, offset: float) -> dict[str, Any] | None:
        """Alignment of original characters ``text[a:b]`` (times minus ``offset``)."""
        if not self.spans:
            return _alignment(self.text, self.slot_s, a, b, offset)
        if a >= b:
            return None
        times = [self._times(i) for i in range(a, b)]
        return {"characters": list(self.text[a:b]),
                "character_start_times_seconds": [round(s - offset, 6) for s, _ in times],
                "character_end_times_seconds": [round(e - offset, 6) for _, e in times]}

    def normalized(self, a: int, b: int, offset: float) -> dict[str, Any] | None:
        """Alignment of what was said for original characters ``text[a:b]``."""
        return _alignment(self.spoken, self.slot_s, self.o2s[a], self.o2s[b], offset)

    @property
    def duration_s(self) -> float:
        return len(self.spoken) * self.slot_s


def _validate_rules(rules: Any, loc: list[Any]) -> list[dict[str, Any]]:
    """422 entries for a list of §14 rule objects."""
    if not isinstance(rules, list):
        return [_err("list_type", loc, "Input should be a valid list", rules)]
    errors: list[dict[str, Any]] = []
    for i, rule in enumerate(rules):
        here = [*loc, i]
        if not isinstance(rule, dict):
            errors.append(_err("model_attributes_type", here, "Input should be a valid "
                               "dictionary or object to extract fields from", rule))
            continue
        kind = rule.get("type")
        if kind not in ("alias", "phoneme"):
            errors.append(_err("union_tag_invalid", [*here, "type"],
                               f"Input tag '{kind}' found using 'type' does not match any of the "
                               "expected tags: 'alias', 'phoneme'", rule,
                               {"discriminator": "'type'", "tag": str(kind),
                                "expected_tags": "'alias', 'phoneme'"}))
            continue
        needed = ("string_to_replace", "alias") if kind == "alias" else (
            "string_to_replace", "phoneme", "alphabet")
        for name in needed:
            v = rule.get(name)
            if v is None:
                errors.append(_err("missing", [*here, kind, name], "Field required", rule))
            elif not isinstance(v, str):
                errors.append(_err("string_type", [*here, kind, name],
                                   "Input should be a valid string", v))
            elif name == "string_to_replace" and not v:
                errors.append(_err("string_too_short", [*here, kind, name],
                                   "String should have at least 1 character", v,
                                   {"min_length": 1}))
        for name in ("case_sensitive", "word_boundaries"):
            v = rule.get(name)
            if v is not None and _json_bool(v) is None:
                errors.append(_err("bool_type", [*here, kind, name],
                                   "Input should be a valid boolean", v))
    return errors


def _clean_rule(rule: dict[str, Any]) -> dict[str, Any]:
    keys = ("type", "string_to_replace", "alias") if rule["type"] == "alias" else (
        "type", "string_to_replace", "phoneme", "alphabet")
    out = {k: rule[k] for k in keys}
    for name in ("case_sensitive", "word_boundaries"):
        if rule.get(name) is not None:
            out[name] = _json_bool(rule[name])
    return out


def _pls_rules(data: bytes) -> list[dict[str, Any]]:
    """Rules of a PLS file (§14): one per grapheme, its lexeme's first pronunciation.

    Raises ValueError when it is not a PLS lexicon.
    """
    import xml.etree.ElementTree as ET

    root = ET.fromstring(data)
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    q = f"{{{ns}}}" if ns else ""
    if root.tag != f"{q}lexicon":
        raise ValueError(f"the root element is <{root.tag}>, not <lexicon>")
    alphabet = root.get("alphabet") or "ipa"
    rules: list[dict[str, Any]] = []
    for n, lexeme in enumerate(root.iter(f"{q}lexeme"), 1):
        graphemes = [" ".join("".join(g.itertext()).split()) for g in lexeme.iter(f"{q}grapheme")]
        prons = [el for el in lexeme if el.tag in (f"{q}phoneme", f"{q}alias")]
        preferred = [el for el in prons if el.get("prefer") == "true"]
        if not [g for g in graphemes if g] or not prons:
            raise ValueError(f"lexeme {n} needs a grapheme and a phoneme or alias")
        el = (preferred or prons)[0]
        said = " ".join("".join(el.itertext()).split())
        for g in graphemes:
            if not g:
                continue
            if el.tag == f"{q}alias":
                rules.append({"type": "alias", "string_to_replace": g, "alias": said})
            else:
                rules.append({"type": "phoneme", "string_to_replace": g, "phoneme": said,
                              "alphabet": el.get("alphabet") or alphabet})
    return rules


def _pls_bytes(rules: Sequence[dict[str, Any]]) -> bytes:
    """A PLS file of one dictionary version (§14 download)."""
    from xml.sax.saxutils import escape, quoteattr

    alphabets = [r["alphabet"] for r in rules if r["type"] == "phoneme"]
    alphabet = max(set(alphabets), key=alphabets.count) if alphabets else "ipa"
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<lexicon version="1.0" xmlns="{_PLS_NS}" alphabet={quoteattr(alphabet)} '
             'xml:lang="en-US">']
    for r in rules:
        lines.append("  <lexeme>")
        lines.append(f"    <grapheme>{escape(r['string_to_replace'])}</grapheme>")
        if r["type"] == "alias":
            lines.append(f"    <alias>{escape(r['alias'])}</alias>")
        else:
            extra = "" if r["alphabet"] == alphabet else f" alphabet={quoteattr(r['alphabet'])}"
            lines.append(f"    <phoneme{extra}>{escape(r['phoneme'])}</phoneme>")
        lines.append("  </lexeme>")
    lines.append("</lexicon>")
    return ("\n".join(lines) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class FakeElevenLabs:
    """Local fake of the ElevenLabs API (see module docstring and the spec §18)."""

    def __init__(
        self,
        *,
        api_keys: Sequence[str] = ("test-key",),
        tier: str = "creator",
        character_limit: int = 100_000,
        max_concurrency: int = 5,
        concurrency_mode: str = "reject",
        latency_base_s: float = 0.0,
        latency_per_char_s: float = 0.0,
        chunk_size: int = 4096,
        chunk_delay_s: float = 0.0,
        voice_not_found_status: int = 404,
        timestamps_mode: str = "absolute",
        ms_per_char: float = 60.0,
        enforce_format_tiers: bool = True,
        v3_with_stitching: str = "ignore",
        seed: int | None = None,
        stt_fixture_text: str = _STT_DEFAULT_TEXT,
        stt_max_bytes: int = 1_000_000_000,
        stt_max_seconds: float = 4.5 * 3600,
    ) -> None:
        if concurrency_mode not in ("reject", "queue"):
            raise ValueError("concurrency_mode must be 'reject' or 'queue'")
        if timestamps_mode not in ("absolute", "chunk-relative"):
            raise ValueError("timestamps_mode must be 'absolute' or 'chunk-relative'")
        if voice_not_found_status not in (400, 404):
            raise ValueError("voice_not_found_status must be 400 or 404")
        if v3_with_stitching not in ("ignore", "422"):
            raise ValueError("v3_with_stitching must be 'ignore' or '422'")
        if tier not in _TIERS:
            raise ValueError(f"tier must be one of {_TIERS}")
        if chunk_size < 1 or max_concurrency < 1 or ms_per_char <= 0:
            raise ValueError("chunk_size, max_concurrency and ms_per_char must be positive")
        self.api_keys = tuple(api_keys)
        self.tier = tier
        self.character_limit = int(character_limit)
        self.character_count = 0
        self.max_concurrency = int(max_concurrency)
        self.concurrency_mode = concurrency_mode
        self.latency_base_s = float(latency_base_s)
        self.latency_per_char_s = float(latency_per_char_s)
        self.chunk_size = int(chunk_size)
        self.chunk_delay_s = float(chunk_delay_s)
        self.voice_not_found_status = voice_not_found_status
        self.timestamps_mode = timestamps_mode
        self.ms_per_char = float(ms_per_char)
        self.enforce_format_tiers = enforce_format_tiers
        self.v3_with_stitching = v3_with_stitching
        #: §10/§11: text the STT fake "hears"; ``stt_texts[sha256 of the upload]`` wins
        self.stt_fixture_text = stt_fixture_text
        self.stt_texts: dict[str, str] = {}
        self.stt_max_bytes = int(stt_max_bytes)
        self.stt_max_seconds = float(stt_max_seconds)
        self.voices: list[dict[str, Any]] = _premade_voices()
        self.models: list[dict[str, Any]] = deepcopy(list(MODELS))
        self.next_character_count_reset_unix = int(time.time()) + 30 * 86400
        self.max_in_flight_seen = 0
        self.base_url = ""
        #: exceptions raised inside handlers (bugs in the fake); tests may assert it is empty
        self.errors: list[BaseException] = []

        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stop_event = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._generations: dict[str, Generation] = {}
        #: §14: id -> {"id", "name", "description", "created_by", "creation_time_unix",
        #: "archived_time_unix", "permission_on_resource", "versions": {version_id: [rule]},
        #: "latest_version_id"}
        self.dictionaries: dict[str, dict[str, Any]] = {}
        self._rules: list[_Rule] = []
        self._in_flight = 0
        self._busy = 0
        self._conns: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeElevenLabs:
        if self._server is not None:
            return self
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._stop_event.clear()
        self._server = _Server(("127.0.0.1", 0), Handler)
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}"
        for v in self.voices:
            if v.get("category") == "premade" and not v.get("preview_url"):
                v["preview_url"] = f"{self.base_url}/_fake/previews/{v['voice_id']}.mp3"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                         kwargs={"poll_interval": 0.01},
                                         name=f"fake-elevenlabs-{port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stop_event.set()
        with self._cond:
            self._cond.notify_all()
        server.shutdown()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeElevenLabs:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- state for assertions

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of every request received, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def generations(self) -> dict[str, Generation]:
        """Snapshot: request-id -> generation (accepted TTS requests only)."""
        with self._lock:
            return dict(self._generations)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def remaining_credits(self) -> int:
        with self._lock:
            return self.character_limit - self.character_count

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being handled; True if idle within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    # ---------------------------------------------------------------- configuration

    def set_quota(self, character_limit: int, character_count: int | None = None) -> None:
        with self._lock:
            self.character_limit = int(character_limit)
            if character_count is not None:
                self.character_count = int(character_count)

    def fail_next(self, n: int, status: int, code: str | None = None,
                  retry_after: float | None = None,
                  path_contains: str = "/v1/text-to-speech") -> None:
        """The next ``n`` requests whose path contains ``path_contains`` get ``status``."""
        code = code or _DEFAULT_FAIL_CODE.get(status, f"http_{status}")
        with self._lock:
            self._rules.append(_Rule("fail", n, path_contains, status=status, code=code,
                                     retry_after=retry_after))

    def disconnect_next(self, n: int, after_bytes: int = 100,
                        path_contains: str = "/v1/text-to-speech") -> None:
        """Send headers and ``after_bytes`` body bytes (at most all but one), then close."""
        with self._lock:
            self._rules.append(_Rule("disconnect", n, path_contains, after_bytes=after_bytes))

    def stall_next(self, n: int, seconds: float,
                   path_contains: str = "/v1/text-to-speech") -> None:
        """Delay the first response byte of the next ``n`` successful matching requests."""
        with self._lock:
            self._rules.append(_Rule("stall", n, path_contains, seconds=seconds))

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    def dictionary_rules(self, dictionary_id: str, version_id: str | None = None
                         ) -> list[dict[str, Any]]:
        """The rules of a stored dictionary version (latest by default), for assertions."""
        with self._lock:
            d = self.dictionaries[dictionary_id]
            return deepcopy(d["versions"][version_id or d["latest_version_id"]])

    def _new_version(self, d: dict[str, Any], rules: list[dict[str, Any]]) -> str:
        with self._lock:
            version_id = _new_id(self._rng)
            d["versions"][version_id] = rules
            d["latest_version_id"] = version_id
        return version_id

    # ---------------------------------------------------------------- internals

    def _take_rule(self, kind: str, path: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.kind == kind and rule.remaining > 0 and rule.path_contains in path:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def _sleep(self, seconds: float) -> None:
        if seconds > 0 and self._stop_event.wait(seconds):
            raise _Stopped

    def _find_voice(self, voice_id: str) -> dict[str, Any] | None:
        for v in self.voices:
            if v.get("voice_id") == voice_id:
                return v
        return None

    def _find_model(self, model_id: str) -> dict[str, Any] | None:
        for m in self.models:
            if m["model_id"] == model_id:
                return m
        return None

    def _subscription(self) -> dict[str, Any]:
        voice_limits = {"free": 3, "starter": 10, "creator": 30, "pro": 160, "scale": 660,
                        "business": 660, "enterprise": 1000}
        with self._lock:
            return {
                "tier": self.tier,
                "character_count": self.character_count,
                "character_limit": self.character_limit,
                "max_character_limit_extension": None,
                "can_extend_character_limit": self.tier != "free",
                "allowed_to_extend_character_limit": False,
                "next_character_count_reset_unix": self.next_character_count_reset_unix,
                "voice_slots_used": sum(1 for v in self.voices if v.get("category") != "premade"),
                "professional_voice_slots_used": 0,
                "voice_limit": voice_limits[self.tier],
                "max_voice_add_edits": 95,
                "voice_add_edit_counter": 0,
                "professional_voice_limit": 0 if self.tier in ("free", "starter") else 1,
                "can_extend_voice_limit": False,
                "can_use_instant_voice_cloning": self.tier != "free",
                "can_use_professional_voice_cloning": self.tier not in ("free", "starter"),
                "currency": "usd",
                "status": "free" if self.tier == "free" else "active",
                "billing_period": "monthly_period",
                "character_refresh_period": "monthly_period",
                "next_invoice": None,
                "open_invoices": [],
                "has_open_invoices": False,
            }


# --------------------------------------------------------------------------- request handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection is dropped after a minute
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall between headers and body
    fake: FakeElevenLabs

    # -- plumbing

    def version_string(self) -> str:
        return "uvicorn"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._conns.add(self.connection)

    def finish(self) -> None:
        try:
            with contextlib.suppress(OSError):
                super().finish()
        finally:
            with self.fake._lock:
                self.fake._conns.discard(self.connection)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        fake = self.fake
        with fake._cond:
            fake._busy += 1
        rec: RecordedRequest | None = None
        try:
            body = self._read_body()
            split = urlsplit(self.path)
            path = unquote(split.path)
            if len(path) > 1 and path.endswith("/"):
                path = path.rstrip("/") or "/"
            query = parse_qs(split.query, keep_blank_values=True)
            headers = _MaskedHeaders({k.lower(): v for k, v in self.headers.items()})
            parsed: Any = None
            json_error: str | None = None
            if body:
                try:
                    parsed = json.loads(body)
                except (ValueError, UnicodeDecodeError) as exc:
                    json_error = str(exc)
            rec = RecordedRequest(method=self.command, path=path, query=query, headers=headers,
                                  json=parsed, started=time.monotonic())
            with fake._lock:
                fake._requests.append(rec)
            self._rec = rec
            self._path = path
            self._query = query
            self._route(path, parsed, body, json_error)
        except (_Stopped, OSError):  # stopping, or the client went away
            self.close_connection = True
        except Exception as exc:  # a bug in the fake: report it and answer 500
            fake.errors.append(exc)
            self.close_connection = True
            if rec is not None and rec.status is None:
                with contextlib.suppress(OSError):
                    self._send_json(500, {"detail": {"status": "internal_server_error",
                                                     "message": f"fake server bug: {exc!r}"}})
        finally:
            if rec is not None:
                rec.ended = time.monotonic()
            with fake._cond:
                fake._busy -= 1
                fake._cond.notify_all()

    # -- responses

    def _q(self, name: str) -> str | None:
        values = self._query.get(name)
        return values[-1] if values else None

    def _send_json(self, status: int, obj: Any, headers: Sequence[tuple[str, str]] = ()) -> bool:
        data = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
        return self._send(status, [("content-type", "application/json"), *headers], [data],
                          chunked=False, delay=0.0, faults=status < 400)

    def _send_error_detail(self, status: int, code: str, message: str,
                           headers: Sequence[tuple[str, str]] = ()) -> bool:
        return self._send_json(status, {"detail": {"status": code, "message": message}}, headers)

    def _send_422(self, errors: list[dict[str, Any]]) -> bool:
        return self._send_json(422, {"detail": errors})

    def _drop_connection(self) -> None:
        """Close the connection without finishing the body (FIN: the client reads what was sent
        and then hits end-of-stream in the middle of the body)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, status: int, headers: Sequence[tuple[str, str]], pieces: Sequence[bytes], *,
              chunked: bool, delay: float, faults: bool = True,
              on_final: Callable[[], None] | None = None,
              on_final_failed: Callable[[], None] | None = None) -> bool:
        """Write a response; return True when the whole body was written."""
        fake, rec = self.fake, self._rec
        pieces = [p for p in pieces if p] or [b""]
        total = sum(len(p) for p in pieces)
        cut: _Rule | None = None
        if faults:
            stall = fake._take_rule("stall", self._path)
            if stall is not None:
                rec.fault = "stall"
                fake._sleep(stall.seconds)
            cut = fake._take_rule("disconnect", self._path)
        final_called = False

        def mark_final() -> None:
            # stamped just before the last write, so a client that has read the whole body
            # never sees stale bookkeeping; undone below if that write fails
            nonlocal final_called
            final_called = True
            rec.body_fully_sent = True
            if on_final is not None:
                on_final()

        rec.status = status
        try:
            self.send_response(status)
            self.send_header("access-control-expose-headers", _EXPOSED)
            for k, v in headers:
                self.send_header(k, v)
            if chunked:
                self.send_header("transfer-encoding", "chunked")
            else:
                self.send_header("content-length", str(total))
            self.end_headers()
            if self.command == "HEAD":
                pieces = [b""]
            if cut is not None and total > 0 and self.command != "HEAD":
                rec.fault = "disconnect"
                limit = max(0, min(cut.after_bytes, total - 1))
                for i, p in enumerate(pieces):
                    if rec.bytes_sent >= limit:
                        break
                    if i and delay:
                        fake._sleep(delay)
                    take = p[: limit - rec.bytes_sent]
                    self._write_piece(take, chunked)
                    rec.bytes_sent += len(take)
                self._drop_connection()
                return False
            last = len(pieces) - 1
            for i, p in enumerate(pieces):
                if i and delay:
                    fake._sleep(delay)
                if i == last and not chunked:
                    if len(p) > 1:  # all but the last byte, then book-keeping, then that byte
                        self._write_piece(p[:-1], chunked)
                        rec.bytes_sent += len(p) - 1
                        p = p[-1:]
                    mark_final()
                self._write_piece(p, chunked)
                rec.bytes_sent += len(p)
            if chunked:
                mark_final()
                self.wfile.write(b"0\r\n\r\n")
            return True
        except OSError:
            rec.body_fully_sent = False
            self.close_connection = True
            if final_called and on_final_failed is not None:
                on_final_failed()
            return False

    def _write_piece(self, data: bytes, chunked: bool) -> None:
        if not data:
            return
        if chunked:
            self.wfile.write(b"%x\r\n%b\r\n" % (len(data), data))
        else:
            self.wfile.write(data)

    # -- routing

    def _route(self, path: str, parsed: Any, raw: bytes, json_error: str | None) -> None:
        method = self.command
        m = re.fullmatch(r"/v1/text-to-speech/([^/]+)(/stream|/with-timestamps|"
                         r"/stream/with-timestamps)?", path)
        if m and method == "POST":
            if self._auth():
                endpoint = (m.group(2) or "/convert")[1:]
                self._tts(m.group(1), endpoint, parsed, raw, json_error)
            return
        if path in ("/v1/speech-to-text", "/v1/forced-alignment") and method == "POST":
            if self._auth() and not self._injected_failure():
                if path == "/v1/speech-to-text":
                    self._speech_to_text(raw)
                else:
                    self._forced_alignment(raw)
            return
        dm = re.fullmatch(r"/v1/text-to-dialogue(/stream|/with-timestamps|"
                          r"/stream/with-timestamps)?", path)
        if dm and method == "POST":
            if self._auth():
                self._dialogue((dm.group(1) or "/convert")[1:], parsed, raw, json_error)
            return
        if path.startswith("/v1/pronunciation-dictionaries") and self._dictionaries(
                method, path, parsed, raw, json_error):
            return
        pm = re.fullmatch(r"/_fake/previews/([^/]+)\.mp3", path)
        if pm and method in ("GET", "HEAD"):  # stands in for the public preview CDN: no auth
            self._preview(pm.group(1))
            return
        routes: list[tuple[str, Callable[..., None]]] = [
            (r"/v1/voices", self._list_voices_v1),
            (r"/v2/voices", self._list_voices_v2),
            (r"/v1/voices/settings/default", self._default_settings),
            (r"/v1/voices/([^/]+)/settings", self._voice_settings),
            (r"/v1/voices/([^/]+)", self._get_voice),
            (r"/v1/models", self._models),
            (r"/v1/user/subscription", self._get_subscription),
            (r"/v1/user", self._get_user),
        ]
        if method in ("GET", "HEAD"):
            for pattern, handler in routes:
                rm = re.fullmatch(pattern, path)
                if rm:
                    if self._auth() and not self._injected_failure():
                        handler(*rm.groups())
                    return
        self._send_json(404, {"detail": "Not Found"})

    def _dictionaries(self, method: str, path: str, parsed: Any, raw: bytes,
                      json_error: str | None) -> bool:
        """Route §14; return False when no dictionary endpoint matches."""
        base = "/v1/pronunciation-dictionaries"
        rest = path[len(base):]
        posts: list[tuple[str, Callable[..., None]]] = [
            (r"/add-from-file", lambda: self._add_from_file(raw)),
            (r"/add-from-rules", lambda: self._add_from_rules(parsed, json_error)),
            (r"/([^/]+)/(add-rules|remove-rules|set-rules)",
             lambda i, a: self._change_rules(i, a, parsed, json_error)),
        ]
        gets: list[tuple[str, Callable[..., None]]] = [
            (r"", self._list_dictionaries),
            (r"/([^/]+)/([^/]+)/download", self._download_dictionary),
            (r"/([^/]+)", self._get_dictionary),
        ]
        patches: list[tuple[str, Callable[..., None]]] = [
            (r"/([^/]+)", lambda i: self._patch_dictionary(i, parsed, json_error)),
        ]
        table = {"POST": posts, "GET": gets, "HEAD": gets, "PATCH": patches}.get(method, [])
        for pattern, handler in table:
            rm = re.fullmatch(pattern, rest)
            if rm:
                if self._auth() and not self._injected_failure():
                    handler(*rm.groups())
                return True
        return False

    def _auth(self) -> bool:
        key = self.headers.get("xi-api-key")
        if key is None or key not in self.fake.api_keys:
            self._send_error_detail(401, "invalid_api_key", "Invalid API key")
            return False
        return True

    def _injected_failure(self) -> bool:
        rule = self.fake._take_rule("fail", self._path)
        if rule is None:
            return False
        self._rec.fault = "fail"
        extra: list[tuple[str, str]] = []
        if rule.retry_after is not None:
            ra = rule.retry_after
            extra.append(("retry-after", str(int(ra)) if float(ra).is_integer() else f"{ra:g}"))
        code = rule.code or "error"
        self._send_error_detail(rule.status, code,
                                _FAIL_MESSAGES.get(code, f"Injected failure ({code})."), extra)
        return True

    # -- TTS (§5)

    def _tts(self, voice_id: str, endpoint: str, body: Any, raw: bytes,
             json_error: str | None) -> None:
        fake = self.fake
        streaming = endpoint.startswith("stream")
        # 422: query then body, all problems at once (FastAPI collects them)
        errors: list[dict[str, Any]] = []
        allowed = STREAM_OUTPUT_FORMATS if streaming else OUTPUT_FORMATS
        fmt = self._q("output_format") or DEFAULT_OUTPUT_FORMAT
        if fmt not in allowed:
            errors.append(_err("enum", ["query", "output_format"], _enum_msg(allowed), fmt,
                               {"expected": _enum_msg(allowed)[len("Input should be "):]}))
        enable_logging = True
        raw_logging = self._q("enable_logging")
        if raw_logging is not None:
            parsed_logging = _parse_bool(raw_logging)
            if parsed_logging is None:
                errors.append(_err("bool_parsing", ["query", "enable_logging"],
                                   "Input should be a valid boolean, unable to interpret input",
                                   raw_logging))
            else:
                enable_logging = parsed_logging
        osl = self._q("optimize_streaming_latency")
        if osl is not None and not re.fullmatch(r"-?\d+", osl.strip()):
            errors.append(_err("int_parsing", ["query", "optimize_streaming_latency"],
                               "Input should be a valid integer, unable to parse string as an "
                               "integer", osl))
        if json_error is not None:
            errors.append(_err("json_invalid", ["body", 0], "JSON decode error", {},
                               {"error": json_error}))
        elif not raw:
            errors.append(_err("missing", ["body"], "Field required", None))
        else:
            errors.extend(_validate_tts_body(body))
        if not errors and fmt.startswith("opus_"):
            errors.append(_err("value_error", ["query", "output_format"],
                               f"Value error, {fmt} is not supported by the fake server", fmt))
        if errors:
            self._send_422(errors)
            return
        assert isinstance(body, dict)
        text: str = body["text"]
        voice = fake._find_voice(voice_id)
        if voice is None:
            self._send_error_detail(fake.voice_not_found_status, "voice_not_found",
                                    f"A voice with the voice_id {voice_id} was not found.")
            return
        model_id = body.get("model_id") or DEFAULT_MODEL_ID
        model = fake._find_model(model_id)
        if model is None:
            self._send_error_detail(400, "model_not_found",
                                    f"A model with model ID {model_id} does not exist.")
            return
        if not model["can_do_text_to_speech"]:
            self._send_error_detail(400, "model_can_not_do_text_to_speech",
                                    f"The model {model_id} cannot be used for text-to-speech.")
            return
        rules = self._locator_rules(body)
        if rules is None:
            return
        limit = int(model["maximum_text_length_per_request"])
        if len(text) > limit:
            self._send_error_detail(
                400, "max_character_limit_exceeded",
                f"This request's text has {len(text)} characters and exceeds the character "
                f"limit of {limit} characters.")
            return
        stitching = any(body.get(k) for k in ("previous_request_ids", "next_request_ids",
                                               "previous_text", "next_text"))
        if model_id.startswith("eleven_v3") and stitching and fake.v3_with_stitching == "422":
            self._send_422([_err("value_error", ["body"],
                                 "Value error, request stitching is not available for "
                                 "eleven_v3", None)])
            return
        need = _FORMAT_MIN_TIER.get(fmt)
        if fake.enforce_format_tiers and need and _TIERS.index(fake.tier) < _TIERS.index(need):
            self._send_error_detail(
                403, "output_format_not_allowed",
                f"The output format {fmt} requires a {need} subscription or higher; your "
                f"current subscription is {fake.tier}.")
            return
        if self._injected_failure():
            return

        mult = float(model["model_rates"]["character_cost_multiplier"])
        cost = math.ceil(len(text) * mult - 1e-9)
        admitted = self._admit(cost)
        if admitted is None:
            return
        current, release = admitted
        try:
            self._generate(voice, endpoint, body, fmt, model_id, cost, enable_logging, current,
                           release, rules)
        finally:
            release()

    def _admit(self, cost: int) -> tuple[int, Callable[[], None]] | None:
        """Debit ``cost`` and take a concurrency slot; or answer 401/429 and return None."""
        fake = self.fake
        # quota, then concurrency (a refused request holds no slot and costs nothing)
        over = False
        quota_error: tuple[int, int] | None = None
        current = 0
        with fake._cond:
            remaining = fake.character_limit - fake.character_count
            if cost > remaining:
                quota_error = (remaining, cost)
            elif fake._in_flight >= fake.max_concurrency and fake.concurrency_mode == "reject":
                over = True
            else:
                while fake._in_flight >= fake.max_concurrency:  # "queue" mode: wait for a slot
                    if fake._stop_event.is_set():
                        raise _Stopped
                    fake._cond.wait(0.05)
                remaining = fake.character_limit - fake.character_count
                if cost > remaining:
                    quota_error = (remaining, cost)
                else:
                    fake._in_flight += 1
                    fake.character_count += cost
                    fake.max_in_flight_seen = max(fake.max_in_flight_seen, fake._in_flight)
                    current = fake._in_flight
        if quota_error is not None:
            self._send_error_detail(
                401, "quota_exceeded",
                f"This request exceeds your quota of {fake.character_limit}. You have "
                f"{max(0, quota_error[0])} credits remaining, while {quota_error[1]} credits are "
                "required for this request.")
            return None
        if over:
            n = fake.max_concurrency
            self._send_error_detail(
                429, "too_many_concurrent_requests",
                "Too many concurrent requests. Your current subscription is associated with a "
                f"maximum of {n} concurrent requests (running in parallel). Please upgrade your "
                "subscription or contact sales if you want to increase this limit.",
                [("current-concurrent-requests", str(n)),
                 ("maximum-concurrent-requests", str(n))])
            return None

        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                with fake._cond:
                    fake._in_flight -= 1
                    fake._cond.notify_all()

        return current, release

    def _generate(self, voice: dict[str, Any], endpoint: str, body: dict[str, Any], fmt: str,
                  model_id: str, cost: int, enable_logging: bool, current: int,
                  release: Callable[[], None], rules: Sequence[dict[str, Any]] = ()) -> None:
        fake = self.fake
        t0 = time.monotonic()
        text: str = body["text"]
        settings = dict(DEFAULT_VOICE_SETTINGS)
        settings.update(voice.get("settings") or {})
        settings.update({k: v for k, v in (body.get("voice_settings") or {}).items()
                         if v is not None})
        speed = float(settings.get("speed") or 1.0)
        slot_s = fake.ms_per_char / 1000.0 / speed
        speech = _Speech.of(text, rules, model_id, slot_s)
        with fake._lock:
            request_id = _new_id(fake._rng)
            history_id = _new_id(fake._rng) if enable_logging else None
        gen = Generation(
            request_id=request_id, endpoint=endpoint, voice_id=voice["voice_id"],
            model_id=model_id, text=text, output_format=fmt,
            previous_request_ids=body.get("previous_request_ids"),
            next_request_ids=body.get("next_request_ids"),
            previous_text=body.get("previous_text"), next_text=body.get("next_text"),
            voice_settings=body.get("voice_settings"), enable_logging=enable_logging,
            cost=cost, duration_s=speech.duration_s, history_item_id=history_id, body=body,
            started=t0, spoken_text=speech.spoken, pronunciation=speech.applied,
        )
        self._rec.request_id = request_id
        with fake._lock:
            fake._generations[request_id] = gen

        voiced = bytes(1 if ch.isalnum() else 0 for ch in speech.spoken)
        audio = _render_audio(fmt, voiced, slot_s)

        headers = _speech_headers(fake, request_id, cost, current, history_id)

        if endpoint in ("convert", "stream"):
            headers.insert(0, ("content-type", _content_type(fmt)))
            pieces = _audio_pieces(fake, audio, endpoint)
        elif endpoint == "with-timestamps":
            headers.insert(0, ("content-type", "application/json"))
            doc = {"audio_base64": base64.b64encode(audio).decode("ascii"),
                   "alignment": speech.alignment(0, len(text), 0.0),
                   "normalized_alignment": speech.normalized(0, len(text), 0.0)}
            data = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
            pieces = [data[i:i + 65536] for i in range(0, len(data), 65536)]
        else:
            headers.insert(0, ("content-type", "application/json"))
            pieces = list(self._ndjson_lines(speech, fmt, audio))
        # Service time: the latency model, minus what building the answer already took (a
        # real server's own work is inside its latency too).
        service = fake.latency_base_s + fake.latency_per_char_s * len(text)
        fake._sleep(service - (time.monotonic() - t0))

        def on_final() -> None:
            release()
            with fake._lock:
                gen.finished = time.monotonic()

        def on_final_failed() -> None:
            with fake._lock:
                gen.finished = None

        self._send(200, headers, pieces, chunked=endpoint != "convert"
                   and endpoint != "with-timestamps",
                   delay=fake.chunk_delay_s if endpoint.startswith("stream") else 0.0,
                   on_final=on_final, on_final_failed=on_final_failed)

    def _ndjson_lines(self, speech: _Speech, fmt: str, audio: bytes) -> Iterator[bytes]:
        """§5d lines: whole words of the original text, with the audio said for them."""
        codec, sr, _ = parse_output_format(fmt)
        text, said, slot_s = speech.text, speech.spoken, speech.slot_s
        groups = _group_characters(text)
        duration = len(said) * slot_s
        if codec == "mp3":
            frames = mp3_frame_offsets(audio)
            n_frames = len(frames)

            def cut(char_index: int) -> int:  # an index into what was said
                if char_index >= len(said) or not frames:
                    return len(audio)
                k = round(char_index * slot_s / duration * n_frames)
                return frames[min(max(k, 0), n_frames - 1)] if k > 0 else 0
        else:
            width = 2 if codec == "pcm" else 1
            bounds = _slot_boundaries(len(said), slot_s, sr)
            n = len(audio) // width

            def cut(char_index: int) -> int:
                if char_index >= len(said):
                    return len(audio)
                return int(min(bounds[char_index], n)) * width

        relative = self.fake.timestamps_mode == "chunk-relative"
        for a, b in groups:
            sa, sb = speech.o2s[a], speech.o2s[b]
            piece = audio[cut(sa):cut(sb)]
            offset = sa * slot_s if relative else 0.0
            alignment = speech.alignment(a, b, offset)
            normalized = deepcopy(alignment) if not speech.spans else speech.normalized(
                a, b, offset)
            doc = {"audio_base64": base64.b64encode(piece).decode("ascii"),
                   "alignment": alignment, "normalized_alignment": normalized}
            yield json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"

    # -- pronunciation dictionaries (§14)

    def _locator_rules(self, body: dict[str, Any]) -> list[dict[str, Any]] | None:
        """Rules of the request's dictionary locators, in order; or answer 404, return None.

        A locator naming a dictionary or a version the account does not have -> 404 with
        ``pronunciation_dictionary_not_found`` / ``pronunciation_dictionary_version_not_found``
        (status and codes inferred, §14).
        """
        fake = self.fake
        rules: list[dict[str, Any]] = []
        for loc in body.get("pronunciation_dictionary_locators") or []:
            pid, ver = loc["pronunciation_dictionary_id"], loc.get("version_id")
            with fake._lock:
                d = fake.dictionaries.get(pid)
                version = None if d is None else d["versions"].get(ver or d["latest_version_id"])
            if d is None:
                self._send_error_detail(
                    404, "pronunciation_dictionary_not_found",
                    f"A pronunciation dictionary with id {pid} was not found.")
                return None
            if version is None:
                self._send_error_detail(
                    404, "pronunciation_dictionary_version_not_found",
                    f"Version {ver} of the pronunciation dictionary {pid} ({d['name']}) was "
                    "not found.")
                return None
            rules.extend(version)
        return rules

    def _dictionary_or_404(self, dictionary_id: str) -> dict[str, Any] | None:
        with self.fake._lock:
            d = self.fake.dictionaries.get(dictionary_id)
        if d is None:
            self._send_error_detail(
                404, "pronunciation_dictionary_not_found",
                f"A pronunciation dictionary with id {dictionary_id} was not found.")
        return d

    def _dictionary_meta(self, d: dict[str, Any]) -> dict[str, Any]:
        with self.fake._lock:
            return {
                "id": d["id"], "latest_version_id": d["latest_version_id"],
                "latest_version_rules_num": len(d["versions"][d["latest_version_id"]]),
                "name": d["name"], "permission_on_resource": d["permission_on_resource"],
                "created_by": d["created_by"], "creation_time_unix": d["creation_time_unix"],
                "archived_time_unix": d["archived_time_unix"], "description": d["description"],
            }

    def _create_dictionary(self, name: str, description: str | None, access: str | None,
                           rules: list[dict[str, Any]]) -> None:
        fake = self.fake
        with fake._lock:
            d = {"id": _new_id(fake._rng), "name": name, "description": description,
                 "created_by": "fakeUser0000000000000000001",
                 "creation_time_unix": int(time.time()), "archived_time_unix": None,
                 "permission_on_resource": "admin", "versions": {},
                 "latest_version_id": "", "workspace_access": access}
            version_id = fake._new_version(d, rules)
            fake.dictionaries[d["id"]] = d
        self._send_json(200, {"id": d["id"], "name": name, "created_by": d["created_by"],
                              "creation_time_unix": d["creation_time_unix"],
                              "version_id": version_id, "version_rules_num": len(rules),
                              "description": description, "permission_on_resource": "admin"})

    def _add_from_file(self, raw: bytes) -> None:
        form = self._form(raw)
        if form is None:
            return
        fields, upload = form
        errors: list[dict[str, Any]] = []
        if not fields.get("name"):
            errors.append(_err("missing", ["body", "name"], "Field required", None))
        access = fields.get("workspace_access")
        if access is not None and access not in _WORKSPACE_ACCESS:
            errors.append(_err("enum", ["body", "workspace_access"], _enum_msg(_WORKSPACE_ACCESS),
                               access))
        if errors:
            self._send_422(errors)
            return
        rules: list[dict[str, Any]] = []
        if upload is not None:
            try:
                rules = _pls_rules(upload[2])
            except Exception as exc:
                self._send_error_detail(400, "invalid_pls_file",
                                        f"The file is not a valid PLS lexicon: {exc}")
                return
        self._create_dictionary(fields["name"], fields.get("description"), access, rules)

    def _json_body(self, body: Any, json_error: str | None, required: Sequence[str]
                   ) -> dict[str, Any] | None:
        errors: list[dict[str, Any]] = []
        if json_error is not None:
            errors.append(_err("json_invalid", ["body", 0], "JSON decode error", {},
                               {"error": json_error}))
        elif not isinstance(body, dict):
            errors.append(_err("missing", ["body"], "Field required", None))
        else:
            errors.extend(_err("missing", ["body", name], "Field required", body)
                          for name in required if name not in body)
        if errors:
            self._send_422(errors)
            return None
        return body

    def _add_from_rules(self, body: Any, json_error: str | None) -> None:
        data = self._json_body(body, json_error, ("rules", "name"))
        if data is None:
            return
        errors = _validate_rules(data["rules"], ["body", "rules"])
        if not isinstance(data["name"], str) or not data["name"]:
            errors.append(_err("string_type", ["body", "name"], "Input should be a valid string",
                               data["name"]))
        access = data.get("workspace_access")
        if access is not None and access not in _WORKSPACE_ACCESS:
            errors.append(_err("enum", ["body", "workspace_access"], _enum_msg(_WORKSPACE_ACCESS),
                               access))
        if errors:
            self._send_422(errors)
            return
        self._create_dictionary(data["name"], data.get("description"), access,
                                [_clean_rule(r) for r in data["rules"]])

    def _change_rules(self, dictionary_id: str, action: str, body: Any,
                      json_error: str | None) -> None:
        key = "rule_strings" if action == "remove-rules" else "rules"
        data = self._json_body(body, json_error, (key,))
        if data is None:
            return
        if key == "rules":
            errors = _validate_rules(data["rules"], ["body", "rules"])
        elif not isinstance(data[key], list) or not all(isinstance(x, str) for x in data[key]):
            errors = [_err("list_type", ["body", key], "Input should be a valid list of strings",
                           data[key])]
        else:
            errors = []
        if errors:
            self._send_422(errors)
            return
        d = self._dictionary_or_404(dictionary_id)
        if d is None:
            return
        with self.fake._lock:
            rules = deepcopy(d["versions"][d["latest_version_id"]])
        if action == "remove-rules":
            gone = set(data[key])
            rules = [r for r in rules if r["string_to_replace"] not in gone]
        elif action == "set-rules":
            rules = [_clean_rule(r) for r in data["rules"]]
        else:  # add-rules: a rule for an existing string replaces it in place
            for new in (_clean_rule(r) for r in data["rules"]):
                at = next((i for i, r in enumerate(rules)
                           if r["string_to_replace"] == new["string_to_replace"]), None)
                if at is None:
                    rules.append(new)
                else:
                    rules[at] = new
        version_id = self.fake._new_version(d, rules)
        self._send_json(200, {"id": d["id"], "version_id": version_id,
                              "version_rules_num": len(rules)})

    def _get_dictionary(self, dictionary_id: str) -> None:
        d = self._dictionary_or_404(dictionary_id)
        if d is not None:
            meta = self._dictionary_meta(d)
            meta["rules"] = self.fake.dictionary_rules(dictionary_id)  # SDK-newer
            self._send_json(200, meta)

    def _patch_dictionary(self, dictionary_id: str, body: Any, json_error: str | None) -> None:
        data = self._json_body(body, json_error, ())
        if data is None:
            return
        d = self._dictionary_or_404(dictionary_id)
        if d is None:
            return
        with self.fake._lock:
            if isinstance(data.get("name"), str) and data["name"]:
                d["name"] = data["name"]
            if data.get("archived") is not None:
                d["archived_time_unix"] = int(time.time()) if _json_bool(
                    data["archived"]) else None
        self._send_json(200, self._dictionary_meta(d))

    def _download_dictionary(self, dictionary_id: str, version_id: str) -> None:
        d = self._dictionary_or_404(dictionary_id)
        if d is None:
            return
        with self.fake._lock:
            rules = d["versions"].get(version_id)
        if rules is None:
            self._send_error_detail(
                404, "pronunciation_dictionary_version_not_found",
                f"Version {version_id} of the pronunciation dictionary {dictionary_id} was not "
                "found.")
            return
        self._send(200, [("content-type", "application/xml")], [_pls_bytes(rules)],
                   chunked=False, delay=0.0)

    def _list_dictionaries(self) -> None:
        errors: list[dict[str, Any]] = []
        raw_size = self._q("page_size") or "30"
        size = int(raw_size) if raw_size.isdigit() else -1
        if not 1 <= size <= 100:
            errors.append(_err("less_than_equal", ["query", "page_size"],
                               "Input should be between 1 and 100", raw_size))
        include_archived = self._bool_query("include_archived", errors)
        sort = self._q("sort")
        sorts = ("creation_time_unix", "created_at_unix", "name")
        if sort is not None and sort not in sorts:
            errors.append(_err("enum", ["query", "sort"], _enum_msg(sorts), sort))
        direction = self._q("sort_direction") or "descending"
        if direction not in ("ascending", "descending"):
            errors.append(_err("enum", ["query", "sort_direction"],
                               _enum_msg(("ascending", "descending")), direction))
        if errors:
            self._send_422(errors)
            return
        with self.fake._lock:
            items = [d for d in self.fake.dictionaries.values()
                     if include_archived or d["archived_time_unix"] is None]
        if sort == "name":
            items.sort(key=lambda d: d["name"], reverse=direction == "descending")
        elif direction == "ascending":
            pass  # insertion order is creation order
        else:
            items.reverse()
        cursor = self._q("cursor")
        start = int(cursor) if cursor and cursor.isdigit() else 0
        page = items[start:start + size]
        more = start + size < len(items)
        self._send_json(200, {"pronunciation_dictionaries": [self._dictionary_meta(d)
                                                             for d in page],
                              "next_cursor": str(start + size) if more else None,
                              "has_more": more})

    # -- Text to Dialogue (§7)

    def _dialogue(self, endpoint: str, body: Any, raw: bytes, json_error: str | None) -> None:
        """Text to Dialogue: v3 only, no stitching fields, at most 10 distinct voices
        (§19 #10; 422, inferred), text up to the model's limit; dictionary rules apply."""
        fake = self.fake
        streaming = endpoint.startswith("stream")
        errors: list[dict[str, Any]] = []
        allowed = STREAM_OUTPUT_FORMATS if streaming else OUTPUT_FORMATS
        fmt = self._q("output_format") or DEFAULT_OUTPUT_FORMAT
        if fmt not in allowed:
            errors.append(_err("enum", ["query", "output_format"], _enum_msg(allowed), fmt))
        logging_flag = self._bool_query("enable_logging", errors)
        enable_logging = True if logging_flag is None else logging_flag
        if json_error is not None:
            errors.append(_err("json_invalid", ["body", 0], "JSON decode error", {},
                               {"error": json_error}))
        elif not raw or not isinstance(body, dict):
            errors.append(_err("missing", ["body"], "Field required", None))
        else:
            inputs = body.get("inputs")
            if inputs is None:
                errors.append(_err("missing", ["body", "inputs"], "Field required", body))
            elif not isinstance(inputs, list) or not inputs:
                errors.append(_err("list_type", ["body", "inputs"],
                                   "Input should be a non-empty list", inputs))
            else:
                for i, item in enumerate(inputs):
                    for name in ("text", "voice_id"):
                        v = item.get(name) if isinstance(item, dict) else None
                        if not isinstance(v, str) or not v:
                            errors.append(_err("missing" if v is None else "string_type",
                                               ["body", "inputs", i, name], "Field required"
                                               if v is None else "Input should be a valid "
                                               "non-empty string", item))
                if not errors:
                    voices = {item["voice_id"] for item in inputs}
                    if len(voices) > 10:
                        errors.append(_err("value_error", ["body", "inputs"],
                                           "Value error, at most 10 distinct voice ids per "
                                           f"request, not {len(voices)}", len(voices)))
            settings = body.get("settings")
            if settings is not None:
                st = settings.get("stability") if isinstance(settings, dict) else "x"
                if st is not None and (not _is_number(st) or not 0 <= st <= 1):
                    errors.append(_err("float_type", ["body", "settings", "stability"],
                                       "Input should be a number between 0 and 1", st))
            probe = {k: body[k] for k in ("pronunciation_dictionary_locators", "seed",
                                          "apply_text_normalization", "model_id",
                                          "language_code") if k in body}
            errors.extend(_validate_tts_body({"text": "x", **probe}))
        if errors:
            self._send_422(errors)
            return
        assert isinstance(body, dict)
        pairs = [(str(i["text"]), str(i["voice_id"])) for i in body["inputs"]]
        for _, voice_id in pairs:
            if self._voice_or_error(voice_id) is None:
                return
        model_id = body.get("model_id") or "eleven_v3"
        model = fake._find_model(model_id)
        if model is None:
            self._send_error_detail(400, "model_not_found",
                                    f"A model with model ID {model_id} does not exist.")
            return
        if not model_id.startswith("eleven_v3"):
            self._send_error_detail(400, "model_can_not_do_text_to_dialogue",
                                    f"The model {model_id} cannot be used for text to dialogue; "
                                    "use eleven_v3.")
            return
        rules = self._locator_rules(body)
        if rules is None:
            return
        text = " ".join(t for t, _ in pairs)
        limit = int(model["maximum_text_length_per_request"])
        if len(text) > limit:
            self._send_error_detail(
                400, "max_character_limit_exceeded",
                f"This request's text has {len(text)} characters and exceeds the character "
                f"limit of {limit} characters.")
            return
        if self._injected_failure():
            return
        cost = math.ceil(len(text) * float(model["model_rates"]["character_cost_multiplier"])
                         - 1e-9)
        admitted = self._admit(cost)
        if admitted is None:
            return
        current, release = admitted
        try:
            self._speak_dialogue(endpoint, body, pairs, text, rules, fmt, model_id, cost,
                                 enable_logging, current, release)
        finally:
            release()

    def _speak_dialogue(self, endpoint: str, body: dict[str, Any], pairs: list[tuple[str, str]],
                        text: str, rules: Sequence[dict[str, Any]], fmt: str, model_id: str,
                        cost: int, enable_logging: bool, current: int,
                        release: Callable[[], None]) -> None:
        fake = self.fake
        t0 = time.monotonic()
        slot_s = fake.ms_per_char / 1000.0
        speech = _Speech.of(text, rules, model_id, slot_s)
        with fake._lock:
            request_id = _new_id(fake._rng)
            history_id = _new_id(fake._rng) if enable_logging else None
        gen = Generation(
            request_id=request_id, endpoint=f"dialogue/{endpoint}", voice_id=pairs[0][1],
            model_id=model_id, text=text, output_format=fmt, previous_request_ids=None,
            next_request_ids=None, previous_text=None, next_text=None, voice_settings=None,
            enable_logging=enable_logging, cost=cost, duration_s=speech.duration_s,
            history_item_id=history_id, body=body, started=t0, spoken_text=speech.spoken,
            pronunciation=speech.applied, inputs=pairs)
        self._rec.request_id = request_id
        with fake._lock:
            fake._generations[request_id] = gen
        audio = _render_audio(fmt, bytes(1 if ch.isalnum() else 0 for ch in speech.spoken),
                              slot_s)
        segments: list[dict[str, Any]] = []
        at = 0
        for n, (t, voice_id) in enumerate(pairs):
            start = speech.alignment(at, at + 1, 0.0)
            end = speech.alignment(at + len(t) - 1, at + len(t), 0.0)
            assert start is not None and end is not None
            segments.append({"voice_id": voice_id,
                             "start_time_seconds": start["character_start_times_seconds"][0],
                             "end_time_seconds": end["character_end_times_seconds"][0],
                             "character_start_index": at, "character_end_index": at + len(t),
                             "dialogue_input_index": n})
            at += len(t) + 1
        headers = _speech_headers(fake, request_id, cost, current, history_id)
        if endpoint in ("convert", "stream"):
            headers.insert(0, ("content-type", _content_type(fmt)))
            pieces = _audio_pieces(fake, audio, endpoint)
        elif endpoint == "with-timestamps":
            headers.insert(0, ("content-type", "application/json"))
            doc = {"audio_base64": base64.b64encode(audio).decode("ascii"),
                   "alignment": speech.alignment(0, len(text), 0.0),
                   "normalized_alignment": speech.normalized(0, len(text), 0.0),
                   "voice_segments": segments}
            pieces = [json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()]
        else:  # one line per input, each with its segment
            headers.insert(0, ("content-type", "application/json"))
            pieces = []
            duration = max(speech.duration_s, 1e-9)
            for seg in segments:
                a = round(seg["start_time_seconds"] / duration * len(audio))
                b = round(seg["end_time_seconds"] / duration * len(audio))
                i, j = seg["character_start_index"], seg["character_end_index"]
                doc = {"audio_base64": base64.b64encode(audio[a:b]).decode("ascii"),
                       "alignment": speech.alignment(i, j, 0.0),
                       "normalized_alignment": speech.normalized(i, j, 0.0),
                       "voice_segments": [seg]}
                pieces.append(json.dumps(doc, separators=(",", ":")).encode() + b"\n")
        fake._sleep(fake.latency_base_s + fake.latency_per_char_s * len(text)
                    - (time.monotonic() - t0))

        def on_final() -> None:
            release()
            with fake._lock:
                gen.finished = time.monotonic()

        self._send(200, headers, pieces, chunked=endpoint.startswith("stream"),
                   delay=fake.chunk_delay_s if endpoint.startswith("stream") else 0.0,
                   on_final=on_final)

    # -- voices (§8)

    def _voice_or_error(self, voice_id: str) -> dict[str, Any] | None:
        voice = self.fake._find_voice(voice_id)
        if voice is None:
            self._send_error_detail(self.fake.voice_not_found_status, "voice_not_found",
                                    f"A voice with the voice_id {voice_id} was not found.")
        return voice

    def _bool_query(self, name: str, errors: list[dict[str, Any]]) -> bool | None:
        raw = self._q(name)
        if raw is None:
            return None
        value = _parse_bool(raw)
        if value is None:
            errors.append(_err("bool_parsing", ["query", name],
                               "Input should be a valid boolean, unable to interpret input", raw))
        return value

    def _list_voices_v1(self) -> None:
        errors: list[dict[str, Any]] = []
        self._bool_query("show_legacy", errors)
        if errors:
            self._send_422(errors)
            return
        self._send_json(200, {"voices": deepcopy(self.fake.voices)})

    def _list_voices_v2(self) -> None:
        errors: list[dict[str, Any]] = []
        raw_size = self._q("page_size")
        page_size = 10
        if raw_size is not None:
            if not re.fullmatch(r"-?\d+", raw_size.strip()):
                errors.append(_err("int_parsing", ["query", "page_size"],
                                   "Input should be a valid integer, unable to parse string as an "
                                   "integer", raw_size))
            else:
                page_size = int(raw_size)
                if page_size > 100:
                    errors.append(_err("less_than_equal", ["query", "page_size"],
                                       "Input should be less than or equal to 100", raw_size,
                                       {"le": 100}))
                elif page_size < 1:
                    errors.append(_err("greater_than_equal", ["query", "page_size"],
                                       "Input should be greater than or equal to 1", raw_size,
                                       {"ge": 1}))
        enums = {
            "voice_type": ("personal", "community", "default", "workspace", "non-default",
                           "non-community", "saved"),
            "category": ("premade", "cloned", "generated", "professional"),
            "sort": ("created_at_unix", "name"),
            "sort_direction": ("asc", "desc"),
        }
        chosen: dict[str, str | None] = {}
        for name, values in enums.items():
            v = self._q(name)
            if v is not None and v not in values:
                errors.append(_err("enum", ["query", name], _enum_msg(values), v))
            chosen[name] = v
        self._bool_query("include_total_count", errors)
        offset = 0
        token = self._q("next_page_token")
        if token:
            try:
                offset = int(base64.urlsafe_b64decode(token.encode()).decode().split(":", 1)[1])
            except (ValueError, IndexError, binascii.Error, UnicodeDecodeError):
                errors.append(_err("value_error", ["query", "next_page_token"],
                                   "Value error, invalid page token", token))
        if errors:
            self._send_422(errors)
            return
        voices = list(self.fake.voices)
        search = (self._q("search") or "").strip().lower()
        if search:
            def hay(v: dict[str, Any]) -> str:
                labels = v.get("labels") or {}
                return " ".join([str(v.get("name") or ""), str(v.get("description") or ""),
                                 str(v.get("category") or ""), *map(str, labels.values())]).lower()
            voices = [v for v in voices if search in hay(v)]
        vt = chosen["voice_type"]
        if vt == "default":
            voices = [v for v in voices if v.get("category") == "premade"]
        elif vt == "non-default":
            voices = [v for v in voices if v.get("category") != "premade"]
        elif vt in ("personal", "workspace"):
            voices = [v for v in voices if v.get("is_owner")]
        elif vt == "community":
            voices = [v for v in voices if v.get("category") in ("professional", "famous")
                      and not v.get("is_owner") and v.get("category") != "premade"]
        if chosen["category"]:
            voices = [v for v in voices if v.get("category") == chosen["category"]]
        if chosen["sort"]:
            key = chosen["sort"]
            desc = chosen["sort_direction"] == "desc"
            present = [v for v in voices if v.get(key) is not None]
            missing = [v for v in voices if v.get(key) is None]
            present.sort(key=lambda v: (str(v[key]).lower() if key == "name" else v[key]),
                         reverse=desc)
            voices = present + missing
        page = voices[offset:offset + page_size]
        has_more = offset + page_size < len(voices)
        next_token = (base64.urlsafe_b64encode(f"offset:{offset + page_size}".encode()).decode()
                      if has_more else None)
        self._send_json(200, {"voices": deepcopy(page), "has_more": has_more,
                              "total_count": len(voices), "next_page_token": next_token})

    def _default_settings(self) -> None:
        self._send_json(200, dict(DEFAULT_VOICE_SETTINGS))

    def _voice_settings(self, voice_id: str) -> None:
        voice = self._voice_or_error(voice_id)
        if voice is not None:
            settings = dict(DEFAULT_VOICE_SETTINGS)
            settings.update(voice.get("settings") or {})
            self._send_json(200, settings)

    def _get_voice(self, voice_id: str) -> None:
        errors: list[dict[str, Any]] = []
        self._bool_query("with_settings", errors)
        if errors:
            self._send_422(errors)
            return
        voice = self._voice_or_error(voice_id)
        if voice is not None:
            self._send_json(200, deepcopy(voice))

    def _preview(self, voice_id: str) -> None:
        if self.fake._find_voice(voice_id) is None:
            self._send_json(404, {"detail": "Not Found"})
            return
        text = "Hello, this is a preview of my voice."
        audio = _render_audio("mp3_44100_128", bytes(1 if c.isalnum() else 0 for c in text),
                              self.fake.ms_per_char / 1000.0)
        self._send(200, [("content-type", "audio/mpeg")], [audio], chunked=False, delay=0.0,
                   faults=False)

    # -- models, user (§17)

    def _models(self) -> None:
        self._send_json(200, deepcopy(self.fake.models))

    def _get_subscription(self) -> None:
        self._send_json(200, self.fake._subscription())

    def _get_user(self) -> None:
        sub = self.fake._subscription()
        for k in ("next_invoice", "open_invoices", "has_open_invoices"):
            sub.pop(k, None)
        key = self.headers.get("xi-api-key") or ""
        self._send_json(200, {
            "user_id": "fakeUser0000000000000000001",
            "subscription": sub,
            "is_new_user": False,
            "xi_api_key": None,
            "is_api_key_hashed": True,
            "xi_api_key_preview": (key[:2] + "*" * max(0, len(key) - 4) + key[-2:])
            if len(key) > 4 else "****",
            "can_use_delayed_payment_methods": False,
            "is_onboarding_completed": True,
            "is_onboarding_checklist_completed": True,
            "first_name": "Test",
            "created_at": 1_700_000_000,
            "seat_type": "workspace_admin",
        })

    # -- Speech to Text (§10) and forced alignment (§11)

    def _form(self, raw: bytes) -> tuple[dict[str, str], tuple[str, str, bytes] | None] | None:
        """Parse a multipart body; answer 422 (and return None) when it is not one."""
        fields, upload = _parse_multipart(self.headers.get("Content-Type", ""), raw)
        if fields is None:
            self._send_422([_err("model_attributes_type", ["body"],
                                 "Input should be a valid dictionary or object to extract "
                                 "fields from", None)])
            return None
        self._rec.json = {"form": dict(fields),
                          "file": None if upload is None else {
                              "filename": upload[0], "content_type": upload[1],
                              "size": len(upload[2])}}
        return fields, upload

    def _media_facts(self, data: bytes) -> tuple[float, int]:
        """Duration and channels of an upload: read WAV/FLAC/OGG/MP3, else 16 kB per second."""
        try:
            info = sf.info(io.BytesIO(data))
            if info.frames > 0:
                return info.frames / info.samplerate, info.channels
        except Exception:
            pass
        return max(0.5, len(data) / 16000), 1

    def _heard_text(self, data: bytes) -> str:
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        return self.fake.stt_texts.get(digest, self.fake.stt_fixture_text)

    def _upload_limits(self, upload: tuple[str, str, bytes]) -> tuple[float, int] | None:
        fake = self.fake
        data = upload[2]
        if len(data) > fake.stt_max_bytes:
            self._send_error_detail(400, "file_too_large",
                                    f"File size exceeds the limit of {fake.stt_max_bytes} bytes.")
            return None
        seconds, channels = self._media_facts(data)
        if seconds > fake.stt_max_seconds:
            self._send_error_detail(400, "audio_too_long",
                                    f"Audio duration exceeds the limit of "
                                    f"{fake.stt_max_seconds:g} seconds.")
            return None
        return seconds, channels

    def _speech_to_text(self, raw: bytes) -> None:
        parsed = self._form(raw)
        if parsed is None:
            return
        fields, upload = parsed
        errors: list[dict[str, Any]] = []
        model_id = fields.get("model_id")
        models = ("scribe_v1", "scribe_v1_experimental", "scribe_v2")
        if model_id is None:
            errors.append(_err("missing", ["body", "model_id"], "Field required", None))
        elif model_id not in models:
            errors.append(_err("enum", ["body", "model_id"], _enum_msg(models), model_id))
        if upload is None and not fields.get("cloud_storage_url") and not fields.get(
                "source_url"):
            errors.append(_err("missing", ["body", "file"], "Field required", None))
        flags: dict[str, bool] = {}
        for name, default in (("diarize", False), ("tag_audio_events", True),
                              ("use_multi_channel", False), ("webhook", False)):
            value = fields.get(name)
            parsed_bool = default if value is None else _parse_bool(value)
            if parsed_bool is None:
                errors.append(_err("bool_parsing", ["body", name],
                                   "Input should be a valid boolean", value))
                parsed_bool = default
            flags[name] = parsed_bool
        granularity = fields.get("timestamps_granularity", "word")
        if granularity not in ("none", "word", "character"):
            errors.append(_err("enum", ["body", "timestamps_granularity"],
                               _enum_msg(["none", "word", "character"]), granularity))
        num_speakers: int | None = None
        if fields.get("num_speakers") not in (None, ""):
            try:
                num_speakers = int(fields["num_speakers"])
                if not 1 <= num_speakers <= 32:
                    errors.append(_err("less_than_equal", ["body", "num_speakers"],
                                       "Input should be less than or equal to 32",
                                       num_speakers, {"le": 32}))
            except ValueError:
                errors.append(_err("int_parsing", ["body", "num_speakers"],
                                   "Input should be a valid integer", fields["num_speakers"]))
        if flags["use_multi_channel"] and (flags["diarize"] or num_speakers is not None):
            errors.append(_err("value_error", ["body", "use_multi_channel"],
                               "Value error, multichannel mode requires diarize=false and no "
                               "num_speakers", fields.get("use_multi_channel")))
        if errors:
            self._send_422(errors)
            return
        if upload is None:  # URL sources are not fetched by the fake
            self._send_error_detail(400, "invalid_source_url",
                                    "The fake server does not fetch URLs.")
            return
        facts = self._upload_limits(upload)
        if facts is None:
            return
        seconds, channels = facts
        if flags["use_multi_channel"] and channels > 5:
            self._send_error_detail(400, "too_many_channels",
                                    f"Multichannel audio supports at most 5 channels, got "
                                    f"{channels}.")
            return
        text = self._heard_text(upload[2])
        language = fields.get("language_code") or "en"
        if flags["use_multi_channel"] and channels > 1:
            transcripts = []
            for ch in range(channels):
                doc = _stt_doc(text, seconds, language, granularity, flags["diarize"], 1,
                               flags["tag_audio_events"], channel=ch, offset=ch * 0.05)
                transcripts.append(doc)
            self._send_json(200, {"transcripts": transcripts,
                                  "transcription_id": _new_id(self.fake._rng),
                                  "audio_duration_secs": seconds})
            return
        doc = _stt_doc(text, seconds, language, granularity, flags["diarize"],
                       num_speakers or 2, flags["tag_audio_events"])
        doc["transcription_id"] = _new_id(self.fake._rng)
        doc["audio_duration_secs"] = seconds
        self._send_json(200, doc)

    def _forced_alignment(self, raw: bytes) -> None:
        parsed = self._form(raw)
        if parsed is None:
            return
        fields, upload = parsed
        errors: list[dict[str, Any]] = []
        if upload is None:
            errors.append(_err("missing", ["body", "file"], "Field required", None))
        text = fields.get("text")
        if text is None:
            errors.append(_err("missing", ["body", "text"], "Field required", None))
        elif not text.strip():
            errors.append(_err("string_too_short", ["body", "text"],
                               "String should have at least 1 character", text,
                               {"min_length": 1}))
        elif len(text) > 675_000:
            errors.append(_err("string_too_long", ["body", "text"],
                               "String should have at most 675000 characters", text[:20],
                               {"max_length": 675_000}))
        if errors:
            self._send_422(errors)
            return
        assert upload is not None and text is not None
        facts = self._upload_limits(upload)
        if facts is None:
            return
        seconds = facts[0]
        # §11 fake: words split on whitespace, times spread evenly; characters include spaces.
        slot = seconds / max(1, len(text))
        chars = [{"text": c, "start": round(i * slot, 3), "end": round((i + 1) * slot, 3)}
                 for i, c in enumerate(text)]
        words = [{"text": m.group(), "start": round(m.start() * slot, 3),
                  "end": round(m.end() * slot, 3), "loss": 0.1}
                 for m in re.finditer(r"\S+", text)]
        self._send_json(200, {"characters": chars, "words": words, "loss": 0.1})


def _alignment(text: str, slot_s: float, a: int, b: int, offset: float) -> dict[str, Any] | None:
    """Alignment of characters ``text[a:b]``; times from the start (minus ``offset``)."""
    if a >= b:
        return None
    return {
        "characters": list(text[a:b]),
        "character_start_times_seconds": [round(i * slot_s - offset, 6) for i in range(a, b)],
        "character_end_times_seconds": [round((i + 1) * slot_s - offset, 6)
                                        for i in range(a, b)],
    }


def is_fake_id(value: str) -> bool:
    """True for a 20-character ``[A-Za-z0-9]`` id (request ids, history ids, voice ids)."""
    return bool(_ID_RE.fullmatch(value))


# --------------------------------------------------------------------------- pytest fixtures


@pytest.fixture
def fake_eleven() -> Iterator[FakeElevenLabs]:
    """A started fake with default settings; stopped at teardown."""
    fake = FakeElevenLabs().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_eleven_factory() -> Iterator[Callable[..., FakeElevenLabs]]:
    """``make(**options)`` -> a started, configured fake; all are stopped at teardown."""
    made: list[FakeElevenLabs] = []

    def make(**options: Any) -> FakeElevenLabs:
        fake = FakeElevenLabs(**options).start()
        made.append(fake)
        return fake

    try:
        yield make
    finally:
        for fake in made:
            fake.stop()
