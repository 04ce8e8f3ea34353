"""Phoneme strings: CMU ARPAbet and IPA, converted to espeak-ng input and to CMU phones.

espeak-ng reads phonemes in its own ASCII notation between ``[[`` and ``]]`` when synthesis
runs with the ``espeakPHONEMES`` flag (its SSML ``<phoneme>`` element is ignored, checked
with espeak-ng 1.52), so both alphabets are mapped onto espeak's English phoneme names.
PocketSphinx's en-us model uses the 39 CMU phones without stress digits.

Validation accepts any IPA (and CMU ARPAbet, and X-SAMPA, converted to IPA): a rule is
refused only when it is not phonemes at all. Symbols outside English (``y``, ``ø``, ``ç``,
``ʁ``, nasal vowels) are spoken offline by the nearest English phoneme, and symbols with no
offline reading are left out; :func:`offline_notes` says which, so the app warns rather
than refuses. ElevenLabs receives the IPA as written.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

ALPHABETS: Final = ("ipa", "cmu-arpabet", "x-sampa")
#: other names of the alphabets (PLS files use ``x-cmu`` and ``x-sampa``).
_ALPHABET_NAMES: Final = {"ipa": "ipa", "cmu-arpabet": "cmu-arpabet", "x-cmu": "cmu-arpabet",
                          "cmu": "cmu-arpabet", "arpabet": "cmu-arpabet",
                          "x-arpabet": "cmu-arpabet", "x-sampa": "x-sampa"}

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
    "ʧ": ("tS", "CH"), "ʤ": ("dZ", "JH"), "ʦ": ("ts", "T S"), "ʣ": ("dz", "D Z"),
}
#: symbols outside English IPA, spoken offline as the nearest English phoneme.
_IPA_NEAR: Final = {
    "y": ("u:", "UW"), "ʏ": ("U", "UH"), "ø": ("3:", "ER"), "œ": ("3:", "ER"),
    "ɵ": ("3:", "ER"), "ɨ": ("I", "IH"), "ʉ": ("u:", "UW"), "ɯ": ("u:", "UW"),
    "ɤ": ("V", "AH"), "ɘ": ("@", "AH"), "ɞ": ("3:", "ER"), "ɶ": ("a", "AE"),
    "ç": ("h", "HH"), "χ": ("x", "K"), "ʁ": ("r", "R"), "ʀ": ("r", "R"), "ɣ": ("g", "G"),
    "β": ("v", "V"), "ɸ": ("f", "F"), "ɲ": ("nj", "N Y"), "ʎ": ("lj", "L Y"),
    "ɟ": ("dZ", "JH"), "c": ("k", "K"), "q": ("k", "K"), "ɢ": ("g", "G"), "ħ": ("h", "HH"),
    "ʕ": ("h", "HH"), "ɦ": ("h", "HH"), "ɱ": ("m", "M"), "ɳ": ("n", "N"), "ɴ": ("N", "NG"),
    "ʂ": ("S", "SH"), "ʐ": ("Z", "ZH"), "ɕ": ("S", "SH"), "ʑ": ("Z", "ZH"),
    "ʝ": ("j", "Y"), "ɰ": ("w", "W"), "ʋ": ("v", "V"), "ɭ": ("l", "L"), "ʟ": ("l", "L"),
    "ʀ̥": ("r", "R"), "ɻ": ("r", "R"), "ʈ": ("t", "T"), "ɖ": ("d", "D"), "ɽ": ("t", "T"),
    "ʍ": ("w", "W"), "ɥ": ("w", "W"),
}
_IPA_ALL: Final = {**_IPA_NEAR, **_IPA}
_IPA_KEYS: Final = sorted(_IPA_ALL, key=len, reverse=True)
#: X-SAMPA -> IPA (longest first when converting); the symbols English rules use and more.
_XSAMPA: Final = {
    "tS": "tʃ", "dZ": "dʒ", "aI": "aɪ", "aU": "aʊ", "eI": "eɪ", "oU": "oʊ", "@U": "əʊ",
    "OI": "ɔɪ", "3`": "ɝ", "@`": "ɚ", "A": "ɑ", "{": "æ", "Q": "ɒ", "O": "ɔ", "V": "ʌ",
    "E": "ɛ", "I": "ɪ", "U": "ʊ", "@": "ə", "3": "ɜ", "T": "θ", "D": "ð", "S": "ʃ",
    "Z": "ʒ", "N": "ŋ", "r\\": "ɹ", "4": "ɾ", "g": "ɡ", "?": "ʔ", ":": "ː", "\"": "ˈ",
    "%": "ˌ", "y": "y", "2": "ø", "9": "œ", "C": "ç", "R": "ʁ", "x": "x", "J": "ɲ",
    "L": "ʎ", "B": "β", "G": "ɣ", "X": "χ", "1": "ɨ", "Y": "ʏ", "M": "ɯ", "~": "\u0303",
    "H": "ɥ", "W": "ʍ", "5": "ɫ", "=": "\u0329", ".": ".", " ": " ",
}
_XSAMPA_KEYS: Final = sorted(_XSAMPA, key=len, reverse=True)
#: characters that are never IPA phonemes: digits and most ASCII punctuation.
_NOT_IPA: Final = frozenset("0123456789!\"#$%&()*+,;<=>?@\\^_`{|}~")
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


def canonical_alphabet(alphabet: str) -> str:
    """Return the app's name for a phoneme alphabet (``x-cmu`` -> ``cmu-arpabet``).

    Raises:
        PhonemeError: not an alphabet the app reads.
    """
    name = _ALPHABET_NAMES.get((alphabet or "ipa").strip().lower())
    if name is None:
        raise PhonemeError(f"unknown phoneme alphabet '{alphabet}' (use ipa, cmu-arpabet "
                           "(x-cmu) or x-sampa)")
    return name


def xsampa_to_ipa(text: str) -> str:
    """Return X-SAMPA as IPA (letters without a special meaning are the same in both)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        for key in _XSAMPA_KEYS:
            if text.startswith(key, i):
                out.append(_XSAMPA[key])
                i += len(key)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _is_ipa(ch: str) -> bool:
    """Return whether ``ch`` can be part of an IPA transcription."""
    if ch in _NOT_IPA:
        return False
    if ch in _IPA_STRESS or ch in _IPA_SKIP or ch in "ˑ|‖-'":
        return True
    cat = unicodedata.category(ch)
    return cat in ("Ll", "Lm", "Lo", "Mn", "Sk")


