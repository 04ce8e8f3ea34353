"""The chapter editor's paragraph edits: breaks, voice spans, split, merge, new and delete.

:func:`install_editor_actions` gives a :class:`~studio.ui.main_window.MainWindow` its Edit-menu
and toolbar actions (with shortcuts), context menus on the paragraphs and in the in-place
editor, a legend of the voices read in spans, and span assignment from the Voices panel.

Every edit is one undoable command. An action taken while a paragraph is being edited first
commits what was typed (when the text changed, that edit and the action make one undo step),
applies the action at the editor's cursor or selection, and reopens the editor. Offsets in
the editor index the text as typed; they are mapped to the stored text (white space
collapsed) before they reach the model. Spans index the stored text, tags included. The
text edits themselves (and those offset maps) are Qt-free, in :mod:`studio.core.textedit`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from studio.core import model as m
from studio.core.errors import EditError, StudioError
from studio.core.model import (
    BREAK_DEFAULT_S,
    BREAK_MAX_S,
    BREAK_MIN_S,
    BREAK_RE,
    BlockId,
    Project,
    VoiceId,
)
from studio.core.textedit import (
    break_warnings,
    normalized_offset,
    replace_range,
    seconds_label,
    split_spans,
    with_break,
    with_break_seconds,
    with_voice,
)
from studio.core.textedit import check_spans as _check_spans
from studio.core.textedit import set_text_and_spans as _set_text_and_spans
from studio.ui.commands import ChapterEditCommand, merge_blocks
from studio.ui.delegates import (
    BlockDelegate,
    ParagraphEditor,
    voice_colour,
    voice_swatch_html,
)

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

#: The text a new paragraph starts with (selected in its editor, so typing replaces it).
NEW_PARAGRAPH_TEXT = "New paragraph."


# ---------------------------------------------------------------------------------------------
# The break duration dialog


class BreakDialog(QDialog):
    """Ask for a break's duration (0.1–3.0 s), and which break when a paragraph has several."""

    def __init__(self, parent: QWidget | None, title: str, seconds: float,
                 choices: Sequence[str] = ()) -> None:
        super().__init__(parent)
        self.setObjectName("breakDialog")
        self.setWindowTitle(title)
        self.choice = QComboBox()
        self.choice.addItems(list(choices))
        self.spin = QDoubleSpinBox()
        self.spin.setObjectName("breakSeconds")
        self.spin.setRange(BREAK_MIN_S, BREAK_MAX_S)
        self.spin.setSingleStep(0.1)
        self.spin.setDecimals(1)
        self.spin.setSuffix(" s")
        # Typing "5" snaps to 3.0 rather than back to the old value.
        self.spin.setCorrectionMode(QDoubleSpinBox.CorrectionMode.CorrectToNearestValue)
        self.spin.setValue(seconds)
        hint = QLabel(f"Pauses last {BREAK_MIN_S}–{BREAK_MAX_S} s; longer ones are clamped to "
                      f"{BREAK_MAX_S} s. Use at most 2–3 breaks per paragraph: more can make "
                      "the voice speed up or add noise.")
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        if choices:
            form.addRow("Break", self.choice)
        form.addRow("Duration", self.spin)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(buttons)
        self.spin.selectAll()


