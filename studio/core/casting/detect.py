"""Find who speaks each quoted line of a book, offline, with a confidence per line.

Per paragraph, quotes are found (curly or straight double quotes, or curly single quotes in
books that use only those) and the narration around them is read for an attribution:

* after a quote: ``said Holmes``, ``Holmes said``, ``replied his wife``, ``he continued``;
* before a quote: ``Mrs. Bennet said only, "…"``; a paragraph ending ``… addressed her
  with:`` attributes the next one;
* speakers are names (with titles: Mr. Bennet and Mrs. Bennet are two people), pronouns
  (he/she: the last male/female speaker, else the last one mentioned), relations ("his
  wife": the spouse of the man addressed or last mentioned) and descriptions ("the
  inspector"); nicknames join a known given name ("Lizzy" -> Elizabeth);
* vocatives inside a quote ("…, Lizzy.") name who is spoken to: never the speaker, and
  the likely speaker of the reply;
* unattributed lines in a conversation alternate between its last two speakers; a line
  right after a narration paragraph whose last sentence starts with a name goes to that
  person.

Every line gets a confidence in [0, 1] and the method that found it, so a reviewer can go
through the doubtful ones first. Runs in linear time: a 100,000-word novel takes well
under a second.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from studio.core.casting.names import (
    FEMALE_NAMES,
    FEMALE_TITLES,
    FEMALE_WORDS,
    MALE_NAMES,
    MALE_TITLES,
    MALE_WORDS,
    MIDDLE_AGED_TITLES,
    NICKNAMES,
    NOT_NAMES,
    OLD_WORDS,
    PREPOSITIONS,
    RELATIONS,
    SPEECH_VERBS,
    TITLES,
    YOUNG_TITLES,
    YOUNG_WORDS,
)
from studio.core.model import BlockId, ChapterId, Project

NARRATOR_I: Final = "I"  # first-person narrator's own lines ("said I")

_TITLE = r"(?:" + "|".join(sorted((t.capitalize() for t in TITLES), key=len, reverse=True)) + r")"
_NAME_WORD = r"[A-Z][a-zA-Z'’]*[a-z](?:-[A-Z]?[a-z]+)*"
_NAME = rf"(?:{_TITLE}\.?\s+)?{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}"
_REL = r"(?:his|her|their|my|the)\s+(?:" + "|".join(RELATIONS) + r")\b"
_DESC = rf"(?:the\s+(?:[a-z]+\s+)?[a-z]+|an?\s+[a-z]+\s+{_NAME_WORD})"
_SPEAKER = rf"(?P<who>{_REL}|{_NAME}|{_DESC}|he|she|I)"
_VERB = r"(?P<verb>" + "|".join(sorted(SPEECH_VERBS)) + r"|went on|broke in)\b"
_ADVERB = r"(?:(?:[a-z]+ly|thus|then|now)\s+)?"

_AFTER_INVERTED = re.compile(rf"^[\s,;:—–-]*{_VERB}\s+{_SPEAKER}(?![\w'’])")
_AFTER_NORMAL = re.compile(rf"^[\s,;:—–-]*{_SPEAKER}\s+{_ADVERB}{_VERB}")
_BEFORE = re.compile(rf"(?:^|[.!?;,]\s+|\band\s+){_SPEAKER}\s+{_ADVERB}{_VERB}[^.!?“”\"]*[,:—]\s*$")
_BEAT = re.compile(rf"^{_SPEAKER}\s+{_ADVERB}[a-z]+")
_VOCATIVE = re.compile(
    rf"(?:^|[,;!?.—]\s*|\bdear\s+|\boh,?\s+)(?P<who>{_NAME})(?=\s*(?:[,!?.;—]|$))"
)
# "… when thus accosted by Miss Bingley,—": the next quote is hers.
_BY = re.compile(rf"\b(?:accosted|addressed|interrupted|greeted|hailed|answered)\s+by\s+"
                 rf"(?P<who>{_NAME})[^.!?“”\"]*[,:—]\s*$")
# A narration paragraph ending "… till Sir William thus began:—" or "she turned to him and
# said,—": the next quote is theirs.
_BEFORE_NEXT = re.compile(rf"(?:^|[.!?;,]\s+|\b(?:and|till|until|when|while|then)\s+)"
                          rf"{_SPEAKER}\s+(?:[a-z]+(?:\s+[a-z]+){{0,3}}\s+and\s+)?"
                          rf"{_ADVERB}{_VERB}[^.!?“”\"]*[,:—]\s*$")
_SENTENCE_END = re.compile(r"[.!?;][\"”’]?\s+")
_MENTION = re.compile(_NAME)
_WORDS = re.compile(r"\S+")

_DOUBLE_OPEN = "“"
_DOUBLE_CLOSE = "”"


@dataclass(frozen=True, slots=True)
class Line:
    """One quoted span of a paragraph, ``[start, end)`` with its quote marks, and its speaker.

    ``speaker`` is a character id (``None``: not attributed; the narrator reads it).
    ``method`` says how it was found: ``explicit``, ``pronoun``, ``relation``, ``vocative``,
    ``beat``, ``alternation``, ``continuation``, ``paragraph`` (another quote of the same
    paragraph was attributed) or ``""``.
    """

    chapter_id: ChapterId
    block_id: BlockId
    start: int
    end: int
    text: str
    speaker: str | None
    confidence: float
    method: str

    @property
    def words(self) -> int:
        """Return the number of words spoken."""
        return len(_WORDS.findall(self.text))


@dataclass(slots=True)
class Character:
    """A person who speaks, with the lines and words attributed to them."""

    id: str
    name: str
    gender: str = ""  # "male", "female" or ""
    age: str = ""  # "young", "old" or ""
    aliases: set[str] = field(default_factory=set)
    forms: Counter[str] = field(default_factory=Counter)
    lines: int = 0
    words: int = 0
    confidence_sum: float = 0.0

    @property
    def confidence(self) -> float:
        """Return the mean confidence of this character's lines."""
        return self.confidence_sum / self.lines if self.lines else 0.0


