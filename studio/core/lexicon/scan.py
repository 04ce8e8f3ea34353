"""Manuscript scan: the words no lexicon knows, before credits are spent on them.

A word is known when the CMU dictionary shipped with PocketSphinx has it or a project rule
covers it. Words are runs of Unicode letters (Dvořák, Gdańsk, François), with apostrophes
and hyphens inside them (O'Brien, Jean-Luc). What is left is sorted into names, invented
words, acronyms, numbers, years, currencies, dates and times, with counts, where they occur
(chapter, paragraph) and a suggested rule or spoken form ("£5" -> "five pounds", "£1.50" ->
"one pound fifty", "1887" -> "eighteen eighty-seven", "14/07/1789" -> "the fourteenth of
July seventeen eighty-nine", "10.30 pm" -> "ten thirty p.m.").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Final

from studio.core.lexicon.match import matcher_for
from studio.core.model import Project, speakable_text

_MONTHS: Final = ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")
_MONTH: Final = "(?:" + "|".join(_MONTHS) + ")"
_LETTERS: Final = r"[^\W\d_]+"  # Unicode letters: Dvořák, Gdańsk, Joaquín, François
_NAME: Final = rf"{_LETTERS}(?:['’]{_LETTERS})*"  # O'Brien, d'Artagnan
_DATE_RE: Final = (
    r"\d{1,2}/\d{1,2}/\d{4}\b|\d{4}-\d{2}-\d{2}\b"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\s+\d{{4}}\b"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b")
_TIME_RE: Final = (r"\d{1,2}:\d{2}(?:\s?(?:[ap]\.m\.|[ap]m\b))?"
                   r"|\d{1,2}(?:\.\d{2})?\s?(?:[ap]\.m\.|[ap]m\b)")
_DATE: Final = re.compile(_DATE_RE)
_TIME: Final = re.compile(_TIME_RE)
_TOKEN: Final = re.compile(
    rf"(?P<date>{_DATE_RE})|(?P<time>{_TIME_RE})"
    r"|(?P<money>[£$€]\d[\d,]*(?:\.\d\d)?)|(?P<num>\d[\d,]*(?:\.\d+)?(?:st|nd|rd|th)?)"
    rf"|(?P<word>{_NAME}(?:-{_NAME})*)"
)
_ONES: Final = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)
_TENS: Final = (
    "_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_ORDINAL: Final = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                   "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
_CURRENCY: Final = {"£": ("pound", "pounds", "penny", "pence"),
                    "$": ("dollar", "dollars", "cent", "cents"),
                    "€": ("euro", "euros", "cent", "cents")}


def number_words(n: int) -> str:
    """Return ``n`` in English words ("one hundred twenty-three")."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else "")
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand"),
                       (100, "hundred")):
        if n >= size:
            head = f"{number_words(n // size)} {name}"
            return head + (f" {number_words(n % size)}" if n % size else "")
    raise AssertionError(n)


def year_words(n: int) -> str:
    """Return a year as said aloud ("eighteen eighty-seven", "nineteen oh five").

    2000-2009 are "two thousand" and "two thousand and five"."""
    if 2000 <= n <= 2009:
        return "two thousand" + (f" and {_ONES[n - 2000]}" if n > 2000 else "")
    high, low = divmod(n, 100)
    if low == 0:
        return f"{number_words(high)} hundred"
    return f"{number_words(high)} {'oh ' + _ONES[low] if low < 10 else number_words(low)}"


