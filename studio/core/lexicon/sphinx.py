"""The same rules for offline alignment: PocketSphinx dictionary entries in CMU phones.

PocketSphinx's en-us dictionary holds lower-case words and CMU phones without stress. A
phoneme rule for a one-word grapheme becomes an entry with its phones; an alias rule
becomes the phones of its words (looked up in the decoder's dictionary), so alignment hears
the word as the engine says it. Rules for phrases are left to the aligner's text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from studio.core.lexicon.phonemes import PhonemeError, to_cmu
from studio.core.model import PronunciationRule

_WORD: Final = re.compile(r"^[\w'’-]+$")
_PIECE: Final = re.compile(r"[a-z0-9']+")


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