def _ipa_units(text: str, notes: list[str] | None = None) -> list[tuple[str, str]]:
    """Split IPA into (kind, value): ("stress", "'"/",") or ("phone", IPA symbol).

    Symbols with no offline reading are skipped (named in ``notes``), as are diacritics
    (a nasal vowel is read as its oral vowel). Raises :class:`PhonemeError` for text that is
    not IPA or has no phone this app can say.
    """
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _IPA_STRESS:
            out.append(("stress", _IPA_STRESS[ch]))
            i += 1
            continue
        for key in _IPA_KEYS:
            if text.startswith(key, i):
                out.append(("phone", key))
                if notes is not None and key in _IPA_NEAR:
                    notes.append(f"'{key}' is said offline as the nearest English sound")
                i += len(key)
                break
        else:
            if not _is_ipa(ch):
                raise PhonemeError(f"'{ch}' is not an IPA symbol")
            if notes is not None and ch not in _IPA_SKIP and ch not in "'-|‖ˑ":
                if ch == "\u0303":
                    notes.append("nasal vowels are said offline as plain vowels")
                elif unicodedata.category(ch) not in ("Mn", "Lm", "Sk"):
                    notes.append(f"'{ch}' cannot be said offline and is left out there")
            i += 1
    if not any(kind == "phone" for kind, _ in out):
        if any(_is_ipa(c) and c not in _IPA_SKIP for c in text):
            raise PhonemeError("none of these IPA symbols can be said offline")
        raise PhonemeError("the phoneme string is empty")
    return out


def offline_notes(text: str, alphabet: str) -> list[str]:
    """Return what of a valid phoneme string the offline engine says only approximately."""
    alphabet = canonical_alphabet(alphabet)
    if alphabet == "cmu-arpabet":
        return []
    if alphabet == "x-sampa":
        text = xsampa_to_ipa(text)
    notes: list[str] = []
    try:
        _ipa_units(text, notes)
    except PhonemeError as exc:
        notes.append(str(exc))
    return list(dict.fromkeys(notes))


def validate(text: str, alphabet: str) -> None:
    """Raise :class:`PhonemeError` unless ``text`` is phonemes in ``alphabet``.

    Valid IPA the offline engine cannot say exactly passes (see :func:`offline_notes`).
    """
    alphabet = canonical_alphabet(alphabet)
    if alphabet == "cmu-arpabet":
        arpabet_phones(text)
        return
    ipa = xsampa_to_ipa(text) if alphabet == "x-sampa" else text
    if not ipa.strip():
        raise PhonemeError("the phoneme string is empty")
    for ch in ipa:
        if not _is_ipa(ch):
            raise PhonemeError(f"'{ch}' is not an IPA symbol")


def to_espeak(text: str, alphabet: str) -> str:
    """Return espeak-ng phoneme input (without the ``[[ ]]``) for a phoneme string."""
    alphabet = canonical_alphabet(alphabet)
    if alphabet == "x-sampa":
        text, alphabet = xsampa_to_ipa(text), "ipa"
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
        return "".join(v if kind == "stress" else _IPA_ALL[v][0]
                       for kind, v in _ipa_units(text))
    raise PhonemeError(f"unknown phoneme alphabet '{alphabet}'")


def to_cmu(text: str, alphabet: str) -> str:
    """Return the CMU phones (no stress digits) PocketSphinx's dictionary uses."""
    alphabet = canonical_alphabet(alphabet)
    if alphabet == "x-sampa":
        text, alphabet = xsampa_to_ipa(text), "ipa"
    if alphabet == "cmu-arpabet":
        return " ".join(phone for phone, _ in arpabet_phones(text))
    if alphabet == "ipa":
        phones = [_IPA_ALL[v][1] for kind, v in _ipa_units(text) if kind == "phone"]
        return " ".join(p for p in phones if p)
    raise PhonemeError(f"unknown phoneme alphabet '{alphabet}'")
