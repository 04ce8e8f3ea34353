"""Undoable edits: one QUndoCommand per user action, each calling core edit functions.

Paragraph edits snapshot the paragraphs they touch (text, voice, spans, lock and current
take) and, for structural edits (split, merge, insert, remove), the order of the chapter's
paragraph ids, and restore them on undo. Takes removed by a paragraph edit are kept in the
command with their audio, so undoing it brings the narration back too; a deleted chapter's
takes stay in the project file (held by the store) until it closes, so deleting a chapter
never loads its audio.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtGui import QUndoCommand

from studio.core import find
from studio.core import model as m
from studio.core.model import (
    Block,
    BlockId,
    Chapter,
    ChapterId,
    Project,
    Take,
    TakeId,
    VoiceId,
    VoiceSpan,
)
from studio.ui.session import ProjectSession

_TEXT_MERGE_ID = 1


@dataclasses.dataclass(frozen=True, slots=True)
class _BlockState:
    block: Block
    text: str
    voice_id: VoiceId | None
    spans: tuple[VoiceSpan, ...]
    locked: bool
    current_take_id: TakeId | None
    takes: tuple[Take, ...]


def _snapshot(chapter: Chapter, only: list[Block] | None = None) -> tuple[_BlockState, ...]:
    return tuple(
        _BlockState(b, b.text, b.voice_id, b.spans, b.locked, b.current_take_id, tuple(b.takes))
        for b in (chapter.blocks if only is None else only)
    )


def _restore(chapter: Chapter, states: tuple[_BlockState, ...],
             left: tuple[_BlockState, ...] | None = None) -> None:
    """Put the paragraphs ``states`` names back as it has them.

    Takes are append-only: ``left`` is the state the command left the paragraphs in, and a
    take made since (a render after the edit) is kept, as is the current take when it is no
    longer the one the command set. Only takes the command itself removed come back.
    """
    then = {s.block.id: s for s in left} if left is not None else {}
    for s in states:
        b = s.block
        was = then.get(b.id)
        known = {t.id for t in s.takes} | ({t.id for t in was.takes} if was else set())
        newer = [t for t in b.takes if t.id not in known]  # made after the command
        current = s.current_take_id
        if was is not None and b.current_take_id != was.current_take_id:
            current = b.current_take_id  # changed since (a new take): keep it
        b.text, b.voice_id, b.spans, b.locked = s.text, s.voice_id, s.spans, s.locked
        b.current_take_id, b.takes = current, [*s.takes, *newer]


def _reorder(chapter: Chapter, order: tuple[BlockId, ...], states: tuple[_BlockState, ...]
             ) -> None:
    """Make the chapter's paragraph list ``order``, taking paragraphs that are not in the
    chapter now (removed by the edit, or by its undo) from ``states``."""
    by_id = {b.id: b for b in chapter.blocks}
    for s in states:
        by_id.setdefault(s.block.id, s.block)
    chapter.blocks[:] = [by_id[i] for i in order]


def _diff(chapter: Chapter, before: tuple[_BlockState, ...], after: tuple[_BlockState, ...],
          structure: bool) -> m.Changes:
    """Return the Changes that turn ``before`` into ``after`` for one chapter."""
    def key(st: _BlockState) -> tuple[Any, ...]:
        return (st.text, st.voice_id, st.spans, st.locked, st.current_take_id,
                tuple(t.id for t in st.takes))

    old = {st.block.id: key(st) for st in before}
    ids_before = set(old)
    ids_after = {st.block.id for st in after}
    takes_before = {t.id for st in before for t in st.takes}
    takes_after = {t.id for st in after for t in st.takes}
    return m.Changes(
        structure=structure,
        chapters=frozenset({chapter.id}),
        blocks=frozenset(st.block.id for st in after if old.get(st.block.id) != key(st)),
        removed_blocks=frozenset(ids_before - ids_after),
        takes=frozenset(takes_after - takes_before),
        removed_takes=frozenset(takes_before - takes_after),
    )


class ChapterEditCommand(QUndoCommand):
    """An edit of one chapter's paragraphs, undone by restoring what it touched.

    The command keeps the state of only the paragraphs the edit touches, and for an edit
    that changes the paragraph list (split, merge, insert, delete) the order of the
    chapter's paragraph ids before and after: so an edit in a 5,000-paragraph chapter
    costs about what it costs in a short one. ``blocks`` names the paragraphs beforehand
    for edits that leave the list alone (text, voice, lock, take); without it, the
    paragraphs are the ones the edit's :class:`~studio.core.model.Changes` names (the same
    record the project file is saved from), found from a light copy of every paragraph's
    fields taken before the edit and dropped after it.
    """

    def __init__(self, session: ProjectSession, chapter_id: ChapterId, text: str,
                 edit: Callable[[Project], m.Changes],
                 blocks: list[BlockId] | None = None) -> None:
        super().__init__(text)
        self.session = session
        self.chapter_id = chapter_id
        self._edit = edit
        self._scope = blocks
        self._before: tuple[_BlockState, ...] | None = None
        self._after: tuple[_BlockState, ...] | None = None
        #: the paragraph ids before and after, for an edit that changed the list
        self._orders: tuple[tuple[BlockId, ...], tuple[BlockId, ...]] | None = None

    def _chapter(self) -> Chapter:
        return self.session.project.chapter(self.chapter_id)

    def _blocks(self) -> list[Block] | None:
        if self._scope is None:
            return None
        return [self.session.project.block(b) for b in self._scope]

    def prepare(self) -> None:
        """Do the edit itself (before the push): a refused edit raises and changes nothing."""
        if self._after is not None:
            return
        chapter = self._chapter()
        only = self._blocks()
        if only is not None:
            before = _snapshot(chapter, only)
            count = len(chapter.blocks)
            self._edit(self.session.project)  # raises EditError before changing anything
            if len(chapter.blocks) != count:
                raise AssertionError("a scoped paragraph edit changed the paragraph list")
            after = _snapshot(chapter, only)
        else:
            before, after = self._prepare_unscoped(chapter)
        removed = {t.id for s in before for t in s.takes} - {t.id for s in after for t in s.takes}
        if removed:  # keep their audio: undo must be able to put them back
            media = self.session.media_for(removed)
            before = tuple(
                dataclasses.replace(s, takes=tuple(media.get(t.id, t) for t in s.takes))
                for s in before
            )
        self._before, self._after = before, after

    def _prepare_unscoped(self, chapter: Chapter
                          ) -> tuple[tuple[_BlockState, ...], tuple[_BlockState, ...]]:
        blocks = list(chapter.blocks)
        # Plain tuples: a copy of 5,000 paragraphs' fields takes a few milliseconds.
        light = [(b, b.text, b.voice_id, b.spans, b.locked, b.current_take_id, tuple(b.takes))
                 for b in blocks]
        try:
            changes = self._edit(self.session.project)
        except BaseException:  # a refusal half-way: put every paragraph back as it was
            for b, *fields in light:
                (b.text, b.voice_id, b.spans, b.locked, b.current_take_id, takes) = fields
                b.takes = list(takes)
            chapter.blocks[:] = blocks
            raise
        order = tuple(b.id for b in blocks)
        new_order = tuple(b.id for b in chapter.blocks)
        touched = set(changes.blocks) | set(changes.removed_blocks)
        if new_order != order:
            self._orders = (order, new_order)
            touched |= set(order).symmetric_difference(new_order)
        before = tuple(_BlockState(*fields) for fields in light if fields[0].id in touched)
        return before, _snapshot(chapter, [b for b in chapter.blocks if b.id in touched])

    def _set(self, states: tuple[_BlockState, ...], other: tuple[_BlockState, ...],
             order: tuple[BlockId, ...] | None) -> None:
        chapter = self._chapter()
        _restore(chapter, states, left=other)
        if order is not None:
            _reorder(chapter, order, states)
        self.session.apply(_diff(chapter, other, states, structure=order is not None))

    def redo(self) -> None:
        if self._after is None:
            self.prepare()
        assert self._before is not None and self._after is not None
        self._set(self._after, self._before, self._orders[1] if self._orders else None)

    def undo(self) -> None:
        assert self._before is not None and self._after is not None
        self._set(self._before, self._after, self._orders[0] if self._orders else None)


class SetBlockTextCommand(ChapterEditCommand):
    """Replace a paragraph's text; bursts of typing in one paragraph merge into one step."""

    def __init__(self, session: ProjectSession, block_id: BlockId, text: str) -> None:
        chapter, _ = session.project.locate(block_id)
        super().__init__(session, chapter.id, "Edit text",
                         lambda p: m.set_block_text(p, block_id, text), blocks=[block_id])
        self.block_id = block_id

    def id(self) -> int:
        return _TEXT_MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetBlockTextCommand) or other.block_id != self.block_id:
            return False
        self._after = other._after  # keep our "before", take their "after"
        return True


