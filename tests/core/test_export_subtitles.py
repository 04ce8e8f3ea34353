"""Subtitles written with an export are timed to the exported audio itself."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import srt
import webvtt

from studio.core.export import ExportError, ExportFormat, ExportOptions, Layout, export_project
from studio.core.model import Project
from tests.core.spoken_book import spoken_book


@pytest.fixture(scope="module")
def narrated() -> Project:
    return spoken_book()


def onsets(path: Path, threshold_db: float = -45.0, min_gap_s: float = 0.3) -> list[float]:
    """Return the times (s) where sound starts after at least ``min_gap_s`` of quiet."""
    x, rate = sf.read(path, dtype="float32")
    hop = rate // 100
    n = len(x) // hop
    level = 10 * np.log10(np.maximum(np.square(x[: n * hop].reshape(n, hop)).mean(axis=1),
                                     1e-12))
    loud = level > threshold_db
    out, quiet = [], 10**6
    for i, on in enumerate(loud):
        if on and quiet * 0.01 >= min_gap_s:
            out.append(i / 100)
        quiet = 0 if on else quiet + 1
    return out


def test_srt_cues_start_where_speech_starts_in_the_exported_wav(narrated: Project,
                                                                 tmp_path: Path) -> None:
    options = ExportOptions(format=ExportFormat.WAV, subtitles="srt", acx_check=False,
                            head_s=0.8, paragraph_pause_s=1.2)
    result = export_project(narrated, options, tmp_path / "out")
    assert len(result.files) == 2
    for exported in result.files:
        assert exported.subtitles == exported.path.with_suffix(".srt")
        assert exported.subtitles.exists()
        cues = list(srt.parse(exported.subtitles.read_text(encoding="utf-8")))
        assert cues
        speech = onsets(exported.path)
        # The first cue starts on the first sound after the head room tone...
        assert cues[0].start.total_seconds() == pytest.approx(0.8, abs=0.05)
        assert cues[0].start.total_seconds() == pytest.approx(speech[0], abs=0.06)
        # ...and the second paragraph's first cue on its onset after the pause.
        second = exported.paragraphs[1]
        cue = min(cues, key=lambda c: abs(c.start.total_seconds() - second.start))
        onset = min(speech, key=lambda s: abs(s - second.start))
        assert cue.start.total_seconds() == pytest.approx(onset, abs=0.08)
        assert cues[-1].end.total_seconds() <= exported.duration_s
        # Break tags are not subtitle text.
        assert "<break" not in exported.subtitles.read_text(encoding="utf-8")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "01 - The Harbour.srt", "01 - The Harbour.wav",
        "02 - The Lighthouse.srt", "02 - The Lighthouse.wav",
    ]


def test_vtt_beside_a_single_file_and_inside_a_zip(narrated: Project, tmp_path: Path) -> None:
    single = ExportOptions(format=ExportFormat.WAV, layout=Layout.SINGLE, subtitles="vtt",
                           acx_check=False)
    result = export_project(narrated, single, tmp_path / "book.wav")
    vtt = tmp_path / "book.vtt"
    assert result.files[0].subtitles == vtt
    captions = webvtt.read(str(vtt))
    assert "boats came home" in captions[0].text
    # The second chapter's first words are timed after the first chapter ends.
    start = next(c for c in captions if "Nobody" in c.text).start_in_seconds
    assert start > result.files[0].chapters[1].start
    zipped = ExportOptions(format=ExportFormat.FLAC, layout=Layout.ZIP, subtitles="vtt",
                           acx_check=False)
    export_project(narrated, zipped, tmp_path / "book.zip")
    with zipfile.ZipFile(tmp_path / "book.zip") as zf:
        assert {"01 - The Harbour.vtt", "02 - The Lighthouse.vtt"} <= set(zf.namelist())


def test_unknown_subtitle_format_is_refused(narrated: Project, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="SRT or VTT"):
        export_project(narrated, ExportOptions(subtitles="ass"), tmp_path / "x")
