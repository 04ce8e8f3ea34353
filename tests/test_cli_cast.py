"""``studio cast`` and ``studio lexicon``: output, round trips and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.casting.sample import project_from_text
from studio.core.lexicon.pls import read_pls
from studio.core.store import ProjectStore

DATA = Path(__file__).parent / "data"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    text = (DATA / "casting" / "pride_and_prejudice_ch1-2.txt").read_text(encoding="utf-8")
    path = tmp_path / "book.studio"
    ProjectStore.create(path, project_from_text(text, "P&P")).close()
    return path


def test_cast_prints_characters_and_lines(book: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    assert main(["cast", str(book), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in data["characters"]][:2] == ["Mrs. Bennet", "Mr. Bennet"]
    assert len(data["lines"]) == 64 and data["lines"][0]["speaker"] == "mrs-bennet"
    assert main(["cast", str(book), "--lines"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("64 quoted lines") and "Lydia" in out


def test_lexicon_import_export_scan(book: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    pls = DATA / "lexicon" / "real_world.pls"
    assert main(["lexicon", "import", str(pls), str(book)]) == 0
    out = tmp_path / "out.pls"
    assert main(["lexicon", "export", str(book), "-o", str(out)]) == 0
    assert read_pls(out.read_bytes()) == read_pls(pls.read_bytes())
    assert main(["lexicon", "export", str(book), "-o", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["lexicon", "scan", str(book), "--json"]) == 0
    found = {w["text"]: w for w in json.loads(capsys.readouterr().out)}
    assert found["Netherfield"]["count"] == 2 and found["Netherfield"]["kind"] == "name"
    assert found["Netherfield"]["places"][0] == {"chapter": "Chapter 1", "paragraph": 3}


def test_errors_name_the_file(book: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.pls"
    bad.write_text("<lexicon")
    assert main(["lexicon", "import", str(bad), str(book)]) == 1
    assert f"{bad} is not valid XML" in capsys.readouterr().err
    assert main(["cast", str(tmp_path / "nope.studio")]) == 1
    assert "nope.studio: file not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["lexicon"])
    assert exit_info.value.code == 2