def ordinal_words(n: int) -> str:
    """Return ``n`` as an ordinal ("twenty-second")."""
    words = number_words(n)
    head, sep, last = words.rpartition("-") if "-" in words.split()[-1] else words.rpartition(
        " ")
    if last in _ORDINAL:
        last = _ORDINAL[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def date_words(token: str) -> str:
    """Return a date as said aloud ("the fourteenth of July seventeen eighty-nine").

    ``14/07/1789`` is read day first unless the first number cannot be a month's day and the
    second can (``07/14/1789``); ``1789-07-14`` is ISO; ``July 14, 1789`` keeps its order.
    """
    text = " ".join(token.split())
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if m:
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        day, month = (b, a) if a <= 12 < b else (a, b)
    elif m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := re.fullmatch(rf"(\d{{1,2}})(?:st|nd|rd|th)? ({_MONTH}) (\d{{4}})", text):
        day, month, year = int(m.group(1)), _MONTHS.index(m.group(2)) + 1, int(m.group(3))
    else:
        m = re.fullmatch(rf"({_MONTH}) (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})", text)
        assert m is not None, token
        return (f"{m.group(1)} {ordinal_words(int(m.group(2)))}, "
                f"{year_words(int(m.group(3)))}")
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return " ".join(number_words(int(x)) for x in re.findall(r"\d+", text))
    return f"the {ordinal_words(day)} of {_MONTHS[month - 1]} {year_words(year)}"


def time_words(token: str) -> str:
    """Return a time as said aloud ("10:30" -> "ten thirty", "10.30 pm" -> "ten thirty p.m.")."""
    m = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?\s?([ap])?\.?m?\.?", token.strip())
    assert m is not None, token
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    said = number_words(hour)
    if minute:
        said += " " + (f"oh {_ONES[minute]}" if minute < 10 else number_words(minute))
    elif not m.group(3):
        said += " o'clock"
    return said + (f" {m.group(3)}.m." if m.group(3) else "")


def spoken_form(token: str) -> tuple[str, str]:
    """Return (kind, spoken form) of a number, year, currency, date or time token."""
    if _DATE.fullmatch(token):
        return "date", date_words(token)
    if _TIME.fullmatch(token):
        return "time", time_words(token)
    if token[0] in _CURRENCY:
        one, many, sub_one, sub_many = _CURRENCY[token[0]]
        whole, _, cents = token[1:].replace(",", "").partition(".")
        n, c = int(whole), int(cents or 0)
        if n == 0 and c:  # "€0.99" -> "ninety-nine cents"
            return "currency", f"{number_words(c)} {sub_one if c == 1 else sub_many}"
        said = f"{number_words(n)} {one if n == 1 else many}"
        if c:  # "£1.50" -> "one pound fifty"
            said += f" {number_words(c)}"
        return "currency", said
    plain = token.replace(",", "")
    if plain[-2:] in ("st", "nd", "rd", "th"):
        return "number", ordinal_words(int(plain[:-2]))
    if "." in plain:
        whole, _, frac = plain.partition(".")
        return "number", f"{number_words(int(whole))} point " + " ".join(
            _ONES[int(d)] for d in frac)
    n = int(plain)
    if len(plain) == 4 and 1100 <= n <= 2099 and "," not in token:
        return "year", year_words(n)
    return "number", number_words(n)


@lru_cache(maxsize=1)
def cmu_words() -> frozenset[str]:
    """Return the words of the CMU dictionary shipped with PocketSphinx (lower case)."""
    try:
        import pocketsphinx
    except ImportError:
        return frozenset()
    path = Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"
    words = set()
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            word = line.split(" ", 1)[0]
            words.add(word.split("(", 1)[0])
    return frozenset(words)


@dataclass(slots=True)
class UnknownWord:
    """A word no lexicon knows: how often and where, and what to do about it."""

    text: str
    kind: str  # name, invented, acronym, number, year, currency
    count: int = 0
    places: list[tuple[int, int]] = field(default_factory=list)  # (chapter, paragraph), 0-based
    suggestion: str = ""  # the spoken form, alias or phonemes proposed
    rule_kind: str = "alias"  # the kind of rule the suggestion makes ("alias" or "phoneme")


def scan(project: Project, known: Iterable[str] | None = None,
         phonemize: Callable[[str], str] | None = None) -> list[UnknownWord]:
    """Return the words of ``project`` no lexicon knows, most frequent first.

    Args:
        known: the dictionary's words (lower case); by default PocketSphinx's CMU dictionary.
        phonemize: optional text -> IPA (the offline engine's reading), used to propose a
            phoneme rule for names and invented words.
    """
    words = frozenset(known) if known is not None else cmu_words()
    matcher = matcher_for(project.dictionaries)
    found: dict[str, UnknownWord] = {}
    for ci, chapter in enumerate(project.chapters):
        for bi, block in enumerate(chapter.blocks):
            text = speakable_text(block.text)
            covered = [(m.start, m.end) for m in matcher.find(text)]
            for m in _TOKEN.finditer(text):
                if any(a <= m.start() < b for a, b in covered):
                    continue
                token = m.group().rstrip("’'")
                if m.group("word"):
                    low = token.lower().replace("’", "'")
                    if low.endswith("'s"):
                        low = low[:-2]
                    parts = low.split("-")
                    if len(token) > 1 and token.isupper() and token.isalpha():
                        kind = "acronym"
                    elif all(p in words for p in parts):
                        continue
                    else:
                        kind = "name" if token[0].isupper() else "invented"
                        token = token if not token.endswith(("'s", "’s")) else token[:-2]
                else:
                    kind = ""
                    token = " ".join(token.split())
                entry = found.get(token)
                if entry is None:
                    entry = found[token] = UnknownWord(token, kind)
                    if kind == "":
                        entry.kind, entry.suggestion = spoken_form(token)
                    elif kind == "acronym":
                        entry.suggestion = (token.lower() if token.lower() in words
                                            else " ".join(f"{c}." for c in token))
                    elif phonemize is not None:
                        entry.suggestion, entry.rule_kind = phonemize(token), "phoneme"
                entry.count += 1
                if not entry.places or entry.places[-1] != (ci, bi):
                    entry.places.append((ci, bi))
    return sorted(found.values(), key=lambda w: (-w.count, w.text))
