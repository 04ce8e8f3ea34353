"""The manuscript scan lists what no lexicon knows, with where and a spoken form."""

from __future__ import annotations

import pytest

from studio.core.casting.sample import project_from_text
from studio.core.lexicon import edits
from studio.core.lexicon.scan import cmu_words, ordinal_words, scan, spoken_form
from studio.core.model import PronunciationRule


@pytest.mark.parametrize("token, kind, said", [
    ("£5", "currency", "five pounds"),
    ("$45.67", "currency", "forty-five dollars sixty-seven"),
    ("£1.50", "currency", "one pound fifty"),
    ("€0.99", "currency", "ninety-nine cents"),
    ("£0.01", "currency", "one penny"),
    ("2000", "year", "two thousand"),
    ("2005", "year", "two thousand and five"),
    ("2024", "year", "twenty twenty-four"),
    ("14/07/1789", "date", "the fourteenth of July seventeen eighty-nine"),
    ("07/14/1789", "date", "the fourteenth of July seventeen eighty-nine"),
    ("1789-07-14", "date", "the fourteenth of July seventeen eighty-nine"),
    ("14 July 1789", "date", "the fourteenth of July seventeen eighty-nine"),
    ("July 14, 1789", "date", "July fourteenth, seventeen eighty-nine"),
    ("10:30", "time", "ten thirty"),
    ("10:05", "time", "ten oh five"),
    ("9:00", "time", "nine o'clock"),
    ("10.30 pm", "time", "ten thirty p.m."),
    ("7 a.m.", "time", "seven a.m."),
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


def test_scan_keeps_whole_unicode_names_and_finds_dates_and_times() -> None:
    project = project_from_text(
        "Dvořák left Gdańsk; Joaquín met Mühlberg in Reykjavík. François O’Brien and "
        "Jean-Luc d'Artagnan came on 14/07/1789, or 14 July 1789, at 10:30 and at 10.30 pm. "
        "It cost €0.99, not 3.14 pounds.")
    found = {w.text: w for w in scan(project, known={"left", "met", "in", "and", "came", "on",
                                                     "or", "at", "it", "cost", "not",
                                                     "pounds"})}
    for name in ("Dvořák", "Gdańsk", "Joaquín", "Mühlberg", "Reykjavík", "François",
                 "O’Brien", "Jean-Luc", "d'Artagnan"):
        assert name in found and found[name].kind in ("name", "invented"), name
    assert not {"Dvo", "Gda", "Joaqu", "hlberg", "Fran", "ois"} & set(found)
    assert found["14/07/1789"].kind == "date" and found["14 July 1789"].kind == "date"
    assert found["10:30"].suggestion == "ten thirty"
    assert found["10.30 pm"].suggestion == "ten thirty p.m."
    assert found["€0.99"].suggestion == "ninety-nine cents"
    assert found["3.14"].kind == "number"
