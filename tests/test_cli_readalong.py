"""``studio export --subtitles``, ``studio export --format epub3`` and ``studio check``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.epub_validate import check_epub
from tests.core.spoken_book import spoken_book
from tests.core.test_export_fixtures import save_book

SCRIPT = "Anna counted the lanterns on the pier. There were seven, and one was broken."
# A repeated phrase: the narration check flags it on every synthesis (a single added word sits
# nearer its thresholds; README, "Narration check").
SPOKEN = ("Anna counted the lanterns on the pier. There were seven, there were seven, and one "
          "was broken.")


def studio(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "studio", *map(str, args)],
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def book_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = spoken_book({"Tower": [SCRIPT]}, {SCRIPT: SPOKEN})
    return save_book(project, tmp_path_factory.mktemp("cli") / "book.studio")


def test_export_subtitles_and_read_along(book_file: Path, tmp_path: Path) -> None:
    done = studio("export", book_file, "--format", "wav", "--subtitles", "vtt", "-o",
                  tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "01 - Tower.vtt").read_text(encoding="utf-8").startswith("WEBVTT")
    done = studio("export", book_file, "--read-along", "-o", tmp_path / "book.epub", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sentences"] == 2
    assert check_epub(tmp_path / "book.epub") == []
    assert studio("export", book_file, "--format", "epub3", "-o",
                  tmp_path / "book.epub").returncode != 0  # exists; no --force


def test_check_flags_the_repeated_phrase(book_file: Path) -> None:
    done = studio("check", book_file, "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["flagged"] == 1
    repeats = [d["words"] for d in report["paragraphs"][0]["diff"] if d["op"] == "repeated"]
    assert repeats and set(repeats[0]) <= {"there", "were", "seven"}
