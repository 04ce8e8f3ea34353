"""The export's signal processing against references: resampler, true peak, limiter, meters."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

from studio.core.audio import encode_wav
from studio.core.export.dsp import (
    LoudnessMeter,
    Meter,
    db,
    fade_edges,
    limit,
    resample,
    room_tone,
    sound_bounds,
    true_peak,
)
from studio.core.export.ffmpeg import ffmpeg_exe
from tests.core.test_export_fixtures import speech


def sine(freq: float, rate: int, seconds: float, amp: float = 0.5, phase: float = 0.0):
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


@pytest.mark.parametrize(("rate", "new_rate"), [(22050, 44100), (24000, 44100), (48000, 44100),
                                                (16000, 48000)])
def test_resample_matches_the_ideal_signal(rate: int, new_rate: int) -> None:
    x = sine(1000.0, rate, 1.0)
    y = resample(x, rate, new_rate)
    assert len(y) == round(len(x) * new_rate / rate)
    ideal = sine(1000.0, new_rate, 1.0)[: len(y)]
    middle = slice(len(y) // 10, len(y) * 9 // 10)
    error = np.sqrt(np.mean((y[middle] - ideal[middle]) ** 2)) / np.sqrt(np.mean(ideal**2))
    assert db(float(error)) < -60


def test_resample_long_takes_in_blocks_agrees_with_one_block() -> None:
    x = speech(50.0, 22050, seed=3)  # over the 2**20-sample block
    y = resample(x, 22050, 44100)
    assert len(y) == 2 * len(x)
    reference = resample(x[: 2**20 - 30000], 22050, 44100)
    middle = slice(100000, len(reference) - 100000)
    diff = np.abs(y[middle] - reference[middle]).max()
    assert diff < 1e-3


def test_true_peak_finds_the_peak_between_samples() -> None:
    # A sine at a quarter of the rate, sampled 45 degrees off its crests: samples at 0.707.
    x = sine(11025.0, 44100, 0.1, amp=1.0, phase=math.pi / 4)
    fade_edges(x, 441)  # a sine switched on abruptly really does overshoot
    assert float(np.abs(x).max()) == pytest.approx(0.7071, abs=1e-3)
    assert true_peak(x) == pytest.approx(1.0, abs=0.005)


def test_limiter_holds_the_ceiling_and_leaves_the_rest_alone() -> None:
    rate = 44100
    x = speech(4.0, rate, level_db=-11.0, seed=5)  # true peak -2.4 dBTP
    original = x.copy()
    ceiling = 10 ** (-3.5 / 20)
    assert true_peak(x) > ceiling
    touched = limit(x, ceiling, rate)
    assert true_peak(x) <= ceiling * 1.001
    assert 0 < touched < len(x) // 4
    untouched = x == original
    assert untouched.mean() > 0.75  # a limiter, not a compressor
    assert np.all(np.abs(x) <= np.abs(original) + 1e-7)  # it only ever lowers


def test_fades_and_sound_bounds() -> None:
    rate = 22050
    x = np.concatenate([np.zeros(rate // 2), sine(300, rate, 1.0), np.zeros(rate // 4)])
    x = x.astype(np.float32)
    start, end = sound_bounds(x, rate)
    assert abs(start - rate // 2) <= rate // 100
    assert abs(end - (rate // 2 + rate)) <= rate // 100
    y = sine(300, rate, 0.1, phase=math.pi / 2)  # starts at its crest: a click without a fade
    fade_edges(y, 110)
    assert abs(y[0]) < 0.01 and abs(y[-1]) < 0.01


def _ffmpeg_levels(path: Path) -> str:
    run = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-af",
         "astats=measure_perchannel=none,ebur128=peak=true:framelog=quiet", "-f", "null", "-"],
        capture_output=True, text=True, check=True, timeout=60,
    )
    return run.stderr


def _value(text: str, label: str) -> float:
    line = next(ln for ln in reversed(text.splitlines()) if label in ln)
    return float(line.split(label)[1].split()[0])


def test_meters_agree_with_ffmpeg(tmp_path: Path) -> None:
    rate = 44100
    x = np.concatenate([speech(6.0, rate, -22.0, seed=8), np.zeros(rate, np.float32)])
    x += np.resize(room_tone(rate, -70.0), len(x))
    path = tmp_path / "x.wav"
    path.write_bytes(encode_wav(x, rate))  # 16-bit, as ffmpeg will read it
    meter, loudness = Meter(rate), LoudnessMeter(rate)
    for chunk in np.array_split(x, 7):
        meter.add(chunk)
        loudness.add(chunk)
    report = _ffmpeg_levels(path)
    assert meter.rms_db == pytest.approx(_value(report, "RMS level dB:"), abs=0.05)
    assert meter.peak_db == pytest.approx(_value(report, "Peak level dB:"), abs=0.05)
    assert meter.true_peak_db == pytest.approx(_value(report, "Peak:"), abs=0.3)
    assert loudness.integrated == pytest.approx(_value(report, "I:"), abs=0.2)
    assert meter.noise_floor_db() == pytest.approx(-70.0, abs=1.5)
    head, tail = meter.edges()
    assert head == pytest.approx(0.15, abs=0.03)  # speech() leads with 150 ms of silence
    assert tail == pytest.approx(0.25 + 1.0, abs=0.03)


def test_room_tone_is_quiet_seamless_and_repeatable() -> None:
    tone = room_tone(44100, -70.0)
    assert db(float(np.sqrt(np.mean(tone.astype(np.float64) ** 2)))) == pytest.approx(-70.0,
                                                                                        abs=0.01)
    assert np.array_equal(tone, room_tone(44100, -70.0))
    looped = np.concatenate([tone, tone])
    join = np.abs(np.diff(looped[len(tone) - 50 : len(tone) + 50])).max()
    assert join <= np.abs(np.diff(tone)).max()
