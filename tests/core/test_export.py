"""Exports read back the way players, retailers and ffmpeg read them."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.core.errors import Cancelled, CancelToken
from studio.core.export import (
    ExportError,
    ExportFormat,
    ExportOptions,
    ExportProgress,
    Layout,
    Mastering,
    Metadata,
    export_project,
    export_readiness,
    plan_export,
    record_export,
    run_export,
)
from studio.core.export.ffmpeg import ffmpeg_exe, read_ffmetadata
from studio.core.model import (
    Block,
    BlockId,
    BlockStatus,
    ChapterId,
    Voice,
    VoiceId,
    add_voice,
    set_block_text,
)
from studio.core.store import ProjectStore
from tests.core.test_export_fixtures import book, make_book, save_book, synthetic_take

__all__ = ["book"]  # the fixture

MP3 = ExportFormat.MP3


def expected_chapter_starts(project, options: ExportOptions) -> list[float]:
    """Chapter start times from the takes' lengths and the pauses, as a listener counts them."""
    plan = plan_export(project, options, "/tmp/x.m4b")
    starts, t = [], 0.0
    for part in plan.files[0].chapters:
        starts.append(t)
        t += part.estimated_s
    return starts


def ffmpeg_levels(path: Path) -> dict[str, float]:
    """Measure a file with ffmpeg's own meters: astats (RMS, peak, quietest 500 ms) and ebur128
    (integrated loudness, true peak)."""
    run = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-af",
         "astats=length=0.5:measure_perchannel=none,ebur128=peak=true:framelog=quiet",
         "-f", "null", "-"],
        capture_output=True, text=True, check=True, timeout=60,
    )

    def value(*labels: str) -> float:
        for line in reversed(run.stderr.splitlines()):
            for label in labels:
                if label in line:
                    return float(line.split(label)[1].split()[0])
        raise AssertionError(f"ffmpeg printed no {labels[0]}")

    return {"rms": value("RMS level dB:"), "peak": value("Peak level dB:"),
            # ffmpeg 7+ spells it "through"
            "trough": value("RMS trough dB:", "RMS through dB:"),
            "lufs": value("I:"), "true_peak": value("Peak:")}


def window_levels(path: Path) -> np.ndarray:
    """Return the level (dBFS) of each 10 ms of the decoded file."""
    from studio.core.export.ffmpeg import decode_blocks

    x = np.concatenate([b[:, 0] for b in decode_blocks(path, 44100, 1)])
    n = len(x) // 441
    ms = np.square(x[: n * 441].reshape(n, 441).astype(np.float64)).mean(axis=1)
    return 10 * np.log10(np.maximum(ms, 1e-15))


# ---------------------------------------------------------------------------------------------
# M4B


def test_m4b_has_three_named_chapters_at_the_right_times(tmp_path: Path) -> None:
    titles = ("The Beginning", "Middle; with = signs", "Ünïcode End")
    project = make_book(titles=titles)
    cover = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    meta = dataclasses.replace(Metadata.from_project(project), cover=cover,
                               cover_mime="image/png")
    # Untrimmed takes and explicit pauses, so the times follow from the takes' lengths alone.
    options = ExportOptions(format=ExportFormat.M4B, layout=Layout.SINGLE, metadata=meta,
                            trim_edges=False, head_s=1.0, tail_s=2.0, paragraph_pause_s=0.5)
    result = export_project(project, options, tmp_path / "book.m4b")
    path = tmp_path / "book.m4b"
    assert result.files[0].path == path
    expected = expected_chapter_starts(project, options)
    total = result.files[0].duration_s
    assert total == pytest.approx(sum(
        1.0 + 2.0 + sum(b.current_take.duration for b in c.blocks) + 0.5 * (len(c.blocks) - 1)
        for c in project.chapters), abs=0.01)
    # Each mark sits where its chapter's audio starts: quiet for the head, then speech.
    energy = window_levels(path)
    for start in expected:
        head = energy[int(start * 100) + 5 : int((start + 1.0 + 0.15) * 100) - 2]
        assert head.max() < -55
        assert energy[int((start + 1.15) * 100) : int((start + 1.65) * 100)].max() > -40

    # The audio track points at a QuickTime text track of chapter names (Apple's chapters);
    # ffmpeg reads that track in preference to the Nero list (what ffprobe -show_chapters
    # shows).
    from mutagen.mp4 import Atoms

    with path.open("rb") as fh:
        atoms = Atoms(fh)
    traks = [a for a in atoms.path(b"moov")[-1].children if a.name == b"trak"]
    assert len(traks) == 2 and any(c.name == b"tref" for c in traks[0].children)
    tags, chapters = read_ffmetadata(path)
    assert [c[0] for c in chapters] == list(titles)
    for (_, start, end), want, next_start in zip(chapters, expected,
                                                 [*expected[1:], total], strict=True):
        assert start == pytest.approx(want, abs=0.05)
        assert end == pytest.approx(next_start, abs=0.05)
    assert tags["title"] == "The Test Book" and tags["artist"] == "A. Writer"

    # mutagen reads the Nero chapter list (chpl), as other players do.
    from mutagen.mp4 import MP4

    mp4 = MP4(path)
    assert [c.title for c in mp4.chapters] == list(titles)
    for chapter, want in zip(mp4.chapters, expected, strict=True):
        assert chapter.start == pytest.approx(want, abs=0.05)
    assert mp4.info.sample_rate == 44100 and mp4.info.channels == 1
    assert mp4.info.length == pytest.approx(total, abs=0.1)
    assert mp4["©nam"] == ["The Test Book"] and mp4["©ART"] == ["A. Writer"]
    assert mp4["©wrt"] == ["N. Reader"] and mp4["©day"] == ["2025"]
    assert mp4["trkn"] == [(1, 1)] and mp4["stik"] == [2]
    assert bytes(mp4["----:com.apple.iTunes:ISBN"][0]) == b"9780000000002"
    assert mp4["desc"] == ["A book made of tones."]
    assert bytes(mp4["covr"][0]) == cover