@dataclass(frozen=True, slots=True)
class CastSheet:
    """What detection found: characters (most lines first) and every quoted line."""

    characters: tuple[Character, ...]
    lines: tuple[Line, ...]

    def character(self, character_id: str) -> Character:
        """Return the character with ``character_id``."""
        for c in self.characters:
            if c.id == character_id:
                return c
        raise KeyError(character_id)

    def lines_of(self, character_id: str) -> list[Line]:
        """Return the lines of one character, in reading order ("where do they speak")."""
        return [ln for ln in self.lines if ln.speaker == character_id]

    def doubtful(self, below: float = 0.6) -> list[Line]:
        """Return the lines to review first: unattributed or under ``below`` confidence."""
        return [ln for ln in self.lines if ln.speaker is None or ln.confidence < below]


# ---------------------------------------------------------------------------------------------
# Quotes in a paragraph


@dataclass(frozen=True, slots=True)
class _Quote:
    start: int
    end: int
    closed: bool


def _is_title_dot(text: str, dot: int) -> bool:
    """Return whether the full stop at ``dot`` ends a title such as "Mr." (not a sentence)."""
    word = re.search(r"(\w+)$", text[:dot])
    return word is not None and text[dot] == "." and word.group(1).lower() in TITLES


def _first_clause(text: str) -> str:
    """Return ``text`` up to its first sentence end or semicolon (titles do not end it)."""
    for m in _SENTENCE_END.finditer(text):
        if not _is_title_dot(text, m.start()):
            return text[:m.start() + 1]
    return text


def _sentences(text: str) -> list[str]:
    """Split ``text`` into sentences (titles such as "Mrs." do not end one)."""
    text = text.strip()
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.end() < len(text) and text[m.start()] != ";" and not _is_title_dot(text,
                                                                                 m.start()):
            out.append(text[start:m.end()].strip())
            start = m.end()
    out.append(text[start:])
    return [x for x in out if x]


def _last_sentence(text: str) -> str:
    """Return the last sentence of ``text``."""
    found = _sentences(text)
    return found[-1] if found else ""


