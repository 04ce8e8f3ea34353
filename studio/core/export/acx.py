"""Check exported files against ACX's audio submission requirements, as ACX would measure them.

Each file is measured from the *encoded* file, decoded again by ffmpeg (so the MP3 encoder's
overshoot counts), with :class:`studio.core.export.dsp.Meter`:

==============  =============================================================================
RMS             -23 to -18 dBFS, over the whole file (room tone included)
peak            at most -3 dB, as a true peak (8x oversampled)
noise floor     at most -60 dBFS: the RMS of the quietest 500 ms
head / tail     0.5-1 s of room tone before the first sound, 1-5 s after the last
duration        at most 120 minutes per file
format          MP3, constant bit rate, at least 192 kbps (every frame is checked), 44.1 kHz
channels        every file of the export mono, or every file stereo
==============  =============================================================================

Reports go to CSV and JSON (:func:`write_reports`).
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from studio.core.export.dsp import SILENCE_DB, Meter, TruePeakMeter, db
from studio.core.export.ffmpeg import decode_blocks
from studio.core.export.options import ExportError, ExportFormat

RMS_RANGE: Final = (-23.0, -18.0)
PEAK_MAX: Final = -3.0
NOISE_MAX: Final = -60.0
HEAD_RANGE: Final = (0.5, 1.0)
TAIL_RANGE: Final = (1.0, 5.0)
DURATION_MAX_S: Final = 120 * 60
SAMPLE_RATE: Final = 44100
MP3_MIN_KBPS: Final = 192
_TOLERANCE: Final = 0.02  # seconds: head/tail are measured on 10 ms windows


@dataclass(frozen=True, slots=True)
class Check:
    """One requirement: what was measured, the limit and whether it passes."""

    name: str
    value: str
    limit: str
    passed: bool


@dataclass(frozen=True, slots=True)
class StreamInfo:
    codec: str
    sample_rate: int
    channels: int
    bitrate_kbps: int | None = None
    constant_bitrate: bool | None = None
    frames: int = 0


@dataclass(frozen=True, slots=True)
class AcxReport:
    """The measurements and checks of one file."""

    file: str
    duration_s: float
    rms_db: float
    peak_db: float
    true_peak_db: float
    noise_floor_db: float
    head_s: float
    tail_s: float
    stream: StreamInfo
    checks: tuple[Check, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "passed": self.passed,
            "duration_s": round(self.duration_s, 3),
            "rms_db": round(self.rms_db, 2),
            "peak_db": round(self.peak_db, 2),
            "true_peak_db": round(self.true_peak_db, 2),
            "noise_floor_db": round(self.noise_floor_db, 2),
            "head_s": round(self.head_s, 3),
            "tail_s": round(self.tail_s, 3),
            "codec": self.stream.codec,
            "sample_rate": self.stream.sample_rate,
            "channels": self.stream.channels,
            "bitrate_kbps": self.stream.bitrate_kbps,
            "constant_bitrate": self.stream.constant_bitrate,
            "checks": [
                {"name": c.name, "value": c.value, "limit": c.limit, "passed": c.passed}
                for c in self.checks
            ],
        }


# ---------------------------------------------------------------------------------------------
# Stream facts


_MP3_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_RATES = (44100, 48000, 32000)


def scan_mp3_frames(path: Path) -> tuple[set[int], int, int]:
    """Return the set of bitrates (kbps) of every MPEG-1 Layer III audio frame, the frame
    count and the sample rate. The Xing/Info frame is skipped. Reads 1 MB at a time."""
    size = path.stat().st_size
    chunk = 1024 * 1024
    with path.open("rb") as fh:
        head = fh.read(10)
        pos = 0
        if head[:3] == b"ID3" and len(head) == 10:
            tag = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
            pos = 10 + tag + (10 if head[5] & 0x10 else 0)
        fh.seek(max(0, size - 128))
        end = size - (128 if fh.read(3) == b"TAG" else 0)
        rates: set[int] = set()
        frames = 0
        sample_rate = 0
        first = True
        buf = b""
        buf_start = pos
        while pos + 4 <= end:
            rel = pos - buf_start
            if rel + 64 > len(buf):
                fh.seek(pos)
                buf = fh.read(min(chunk, end - pos))
                buf_start, rel = pos, 0
                if len(buf) < 4:
                    break
            b1, b2 = buf[rel + 1], buf[rel + 2]
            if buf[rel] != 0xFF or b1 & 0xE0 != 0xE0 or (b1 >> 3) & 3 != 3 or (
                    (b1 >> 1) & 3 != 1):
                raise ExportError(f"not an MPEG-1 Layer III frame at byte {pos}")
            index, rate_index = b2 >> 4, (b2 >> 2) & 3
            if index in (0, 15) or rate_index == 3:
                raise ExportError(f"bad MP3 frame header at byte {pos}")
            kbps = _MP3_KBPS[index]
            sample_rate = _MP3_RATES[rate_index]
            mono = (buf[rel + 3] >> 6) == 3
            tag_at = rel + 4 + (17 if mono else 32)
            if not (first and buf[tag_at : tag_at + 4] in (b"Xing", b"Info")):
                rates.add(kbps)
                frames += 1
            first = False
            pos += 144 * kbps * 1000 // sample_rate + ((b2 >> 1) & 1)
    return rates, frames, sample_rate


def stream_info(path: Path, fmt: ExportFormat) -> StreamInfo:
    """Return the codec, rate, channels and bitrate of an exported file."""
    import soundfile as sf
    from mutagen import MutagenError

    try:
        if fmt is ExportFormat.MP3:
            info: Any = importlib.import_module("mutagen.mp3").MP3(path).info
            rates, frames, _ = scan_mp3_frames(path)
            constant = len(rates) == 1
            kbps = next(iter(rates)) if constant else round(info.bitrate / 1000)
            return StreamInfo("mp3", int(info.sample_rate), int(info.channels), kbps,
                              constant, frames)
        if fmt is ExportFormat.M4B:
            mp4: Any = importlib.import_module("mutagen.mp4").MP4(path).info
            return StreamInfo(str(mp4.codec), int(mp4.sample_rate), int(mp4.channels),
                              round(mp4.bitrate / 1000), None)
        snd = sf.info(str(path))
        return StreamInfo(f"{snd.format.lower()}/{snd.subtype.lower()}", int(snd.samplerate),
                          int(snd.channels))
    except (MutagenError, OSError, RuntimeError, ExportError) as exc:
        raise ExportError(f"{path.name}: cannot read the stream ({exc})") from None


# ---------------------------------------------------------------------------------------------
# Measuring


def _fmt_db(value: float) -> str:
    return "digital silence" if value <= SILENCE_DB else f"{value:.1f} dB"


def measure(path: Path, fmt: ExportFormat) -> AcxReport:
    """Decode ``path`` and measure it; the report's checks are the per-file ACX checks."""
    stream = stream_info(path, fmt)
    meters = [Meter(stream.sample_rate) for _ in range(stream.channels)]
    for block in decode_blocks(path, stream.sample_rate, stream.channels):
        for ch, meter in enumerate(meters):
            meter.add(block[:, ch])
    rms_sq = sum(10 ** (m.rms_db / 10) for m in meters) / len(meters)
    rms = 10 * math.log10(rms_sq) if rms_sq > 0 else SILENCE_DB
    edges = [m.edges() for m in meters]
    report = AcxReport(
        file=path.name,
        duration_s=meters[0].duration,
        rms_db=rms,
        peak_db=max(m.peak_db for m in meters),
        true_peak_db=max(m.true_peak_db for m in meters),
        noise_floor_db=max(m.noise_floor_db() for m in meters),
        head_s=min(e[0] for e in edges),
        tail_s=min(e[1] for e in edges),
        stream=stream,
    )
    return replace(report, checks=_checks(report, fmt))


