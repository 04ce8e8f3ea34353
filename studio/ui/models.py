"""Qt item models: thin adapters over the core project model."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from studio.core.model import (
    BlockStatus,
    Chapter,
    Project,
    block_status,
    speakable_text,
    summarize_chapter,
)

_Index = QModelIndex | QPersistentModelIndex
STATUS_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2


class ChapterListModel(QAbstractListModel):
    """The project's chapters, each shown with its paragraph count and progress."""

    def __init__(self, project: Project | None = None) -> None:
        super().__init__()
        self._project = project

    def set_project(self, project: Project | None) -> None:
        """Show the chapters of ``project``."""
        self.beginResetModel()
        self._project = project
        self.endResetModel()

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
        if role == Qt.ItemDataRole.ToolTipRole:
            s = summarize_chapter(self._project, chapter)
            return (
                f"{s.paragraphs} paragraphs, {s.words} words, {s.characters} characters\n"
                f"{s.converted} converted, {s.stale} stale, {s.unconverted} not yet converted"
            )
        if role == ID_ROLE:
            return chapter.id
        return None


class BlockListModel(QAbstractListModel):
    """The paragraphs of one chapter, with their narration status."""

    def __init__(self) -> None:
        super().__init__()
        self._project: Project | None = None
        self._chapter: Chapter | None = None

    def set_chapter(self, project: Project | None, chapter: Chapter | None) -> None:
        """Show the paragraphs of ``chapter``."""
        self.beginResetModel()
        self._project, self._chapter = project, chapter
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self._chapter is None:
            return 0
        return len(self._chapter.blocks)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if self._chapter is None or self._project is None:
            return None
        if not 0 <= index.row() < len(self._chapter.blocks):
            return None
        block = self._chapter.blocks[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return speakable_text(block.text)
        if role == STATUS_ROLE:
            return block_status(self._project, block)
        if role == ID_ROLE:
            return block.id
        if role == Qt.ItemDataRole.ToolTipRole:
            status = block_status(self._project, block)
            labels = {
                BlockStatus.UNCONVERTED: "Not yet converted",
                BlockStatus.CONVERTED: "Converted",
                BlockStatus.STALE: "Stale: edited since it was converted",
            }
            voice = self._project.voice_for(block)
            lock = " · locked" if block.locked else ""
            return f"{labels[status]} · voice: {voice.alias if voice else 'none'}{lock}"
        return None