def set_block_voice(session: ProjectSession, block_id: BlockId, voice_id: VoiceId | None
                    ) -> ChapterEditCommand:
    """Return the command giving a paragraph another voice."""
    chapter, _ = session.project.locate(block_id)
    alias = session.project.voices[voice_id].alias if voice_id else "the default voice"
    return ChapterEditCommand(session, chapter.id, f"Assign voice '{alias}'",
                              lambda p: m.set_block_voice(p, block_id, voice_id),
                              blocks=[block_id])


def set_block_spans(session: ProjectSession, block_id: BlockId, spans: list[VoiceSpan]
                    ) -> ChapterEditCommand:
    """Return the command setting the voices of parts of a paragraph."""
    chapter, _ = session.project.locate(block_id)
    return ChapterEditCommand(session, chapter.id, "Assign voice to selection",
                              lambda p: m.set_block_spans(p, block_id, spans),
                              blocks=[block_id])


def set_block_locked(session: ProjectSession, block_id: BlockId, locked: bool
                     ) -> ChapterEditCommand:
    """Return the command locking or unlocking a paragraph."""
    chapter, _ = session.project.locate(block_id)
    return ChapterEditCommand(session, chapter.id, "Lock" if locked else "Unlock",
                              lambda p: m.set_block_locked(p, block_id, locked),
                              blocks=[block_id])


