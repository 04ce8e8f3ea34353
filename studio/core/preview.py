"""Short voice previews: what to say, and the audio to play (called off the GUI thread).

An engine voice is previewed with its ``preview_url`` when ElevenLabs gives one (a public MP3:
fetched without the API key, costs nothing), else with a short synthesis of a sample sentence.
A project voice is previewed with its own settings, speaking the first sentence of the
selected paragraph (or the sample sentence). Every function blocks; the UI runs them on a
worker thread.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import numpy as np
import numpy.typing as npt

from studio.core import audio as audiolib
from studio.core.engines import Engine, EngineError, EngineVoice, SpeechRequest, VoiceParams
from studio.core.model import PronunciationRule, Voice, speakable_text
from studio.core.settings import AppSettings

SAMPLE_SENTENCE = "A famished fox saw some clusters of ripe black grapes hanging from a vine."
MAX_PREVIEW_CHARACTERS = 200  # a preview costs credits with ElevenLabs: keep it short
MAX_DOWNLOAD_BYTES = 8 * 1024 * 1024
PREVIEW_FORMAT = "mp3_44100_128"  # what preview URLs and quick previews are served as

_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*(?=\s|$)")


@dataclass(frozen=True, slots=True)
class PreviewAudio:
    """Decoded preview audio: float32 mono samples at ``rate``, and where it came from."""

    samples: npt.NDArray[np.float32]
    rate: int
    source: str  # "preview_url", "elevenlabs" or "offline"

    @property
    def duration(self) -> float:
        """Return the length in seconds."""
        return len(self.samples) / self.rate if self.rate else 0.0


def preview_text(paragraph: str | None = None) -> str:
    """Return the first sentence of ``paragraph`` (shortened if long), else the sample."""
    text = " ".join(speakable_text(paragraph or "").split())
    if not text:
        return SAMPLE_SENTENCE
    end = _SENTENCE_END.search(text)
    sentence = text[: end.end()] if end else text
    if len(sentence) > MAX_PREVIEW_CHARACTERS:
        cut = sentence.rfind(" ", 0, MAX_PREVIEW_CHARACTERS)
        sentence = sentence[: cut if cut > 0 else MAX_PREVIEW_CHARACTERS].rstrip(",;:") + "…"
    return sentence


def fetch_preview_url(url: str, *, transport: httpx.BaseTransport | None = None,
                      timeout: float = 20.0) -> bytes:
    """Download a voice's public preview MP3 (never with the API key).

    Raises:
        EngineError: the URL is not http(s), the download failed or is too large.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise EngineError("The voice's preview address is not a web address.")
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0), transport=transport,
                          follow_redirects=True) as client, client.stream("GET", url) as resp:
            if resp.status_code >= 400:
                raise EngineError(f"The voice's preview could not be fetched "
                                  f"(HTTP {resp.status_code}).")
            parts: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes(65536):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise EngineError("The voice's preview is too large to play.")
                parts.append(chunk)
            return b"".join(parts)
    except httpx.HTTPError as exc:
        raise EngineError(
            f"The voice's preview could not be fetched ({type(exc).__name__}); check your "
            "connection."
        ) from None


def _decode(data: bytes, fmt: str, source: str) -> PreviewAudio:
    samples, rate = audiolib.decode(data, fmt)
    return PreviewAudio(np.ascontiguousarray(samples, dtype=np.float32), rate, source)


def synthesize_preview(engine: Engine, voice_id: str, text: str, model_id: str,
                       params: VoiceParams | None = None) -> PreviewAudio:
    """Speak ``text`` with ``engine`` (ElevenLabs: its quick streaming endpoint)."""
    request = SpeechRequest(text=text, voice_id=voice_id, model_id=model_id,
                            params=params or VoiceParams(), output_format=PREVIEW_FORMAT)
    stream = getattr(engine, "stream_preview", None)
    if stream is not None:
        return _decode(b"".join(stream(request)), PREVIEW_FORMAT, engine.name)
    result = engine.synthesize(request)
    return _decode(result.audio, result.format, engine.name)


def _build(engine_name: str, settings: AppSettings) -> Engine:
    from studio.core.engines.select import build_engine

    return build_engine(engine_name, settings)


def _close(engine: Engine) -> None:
    close = getattr(engine, "close", None)
    if close is not None:
        close()


def engine_voice_preview(engine_name: str, voice: EngineVoice, settings: AppSettings,
                         text: str = SAMPLE_SENTENCE) -> PreviewAudio:
    """Return audio of ``voice`` as an engine offers it (its preview URL when there is one)."""
    if engine_name == "elevenlabs" and voice.preview_url:
        return _decode(fetch_preview_url(voice.preview_url), PREVIEW_FORMAT, "preview_url")
    engine = _build(engine_name, settings)
    try:
        return synthesize_preview(engine, voice.voice_id, text, settings.default_model)
    finally:
        _close(engine)


def project_voice_preview(voice: Voice, text: str, model_id: str,
                          settings: AppSettings) -> PreviewAudio:
    """Return ``text`` spoken by a project voice with its current settings and volume."""
    params = VoiceParams(stability=voice.stability, similarity=voice.similarity,
                         style=voice.style, speaker_boost=voice.speaker_boost, speed=voice.speed)
    engine = _build(voice.engine, settings)
    try:
        audio = synthesize_preview(engine, voice.engine_voice_id, text, model_id, params)
    finally:
        _close(engine)
    if voice.volume_db and math.isfinite(voice.volume_db):
        gain = np.float32(10 ** (voice.volume_db / 20))
        samples = np.clip(audio.samples * gain, -1.0, 1.0).astype(np.float32)
        audio = PreviewAudio(samples, audio.rate, audio.source)
    return audio


def rule_preview(rule: PronunciationRule, text: str, voice_id: str = "en-us") -> PreviewAudio:
    """Speak ``text`` offline with one pronunciation rule applied (a rule's test-speak).

    Offline, so trying a rule costs no credits; the offline engine honours both kinds of
    rule (aliases as text, phonemes as espeak phoneme input).
    """
    from studio.core.engines.offline import MODEL_ID, OfflineEngine

    result = OfflineEngine().synthesize(
        SpeechRequest(text=text, voice_id=voice_id, model_id=MODEL_ID, lexicon=(rule,)))
    return _decode(result.audio, result.format, "offline")