def _quote_style(texts: Iterable[str]) -> str:
    """Return "curly", "straight" or "single", by which marks the book uses."""
    counts = Counter[str]()
    for text in texts:
        counts["curly"] += text.count(_DOUBLE_OPEN)
        counts["straight"] += text.count('"')
        counts["single"] += text.count("‘")
    if counts["curly"] == counts["straight"] == 0 and counts["single"]:
        return "single"
    return "curly" if counts["curly"] >= counts["straight"] else "straight"


def _quotes(text: str, style: str) -> list[_Quote]:
    """Return the quoted spans of one paragraph (an unclosed last one runs to its end)."""
    out: list[_Quote] = []
    if style == "straight":
        marks = [i for i, ch in enumerate(text) if ch == '"']
        for a, b in zip(marks[::2], marks[1::2], strict=False):
            out.append(_Quote(a, b + 1, True))
        if len(marks) % 2:
            out.append(_Quote(marks[-1], len(text), False))
        return out
    opener, closer = ("‘", "’") if style == "single" else (_DOUBLE_OPEN, _DOUBLE_CLOSE)
    i = 0
    n = len(text)
    while i < n:
        start = text.find(opener, i)
        if start < 0:
            break
        j = start + 1
        end = -1
        while j < n:
            k = text.find(closer, j)
            if k < 0:
                break
            # In single-quote books ’ is also the apostrophe: a closer is not followed by a
            # letter ("don’t" is no end of speech).
            if style == "single" and k + 1 < n and text[k + 1].isalpha():
                j = k + 1
                continue
            nxt = text.find(opener, start + 1)
            if style != "single" and 0 <= nxt < k:
                break  # a new quote opens before this one closes: the first was left open
            end = k
            break
        if end < 0:
            nxt = text.find(opener, start + 1)
            if nxt < 0:
                out.append(_Quote(start, n, False))
                break
            out.append(_Quote(start, nxt, False))
            i = nxt
            continue
        out.append(_Quote(start, end + 1, True))
        i = end + 1
    return out


# ---------------------------------------------------------------------------------------------
# Characters


def _gender_of_title(title: str) -> str:
    t = title.lower().rstrip(".")
    if t in MALE_TITLES:
        return "male"
    if t in FEMALE_TITLES:
        return "female"
    return ""


def _gender_of_given(name: str) -> str:
    n = name.lower()
    n = NICKNAMES.get(n, n)
    if n in FEMALE_NAMES:
        return "female"
    if n in MALE_NAMES:
        return "male"
    return ""


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "someone"