def measure_true_peak(path: Path, rate: int, channels: int) -> float:
    """Decode ``path`` and return its true peak in dBTP (the loudest channel)."""
    meters = [TruePeakMeter() for _ in range(channels)]
    for block in decode_blocks(path, rate, channels):
        for ch, meter in enumerate(meters):
            meter.add(block[:, ch])
    return db(max(m.true_peak for m in meters))


def _checks(r: AcxReport, fmt: ExportFormat) -> tuple[Check, ...]:
    lo, hi = RMS_RANGE
    s = r.stream
    checks = [
        Check("RMS", f"{r.rms_db:.1f} dB", f"{lo:.0f} to {hi:.0f} dB", lo <= r.rms_db <= hi),
        Check("Peak", f"{r.true_peak_db:.1f} dBTP", f"at most {PEAK_MAX:.0f} dB",
              r.true_peak_db <= PEAK_MAX),
        Check("Noise floor", _fmt_db(r.noise_floor_db), f"at most {NOISE_MAX:.0f} dB",
              r.noise_floor_db <= NOISE_MAX),
        Check("Head room tone", f"{r.head_s:.2f} s",
              f"{HEAD_RANGE[0]}-{HEAD_RANGE[1]:.0f} s",
              HEAD_RANGE[0] - _TOLERANCE <= r.head_s <= HEAD_RANGE[1] + _TOLERANCE),
        Check("Tail room tone", f"{r.tail_s:.2f} s",
              f"{TAIL_RANGE[0]:.0f}-{TAIL_RANGE[1]:.0f} s",
              TAIL_RANGE[0] - _TOLERANCE <= r.tail_s <= TAIL_RANGE[1] + _TOLERANCE),
        Check("Duration", f"{r.duration_s / 60:.1f} min", "at most 120 min",
              r.duration_s <= DURATION_MAX_S),
        Check("Sample rate", f"{s.sample_rate} Hz", f"{SAMPLE_RATE} Hz",
              s.sample_rate == SAMPLE_RATE),
    ]
    if fmt is ExportFormat.MP3:
        cbr = bool(s.constant_bitrate)
        kbps = s.bitrate_kbps or 0
        value = f"MP3 {kbps} kbps {'CBR' if cbr else 'VBR'}"
        checks.append(Check("Format", value, f"MP3 CBR, {MP3_MIN_KBPS} kbps or more",
                            cbr and kbps >= MP3_MIN_KBPS))
    else:
        checks.append(Check("Format", fmt.value.upper(), f"MP3 CBR, {MP3_MIN_KBPS} kbps or more",
                            False))
    return tuple(checks)