def set_blocks_locked(session: ProjectSession, block_ids: list[BlockId], locked: bool
                      ) -> ChapterEditCommand:
    """Return the command locking or unlocking several paragraphs of one chapter (one step)."""
    chapter, _ = session.project.locate(block_ids[0])
    count = f" {len(block_ids)} paragraphs" if len(block_ids) > 1 else ""

    def edit(p: Project) -> m.Changes:
        for block_id in block_ids:  # one Changes at the end: merging 5,000 is quadratic
            m.set_block_locked(p, block_id, locked)
        return m.Changes(blocks=frozenset(block_ids))

    return ChapterEditCommand(session, chapter.id, ("Lock" if locked else "Unlock") + count,
                              edit, blocks=list(block_ids))


def insert_break(session: ProjectSession, block_id: BlockId, offset: int,
                 seconds: float = m.BREAK_DEFAULT_S) -> ChapterEditCommand:
    """Return the command inserting a pause at ``offset`` in a paragraph's text."""
    block = session.project.block(block_id)
    text = f"{block.text[:offset].rstrip()} {m.break_tag(seconds)} {block.text[offset:].lstrip()}"
    chapter, _ = session.project.locate(block_id)
    return ChapterEditCommand(session, chapter.id, f"Insert {seconds:.1f} s break",
                              lambda p: m.set_block_text(p, block_id, text.strip()),
                              blocks=[block_id])


