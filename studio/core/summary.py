"""Chapter summaries kept up to date from :class:`~studio.core.model.Changes`.

:func:`~studio.core.model.summarize_chapter` hashes every paragraph of a chapter to tell
converted from stale (some 25 µs each: over 100 ms for a 5,000-paragraph chapter). The
sidebar shows a summary per chapter on every repaint, and a render changes a chapter many
times a second, so :class:`SummaryCache` keeps each paragraph's share of its chapter's counts
and recounts only the paragraphs an edit names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.core.errors import EditError
from studio.core.model import (
    Block,
    BlockId,
    BlockStatus,
    Changes,
    Chapter,
    ChapterId,
    ChapterSummary,
    Project,
    block_status,
    speakable_text,
)

_Share = tuple[Block, int, int, BlockStatus]  # the block, words, characters, status


def _share(project: Project, block: Block) -> _Share:
    spoken = speakable_text(block.text)
    return (block, len(spoken.split()), len(spoken), block_status(project, block))


def _key(block: Block) -> tuple[Any, ...]:
    """Return what of a paragraph its counts depend on (with the project's context)."""
    return (block.text, block.voice_id, block.spans, block.current_take_id, len(block.takes))


@dataclass(slots=True)
class _Tally:
    """One chapter's counts, with each paragraph's share of them."""

    shares: dict[BlockId, _Share] = field(default_factory=dict)
    keys: dict[BlockId, tuple[Any, ...]] = field(default_factory=dict)  # see _key
    words: int = 0
    characters: int = 0
    todo_characters: int = 0
    status: dict[BlockStatus, int] = field(default_factory=lambda: dict.fromkeys(BlockStatus, 0))

    def add(self, share: _Share) -> None:
        _, words, chars, status = share
        self.shares[share[0].id] = share
        self.keys[share[0].id] = _key(share[0])
        self.words += words
        self.characters += chars
        self.status[status] += 1
        if status is not BlockStatus.CONVERTED:
            self.todo_characters += chars

    def remove(self, block_id: BlockId) -> None:
        self.keys.pop(block_id, None)
        share = self.shares.pop(block_id, None)
        if share is None:
            return
        _, words, chars, status = share
        self.words -= words
        self.characters -= chars
        self.status[status] -= 1
        if status is not BlockStatus.CONVERTED:
            self.todo_characters -= chars


class SummaryCache:
    """Return chapter summaries, recounting only what :meth:`update` says has changed.

    Every change to the project must reach :meth:`update` (the window passes on the
    session's ``changed``); anything that may change every paragraph's status (a voice,
    the language, the model, the dictionaries) drops all counts.
    """

    def __init__(self, project: Project | None = None) -> None:
        self.project = project
        self._tallies: dict[ChapterId, _Tally] = {}
        self._context: Any = self._context_of(project)

    def reset(self, project: Project | None) -> None:
        """Forget every count (another project, or one replaced wholesale)."""
        self.project = project
        self._tallies.clear()
        self._context = self._context_of(project)

    def summary(self, chapter: Chapter) -> ChapterSummary:
        """Return the counts of ``chapter`` (a chapter of the project)."""
        assert self.project is not None
        tally = self._tallies.get(chapter.id)
        if tally is None:
            tally = _Tally()
            for block in chapter.blocks:
                tally.add(_share(self.project, block))
            self._tallies[chapter.id] = tally
        return ChapterSummary(
            id=chapter.id,
            title=chapter.title,
            paragraphs=len(tally.shares),
            words=tally.words,
            characters=tally.characters,
            converted=tally.status[BlockStatus.CONVERTED],
            stale=tally.status[BlockStatus.STALE],
            unconverted=tally.status[BlockStatus.UNCONVERTED],
            characters_to_generate=tally.todo_characters,
        )

    def update(self, changes: Changes) -> None:
        """Bring the counts level with the project after ``changes``."""
        project = self.project
        if project is None or not self._tallies or changes.empty:
            return
        if changes.project or changes.voices or changes.removed_voices or changes.dictionaries:
            context = self._context_of(project)
            if context != self._context:  # every paragraph's status may have changed
                self._context = context
                self._tallies.clear()
                return
        for chapter_id in changes.removed_chapters:
            self._tallies.pop(ChapterId(chapter_id), None)
        if changes.structure or changes.removed_blocks:
            self._follow_structure()
        for block_id in changes.blocks:
            try:
                chapter, index = project.locate(BlockId(block_id))
            except EditError:
                continue  # removed again since
            tally = self._tallies.get(chapter.id)
            if tally is None:
                continue
            block = chapter.blocks[index]
            old = tally.shares.get(block.id)
            if old is not None and old[0] is block and tally.keys.get(block.id) == _key(block):
                continue  # nothing its counts depend on changed (a lock, say): no rehash
            tally.remove(BlockId(block_id))
            tally.add(_share(project, block))

    def _follow_structure(self) -> None:
        """Drop the shares of paragraphs that left a chapter; count those that came."""
        assert self.project is not None
        chapters = {c.id: c for c in self.project.chapters}
        for chapter_id in list(self._tallies):
            chapter = chapters.get(chapter_id)
            if chapter is None:
                del self._tallies[chapter_id]
                continue
            tally = self._tallies[chapter_id]
            present = {b.id: b for b in chapter.blocks}
            for block_id, share in list(tally.shares.items()):
                if present.get(block_id) is not share[0]:
                    tally.remove(block_id)
            for block in chapter.blocks:
                if block.id not in tally.shares:
                    tally.add(_share(self.project, block))

    @staticmethod
    def _context_of(project: Project | None) -> Any:
        """Return what of the project, beyond a paragraph itself, its status depends on."""
        if project is None:
            return None
        return (
            project.language, project.model_id, project.default_voice_id,
            {vid: v.engine_fingerprint() for vid, v in project.voices.items()},
            list(project.dictionaries),
        )
