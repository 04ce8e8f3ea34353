"""The same rules for offline alignment: PocketSphinx dictionary entries in CMU phones.

PocketSphinx's en-us dictionary holds lower-case words and CMU phones without stress. A
phoneme rule for a one-word grapheme becomes an entry with its phones; an alias rule
becomes the phones of its words (looked up in the decoder's dictionary), so alignment hears
the word as the engine says it. Rules for phrases are left to the aligner's text.

The aligner and the narration check share long-lived decoders, and a PocketSphinx dictionary
word can be neither changed nor removed once added. So a rule's pronunciation goes in as a
word of its own whose name carries its phones (:func:`rule_word`: ``cholmondeley`` said
``CH AH M L IY`` is the word ``cholmondeley__ch_ah_m_l_iy``); the words to decode are mapped
to those names (:class:`RuleWords`) and the results back, so one project's rules never leak
into another's alignment.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from studio.core.lexicon.phonemes import ARPABET_PHONES, PhonemeError, to_cmu
from studio.core.model import PronunciationRule

_WORD: Final = re.compile(r"^[\w'’-]+$")
_PIECE: Final = re.compile(r"[a-z0-9']+")
_RULE_WORD: Final = re.compile(r"^(.+)__([a-z]{1,2}(?:_[a-z]{1,2})*)$")


def sphinx_entries(rules: Sequence[PronunciationRule],
                   lookup: Callable[[str], str | None]) -> dict[str, str]:
    """Return ``{word: "CMU PHONES"}`` for the one-word rules (first rule per word wins).

    ``lookup`` returns a word's phones from the decoder's dictionary (``Decoder.lookup_word``).
    """
    out: dict[str, str] = {}
    for rule in rules:
        word = rule.grapheme.lower().replace("’", "'")
        if not _WORD.match(word) or word in out:
            continue
        try:
            if rule.kind == "phoneme":
                out[word] = to_cmu(rule.replacement, rule.alphabet)
                continue
        except PhonemeError:
            continue
        phones: list[str] = []
        for piece in _PIECE.findall(rule.replacement.lower().replace("’", "'")):
            found = lookup(piece)
            if not found:
                phones = []
                break
            phones.append(found)
        if phones:
            out[word] = " ".join(phones)
    return out


def add_to_decoder(decoder: Any, rules: Sequence[PronunciationRule]) -> int:
    """Add the rules' entries to a PocketSphinx ``Decoder``; return how many were added."""
    entries = sphinx_entries(rules, decoder.lookup_word)
    for n, (word, phones) in enumerate(entries.items()):
        decoder.add_word(word, phones, n == len(entries) - 1)
    return len(entries)


def rule_word(word: str, phones: str) -> str:
    """Return the dictionary name of ``word`` said as CMU ``phones`` (phones in the name)."""
    return f"{word}__{'_'.join(phones.lower().split())}"


def rule_phones(name: str) -> str | None:
    """Return the CMU phones a :func:`rule_word` name carries, or None for other words."""
    m = _RULE_WORD.match(name)
    if m is None:
        return None
    phones = m.group(2).upper().split("_")
    return " ".join(phones) if all(p in ARPABET_PHONES for p in phones) else None


_CMU_LOCK = threading.Lock()
_CMU: dict[str, str] | None = None


def cmu_lookup(word: str) -> str | None:
    """Return a word's first pronunciation in PocketSphinx's en-us dictionary (or None)."""
    global _CMU
    with _CMU_LOCK:
        if _CMU is None:
            _CMU = {}
            try:
                import pocketsphinx as ps

                path = os.path.join(ps.get_model_path(), "en-us", "cmudict-en-us.dict")
                with open(path, encoding="utf-8") as f:
                    for line in f:
                        head, _, phones = line.strip().partition(" ")
                        if head and "(" not in head:
                            _CMU.setdefault(head, phones.strip())
            except (ImportError, OSError):
                pass
        return _CMU.get(word)


class RuleWords:
    """The rules' pronunciations for a decoder, as :func:`rule_word` names.

    ``names`` maps a (lower-case) dictionary word to its rule name, ``phones`` to its CMU
    phones. Only the words in ``words`` (None: all) are considered.
    """

    def __init__(self, rules: Sequence[PronunciationRule], words: Iterable[str] | None = None,
                 lookup: Callable[[str], str | None] | None = None) -> None:
        if words is not None:
            wanted = set(words)
            rules = [r for r in rules
                     if r.grapheme.lower().replace("’", "'") in wanted]
        self.phones = sphinx_entries(rules, lookup or cmu_lookup) if rules else {}
        self.names = {w: rule_word(w, p) for w, p in self.phones.items()}
        self._back = {n: w for w, n in self.names.items()}

    def __bool__(self) -> bool:
        return bool(self.names)

    def to_dictionary(self, words: Iterable[str]) -> list[str]:
        """Return ``words`` with each rule word replaced by its rule name."""
        return [self.names.get(w, w) for w in words]

    def from_dictionary(self, word: str) -> str:
        """Return the word a decoded name stands for."""
        return self._back.get(word, word)

    def phone_count(self, word: str) -> int | None:
        """Return the number of phones of a rule word (None: no rule for it)."""
        phones = self.phones.get(word)
        return None if phones is None else len(phones.split())


def with_rules(rules: Sequence[PronunciationRule], script: Sequence[str],
               recognise: Callable[..., Any], align: Callable[..., Any],
               phones: Callable[[str], int]
               ) -> tuple[Callable[..., Any], Callable[..., Any], Callable[[str], int]]:
    """Wrap the narration check's recogniser, skip aligner and phone count with the rules.

    The script's words that have a rule are decoded as their rule words and what is heard
    is mapped back, so the check hears a name said as its rule says.
    """
    words = RuleWords(rules, script)
    if not words:
        return recognise, align, phones

    def recognise_rules(samples: Any, rate: int, script: Sequence[str]) -> Any:
        heard = recognise(samples, rate, words.to_dictionary(script))
        return [h._replace(text=words.from_dictionary(h.text)) if hasattr(h, "_replace")
                else words.from_dictionary(h) for h in heard]

    def align_rules(samples: Any, rate: int, script: Sequence[str]) -> Any:
        return align(samples, rate, words.to_dictionary(script))

    def phones_rules(word: str) -> int:
        count = words.phone_count(word)
        return phones(word) if count is None else count

    return recognise_rules, align_rules, phones_rules
