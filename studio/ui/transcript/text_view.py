"""The transcript's text: one row per segment, grouped by speaker, painted by a delegate.

Model/view rather than a widget per word, so an hour (600 segments, 9,000 words) opens and
scrolls at once: :class:`SegmentListModel` adapts the document's segments (rows inserted and
removed by id as edits report them), :class:`SegmentDelegate` lays each row out once with a
:class:`QTextLayout` (cached by segment, text and width) and paints the current word
highlighted. :class:`TranscriptTextView` hit-tests words, so a click on a word seeks there,
and edits a segment in place: Enter splits it at the cursor.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QTextCharFormat,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QFrame,
    QListView,
    QPlainTextEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from studio.core.errors import EditError
from studio.core.transcript.model import Segment, SegmentId, Speaker, WordType, set_segment_text
from studio.ui.delegates import lay_out_lines
from studio.ui.theme import is_dark
from studio.ui.transcript.document import TranscriptDocument

SEGMENT_ROLE = Qt.ItemDataRole.UserRole + 1
SPEAKER_ROLE = Qt.ItemDataRole.UserRole + 2
HEADER_ROLE = Qt.ItemDataRole.UserRole + 3  # True when the row starts a speaker's group
WORD_ROLE = Qt.ItemDataRole.UserRole + 4  # index into segment.words of the current word
PAD = 3
GROUP_GAP = 6
STALE_COLOUR = QColor("#d9822b")
_ROOT = QModelIndex()


def clock(seconds: float, tenths: bool = True) -> str:
    """Return ``h:mm:ss.t`` (or ``m:ss`` style without tenths)."""
    seconds = max(0.0, seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if tenths:
        return f"{int(h)}:{int(m):02d}:{s:04.1f}"
    return f"{int(h)}:{int(m):02d}:{int(s):02d}" if h else f"{int(m)}:{int(s):02d}"


class SegmentListModel(QAbstractListModel):
    """The document's segments as list rows.

    Signals:
        edit_failed(object): an :class:`EditError` from a text edit made in the view.
    """

    edit_failed = Signal(object)

    def __init__(self, doc: TranscriptDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self._ids: list[str] = []
        self._by_id: dict[str, Segment] = {}
        self._speakers: dict[str, Speaker] = {}
        self.current: tuple[str, int] | None = None  # (segment id, word index) highlighted
        self._sync()
        doc.transcript_changed.connect(self._on_transcript_changed)
        doc.transcript_replaced.connect(self._on_transcript_replaced)

    def _sync(self) -> None:
        t = self.doc.transcript
        self._ids = [s.id for s in t.segments]
        self._by_id = {s.id: s for s in t.segments}
        self._speakers = {s.id: s for s in t.speakers}

    # -- Qt model API --------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    def segment(self, row: int) -> Segment | None:
        """Return the segment shown in ``row``."""
        if 0 <= row < len(self._ids):
            return self._by_id.get(self._ids[row])
        return None

    def is_header(self, row: int) -> bool:
        """Return whether ``row`` starts a speaker's group (its speaker differs from above)."""
        segment, previous = self.segment(row), self.segment(row - 1)
        return segment is not None and (previous is None
                                        or previous.speaker_id != segment.speaker_id)

    def row_of(self, segment_id: str) -> int:
        """Return the row of a segment, or -1."""
        try:
            return self._ids.index(segment_id)
        except ValueError:
            return -1

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        segment = self.segment(index.row()) if index.isValid() else None
        if segment is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return segment.text
        if role == SEGMENT_ROLE:
            return segment
        if role == SPEAKER_ROLE:
            return self._speakers.get(segment.speaker_id)
        if role == HEADER_ROLE:
            return self.is_header(index.row())
        if role == WORD_ROLE:
            if self.current is not None and self.current[0] == segment.id:
                return self.current[1]
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            speaker = self._speakers.get(segment.speaker_id)
            tip = (f"{clock(segment.start)} – {clock(segment.end)} · "
                   f"{speaker.name if speaker else '?'}")
            if segment.words_stale:
                tip += "\nEdited: word times are estimates until you press Align words."
            return tip
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        segment = self.segment(index.row()) if index.isValid() else None
        if segment is None or role != Qt.ItemDataRole.EditRole:
            return False
        try:
            self.doc.edit("Edit segment text",
                          lambda t: set_segment_text(t, segment.id, str(value)))
        except EditError as exc:
            self.edit_failed.emit(exc)
            return False
        return True

    # -- highlight ---------------------------------------------------------------------------

    def set_current(self, current: tuple[str, int] | None) -> None:
        """Highlight word ``current = (segment id, index into its words)`` (None: no word)."""
        if current == self.current:
            return
        before, self.current = self.current, current
        for item in (before, current):
            if item is not None:
                row = self.row_of(item[0])
                if row >= 0:
                    index = self.index(row)
                    self.dataChanged.emit(index, index, [WORD_ROLE])

    # -- document changes --------------------------------------------------------------------

    def _on_transcript_replaced(self) -> None:
        self.beginResetModel()
        self.current = None
        self._sync()
        self.endResetModel()

    def _on_transcript_changed(self, changes: Any) -> None:
        t = self.doc.transcript
        old = self._ids
        new = [s.id for s in t.segments]
        self._by_id = {s.id: s for s in t.segments}
        self._speakers = {s.id: s for s in t.speakers}
        if new != old:
            new_set, old_set = set(new), set(old)
            if [i for i in old if i in new_set] != [i for i in new if i in old_set]:
                self.beginResetModel()  # existing rows changed order: never from an edit
                self._ids = new
                self.endResetModel()
                return
            for row in range(len(old) - 1, -1, -1):
                if old[row] not in new_set:
                    self.beginRemoveRows(QModelIndex(), row, row)
                    del self._ids[row]
                    self.endRemoveRows()
            for row, segment_id in enumerate(new):
                if segment_id not in old_set:
                    self.beginInsertRows(QModelIndex(), row, row)
                    self._ids.insert(row, segment_id)
                    self.endInsertRows()
        if self.current is not None and self.current[0] not in self._by_id:
            self.current = None
        if changes.speakers or changes.removed_speakers:
            if self._ids:
                self.dataChanged.emit(self.index(0), self.index(len(self._ids) - 1))
            return
        rows = sorted(r for r in (self.row_of(i) for i in changes.segments | changes.added)
                      if r >= 0)
        for row in rows:  # the next row's header depends on this row's speaker
            self.dataChanged.emit(self.index(row), self.index(min(row + 1, len(new) - 1)))
        if changes.removed and self._ids:  # the row after a removed one may head a group now
            self.dataChanged.emit(self.index(0), self.index(len(self._ids) - 1),
                                  [HEADER_ROLE])


