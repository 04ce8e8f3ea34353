"""Decode and encode take audio, and summarise it into min/max peaks for the waveform.

Format strings are ElevenLabs ``output_format`` values: ``pcm_<rate>`` (headerless 16-bit
little-endian mono), ``wav_<rate>``, ``mp3_<rate>_<kbps>``, ``ulaw_8000``, ``alaw_8000`` and
``opus_<rate>_<kbps>`` (recognised but not decodable here). Decoded audio is always float32
mono in [-1, 1].
"""

from __future__ import annotations

import io
import math
import re
from typing import Final

import numpy as np
import numpy.typing as npt
import soundfile as sf

from studio.core.errors import StudioError
from studio.core.model import PeakSummary

Samples = npt.NDArray[np.float32]

FINE_BIN: Final = 256  # samples per peak bin, fine resolution (Audacity's 256-sample summary)
COARSE_BIN: Final = 65536  # samples per peak bin, coarse resolution (Audacity's 64K summary)

_FORMAT_RE: Final = re.compile(r"^(pcm|wav|mp3|ulaw|alaw|opus)_(\d+)(?:_(\d+))?$")
_MIN_RATE: Final = 1000
_MAX_RATE: Final = 384_000
_INT16_SCALE: Final = 32768.0
_PEAK_SCALE: Final = 127.0


class AudioFormatError(StudioError, ValueError):
    """Audio could not be decoded or encoded in the requested format."""


def _g711_tables() -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16]]:
    """Return the µ-law and A-law byte -> 16-bit linear tables (ITU-T G.711)."""
    codes = np.arange(256, dtype=np.int32)

    u = ~codes & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    ulaw = np.where(u & 0x80, -magnitude, magnitude)

    a = codes ^ 0x55
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    magnitude = np.where(
        exponent == 0,
        (mantissa << 4) + 8,
        ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0),
    )
    alaw = np.where(a & 0x80, magnitude, -magnitude)
    return ulaw.astype(np.int16), alaw.astype(np.int16)


_ULAW_TABLE, _ALAW_TABLE = _g711_tables()

# MPEG layer III bitrates (kbps) by sample-rate family, and the range libsndfile maps
# ``compression_level`` 0..1 onto: bitrate = int(max - (max - min) * level), which LAME then
# rounds to the nearest legal bitrate. Measured with libsndfile 1.2.2 (see encode_mp3).
_MPEG1_RATES: Final = frozenset({32000, 44100, 48000})
_MPEG2_RATES: Final = frozenset({16000, 22050, 24000})
_MPEG25_RATES: Final = frozenset({8000, 11025, 12000})
_MPEG1_KBPS: Final = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG2_KBPS: Final = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_MPEG25_KBPS: Final = (8, 16, 24, 32, 40, 48, 56, 64)


def _parse_format(fmt: str) -> tuple[str, int, int | None]:
    """Split a format string into codec, sample rate and optional bitrate."""
    match = _FORMAT_RE.match(fmt.strip().lower()) if isinstance(fmt, str) else None
    if match is None:
        raise AudioFormatError(
            f"Unknown audio format {fmt!r}; expected e.g. 'mp3_44100_128', 'pcm_22050', "
            "'wav_22050' or 'ulaw_8000'."
        )
    codec, rate_text, kbps_text = match.groups()
    rate = int(rate_text)
    if not _MIN_RATE <= rate <= _MAX_RATE:
        raise AudioFormatError(f"Audio format {fmt!r} has an impossible sample rate ({rate} Hz).")
    return codec, rate, int(kbps_text) if kbps_text else None


def format_sample_rate(fmt: str) -> int:
    """Return the sample rate named in an output-format string such as ``mp3_44100_128``."""
    return _parse_format(fmt)[1]


