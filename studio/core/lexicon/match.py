"""Find where dictionary rules apply in text: leftmost match, first rule in order wins."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from studio.core.model import DictionaryRef, PronunciationRule

_WORD_RE: Final = re.compile(r"\w+")
_CACHE_SIZE: Final = 32


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule applying to ``text[start:end]``; ``index`` is the rule's place in the order."""

    start: int
    end: int
    index: int
    rule: PronunciationRule


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class Matcher:
    """Rules compiled for fast matching: an index by first word, plus a few scanned rules."""

    def __init__(self, rules: Sequence[PronunciationRule]) -> None:
        self.rules = tuple(rules)
        self._by_word: dict[str, list[int]] = {}
        self._scanned: list[tuple[int, re.Pattern[str]]] = []
        for index, rule in enumerate(self.rules):
            g = rule.grapheme
            if not g:
                continue
            first = _WORD_RE.match(g)
            if rule.word_boundaries and first is not None:
                self._by_word.setdefault(first.group().lower(), []).append(index)
            else:
                pattern = re.escape(g)
                if rule.word_boundaries:
                    pattern = (r"(?<!\w)" if _is_word(g[0]) else "") + pattern + (
                        r"(?!\w)" if _is_word(g[-1]) else "")
                flags = 0 if rule.case_sensitive else re.IGNORECASE
                self._scanned.append((index, re.compile(pattern, flags)))

    def _fits(self, text: str, pos: int, index: int) -> int:
        """Return the end of rule ``index`` matched at ``pos`` (an indexed rule), or -1."""
        rule = self.rules[index]
        g = rule.grapheme
        end = pos + len(g)
        piece = text[pos:end]
        if piece != g and (rule.case_sensitive or piece.lower() != g.lower()):
            return -1
        if _is_word(g[-1]) and end < len(text) and _is_word(text[end]):
            return -1
        return end

    def candidates(self, text: str) -> list[tuple[int, int, int]]:
        """Return every (start, rule index, end) where a rule matches, unresolved."""
        found: list[tuple[int, int, int]] = []
        by_word = self._by_word
        if by_word:
            for m in _WORD_RE.finditer(text):
                indices = by_word.get(m.group().lower())
                if indices:
                    pos = m.start()
                    for index in indices:
                        end = self._fits(text, pos, index)
                        if end >= 0:
                            found.append((pos, index, end))
        for index, pattern in self._scanned:
            found.extend((m.start(), index, m.end()) for m in pattern.finditer(text) if m.end())
        return found

    def find(self, text: str) -> list[RuleMatch]:
        """Return the rules that apply to ``text``, left to right, without overlaps."""
        found = self.candidates(text)
        if not found:
            return []
        found.sort()
        out: list[RuleMatch] = []
        cursor = 0
        for start, index, end in found:
            if start < cursor:
                continue  # inside an earlier match, or a later rule at the same place
            out.append(RuleMatch(start, end, index, self.rules[index]))
            cursor = end
        return out


_CACHE: dict[tuple[int, ...], tuple[tuple[object, ...], Matcher]] = {}


def combined_rules(dictionaries: Iterable[DictionaryRef]) -> list[PronunciationRule]:
    """Return the rules of ``dictionaries`` in the order they are tried."""
    return [r for d in dictionaries if d.rules for r in d.rules]


def matcher_for(dictionaries: Sequence[DictionaryRef]) -> Matcher:
    """Return a (cached) matcher over the rules of ``dictionaries``, in order."""
    held = tuple(d.rules for d in dictionaries)
    key = tuple(id(r) for r in held)
    hit = _CACHE.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], held, strict=True)):
        return hit[1]
    matcher = Matcher(combined_rules(dictionaries))
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[key] = (held, matcher)  # holding the tuples keeps their ids from being reused
    return matcher


def applied_rules(dictionaries: Sequence[DictionaryRef], text: str) -> list[PronunciationRule]:
    """Return the distinct rules that apply somewhere in ``text``, in order of first use."""
    seen: set[int] = set()
    out: list[PronunciationRule] = []
    for m in matcher_for(dictionaries).find(text):
        if m.index not in seen:
            seen.add(m.index)
            out.append(m.rule)
    return out


@dataclass(frozen=True, slots=True)
class Shadow:
    """Rule ``index`` never applies: rule ``by`` (earlier) always matches first."""

    index: int
    by: int


def shadowed_rules(rules: Sequence[PronunciationRule]) -> list[Shadow]:
    """Return the rules an earlier rule makes unreachable (first match wins)."""
    matcher = Matcher(rules)
    out: list[Shadow] = []
    for index, rule in enumerate(rules):
        if not rule.grapheme:
            continue
        at_start = [i for start, i, _ in matcher.candidates(rule.grapheme) if start == 0]
        first = min(at_start, default=index)
        if first < index:
            out.append(Shadow(index, first))
    return out


def apply_aliases(text: str, rules: Sequence[PronunciationRule]) -> str:
    """Return ``text`` with every applying alias rule's grapheme replaced by its alias."""
    pieces: list[str] = []
    cursor = 0
    for m in Matcher(rules).find(text):
        if m.rule.kind != "alias":
            continue
        pieces.append(text[cursor:m.start])
        pieces.append(m.rule.replacement)
        cursor = m.end
    pieces.append(text[cursor:])
    return "".join(pieces)