class _Registry:
    """Characters by the names they go by; Mr. and Mrs. Bennet stay two people."""

    def __init__(self) -> None:
        self.characters: dict[str, Character] = {}
        self.alias: dict[str, str] = {}
        self.ambiguous: set[str] = set()

    def _new(self, name: str, gender: str) -> Character:
        cid = _slug(name)
        n = 2
        while cid in self.characters:
            cid = f"{_slug(name)}-{n}"
            n += 1
        c = Character(cid, name, gender)
        self.characters[cid] = c
        return c

    def _register(self, key: str, c: Character) -> None:
        key = key.lower()
        if key in self.ambiguous:
            return
        held = self.alias.get(key)
        if held is None:
            self.alias[key] = c.id
        elif held != c.id:
            del self.alias[key]
            self.ambiguous.add(key)
        c.aliases.add(key)

    def find(self, key: str) -> Character | None:
        """Return the character a name or alias already stands for, if known."""
        cid = self.alias.get(key.lower())
        return self.characters[cid] if cid else None

    def named(self, raw: str, create: bool = True) -> Character | None:
        """Return the character a name stands for, creating it if new (``create``)."""
        words = raw.replace(".", ". ").split()
        while len(words) > 1 and words[0].lower() in PREPOSITIONS:
            words = words[1:]  # "By Jane this attention was received": Jane
        title = ""
        if len(words) > 1 and words[0].lower().rstrip(".") in TITLES:
            title = words[0].rstrip(".")
            words = words[1:]
        words = [w for w in words if w]
        if not words or words[0].lower() in NOT_NAMES or words[0].lower().rstrip(".") in TITLES:
            return None
        full = " ".join(([title] if title else []) + words)
        display = full.replace(title, title + ".", 1) if title and title.lower() in {
            "mr", "mrs", "ms", "dr", "st"} else full
        gender = _gender_of_title(title) if title else _gender_of_given(words[0])
        hit = self.find(full)
        given = words[0].lower()
        if hit is None and title and len(words) > 1:
            hit = self.find(f"{title} {words[0]}")  # "Sir William Lucas" is "Sir William"
        if hit is None and title and given in NICKNAMES:
            hit = self.find(f"{title} {NICKNAMES[given]}") or self.find(NICKNAMES[given])
        if hit is None and title:
            last = self.find(words[-1])
            if last is not None and (not last.gender or last.gender == gender) and not any(
                    a.split()[0].rstrip(".") in TITLES and _gender_of_title(a.split()[0])
                    not in ("", gender) for a in last.aliases if " " in a):
                hit = last
        if hit is None and not title:
            hit = self.find(words[-1]) or self.find(given)
            if hit is None and given in NICKNAMES:
                hit = self.find(NICKNAMES[given])
        if hit is None:
            if not create:
                return None
            hit = self._new(display, gender)
        if gender and not hit.gender:
            hit.gender = gender
        if title and not hit.age:
            hit.age = ("young" if title.lower() in YOUNG_TITLES else "middle aged"
                       if title.lower() in MIDDLE_AGED_TITLES else "")
        hit.forms[display] += 1
        self._register(full, hit)
        if title:
            self._register(f"{title} {words[-1]}", hit)
            if len(words) > 1:
                self._register(f"{title} {words[0]}", hit)
        if len(words) > 1 or not title:
            self._register(words[-1], hit)
        if len(words) > 1 or not title:
            self._register(words[0], hit)
        return hit

    def described(self, phrase: str, gender: str = "") -> Character:
        """Return the character for a description such as "the inspector"."""
        said = " ".join(phrase.split())
        key = said.lower()
        hit = self.find(key)
        if hit is None:
            words = set(re.findall(r"[a-z-]+", key))
            gender = gender or ("male" if words & MALE_WORDS else
                                "female" if words & FEMALE_WORDS else "")
            hit = self._new(said[:1].upper() + said[1:], gender)  # "A young Lucas"
            hit.age = "young" if words & YOUNG_WORDS else "old" if words & OLD_WORDS else ""
            self._register(key, hit)
        return hit


# ---------------------------------------------------------------------------------------------
# Detection


@dataclass(slots=True)
class _Scene:
    """Who spoke and who was mentioned lately, for pronouns and alternation."""

    speakers: list[str] = field(default_factory=list)  # this conversation, in order
    last_speaker: dict[str, str] = field(default_factory=dict)  # gender -> character id
    last_mention: dict[str, str] = field(default_factory=dict)  # gender -> character id
    addressee: str | None = None  # spoken to in the last line
    addressed_by: dict[str, str] = field(default_factory=dict)  # speaker -> last addressee
    unattributed_run: int = 0


@dataclass(slots=True)
class _Found:
    speaker: str | None
    confidence: float
    method: str


