"""Edits to the project's pronunciation dictionaries; each returns the :class:`Changes`.

Every rule edit makes a new dictionary version. ``Changes.blocks`` names exactly the
paragraphs whose cache key changed: those containing a word whose pronunciation changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from studio.core.errors import EditError
from studio.core.lexicon import phonemes
from studio.core.lexicon.pls import read_pls, write_pls
from studio.core.model import (
    Changes,
    DictionaryId,
    DictionaryRef,
    Project,
    PronunciationRule,
    block_inputs,
    new_id,
)

KINDS = ("alias", "phoneme")


def check_rule(rule: PronunciationRule) -> None:
    """Raise :class:`EditError` unless ``rule`` is complete and its phonemes read."""
    if not rule.grapheme.strip():
        raise EditError("a rule needs the word or phrase it applies to")
    if rule.kind not in KINDS:
        raise EditError(f"a rule is an alias or a phoneme rule, not '{rule.kind}'")
    if not rule.replacement.strip():
        raise EditError(f"the rule for '{rule.grapheme}' has no replacement")
    if rule.kind == "phoneme":
        try:
            phonemes.validate(rule.replacement, rule.alphabet)
        except phonemes.PhonemeError as exc:
            raise EditError(f"the rule for '{rule.grapheme}': {exc}") from None


def rule_notes(rule: PronunciationRule) -> list[str]:
    """Return warnings for a valid rule: IPA the offline engine says only approximately."""
    if rule.kind != "phoneme":
        return []
    try:
        return phonemes.offline_notes(rule.replacement, rule.alphabet)
    except phonemes.PhonemeError as exc:
        return [str(exc)]


def dictionary(project: Project, dictionary_id: DictionaryId) -> DictionaryRef:
    """Return the project's dictionary with ``dictionary_id``."""
    for d in project.dictionaries:
        if d.id == dictionary_id:
            return d
    raise EditError(f"no pronunciation dictionary with id {dictionary_id}")


def _changing(project: Project, edit: Callable[[], None]) -> Changes:
    """Run ``edit`` and return the paragraphs whose dictionary inputs it changed."""
    before = {b.id: block_inputs(project, b)["dictionaries"] for _, b in project.iter_blocks()}
    edit()
    changed = [
        b.id for _, b in project.iter_blocks()
        if block_inputs(project, b)["dictionaries"] != before[b.id]
    ]
    return Changes(dictionaries=True, blocks=frozenset(changed))


def add_dictionary(project: Project, name: str, rules: Iterable[PronunciationRule] = (),
                   language: str = "en-US", index: int | None = None) -> Changes:
    """Add a dictionary holding ``rules`` (tried after the existing ones unless ``index``)."""
    rules = tuple(rules)
    for rule in rules:
        check_rule(rule)
    ref = DictionaryRef(DictionaryId(new_id()), name, 1, rules=rules, language=language)

    def edit() -> None:
        project.dictionaries.insert(
            len(project.dictionaries) if index is None else index, ref)

    return _changing(project, edit)


def remove_dictionary(project: Project, dictionary_id: DictionaryId) -> Changes:
    """Remove a dictionary from the project."""
    ref = dictionary(project, dictionary_id)
    return _changing(project, lambda: project.dictionaries.remove(ref))


def set_rules(project: Project, dictionary_id: DictionaryId,
              rules: Iterable[PronunciationRule]) -> Changes:
    """Replace a dictionary's rules (order matters), making a new version of it.

    The engine's copy is then out of date: ``engine_version_id`` is cleared until the
    dictionary is uploaded again.
    """
    rules = tuple(rules)
    for rule in rules:
        check_rule(rule)
    ref = dictionary(project, dictionary_id)
    new = dataclasses.replace(ref, rules=rules, version=ref.version + 1,
                              engine_version_id=None)

    def edit() -> None:
        position = project.dictionaries.index(ref)
        project.dictionaries[position] = new

    return _changing(project, edit)


def add_rule(project: Project, dictionary_id: DictionaryId, rule: PronunciationRule,
             index: int | None = None) -> Changes:
    """Insert ``rule`` at ``index`` (default: last) of a dictionary."""
    rules = list(dictionary(project, dictionary_id).rules or ())
    rules.insert(len(rules) if index is None else index, rule)
    return set_rules(project, dictionary_id, rules)


def remove_rule(project: Project, dictionary_id: DictionaryId, index: int) -> Changes:
    """Remove the rule at ``index`` of a dictionary."""
    rules = list(dictionary(project, dictionary_id).rules or ())
    if not 0 <= index < len(rules):
        raise EditError(f"rule position {index} is out of range")
    del rules[index]
    return set_rules(project, dictionary_id, rules)


def import_pls(project: Project, data: bytes, name: str, source: str = "the file") -> Changes:
    """Add the lexicon in PLS ``data`` as a new dictionary named ``name``."""
    lexicon = read_pls(data, source)
    for rule in lexicon.rules:
        try:
            check_rule(rule)
        except EditError as exc:
            raise EditError(f"{source}: {exc}") from None
    return add_dictionary(project, name, lexicon.rules, lexicon.language)


def export_pls(project: Project, dictionary_id: DictionaryId | None = None) -> bytes:
    """Return a dictionary (default: all of them, in order) as PLS XML."""
    refs = [dictionary(project, dictionary_id)] if dictionary_id else project.dictionaries
    rules = [r for d in refs for r in d.rules or ()]
    language = refs[0].language if refs else "en-US"
    return write_pls(rules, language)
