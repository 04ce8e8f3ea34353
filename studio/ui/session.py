"""The open project: the model, its file, the undo stack; the one place edits reach the model.

Every user edit is a command pushed with :meth:`ProjectSession.push`; its ``redo``/``undo``
call core edit functions, and the session saves what changed at once (write-through, one
transaction per edit) and announces it. Generation results arrive through
:meth:`ProjectSession.add_take`, which is not on the undo stack: takes are append-only.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.core import model as m
from studio.core.model import Project, Take, TakeId
from studio.core.store import ProjectStore


class ProjectSession(QObject):
    """Own a project, its store and its undo stack.

    Signals:
        changed(object, object): a :class:`~studio.core.model.Changes` and the initiator
            (the object that asked for the edit, or None), after the change was saved.
        failed(object): an exception raised while saving; the edit stays in memory.
        unsaved_changed(bool): whether the file lags behind the project in memory (a save
            failed; the next edit or :meth:`save_now` writes everything again).
    """

    changed = Signal(object, object)
    failed = Signal(object)
    unsaved_changed = Signal(bool)

    def __init__(self, store: ProjectStore, project: Project, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self.project = project
        self.undo_stack = QUndoStack(self)
        self._initiator: object | None = None
        self.unsaved = False  # a save failed: the file is behind the project in memory

    # -- edits ------------------------------------------------------------------------------

    def push(self, command: QUndoCommand, initiator: object | None = None) -> None:
        """Run ``command`` (its redo) and put it on the undo stack."""
        prepare = getattr(command, "prepare", None)
        if prepare is not None:
            prepare()  # a refused edit raises here, before anything reaches the stack
        self._initiator = initiator
        try:
            self.undo_stack.push(command)
        finally:
            self._initiator = None

    def apply(self, changes: m.Changes) -> None:
        """Save ``changes`` and announce them (commands call this from redo and undo)."""
        if changes.empty:
            return
        # After a failed save only a whole save brings the file level with memory again.
        self._save(None if self.unsaved else changes)
        self.changed.emit(changes, self._initiator)

    def save_now(self) -> bool:
        """Write the whole project again (after a failed save); return whether it worked."""
        return self._save(None)

    def _save(self, changes: m.Changes | None) -> bool:
        try:
            self.store.save(self.project, changes)
        except Exception as exc:  # reported, never swallowed; the edit stays in memory
            self._set_unsaved(True)
            self.failed.emit(exc)
            return False
        self._set_unsaved(False)
        return True

    def _set_unsaved(self, value: bool) -> None:
        if value != self.unsaved:
            self.unsaved = value
            self.unsaved_changed.emit(value)

    # -- takes (not undoable: takes are append-only) -------------------------------------------

    def add_take(self, take: Take) -> None:
        """Record a generated take as its paragraph's current take."""
        self.apply(m.add_take(self.project, take))

    def add_takes(self, takes: list[Take]) -> None:
        """Record generated takes as their paragraphs' current takes: one save, one
        ``changed`` (a render applies what arrived in a burst at once)."""
        blocks: set[str] = set()
        ids: set[str] = set()
        for take in takes:
            changes = m.add_take(self.project, take)
            blocks |= changes.blocks
            ids |= changes.takes
        self.apply(m.Changes(blocks=frozenset(blocks), takes=frozenset(ids)))

    def take_media(self, take: Take) -> Take:
        """Return ``take`` with its audio and peaks loaded from the file."""
        if take.audio is not None:
            return take
        import dataclasses

        fine, coarse = self.store.load_peaks(take.id)
        return dataclasses.replace(
            take, audio=self.store.load_take_audio(take.id), peaks_fine=fine, peaks_coarse=coarse
        )

    def media_for(self, take_ids: set[TakeId]) -> dict[TakeId, Take]:
        """Return the named takes with media loaded (for commands that may remove them)."""
        out: dict[TakeId, Take] = {}
        for _, block in self.project.iter_blocks():
            for take in block.takes:
                if take.id in take_ids:
                    out[take.id] = self.take_media(take)
        return out

    def close(self) -> None:
        """Close the project file."""
        self.store.close()