class _Metrics(NamedTuple):
    key: str  # QFont.key() of the row font
    small: QFont  # the time column
    bold: QFont  # speaker names
    gutter: int  # width of the time column
    header: int  # height of a speaker's name above the first row of a group


class _RowLayout(NamedTuple):
    layout: QTextLayout
    height: int
    text_top: int
    text_height: float


class SegmentEditor(QPlainTextEdit):
    """The in-place editor of one segment's text: Enter asks to split at the cursor.

    Signals:
        split_requested(int): Enter was pressed with the cursor at this character offset.
    """

    split_requested = Signal(int)

    def __init__(self, segment_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.segment_id = segment_id
        self.loaded = False
        self.original: str | None = None  # the segment's text when the editor opened
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTabChangesFocus(True)
        self.document().setDocumentMargin(1)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.split_requested.emit(self.textCursor().position())
            event.accept()  # segments are one paragraph: never a line break
            return
        super().keyPressEvent(event)


class SegmentDelegate(QStyledItemDelegate):
    """Paint a segment: the speaker's name on the first row of a group, time, text, word.

    Signals:
        split_requested(str, str, int): segment id, its edited text, cursor offset (Enter).
    """

    split_requested = Signal(str, str, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache: dict[tuple[str, str, int, bool, str], _RowLayout] = {}
        self._metrics: dict[str, _Metrics] = {}
        self._option = QTextOption()
        self._option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.editor_cursor: int | None = None  # where the next editor puts its cursor
        self.open_editor: SegmentEditor | None = None

    # -- geometry ------------------------------------------------------------------------------

    def metrics(self, font: QFont) -> _Metrics:
        """Return the fonts and sizes rows use with ``font`` (made once per font)."""
        key = font.key()
        cached = self._metrics.get(key)
        if cached is None:
            small = QFont(font)
            small.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
            bold = QFont(font)
            bold.setBold(True)
            cached = _Metrics(key, small, bold,
                              QFontMetrics(small).horizontalAdvance("0:00:00.0") + 14,
                              QFontMetrics(bold).height() + GROUP_GAP)
            self._metrics[key] = cached
        return cached

    def gutter(self, font: QFont) -> int:
        """Return the width of the time column."""
        return self.metrics(font).gutter

    def text_origin(self, option_rect: QRect, font: QFont, header: bool) -> QPoint:
        """Return where a row's text layout is drawn, relative to the row's top-left."""
        m = self.metrics(font)
        return QPoint(m.gutter + 10, PAD + (m.header if header else 0))

    def row_layout(self, segment: Segment, header: bool, width: int, font: QFont) -> _RowLayout:
        """Return the laid-out text of a row ``width`` pixels wide (cached)."""
        m = self.metrics(font)
        key = (segment.id, segment.text, width, header, m.key)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if len(self._cache) > 20_000:
            self._cache.clear()
        text_width = max(40, width - m.gutter - 10 - 8)
        layout = QTextLayout(segment.text or " ", font)
        layout.setTextOption(self._option)
        y = lay_out_lines(layout, text_width)
        top = PAD + (m.header if header else 0)
        result = _RowLayout(layout, int(top + y + PAD + 0.999), top, y)
        self._cache[key] = result
        return result

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
                 ) -> QSize:
        # Called for every row at each layout: straight to the model, layouts cached.
        model = index.model()
        row = index.row()
        if isinstance(model, SegmentListModel):
            segment, header = model.segment(row), model.is_header(row)
        else:
            segment, header = index.data(SEGMENT_ROLE), bool(index.data(HEADER_ROLE))
        if segment is None:
            return QSize(0, 0)
        width = option.rect.width()
        view = option.widget
        if isinstance(view, QAbstractItemView):
            width = view.viewport().width()
        return QSize(width, self.row_layout(segment, header, width, option.font).height)

    # -- painting ------------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        segment: Segment | None = index.data(SEGMENT_ROLE)
        if segment is None:
            return
        speaker: Speaker | None = index.data(SPEAKER_ROLE)
        header = bool(index.data(HEADER_ROLE))
        palette: QPalette = option.palette
        rect = option.rect
        font = option.font
        row = self.row_layout(segment, header, rect.width(), font)
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            tint = QColor(palette.highlight().color())
            tint.setAlpha(55)
            painter.fillRect(rect.adjusted(0, row.text_top - PAD, 0, 0), tint)
        colour = QColor(speaker.colour if speaker else "#888888")
        if is_dark(palette):
            colour = colour.lighter(125)
        m = self.metrics(font)
        if header:
            painter.setFont(m.bold)
            painter.setPen(colour)
            painter.drawText(QRect(rect.left() + 8, rect.top() + GROUP_GAP, rect.width() - 16,
                                   row.text_top - GROUP_GAP),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                             speaker.name if speaker else "?")
        gutter = m.gutter
        text_x = rect.left() + gutter + 10
        text_y = rect.top() + row.text_top
        painter.fillRect(QRectF(rect.left() + gutter + 2, text_y, 3, row.text_height), colour)
        painter.setFont(m.small)
        painter.setPen(STALE_COLOUR if segment.words_stale
                       else palette.color(QPalette.ColorRole.PlaceholderText))
        first_line = row.layout.lineAt(0) if row.layout.lineCount() else None
        line_h = int(first_line.height()) if first_line is not None else 16
        painter.drawText(QRect(rect.left(), text_y, gutter - 2, line_h),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         clock(segment.start))
        selections: list[QTextLayout.FormatRange] = []
        current = index.data(WORD_ROLE)
        if current is not None and 0 <= current < len(segment.words):
            word = segment.words[current]
            fmt = QTextCharFormat()
            fmt.setBackground(palette.highlight())
            fmt.setForeground(palette.highlightedText())
            span = QTextLayout.FormatRange()
            span.start = max(0, word.char_start)
            span.length = max(0, min(len(segment.text), word.char_end) - span.start)
            span.format = fmt
            selections.append(span)
        if not segment.text:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.setFont(font)
            painter.drawText(QPointF(text_x, text_y + (first_line.ascent() if first_line else 12)),
                             "(no text: double-click to type)")
        else:
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            row.layout.draw(painter, QPointF(text_x, text_y), selections)
        painter.restore()

    # -- editing ---------------------------------------------------------------------------------

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        segment: Segment = index.data(SEGMENT_ROLE)
        editor = SegmentEditor(segment.id, parent)
        editor.setFont(option.font)
        self.open_editor = editor
        editor.destroyed.connect(lambda _o=None, e=editor: self._forget(e))
        editor.split_requested.connect(lambda offset, e=editor: self._on_split(e, offset))
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        # Called again whenever the row changes (a highlight during playback): load once only,
        # or the user's typing would be thrown away.
        if isinstance(editor, SegmentEditor) and not editor.loaded:
            editor.loaded = True
            editor.original = str(index.data(Qt.ItemDataRole.EditRole) or "")
            editor.setPlainText(editor.original)
            cursor = editor.textCursor()
            position = self.editor_cursor
            cursor.setPosition(len(editor.toPlainText()) if position is None
                               else min(position, len(editor.toPlainText())))
            editor.setTextCursor(cursor)
            self.editor_cursor = None

    def setModelData(self, editor: QWidget, model: Any,
                     index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, SegmentEditor) and editor.loaded:
            segment = index.data(SEGMENT_ROLE)
            if segment is None or segment.id != editor.segment_id \
                    or segment.text != editor.original:
                return  # the segment went or changed under the editor: its text is stale
            if editor.toPlainText().strip() != segment.text:
                model.setData(index, editor.toPlainText(), Qt.ItemDataRole.EditRole)

    def _forget(self, editor: SegmentEditor) -> None:
        if self.open_editor is editor:
            self.open_editor = None

    def destroyEditor(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex
                      ) -> None:
        self._forget(editor)  # type: ignore[arg-type]
        super().destroyEditor(editor, index)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem,
                             index: QModelIndex | QPersistentModelIndex) -> None:
        rect = option.rect
        header = bool(index.data(HEADER_ROLE))
        origin = self.text_origin(rect, option.font, header)
        editor.setGeometry(QRect(rect.left() + origin.x() - 2, rect.top() + origin.y() - 2,
                                 rect.width() - origin.x() - 4,
                                 max(rect.height() - origin.y() + 2,
                                     QFontMetrics(option.font).lineSpacing() * 2 + 6)))

    def _on_split(self, editor: SegmentEditor, offset: int) -> None:
        text = editor.toPlainText()
        segment_id = editor.segment_id
        editor.loaded = False  # nothing to commit: the split carries the text
        self.closeEditor.emit(editor, QAbstractItemDelegate.EndEditHint.NoHint)
        self.split_requested.emit(segment_id, text, offset)


