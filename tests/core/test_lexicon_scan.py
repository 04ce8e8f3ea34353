"""The manuscript scan lists what no lexicon knows, with where and a spoken form."""

from __future__ import annotations

import pytest

from studio.core.casting.sample import project_from_text
from studio.core.lexicon import edits
from studio.core.lexicon.scan import cmu_words, ordinal_words, scan, spoken_form
from studio.core.model import PronunciationRule


@pytest.mark.parametrize("token, kind, said", [
    ("£5", "currency", "five pounds"),
    ("$45.67", "currency", "forty-five dollars and sixty-seven cents"),
    ("1887", "year", "eighteen eighty-seven"),
    ("1905", "year", "nineteen oh five"),
    ("123", "number", "one hundred twenty-three"),
    ("1,000,000", "number", "one million"),
    ("3.5", "number", "three point five"),
    ("22nd", "number", "twenty-second"),
])
def test_spoken_forms(token: str, kind: str, said: str) -> None:
    assert spoken_form(token) == (kind, said)
    assert ordinal_words(40) == "fortieth"


def test_scan_finds_names_acronyms_numbers_with_counts_and_places() -> None:
    project = project_from_text(
        "Chapter 1\n\nDaenerys paid £5 to NASA in 1887.\n\nDaenerys smiled; the frobnicator "
        "hummed.\n\nChapter 2\n\nNASA again, and Cholmondeley’s hat.")
    assert "daenerys" not in cmu_words() and "the" in cmu_words()
    found = {w.text: w for w in scan(project, phonemize=lambda t: f"/{t}/")}
    assert (found["Daenerys"].kind, found["Daenerys"].count, found["Daenerys"].places) == (
        "name", 2, [(0, 0), (0, 1)])
    assert found["Daenerys"].suggestion == "/Daenerys/"
    assert found["frobnicator"].kind == "invented"
    assert (found["NASA"].kind, found["NASA"].count, found["NASA"].suggestion) == (
        "acronym", 2, "nasa")
    assert found["£5"].suggestion == "five pounds" and found["1887"].kind == "year"
    assert "Cholmondeley" in found and "hat" not in found
    # A project rule makes a word known.
    edits.add_dictionary(project, "Names", [PronunciationRule("Daenerys", "alias", "Her")])
    assert "Daenerys" not in {w.text for w in scan(project)}