# ---------------------------------------------------------------------------------------------
# MP3


@pytest.mark.parametrize("kbps", [128, 192, 320])
def test_mp3_is_cbr_at_44100_at_the_chosen_rate(book, tmp_path: Path, kbps: int) -> None:
    from mutagen.mp3 import MP3 as MutagenMP3
    from mutagen.mp3 import BitrateMode

    options = ExportOptions(format=MP3, chapters=(ChapterId("c0"),), bitrate_kbps=kbps,
                            acx_check=kbps == 192)
    result = export_project(book, options, tmp_path / "out")
    path = tmp_path / "out" / "01 - Chapter 1.mp3"
    assert [f.path for f in result.files] == [path]
    info = MutagenMP3(path).info
    assert info.sample_rate == 44100
    assert info.bitrate == kbps * 1000
    assert info.bitrate_mode is BitrateMode.CBR
    from studio.core.export.acx import scan_mp3_frames

    rates, frames, rate = scan_mp3_frames(path)
    assert rates == {kbps} and rate == 44100 and frames > 100  # every frame, not just the tag


def test_mp3_tags_cover_and_chapter_frames(tmp_path: Path) -> None:
    from mutagen.id3 import ID3

    project = make_book(chapters=2, paragraphs=2, seconds=1.0)
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 100
    meta = dataclasses.replace(Metadata.from_project(project), cover=jpeg,
                               cover_mime="image/jpeg")
    options = ExportOptions(format=MP3, layout=Layout.SINGLE, metadata=meta, acx_check=False)
    export_project(project, options, tmp_path / "book.mp3")
    tags = ID3(tmp_path / "book.mp3")
    assert str(tags["TIT2"]) == "The Test Book" and str(tags["TPE1"]) == "A. Writer"
    assert str(tags["TCOM"]) == "N. Reader" and str(tags["TALB"]) == "The Test Book"
    assert str(tags["TRCK"]) == "1/1" and str(tags["TXXX:ISBN"]) == "9780000000002"
    assert tags.getall("COMM")[0].text == ["A book made of tones."]
    assert tags.getall("APIC")[0].data == jpeg
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [str(c.sub_frames["TIT2"]) for c in chaps] == ["Chapter 1", "Chapter 2"]
    assert chaps[0].start_time == 0 and chaps[1].start_time == chaps[0].end_time
    assert tags.getall("CTOC")[0].child_element_ids == [c.element_id for c in chaps]