def split_block(session: ProjectSession, block_id: BlockId, offset: int) -> ChapterEditCommand:
    """Return the command splitting a paragraph at ``offset``."""
    chapter, _ = session.project.locate(block_id)
    return ChapterEditCommand(session, chapter.id, "Split paragraph",
                              lambda p: m.split_block(p, block_id, offset))


def merge_blocks(session: ProjectSession, block_id: BlockId) -> ChapterEditCommand:
    """Return the command merging a paragraph with the next one."""
    chapter, _ = session.project.locate(block_id)
    return ChapterEditCommand(session, chapter.id, "Merge paragraphs",
                              lambda p: m.merge_blocks(p, block_id))


def restore_take(session: ProjectSession, block_id: BlockId, take_id: TakeId
                 ) -> ChapterEditCommand:
    """Return the command making an older take current again."""
    chapter, _ = session.project.locate(block_id)
    return ChapterEditCommand(session, chapter.id, "Restore take",
                              lambda p: m.set_current_take(p, block_id, take_id),
                              blocks=[block_id])


def delete_take(session: ProjectSession, block_id: BlockId, take_id: TakeId
                ) -> ChapterEditCommand:
    """Return the command deleting a take; undo puts it (and its audio) back."""
    chapter, _ = session.project.locate(block_id)
    return ChapterEditCommand(session, chapter.id, "Delete take",
                              lambda p: m.delete_take(p, block_id, take_id),
                              blocks=[block_id])


class ProjectEditCommand(QUndoCommand):
    """An edit outside one chapter (chapters, voices, settings), undone by a snapshot.

    The snapshot covers the chapter list, the cast, the metadata and every block whose
    staleness could change; voice edits touch no paragraph text, so restoring the cast and
    the chapter order is enough.
    """

    def __init__(self, session: ProjectSession, text: str,
                 edit: Callable[[Project], m.Changes]) -> None:
        super().__init__(text)
        self.session = session
        self._edit = edit
        self._before: dict[str, Any] | None = None
        self._after: dict[str, Any] | None = None
        self._changes = m.Changes()

    def _state(self) -> dict[str, Any]:
        p = self.session.project
        return {
            "meta": (p.title, p.author, p.language, p.model_id, p.default_voice_id,
                     dict(p.settings), p.cover),
            "voices": {vid: dataclasses.replace(v) for vid, v in p.voices.items()},
            "chapters": list(p.chapters),
            "titles": {c.id: c.title for c in p.chapters},
            "dictionaries": list(p.dictionaries),
        }

    def _set(self, state: dict[str, Any]) -> None:
        p = self.session.project
        (p.title, p.author, p.language, p.model_id, p.default_voice_id, settings,
         p.cover) = state["meta"]
        p.settings = dict(settings)
        p.voices = {vid: dataclasses.replace(v) for vid, v in state["voices"].items()}
        p.chapters[:] = state["chapters"]
        for chapter in p.chapters:
            chapter.title = state["titles"].get(chapter.id, chapter.title)
        p.dictionaries = list(state["dictionaries"])

    def _all_changes(self, before: dict[str, Any], after: dict[str, Any]) -> m.Changes:
        removed = {c.id for c in before["chapters"]} - {c.id for c in after["chapters"]}
        removed_voices = set(before["voices"]) - set(after["voices"])
        gone = [c for c in before["chapters"] if c.id in removed]
        return self._changes | m.Changes(
            project=True,
            structure=True,
            chapters=frozenset(c.id for c in after["chapters"]),
            voices=frozenset(after["voices"]),
            removed_voices=frozenset(removed_voices),
            removed_chapters=frozenset(removed),
            removed_blocks=frozenset(b.id for c in gone for b in c.blocks),
            removed_takes=frozenset(t.id for c in gone for b in c.blocks for t in b.takes),
            dictionaries=True,
        )

    def prepare(self) -> None:
        """Do the edit itself (before the push): a refused edit raises and changes nothing."""
        if self._after is None:
            self._before = self._state()
            self._changes = self._edit(self.session.project)
            # A deleted chapter's audio is not loaded: the store holds the chapter's rows
            # (takes and audio included) until the file closes, so undo only shows them again.
            self._after = self._state()

    def redo(self) -> None:
        if self._after is None:
            self.prepare()
        assert self._before is not None and self._after is not None
        self._set(self._after)
        self.session.apply(self._all_changes(self._before, self._after))

    def undo(self) -> None:
        assert self._before is not None and self._after is not None
        self._set(self._before)
        restored = {c.id for c in self._before["chapters"]} - {
            c.id for c in self._after["chapters"]}
        back = [c for c in self._before["chapters"] if c.id in restored]
        self.session.apply(self._all_changes(self._after, self._before) | m.Changes(
            blocks=frozenset(b.id for c in back for b in c.blocks),
            takes=frozenset(t.id for c in back for b in c.blocks for t in b.takes),
        ))


