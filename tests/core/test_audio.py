"""Audio helpers: decoding engine formats, encoding, and peak summaries (synthetic signals)."""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from mutagen.mp3 import MP3, BitrateMode, MPEGInfo

from studio.core import audio
from studio.core.audio import AudioFormatError
from studio.core.errors import StudioError
from studio.core.model import PeakSummary


def sine(seconds: float, rate: int, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    n = round(seconds * rate)
    return (amp * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.float32)


def mp3_info(data: bytes) -> Any:
    info = MP3(io.BytesIO(data)).info
    assert isinstance(info, MPEGInfo)
    return info


def on_int16_grid(x: np.ndarray) -> np.ndarray:
    """Quantise floats to values a 16-bit file can hold exactly."""
    return (np.round(x * 32768).clip(-32768, 32767) / 32768).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Format strings


@pytest.mark.parametrize(
    ("fmt", "rate"),
    [("pcm_22050", 22050), ("pcm_44100", 44100), ("wav_22050", 22050), ("mp3_44100_128", 44100),
     ("mp3_22050_32", 22050), ("ulaw_8000", 8000), ("alaw_8000", 8000), ("opus_48000_64", 48000),
     (" MP3_44100_192 ", 44100)],
)
def test_format_sample_rate(fmt: str, rate: int) -> None:
    assert audio.format_sample_rate(fmt) == rate


@pytest.mark.parametrize("fmt", ["", "mp3", "mp3_", "flac_44100", "pcm_abc", "pcm_44100_x",
                                 "pcm_0", "wav_99999999", "mp3_44100_128_1"])
def test_format_sample_rate_rejects_junk(fmt: str) -> None:
    with pytest.raises(AudioFormatError) as info:
        audio.format_sample_rate(fmt)
    assert isinstance(info.value, StudioError) and isinstance(info.value, ValueError)


def test_opus_is_refused_with_a_clear_message() -> None:
    with pytest.raises(AudioFormatError, match=r"Opus.*MP3, PCM or WAV"):
        audio.decode(b"\0" * 100, "opus_48000_64")
    with pytest.raises(AudioFormatError, match="Opus"):
        audio.duration(b"\0" * 100, "opus_48000_32")


# ---------------------------------------------------------------------------------------------
# PCM, WAV, MP3


def test_pcm_decodes_little_endian_int16() -> None:
    raw = np.array([0, 1, -1, 32767, -32768, 16384], dtype="<i2").tobytes()
    samples, rate = audio.decode(raw, "pcm_24000")
    assert rate == 24000
    assert samples.dtype == np.float32
    np.testing.assert_array_equal(
        samples, np.array([0, 1, -1, 32767, -32768, 16384], dtype=np.float32) / 32768
    )
    assert audio.duration(raw, "pcm_24000") == pytest.approx(6 / 24000)


def test_pcm_odd_length_is_refused() -> None:
    with pytest.raises(AudioFormatError, match="truncated"):
        audio.decode(b"\0\0\0", "pcm_22050")


def test_empty_pcm_is_empty() -> None:
    samples, rate = audio.decode(b"", "pcm_16000")
    assert len(samples) == 0 and rate == 16000


@pytest.mark.parametrize("n", [1, 1001, 22050, 22051])
def test_wav_round_trip_is_exact_on_the_int16_grid(n: int) -> None:
    x = on_int16_grid(np.random.default_rng(n).uniform(-1, 1, n))
    x[0] = -1.0
    wav = audio.encode_wav(x, 22050)
    assert wav[:4] == b"RIFF"
    info = sf.info(io.BytesIO(wav))
    assert (info.subtype, info.channels, info.samplerate) == ("PCM_16", 1, 22050)
    y, rate = audio.decode(wav, "wav_22050")
    assert rate == 22050
    np.testing.assert_array_equal(y, x)
    assert audio.duration(wav, "wav_22050") == pytest.approx(n / 22050)


def test_wav_int16_input_is_bit_exact() -> None:
    pcm = np.array([0, 1, -1, 32767, -32768, 12345], dtype=np.int16)
    y, _ = audio.decode(audio.encode_wav(pcm, 22050), "wav_22050")
    np.testing.assert_array_equal(np.round(y * 32768).astype(np.int16), pcm)


def test_encode_clips_out_of_range_and_non_finite_samples() -> None:
    x = np.array([2.0, -3.0, 1.0, -1.0, np.nan, np.inf, -np.inf], dtype=np.float32)
    y, _ = audio.decode(audio.encode_wav(x, 8000), "wav_8000")
    np.testing.assert_array_equal(y[:4], [32767 / 32768, -1.0, 32767 / 32768, -1.0])
    assert np.isfinite(y).all() and np.abs(y).max() <= 1.0


def test_wav_sample_rate_comes_from_the_file() -> None:
    wav = audio.encode_wav(sine(0.1, 16000), 16000)
    _, rate = audio.decode(wav, "wav_44100")
    assert rate == 16000


def test_stereo_is_mixed_to_mono() -> None:
    left = on_int16_grid(np.full(1000, 0.5, dtype=np.float32))
    right = on_int16_grid(np.full(1000, -0.25, dtype=np.float32))
    buffer = io.BytesIO()
    sf.write(buffer, np.stack([left, right], axis=1), 22050, format="WAV", subtype="PCM_16")
    y, _ = audio.decode(buffer.getvalue(), "wav_22050")
    assert y.shape == (1000,)
    np.testing.assert_allclose(y, 0.125, atol=1e-4)
    # Encoders mix (frames, channels) input down too.
    z, _ = audio.decode(audio.encode_wav(np.stack([left, right], axis=1), 22050), "wav_22050")
    np.testing.assert_allclose(z, 0.125, atol=1e-4)


def test_corrupt_container_raises_a_readable_error() -> None:
    for fmt in ("wav_22050", "mp3_44100_128"):
        with pytest.raises(AudioFormatError, match="could not be") as info:
            audio.decode(b"definitely not audio", fmt)
        assert "BytesIO" not in str(info.value)
        with pytest.raises(AudioFormatError):
            audio.duration(b"definitely not audio", fmt)


@pytest.mark.parametrize(("rate", "kbps"), [(44100, 128), (44100, 192), (44100, 64),
                                            (44100, 320), (48000, 128), (22050, 128),
                                            (22050, 64), (24000, 64), (16000, 40), (8000, 32)])
def test_mp3_round_trip(rate: int, kbps: int) -> None:
    x = sine(1.2345, rate, amp=0.5)
    mp3 = audio.encode_mp3(x, rate, kbps)
    assert mp3[:3] == b"ID3" or mp3[0] == 0xFF
    y, got_rate = audio.decode(mp3, f"mp3_{rate}_{kbps}")
    assert got_rate == rate
    frame = 1152 if rate >= 32000 else 576
    assert abs(len(y) - len(x)) <= frame
    seconds = audio.duration(mp3, f"mp3_{rate}_{kbps}")
    assert seconds == pytest.approx(len(x) / rate, abs=frame / rate)
    info = mp3_info(mp3)
    assert info.bitrate_mode == BitrateMode.CBR
    assert info.bitrate / 1000 == pytest.approx(kbps, rel=0.01)
    # The tone survives: same level, strongly correlated once the codec has settled.
    middle = slice(len(x) // 4, 3 * len(x) // 4)
    assert np.sqrt(np.mean(y[middle] ** 2)) == pytest.approx(0.5 / math.sqrt(2), rel=0.05)
    assert np.corrcoef(x[middle], y[middle])[0, 1] > 0.99


@pytest.mark.parametrize("rate", [44100, 22050, 8000])
def test_mp3_reaches_every_legal_bitrate(rate: int) -> None:
    legal = {44100: audio._MPEG1_KBPS, 22050: audio._MPEG2_KBPS, 8000: audio._MPEG25_KBPS}[rate]
    x = sine(0.5, rate)
    for kbps in legal:
        info = mp3_info(audio.encode_mp3(x, rate, kbps))
        assert round(info.bitrate / 1000) in (kbps, kbps - 1), kbps


def test_mp3_default_is_128_kbps_and_differs_from_192() -> None:
    x = sine(2.0, 44100)
    default = audio.encode_mp3(x, 44100)
    high = audio.encode_mp3(x, 44100, kbps=192)
    assert mp3_info(default).bitrate == pytest.approx(128_000, rel=0.01)
    assert len(high) / len(default) == pytest.approx(192 / 128, rel=0.05)


def test_mp3_refuses_impossible_rates_and_bitrates() -> None:
    with pytest.raises(AudioFormatError, match="Hz"):
        audio.encode_mp3(sine(0.1, 44100), 44123)
    with pytest.raises(AudioFormatError, match="cannot be 192 kbps"):
        audio.encode_mp3(sine(0.1, 22050), 22050, kbps=192)
    with pytest.raises(AudioFormatError, match="choose one of"):
        audio.encode_mp3(sine(0.1, 44100), 44100, kbps=100)


def test_silence_and_extremes_survive_mp3() -> None:
    silence = np.zeros(44100, dtype=np.float32)
    y, _ = audio.decode(audio.encode_mp3(silence, 44100), "mp3_44100_128")
    assert np.abs(y).max() < 1e-3
    square = np.where(np.arange(44100) // 50 % 2, 1.0, -1.0).astype(np.float32)
    y, _ = audio.decode(audio.encode_mp3(square, 44100), "mp3_44100_128")
    assert np.abs(y).max() <= 1.0  # decoded overshoot is clipped


# ---------------------------------------------------------------------------------------------
# G.711


def test_ulaw_known_values() -> None:
    raw = bytes([0x00, 0x7F, 0x80, 0xFF, 0x0F, 0x8F, 0x70, 0xF0])
    samples, rate = audio.decode(raw, "ulaw_8000")
    assert rate == 8000
    expected = [-32124, 0, 32124, 0, -16764, 16764, -120, 120]
    np.testing.assert_array_equal(np.round(samples * 32768).astype(int), expected)
    assert audio.duration(raw, "ulaw_8000") == pytest.approx(8 / 8000)


def test_alaw_known_values() -> None:
    raw = bytes([0xD5, 0x55, 0xAA, 0x2A, 0x80, 0x00, 0x7F])
    samples, _ = audio.decode(raw, "alaw_8000")
    expected = [8, -8, 32256, -32256, 5504, -5504, -848]
    np.testing.assert_array_equal(np.round(samples * 32768).astype(int), expected)


@pytest.mark.parametrize("fmt", ["ulaw_8000", "alaw_8000"])
def test_g711_tables_are_odd_symmetric_and_monotonic(fmt: str) -> None:
    samples, _ = audio.decode(bytes(range(256)), fmt)
    values = np.round(samples * 32768).astype(int)
    assert np.abs(values).max() <= 32767
    # Each half of the code space is a monotonic ladder, and the halves mirror each other.
    assert sorted(values[:128]) == sorted(-values[128:])
    assert len(set(np.abs(values).tolist())) >= 120


# ---------------------------------------------------------------------------------------------
# Peak summaries


def test_peak_summary_is_exact_on_constructed_bins() -> None:
    x = np.zeros(10, dtype=np.float32)
    x[1], x[3] = -0.5, 0.25  # bin 0 (samples 0-3)
    x[4:8] = 1.0  # bin 1: all at full scale
    x[8], x[9] = -1.0, -0.75  # bin 2 is a partial bin of two samples
    summary = audio.peak_summary(x, 8000, 4)
    assert isinstance(summary, PeakSummary)
    assert (summary.samples_per_bin, summary.sample_rate) == (4, 8000)
    values = np.frombuffer(summary.data, dtype=np.int8).tolist()
    assert values == [round(-0.5 * 127), round(0.25 * 127), 127, 127, -127, round(-0.75 * 127)]
    np.testing.assert_allclose(
        audio.peak_array(summary),
        np.array(values, dtype=np.float32).reshape(3, 2) / 127,
    )


def test_peak_summary_of_silence_and_clipping() -> None:
    silence = audio.peak_summary(np.zeros(1000, dtype=np.float32), 22050, 256)
    assert silence.data == bytes(8)
    loud = np.array([5.0, -5.0, np.nan], dtype=np.float32)
    values = np.frombuffer(audio.peak_summary(loud, 22050, 256).data, dtype=np.int8)
    assert values.tolist() == [-127, 127]


def test_peak_summary_of_int16_matches_float() -> None:
    pcm = (np.random.default_rng(3).uniform(-1, 1, 5000) * 32767).astype(np.int16)
    as_int = audio.peak_summary(pcm, 22050, 256)
    as_float = audio.peak_summary(pcm.astype(np.float32) / 32768, 22050, 256)
    assert as_int.data == as_float.data


def test_peak_summary_of_a_sine_reaches_its_amplitude() -> None:
    x = sine(1.0, 22050, freq=100.0, amp=0.8)
    pairs = audio.peak_array(audio.peak_summary(x, 22050, 1024))
    # Every 1024-sample bin spans at least one 220.5-sample half period at each extreme.
    np.testing.assert_allclose(pairs[:-1, 0], -0.8, atol=1 / 127)
    np.testing.assert_allclose(pairs[:-1, 1], 0.8, atol=1 / 127)
    assert (pairs[:, 0] <= pairs[:, 1]).all()


@pytest.mark.parametrize("n", [0, 1, 255, 256, 257, 65535, 65536, 65537, 200_001])
def test_peak_resolutions_have_ceil_bins(n: int) -> None:
    x = np.random.default_rng(n).uniform(-1, 1, n).astype(np.float32)
    fine, coarse = audio.peaks(x, 44100)
    assert fine.samples_per_bin == audio.FINE_BIN == 256
    assert coarse.samples_per_bin == audio.COARSE_BIN == 65536
    assert len(fine.data) == 2 * math.ceil(n / 256) == 2 * audio.bin_count(n, 256)
    assert len(coarse.data) == 2 * math.ceil(n / 65536)
    assert audio.peak_array(fine).shape == (math.ceil(n / 256), 2)
    if n:
        # The coarse envelope holds the fine one.
        assert audio.peak_array(coarse)[:, 0].min() == audio.peak_array(fine)[:, 0].min()
        assert audio.peak_array(coarse)[:, 1].max() == audio.peak_array(fine)[:, 1].max()


def test_peak_summary_rejects_a_bad_bin_size_and_corrupt_data() -> None:
    with pytest.raises(ValueError):
        audio.peak_summary(np.zeros(4, dtype=np.float32), 8000, 0)
    with pytest.raises(AudioFormatError):
        audio.peak_array(PeakSummary(256, 8000, b"\x01"))


def test_peak_summary_of_long_audio_keeps_a_single_peak() -> None:
    # 10 minutes at 44.1 kHz of silence with one click.
    x = np.zeros(44100 * 600, dtype=np.float32)
    x[123_456] = 0.5
    fine, coarse = audio.peaks(x, 44100)
    fine_pairs = audio.peak_array(fine)
    assert fine_pairs[123_456 // 256, 1] == pytest.approx(64 / 127)
    assert np.count_nonzero(fine_pairs) == 1
    assert audio.peak_array(coarse)[123_456 // 65536, 1] == pytest.approx(64 / 127)
