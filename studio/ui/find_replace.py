"""Find and Replace across the whole book: a dock with the query, options and every match.

The panel searches the open project through :mod:`studio.core.find`, lists the matches
(chapter, paragraph, the match in bold in its context) and steps through them; a match's
context is worked out only when its row is shown, and the list holds a page of
:data:`PAGE_ROWS` matches around the current one, so a search with 100,000 matches (every
"the" of a long book) returns at once as you type. The window
shows each one by switching chapter and selecting the paragraph. Replace and Replace All are
undoable commands (Replace All is one undo step for the whole book) and skip locked
paragraphs. Results refresh, briefly debounced, whenever the project changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QFont, QFontMetrics, QKeyEvent, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QDockWidget,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from studio.core import find
from studio.core.errors import StudioError
from studio.core.find import FindError, Match
from studio.core.model import Project
from studio.ui import commands
from studio.ui.errors import show_error
from studio.ui.session import ProjectSession

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

_Index = QModelIndex | QPersistentModelIndex
MATCH_ROLE = Qt.ItemDataRole.UserRole + 1
REFRESH_DELAY_MS = 150  # coalesce keystrokes and bursts of edits into one search
#: rows in the results list at a time: a list view lays out every row it holds, so it
#: holds a page of the matches (the one with the current match), not all 100,000
PAGE_ROWS = 1000


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}{'es' if word.endswith('ch') else 's'}"


def replace_report(replaced: int, paragraphs: int, locked: int) -> str:
    """Return the status line after Replace All, e.g. "Replaced 12 in 9 paragraphs"."""
    text = (f"Replaced {replaced} in {_plural(paragraphs, 'paragraph')}" if replaced
            else "Nothing replaced")
    if locked:
        text += f"; {_plural(locked, 'locked paragraph')} skipped"
    return text


class MatchListModel(QAbstractListModel):
    """A page of the matches of a search, one row each: chapter and paragraph, the match in
    context. Row ``r`` is match ``offset + r``."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.matches: Sequence[Match] = find.EMPTY
        self.offset = 0
        self._titles: list[str] = []

    def set_matches(self, project: Project | None, matches: Sequence[Match]) -> None:
        """Show ``matches`` (found in ``project``), from the first page."""
        self.beginResetModel()
        self.matches = matches
        self.offset = 0
        self._titles = [c.title for c in project.chapters] if project is not None else []
        self.endResetModel()

    def show(self, match: int) -> QModelIndex:
        """Return the row of match number ``match``, turning to its page if need be."""
        if not self.offset <= match < self.offset + PAGE_ROWS:
            self.beginResetModel()
            self.offset = match - match % PAGE_ROWS
            self.endResetModel()
        return self.index(match - self.offset)

    def where(self, match: Match) -> str:
        """Return "Chapter title · ¶3" for ``match``."""
        title = (self._titles[match.chapter_index]
                 if match.chapter_index < len(self._titles) else "")
        return f"{title} · ¶{match.block_index + 1}"

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else min(PAGE_ROWS, len(self.matches) - self.offset)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not 0 <= index.row() < self.rowCount():
            return None
        match = self.matches[self.offset + index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{self.where(match)} · {match.snippet}"
        if role == MATCH_ROLE:
            return match
        if role == Qt.ItemDataRole.ToolTipRole:
            lock = "\nLocked: Replace and Replace All skip this paragraph." if match.locked else ""
            return f"{self.where(match)}\n{match.snippet}{lock}"
        return None


class MatchDelegate(QStyledItemDelegate):
    """Paint a match on two lines: where it is, then its context with the match in bold."""

    PAD = 6

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        match = index.data(MATCH_ROLE)
        model = index.model()
        if not isinstance(match, Match) or not isinstance(model, MatchListModel):
            return
        rect: QRect = option.rect
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        if selected:
            painter.fillRect(rect, palette.highlight())
        text_colour = palette.highlightedText().color() if selected else palette.text().color()
        dim = palette.highlightedText().color() if selected else palette.placeholderText().color()
        inner = rect.adjusted(self.PAD, self.PAD // 2, -self.PAD, -self.PAD // 2)
        base = QFont(option.font)
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.9)
        line = QFontMetrics(base).height()

        painter.setFont(small)
        painter.setPen(dim)
        where = model.where(match) + (" · locked" if match.locked else "")
        painter.drawText(QRect(inner.left(), inner.top(), inner.width(), line),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         QFontMetrics(small).elidedText(where, Qt.TextElideMode.ElideRight,
                                                        inner.width()))

        # Second line: as much context as fits on both sides of the bold match.
        bold = QFont(base)
        bold.setBold(True)
        fm, fm_bold = QFontMetrics(base), QFontMetrics(bold)
        y, width = inner.top() + line, inner.width()
        matched = fm_bold.elidedText(match.matched, Qt.TextElideMode.ElideRight, width)
        room = max(0, width - fm_bold.horizontalAdvance(matched))
        after_w = min(fm.horizontalAdvance(match.after), room - min(
            fm.horizontalAdvance(match.before), room // 3))
        before = fm.elidedText(match.before, Qt.TextElideMode.ElideLeft, room - after_w)
        after = fm.elidedText(match.after, Qt.TextElideMode.ElideRight, max(0, after_w))
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        painter.setPen(dim if match.locked and not selected else text_colour)
        x = inner.left()
        for piece, font, metrics in ((before, base, fm), (matched, bold, fm_bold),
                                     (after, base, fm)):
            painter.setFont(font)
            w = metrics.horizontalAdvance(piece)
            painter.drawText(QRect(x, y, w + 1, line), flags, piece)
            x += w
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        line = QFontMetrics(option.font).height()
        return QSize(200, 2 * line + self.PAD)


class FindReplacePanel(QWidget):
    """Find and replace across the book.

    Signals:
        match_activated(object): a :class:`~studio.core.find.Match` to show in the window.
        message(str): a short report for the status bar (what Replace All did, ...).
        close_requested(): the user pressed Esc.
    """

    match_activated = Signal(object)
    message = Signal(str)
    close_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findReplacePanel")
        self.session: ProjectSession | None = None
        #: returns (chapter index, paragraph index) of the window's current paragraph
        self.where_am_i: Any = None
        #: called before searching: saves what is being typed in the paragraph editor
        self.before_search: Any = None
        self.current: int | None = None  # row of the current match
        self._dirty = False
        self._selecting = False  # the panel itself is moving the results' current row
        self._error: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)

        self.find_edit = QLineEdit()
        self.find_edit.setObjectName("findText")
        self.find_edit.setPlaceholderText("Find in book")
        self.find_edit.setClearButtonEnabled(True)
        self.replace_edit = QLineEdit()
        self.replace_edit.setObjectName("replaceText")
        self.replace_edit.setPlaceholderText("Replace with")
        self.replace_edit.setClearButtonEnabled(True)
        self.case_box = QCheckBox("Match &case")
        self.word_box = QCheckBox("&Whole word")
        self.regex_box = QCheckBox("Rege&x")
        self.regex_box.setToolTip("Regular expression; the replacement may use \\1 or \\g<name>")
        self.count_label = QLabel()
        self.count_label.setObjectName("matchCount")
        self.previous_button = QPushButton("Previous")
        self.previous_button.setToolTip("Previous match (Shift+F3, Shift+Enter)")
        self.next_button = QPushButton("Next")
        self.next_button.setToolTip("Next match (F3, Enter)")
        self.replace_button = QPushButton("Replace")
        self.replace_button.setToolTip("Replace this match and go to the next (Enter in the "
                                       "replace field)")
        self.replace_all_button = QPushButton("Replace All")
        self.replace_all_button.setToolTip("Replace every match in the book in one undoable "
                                           "step; locked paragraphs are skipped")
        for button in (self.previous_button, self.next_button, self.replace_button,
                       self.replace_all_button):
            button.setAutoDefault(False)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)

        self.model = MatchListModel(self)
        self.results = QListView()
        self.results.setObjectName("findResults")
        self.results.setModel(self.model)
        self.results.setItemDelegate(MatchDelegate(self.results))
        self.results.setUniformItemSizes(True)  # thousands of matches lay out at once
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.selectionModel().currentRowChanged.connect(self._on_results_current)

        fields = QGridLayout()
        fields.setContentsMargins(0, 0, 0, 0)
        fields.addWidget(self.find_edit, 0, 0)
        fields.addWidget(self.previous_button, 0, 1)
        fields.addWidget(self.next_button, 0, 2)
        fields.addWidget(self.replace_edit, 1, 0)
        fields.addWidget(self.replace_button, 1, 1)
        fields.addWidget(self.replace_all_button, 1, 2)
        fields.setColumnStretch(0, 1)
        options = QHBoxLayout()
        options.setContentsMargins(0, 0, 0, 0)
        for box in (self.case_box, self.word_box, self.regex_box):
            options.addWidget(box)
        options.addStretch(1)
        options.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(fields)
        layout.addLayout(options)
        layout.addWidget(self.results, 1)

        self.find_edit.textChanged.connect(self._on_query_changed)
        for box in (self.case_box, self.word_box, self.regex_box):
            box.toggled.connect(self._on_query_changed)
        self.next_button.clicked.connect(lambda: self.find_next())
        self.previous_button.clicked.connect(lambda: self.find_next(backwards=True))
        self.replace_button.clicked.connect(self.replace)
        self.replace_all_button.clicked.connect(self.replace_all)
        self.find_edit.installEventFilter(self)
        self.replace_edit.installEventFilter(self)
        escape = QAction(self)
        escape.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        escape.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.triggered.connect(self.close_requested)
        self.addAction(escape)
        self._update_state()

    # -- session -----------------------------------------------------------------------------

    def set_session(self, session: ProjectSession | None) -> None:
        """Search ``session``'s project from now on (None: no project)."""
        if session is self.session:
            return
        if self.session is not None:
            self.session.changed.disconnect(self._on_session_changed)
        self.session = session
        if session is not None:
            session.changed.connect(self._on_session_changed)
        self.current = None
        self.refresh()

    def _on_session_changed(self, _changes: object, _initiator: object) -> None:
        self._schedule_refresh()

    # -- searching ---------------------------------------------------------------------------

    def options(self) -> dict[str, bool]:
        """Return the search options as keyword arguments for :mod:`studio.core.find`."""
        return {"case_sensitive": self.case_box.isChecked(),
                "whole_word": self.word_box.isChecked(), "regex": self.regex_box.isChecked()}

    @property
    def matches(self) -> Sequence[Match]:
        """Return the matches found (made into :class:`Match` as they are read)."""
        return self.model.matches

    def _on_query_changed(self) -> None:
        self.current = None
        self._error = None
        self._update_buttons()
        self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        if self.isVisible():
            self._timer.start()
        else:  # no searching for a hidden panel; it catches up when shown
            self._dirty = True

    def _flush(self) -> None:
        """Bring the results up to date now if a refresh is pending."""
        if self.before_search is not None:
            self.before_search()  # typing not yet committed would be missed, or overwritten
        if self._timer.isActive() or self._dirty:
            self.refresh()

    def refresh(self) -> None:
        """Search the project again, keeping the current match if it is still there."""
        self._timer.stop()
        self._dirty = False
        previous = (self.matches[self.current] if self.current is not None
                    and self.current < len(self.matches) else None)
        project = self.session.project if self.session is not None else None
        self._error = None
        matches = find.EMPTY
        if project is not None:
            try:
                matches = find.search(project, self.find_edit.text(), **self.options())
            except FindError as exc:
                self._error = str(exc)
        self.model.set_matches(project, matches)
        self.current = None
        if previous is not None:
            self.current = matches.row_of(previous.block_id, previous.start, previous.end)
        self._select_row(self.current)
        self._update_state()

    def _update_state(self) -> None:
        n = len(self.matches)
        if self._error:
            text, tip = "Invalid regex", self._error
        elif not self.find_edit.text():
            text, tip = "", ""
        elif not n:
            text, tip = "No results", ""
        elif self.current is None:
            text, tip = _plural(n, "match"), ""
        else:
            text, tip = f"{self.current + 1} of {n}", ""
        self.count_label.setText(text)
        self.count_label.setToolTip(tip)
        self.count_label.setStyleSheet("color: #c62828;" if self._error else "")
        self.find_edit.setToolTip(tip)
        self._update_buttons()

    def _update_buttons(self) -> None:
        # Enabled as soon as there is a query: the buttons bring pending results up to date.
        usable = self.session is not None and bool(self.find_edit.text()) and not self._error
        for button in (self.previous_button, self.next_button, self.replace_button,
                       self.replace_all_button):
            button.setEnabled(usable)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    # -- moving through the matches -----------------------------------------------------------

    def find_next(self, backwards: bool = False) -> None:
        """Go to the next (or previous) match, wrapping around the book."""
        self._flush()
        n = len(self.matches)
        if not n:
            if self._error:
                self.message.emit(self._error)
            return
        if self.current is not None:
            row = (self.current + (-1 if backwards else 1)) % n
        else:
            row = self._row_from_here(backwards)
        self.go_to(row)

    def _row_from_here(self, backwards: bool) -> int:
        """Return the first match at or after (before) the window's current paragraph."""
        here = self.where_am_i() if self.where_am_i is not None else None
        n = len(self.matches)
        if here is None:
            return n - 1 if backwards else 0
        chapter, block = here
        if backwards:  # the last match in or before this paragraph
            after = self._row_at((chapter, block + 1, 0))
            if after is None:
                return n - 1
            return after - 1 if after > 0 else n - 1  # none before: wrap to the last
        row = self._row_at((chapter, block, 0))
        return 0 if row is None else row

    def _row_at(self, position: tuple[int, int, int]) -> int | None:
        """Return the first match at or after ``position`` (chapter, paragraph, offset)."""
        matches = self.matches
        if isinstance(matches, find.MatchList):
            return matches.row_at(position)
        return next((i for i, x in enumerate(matches) if x.position >= position), None)

    def go_to(self, row: int) -> None:
        """Make match ``row`` current and show it in the window."""
        if not 0 <= row < len(self.matches):
            return
        self.current = row
        self._select_row(row)
        self._update_state()
        self.match_activated.emit(self.matches[row])

    def _select_row(self, row: int | None) -> None:
        self._selecting = True
        try:
            if row is None:
                self.results.selectionModel().clear()
            else:
                index = self.model.show(row)
                self.results.setCurrentIndex(index)
                self.results.scrollTo(index)
        finally:
            self._selecting = False

    def _on_results_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not self._selecting and current.isValid():
            self.go_to(self.model.offset + current.row())

    # -- replacing ---------------------------------------------------------------------------

    def replace(self) -> None:
        """Replace the current match and go to the next; with none yet, go to the first."""
        self._flush()
        if self.session is None or not self.matches:
            return
        if self.current is None:
            self.find_next()
            return
        match = self.matches[self.current]
        if match.locked:
            self.message.emit("That paragraph is locked: unlock it to replace there.")
            self.find_next()
            return
        session = self.session
        old = session.project.block(match.block_id).text
        try:
            command = commands.replace_match(session, match, self.find_edit.text(),
                                             self.replace_edit.text(), **self.options())
            session.push(command, initiator=self)
        except StudioError as exc:
            show_error(self, exc)
            return
        new = session.project.block(match.block_id).text
        resume = (match.chapter_index, match.block_index,
                  match.end + len(new) - len(old))  # just after the replacement
        self.refresh()
        if self.matches:
            row = self._row_at(resume)
            self.go_to(0 if row is None else row)

    def replace_all(self) -> None:
        """Replace every match in the book's unlocked paragraphs, as one undo step."""
        self._flush()
        if self.session is None:
            return
        try:
            command = commands.replace_all(self.session, self.find_edit.text(),
                                           self.replace_edit.text(), **self.options())
        except FindError as exc:
            self.message.emit(str(exc))
            return
        plan = command.plan
        assert plan is not None
        if plan.paragraphs:
            try:
                self.session.push(command, initiator=self)
            except StudioError as exc:
                show_error(self, exc)
                return
        self.current = None
        self.refresh()
        self.message.emit(replace_report(plan.replacements, plan.paragraphs,
                                         plan.locked_paragraphs))

    # -- keys --------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and (
                event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            if watched is self.replace_edit and not shift:
                self.replace()
            else:
                self.find_next(backwards=shift)
            return True
        return super().eventFilter(watched, event)

    def start(self, replace: bool = False, text: str | None = None) -> None:
        """Put the focus in the find (or replace) field, optionally with ``text`` to find."""
        if text:
            self.find_edit.setText(text)
        field = self.replace_edit if replace and self.find_edit.text() else self.find_edit
        field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        field.selectAll()
        self._flush()


def _selected_text() -> str | None:
    """Return the text selected in the paragraph editor, if it is one line."""
    widget = QApplication.focusWidget()
    if isinstance(widget, QPlainTextEdit) and widget.textCursor().hasSelection():
        text = widget.textCursor().selectedText()
        if text.strip() and "\u2029" not in text and len(text) <= 200:
            return text
    return None


def install_find_replace(window: MainWindow) -> FindReplacePanel:
    """Add the Find and Replace dock and its Edit menu actions to ``window``.

    The dock sits with the Voices dock on the right (a tab beside it) and starts hidden;
    Find… (Ctrl+F) and Replace… (Ctrl+H) open it, F3 and Shift+F3 step through the matches.
    """
    panel = FindReplacePanel()
    dock = QDockWidget("Find and Replace", window)
    dock.setObjectName("findDock")
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    voices = window.findChild(QDockWidget, "voicesDock")
    if isinstance(voices, QDockWidget):
        window.tabifyDockWidget(voices, dock)
    dock.hide()
    window.find_panel = panel  # type: ignore[attr-defined]
    window.find_dock = dock  # type: ignore[attr-defined]

    def where_am_i() -> tuple[int, int] | None:
        chapter = window.chapter_view.currentIndex().row()
        if chapter < 0:
            return None
        return chapter, max(0, window.block_view.currentIndex().row())

    def show_match(match: object) -> None:
        assert isinstance(match, Match)
        model = window.chapters_model
        row = next((r for r in range(model.rowCount())
                    if (c := model.chapter(r)) is not None and c.id == match.chapter_id), None)
        if row is None:
            return
        if window.chapter_view.currentIndex().row() != row:
            window.chapter_view.setCurrentIndex(model.index(row))
        chapter = window.blocks_model.chapter
        if chapter is None:
            return
        block_row = next((i for i, b in enumerate(chapter.blocks) if b.id == match.block_id),
                         None)
        if block_row is None:
            return
        index = window.blocks_model.index(block_row)
        window.block_view.setCurrentIndex(index)
        window.block_view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    def open_panel(replace: bool) -> None:
        text = _selected_text()
        dock.show()
        dock.raise_()
        panel.start(replace=replace, text=text)

    def close_panel() -> None:
        dock.hide()
        window.block_view.setFocus()

    def step(backwards: bool) -> None:
        if not panel.find_edit.text():
            open_panel(replace=False)
            return
        panel.find_next(backwards=backwards)

    panel.where_am_i = where_am_i
    panel.before_search = window.commit_pending_edit
    panel.match_activated.connect(show_match)
    panel.message.connect(lambda text: window.statusBar().showMessage(text, 10_000))
    panel.close_requested.connect(close_panel)
    window.undo_group.activeStackChanged.connect(lambda _stack: panel.set_session(window.session))
    panel.set_session(window.session)

    actions = []
    for label, keys, slot in (
        ("&Find…", [QKeySequence("Ctrl+F")], lambda: open_panel(replace=False)),
        ("R&eplace…", [QKeySequence("Ctrl+H")], lambda: open_panel(replace=True)),
        ("Find &Next", [QKeySequence("F3")], lambda: step(backwards=False)),
        ("Find Pre&vious", [QKeySequence("Shift+F3")], lambda: step(backwards=True)),
    ):
        action = QAction(label, window)
        action.setShortcuts(keys)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        actions.append(action)
    window.find_action, window.replace_action = actions[0], actions[1]  # type: ignore[attr-defined]
    window.edit_menu.addSeparator()
    window.edit_menu.addActions(actions)
    return panel