def test_the_project_cover_and_tags_go_into_every_file(tmp_path: Path) -> None:
    from mutagen.id3 import ID3
    from mutagen.mp4 import MP4

    from studio.core.model import set_project_meta

    project = make_book(chapters=3, paragraphs=1, seconds=1.0)
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
    set_project_meta(project, cover=jpeg)
    path = save_book(project, tmp_path / "b.studio")
    with ProjectStore.open(path, read_only=True) as store:  # the cover is in the project file
        saved = store.load()
        options = ExportOptions(format=MP3, acx_check=False)
        export_project(saved, options, tmp_path / "out", audio=store.load_take_audio)
        m4b = dataclasses.replace(options, format=ExportFormat.M4B, layout=Layout.SINGLE)
        export_project(saved, m4b, tmp_path / "b.m4b", audio=store.load_take_audio)
    for n, name in enumerate(["01 - Chapter 1.mp3", "02 - Chapter 2.mp3",
                              "03 - Chapter 3.mp3"], 1):
        tags = ID3(tmp_path / "out" / name)
        assert str(tags["TIT2"]) == f"Chapter {n}" and str(tags["TRCK"]) == f"{n}/3"
        assert str(tags["TALB"]) == "The Test Book" and str(tags["TDRC"]) == "2025"
        assert str(tags["TPE1"]) == "A. Writer" and str(tags["TCOM"]) == "N. Reader"
        assert str(tags["TXXX:ISBN"]) == "9780000000002"
        assert tags.getall("COMM")[0].text == ["A book made of tones."]
        (apic,) = tags.getall("APIC")
        assert apic.data == jpeg and apic.mime == "image/jpeg" and apic.type == 3
    mp4 = MP4(tmp_path / "b.m4b")
    (covr,) = mp4["covr"]
    assert bytes(covr) == jpeg and covr.imageformat == covr.FORMAT_JPEG
    assert mp4["©alb"] == ["The Test Book"] and mp4["aART"] == ["A. Writer"]
    assert mp4["ldes"] == ["A book made of tones."]


# ---------------------------------------------------------------------------------------------
# WAV, FLAC, ZIP, layouts


@pytest.mark.parametrize("depth", [16, 24])
def test_wav_bit_depths(book, tmp_path: Path, depth: int) -> None:
    options = ExportOptions(format=ExportFormat.WAV, layout=Layout.SINGLE, bit_depth=depth,
                            chapters=(ChapterId("c1"),), acx_check=False)
    result = export_project(book, options, tmp_path / "c.wav")
    info = sf.info(str(tmp_path / "c.wav"))
    assert info.subtype == f"PCM_{depth}" and info.samplerate == 44100 and info.channels == 1
    assert info.duration == pytest.approx(result.files[0].duration_s, abs=0.01)
    from mutagen.wave import WAVE

    assert str(WAVE(tmp_path / "c.wav").tags["TIT2"]) == "The Test Book"


def test_flac_and_its_vorbis_comments(book, tmp_path: Path) -> None:
    from mutagen.flac import FLAC

    options = ExportOptions(format=ExportFormat.FLAC, layout=Layout.SINGLE, acx_check=False)
    result = export_project(book, options, tmp_path / "b.flac")
    flac = FLAC(tmp_path / "b.flac")
    assert flac.info.sample_rate == 44100 and flac.info.bits_per_sample == 16
    assert flac["TITLE"] == ["The Test Book"] and flac["PERFORMER"] == ["N. Reader"]
    assert flac["ISBN"] == ["9780000000002"]
    assert flac["CHAPTER002NAME"] == ["Chapter 2"]
    assert flac["CHAPTER002"] == [f"00:00:{result.files[0].chapters[1].start:06.3f}"]


def test_zip_holds_one_file_per_chapter_and_the_report(book, tmp_path: Path) -> None:
    options = ExportOptions(format=MP3, layout=Layout.ZIP)
    result = export_project(book, options, tmp_path / "book.zip")
    with zipfile.ZipFile(tmp_path / "book.zip") as zf:
        names = zf.namelist()
        assert names == ["01 - Chapter 1.mp3", "02 - Chapter 2.mp3", "03 - Chapter 3.mp3",
                         "ACX report.csv", "ACX report.json"]
        first = zf.read("01 - Chapter 1.mp3")
        assert first[:3] == b"ID3"
    assert [p.name for p in result.reports] == ["book.acx.csv", "book.acx.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.acx.csv", "book.acx.json",
                                                          "book.zip"]


def test_zip_of_paragraphs(book, tmp_path: Path) -> None:
    options = ExportOptions(format=MP3, layout=Layout.PARAGRAPHS, chapters=(ChapterId("c1"),),
                            acx_check=False)
    result = export_project(book, options, tmp_path / "paras.zip")
    with zipfile.ZipFile(tmp_path / "paras.zip") as zf:
        assert zf.namelist() == ["002-001 - Chapter 2.mp3", "002-002 - Chapter 2.mp3",
                                 "002-003 - Chapter 2.mp3"]
    takes = [b.current_take.duration for b in book.chapters[1].blocks]
    for f, seconds in zip(result.files, takes, strict=True):
        assert 0.5 * seconds < f.duration_s <= seconds  # the engine's silence trimmed


