"""The chapters sidebar: the chapter list with its progress; add, rename, delete and reorder.

Every edit is an undoable command pushed on the session. The list follows the project by
:meth:`ChapterOrderModel.sync`, which turns a change of the chapter list into the matching
row insert, removal or move, so the view's current chapter stays on the same chapter (a
model reset would lose it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
)
from PySide6.QtGui import QAction, QDropEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QInputDialog,
    QListView,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core import model as m
from studio.core.errors import StudioError
from studio.core.model import Chapter, ChapterId, Project
from studio.ui import commands
from studio.ui.delegates import ChapterDelegate
from studio.ui.errors import show_error
from studio.ui.models import ChapterListModel
from studio.ui.session import ProjectSession

_Index = QModelIndex | QPersistentModelIndex
CHAPTER_MIME = "application/x-narrator-studio-chapter"
#: the one paragraph a new chapter starts with, so there is something to type into
NEW_CHAPTER_TEXT = "Type or paste your text here."


def _single_move(old: list[str], new: list[str]) -> tuple[int, int] | None:
    """Return (from, to) if ``new`` is ``old`` with one item moved, else None."""
    if len(old) != len(new) or old == new:
        return None
    start = next((i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b), None)
    if start is None:
        return None
    end = max(i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b)
    if old[start + 1 : end + 1] == new[start:end]:  # old[start] moved down to end
        return (start, end) if new[end] == old[start] else None
    if old[start:end] == new[start + 1 : end + 1]:  # old[end] moved up to start
        return (end, start) if new[start] == old[end] else None
    return None


class ChapterOrderModel(ChapterListModel):
    """The chapter list, with titles edited in place and rows moved by drag and drop.

    The model never edits the project: ``on_rename(chapter id, title)`` and
    ``on_move(chapter id, new index)`` (set by the panel) push undoable commands, and the
    panel calls :meth:`sync` when the session announces the change.
    """

    def __init__(self, project: Project | None = None) -> None:
        self._shown: list[Chapter] = list(project.chapters) if project is not None else []
        super().__init__(project)
        self.on_rename: Callable[[ChapterId, str], None] | None = None
        self.on_move: Callable[[ChapterId, int], None] | None = None

    def set_project(self, project: Project | None) -> None:
        """Show the chapters of ``project``."""
        self._shown = list(project.chapters) if project is not None else []
        super().set_project(project)

    def chapter(self, row: int) -> Chapter | None:
        """Return the chapter shown at ``row``."""
        return self._shown[row] if 0 <= row < len(self._shown) else None

    def row_of(self, chapter_id: str) -> int:
        """Return the row of a chapter, or -1."""
        return next((i for i, c in enumerate(self._shown) if c.id == chapter_id), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._shown)

    def sync(self) -> None:
        """Bring the rows level with the project's chapter list (one insert, removal or move
        is signalled as such; anything else resets) and repaint titles and progress."""
        project = self._project
        new = list(project.chapters) if project is not None else []
        old_ids = [c.id for c in self._shown]
        new_ids = [c.id for c in new]
        if old_ids != new_ids:
            root = QModelIndex()
            added = [i for i, c in enumerate(new_ids) if c not in set(old_ids)]
            gone = [i for i, c in enumerate(old_ids) if c not in set(new_ids)]
            move = _single_move(old_ids, new_ids)
            if len(new) == len(self._shown) + 1 and len(added) == 1 and (
                    new_ids[: added[0]] + new_ids[added[0] + 1 :] == old_ids):
                self.beginInsertRows(root, added[0], added[0])
                self._shown = new
                self.endInsertRows()
            elif len(new) == len(self._shown) - 1 and len(gone) == 1 and (
                    old_ids[: gone[0]] + old_ids[gone[0] + 1 :] == new_ids):
                self.beginRemoveRows(root, gone[0], gone[0])
                self._shown = new
                self.endRemoveRows()
            elif move is not None:
                source, target = move
                self.beginMoveRows(root, source, source, root,
                                   target + 1 if target > source else target)
                self._shown = new
                self.endMoveRows()
            else:
                self.beginResetModel()
                self._shown = new
                self.endResetModel()
        else:
            self._shown = new
        if self._shown:  # numbers, titles and progress
            self.dataChanged.emit(self.index(0), self.index(len(self._shown) - 1))

    # -- editing in place --------------------------------------------------------------------

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.EditRole:
            chapter = self.chapter(index.row())
            return chapter.title if chapter is not None else None
        return super().data(index, role)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if not index.isValid():  # drops land between chapters, never onto one
            return base | Qt.ItemFlag.ItemIsDropEnabled
        return base | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsDragEnabled

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole
                ) -> bool:
        chapter = self.chapter(index.row())
        if role != Qt.ItemDataRole.EditRole or chapter is None or self.on_rename is None:
            return False
        title = " ".join(str(value).split())
        if not title or title == chapter.title:
            return False
        self.on_rename(chapter.id, title)
        return True

    # -- drag and drop -------------------------------------------------------------------------

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [CHAPTER_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        data = QMimeData()
        rows = sorted({i.row() for i in indexes if self.chapter(i.row()) is not None})
        if rows:
            chapter = self.chapter(rows[0])
            assert chapter is not None
            data.setData(CHAPTER_MIME, QByteArray(chapter.id.encode()))
        return data

    def row_from_mime(self, data: QMimeData) -> int:
        """Return the row of the chapter being dragged, or -1 (not one of ours)."""
        if not data.hasFormat(CHAPTER_MIME):
            return -1
        return self.row_of(bytes(data.data(CHAPTER_MIME).data()).decode())

    def moveRows(self, sourceParent: _Index, sourceRow: int, count: int,
                 destinationParent: _Index, destinationChild: int) -> bool:
        """Move one chapter before row ``destinationChild`` (Qt's convention) by a command."""
        chapter = self.chapter(sourceRow)
        if (count != 1 or chapter is None or sourceParent.isValid()
                or destinationParent.isValid() or self.on_move is None):
            return False
        target = destinationChild - 1 if destinationChild > sourceRow else destinationChild
        target = max(0, min(target, len(self._shown) - 1))
        if target != sourceRow:
            self.on_move(chapter.id, target)
        return True


class ChapterListView(QListView):
    """A chapter list whose drops move the dragged chapter through the model's moveRows.

    ``key_actions`` maps keys (``QKeySequence.toString()``) to actions the list triggers
    when it has focus; it claims those keys before any window shortcut sees them.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key_actions: dict[str, QAction] = {}

    def _action_for(self, event: QKeyEvent) -> QAction | None:
        return self.key_actions.get(QKeySequence(event.keyCombination()).toString())

    def event(self, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and self.state() != QAbstractItemView.State.EditingState
                and self._action_for(event) is not None):
            event.accept()  # ours: delivered as a key press, not as a shortcut
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        action = self._action_for(event)
        if action is not None:
            if action.isEnabled():
                action.trigger()
            event.accept()
            return
        super().keyPressEvent(event)

    def drop_row(self, pos: QPoint) -> int:
        """Return the row a drop at ``pos`` (viewport coordinates) inserts before."""
        index = self.indexAt(pos)
        if not index.isValid():
            return self.model().rowCount()
        rect = self.visualRect(index)
        return index.row() + (1 if pos.y() >= rect.center().y() else 0)

    def dropEvent(self, event: QDropEvent) -> None:
        model = self.model()
        source = model.row_from_mime(event.mimeData()) if isinstance(
            model, ChapterOrderModel) else -1
        if source < 0:
            event.ignore()
            return
        target = self.drop_row(event.position().toPoint())
        model.moveRow(QModelIndex(), source, QModelIndex(), target)
        # The move is done (or refused); nothing must be removed when the drag ends.
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.stopAutoScroll()
        self.setState(QAbstractItemView.State.NoState)
        self.viewport().update()


class ChaptersPanel(QWidget):
    """The chapters sidebar.

    Signals: none; edits go through the session, whose ``changed`` signal the panel follows.
    """

    def __init__(self, model: ChapterOrderModel | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: ProjectSession | None = None
        self.model = model or ChapterOrderModel()
        self.model.on_rename = self.rename_chapter
        self.model.on_move = self.move_chapter
        self.view = ChapterListView()
        self.view.setObjectName("chapters")
        self.view.setModel(self.model)
        self.view.setItemDelegate(ChapterDelegate(self.view))
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setMinimumWidth(220)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.view.setDragEnabled(True)
        self.view.setAcceptDrops(True)
        self.view.setDropIndicatorShown(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._update_actions())

        def action(text: str, key: str, slot: Callable[[], object], tip: str) -> QAction:
            # The key works only while the chapter list has focus (Delete and F2 mean other
            # things elsewhere), so the list handles it rather than a window-wide shortcut;
            # the menus show it after a tab.
            keys = QKeySequence(key).toString()
            act = QAction(f"{text}\t{keys}", self)
            act.setToolTip(f"{tip} ({keys})")
            act.triggered.connect(lambda _=False: slot())
            self.view.key_actions[keys] = act
            return act

        self.add_action = action("&Add Chapter…", "Ins", self.add_chapter,
                                 "Add a chapter after the selected one")
        self.rename_action = action("&Rename Chapter", "F2", self.start_rename,
                                    "Rename the selected chapter")
        self.delete_action = action("&Delete Chapter…", "Del", self.delete_chapter,
                                    "Delete the selected chapter (undoable)")
        self.move_up_action = action("Move Chapter &Up", "Alt+Up", lambda: self.move_by(-1),
                                     "Move the selected chapter up")
        self.move_down_action = action("Move Chapter Do&wn", "Alt+Down",
                                       lambda: self.move_by(1), "Move the selected chapter down")

        buttons = QHBoxLayout()
        buttons.setContentsMargins(4, 2, 4, 4)
        buttons.setSpacing(2)
        for act, label in ((self.add_action, "Add"), (self.rename_action, "Rename"),
                           (self.delete_action, "Delete"), (self.move_up_action, "▲"),
                           (self.move_down_action, "▼")):
            # Short labels (not the action's text): the sidebar must stay narrow.
            button = QToolButton()
            button.setText(label)
            button.setToolTip(act.toolTip())
            button.setAutoRaise(True)
            button.clicked.connect(act.trigger)
            act.enabledChanged.connect(button.setEnabled)
            button.setEnabled(act.isEnabled())
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self._update_actions()

    # -- session -------------------------------------------------------------------------------

    def set_session(self, session: ProjectSession | None) -> None:
        """Edit the chapters of ``session``'s project."""
        if self.session is not None:
            self.session.changed.disconnect(self._on_session_changed)
        self.session = session
        if session is not None:
            session.changed.connect(self._on_session_changed)
        self._update_actions()

    def _on_session_changed(self, changes: object, _initiator: object) -> None:
        if not isinstance(changes, m.Changes):
            return
        self.model.note_changes(changes)  # the cached counts, before anything repaints
        if changes.structure or changes.chapters or changes.takes or changes.blocks:
            self.model.sync()
            current = self.view.currentIndex()
            if current.isValid() and not self.view.selectionModel().isSelected(current):
                self.view.selectionModel().select(
                    current, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self._update_actions()
        elif self.model.rowCount() and (changes.voices or changes.removed_voices
                                        or changes.project or changes.dictionaries):
            # Every paragraph's status may have changed: the progress of every chapter.
            self.model.dataChanged.emit(self.model.index(0),
                                        self.model.index(self.model.rowCount() - 1))

    def current_chapter(self) -> Chapter | None:
        """Return the selected chapter."""
        return self.model.chapter(self.view.currentIndex().row())

    def select_chapter(self, chapter_id: str) -> None:
        """Make ``chapter_id`` the current chapter."""
        row = self.model.row_of(chapter_id)
        if row >= 0:
            self.view.setCurrentIndex(self.model.index(row))

    def _update_actions(self) -> None:
        row = self.view.currentIndex().row()
        has = self.session is not None and row >= 0
        self.add_action.setEnabled(self.session is not None)
        self.rename_action.setEnabled(has)
        self.delete_action.setEnabled(has)
        self.move_up_action.setEnabled(has and row > 0)
        self.move_down_action.setEnabled(has and row < self.model.rowCount() - 1)

    def _push(self, command: commands.ProjectEditCommand) -> bool:
        assert self.session is not None
        try:
            self.session.push(command, initiator=self)
        except StudioError as exc:
            show_error(self, exc)
            return False
        return True

    # -- edits ---------------------------------------------------------------------------------

    def add_chapter(self, title: str | None = None) -> None:
        """Add a chapter after the current one (asking for its title) and select it."""
        if self.session is None:
            return
        project = self.session.project
        row = self.view.currentIndex().row()
        index = row + 1 if row >= 0 else len(project.chapters)
        if title is None:
            title, ok = QInputDialog.getText(self, "Add Chapter", "Title of the new chapter:",
                                             text=f"Chapter {len(project.chapters) + 1}")
            if not ok:
                return
        title = " ".join(title.split())
        if not title:
            return
        command = commands.ProjectEditCommand(
            self.session, f"Add chapter '{title}'",
            lambda p: m.add_chapter(p, title, [NEW_CHAPTER_TEXT], index))
        if self._push(command):
            self.view.setCurrentIndex(self.model.index(index))

    def start_rename(self) -> None:
        """Edit the current chapter's title in place."""
        index = self.view.currentIndex()
        if index.isValid():
            self.view.edit(index)

    def rename_chapter(self, chapter_id: ChapterId, title: str) -> None:
        """Rename a chapter (undoable)."""
        if self.session is not None:
            self._push(commands.rename_chapter(self.session, chapter_id, title))

    def delete_chapter(self, confirm: bool = True) -> None:
        """Delete the current chapter after saying what it holds (undoable, audio too)."""
        chapter = self.current_chapter()
        if self.session is None or chapter is None:
            return
        if confirm:
            paragraphs = len(chapter.blocks)
            takes = sum(len(b.takes) for b in chapter.blocks)
            narrated = sum(1 for b in chapter.blocks if b.current_take is not None)
            held = f"{paragraphs} paragraph{'s' * (paragraphs != 1)}"
            if takes:
                held += (f" and {takes} narrated take{'s' * (takes != 1)} "
                         f"({narrated} paragraph{'s' * (narrated != 1)} narrated)")
            answer = QMessageBox.question(
                self, "Delete chapter",
                f"Delete '{chapter.title}' with its {held}?\n\nUndo brings it back with its "
                "audio.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._push(commands.remove_chapter(self.session, chapter.id))

    def move_chapter(self, chapter_id: ChapterId, index: int) -> None:
        """Move a chapter to ``index`` (undoable); it stays the current chapter."""
        if self.session is not None:
            self._push(commands.move_chapter(self.session, chapter_id, index))

    def move_by(self, delta: int) -> None:
        """Move the current chapter up (-1) or down (+1)."""
        chapter = self.current_chapter()
        row = self.view.currentIndex().row()
        if chapter is None or not 0 <= row + delta < self.model.rowCount():
            return
        self.move_chapter(chapter.id, row + delta)
        self.select_chapter(chapter.id)

    def _on_context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if index.isValid():
            self.view.setCurrentIndex(index)
        menu = QMenu(self)
        menu.addAction(self.add_action)
        menu.addSeparator()
        menu.addActions([self.rename_action, self.delete_action])
        menu.addSeparator()
        menu.addActions([self.move_up_action, self.move_down_action])
        menu.exec(self.view.viewport().mapToGlobal(pos))
