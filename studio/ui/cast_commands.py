"""Undoable casting and pronunciation edits (the Cast and Pronunciation docks).

:class:`ApplyCastCommand` gives each cast character a project voice and puts voice spans on
their lines in one undo step, across chapters: it snapshots the cast and the spans of the
paragraphs holding quoted lines, and restores them on undo. Dictionary edits are
:class:`~studio.ui.commands.ProjectEditCommand` s (which snapshot the dictionary list); their
``Changes.blocks`` name exactly the paragraphs whose pronunciation changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from PySide6.QtGui import QUndoCommand

from studio.core import model as m
from studio.core.casting.cast import CAST_SETTING, Applied, apply_cast, cast_voices
from studio.core.casting.detect import CastSheet
from studio.core.lexicon import edits
from studio.core.model import BlockId, DictionaryId, PronunciationRule, VoiceId, VoiceSpan
from studio.ui.commands import ProjectEditCommand
from studio.ui.session import ProjectSession

# The cast, the narrator, the spans of the paragraphs with lines, the character links.
_State = tuple[dict[VoiceId, m.Voice], VoiceId | None, dict[BlockId, tuple[VoiceSpan, ...]],
               Any]


class ApplyCastCommand(QUndoCommand):
    """Give characters voices (linked in the project) and their lines voice spans: one step.

    ``assignments`` maps character id to the engine voice id chosen for it on ``engine``.
    After the push, :attr:`voices` maps character id to project voice id and
    :attr:`applied` says how many spans were set and what was skipped.
    """

    def __init__(self, session: ProjectSession, sheet: CastSheet, engine: str,
                 assignments: Mapping[str, str], min_confidence: float = 0.0) -> None:
        super().__init__(f"Apply cast ({len(assignments)} characters)")
        self.session = session
        self.sheet = sheet
        self.engine = engine
        self.assignments = dict(assignments)
        self.min_confidence = min_confidence
        self.voices: dict[str, VoiceId] = {}
        self.applied: Applied | None = None
        self._blocks = sorted({ln.block_id for ln in sheet.lines})
        self._before: _State | None = None
        self._after: _State | None = None
        self._changes = m.Changes()

    def _state(self) -> _State:
        p = self.session.project
        spans = {b: p.block(b).spans for b in self._blocks}
        links = p.settings.get(CAST_SETTING)
        return ({vid: dataclasses.replace(v) for vid, v in p.voices.items()},
                p.default_voice_id, spans, dict(links) if isinstance(links, dict) else links)

    def _set(self, state: _State) -> None:
        p = self.session.project
        voices, default, spans, links = state
        p.voices = {vid: dataclasses.replace(v) for vid, v in voices.items()}
        p.default_voice_id = default
        settings = {k: v for k, v in p.settings.items() if k != CAST_SETTING}
        if links is not None:
            settings[CAST_SETTING] = dict(links) if isinstance(links, dict) else links
        p.settings = settings
        for block_id, block_spans in spans.items():
            p.block(block_id).spans = block_spans

    def prepare(self) -> None:
        """Cast and apply (before the push): a refused edit raises and changes nothing."""
        if self._after is not None:
            return
        project = self.session.project
        self._blocks = [b for b in self._blocks if self._exists(b)]
        self._before = self._state()
        try:
            self.voices, cast = cast_voices(project, self.sheet, self.engine, self.assignments)
            spans, self.applied = apply_cast(project, self.sheet, self.voices,
                                             min_confidence=self.min_confidence)
        except BaseException:
            self._set(self._before)
            raise
        self._changes = cast | spans
        self._after = self._state()

    def _exists(self, block_id: BlockId) -> bool:
        try:
            self.session.project.locate(block_id)
        except m.EditError:
            return False
        return True

    def _diff(self, old: _State, new: _State) -> m.Changes:
        gone = set(old[0]) - set(new[0])
        changed = {vid for vid, v in new[0].items() if old[0].get(vid) != v}
        blocks = {b for b in self._blocks if old[2][b] != new[2][b]}
        return m.Changes(project=old[1] != new[1] or old[3] != new[3],
                         voices=frozenset(changed),
                         removed_voices=frozenset(gone), blocks=frozenset(blocks))

    def redo(self) -> None:
        if self._after is None:
            self.prepare()
        assert self._before is not None and self._after is not None
        self._set(self._after)
        self.session.apply(self._diff(self._before, self._after))

    def undo(self) -> None:
        assert self._before is not None and self._after is not None
        self._set(self._before)
        self.session.apply(self._diff(self._after, self._before))


def _short(text: str, limit: int = 24) -> str:
    return f"'{text if len(text) <= limit else text[:limit - 1] + '…'}'"


def add_dictionary(session: ProjectSession, name: str,
                   rules: tuple[PronunciationRule, ...] = ()) -> ProjectEditCommand:
    """Return the command adding a pronunciation dictionary."""
    return ProjectEditCommand(session, f"Add dictionary {_short(name)}",
                              lambda p: edits.add_dictionary(p, name, rules))


def remove_dictionary(session: ProjectSession, dictionary_id: DictionaryId
                      ) -> ProjectEditCommand:
    """Return the command removing a pronunciation dictionary."""
    name = edits.dictionary(session.project, dictionary_id).name
    return ProjectEditCommand(session, f"Remove dictionary {_short(name)}",
                              lambda p: edits.remove_dictionary(p, dictionary_id))


def import_pls(session: ProjectSession, data: bytes, name: str, source: str
               ) -> ProjectEditCommand:
    """Return the command adding a PLS file's lexicon as a new dictionary."""
    return ProjectEditCommand(session, f"Import {_short(name)}",
                              lambda p: edits.import_pls(p, data, name, source))