def test_single_file_is_the_chapters_back_to_back(book, tmp_path: Path) -> None:
    per = export_project(book, ExportOptions(format=ExportFormat.WAV, acx_check=False),
                         tmp_path / "chapters")
    one = export_project(book, ExportOptions(format=ExportFormat.WAV, layout=Layout.SINGLE,
                                             acx_check=False), tmp_path / "book.wav")
    assert sorted(p.name for p in (tmp_path / "chapters").iterdir()) == [
        "01 - Chapter 1.wav", "02 - Chapter 2.wav", "03 - Chapter 3.wav"]
    assert one.files[0].duration_s == pytest.approx(sum(f.duration_s for f in per.files),
                                                    abs=0.001)
    marks = one.files[0].chapters
    assert [m.title for m in marks] == ["Chapter 1", "Chapter 2", "Chapter 3"]
    for mark, f in zip(marks, per.files, strict=True):
        assert mark.end - mark.start == pytest.approx(f.duration_s, abs=0.001)


def test_stereo_export_is_the_same_level(book, tmp_path: Path) -> None:
    options = ExportOptions(format=ExportFormat.FLAC, layout=Layout.SINGLE, channels=2,
                            chapters=(ChapterId("c0"),))
    result = export_project(book, options, tmp_path / "s.flac")
    report = result.files[0].acx
    assert report is not None and report.stream.channels == 2
    assert -21 < report.rms_db < -19


# ---------------------------------------------------------------------------------------------
# Mastering, measured by an independent meter


def test_acx_export_passes_acx_as_ffmpeg_measures_it(tmp_path: Path) -> None:
    # Takes at three levels, 12 dB apart, and two sample rates.
    project = make_book(levels=(-32.0, -20.0, -26.0))
    extra = project.chapters[2].blocks[0]
    project.chapters[2].blocks[0].takes.append(
        synthetic_take(project, extra, 2.0, "mp3_44100_128", -16.0, 99))
    project.chapters[2].blocks[0].current_take_id = extra.takes[-1].id
    result = export_project(project, ExportOptions(format=MP3), tmp_path / "acx")
    assert result.acx_passed is True
    assert len(result.files) == 3
    for f in result.files:
        assert f.acx is not None and f.acx.passed, f.acx.failures if f.acx else None
        levels = ffmpeg_levels(f.path)
        assert -23.0 <= levels["rms"] <= -18.0
        assert levels["peak"] <= -3.0
        assert levels["true_peak"] <= -3.0
        assert levels["trough"] <= -60.0  # quietest 500 ms: the noise floor
        assert abs(levels["rms"] - f.acx.rms_db) < 0.1
        assert abs(levels["true_peak"] - f.acx.true_peak_db) < 0.3
        assert 0.5 <= f.acx.head_s <= 1.0 and 1.0 <= f.acx.tail_s <= 5.0
    report = json.loads((tmp_path / "acx" / "ACX report.json").read_text())
    assert report["passed"] is True and len(report["files"]) == 3
    assert {c["name"] for c in report["files"][0]["checks"]} >= {
        "RMS", "Peak", "Noise floor", "Head room tone", "Tail room tone", "Duration",
        "Sample rate", "Format", "Channels"}
    csv_text = (tmp_path / "acx" / "ACX report.csv").read_text()
    assert csv_text.splitlines()[0].startswith("file,passed,duration_s,rms_db")
    assert len(csv_text.splitlines()) == 4


@pytest.mark.parametrize(("fmt", "kbps"), [(ExportFormat.M4B, 64), (MP3, 128)])
def test_lossy_acx_exports_keep_true_peaks_under_acx_limit_as_ffmpeg_measures_it(
    tmp_path: Path, fmt: ExportFormat, kbps: int
) -> None:
    # This book made AAC at 64 kbps overshoot the limiter by 1.3 dB (-2.2 dBTP).
    project = make_book(levels=(-32.0, -20.0, -26.0), seconds=4.0)
    options = ExportOptions(format=fmt, bitrate_kbps=kbps, layout=Layout.SINGLE)
    result = export_project(project, options, tmp_path / f"book{fmt.suffix}")
    (f,) = result.files
    levels = ffmpeg_levels(f.path)
    assert levels["true_peak"] <= -3.0
    assert -23.0 <= levels["rms"] <= -18.0
    assert levels["trough"] <= -60.0
    assert f.acx is not None and f.acx.true_peak_db <= -3.0
    assert abs(levels["true_peak"] - f.acx.true_peak_db) < 0.15
    # Only the format fails: ACX takes MP3 at 192 kbps or more.
    assert {c.name for c in f.acx.failures} == {"Format"}
    assert not [w for w in result.warnings if "true peaks" in w]


