"""Qt item models: thin adapters over the core project model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from studio.core.model import (
    Block,
    BlockStatus,
    Changes,
    Chapter,
    ChapterSummary,
    Project,
    block_status,
    speakable_text,
)
from studio.core.summary import SummaryCache

_Index = QModelIndex | QPersistentModelIndex
STATUS_ROLE = Qt.ItemDataRole.UserRole + 1
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 4
SPOKEN_ROLE = Qt.ItemDataRole.UserRole + 5  # (start, end) of the word being spoken, if any
ID_ROLE = Qt.ItemDataRole.UserRole + 2
VOICE_ROLE = Qt.ItemDataRole.UserRole + 6  # the paragraph's own voice id, when not the default
SPEAKING_ROLE = Qt.ItemDataRole.UserRole + 7  # whether the paragraph is the one being spoken


class ChapterListModel(QAbstractListModel):
    """The project's chapters, each shown with its paragraph count and progress.

    The counts are cached (a long chapter takes over 100 ms to count): whoever edits the
    project passes each change on to :meth:`note_changes`.
    """

    def __init__(self, project: Project | None = None) -> None:
        super().__init__()
        self._project = project
        self._summaries = SummaryCache(project)

    def set_project(self, project: Project | None) -> None:
        """Show the chapters of ``project``."""
        self.beginResetModel()
        self._project = project
        self._summaries.reset(project)
        self.endResetModel()

    def note_changes(self, changes: Changes) -> None:
        """Update the cached counts after ``changes`` (repainting is the caller's call)."""
        self._summaries.update(changes)

    def summary(self, chapter: Chapter) -> ChapterSummary:
        """Return the counts of ``chapter``, from the cache."""
        return self._summaries.summary(chapter)

    def chapter(self, row: int) -> Chapter | None:
        """Return the chapter at ``row``."""
        if self._project is None or not 0 <= row < len(self._project.chapters):
            return None
        return self._project.chapters[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self._project is None else len(self._project.chapters)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        chapter = self.chapter(index.row())
        if chapter is None or self._project is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{index.row() + 1}. {chapter.title}"
        if role == PROGRESS_ROLE:
            s = self.summary(chapter)
            if s.paragraphs and s.converted == s.paragraphs:
                return "✓"
            return f"{s.converted}/{s.paragraphs}"
        if role == Qt.ItemDataRole.ToolTipRole:
            s = self.summary(chapter)
            return (
                f"{s.paragraphs} paragraphs, {s.words} words, {s.characters} characters\n"
                f"{s.converted} converted, {s.stale} stale, {s.unconverted} not yet converted"
            )
        if role == ID_ROLE:
            return chapter.id
        return None


GENERATING = "generating"
FAILED = "failed"
LOCKED_ROLE = Qt.ItemDataRole.UserRole + 3


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Return the ascending ``rows`` as (first, last) runs of consecutive rows."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


class BlockListModel(QAbstractListModel):
    """The paragraphs of one chapter, with their narration status.

    ``activity`` (set by the window) tells which paragraphs are being generated and which
    failed, with the reason; STATUS_ROLE then answers GENERATING or FAILED for them.
    """

    def __init__(self) -> None:
        super().__init__()
        self._project: Project | None = None
        self._chapter: Chapter | None = None
        self.generating: set[str] = set()
        self.failures: dict[str, str] = {}
        #: called with (block id, new text) when the user edits a paragraph in place; the
        #: window routes it to an undoable command (the model never edits the project itself)
        self.on_edit: Callable[[str, str], None] | None = None
        #: (block id, word index) being spoken now, set by the window during playback
        self.speaking: tuple[str, int] | None = None
        # The rows as the views know them: the chapter's paragraph list is edited in place
        # before the model hears of it, so structural changes are worked out against this.
        self._blocks: list[Block] = []
        self._rows: dict[str, int] | None = None  # block id -> row, built when first needed

    @property
    def chapter(self) -> Chapter | None:
        return self._chapter

    def block_at(self, row: int) -> Block | None:
        """Return the paragraph at ``row``."""
        if self._chapter is None or not 0 <= row < len(self._blocks):
            return None
        return self._blocks[row]

    def row_of(self, block_id: str) -> int | None:
        """Return the row of paragraph ``block_id``, if it is in the chapter shown."""
        return self._row_index().get(block_id)

    def _row_index(self) -> dict[str, int]:
        if self._rows is None:
            self._rows = {b.id: i for i, b in enumerate(self._blocks)}
        return self._rows

    def is_generating(self) -> bool:
        """Return whether a paragraph of the chapter shown is being generated."""
        return bool(self.generating) and any(b.id in self.generating for b in self._blocks)

    def refresh(self, block_ids: frozenset[str] | None = None, structure: bool = False) -> None:
        """Repaint the given paragraphs (all of them when None); on structure, follow the
        chapter's new paragraph list with row insertions and removals (views keep their
        selection, current row and scroll position)."""
        if self._chapter is None:
            return
        if structure:
            self._sync_rows()
            self._rows = None  # rebuilt from the rows as they now are
        if block_ids is None:
            rows = [0, len(self._blocks) - 1] if self._blocks else []
        else:  # by the index: a render repaints its paragraphs many times a second
            index = self._row_index()
            rows = [row for b in block_ids if (row := index.get(b)) is not None]
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)))

    def _sync_rows(self) -> None:
        assert self._chapter is not None
        self._rows = None
        new = list(self._chapter.blocks)
        old = self._blocks
        if [b.id for b in old] == [b.id for b in new]:
            self._blocks = new
            return
        new_ids = {b.id for b in new}
        old_ids = {b.id for b in old}
        if [b.id for b in old if b.id in new_ids] != [b.id for b in new if b.id in old_ids]:
            self.beginResetModel()  # paragraphs moved: no edit does that today
            self._blocks = new
            self.endResetModel()
            return
        parent = QModelIndex()
        for first, last in reversed(_runs([i for i, b in enumerate(old) if b.id not in new_ids])):
            self.beginRemoveRows(parent, first, last)
            del self._blocks[first:last + 1]
            self.endRemoveRows()
        for first, last in _runs([i for i, b in enumerate(new) if b.id not in old_ids]):
            self.beginInsertRows(parent, first, last)
            self._blocks[first:first] = new[first:last + 1]
            self.endInsertRows()
        self._blocks = new

    def set_chapter(self, project: Project | None, chapter: Chapter | None) -> None:
        """Show the paragraphs of ``chapter``."""
        self.beginResetModel()
        self._project, self._chapter = project, chapter
        self._blocks = list(chapter.blocks) if chapter is not None else []
        self._rows = None
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self._chapter is None:
            return 0
        return len(self._blocks)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if self._chapter is None or self._project is None:
            return None
        if not 0 <= index.row() < len(self._blocks):
            return None
        block = self._blocks[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return speakable_text(block.text)
        if role == STATUS_ROLE:
            if block.id in self.generating:
                return GENERATING
            if block.id in self.failures:
                return FAILED
            return block_status(self._project, block)
        if role == LOCKED_ROLE:
            return block.locked
        if role == Qt.ItemDataRole.EditRole:
            return block.text
        if role == SPOKEN_ROLE:
            return self._spoken_span(block)
        if role == SPEAKING_ROLE:
            return self.speaking is not None and self.speaking[0] == block.id
        if role == ID_ROLE:
            return block.id
        if role == VOICE_ROLE:
            voice = block.voice_id
            return voice if voice and voice != self._project.default_voice_id else None
        if role == Qt.ItemDataRole.ToolTipRole:
            status = block_status(self._project, block)
            labels = {
                BlockStatus.UNCONVERTED: "Not yet converted",
                BlockStatus.CONVERTED: "Converted",
                BlockStatus.STALE: "Stale: edited since it was converted",
            }
            voice = self._project.voice_for(block)
            lock = " · locked" if block.locked else ""
            if block.id in self.failures:
                return f"Failed: {self.failures[block.id]}"
            if block.id in self.generating:
                return "Generating…"
            return f"{labels[status]} · voice: {voice.alias if voice else 'none'}{lock}"
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        block = self.block_at(index.row())
        if block is not None and not block.locked:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole
                ) -> bool:
        block = self.block_at(index.row())
        if role != Qt.ItemDataRole.EditRole or block is None or self.on_edit is None:
            return False
        text = " ".join(str(value).split())
        if not text or text == block.text:
            return False
        self.on_edit(block.id, text)
        return True

    def _spoken_span(self, block: Block) -> tuple[int, int] | None:
        """Return the displayed characters of the word being spoken in ``block``."""
        if self.speaking is None or self.speaking[0] != block.id or block.current_take is None:
            return None
        words = block.current_take.word_timings
        index = self.speaking[1]
        if not 0 <= index < len(words):
            return None
        shown = speakable_text(block.text)
        word = words[index].word
        # Timings index the text as sent; the display drops break tags, so find the word
        # near its position in the displayed text.
        guess = min(words[index].char_start, len(shown))
        start = shown.find(word, max(0, guess - 40))
        if start < 0:
            start = shown.find(word)
        return (start, start + len(word)) if start >= 0 else None