def add_chapter(session: ProjectSession, title: str, index: int | None = None
                ) -> ProjectEditCommand:
    """Return the command adding an empty chapter."""
    return ProjectEditCommand(session, f"Add chapter '{title}'",
                              lambda p: m.add_chapter(p, title, [], index))


def rename_chapter(session: ProjectSession, chapter_id: ChapterId, title: str
                   ) -> ProjectEditCommand:
    """Return the command renaming a chapter."""
    return ProjectEditCommand(session, f"Rename chapter to '{title}'",
                              lambda p: m.rename_chapter(p, chapter_id, title))


def move_chapter(session: ProjectSession, chapter_id: ChapterId, index: int
                 ) -> ProjectEditCommand:
    """Return the command moving a chapter."""
    return ProjectEditCommand(session, "Move chapter",
                              lambda p: m.move_chapter(p, chapter_id, index))


def remove_chapter(session: ProjectSession, chapter_id: ChapterId) -> ProjectEditCommand:
    """Return the command deleting a chapter (its narration comes back on undo)."""
    title = session.project.chapter(chapter_id).title
    return ProjectEditCommand(session, f"Delete chapter '{title}'",
                              lambda p: m.remove_chapter(p, chapter_id))


def add_voice(session: ProjectSession, voice: m.Voice) -> ProjectEditCommand:
    """Return the command adding a voice to the cast."""
    return ProjectEditCommand(session, f"Add voice '{voice.alias}'",
                              lambda p: m.add_voice(p, voice))


def update_voice(session: ProjectSession, voice_id: VoiceId, **fields: Any) -> ProjectEditCommand:
    """Return the command changing a voice's alias or settings.

    Raises:
        EditError: the change would make locked paragraphs stale; the message lists them.
    """
    project = session.project
    voice = project.voices[voice_id]
    trial = dataclasses.replace(voice, **fields)
    if trial.engine_fingerprint() != voice.engine_fingerprint():
        locked = [
            (chapter, index) for chapter in project.chapters
            for index, b in enumerate(chapter.blocks)
            if b.locked and b.current_take is not None and (
                project.voice_for(b) is voice or any(s.voice_id == voice_id for s in b.spans))
        ]
        if locked:
            where = ", ".join(f"'{c.title}' ¶{i + 1}" for c, i in locked[:10])
            more = f" and {len(locked) - 10} more" if len(locked) > 10 else ""
            raise m.EditError(
                f"Changing '{voice.alias}' would make locked paragraphs stale: {where}{more}. "
                "Unlock them first."
            )
    return ProjectEditCommand(session, f"Change voice '{voice.alias}'",
                              lambda p: m.update_voice(p, voice_id, **fields))


def set_project_meta(session: ProjectSession, **fields: Any) -> ProjectEditCommand:
    """Return the command changing title, author, language, model, default voice, settings or
    cover."""
    return ProjectEditCommand(session, "Change project settings",
                              lambda p: m.set_project_meta(p, **fields))