def test_an_encoder_overshoot_is_mastered_again_with_a_lower_ceiling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.core.export import acx, run

    project = make_book(chapters=1, paragraphs=2, seconds=1.0)
    readings = iter([-2.0, -3.4])  # the first encode overshoots -3.1 dBTP by 0.9 dB
    calls: list[Path] = []

    def fake_peak(path: Path, rate: int, channels: int) -> float:
        calls.append(path)
        return next(readings)

    monkeypatch.setattr(acx, "measure_true_peak", fake_peak)
    encodes: list[float] = []
    real_encode = run._encode

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        encodes.append(args[7])  # the ceiling in dBTP
        return real_encode(*args, **kwargs)

    monkeypatch.setattr(run, "_encode", spy)
    options = ExportOptions(format=MP3, layout=Layout.SINGLE, acx_check=False)
    result = export_project(project, options, tmp_path / "b.mp3")
    assert len(calls) == 2 and encodes[0] == -3.5
    # 0.9 dB of overshoot plus a 0.3 dB margin, from the ceiling or the loudest sample sent.
    assert encodes[1] <= -3.5 - 0.9 - 0.3 + 1e-9
    assert result.files[0].ceiling_dbtp == encodes[1]
    assert result.warnings == ()

    # An encoder that never comes down: a bounded number of tries, then a warning.
    monkeypatch.setattr(acx, "measure_true_peak", lambda path, rate, channels: -1.0)
    encodes.clear()
    result = export_project(project, options, tmp_path / "c.mp3")
    assert len(encodes) == 1 + run.REMASTER_TRIES
    assert encodes == sorted(encodes, reverse=True)
    (warning,) = result.warnings
    assert warning.startswith("c.mp3: the encoder pushes true peaks to -1.0 dBTP")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.mp3", "c.mp3"]


def test_acx_check_flags_what_fails(tmp_path: Path) -> None:
    project = make_book(chapters=1)
    options = ExportOptions(format=MP3, bitrate_kbps=128, layout=Layout.SINGLE,
                            mastering=Mastering(room_tone_db=None), head_s=2.0)
    result = export_project(project, options, tmp_path / "b.mp3")
    report = result.files[0].acx
    assert report is not None and not report.passed
    failed = {c.name for c in report.failures}
    assert failed == {"Format", "Head room tone"}
    assert report.noise_floor_db < -100  # digital silence: reported, and under -60


def test_lufs_mastering_hits_the_target_within_one_lu(tmp_path: Path) -> None:
    project = make_book(levels=(-35.0, -15.0, -25.0))
    options = ExportOptions(format=ExportFormat.WAV, mastering=Mastering.lufs(-18.0),
                            acx_check=False)
    result = export_project(project, options, tmp_path / "lufs")
    for f in result.files:
        levels = ffmpeg_levels(f.path)
        assert abs(levels["lufs"] - -18.0) <= 1.0
        assert levels["true_peak"] <= -3.0 + 0.1


def test_joins_have_no_clicks(tmp_path: Path) -> None:
    # Takes that start and end at full swing: without fades each join is a step.
    from studio.core import audio as audiolib
    from studio.core.model import Take, TakeId, inputs_hash, new_id

    project = make_book(chapters=1, paragraphs=3)
    rate = 22050
    for block in project.chapters[0].blocks:
        t = np.arange(rate) / rate
        x = (0.3 * np.cos(2 * np.pi * 220 * t)).astype(np.float32)
        take = Take(TakeId(new_id()), block.id, inputs_hash(project, block), "wav_22050", 1.0,
                    audio=audiolib.encode_wav(x, rate), voice_id=project.default_voice_id)
        block.takes.append(take)
        block.current_take_id = take.id
    options = ExportOptions(format=ExportFormat.WAV, layout=Layout.SINGLE, trim_edges=False,
                            mastering=Mastering.off(), acx_check=False)
    export_project(project, options, tmp_path / "j.wav")
    y, _ = sf.read(str(tmp_path / "j.wav"), dtype="float32")
    steepest_in_the_tone = 0.3 * 2 * np.pi * 220 / 44100
    assert np.abs(np.diff(y)).max() < steepest_in_the_tone * 1.5


