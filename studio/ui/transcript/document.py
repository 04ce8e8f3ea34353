"""The open transcript and subtitle track, and the undo commands that edit them.

Every edit is a core function (:mod:`studio.core.transcript.model` or
:mod:`studio.core.transcript.subtitles`) applied through :meth:`TranscriptDocument.edit` or
:meth:`TranscriptDocument.edit_cues`: the function runs at once (so an :class:`EditError`
reaches the caller and nothing is pushed), and the command pushed keeps snapshots from before
and after it. Undo and redo restore a snapshot *in place* (views keep their references) and
emit the same change record, so views repaint only what changed. Snapshots are cheap: words
are immutable tuples shared between copies.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.core.errors import EditError
from studio.core.transcript.model import Transcript, TranscriptChanges
from studio.core.transcript.subtitles import CueChanges, SubtitleTrack

UNDO_LIMIT = 300
TEXT_EDIT_ID = 6001  # mergeWith id: a burst of text edits of one segment is one undo step


def _restore(target: Transcript, snapshot: Transcript) -> None:
    fresh = snapshot.copy()
    target.speakers[:] = fresh.speakers
    target.segments[:] = fresh.segments
    target.language, target.media = fresh.language, fresh.media
    target.duration, target.source = fresh.duration, fresh.source


def _restore_track(target: SubtitleTrack, snapshot: SubtitleTrack) -> None:
    fresh = snapshot.copy()
    target.cues[:] = fresh.cues
    target.rules = fresh.rules


def _inverse(changes: TranscriptChanges) -> TranscriptChanges:
    return TranscriptChanges(changes.segments, changes.removed, changes.added,
                             changes.speakers | changes.removed_speakers, frozenset(),
                             changes.order)


class TranscriptDocument(QObject):
    """The transcript and the subtitle track being edited, with one undo stack for both.

    Signals:
        transcript_changed(object): a :class:`TranscriptChanges` after an edit, undo or redo.
        transcript_replaced(): a different transcript was loaded (views rebuild).
        subtitles_changed(object): a :class:`CueChanges` after a cue edit, undo or redo.
        subtitles_replaced(): the subtitle track was rebuilt or loaded.
    """

    transcript_changed = Signal(object)
    transcript_replaced = Signal()
    subtitles_changed = Signal(object)
    subtitles_replaced = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.transcript = Transcript()
        self.subtitles = SubtitleTrack()
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)

    def set_transcript(self, transcript: Transcript) -> None:
        """Show another transcript: the undo history and the subtitles start afresh."""
        self.undo_stack.clear()
        self.transcript = transcript
        self.subtitles = SubtitleTrack(rules=self.subtitles.rules)
        self.undo_stack.setClean()
        self.transcript_replaced.emit()
        self.subtitles_replaced.emit()

    def edit(self, label: str, fn: Callable[[Transcript], TranscriptChanges], *,
             merge_key: str | None = None) -> TranscriptChanges:
        """Apply ``fn`` to the transcript and push it as one undoable step named ``label``.

        Raises:
            EditError: ``fn`` refused the edit (the transcript is left as it was).
        """
        before = self.transcript.copy()
        try:
            changes = fn(self.transcript)
        except EditError:
            _restore(self.transcript, before)
            raise
        if changes.empty:
            return changes
        self.undo_stack.push(TranscriptEditCommand(self, label, before, changes, merge_key))
        return changes

    def edit_cues(self, label: str, fn: Callable[[SubtitleTrack], CueChanges]) -> CueChanges:
        """Apply ``fn`` to the subtitle track and push it as one undoable step.

        Raises:
            EditError: ``fn`` refused the edit (the track is left as it was).
        """
        before = self.subtitles.copy()
        try:
            changes = fn(self.subtitles)
        except EditError:
            _restore_track(self.subtitles, before)
            raise
        if not (changes.cues or changes.added or changes.removed or changes.order
                or changes.rules):
            return changes
        self.undo_stack.push(CueEditCommand(self, label, before, changes))
        return changes

    def replace_subtitles(self, label: str, track: SubtitleTrack) -> None:
        """Replace every cue (rebuilding from the transcript) as one undoable step."""
        self.undo_stack.push(ReplaceSubtitlesCommand(self, label, track))


class TranscriptEditCommand(QUndoCommand):
    """One transcript edit, undone and redone by restoring snapshots."""

    def __init__(self, doc: TranscriptDocument, label: str, before: Transcript,
                 changes: TranscriptChanges, merge_key: str | None = None) -> None:
        super().__init__(label)
        self.doc = doc
        self.before = before
        self.after = doc.transcript.copy()
        self.changes = changes
        self.merge_key = merge_key
        self._applied = True  # the edit already ran; the first redo() only announces it

    def id(self) -> int:
        return TEXT_EDIT_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, TranscriptEditCommand) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        self.changes = self.changes | other.changes
        return True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
        else:
            _restore(self.doc.transcript, self.after)
        self.doc.transcript_changed.emit(self.changes)

    def undo(self) -> None:
        _restore(self.doc.transcript, self.before)
        self.doc.transcript_changed.emit(_inverse(self.changes))


class CueEditCommand(QUndoCommand):
    """One subtitle edit, undone and redone by restoring snapshots."""

    def __init__(self, doc: TranscriptDocument, label: str, before: SubtitleTrack,
                 changes: CueChanges) -> None:
        super().__init__(label)
        self.doc = doc
        self.before = before
        self.after = doc.subtitles.copy()
        self.changes = changes
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
        else:
            _restore_track(self.doc.subtitles, self.after)
        self.doc.subtitles_changed.emit(self.changes)

    def undo(self) -> None:
        _restore_track(self.doc.subtitles, self.before)
        c = self.changes
        self.doc.subtitles_changed.emit(CueChanges(c.cues, c.removed, c.added, c.order,
                                                   c.rules))


class ReplaceSubtitlesCommand(QUndoCommand):
    """Replace the whole subtitle track (built from the transcript, or imported)."""

    def __init__(self, doc: TranscriptDocument, label: str, track: SubtitleTrack) -> None:
        super().__init__(label)
        self.doc = doc
        self.before = doc.subtitles.copy()
        self.after = track.copy()

    def redo(self) -> None:
        _restore_track(self.doc.subtitles, self.after)
        self.doc.subtitles_replaced.emit()

    def undo(self) -> None:
        _restore_track(self.doc.subtitles, self.before)
        self.doc.subtitles_replaced.emit()