def _quoted(text: str, limit: int = 24) -> str:
    return f"'{text if len(text) <= limit else text[:limit - 1] + '…'}'"


class ReplaceTextsCommand(QUndoCommand):
    """Set the text of many paragraphs, in any chapters, as one undo step (Replace All).

    Only the edited paragraphs are snapshotted (the paragraph lists stay as they are), so
    replacing in a long book costs what the replaced paragraphs cost; redo and undo save and
    announce all of them at once.
    """

    def __init__(self, session: ProjectSession, texts: Mapping[BlockId, str], text: str
                 ) -> None:
        super().__init__(text)
        self.session = session
        self.texts = dict(texts)
        self.plan: find.ReplacePlan | None = None  # set by replace_all, for its report
        self._before: dict[ChapterId, tuple[_BlockState, ...]] = {}
        self._after: dict[ChapterId, tuple[_BlockState, ...]] | None = None

    def prepare(self) -> None:
        """Do the edit itself (before the push): a refused edit raises and changes nothing."""
        if self._after is not None:
            return
        if not self.texts:
            raise m.EditError("There is nothing to replace.")
        project = self.session.project
        edited: dict[ChapterId, list[Block]] = {}
        for block_id in self.texts:
            chapter, index = project.locate(block_id)
            edited.setdefault(chapter.id, []).append(chapter.blocks[index])
        chapters = {cid: project.chapter(cid) for cid in edited}
        self._before = {cid: _snapshot(chapters[cid], blocks) for cid, blocks in edited.items()}
        try:
            find.apply_texts(project, self.texts)
        except BaseException:
            for cid, states in self._before.items():
                _restore(chapters[cid], states)
            raise
        self._after = {cid: _snapshot(chapters[cid], blocks) for cid, blocks in edited.items()}

    def _set(self, states: dict[ChapterId, tuple[_BlockState, ...]],
             other: dict[ChapterId, tuple[_BlockState, ...]]) -> None:
        changes = m.Changes()
        for cid, chapter_states in states.items():
            chapter = self.session.project.chapter(cid)
            _restore(chapter, chapter_states, left=other[cid])
            changes = changes | _diff(chapter, other[cid], chapter_states, structure=False)
        self.session.apply(changes)

    def redo(self) -> None:
        if self._after is None:
            self.prepare()
        assert self._after is not None
        self._set(self._after, self._before)

    def undo(self) -> None:
        assert self._after is not None
        self._set(self._before, self._after)


def replace_all(session: ProjectSession, query: str, replacement: str, *,
                case_sensitive: bool = False, whole_word: bool = False, regex: bool = False
                ) -> ReplaceTextsCommand:
    """Return the command replacing every match in the book's unlocked paragraphs.

    Its ``plan`` says how many matches and paragraphs it replaces and how many it skips.

    Raises:
        FindError: the query or the replacement is invalid.
    """
    plan = find.plan_replace_all(session.project, query, replacement,
                                 case_sensitive=case_sensitive, whole_word=whole_word,
                                 regex=regex)
    command = ReplaceTextsCommand(session, plan.texts,
                                  f"Replace all {_quoted(query)} with {_quoted(replacement)}")
    command.plan = plan
    return command


def replace_match(session: ProjectSession, match: find.Match, query: str, replacement: str, *,
                  case_sensitive: bool = False, whole_word: bool = False, regex: bool = False
                  ) -> ChapterEditCommand:
    """Return the command replacing one match (refused if its paragraph is locked)."""
    def edit(p: Project) -> m.Changes:
        text = find.replace_at(p.block(match.block_id).text, match.start, query, replacement,
                               case_sensitive=case_sensitive, whole_word=whole_word,
                               regex=regex)
        return m.set_block_text(p, match.block_id, text)

    chapter, _ = session.project.locate(match.block_id)
    return ChapterEditCommand(session, chapter.id,
                              f"Replace {_quoted(match.matched)} with {_quoted(replacement)}",
                              edit, blocks=[match.block_id])