def check_consistency(reports: Sequence[AcxReport]) -> list[AcxReport]:
    """Return the reports with a channel check: every file mono, or every file stereo."""
    channels = {r.stream.channels for r in reports}
    same = len(channels) <= 1
    limit = "all files mono or all stereo"
    out = []
    for r in reports:
        value = "mono" if r.stream.channels == 1 else f"{r.stream.channels} channels"
        out.append(replace(r, checks=(*r.checks, Check("Channels", value, limit, same))))
    return out


# ---------------------------------------------------------------------------------------------
# Reports

_CSV_FIELDS: Final = ("file", "passed", "duration_s", "rms_db", "peak_db", "true_peak_db",
                      "noise_floor_db", "head_s", "tail_s", "codec", "sample_rate", "channels",
                      "bitrate_kbps", "constant_bitrate", "failed_checks")


def reports_csv(reports: Sequence[AcxReport]) -> str:
    """Return the reports as CSV: one row per file, failed checks named."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in reports:
        row = {k: v for k, v in r.to_json().items() if k in _CSV_FIELDS}
        row["failed_checks"] = "; ".join(f"{c.name} {c.value} (want {c.limit})"
                                         for c in r.failures)
        writer.writerow(row)
    return buffer.getvalue()


def reports_json(reports: Sequence[AcxReport]) -> str:
    """Return the reports as JSON."""
    data = {
        "standard": "ACX audio submission requirements",
        "passed": all(r.passed for r in reports),
        "files": [r.to_json() for r in reports],
    }
    return json.dumps(data, ensure_ascii=False, indent=1)


def write_reports(reports: Sequence[AcxReport], csv_path: Path, json_path: Path) -> None:
    csv_path.write_text(reports_csv(reports), encoding="utf-8")
    json_path.write_text(reports_json(reports), encoding="utf-8")