class _Detector:
    def __init__(self) -> None:
        self.reg = _Registry()
        self.scene = _Scene()
        self.local_subject: str | None = None  # named subject of this paragraph's narration

    # -- resolving a speaker phrase

    def _pronoun(self, word: str) -> tuple[str | None, float]:
        if word == "I":
            return self.reg.described(NARRATOR_I).id, 0.85
        gender = "male" if word.lower() == "he" else "female"
        local = self.local_subject
        if local is not None and self.reg.characters[local].gender in ("", gender):
            self.reg.characters[local].gender = gender
            return local, 0.75
        cid = self.scene.last_speaker.get(gender) or self.scene.last_mention.get(gender)
        return cid, 0.75

    def _subject(self, narration: str) -> str | None:
        """Return the person the last sentence starting with a name is about, if any."""
        found = None
        for sentence in _sentences(narration):
            m = _BEAT.match(sentence.strip())
            if m is None or m.group("who") in ("he", "she", "I"):
                continue
            who = m.group("who")
            words = who.split()
            create = len(words) > 1 or _gender_of_given(words[0]) != "" or (
                not words[0].endswith("ly") and words[0].lower() not in NOT_NAMES)
            c = self.reg.named(who, create=create) if not who.startswith(("the ", "his ",
                                                                            "her ")) else None
            if c is not None:
                found = c.id
        return found

    def _relation(self, phrase: str, addressee: str | None) -> tuple[str | None, float]:
        owner_word, noun = phrase.lower().split()[0], phrase.lower().split()[-1]
        gender, kind = RELATIONS[noun]
        owner: Character | None = None
        owner_gender = {"his": "male", "her": "female"}.get(owner_word, "")
        if addressee is not None:
            cand = self.reg.characters[addressee]
            if not owner_gender or cand.gender in (owner_gender, ""):
                owner = cand
        if owner is None and owner_gender:
            cid = self.scene.last_mention.get(owner_gender) or self.scene.last_speaker.get(
                owner_gender)
            owner = self.reg.characters[cid] if cid else None
        if kind in ("spouse", "parent"):
            title = {"female": "Mrs", "male": "Mr"}.get(gender, "")
            surname = self._surname(owner) if owner is not None else None
            if kind == "spouse" and surname and title:
                c = self.reg.named(f"{title}. {surname}")
                if c is not None:
                    return c.id, 0.8
            if kind == "parent" and title:
                if surname and owner is not None and owner.gender != gender:
                    c = self.reg.named(f"{title}. {surname}", create=False)
                    if c is not None:
                        return c.id, 0.7
                best = self._most_spoken(title, gender)
                if best is not None:
                    return best, 0.65
        c = self.reg.described(phrase, gender)
        return c.id, 0.5

    @staticmethod
    def _surname(c: Character) -> str | None:
        for form in c.forms:
            words = form.split()
            if len(words) > 1:
                return words[-1]
        return None

    def _most_spoken(self, title: str, gender: str) -> str | None:
        best: tuple[int, int, str] | None = None
        for c in self.reg.characters.values():
            titled = any(f.split()[0].rstrip(".") == title for f in c.forms if " " in f)
            if titled and c.gender == gender:
                score = (c.lines, sum(c.forms.values()), c.id)
                best = score if best is None or score > best else best
        return best[2] if best else None

    def _resolve(self, who: str, addressee: str | None) -> tuple[str | None, float, str]:
        if who in ("he", "she", "I"):
            cid, conf = self._pronoun(who)
            return cid, conf, "pronoun"
        low = who.lower()
        if low.split()[0] in ("his", "her", "their", "my", "the") and low.split()[-1] in (
                RELATIONS):
            cid, conf = self._relation(who, addressee)
            return cid, conf, "relation"
        if low.startswith(("the ", "a ", "an ")):
            return self.reg.described(who).id, 0.7, "explicit"
        c = self.reg.named(who)
        if c is None:
            return None, 0.0, ""
        return c.id, 0.95, "explicit"

    # -- reading narration

    def _mentions(self, narration: str) -> None:
        for m in _MENTION.finditer(narration):
            raw = m.group()
            first = raw.split()[0].rstrip(".").lower()
            if first not in TITLES and m.start() > 0 and narration[m.start() - 2:m.start()
                                                                   ].strip() in (".", "")\
                    and first in NOT_NAMES:
                continue
            c = self.reg.named(raw, create=first in TITLES)
            if c is not None and c.gender:
                self.scene.last_mention[c.gender] = c.id

    def _vocative(self, quote: str) -> str | None:
        for m in _VOCATIVE.finditer(quote):
            raw = m.group("who")
            if not quote[:m.start("who")].strip(" “”\"'‘’—,.!?") and not quote[
                    m.end("who"):].strip(" “”\"'‘’—,.!?"):
                return None  # “Miss Elizabeth Bennet.”: a name said, not someone spoken to
            words = raw.split()
            titled = words[0].rstrip(".").lower() in TITLES and len(words) > 1
            c = self.reg.named(raw, create=titled)
            if c is not None:
                return c.id
        return None

    # -- a chapter

    def chapter(self, chapter_id: ChapterId, blocks: Sequence[tuple[BlockId, str]],
                style: str) -> list[Line]:
        self.scene.speakers.clear()
        self.scene.addressee = None
        self.scene.unattributed_run = 0
        out: list[Line] = []
        carried: _Found | None = None  # a paragraph ending "… addressed her with:"
        continuing: _Found | None = None  # a quote left open at the end of a paragraph
        beat: str | None = None  # subject of the last sentence of a narration paragraph
        for block_id, text in blocks:
            quotes = _quotes(text, style)
            if not quotes:
                self._mentions(text)
                last = _last_sentence(text)
                carried = None
                beat = None
                ending = last.rstrip().rstrip("—–-")
                m = _BEFORE_NEXT.search(last) if ending.endswith((":", ",")) and (
                    ending.endswith(":") or ending != last.rstrip()) else None
                m = m or (_BY.search(last) if ending != last.rstrip() or ending.endswith(":")
                          else None)
                if m is not None:
                    cid, conf, method = self._resolve(m.group("who"), None)
                    carried = _Found(cid, conf, method) if cid else None
                beat = self._subject(text)
                if len(text.split()) > 150:
                    self.scene.speakers.clear()  # a long narration ends the conversation
                continuing = None
                continue
            found = self._paragraph(text, quotes, carried, continuing, beat)
            carried = None
            beat = None
            continuing = None
            for q, f in zip(quotes, found, strict=True):
                out.append(Line(chapter_id, block_id, q.start, q.end, text[q.start:q.end],
                                f.speaker, round(f.confidence, 2), f.method))
            if not quotes[-1].closed and found[-1].speaker is not None:
                continuing = found[-1]
        return out

    def _paragraph(self, text: str, quotes: list[_Quote], carried: _Found | None,
                   continuing: _Found | None, beat: str | None) -> list[_Found]:
        scene = self.scene
        # Narration of this paragraph first: names mentioned, for pronouns and relations.
        gaps = []
        cursor = 0
        for q in quotes:
            gaps.append(text[cursor:q.start])
            cursor = q.end
        gaps.append(text[cursor:])
        for gap in gaps:
            self._mentions(gap)
        self.local_subject = self._subject(gaps[0]) if gaps[0].strip() else None
        addressees = [self._vocative(text[q.start + 1:q.end]) for q in quotes]
        addressee = next((a for a in addressees if a), None)
        found: list[_Found | None] = []
        for i in range(len(quotes)):
            hit: _Found | None = None
            after = gaps[i + 1]
            after_head = _first_clause(after)
            for pattern in (_AFTER_INVERTED, _AFTER_NORMAL):
                m = pattern.match(after_head)
                if m is not None:
                    cid, conf, method = self._resolve(m.group("who"), addressee)
                    if cid is not None:
                        hit = _Found(cid, conf, method)
                        break
            if hit is None:
                m = _BEFORE.search(gaps[i])
                if m is not None:
                    cid, conf, method = self._resolve(m.group("who"), addressee)
                    if cid is not None:
                        hit = _Found(cid, conf, method)
            found.append(hit)
        # Quotes of one paragraph are one speaker's, unless attributed otherwise.
        known = [f for f in found if f is not None]
        if known:
            result = [f or _Found(known[0].speaker, known[0].confidence - 0.05, "paragraph")
                      for f in found]
            scene.unattributed_run = 0
        else:
            guess = self._guess(carried, continuing, beat, addressee)
            result = [guess for _ in quotes]
        speaker = result[0].speaker
        if speaker is not None:
            if speaker == addressee:  # nobody speaks to themselves: take the other one
                other = [s for s in scene.speakers[-2:] if s != speaker]
                if other and result[0].method in ("alternation", "beat", "vocative"):
                    result = [_Found(other[-1], 0.4, "alternation") for _ in quotes]
                    speaker = other[-1]
            self._spoke(speaker, addressee)
        scene.addressee = addressee
        return result

    def _guess(self, carried: _Found | None, continuing: _Found | None, beat: str | None,
               addressee: str | None) -> _Found:
        scene = self.scene
        if carried is not None:
            scene.unattributed_run = 0
            return carried
        if continuing is not None:
            return _Found(continuing.speaker, continuing.confidence, "continuation")
        scene.unattributed_run += 1
        decay = 0.02 * (scene.unattributed_run - 1)
        if scene.addressee is not None and scene.addressee != addressee and (
                not scene.speakers or scene.addressee != scene.speakers[-1]):
            return _Found(scene.addressee, 0.7, "vocative")
        if beat is not None and beat != addressee:
            return _Found(beat, 0.6, "beat")
        recent = scene.speakers
        if len(recent) >= 2 and recent[-1] != recent[-2]:
            return _Found(recent[-2], max(0.4, 0.65 - decay), "alternation")
        if recent:
            last = recent[-1]
            other = scene.addressed_by.get(last)
            if other is None:
                gender = self.reg.characters[last].gender
                cands = [c for g, c in scene.last_mention.items() if c != last and
                         (not gender or g)]
                other = cands[-1] if cands else None
            if other is not None and other != addressee:
                return _Found(other, 0.5, "alternation")
        return _Found(None, 0.0, "")

    def _spoke(self, speaker: str, addressee: str | None) -> None:
        scene = self.scene
        if not scene.speakers or scene.speakers[-1] != speaker:
            scene.speakers.append(speaker)
            del scene.speakers[:-8]
        gender = self.reg.characters[speaker].gender
        if gender:
            scene.last_speaker[gender] = speaker
            scene.last_mention[gender] = speaker
        if addressee is not None and addressee != speaker:
            scene.addressed_by[speaker] = addressee


