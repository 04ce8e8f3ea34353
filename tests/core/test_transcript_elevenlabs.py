"""ElevenLabs Speech to Text and Forced Alignment against the local fake (127.0.0.1 only)."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.core.engines import AuthError, RateLimited, RequestInvalid
from studio.core.transcript.align import align_words
from studio.core.transcript.elevenlabs import (
    ElevenLabsAligner,
    ElevenLabsSpeech,
    TranscriptionOptions,
)
from studio.core.transcript.model import WordType, check_transcript, set_segment_text


def _wav(path: Path, seconds: float = 3.0, channels: int = 1) -> Path:
    rate = 16000
    t = np.arange(int(seconds * rate)) / rate
    tone = (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    sf.write(path, np.tile(tone[:, None], (1, channels)), rate, subtype="PCM_16")
    return path


def _client(fake, **kw) -> ElevenLabsSpeech:
    return ElevenLabsSpeech("test-key", fake.base_url, sleep=lambda s: None, **kw)


def test_transcribe_uploads_multipart_and_builds_speakers(fake_eleven, tmp_path) -> None:
    media = _wav(tmp_path / "talk.wav")
    fake_eleven.stt_texts[hashlib.sha256(media.read_bytes()).hexdigest()] = (
        "Hello there. (laughter) How are you today? Fine, thanks.")
    with _client(fake_eleven) as client:
        t = client.transcribe(media, TranscriptionOptions(diarize=True, num_speakers=2,
                                                          language="en"))
    form = fake_eleven.requests[-1].json
    assert form["form"]["model_id"] == "scribe_v1" and form["form"]["diarize"] == "true"
    assert form["form"]["num_speakers"] == "2" and form["form"]["language_code"] == "en"
    assert form["file"] == {"filename": "talk.wav", "content_type": "audio/x-wav",
                            "size": media.stat().st_size}
    assert [s.name for s in t.speakers] == ["Speaker 1", "Speaker 2"]
    assert t.segments[0].text.startswith("Hello there.")
    assert any(w.type is WordType.AUDIO_EVENT for w in t.words())
    assert t.duration == pytest.approx(3.0) and check_transcript(t) == []


def test_multichannel_rules_and_result(fake_eleven, tmp_path) -> None:
    stereo = _wav(tmp_path / "two.wav", channels=2)
    with _client(fake_eleven) as client:
        t = client.transcribe(stereo, TranscriptionOptions(multichannel=True))
        assert len(t.speakers) == 2
        assert fake_eleven.requests[-1].json["form"]["use_multi_channel"] == "true"
        count = len(fake_eleven.requests)
        with pytest.raises(RequestInvalid, match="diarisation off"):
            client.transcribe(stereo, TranscriptionOptions(multichannel=True, diarize=True))
        with pytest.raises(RequestInvalid, match="no number of speakers"):
            client.transcribe(stereo, TranscriptionOptions(multichannel=True, num_speakers=2))
        six = _wav(tmp_path / "six.wav", channels=6)
        with pytest.raises(RequestInvalid, match=r"6 channels.*at most 5"):
            client.transcribe(six, TranscriptionOptions(multichannel=True))
        with pytest.raises(RequestInvalid, match="1 to 32"):
            client.transcribe(stereo, TranscriptionOptions(num_speakers=33))
        assert len(fake_eleven.requests) == count  # refused before anything was uploaded


def test_limits_are_checked_before_upload_and_by_the_server(fake_eleven_factory,
                                                            tmp_path) -> None:
    fake = fake_eleven_factory(stt_max_seconds=2.0)
    media = _wav(tmp_path / "long.wav", seconds=3.0)
    with _client(fake) as client:
        client.max_seconds = 2.5
        with pytest.raises(RequestInvalid, match=r"long\.wav: 0 h 00 min is longer"):
            client.transcribe(media)
        client.max_bytes = 1000
        client.max_seconds = 100.0
        with pytest.raises(RequestInvalid, match=r"over ElevenLabs' .* upload limit"):
            client.transcribe(media)
        assert not fake.requests
        client.max_bytes = 10**9
        with pytest.raises(RequestInvalid, match=r"audio_too_long|exceeds"):
            client.transcribe(media)  # the server's own limit answers 400


def test_errors_401_422_429_and_5xx(fake_eleven, tmp_path) -> None:
    media = _wav(tmp_path / "a.wav")
    with ElevenLabsSpeech("wrong-key", fake_eleven.base_url) as client, pytest.raises(
            AuthError) as caught:
        client.transcribe(media)
    assert "wrong-key" not in str(caught.value)
    with _client(fake_eleven, max_retries=2) as client:
        fake_eleven.fail_next(2, 503, path_contains="/v1/speech-to-text")
        assert client.transcribe(media).segments  # retried
        fake_eleven.fail_next(3, 429, path_contains="/v1/speech-to-text")
        with pytest.raises(RateLimited, match="gave up after 3 attempts"):
            client.transcribe(media)
        with pytest.raises(RequestInvalid, match="Unknown transcription model"):
            client.transcribe(media, TranscriptionOptions(model_id="whisper"))
    # A 422 from the server itself (the client's own checks bypassed).
    with _client(fake_eleven) as client, pytest.raises(RequestInvalid, match="text"):
        client._post("/v1/forced-alignment", {}, client._file(media))


def test_forced_alignment_and_align_words(fake_eleven, tmp_path) -> None:
    media = _wav(tmp_path / "a.wav", seconds=4.0)
    with _client(fake_eleven) as client:
        words = client.align(media, "One two,  three — four")
        assert [w.text for w in words] == ["One", "two,", "three", "—", "four"]
        assert all(a.start <= b.start for a, b in itertools.pairwise(words))
        assert fake_eleven.requests[-1].json["form"]["text"] == "One two,  three — four"
        with pytest.raises(RequestInvalid, match="675,000"):
            client.align(media, "x" * 675_001)
        t = client.transcribe(media)
        seg = t.segments[-1]
        set_segment_text(t, seg.id, seg.text + " extra")
        aligner = ElevenLabsAligner(client, media)
        try:
            changes = align_words(t, None, aligner)
        finally:
            aligner.close()
    assert changes.segments == {seg.id} and not seg.words_stale
    assert seg.words[-1].text == "extra" and seg.start <= seg.words[0].start
    assert fake_eleven.requests[-1].json["file"]["filename"] == "span.wav"