class TranscriptTextView(QListView):
    """The transcript's segments; click a word to seek, double-click or Return to edit.

    Signals:
        word_clicked(str, int): segment id and index into its words of the word clicked.
        delete_requested(): Delete was pressed on the selected segments.
    """

    word_clicked = Signal(str, int)
    delete_requested = Signal()

    def __init__(self, model: SegmentListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcriptText")
        self.setModel(model)
        self.segment_delegate = SegmentDelegate(self)
        self.setItemDelegate(self.segment_delegate)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        # Lay rows out 50 at a time between events: an hour's 600 rows never freeze the window.
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(50)
        # A scroll bar that comes and goes changes the width, and every row would be laid out
        # again at the new width.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._press: QPoint | None = None

    @property
    def segment_model(self) -> SegmentListModel:
        model = self.model()
        assert isinstance(model, SegmentListModel)
        return model

    def dataChanged(self, top_left: QModelIndex | QPersistentModelIndex,
                    bottom_right: QModelIndex | QPersistentModelIndex,
                    roles: list[int] | None = None) -> None:
        super().dataChanged(top_left, bottom_right, roles or [])
        if not roles or any(r != WORD_ROLE for r in roles):
            self.scheduleDelayedItemsLayout()  # text or header changed: row heights may too

    # -- words -----------------------------------------------------------------------------------

    def _row_geometry(self, row: int) -> tuple[Segment, _RowLayout, QPoint] | None:
        model = self.segment_model
        segment = model.segment(row)
        if segment is None:
            return None
        index = model.index(row)
        rect = self.visualRect(index)
        header = bool(index.data(HEADER_ROLE))
        layout = self.segment_delegate.row_layout(segment, header, rect.width(), self.font())
        origin = rect.topLeft() + self.segment_delegate.text_origin(rect, self.font(), header)
        return segment, layout, origin

    def word_rect(self, segment_id: str, word_index: int) -> QRect:
        """Return a word's rectangle in viewport coordinates (empty if not laid out)."""
        geometry = self._row_geometry(self.segment_model.row_of(segment_id))
        if geometry is None:
            return QRect()
        segment, row, origin = geometry
        word = segment.words[word_index]
        start = max(0, min(word.char_start, len(segment.text)))
        end = max(start, min(word.char_end, len(segment.text)))
        line = row.layout.lineForTextPosition(start)
        if not line.isValid():
            return QRect()
        x0 = line.cursorToX(start)[0]
        x1 = line.cursorToX(end)[0] if row.layout.lineForTextPosition(
            max(start, end - 1)).lineNumber() == line.lineNumber() else line.naturalTextWidth()
        return QRectF(origin.x() + x0, origin.y() + line.y(), max(1.0, x1 - x0),
                      line.height()).toAlignedRect()

    def word_at(self, pos: QPoint) -> tuple[str, int] | None:
        """Return (segment id, word index) of the word under a viewport point."""
        index = self.indexAt(pos)
        if not index.isValid():
            return None
        geometry = self._row_geometry(index.row())
        if geometry is None:
            return None
        segment, row, origin = geometry
        x, y = pos.x() - origin.x(), pos.y() - origin.y()
        for k, word in enumerate(segment.words):
            if word.type is WordType.SPACING or word.char_end <= word.char_start:
                continue
            line = row.layout.lineForTextPosition(min(word.char_start, len(segment.text)))
            if not line.isValid() or not line.y() <= y < line.y() + line.height():
                continue
            x0 = line.cursorToX(word.char_start)[0]
            x1 = line.cursorToX(min(word.char_end, len(segment.text)))[0]
            if x1 < x0:  # the word wrapped onto the next line: its end is there
                x1 = line.naturalTextWidth()
            if x0 <= x <= x1:
                return segment.id, k
        return None

    def scroll_to_segment(self, segment_id: str) -> None:
        """Scroll so that a segment is visible."""
        row = self.segment_model.row_of(segment_id)
        if row >= 0:
            self.scrollTo(self.segment_model.index(row),
                          QAbstractItemView.ScrollHint.EnsureVisible)

    def edit_segment(self, segment_id: str, cursor: int | None = None) -> None:
        """Open a segment's text for editing, the cursor at ``cursor`` (default: the end)."""
        row = self.segment_model.row_of(segment_id)
        if row < 0:
            return
        index = self.segment_model.index(row)
        self.setCurrentIndex(index)
        self.scrollTo(index)
        self.segment_delegate.editor_cursor = cursor
        self.edit(index)

    def selected_segment_ids(self) -> list[SegmentId]:
        """Return the selected segments' ids in time order (or the current one)."""
        rows = sorted({i.row() for i in self.selectionModel().selectedIndexes()})
        if not rows and self.currentIndex().isValid():
            rows = [self.currentIndex().row()]
        model = self.segment_model
        return [s.id for r in rows if (s := model.segment(r)) is not None]

    def is_editing(self) -> bool:
        """Return whether a segment's text is open for editing."""
        return self.state() == QAbstractItemView.State.EditingState

    def finish_editing(self) -> None:
        """Commit the open segment editor's text (one undo step) and close it.

        Every other edit, and undo/redo, calls this first: an editor left open would
        otherwise write its text, read before that edit, over it when it closes.
        """
        editor = self.segment_delegate.open_editor
        if editor is None or not self.is_editing():
            return
        self.segment_delegate.open_editor = None
        self.commitData(editor)
        editor.loaded = False  # committed: closing must not commit again
        self.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)

    # -- events ------------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        press, self._press = self._press, None
        super().mouseReleaseEvent(event)
        pos = event.position().toPoint()
        if (event.button() == Qt.MouseButton.LeftButton and press is not None
                and (pos - press).manhattanLength() <= 4
                and not event.modifiers() & (Qt.KeyboardModifier.ShiftModifier
                                             | Qt.KeyboardModifier.ControlModifier)):
            hit = self.word_at(pos)
            if hit is not None:
                self.word_clicked.emit(*hit)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.is_editing():
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                    self.currentIndex().isValid():
                self.edit(self.currentIndex())
                return
            if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self.delete_requested.emit()
                return
        super().keyPressEvent(event)
