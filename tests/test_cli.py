"""The ``studio`` command, run as a user runs it: exit codes, messages, files written or not."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "sample" / "aesop.md"


def studio(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio", *map(str, args)],
        capture_output=True, text=True, timeout=120, cwd=cwd,
    )


def test_import_info_export_text_round_trip(tmp_path: Path) -> None:
    book = tmp_path / "aesop.studio"
    run = studio("import", SAMPLE, "-o", book, "--author", "Aesop")
    assert run.returncode == 0, run.stderr
    assert "4 chapters" in run.stdout and "The Hare and the Tortoise" in run.stdout

    info = json.loads(studio("info", book, "--json").stdout)
    assert info["title"] == "Aesop's Fables" and info["author"] == "Aesop"
    assert [c["title"] for c in info["chapters"]] == [
        "The Fox and the Grapes",
        "The Town Mouse and the Country Mouse",
        "The Shepherd's Boy and the Wolf",
        "The Hare and the Tortoise",
    ]
    # info agrees with the text: count the sample's paragraphs and characters independently.
    sections = SAMPLE.read_text(encoding="utf-8").split("\n## ")[1:]
    for section, chapter in zip(sections, info["chapters"], strict=True):
        paragraphs = [p.strip() for p in section.split("\n\n")[1:] if p.strip()]
        assert chapter["paragraphs"] == len(paragraphs)
        assert chapter["characters"] == sum(len(" ".join(p.split())) for p in paragraphs)
        assert chapter["converted"] == 0 and chapter["stale"] == 0
    total = sum(c["characters"] for c in info["chapters"])
    assert info["characters_to_generate"] == total
    assert info["estimated_credits"] == total  # multilingual v2: one credit per character

    exported = tmp_path / "aesop.json"
    assert studio("export-text", book, "-o", exported).returncode == 0
    again = tmp_path / "again.studio"
    assert studio("import", exported, "-o", again).returncode == 0
    second = tmp_path / "again.json"
    assert studio("export-text", again, "-o", second).returncode == 0
    assert second.read_text(encoding="utf-8") == exported.read_text(encoding="utf-8")
    assert json.loads(studio("info", again, "--json").stdout) == info


def _truncated_zip(path: Path) -> Path:
    good = path.with_suffix(".full")
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/container.xml", "<container/>" * 2000)
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return path


def _traversal_epub(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr("../evil.xhtml", "<html/>")
    return path


def _billion_laughs(path: Path) -> Path:
    lol = "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "lol"}">' for i in range(10)
    )
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE html [{lol}]><html><body><p>&lol9;</p></body></html>'
    )
    return path


def _binary_txt(path: Path) -> Path:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    return path


@pytest.mark.parametrize(
    ("make", "name", "words"),
    [
        (_truncated_zip, "book.epub", "truncated or damaged"),
        (_traversal_epub, "book.epub", "unsafe path"),
        (_billion_laughs, "book.xhtml", "entit"),
        (_binary_txt, "book.txt", "binary"),
        (lambda p: (p.write_bytes(b""), p)[1], "book.txt", "empty"),
        (lambda p: (p.write_text("not json {"), p)[1], "book.json", "not valid JSON"),
        (lambda p: (p.write_text("hello"), p)[1], "book.xyz", "unknown manuscript type"),
    ],
)
@pytest.mark.timeout(60)
def test_malformed_input_exits_1_with_message_and_writes_nothing(
    tmp_path: Path, make, name: str, words: str  # type: ignore[no-untyped-def]
) -> None:
    source = make(tmp_path / name)
    out = tmp_path / "out.studio"
    run = studio("import", source, "-o", out)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert str(source) in lines[0] and words in lines[0]
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.studio")]


def test_user_and_usage_errors(tmp_path: Path) -> None:
    run = studio("info", tmp_path / "missing.studio")
    assert run.returncode == 1 and "missing.studio: file not found" in run.stderr
    (tmp_path / "fake.studio").write_text("hello")
    run = studio("info", tmp_path / "fake.studio")
    assert run.returncode == 1 and "not a Narrator Studio project" in run.stderr
    run = studio("import", SAMPLE)  # -o missing
    assert run.returncode == 2 and "required" in run.stderr
    run = studio("info")
    assert run.returncode == 2
    book = tmp_path / "b.studio"
    assert studio("import", SAMPLE, "-o", book).returncode == 0
    run = studio("import", SAMPLE, "-o", book)
    assert run.returncode == 1 and "already exists" in run.stderr
    assert studio("import", SAMPLE, "-o", book, "--force").returncode == 0


@pytest.mark.parametrize("command", ["import", "info", "export-text", "sample"])
def test_every_subcommand_has_help(command: str) -> None:
    run = studio(command, "--help")
    assert run.returncode == 0 and "usage: studio " + command in run.stdout


def test_top_level_help_lists_commands() -> None:
    run = studio("--help")
    assert run.returncode == 0
    for command in ("import", "info", "export-text"):
        assert command in run.stdout


def test_window_without_display_gives_a_clear_message() -> None:
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    run = subprocess.run(
        [sys.executable, "-m", "studio"], capture_output=True, text=True, timeout=60, env=env
    )
    assert run.returncode == 1
    assert "no display found" in run.stderr and "xvfb-run" in run.stderr


def test_window_screenshot_of_sample(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    run = studio("--sample", "--screenshot", shot)
    assert run.returncode == 0, run.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert image.width() > 600 and image.height() > 400


def test_closed_pipe_is_not_a_crash(tmp_path: Path) -> None:
    book = tmp_path / "b.studio"
    assert studio("import", SAMPLE, "-o", book).returncode == 0
    # `true` exits at once, so the reader is gone before studio writes: EPIPE for sure.
    run = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m studio info "{book}" | true'],
        capture_output=True, text=True, timeout=60,
    )
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr


def test_output_checks(tmp_path: Path) -> None:
    book = tmp_path / "b.studio"
    assert studio("import", SAMPLE, "-o", book).returncode == 0
    run = studio("import", SAMPLE, "-o", tmp_path / "out.txt")
    assert run.returncode == 1 and "must end in .studio" in run.stderr
    run = studio("export-text", book, "-o", book, "--force")
    assert run.returncode == 1 and "is the input file" in run.stderr
    assert book.read_bytes().startswith(b"SQLite format 3")
    run = studio("export-text", book, "-o", tmp_path / "missing" / "x.json")
    assert run.returncode == 1 and "could not write" in run.stderr
    assert "Traceback" not in run.stderr
    out = tmp_path / "b.json"
    assert studio("export-text", book, "-o", out).returncode == 0
    assert out.stat().st_mode & 0o044 == 0o044  # readable like any other file, not 0600


def test_damaged_pdf_gives_one_line_not_a_traceback(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for n in range(40):
        pdf.cell(0, 8, f"Line {n} of a page of text.", new_x="LMARGIN", new_y="NEXT")
    whole = tmp_path / "whole.pdf"
    pdf.output(str(whole))
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole.read_bytes()[:1500])
    run = studio("import", cut, "-o", tmp_path / "o.studio")
    assert run.returncode == 1
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "cut.pdf" in run.stderr and "not a valid PDF" in run.stderr


def test_window_reports_a_manuscript_it_cannot_open(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    run = studio(empty, "--screenshot", tmp_path / "x.png")
    assert run.returncode == 1
    assert f"studio: {empty}: is empty" in run.stderr