def _swatch_icon(voice_id: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(voice_colour(voice_id))
    return QIcon(pixmap)


# ---------------------------------------------------------------------------------------------
# The actions


@dataclass(frozen=True, slots=True)
class _Where:
    """Where an action applies: a paragraph, and the editor's cursor and selection in it."""

    block_id: BlockId
    row: int
    editing: bool = False
    cursor: int | None = None  # offsets into the text as stored (white space collapsed)
    selection: tuple[int, int] | None = None
    typed: str = ""  # what the editor held (white space collapsed), not yet stored


@dataclass(frozen=True, slots=True)
class _Typed:
    """What the open editor holds: its paragraph, text, cursor and selection (as typed)."""

    editor: ParagraphEditor
    block_id: BlockId
    text: str
    cursor: int
    anchor: int


class EditorActions(QObject):
    """The paragraph editing actions of one window (see the module docstring)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.view = window.block_view
        delegate = self.view.itemDelegate()
        assert isinstance(delegate, BlockDelegate)
        self.delegate = delegate
        #: the last selection committed from an editor: (block id, its text, start, end)
        self.remembered: tuple[str, str, int, int] | None = None
        self._build_actions()
        delegate.voice_alias = self._alias
        delegate.model_is_v3 = lambda: (window.project is not None
                                        and window.project.model_id.startswith("eleven_v3"))
        delegate.editor_menu_hook = self._fill_editor_menu
        delegate.break_double_clicked.connect(self._on_break_double_clicked)
        delegate.editor_committed.connect(self._on_editor_committed)
        self.view.selectionModel().selectionChanged.connect(self._forget_selection)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_view_menu)
        window.voices_panel.span_assigner = self.assign_voice_to_text_selection
        self._build_legend()

    # -- construction ------------------------------------------------------------------------

    def _action(self, text: str, shortcut: str, slot: Callable[[], object], tip: str
                ) -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({shortcut})" if shortcut else tip)
        action.triggered.connect(lambda _=False: slot())
        return action

    def _build_actions(self) -> None:
        w = self.window
        self.insert_break_action = self._action(
            "Insert &Break…", "Ctrl+B", self.insert_break,
            "Insert a pause at the cursor, or at the end of the selected paragraph")
        self.edit_break_action = self._action(
            "&Edit Break…", "Ctrl+Shift+B", self.edit_break,
            "Change the duration of the break at the cursor (or double-click a break)")
        self.split_action = self._action(
            "&Split Paragraph Here", "Ctrl+Shift+Return", self.split_here,
            "Split the paragraph being edited at the cursor")
        self.merge_action = self._action(
            "&Merge with Next", "Ctrl+Shift+M", self.merge_with_next,
            "Join the paragraph with the one after it")
        self.new_paragraph_action = self._action(
            "&New Paragraph After", "Ctrl+Return", self.new_paragraph_after,
            "Add an empty paragraph after this one and edit it")
        self.delete_action = self._action(
            "&Delete Paragraph", "", self.delete_paragraphs,
            "Delete the selected paragraphs (undo brings back their narration)")
        # Delete only when the paragraph list itself has the focus, never while typing.
        self.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.view.addAction(self.delete_action)
        self.clear_spans_action = self._action(
            "&Clear Voice Spans", "", self.clear_voice_spans,
            "Read the selected words (or the selected paragraphs) with the paragraph's voice")
        self.voice_menu = QMenu("&Voice for Selection", w)
        self.voice_menu.setObjectName("voiceForSelection")
        self.voice_menu.aboutToShow.connect(lambda: self._fill_voice_menu(self.voice_menu))
        menu = w.edit_menu
        menu.addSeparator()
        menu.addActions([self.insert_break_action, self.edit_break_action])
        menu.addMenu(self.voice_menu)
        menu.addAction(self.clear_spans_action)
        menu.addSeparator()
        menu.addActions([self.split_action, self.merge_action, self.new_paragraph_action,
                         self.delete_action])
        toolbar = w.findChild(QToolBar, "mainToolbar")
        if toolbar is not None:
            toolbar.addAction(self.insert_break_action)

    def _build_legend(self) -> None:
        header = self.window.chapter_header
        self.legend = QLabel()
        self.legend.setObjectName("voiceLegend")
        self.legend.setContentsMargins(8, 0, 8, 4)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setToolTip(
            "Paragraphs (a coloured bar beside the status) and words (a coloured background) "
            "read by another voice than the book's. Select words while editing a paragraph, "
            "then Edit ▸ Voice for Selection or Assign in the Voices panel.")
        self.legend.hide()
        parent = header.parentWidget()
        layout = parent.layout() if parent is not None else None
        if layout is not None:
            layout.insertWidget(layout.indexOf(header) + 1, self.legend)  # type: ignore[attr-defined]
        self._legend_timer = QTimer(self)
        self._legend_timer.setSingleShot(True)
        self._legend_timer.setInterval(0)
        self._legend_timer.timeout.connect(self.update_legend)
        model = self.window.blocks_model
        for signal in (model.modelReset, model.dataChanged, model.rowsInserted,
                       model.rowsRemoved):
            signal.connect(self._legend_timer.start)

    def update_legend(self) -> None:
        """Show the other voices read in the current chapter (paragraphs, spans), coloured."""
        chapter = self.window.blocks_model.chapter
        project = self.window.project
        seen: dict[str, None] = {}
        if chapter is not None and project is not None:
            for block in chapter.blocks:
                if block.voice_id and block.voice_id != project.default_voice_id:
                    seen.setdefault(block.voice_id)
                for span in block.spans:
                    seen.setdefault(span.voice_id)
        if not seen:
            self.legend.hide()
            return
        swatches = " ".join(voice_swatch_html(self._alias(v), v) for v in seen)
        self.legend.setText(f"Other voices: {swatches}")
        self.legend.show()

    # -- helpers -------------------------------------------------------------------------------

    def _alias(self, voice_id: str) -> str:
        project = self.window.project
        voice = project.voices.get(VoiceId(voice_id)) if project is not None else None
        return voice.alias if voice is not None else voice_id

    def _row_of(self, block_id: str) -> int | None:
        chapter = self.window.blocks_model.chapter
        if chapter is None:
            return None
        return next((i for i, b in enumerate(chapter.blocks) if b.id == block_id), None)

    def _message(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 10_000)

    def _refuse(self, text: str, dialog: bool = False) -> bool:
        """Say why an action did nothing (status bar; a dialog that does not block, too)."""
        self._message(text)
        if dialog:
            box = QMessageBox(QMessageBox.Icon.Warning, "Narrator Studio", text,
                              QMessageBox.StandardButton.Ok, self.window)
            box.setObjectName("editRefused")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
        return False

    def _refuse_locked(self, rows: Sequence[int]) -> bool:
        marks = ", ".join(f"¶{r + 1}" for r in rows)
        if len(rows) == 1:
            text = f"Paragraph {marks} is locked; unlock it first (Ctrl+L)."
        else:
            text = f"Paragraphs {marks} are locked; unlock them first (Ctrl+L)."
        return self._refuse(text, dialog=True)

    def _locked_rows(self, block_ids: Sequence[str]) -> list[int]:
        project = self.window.project
        rows = []
        for block_id in block_ids:
            row = self._row_of(block_id)
            if project is not None and row is not None and project.block(BlockId(block_id)).locked:
                rows.append(row)
        return sorted(rows)

    def _push(self, command: ChapterEditCommand) -> bool:
        session = self.window.session
        assert session is not None
        try:
            session.push(command, initiator=self)
        except StudioError as exc:
            return self._refuse(str(exc), dialog=True)
        return True

    def _typed(self) -> _Typed | None:
        editor = self.delegate.active_editor()
        if editor is None or self.window.session is None:
            return None
        cursor = editor.textCursor()
        return _Typed(editor, BlockId(editor.block_id), editor.toPlainText(),
                      cursor.position(), cursor.anchor())

    def _begin(self, typed: _Typed | None) -> _Where | None:
        """Return where an action applies; close the editor, keeping what was typed in it.

        What was typed is not committed yet: :meth:`_step` commits it with the action (one
        undo step), :meth:`_keep_typing` alone when the action is cancelled or refused.
        """
        if typed is None:
            return self._selected()
        self.delegate.closeEditor.emit(typed.editor,
                                       QAbstractItemDelegate.EndEditHint.RevertModelCache)
        self.remembered = None
        row = self._row_of(typed.block_id)
        if row is None:
            return None
        cursor = normalized_offset(typed.text, typed.cursor)
        anchor = normalized_offset(typed.text, typed.anchor)
        selection = (min(cursor, anchor), max(cursor, anchor)) if cursor != anchor else None
        return _Where(typed.block_id, row, True, cursor, selection, " ".join(typed.text.split()))

    def _text(self, where: _Where) -> str:
        """Return the paragraph's text as the action will find it (with what was typed)."""
        project = self.window.project
        assert project is not None
        return where.typed or project.block(where.block_id).text

    def _commit_typed(self, where: _Where) -> bool:
        """Store what was typed in the editor (an undoable edit); return whether it was."""
        project = self.window.project
        assert project is not None
        if not where.typed or where.typed == project.block(where.block_id).text:
            return True
        self.window.blocks_model.setData(self.window.blocks_model.index(where.row), where.typed)
        return project.block(where.block_id).text == where.typed

    def _keep_typing(self, where: _Where | None) -> None:
        """After a cancelled or refused action: store what was typed and go on editing."""
        if where is None or not where.editing:
            return
        self._commit_typed(where)
        self.reopen(where.block_id, where.cursor or 0)

    @contextlib.contextmanager
    def _step(self, label: str, where: _Where) -> Iterator[None]:
        """Commit what was typed and do the action as one undo step."""
        session = self.window.session
        assert session is not None
        project = session.project
        macro = bool(where.typed) and where.typed != project.block(where.block_id).text
        if macro:
            session.undo_stack.beginMacro(label)
        try:
            if not self._commit_typed(where):
                raise EditError("what was typed could not be stored")
            yield
        finally:
            if macro:
                session.undo_stack.endMacro()

    def _selected(self) -> _Where | None:
        """Return the current paragraph (when selected), else the first selected one."""
        current = self.view.currentIndex()
        selection = self.view.selectionModel()
        model = self.window.blocks_model
        if current.isValid() and selection.isSelected(current):
            rows = [current.row()]
        else:
            rows = sorted(i.row() for i in selection.selectedIndexes())
        if not rows or (block := model.block_at(rows[0])) is None:
            return None
        return _Where(block.id, rows[0])

    def reopen(self, block_id: str, cursor: int, anchor: int | None = None) -> None:
        """Edit paragraph ``block_id`` in place again, with the cursor at ``cursor``."""
        row = self._row_of(block_id)
        if row is None:
            return
        index = self.window.blocks_model.index(row)
        open_editor = self.delegate.active_editor()
        if open_editor is not None:
            self.delegate.closeEditor.emit(open_editor, QAbstractItemDelegate.EndEditHint.NoHint)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)
        if not self.window.blocks_model.flags(index) & Qt.ItemFlag.ItemIsEditable:
            return
        self.view.edit(index)
        editor = self.delegate.active_editor()
        if editor is None:
            return
        text_cursor = editor.textCursor()
        length = len(editor.toPlainText())
        text_cursor.setPosition(min(anchor if anchor is not None else cursor, length))
        text_cursor.setPosition(min(cursor, length), text_cursor.MoveMode.KeepAnchor)
        editor.setTextCursor(text_cursor)
        self.window.activateWindow()  # back from a dialog: keep typing where we were
        editor.setFocus()

    def _ask_seconds(self, title: str, seconds: float, choices: Sequence[str] = ()
                     ) -> tuple[int, float] | None:
        dialog = BreakDialog(self.window, title, seconds, choices)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            return dialog.choice.currentIndex(), dialog.spin.value()
        finally:
            dialog.deleteLater()

    def _clamped(self, seconds: float) -> float:
        if BREAK_MIN_S <= seconds <= BREAK_MAX_S:
            return round(seconds, 2)
        clamped = min(max(seconds, BREAK_MIN_S), BREAK_MAX_S)
        self._message(f"Breaks last {BREAK_MIN_S}–{BREAK_MAX_S} s: "
                      f"{seconds_label(seconds)} s was clamped to {seconds_label(clamped)} s.")
        return clamped

    def _warn_breaks(self, text: str) -> None:
        reasons = break_warnings(text)
        if reasons:
            self._message("⚠ " + " ".join(reasons))

    # -- breaks --------------------------------------------------------------------------------

    def _chapter_id(self, block_id: BlockId) -> m.ChapterId:
        project = self.window.project
        assert project is not None
        return project.locate(block_id)[0].id

    def insert_break(self, seconds: float | None = None) -> bool:
        """Insert a break at the editor's cursor, else at the end of the selected paragraph.

        Asks for the duration when ``seconds`` is None; values outside 0.1–3.0 s are clamped.
        """
        session = self.window.session
        if session is None:
            return False
        where = self._begin(self._typed())
        if where is None:
            return self._refuse("Select a paragraph, or put the cursor where the break goes.")
        if session.project.block(where.block_id).locked:
            self._keep_typing(where)
            return self._refuse_locked([where.row])
        offset = where.cursor if where.cursor is not None else len(self._text(where))
        if seconds is None:
            answer = self._ask_seconds("Insert Break", BREAK_DEFAULT_S)
            if answer is None:
                self._keep_typing(where)
                return False
            seconds = answer[1]
        seconds = self._clamped(seconds)
        block_id = where.block_id
        with self._step("Insert break", where):
            block = session.project.block(block_id)
            text, spans, tag_start = with_break(block.text, block.spans, offset, seconds)
            command = ChapterEditCommand(
                session, self._chapter_id(block_id), f"Insert {seconds_label(seconds)} s break",
                lambda p: _set_text_and_spans(p, block_id, text, spans))
            if not self._push(command):
                return False
        self._warn_breaks(text)
        if where.editing:
            tag = BREAK_RE.match(text, tag_start)
            self.reopen(block_id, tag.end() if tag is not None else tag_start)
        return True

    def edit_break(self, seconds: float | None = None, block_id: str | None = None,
                   tag_start: int | None = None) -> bool:
        """Change a break's duration: the one at the editor's cursor, or ``tag_start``.

        Without an editor or ``tag_start``, the selected paragraph's only break (or the one
        chosen in the dialog, when it has several).
        """
        session = self.window.session
        if session is None:
            return False
        typed = self._typed()
        if typed is not None and block_id is not None and typed.block_id != block_id:
            typed = None  # a chip of another paragraph was double-clicked
        if block_id is not None and typed is None:
            row = self._row_of(block_id)
            where = _Where(BlockId(block_id), row) if row is not None else None
        else:
            where = self._begin(typed)
        if where is None:
            return self._refuse("Select a paragraph with a break first.")
        if session.project.block(where.block_id).locked:
            self._keep_typing(where)
            return self._refuse_locked([where.row])
        text = self._text(where)
        tags = list(BREAK_RE.finditer(text))
        if not tags:
            self._keep_typing(where)
            return self._refuse("This paragraph has no breaks; Insert Break (Ctrl+B) adds one.")
        chosen = None
        if tag_start is not None:
            chosen = next((t for t in tags if t.start() == tag_start), None)
        elif where.cursor is not None:
            chosen = next((t for t in tags if t.start() <= where.cursor <= t.end()), None)
            if chosen is None:
                self._keep_typing(where)
                return self._refuse("Put the cursor next to a break (or double-click one).")
        elif len(tags) == 1:
            chosen = tags[0]
        if seconds is None:
            choices: list[str] = []
            if chosen is None:  # several breaks and none named: let the user pick
                for n, tag in enumerate(tags, 1):
                    before = m.speakable_text(text[:tag.start()])[-24:]
                    choices.append(f"{n}. {seconds_label(float(tag.group(1)))} s "
                                   f"after “…{before}”")
            current = float((chosen or tags[0]).group(1))
            answer = self._ask_seconds("Edit Break", current, choices)
            if answer is None:
                self._keep_typing(where)
                return False
            if chosen is None:
                chosen = tags[answer[0]]
            seconds = answer[1]
        start = (chosen or tags[0]).start()
        seconds = self._clamped(seconds)
        if float((chosen or tags[0]).group(1)) == seconds:
            self._keep_typing(where)
            return False
        target = where.block_id
        with self._step("Change break", where):
            block = session.project.block(target)
            new_text, spans = with_break_seconds(block.text, block.spans, start, seconds)
            command = ChapterEditCommand(
                session, self._chapter_id(target), f"Change break to {seconds_label(seconds)} s",
                lambda p: _set_text_and_spans(p, target, new_text, spans))
            if not self._push(command):
                return False
        if where.editing:
            tag = BREAK_RE.match(new_text, start)
            self.reopen(target, tag.end() if tag is not None else start)
        return True

    def _on_break_double_clicked(self, block_id: str, tag_start: int) -> None:
        editor = self.delegate.active_editor()
        if editor is not None and editor.block_id == block_id:
            cursor = editor.textCursor()  # edit_break reads the chip at the editor's cursor
            cursor.setPosition(tag_start)
            editor.setTextCursor(cursor)
            self.edit_break()
        else:
            self.edit_break(block_id=block_id, tag_start=tag_start)

    # -- voice spans ---------------------------------------------------------------------------

    def _on_editor_committed(self, block_id: str, text: str, start: int, end: int) -> None:
        self.remembered = (block_id, text, start, end)

    def _forget_selection(self) -> None:
        self.remembered = None

    def assign_voice_to_text_selection(self, voice_id: VoiceId | None) -> bool:
        """Read the words selected in the paragraph editor with ``voice_id``.

        ``None`` (or the paragraph's own voice) gives them back to the paragraph's voice. The
        selection is the open editor's, or the one it had when it last closed, if that
        paragraph is still the only one selected. Returns whether there was a selection.
        """
        session = self.window.session
        if session is None:
            return False
        typed = self._typed()
        if typed is not None and typed.cursor == typed.anchor:
            typed = None
        remembered = self.remembered
        if typed is None and remembered is not None:
            block_id, text, start, end = remembered
            if (self.window.selected_blocks() != [block_id]
                    or session.project.block(BlockId(block_id)).text != text):
                remembered = None
        if typed is None and remembered is None:
            return False
        if typed is not None:
            where = self._begin(typed)
            if where is None or where.selection is None:
                return True
        else:
            assert remembered is not None
            block_id, _, start, end = remembered
            row = self._row_of(block_id)
            if row is None:
                return False
            where = _Where(BlockId(block_id), row, selection=(start, end))
        if session.project.block(where.block_id).locked:
            self._keep_typing(where)
            self._refuse_locked([where.row])
            return True
        own = session.project.block(where.block_id).voice_id or session.project.default_voice_id
        target = None if voice_id == own else voice_id
        try:
            spans = with_voice(self._text(where), session.project.block(where.block_id).spans
                               if not where.typed else (), *where.selection, target)
        except EditError as exc:
            self._keep_typing(where)
            self._refuse(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
            return True
        alias = self._alias(target) if target is not None else "the paragraph's voice"
        block_id = where.block_id
        with self._step("Voice for selection", where):
            block = session.project.block(block_id)
            if where.typed:  # the typed text is stored now: recompute on its spans
                spans = with_voice(block.text, block.spans, *where.selection, target)
            if spans != block.spans:
                command = ChapterEditCommand(
                    session, self._chapter_id(block_id), f"Read selection with '{alias}'",
                    lambda p: _set_text_and_spans(p, block_id, block.text, spans))
                if not self._push(command):
                    return True
                self._message(f"The selection is read by {alias}.")
        self.remembered = None
        if where.editing:
            self.reopen(block_id, where.selection[1])
        return True

    def clear_voice_spans(self) -> bool:
        """Give the selected words (or all of the selected paragraphs) back to their voice."""
        session = self.window.session
        if session is None:
            return False
        typed = self._typed()
        if (typed is not None and typed.cursor != typed.anchor) or (
                typed is None and self.remembered is not None):
            return self.assign_voice_to_text_selection(None)
        if typed is not None and (where := self._begin(typed)) is not None:
            self._commit_typed(where)  # on its own: clearing spans is another step
        ids = self.window.selected_blocks()
        project = session.project
        ids = [b for b in ids if project.block(b).spans]
        if not ids:
            return self._refuse("The selected paragraphs have no voice spans.")
        locked = self._locked_rows(ids)
        if locked:
            return self._refuse_locked(locked)

        def edit(p: Project) -> m.Changes:
            changes = m.Changes()
            for block_id in ids:
                changes = changes | m.set_block_spans(p, block_id, ())
            return changes

        return self._push(ChapterEditCommand(session, self._chapter_id(ids[0]),
                                             "Clear voice spans", edit))

    def _fill_voice_menu(self, menu: QMenu) -> None:
        menu.clear()
        project = self.window.project
        if project is None:
            return
        for voice in project.voices.values():
            action = menu.addAction(_swatch_icon(voice.id), voice.alias)
            action.triggered.connect(
                lambda _=False, v=voice.id: self._voice_from_menu(v))
        menu.addSeparator()
        clear = menu.addAction("The Paragraph's Own Voice")
        clear.triggered.connect(lambda _=False: self._voice_from_menu(None))

    def _voice_from_menu(self, voice_id: VoiceId | None) -> None:
        if not self.assign_voice_to_text_selection(voice_id):
            self._refuse("Select words while editing a paragraph (double-click it) first; "
                         "the Voices panel's Assign gives whole paragraphs a voice.")

    # -- split, merge, new, delete -----------------------------------------------------------

    def split_here(self) -> bool:
        """Split the paragraph being edited at the cursor."""
        session = self.window.session
        typed = self._typed()
        if session is None or typed is None:
            return self._refuse("Double-click a paragraph and put the cursor where it should "
                                "split.")
        where = self._begin(typed)
        if where is None:
            return False
        if session.project.block(where.block_id).locked:
            self._keep_typing(where)
            return self._refuse_locked([where.row])
        text = self._text(where)
        offset = where.cursor if where.cursor is not None else 0
        if not text[:offset].strip() or not text[offset:].strip():
            self._keep_typing(where)
            return self._refuse("Put the cursor between words to split the paragraph there.")
        block_id = where.block_id
        with self._step("Split paragraph", where):
            spans = split_spans(text, session.project.block(block_id).spans, offset)

            def edit(p: Project) -> m.Changes:
                _check_spans(p, p.block(block_id).text, spans)
                p.block(block_id).spans = spans
                return m.split_block(p, block_id, offset)

            if not self._push(ChapterEditCommand(session, self._chapter_id(block_id),
                                                 "Split paragraph", edit)):
                return False
        chapter, index = session.project.locate(block_id)
        self.reopen(chapter.blocks[index + 1].id, 0)
        return True

    def merge_with_next(self) -> bool:
        """Join the current paragraph with the next one."""
        session = self.window.session
        if session is None:
            return False
        where = self._begin(self._typed())
        if where is None:
            return self._refuse("Select the paragraph to merge with the next one.")
        chapter, index = session.project.locate(where.block_id)
        if index + 1 >= len(chapter.blocks):
            self._keep_typing(where)
            return self._refuse("This is the chapter's last paragraph: nothing to merge with.")
        locked = self._locked_rows([where.block_id, chapter.blocks[index + 1].id])
        if locked:
            self._keep_typing(where)
            return self._refuse_locked(locked)
        join = len(self._text(where)) + 1
        with self._step("Merge paragraphs", where):
            if not self._push(merge_blocks(session, where.block_id)):
                return False
        if where.editing:
            self.reopen(where.block_id, join)
        else:
            self.view.setCurrentIndex(self.window.blocks_model.index(where.row))
        return True

    def new_paragraph_after(self) -> bool:
        """Add a paragraph after the current one (or at the end of the chapter), edit it."""
        session = self.window.session
        chapter = self.window.blocks_model.chapter
        if session is None or chapter is None:
            return self._refuse("Open a chapter first.")
        where = self._begin(self._typed())
        index = where.row + 1 if where is not None else len(chapter.blocks)
        voice = session.project.block(where.block_id).voice_id if where is not None else None
        created: list[str] = []
        chapter_id = chapter.id

        def edit(p: Project) -> m.Changes:
            changes = m.insert_block(p, chapter_id, index, NEW_PARAGRAPH_TEXT, voice)
            created[:] = list(changes.blocks)
            return changes

        with self._step("New paragraph", where) if where else contextlib.nullcontext():
            if not self._push(ChapterEditCommand(session, chapter_id, "New paragraph", edit)):
                return False
        self.reopen(created[0], len(NEW_PARAGRAPH_TEXT), anchor=0)
        return True

    def delete_paragraphs(self) -> bool:
        """Delete the selected paragraphs (or the one being edited), after confirmation when
        they have narration."""
        session = self.window.session
        if session is None:
            return False
        typed = self._typed()
        where = self._begin(typed) if typed is not None else None
        ids = [where.block_id] if where is not None else self.window.selected_blocks()
        if not ids:
            return self._refuse("Select the paragraphs to delete.")
        locked = self._locked_rows(ids)
        if locked:
            self._keep_typing(where)
            return self._refuse_locked(locked)
        project = session.project
        narrated = [b for b in ids if project.block(b).takes]
        count = "this paragraph" if len(ids) == 1 else f"these {len(ids)} paragraphs"
        if narrated:
            takes = sum(len(project.block(b).takes) for b in narrated)
            answer = QMessageBox.question(
                self.window, "Delete paragraphs",
                f"Delete {count}? {len(narrated)} of them ha{'s' if len(narrated) == 1 else 've'} "
                f"narration ({takes} take{'s' if takes != 1 else ''}). Undo brings "
                f"{'it' if len(ids) == 1 else 'them'} back with the audio.")
            if answer != QMessageBox.StandardButton.Yes:
                self._keep_typing(where)
                return False
        chapter, first = project.locate(ids[0])

        def edit(p: Project) -> m.Changes:
            changes = m.Changes()
            for block_id in ids:
                changes = changes | m.remove_block(p, block_id)
            return changes

        label = "Delete paragraph" if len(ids) == 1 else f"Delete {len(ids)} paragraphs"
        with self._step(label, where) if where is not None else contextlib.nullcontext():
            if not self._push(ChapterEditCommand(session, chapter.id, label, edit)):
                return False
        if chapter.blocks:
            self.view.setCurrentIndex(
                self.window.blocks_model.index(min(first, len(chapter.blocks) - 1)))
        return True

    # -- context menus -------------------------------------------------------------------------

    def paragraph_menu(self) -> QMenu:
        """Return the context menu of the paragraphs list."""
        menu = QMenu(self.view)
        menu.setObjectName("paragraphMenu")
        menu.addActions([self.insert_break_action, self.edit_break_action])
        voices = menu.addMenu("&Voice for Selection")
        voices.aboutToShow.connect(lambda: self._fill_voice_menu(voices))
        voices.setEnabled(self.remembered is not None)
        menu.addAction(self.clear_spans_action)
        menu.addSeparator()
        menu.addActions([self.merge_action, self.new_paragraph_action, self.delete_action])
        menu.addSeparator()
        menu.addAction(self.window.lock_action)
        return menu

    def _on_view_menu(self, pos: QPoint) -> None:
        if self.window.session is None:
            return
        menu = self.paragraph_menu()
        menu.exec(self.view.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def _fill_editor_menu(self, editor: ParagraphEditor, menu: QMenu) -> None:
        cursor = editor.textCursor()
        menu.addSeparator()
        menu.addAction(self.insert_break_action)
        edit_break = menu.addAction("Edit Break…")
        edit_break.setEnabled(editor.tag_at(cursor.position(), touching=True) is not None)
        edit_break.triggered.connect(lambda _=False: self.edit_break())
        voices = menu.addMenu("Voice for Selection")
        voices.setObjectName("editorVoiceMenu")
        voices.setEnabled(cursor.hasSelection())
        self._fill_voice_menu(voices)
        menu.addSeparator()
        menu.addActions([self.split_action, self.merge_action, self.new_paragraph_action])


def install_editor_actions(window: MainWindow) -> EditorActions:
    """Give ``window`` the paragraph editing actions; return them (kept as its child)."""
    return EditorActions(window)


__all__ = [
    "NEW_PARAGRAPH_TEXT",
    "BreakDialog",
    "EditorActions",
    "install_editor_actions",
    "replace_range",
    "split_spans",
    "with_break",
    "with_break_seconds",
    "with_voice",
]
