"""``studio transcribe``, ``studio align`` and ``studio subtitles`` run as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import srt

DATA = Path(__file__).resolve().parent / "data" / "alignment"


def studio(*args: str | Path, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "ELEVENLABS_API_KEY"}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "studio", *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=full)


def test_align_writes_word_times_in_seconds(tmp_path: Path) -> None:
    ref = json.loads((DATA / "praatio_mary.json").read_text())
    text = tmp_path / "mary.txt"
    text.write_text("Mary rolled the barrel.\n", encoding="utf-8")
    out = tmp_path / "timings.json"
    run = studio("align", DATA / "praatio_mary.flac", text, "-o", out)
    assert run.returncode == 0, run.stderr
    words = json.loads(out.read_text())["words"]
    assert [w["text"] for w in words] == ["Mary", "rolled", "the", "barrel."]
    assert set(words[0]) == {"text", "start", "end"}
    assert all(abs(w["start"] - r["start"]) < 0.1 for w, r in zip(words, ref["words"],
                                                                strict=True))
    again = studio("align", DATA / "praatio_mary.flac", text, "-o", out)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_user_errors_exit_1_naming_the_file_and_usage_errors_exit_2(tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("hello", encoding="utf-8")
    run = studio("align", tmp_path / "missing.wav", text, "-o", tmp_path / "o.json")
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and "missing.wav" in run.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text(" — ", encoding="utf-8")
    run = studio("align", DATA / "praatio_mary.flac", empty, "-o", tmp_path / "o.json")
    assert run.returncode == 1 and "empty.txt" in run.stderr and "no words" in run.stderr
    run = studio("subtitles", tmp_path / "nope.json", "--format", "srt", "-o", tmp_path / "s")
    assert run.returncode == 1 and "nope.json" in run.stderr
    run = studio("subtitles", text, "--format", "ass", "-o", tmp_path / "s")
    assert run.returncode == 2
    run = studio("transcribe", DATA / "praatio_mary.flac", "-o", tmp_path / "t.json",
                 "--engine", "elevenlabs")
    assert run.returncode == 1 and "API key" in run.stderr


def test_transcribe_offline_then_subtitles(tmp_path: Path) -> None:
    media = tmp_path / "clip.flac"
    shutil.copy(DATA / "librivox_0870.flac", media)
    out = tmp_path / "t.json"
    run = studio("transcribe", media, "-o", out, "--engine", "offline")
    assert run.returncode == 0, run.stderr
    doc = json.loads(out.read_text())
    assert doc["format"] == "narrator-studio-transcript" and doc["segments"]
    words = [w["text"] for s in doc["segments"] for w in s["words"]]
    assert {"john", "consider", "power"} & set(words)  # rough, but it hears real speech

    subs = tmp_path / "t.srt"
    run = studio("subtitles", out, "--format", "srt", "--max-chars", "20", "-o", subs)
    assert run.returncode == 0, run.stderr
    cues = list(srt.parse(subs.read_text()))
    assert cues and all(len(line) <= 20 for c in cues for line in c.content.split("\n"))
    vtt = tmp_path / "t.vtt"
    assert studio("subtitles", subs, "--format", "vtt", "-o", vtt).returncode == 0
    assert vtt.read_text().startswith("WEBVTT")


def test_subtitles_reports_trimmed_overlapping_cues_on_stderr(tmp_path: Path) -> None:
    subs = tmp_path / "overlap.srt"
    subs.write_text("1\n00:00:01,000 --> 00:00:04,000\nHello there my friend\n\n"
                    "2\n00:00:03,000 --> 00:00:06,000\nthis overlaps the first cue\n\n"
                    "3\n00:00:05,500 --> 00:00:07,000\nand so does this\n", encoding="utf-8")
    run = studio("subtitles", subs, "--format", "vtt", "-o", tmp_path / "o.vtt")
    assert run.returncode == 0, run.stderr
    assert f"studio: {subs}: 2 overlapping cues were trimmed" in run.stderr.splitlines()


def test_a_corrupt_mp3_fails_with_one_line_on_stderr(tmp_path: Path) -> None:
    # libmpg123 (inside libsndfile) prints "Note: Illegal Audio-MPEG-Header" lines for this
    media = tmp_path / "corrupt.mp3"
    media.write_bytes(b"\xff\xfb" + np.random.default_rng(0).bytes(4998))
    run = studio("transcribe", media, "-o", tmp_path / "t.json", "--engine", "offline")
    assert run.returncode == 1
    assert run.stderr.splitlines() == [f"studio: {media}: has no audio stream ffmpeg can read"]


def test_transcribe_with_elevenlabs_through_the_fake(fake_eleven, tmp_path: Path) -> None:
    media = tmp_path / "tone.wav"
    sf.write(media, np.zeros(16000, np.float32), 16000)
    out = tmp_path / "t.json"
    run = studio("transcribe", media, "-o", out, "--engine", "elevenlabs", "--speakers", "2",
                 "--language", "en",
                 env={"ELEVENLABS_API_KEY": "test-key",
                      "ELEVENLABS_BASE_URL": fake_eleven.base_url})
    assert run.returncode == 0, run.stderr
    assert "2 speakers (elevenlabs)" in run.stdout
    form = fake_eleven.requests[-1].json["form"]
    assert form["diarize"] == "true" and form["num_speakers"] == "2"
