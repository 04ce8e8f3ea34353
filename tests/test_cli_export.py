"""``studio export`` run as a user runs it: files written, reports, messages, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from studio.core.model import Block, BlockId
from studio.core.store import ProjectStore
from tests.core.test_export_fixtures import make_book, save_book


def studio(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio", *map(str, args)],
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def book_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("book")
    return save_book(make_book(titles=("Dawn", "Noon", "Dusk")), folder / "book.studio")


def test_export_mp3_per_chapter_with_acx_report(book_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "mp3"
    run = studio("export", book_file, "--format", "mp3", "--acx-report", "-o", out)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    names = sorted(p.name for p in out.iterdir())
    assert names == ["01 - Dawn.mp3", "02 - Noon.mp3", "03 - Dusk.mp3", "ACX report.csv",
                     "ACX report.json"]
    assert "Wrote 3 file(s)" in run.stdout and run.stdout.count("ACX pass") == 3
    report = json.loads((out / "ACX report.json").read_text())
    assert report["passed"] is True
    with ProjectStore.open(book_file, read_only=True) as store:
        record = store.load().exports[-1]
    assert record.path == str(out) and record.format == "mp3"
    assert record.settings["acx_passed"] is True

    again = studio("export", book_file, "-o", out)
    assert again.returncode == 1
    assert again.stderr == f"studio: {out / '01 - Dawn.mp3'}: already exists (use --force to " \
        "replace it)\n"
    assert studio("export", book_file, "-o", out, "--force").returncode == 0


def test_export_m4b_is_one_file_with_chapters(book_file: Path, tmp_path: Path) -> None:
    from mutagen.mp4 import MP4

    out = tmp_path / "book.m4b"
    run = studio("export", book_file, "--format", "m4b", "--narrator", "Someone Else",
                 "--json", "-o", out)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    (entry,) = result["files"]
    assert [c["title"] for c in entry["chapters"]] == ["Dawn", "Noon", "Dusk"]
    mp4 = MP4(out)
    assert [c.title for c in mp4.chapters] == ["Dawn", "Noon", "Dusk"]
    assert mp4["©wrt"] == ["Someone Else"]
    for chapter, mark in zip(mp4.chapters, entry["chapters"], strict=True):
        assert chapter.start == pytest.approx(mark["start"], abs=0.05)


def test_export_with_a_cover_image(book_file: Path, tmp_path: Path) -> None:
    from mutagen.id3 import ID3
    from mutagen.mp4 import MP4

    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    (tmp_path / "cover.png").write_bytes(png)
    m4b = studio("export", book_file, "--format", "m4b", "--cover", tmp_path / "cover.png",
                 "-o", tmp_path / "book.m4b")
    assert m4b.returncode == 0, m4b.stderr
    (covr,) = MP4(tmp_path / "book.m4b")["covr"]
    assert bytes(covr) == png and covr.imageformat == covr.FORMAT_PNG
    mp3 = studio("export", book_file, "--chapters", "1", "--cover", tmp_path / "cover.png",
                 "-o", tmp_path / "mp3")
    assert mp3.returncode == 0, mp3.stderr
    (apic,) = ID3(tmp_path / "mp3" / "01 - Dawn.mp3").getall("APIC")
    assert apic.data == png and apic.mime == "image/png"


def test_export_zip_of_some_chapters(book_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "part.zip"
    run = studio("export", book_file, "--zip", "--chapters", "2-3", "--bitrate", "320",
                 "-o", out)
    assert run.returncode == 0, run.stderr
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist() == ["01 - Noon.mp3", "02 - Dusk.mp3"]


def test_export_refuses_unconverted_paragraphs(tmp_path: Path) -> None:
    project = make_book(chapters=2, paragraphs=2, seconds=1.0)
    project.chapters[1].blocks.append(Block(BlockId("todo"), "Nobody has read this yet."))
    path = save_book(project, tmp_path / "todo.studio")
    out = tmp_path / "out"
    run = studio("export", path, "-o", out)
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith(f"studio: {path}: 1 of 5 paragraphs have no audio yet "
                                 "(first: chapter 2 'Chapter 2' ¶3)")
    assert "25 characters, free offline" in run.stderr and "--allow-missing" in run.stderr
    assert not out.exists()

    run = studio("export", path, "-o", out, "--allow-missing")
    assert run.returncode == 0, run.stderr
    assert "warning: 1 paragraphs without audio are left out" in run.stderr
    assert len(list(out.iterdir())) == 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--bitrate", "100"], 1, "MP3 export is 128/192/320 kbps CBR; not 100 kbps"),
        (["--format", "ogg"], 2, "invalid choice: 'ogg'"),
        (["--chapters", "7"], 1, "has 3 chapters; there is no chapter 7"),
        (["--format", "flac", "--bitrate", "128"], 1, "FLAC is lossless; it takes no bitrate"),
        (["--cover", "missing.jpg"], 1, "missing.jpg: cannot read the cover image"),
    ],
)
def test_export_usage_errors(book_file: Path, tmp_path: Path, args: list[str], code: int,
                             message: str) -> None:
    run = studio("export", book_file, *args, "-o", tmp_path / "x")
    assert run.returncode == code
    assert message in run.stderr
    assert not (tmp_path / "x").exists()


def test_export_names_a_missing_project(tmp_path: Path) -> None:
    run = studio("export", tmp_path / "nope.studio", "-o", tmp_path / "x")
    assert run.returncode == 1
    assert run.stderr == f"studio: {tmp_path / 'nope.studio'}: file not found\n"
