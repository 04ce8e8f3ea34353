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


def test_lexicon_export_by_dictionary_and_one_file_per_dictionary(
        book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from studio.core.lexicon import edits
    from studio.core.model import PronunciationRule, set_dictionaries

    with ProjectStore.open(book) as store:
        project = store.load()
        for name, word in (("Names", "Darcy"), ("Places", "Longbourn")):
            store.save(project, edits.add_dictionary(project, name, [
                PronunciationRule(word, "phoneme", "D AA1 R S IY0", "cmu-arpabet")]))
    one = tmp_path / "places.pls"
    assert main(["lexicon", "export", str(book), "-o", str(one), "--dictionary", "Places"]) == 0
    assert [r.grapheme for r in read_pls(one.read_bytes()).rules] == ["Longbourn"]
    folder = tmp_path / "all"
    folder.mkdir()
    assert main(["lexicon", "export", str(book), "-o", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["Names.pls", "Places.pls"]
    # Round trip: importing each file gives the same dictionaries back.
    copy = tmp_path / "copy.studio"
    with ProjectStore.open(book) as store:
        fresh = store.load()
    set_dictionaries(fresh, [])
    ProjectStore.create(copy, fresh).close()
    for name in ("Names", "Places"):
        assert main(["lexicon", "import", str(folder / f"{name}.pls"), str(copy)]) == 0
    with ProjectStore.open(copy, read_only=True) as store:
        back = store.load().dictionaries
    assert [(d.name, d.rules) for d in back] == [(d.name, d.rules) for d in project.dictionaries]
    assert main(["lexicon", "export", str(book), "-o", str(one), "--dictionary", "Nope",
                 "--force"]) == 1
    assert "no dictionary named 'Nope'" in capsys.readouterr().err
