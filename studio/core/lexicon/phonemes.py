"""Phoneme strings: CMU ARPAbet and IPA, converted to espeak-ng input and to CMU phones.

espeak-ng reads phonemes in its own ASCII notation between ``[[`` and ``]]`` when synthesis
runs with the ``espeakPHONEMES`` flag (its SSML ``<phoneme>`` element is ignored, checked
with espeak-ng 1.52), so both alphabets are mapped onto espeak's English phoneme names.
PocketSphinx's en-us model uses the 39 CMU phones without stress digits.
"""

from __future__ import annotations

import re
from typing import Final

ALPHABETS: Final = ("ipa", "cmu-arpabet")

#: CMU ARPAbet phone -> espeak-ng (English) phoneme.
_ARPA_TO_ESPEAK: Final = {
    "AA": "A:", "AE": "a", "AH": "V", "AO": "O:", "AW": "aU", "AY": "aI", "B": "b",
    "CH": "tS", "D": "d", "DH": "D", "EH": "E", "ER": "3:", "EY": "eI", "F": "f", "G": "g",
    "HH": "h", "IH": "I", "IY": "i:", "JH": "dZ", "K": "k", "L": "l", "M": "m", "N": "n",
    "NG": "N", "OW": "oU", "OY": "OI", "P": "p", "R": "r", "S": "s", "SH": "S", "T": "t",
    "TH": "T", "UH": "U", "UW": "u:", "V": "v", "W": "w", "Y": "j", "Z": "z", "ZH": "Z",
}
_ARPA_UNSTRESSED: Final = {"AH": "@", "ER": "3"}  # schwa and unstressed r-coloured vowel
ARPABET_PHONES: Final = frozenset(_ARPA_TO_ESPEAK)
_VOWELS: Final = frozenset(
    {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}
)

#: IPA symbol (longest first when matching) -> (espeak phoneme, CMU phone).
_IPA: Final = {
    "tʃ": ("tS", "CH"), "dʒ": ("dZ", "JH"), "aɪ": ("aI", "AY"), "aʊ": ("aU", "AW"),
    "eɪ": ("eI", "EY"), "oʊ": ("oU", "OW"), "əʊ": ("@U", "OW"), "ɔɪ": ("OI", "OY"),
    "ɪə": ("i@", "IH R"), "eə": ("e@", "EH R"), "ʊə": ("U@", "UH R"), "ɜː": ("3:", "ER"),
    "ɑː": ("A:", "AA"), "ɔː": ("O:", "AO"), "iː": ("i:", "IY"), "uː": ("u:", "UW"),
    "ɝ": ("3:", "ER"), "ɚ": ("3", "ER"), "ɜ": ("3:", "ER"), "ə": ("@", "AH"),
    "æ": ("a", "AE"), "ɑ": ("A:", "AA"), "ɒ": ("0", "AA"), "ɔ": ("O:", "AO"),
    "ʌ": ("V", "AH"), "ɛ": ("E", "EH"), "e": ("E", "EH"), "ɪ": ("I", "IH"), "i": ("i", "IY"),
    "ʊ": ("U", "UH"), "u": ("u:", "UW"), "o": ("oU", "OW"), "a": ("a", "AE"),
    "θ": ("T", "TH"), "ð": ("D", "DH"), "ʃ": ("S", "SH"), "ʒ": ("Z", "ZH"), "ŋ": ("N", "NG"),
    "ɹ": ("r", "R"), "r": ("r", "R"), "ɾ": ("t", "T"), "j": ("j", "Y"), "ɡ": ("g", "G"),
    "g": ("g", "G"), "b": ("b", "B"), "d": ("d", "D"), "f": ("f", "F"), "h": ("h", "HH"),
    "k": ("k", "K"), "l": ("l", "L"), "ɫ": ("l", "L"), "m": ("m", "M"), "n": ("n", "N"),
    "p": ("p", "P"), "s": ("s", "S"), "t": ("t", "T"), "v": ("v", "V"), "w": ("w", "W"),
    "z": ("z", "Z"), "x": ("x", "K"), "ʔ": ("?", ""), "ᵻ": ("I", "IH"), "ɐ": ("V", "AH"),
    "ɡ̊": ("g", "G"), "ɬ": ("l", "L"),
}
_IPA_KEYS: Final = sorted(_IPA, key=len, reverse=True)
_IPA_STRESS: Final = {"ˈ": "'", "ˌ": ","}
_IPA_SKIP: Final = frozenset(" .ː‿/[]")  # syllable dots, length marks left over, slashes
_ARPA_RE: Final = re.compile(r"^([A-Z]{1,2})([012]?)$")