# ---------------------------------------------------------------------------------------------
# Safety: cancel, errors, temporary files


def test_cancel_leaves_the_previous_file_and_no_temporary_files(book, tmp_path: Path) -> None:
    target = tmp_path / "book.m4b"
    options = ExportOptions(format=ExportFormat.M4B, layout=Layout.SINGLE, acx_check=False)
    export_project(book, options, target)
    before = target.read_bytes()
    cancel = CancelToken()
    seen: list[ExportProgress] = []

    def on_progress(p: ExportProgress) -> None:
        seen.append(p)
        if p.stage == "encoding" and p.fraction > 0.3:
            cancel.cancel()

    changed = dataclasses.replace(options, paragraph_pause_s=1.5)
    with pytest.raises(Cancelled):
        export_project(book, changed, target, progress=on_progress, cancel=cancel)
    assert seen and seen[-1].stage == "encoding"
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.m4b"]


def test_cancel_in_the_second_file_leaves_the_previous_folder_byte_for_byte(
    book, tmp_path: Path
) -> None:
    target = tmp_path / "out"
    options = ExportOptions(format=MP3, acx_check=False)
    export_project(book, options, target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    cancel = CancelToken()

    def on_progress(p: ExportProgress) -> None:
        if p.stage == "encoding" and p.file_index == 2:
            cancel.cancel()

    with pytest.raises(Cancelled):
        export_project(book, dataclasses.replace(options, paragraph_pause_s=1.5), target,
                       progress=on_progress, cancel=cancel)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failed_export_leaves_a_previous_folder_alone(tmp_path: Path) -> None:
    project = make_book()
    export_project(project, ExportOptions(format=MP3, acx_check=False), tmp_path / "out")
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    bad = project.chapters[2].blocks[1]
    damaged = dataclasses.replace(bad.current_take, audio=b"RIFF\x00\x00junk")
    bad.takes.append(damaged)
    with pytest.raises(ExportError) as info:
        export_project(project, ExportOptions(format=MP3, acx_check=False), tmp_path / "out")
    assert str(info.value).startswith("chapter 3 'Chapter 3', paragraph 2: its audio cannot")
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_unwritable_chapter_list_is_an_error_naming_it(
    book, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "book.m4b"
    options = ExportOptions(format=ExportFormat.M4B, layout=Layout.SINGLE, acx_check=False)
    export_project(book, options, target)
    before = target.read_bytes()
    real_write_text = Path.write_text

    def full_disk(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.suffix == ".ffmetadata":
            raise OSError(28, "No space left on device", str(self))
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(ExportError) as info:
        export_project(book, dataclasses.replace(options, paragraph_pause_s=1.0), target)
    message = str(info.value)
    assert message.startswith("book.m4b: cannot write its chapter list ")
    assert ".ffmetadata (No space left on device)" in message
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.m4b"]


def test_other_write_errors_name_the_target_and_change_nothing(
    book, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.core.export import run

    target = tmp_path / "out"
    options = ExportOptions(format=MP3, acx_check=False)
    export_project(book, options, target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def full_disk(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device", "/tmp/ffmpeg-log")

    monkeypatch.setattr(run, "Encoder", full_disk)
    with pytest.raises(ExportError) as info:
        export_project(book, options, target)
    assert str(info.value) == (f"{target}: cannot be written: No space left on device "
                               "(/tmp/ffmpeg-log); nothing was changed")
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_disk_that_fills_up_while_spooling_decodes_the_takes_again(
    book, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.core.export import run

    options = ExportOptions(format=ExportFormat.WAV, layout=Layout.SINGLE, acx_check=False)
    export_project(book, options, tmp_path / "spooled.wav")
    real_add = run._Spool.add
    added: list[int] = []

    def fills_up(self, piece):  # type: ignore[no-untyped-def]
        added.append(piece.frames)
        if len(added) > 3:
            raise OSError(28, "No space left on device")
        real_add(self, piece)

    monkeypatch.setattr(run._Spool, "add", fills_up)
    export_project(book, options, tmp_path / "decoded.wav")
    assert len(added) == 4  # gave up on the spool at once
    a, _ = sf.read(str(tmp_path / "spooled.wav"), dtype="float64")
    b, _ = sf.read(str(tmp_path / "decoded.wav"), dtype="float64")
    assert len(a) == len(b) and 20 * np.log10(np.abs(a - b).max()) < -85
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decoded.wav", "spooled.wav"]


def test_progress_runs_from_zero_to_one(book, tmp_path: Path) -> None:
    seen: list[ExportProgress] = []
    export_project(book, ExportOptions(format=ExportFormat.FLAC), tmp_path / "p",
                   progress=seen.append)
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {p.stage for p in seen} == {"measuring", "encoding", "checking", "finishing"}
    assert [p.file_index for p in seen if p.stage == "encoding"][-1] == 3


def test_takes_load_from_the_project_file(tmp_path: Path) -> None:
    path = save_book(make_book(chapters=2, paragraphs=2, seconds=1.0), tmp_path / "b.studio")
    with ProjectStore.open(path, read_only=True) as store:
        project = store.load()
        assert project.chapters[0].blocks[0].current_take.audio is None  # lazily loaded
        plan = plan_export(project, ExportOptions(format=MP3, acx_check=False),
                           tmp_path / "out")
        with pytest.raises(ExportError, match="its audio is not loaded"):
            run_export(plan)
        result = run_export(plan, store.load_take_audio)
    assert len(result.files) == 2
    with ProjectStore.open(path) as store:
        project = store.load()
        store.save(project, record_export(project, result))
    with ProjectStore.open(path, read_only=True) as store:
        (record,) = store.load().exports
    assert record.path == str(tmp_path / "out") and record.format == "mp3"
    assert record.chapter_ids == (ChapterId("c0"), ChapterId("c1"))
    assert record.settings["files"] == ["01 - Chapter 1.mp3", "02 - Chapter 2.mp3"]
    assert record.settings["layout"] == "per-chapter" and record.settings["bitrate_kbps"] == 192


# ---------------------------------------------------------------------------------------------
# Readiness, credits and the retail sample


def test_unconverted_paragraphs_are_counted_and_priced(tmp_path: Path) -> None:
    project = make_book()
    eleven = Voice(VoiceId("v2"), "Eleven", engine="elevenlabs", engine_voice_id="abc")
    add_voice(project, eleven)
    chapter = project.chapters[1]
    chapter.blocks.append(Block(BlockId("new1"), "A new paragraph nobody has narrated yet."))
    chapter.blocks.append(Block(BlockId("new2"), "Another one, read by Eleven.",
                                voice_id=eleven.id))
    set_block_text(project, BlockId("c0p0"), "Changed text makes the take stale.")

    ready = export_readiness(project)
    assert not ready.ready
    assert [(r.chapter_number, r.paragraph_number) for r in ready.unconverted] == [(2, 4), (2, 5)]
    assert [r.status for r in ready.stale] == [BlockStatus.STALE]
    assert {p.engine for p in ready.plans} == {"offline", "elevenlabs"}
    assert ready.credits == len("Another one, read by Eleven.")
    assert ready.characters == ready.credits + len("A new paragraph nobody has narrated yet.") + \
        len("Changed text makes the take stale.")
    assert "2 of 11 paragraphs have no audio yet" in ready.describe()

    with pytest.raises(ExportError, match="2 of 11 paragraphs have no audio yet"):
        plan_export(project, ExportOptions(), tmp_path / "out")
    plan = plan_export(project, ExportOptions(allow_missing=True), tmp_path / "out")
    assert any("2 paragraphs without audio are left out" in w for w in plan.warnings)
    assert any("1 paragraphs are exported with audio older" in w for w in plan.warnings)
    assert len(plan.files[1].chapters[0].paragraphs) == 3

    whole = export_readiness(make_book())
    assert whole.ready and whole.to_convert == 0 and whole.credits == 0
    assert "exporting costs nothing" in whole.describe()


def test_credits_and_retail_sample_are_extra_files(tmp_path: Path) -> None:
    project = make_book(chapters=4, paragraphs=3, seconds=6.0,
                        titles=("Opening Credits", "One", "Two", "Closing Credits"))
    options = ExportOptions(format=MP3, opening_credits=ChapterId("c0"),
                            closing_credits=ChapterId("c3"), chapters=(ChapterId("c1"),),
                            retail_sample_s=60.0, acx_check=False)
    result = export_project(project, options, tmp_path / "out")
    names = [f.name for f in result.files]
    assert names == ["01 - Opening Credits.mp3", "02 - One.mp3", "03 - Closing Credits.mp3",
                     "The Test Book - Retail Sample.mp3"]
    assert [f.kind for f in result.files] == ["opening-credits", "chapter", "closing-credits",
                                              "retail-sample"]
    sample = result.files[-1]
    assert 20.0 < sample.duration_s <= 60.0
    assert any("retail sample is only" in w for w in result.warnings)


def test_options_are_checked(book, tmp_path: Path) -> None:
    bad = [
        ExportOptions(format=MP3, bitrate_kbps=256),
        ExportOptions(format=ExportFormat.WAV, bit_depth=8),
        ExportOptions(format=ExportFormat.FLAC, bitrate_kbps=128),
        ExportOptions(format=MP3, sample_rate=48000),
        ExportOptions(mastering=Mastering(target=-5.0)),
    ]
    for options in bad:
        with pytest.raises(ExportError):
            plan_export(book, options, tmp_path / "x")
    with pytest.raises(ExportError, match=r"must end in \.m4b"):
        plan_export(book, ExportOptions(format=ExportFormat.M4B, layout=Layout.SINGLE),
                    tmp_path / "x.mp3")
    with pytest.raises(ExportError, match="the folder does not exist"):
        export_project(book, ExportOptions(layout=Layout.SINGLE), tmp_path / "no" / "x.mp3")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="is a file"):
        export_project(book, ExportOptions(), tmp_path / "file")
    assert os.listdir(tmp_path) == ["file"]


def test_offline_narration_exports_with_its_break_in_place(tmp_path: Path) -> None:
    """A real take from the offline engine: the break's silence is where its words put it."""
    from studio.core.engines.offline import OfflineEngine
    from studio.core.generation import make_take, plan_render
    from studio.core.model import Project, add_chapter, add_take

    project = Project(title="Spoken")
    add_voice(project, Voice(VoiceId("v"), "Narrator", engine="offline", engine_voice_id="en-us"))
    add_chapter(project, "Only", ["The first paragraph is short.",
                                  'Wait for it. <break time="2.0s" /> There it was.'])
    engine = OfflineEngine()
    for job in plan_render(project, engine="offline").jobs:
        add_take(project, make_take([(job, engine.synthesize(job.request))], "offline"))
    options = ExportOptions(format=ExportFormat.WAV, layout=Layout.SINGLE, trim_edges=False,
                            head_s=1.0, paragraph_pause_s=0.5,
                            mastering=Mastering(room_tone_db=None), acx_check=False)
    export_project(project, options, tmp_path / "spoken.wav")
    first, second = (b.current_take for b in project.chapters[0].blocks)
    after = next(w for w in second.word_timings if w.word.lower().startswith("there"))
    second_starts = 1.0 + first.duration + 0.5
    levels = window_levels(tmp_path / "spoken.wav")
    quiet = levels < -60
    # The longest quiet stretch inside the second paragraph is the break, ending at "There".
    lo, hi = int(second_starts * 100), int((second_starts + second.duration) * 100)
    runs, start = [], None
    for i in range(lo, hi):
        if quiet[i] and start is None:
            start = i
        if not quiet[i] and start is not None:
            runs.append((i - start, start, i))
            start = None
    length, _, end = max(runs)
    assert length >= 190  # 2 s, in 10 ms windows
    assert end / 100 == pytest.approx(second_starts + after.start, abs=0.06)


def test_without_room_for_the_spool_the_takes_are_decoded_again(
    book, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.core.export import run

    options = ExportOptions(format=ExportFormat.WAV, layout=Layout.SINGLE, bit_depth=24,
                            acx_check=False)
    spooled = export_project(book, options, tmp_path / "spooled.wav")
    monkeypatch.setattr(run._Spool, "open", classmethod(lambda cls, path, frames: None))
    decoded = export_project(book, options, tmp_path / "decoded.wav")
    a, _ = sf.read(str(tmp_path / "spooled.wav"), dtype="float64")
    b, _ = sf.read(str(tmp_path / "decoded.wav"), dtype="float64")
    assert len(a) == len(b)
    assert spooled.files[0].gain_db == decoded.files[0].gain_db
    assert 20 * np.log10(np.abs(a - b).max()) < -85  # the spool's rounding, far under the tone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decoded.wav", "spooled.wav"]


def test_a_wav_over_4_gib_is_written_as_rf64_with_a_warning(
    book, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.core.export import run

    monkeypatch.setattr(run, "WAV_LIMIT", 2 * 1024**2)  # pretend 2 MiB is the RIFF limit
    options = ExportOptions(format=ExportFormat.WAV, layout=Layout.SINGLE, acx_check=False)
    result = export_project(book, options, tmp_path / "big.wav")
    (warning,) = [w for w in result.warnings if "RF64" in w]
    assert warning.startswith("big.wav is 0.0 GiB, over the 4 GiB a WAV file can hold")
    assert result.record.settings["warnings"] == [warning]