def _display_name(forms: Counter[str]) -> str:
    """Return the fullest name a character goes by ("Sherlock Holmes", not "Lizzy")."""
    def given(f: str) -> str:
        words = f.split()
        titled = len(words) > 1 and words[0].rstrip(".").lower() in TITLES
        return words[1 if titled else 0].lower()

    def untitled(f: str) -> bool:
        return f.split()[0].rstrip(".").lower() not in TITLES

    proper = [f for f in forms if given(f) not in NICKNAMES] or [
        f for f in forms if untitled(f)]  # "Bob" alone stays "Bob"
    if not proper:  # known only as "Miss Eliza": the given name, "Elizabeth"
        return NICKNAMES[given(max(forms, key=lambda f: (forms[f], f)))].capitalize()
    return max(proper, key=lambda f: (len(f.split()), untitled(f), forms[f], f))


def detect_chapters(
    chapters: Sequence[tuple[ChapterId, Sequence[tuple[BlockId, str]]]],
) -> CastSheet:
    """Return the cast sheet of chapters given as (id, [(block id, text), ...])."""
    style = _quote_style(text for _, blocks in chapters for _, text in blocks)
    detector = _Detector()
    lines: list[Line] = []
    for chapter_id, blocks in chapters:
        lines.extend(detector.chapter(chapter_id, blocks, style))
    characters = detector.reg.characters
    for c in characters.values():
        c.lines = c.words = 0
        c.confidence_sum = 0.0
        if c.forms:
            c.name = _display_name(c.forms)
    for line in lines:
        if line.speaker is not None:
            c = characters[line.speaker]
            c.lines += 1
            c.words += line.words
            c.confidence_sum += line.confidence
    speaking = sorted((c for c in characters.values() if c.lines),
                      key=lambda c: (-c.lines, c.name))
    return CastSheet(tuple(speaking), tuple(lines))


def detect(project: Project) -> CastSheet:
    """Return the cast sheet of a project: its characters and who speaks every quote."""
    return detect_chapters([
        (chapter.id, [(b.id, b.text) for b in chapter.blocks]) for chapter in project.chapters
    ])