class PhonemeError(ValueError):
    """A phoneme string that cannot be read in its alphabet."""


def arpabet_phones(text: str) -> list[tuple[str, str]]:
    """Return (phone, stress digit) pairs of a CMU ARPAbet string such as ``"M AE1 D"``."""
    out: list[tuple[str, str]] = []
    for token in text.upper().split():
        m = _ARPA_RE.match(token)
        if m is None or m.group(1) not in ARPABET_PHONES:
            raise PhonemeError(f"'{token}' is not a CMU ARPAbet phone")
        out.append((m.group(1), m.group(2)))
    if not out:
        raise PhonemeError("the phoneme string is empty")
    return out


def _ipa_units(text: str) -> list[tuple[str, str]]:
    """Split IPA into (kind, value): ("stress", "'"/",") or ("phone", IPA symbol)."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _IPA_STRESS:
            out.append(("stress", _IPA_STRESS[ch]))
            i += 1
            continue
        if ch in _IPA_SKIP or ch in "\u0329\u032f\u0361":  # syllabic/non-syllabic/tie marks
            i += 1
            continue
        for key in _IPA_KEYS:
            if text.startswith(key, i):
                out.append(("phone", key))
                i += len(key)
                break
        else:
            raise PhonemeError(f"'{ch}' is not an IPA symbol this app knows for English")
    if not any(kind == "phone" for kind, _ in out):
        raise PhonemeError("the phoneme string is empty")
    return out


def validate(text: str, alphabet: str) -> None:
    """Raise :class:`PhonemeError` unless ``text`` reads in ``alphabet``."""
    if alphabet == "cmu-arpabet":
        arpabet_phones(text)
    elif alphabet == "ipa":
        _ipa_units(text)
    else:
        raise PhonemeError(f"unknown phoneme alphabet '{alphabet}' (use ipa or cmu-arpabet)")


def to_espeak(text: str, alphabet: str) -> str:
    """Return espeak-ng phoneme input (without the ``[[ ]]``) for a phoneme string."""
    if alphabet == "cmu-arpabet":
        out: list[str] = []
        for phone, stress in arpabet_phones(text):
            if phone in _VOWELS:
                out.append({"1": "'", "2": ","}.get(stress, ""))
                if stress == "0" and phone in _ARPA_UNSTRESSED:
                    out.append(_ARPA_UNSTRESSED[phone])
                    continue
            out.append(_ARPA_TO_ESPEAK[phone])
        return "".join(out)
    if alphabet == "ipa":
        return "".join(v if kind == "stress" else _IPA[v][0] for kind, v in _ipa_units(text))
    raise PhonemeError(f"unknown phoneme alphabet '{alphabet}'")


def to_cmu(text: str, alphabet: str) -> str:
    """Return the CMU phones (no stress digits) PocketSphinx's dictionary uses."""
    if alphabet == "cmu-arpabet":
        return " ".join(phone for phone, _ in arpabet_phones(text))
    if alphabet == "ipa":
        phones = [_IPA[v][1] for kind, v in _ipa_units(text) if kind == "phone"]
        return " ".join(p for p in phones if p)
    raise PhonemeError(f"unknown phoneme alphabet '{alphabet}'")
