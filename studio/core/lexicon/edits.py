"""Edits to the project's pronunciation dictionaries; each returns the :class:`Changes`.

Every rule edit makes a new dictionary version. ``Changes.blocks`` names exactly the
paragraphs whose cache key changed: those containing a word whose pronunciation changed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from studio.core.errors import EditError
from studio.core.lexicon import phonemes
from studio.core.lexicon.match import applied_rules, combined_rules
from studio.core.lexicon.pls import read_pls, write_pls
from studio.core.model import (
    Block,
    BlockId,
    Changes,
    DictionaryId,
    DictionaryRef,
    Project,
    PronunciationRule,
    new_id,
)

KINDS = ("alias", "phoneme")
_WORD_RE: Final = re.compile(r"\w+")


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


class _WordIndex:
    """Lower-case word -> the blocks containing it, kept up to date as block texts change."""

    def __init__(self) -> None:
        self.texts: dict[BlockId, str] = {}
        self.words: dict[str, set[BlockId]] = {}

    def update(self, project: Project) -> dict[BlockId, Block]:
        blocks = {b.id: b for _, b in project.iter_blocks()}
        for block_id in [i for i in self.texts if i not in blocks]:
            self._drop(block_id)
        for block_id, block in blocks.items():
            if self.texts.get(block_id) is not block.text:
                self._drop(block_id)
                self.texts[block_id] = block.text
                for word in {w.lower() for w in _WORD_RE.findall(block.text)}:
                    self.words.setdefault(word, set()).add(block_id)
        return blocks

    def _drop(self, block_id: BlockId) -> None:
        text = self.texts.pop(block_id, None)
        if text is not None:
            for word in {w.lower() for w in _WORD_RE.findall(text)}:
                self.words.get(word, set()).discard(block_id)


#: The indexes of the last few projects edited (projects are neither hashable nor weakly
#: referable, so they are held, and only a few).
_INDEXES: list[tuple[Project, _WordIndex]] = []
_INDEXES_KEPT: Final = 4


def _index(project: Project) -> _WordIndex:
    for n, (held, index) in enumerate(_INDEXES):
        if held is project:
            _INDEXES.insert(0, _INDEXES.pop(n))
            return index
    index = _WordIndex()
    _INDEXES.insert(0, (project, index))
    del _INDEXES[_INDEXES_KEPT:]
    return index


def _changed_rules(before: Sequence[PronunciationRule],
                   after: Sequence[PronunciationRule]) -> list[PronunciationRule]:
    """Return the rules between the common start and the common end of two rule lists."""
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    while (end < min(len(before), len(after)) - start
           and before[-1 - end] == after[-1 - end]):
        end += 1
    return [*before[start:len(before) - end], *after[start:len(after) - end]]


def blocks_a_change_can_affect(project: Project, before: Sequence[DictionaryRef],
                               after: Sequence[DictionaryRef]) -> list[Block]:
    """Return the blocks whose dictionary inputs may differ between two dictionary lists.

    Only blocks holding the first word of a changed rule's grapheme can be affected (the
    matcher finds rules by that word), so they are found through a word -> blocks index
    of the project rather than by rehashing every paragraph. A changed rule without a
    leading word, or a change to a dictionary known only by reference, gives all blocks.
    """
    index = _index(project)
    blocks = index.update(project)
    if [(d.id, d.version) for d in before if d.rules is None] != [
            (d.id, d.version) for d in after if d.rules is None]:
        return list(blocks.values())
    wanted: set[BlockId] = set()
    for rule in _changed_rules(combined_rules(before), combined_rules(after)):
        first = _WORD_RE.match(rule.grapheme)
        if first is None or not rule.word_boundaries:
            return list(blocks.values())
        wanted |= index.words.get(first.group().lower(), set())
    return [blocks[i] for i in wanted]


def _reach(dictionaries: Sequence[DictionaryRef], text: str) -> list[Any]:
    """What of ``dictionaries`` reaches ``text`` (as the block's cache key holds it)."""
    out: list[Any] = [[d.id, d.version] for d in dictionaries if d.rules is None]
    out.extend([r.grapheme, r.kind, r.replacement, r.alphabet]
               for r in applied_rules(dictionaries, text))
    return out


def _changing(project: Project, edit: Callable[[], None]) -> Changes:
    """Run ``edit`` and return the paragraphs whose dictionary inputs it changed.

    Only the blocks containing a changed rule's word are compared
    (:func:`blocks_a_change_can_affect`).
    """
    before = list(project.dictionaries)
    edit()
    after = list(project.dictionaries)
    changed = [b.id for b in blocks_a_change_can_affect(project, before, after)
               if _reach(before, b.text) != _reach(after, b.text)]
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