def _to_mono(data: npt.NDArray[np.floating]) -> Samples:
    """Mix a (frames, channels) or (frames,) array down to float32 mono in [-1, 1]."""
    if data.ndim == 2:
        data = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    elif data.ndim != 1:
        raise AudioFormatError(f"Audio has an unexpected shape {data.shape}.")
    mono = np.asarray(data, dtype=np.float32)
    return np.clip(mono, -1.0, 1.0, out=mono)


def _why(exc: Exception) -> str:
    """Return libsndfile's reason without the BytesIO repr it puts in front of it."""
    reason = getattr(exc, "error_string", None) or str(exc)
    return str(reason).rstrip(".") or type(exc).__name__


def _read_container(audio: bytes, kind: str) -> tuple[Samples, int]:
    """Decode WAV or MP3 bytes with libsndfile."""
    try:
        data, rate = sf.read(io.BytesIO(audio), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioFormatError(f"The {kind} audio could not be decoded ({_why(exc)}).") from exc
    return _to_mono(data), int(rate)


def decode(audio: bytes, fmt: str) -> tuple[Samples, int]:
    """Decode engine audio to float32 mono samples in [-1, 1] and its sample rate.

    Raises:
        AudioFormatError: the format is unknown or unsupported (Opus), or the bytes are corrupt.
    """
    codec, rate, _ = _parse_format(fmt)
    if codec == "pcm":
        if len(audio) % 2:
            raise AudioFormatError(
                f"The {fmt} audio is truncated (odd number of bytes for 16-bit samples)."
            )
        pcm = np.frombuffer(audio, dtype="<i2").astype(np.float32) / _INT16_SCALE
        return pcm, rate
    if codec in ("ulaw", "alaw"):
        table = _ULAW_TABLE if codec == "ulaw" else _ALAW_TABLE
        linear = table[np.frombuffer(audio, dtype=np.uint8)]
        return linear.astype(np.float32) / _INT16_SCALE, rate
    if codec == "wav":
        return _read_container(audio, "WAV")
    if codec == "mp3":
        return _read_container(audio, "MP3")
    raise AudioFormatError(
        f"Opus audio ({fmt}) cannot be decoded here; choose an MP3, PCM or WAV output format."
    )


def duration(audio: bytes, fmt: str) -> float:
    """Return the length of encoded audio in seconds."""
    codec, rate, _ = _parse_format(fmt)
    if codec == "pcm":
        return len(audio) // 2 / rate
    if codec in ("ulaw", "alaw"):
        return len(audio) / rate
    if codec in ("wav", "mp3"):
        try:
            with sf.SoundFile(io.BytesIO(audio)) as handle:
                return float(handle.frames) / float(handle.samplerate)
        except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
            raise AudioFormatError(
                f"The {codec.upper()} audio could not be read ({_why(exc)})."
            ) from exc
    samples, sample_rate = decode(audio, fmt)  # raises the unsupported-format error
    return len(samples) / sample_rate


def _as_mono(samples: npt.ArrayLike) -> Samples:
    """Return samples (float, or int16 full scale) as 1-D float32, channels mixed down."""
    array = np.asarray(samples)
    if array.dtype == np.int16:
        array = array.astype(np.float32) / np.float32(_INT16_SCALE)
    elif np.issubdtype(array.dtype, np.floating):
        array = np.nan_to_num(array.astype(np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    else:
        raise AudioFormatError(f"Cannot use samples of type {array.dtype}; use float or int16.")
    if array.ndim == 2:
        array = array.mean(axis=1)
    if array.ndim != 1:
        raise AudioFormatError(f"Audio has an unexpected shape {array.shape}.")
    return array


def _to_int16(samples: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """Convert samples to mono int16; 1-D int16 is kept bit-exact, floats clip to [-1, 1]."""
    array = np.asarray(samples)
    if array.dtype == np.int16 and array.ndim == 1:
        return array
    scaled = np.rint(np.clip(_as_mono(array), -1.0, 1.0) * _INT16_SCALE)
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def encode_wav(samples: npt.ArrayLike, sample_rate: int) -> bytes:
    """Encode mono samples (float in [-1, 1], or int16) as a 16-bit PCM WAV file."""
    buffer = io.BytesIO()
    sf.write(buffer, _to_int16(samples), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _mp3_compression_level(sample_rate: int, kbps: int) -> float:
    """Return the libsndfile ``compression_level`` that yields ``kbps`` CBR at this rate."""
    legal: tuple[int, ...]
    if sample_rate in _MPEG1_RATES:
        legal, low, high = _MPEG1_KBPS, 32, 320
    elif sample_rate in _MPEG2_RATES:
        legal, low, high = _MPEG2_KBPS, 8, 160
    elif sample_rate in _MPEG25_RATES:
        legal, low, high = _MPEG25_KBPS, 8, 64
    else:
        raise AudioFormatError(
            f"MP3 cannot be written at {sample_rate} Hz; resample to 44100, 48000, 32000, "
            "24000, 22050, 16000, 12000, 11025 or 8000 Hz."
        )
    if kbps not in legal:
        choices = ", ".join(str(k) for k in legal)
        raise AudioFormatError(
            f"MP3 at {sample_rate} Hz cannot be {kbps} kbps; choose one of {choices}."
        )
    # libsndfile computes int(high - (high - low) * level); LAME snaps that to the nearest
    # legal rate. Aiming exactly at a legal rate keeps us far from the snapping midpoints
    # (0.4 -> 192 kbps and 2/3 -> 128 kbps at 44.1 kHz, matching dependencies.md §5). A level
    # of 1.0 is refused by libsndfile, so the lowest rate uses 0.999.
    return min((high - kbps) / (high - low), 0.999)


def encode_mp3(samples: npt.ArrayLike, sample_rate: int, kbps: int = 128) -> bytes:
    """Encode mono samples (float in [-1, 1], or int16) as a constant-bitrate MP3.

    The file carries a LAME tag, so decoders trim the encoder delay and the audio decodes to
    its exact length. Below 64 kbps a frame can be too small for that tag (for example 22050 Hz
    at 48 kbps, 44100 Hz at 48 kbps); then decoded audio comes back up to ~1,900 samples longer.
    """
    level = _mp3_compression_level(sample_rate, kbps)
    pcm = _to_int16(samples)
    buffer = io.BytesIO()
    with sf.SoundFile(
        buffer, "w", sample_rate, 1, format="MP3", subtype="MPEG_LAYER_III",
        bitrate_mode="CONSTANT", compression_level=level,
    ) as handle:
        handle.write(pcm)
    return buffer.getvalue()


def peak_summary(samples: npt.ArrayLike, sample_rate: int, samples_per_bin: int) -> PeakSummary:
    """Summarise samples into per-bin (min, max) int8 pairs scaled to ±127.

    The last bin may hold fewer samples; there are ``ceil(len(samples) / samples_per_bin)`` bins.
    """
    if samples_per_bin < 1:
        raise ValueError(f"samples_per_bin must be positive, not {samples_per_bin}")
    array = np.asarray(samples)
    # Reduce 1-D int16 or float input in place: an hour of audio is 160M samples, so avoid
    # full-length float copies; only the per-bin results are converted.
    if array.ndim != 1 or not (array.dtype == np.int16 or np.issubdtype(array.dtype, np.floating)):
        array = _as_mono(array)
    scale = 1.0 / _INT16_SCALE if array.dtype == np.int16 else 1.0
    n_full = len(array) // samples_per_bin
    full = array[: n_full * samples_per_bin].reshape(n_full, samples_per_bin)
    mins = full.min(axis=1).astype(np.float64)
    maxs = full.max(axis=1).astype(np.float64)
    broken = np.flatnonzero(np.isnan(mins))  # NaN wins min/max; redo those bins without it
    if len(broken):
        repaired = np.nan_to_num(full[broken], nan=0.0, posinf=1.0, neginf=-1.0)
        mins[broken], maxs[broken] = repaired.min(axis=1), repaired.max(axis=1)
    tail = array[n_full * samples_per_bin:]
    if np.issubdtype(tail.dtype, np.floating):
        tail = np.nan_to_num(tail, nan=0.0, posinf=1.0, neginf=-1.0)
    if len(tail):
        mins = np.append(mins, float(tail.min()))
        maxs = np.append(maxs, float(tail.max()))
    pairs = np.empty(2 * len(mins), dtype=np.int8)
    for offset, extremes in ((0, mins), (1, maxs)):
        scaled = np.clip(extremes * scale, -1.0, 1.0) * _PEAK_SCALE
        pairs[offset::2] = np.rint(scaled).astype(np.int8)
    return PeakSummary(samples_per_bin=samples_per_bin, sample_rate=sample_rate,
                       data=pairs.tobytes())


def peaks(samples: npt.ArrayLike, sample_rate: int) -> tuple[PeakSummary, PeakSummary]:
    """Return the fine (256-sample) and coarse (65536-sample) peak summaries of a take."""
    return (
        peak_summary(samples, sample_rate, FINE_BIN),
        peak_summary(samples, sample_rate, COARSE_BIN),
    )


def peak_array(summary: PeakSummary) -> npt.NDArray[np.float32]:
    """Return a summary as an (n, 2) float32 array of (min, max) in [-1, 1]."""
    pairs = np.frombuffer(summary.data, dtype=np.int8)
    if len(pairs) % 2:
        raise AudioFormatError("The peak summary is corrupt (odd number of values).")
    return (pairs.astype(np.float32) / np.float32(_PEAK_SCALE)).reshape(-1, 2)


def bin_count(n_samples: int, samples_per_bin: int) -> int:
    """Return how many peak bins ``n_samples`` samples make."""
    return math.ceil(n_samples / samples_per_bin)


# ---------------------------------------------------------------------------------------------
# Joining MP3 streams

_MP3_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1 Layer III
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2/2.5 Layer III
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame(data: bytes, pos: int) -> tuple[int, int] | None:
    """Return (frame length, offset of a Xing/Info tag in it) for a Layer III frame at pos."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    version = (b1 >> 3) & 3
    if version == 1 or (b1 >> 1) & 3 != 1:  # reserved version, or not Layer III
        return None
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
    if bitrate_index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    bitrate = _MP3_BITRATES[1 if mpeg1 else 2][bitrate_index] * 1000
    rate = _MP3_RATES[version][rate_index]
    length = (144 if mpeg1 else 72) * bitrate // rate + ((b2 >> 1) & 1)
    mono = (b3 >> 6) == 3
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    return length, pos + 4 + side_info


def _strip_mp3_metadata(data: bytes) -> bytes:
    """Return the audio frames of one MP3 file without ID3 tags or a Xing/Info/VBRI frame."""
    start = 0
    if data[:3] == b"ID3" and len(data) >= 10:  # ID3v2: size is four 7-bit bytes
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        start = 10 + size + (10 if data[5] & 0x10 else 0)
    end = len(data) - 128 if data[-128:-125] == b"TAG" else len(data)
    frame = _mp3_frame(data, start)
    if frame is not None:
        length, tag_at = frame
        if data[tag_at : tag_at + 4] in (b"Xing", b"Info") or data[start + 36 : start + 40] == (
            b"VBRI"
        ):
            start += length  # the first frame is the stream's metadata, not audio
    return data[start:end]


def join_mp3(parts: list[bytes]) -> bytes:
    """Join MP3 files into one stream that decoders play to the end.

    Concatenating the bytes is not enough: a Xing/Info frame at the head of a part tells a
    decoder how many frames the *part* has, so it stops after the first. Each part's tags and
    metadata frame are dropped (the gapless trim they carried is lost: about 25 ms of encoder
    padding at each join).
    """
    if len(parts) == 1:
        return parts[0]
    return b"".join(_strip_mp3_metadata(p) for p in parts)