def add_rule(session: ProjectSession, dictionary_id: DictionaryId, rule: PronunciationRule,
             index: int | None = None) -> ProjectEditCommand:
    """Return the command adding a rule (last unless ``index``)."""
    edits.check_rule(rule)  # refused before anything reaches the stack
    return ProjectEditCommand(session, f"Add rule {_short(rule.grapheme)}",
                              lambda p: edits.add_rule(p, dictionary_id, rule, index))


def _replace_rules(session: ProjectSession, dictionary_id: DictionaryId, text: str,
                   rules: list[PronunciationRule]) -> ProjectEditCommand:
    return ProjectEditCommand(session, text,
                              lambda p: edits.set_rules(p, dictionary_id, rules))


def edit_rule(session: ProjectSession, dictionary_id: DictionaryId, index: int,
              rule: PronunciationRule) -> ProjectEditCommand:
    """Return the command replacing the rule at ``index``."""
    edits.check_rule(rule)
    rules = list(edits.dictionary(session.project, dictionary_id).rules or ())
    rules[index] = rule
    return _replace_rules(session, dictionary_id, f"Edit rule {_short(rule.grapheme)}", rules)


def remove_rule(session: ProjectSession, dictionary_id: DictionaryId, index: int
                ) -> ProjectEditCommand:
    """Return the command deleting the rule at ``index``."""
    rule = (edits.dictionary(session.project, dictionary_id).rules or ())[index]
    return ProjectEditCommand(session, f"Delete rule {_short(rule.grapheme)}",
                              lambda p: edits.remove_rule(p, dictionary_id, index))


def move_rule(session: ProjectSession, dictionary_id: DictionaryId, index: int, to: int
              ) -> ProjectEditCommand:
    """Return the command moving a rule from ``index`` to ``to`` (order decides the match)."""
    rules = list(edits.dictionary(session.project, dictionary_id).rules or ())
    rule = rules.pop(index)
    rules.insert(to, rule)
    return _replace_rules(session, dictionary_id, f"Move rule {_short(rule.grapheme)}", rules)
