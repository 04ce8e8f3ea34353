"""W3C Pronunciation Lexicon Specification (PLS) 1.0 files, read and written without loss.

A PLS ``<lexeme>`` holds one or more ``<grapheme>`` s, then pronunciations (``<phoneme>``
and ``<alias>``, the preferred one marked ``prefer="true"`` or else the first) and optional
``<example>`` s. It becomes one :class:`PronunciationRule` per grapheme: the preferred
pronunciation is the rule's replacement, the others are kept as ``alternates``, with the
lexeme's ``role`` and examples. Writing groups consecutive rules that say the same thing
back into one lexeme, so ``read(write(read(x))) == read(x)``. PLS matching is always
case-sensitive; the ElevenLabs-only flags ``case_sensitive``/``word_boundaries`` are not
part of the format (the project file keeps them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from studio.core.errors import StudioError
from studio.core.model import PronunciationRule

PLS_NS = "http://www.w3.org/2005/01/pronunciation-lexicon"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_Q = f"{{{PLS_NS}}}"


class LexiconFormatError(StudioError):
    """A pronunciation lexicon file cannot be read."""


@dataclass(frozen=True, slots=True)
class PlsLexicon:
    """The content of a PLS file."""

    rules: tuple[PronunciationRule, ...]
    alphabet: str = "ipa"
    language: str = "en-US"


_XML_SPACE = re.compile(r"[ \t\r\n]+")


def _text(el: etree._Element) -> str:
    """Return an element's text with XML white space collapsed (not NBSP and the like)."""
    return _XML_SPACE.sub(" ", "".join(el.itertext())).strip(" ")


def read_pls(data: bytes, source: str = "the file") -> PlsLexicon:
    """Parse PLS XML bytes.

    Raises:
        LexiconFormatError: not XML, not a PLS lexicon, or a lexeme without a grapheme or a
            pronunciation; the message names ``source`` and the problem.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise LexiconFormatError(f"{source} is not valid XML ({exc})") from None
    if root.tag not in (f"{_Q}lexicon", "lexicon"):
        raise LexiconFormatError(f"{source} is not a PLS lexicon (root <{root.tag}>)")
    q = _Q if root.tag.startswith("{") else ""
    alphabet = root.get("alphabet") or "ipa"
    language = root.get(XML_LANG) or root.get("lang") or "en-US"
    rules: list[PronunciationRule] = []
    for n, lexeme in enumerate(root.iter(f"{q}lexeme"), 1):
        graphemes = [_text(g) for g in lexeme.iter(f"{q}grapheme")]
        prons: list[tuple[str, str, str, bool]] = []  # kind, text, alphabet, preferred
        for el in lexeme:
            if el.tag == f"{q}phoneme":
                prons.append(("phoneme", _text(el), el.get("alphabet") or alphabet,
                              el.get("prefer") == "true"))
            elif el.tag == f"{q}alias":
                prons.append(("alias", _text(el), "", el.get("prefer") == "true"))
        graphemes = [g for g in graphemes if g]
        if not graphemes or not prons:
            raise LexiconFormatError(
                f"{source}: lexeme {n} needs a grapheme and a phoneme or alias"
            )
        best = next((i for i, p in enumerate(prons) if p[3]), 0)
        kind, text, alpha, _ = prons[best]
        alternates = tuple((k, t, a) for i, (k, t, a, _) in enumerate(prons) if i != best)
        examples = tuple(_text(e) for e in lexeme.iter(f"{q}example"))
        role = lexeme.get("role") or ""
        rules.extend(
            PronunciationRule(g, kind, text, alpha, alternates=alternates, role=role,
                              examples=examples)
            for g in graphemes
        )
    return PlsLexicon(tuple(rules), alphabet, language)


def _same_lexeme(a: PronunciationRule, b: PronunciationRule) -> bool:
    return (a.kind, a.replacement, a.alphabet, a.alternates, a.role, a.examples) == (
        b.kind, b.replacement, b.alphabet, b.alternates, b.role, b.examples)


def write_pls(rules: Sequence[PronunciationRule], language: str = "en-US",
              alphabet: str | None = None) -> bytes:
    """Return PLS 1.0 XML (UTF-8) for ``rules``, in order."""
    if alphabet is None:
        used = [r.alphabet for r in rules if r.kind == "phoneme" and r.alphabet]
        alphabet = max(used, key=used.count) if used else "ipa"  # ties: the first used
    root = etree.Element(f"{_Q}lexicon", nsmap={None: PLS_NS})
    root.set("version", "1.0")
    root.set("alphabet", alphabet)
    root.set(XML_LANG, language)
    groups: list[list[PronunciationRule]] = []
    for rule in rules:
        if groups and _same_lexeme(groups[-1][-1], rule):
            groups[-1].append(rule)
        else:
            groups.append([rule])
    for group in groups:
        first = group[0]
        lexeme = etree.SubElement(root, f"{_Q}lexeme")
        if first.role:
            lexeme.set("role", first.role)
        for rule in group:
            etree.SubElement(lexeme, f"{_Q}grapheme").text = rule.grapheme
        prons = [(first.kind, first.replacement, first.alphabet), *first.alternates]
        for i, (kind, text, alpha) in enumerate(prons):
            el = etree.SubElement(lexeme, f"{_Q}{kind}")
            el.text = text
            if kind == "phoneme" and alpha and alpha != alphabet:
                el.set("alphabet", alpha)
            if i == 0 and len(prons) > 1:
                el.set("prefer", "true")
        for example in first.examples:
            etree.SubElement(lexeme, f"{_Q}example").text = example
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))
