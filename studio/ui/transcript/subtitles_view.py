"""The subtitles tab: the rules, the cues, and whether each cue keeps them.

Subtitles are independent of the transcript once built (as in the ElevenLabs editor): edits
to one never change the other. Each cue shows a green tick or a red cross; the tooltip and
the Problems column name the rules it breaks. Enter in a cue's text splits it at the
cursor, Shift+Enter starts a new line; start and end are typed in seconds and may not run
into a neighbour.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QIcon, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import EditError
from studio.core.transcript.subtitles import (
    CueChanges,
    CueProblem,
    SubtitleRules,
    merge_cues,
    retime_cue,
    set_cue_text,
    split_cue,
    track_problems,
)
from studio.ui.transcript.document import TranscriptDocument
from studio.ui.transcript.text_view import clock

STATUS, START, END, DURATION, TEXT, PROBLEMS = range(6)
HEADERS = ("", "Start", "End", "Duration", "Text", "Rules")
CUE_ROLE = Qt.ItemDataRole.UserRole + 1
OK_COLOUR = QColor("#2e9d4f")
BAD_COLOUR = QColor("#d83b3b")


def status_icon(ok: bool, size: int = 14) -> QIcon:
    """Return a filled circle with a tick (ok) or a cross (breaks a rule)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(OK_COLOUR if ok else BAD_COLOUR)
    painter.drawEllipse(1, 1, size - 2, size - 2)
    pen = painter.pen()
    pen.setStyle(Qt.PenStyle.SolidLine)
    pen.setColor(QColor("white"))
    pen.setWidthF(1.8)
    painter.setPen(pen)
    s = float(size)
    if ok:
        painter.drawPolyline([QPointF(s * 0.28, s * 0.52), QPointF(s * 0.45, s * 0.7),
                              QPointF(s * 0.74, s * 0.32)])
    else:
        painter.drawLine(int(s * 0.32), int(s * 0.32), int(s * 0.68), int(s * 0.68))
        painter.drawLine(int(s * 0.68), int(s * 0.32), int(s * 0.32), int(s * 0.68))
    painter.end()
    return QIcon(pixmap)


class CueTableModel(QAbstractTableModel):
    """The subtitle track's cues, with each cue's broken rules.

    Signals:
        edit_failed(object): an :class:`EditError` from an edit typed in the table.
    """

    edit_failed = Signal(object)

    def __init__(self, doc: TranscriptDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self._problems = track_problems(doc.subtitles)
        self._icons = {True: status_icon(True), False: status_icon(False)}
        doc.subtitles_changed.connect(self._on_changed)
        doc.subtitles_replaced.connect(self._on_replaced)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()  # noqa: B008
                 ) -> int:
        return 0 if parent.isValid() else len(self.doc.subtitles.cues)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()  # noqa: B008
                    ) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.column() in (START, END, TEXT):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def problems(self, row: int) -> frozenset[CueProblem]:
        """Return the rules cue ``row`` breaks."""
        return self._problems[row] if 0 <= row < len(self._problems) else frozenset()

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        cues = self.doc.subtitles.cues
        if not index.isValid() or not 0 <= index.row() < len(cues):
            return None
        cue = cues[index.row()]
        problems = self.problems(index.row())
        column = index.column()
        if role == CUE_ROLE:
            return cue
        if role == Qt.ItemDataRole.DisplayRole:
            if column == START:
                return clock(cue.start)
            if column == END:
                return clock(cue.end)
            if column == DURATION:
                return f"{cue.end - cue.start:.2f} s"
            if column == TEXT:
                return cue.text
            if column == PROBLEMS:
                return ", ".join(sorted(p.value for p in problems)) if problems else "OK"
        if role == Qt.ItemDataRole.EditRole:
            return {START: cue.start, END: cue.end, TEXT: cue.text}.get(column)
        if role == Qt.ItemDataRole.DecorationRole and column == STATUS:
            return self._icons[not problems]
        if role == Qt.ItemDataRole.ToolTipRole:
            if problems:
                return "Breaks the rules: " + "; ".join(sorted(p.value for p in problems))
            return "Keeps the rules"
        if role == Qt.ItemDataRole.ForegroundRole and column == PROBLEMS:
            return QBrush(BAD_COLOUR if problems else OK_COLOUR)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (START, END, DURATION):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        cues = self.doc.subtitles.cues
        if role != Qt.ItemDataRole.EditRole or not 0 <= index.row() < len(cues):
            return False
        cue = cues[index.row()]
        try:
            if index.column() == TEXT:
                self.doc.edit_cues("Edit cue text",
                                   lambda tr: set_cue_text(tr, cue.id, str(value)))
            elif index.column() in (START, END):
                start = float(value) if index.column() == START else cue.start
                end = float(value) if index.column() == END else cue.end
                self.doc.edit_cues("Retime cue", lambda tr: retime_cue(tr, cue.id, start, end,
                                                                      clamp=False))
            else:
                return False
        except EditError as exc:
            self.edit_failed.emit(exc)
            return False
        return True

    def _on_replaced(self) -> None:
        self.beginResetModel()
        self._problems = track_problems(self.doc.subtitles)
        self.endResetModel()

    def _on_changed(self, changes: CueChanges) -> None:
        if changes.added or changes.removed or changes.order:
            self._on_replaced()  # a few hundred rows: a reset is instant
            return
        self._problems = track_problems(self.doc.subtitles)
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self.rowCount() - 1, len(HEADERS) - 1))


class _CueTextEditor(QPlainTextEdit):
    """A cue's text: Enter asks to split at the cursor, Shift+Enter breaks the line."""

    split_requested = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.split_requested.emit(self.textCursor().position())
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.insertPlainText("\n")
            return
        super().keyPressEvent(event)


class CueDelegate(QStyledItemDelegate):
    """Editors for cue times (seconds) and text (Enter splits).

    Signals:
        split_requested(str, str, int): cue id, its edited text, cursor offset.
    """

    split_requested = Signal(str, str, int)

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        if index.column() in (START, END):
            box = QDoubleSpinBox(parent)
            box.setDecimals(3)
            box.setRange(0.0, 1e7)
            box.setSingleStep(0.05)
            box.setSuffix(" s")
            return box
        editor = _CueTextEditor(parent)
        cue = index.data(CUE_ROLE)
        editor.split_requested.connect(
            lambda offset, e=editor, cid=cue.id: self._on_split(e, cid, offset))
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        value = index.data(Qt.ItemDataRole.EditRole)
        if isinstance(editor, QDoubleSpinBox):
            editor.setValue(float(value))
        elif isinstance(editor, _CueTextEditor) and not editor.property("loaded"):
            editor.setProperty("loaded", True)
            editor.setPlainText(str(value))

    def setModelData(self, editor: QWidget, model: Any,
                     index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, QDoubleSpinBox):
            if abs(editor.value() - float(index.data(Qt.ItemDataRole.EditRole))) > 5e-4:
                model.setData(index, editor.value())
        elif (isinstance(editor, _CueTextEditor) and editor.property("loaded")
              and editor.toPlainText() != index.data(Qt.ItemDataRole.EditRole)):
            model.setData(index, editor.toPlainText())

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem,
                             index: QModelIndex | QPersistentModelIndex) -> None:
        rect = option.rect
        if isinstance(editor, _CueTextEditor):
            rect = rect.adjusted(0, 0, 0, max(0, 64 - rect.height()))
        editor.setGeometry(rect)

    def _on_split(self, editor: _CueTextEditor, cue_id: str, offset: int) -> None:
        text = editor.toPlainText()
        editor.setProperty("loaded", False)  # the split carries the text: nothing to commit
        self.closeEditor.emit(editor, QAbstractItemDelegate.EndEditHint.NoHint)
        self.split_requested.emit(cue_id, text, offset)


class RulesForm(QWidget):
    """The subtitle rules as spin boxes.

    Signals:
        rules_edited(object): the new :class:`SubtitleRules` (or an :class:`EditError`).
    """

    rules_edited = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chars = QSpinBox()
        self.chars.setRange(10, 120)
        self.lines = QSpinBox()
        self.lines.setRange(1, 4)
        self.min_duration = QDoubleSpinBox()
        self.max_duration = QDoubleSpinBox()
        for box in (self.min_duration, self.max_duration):
            box.setRange(0.1, 60.0)
            box.setDecimals(1)
            box.setSingleStep(0.5)
            box.setSuffix(" s")
        self.min_gap = QDoubleSpinBox()
        self.min_gap.setRange(0.0, 2.0)
        self.min_gap.setDecimals(2)
        self.min_gap.setSingleStep(0.02)
        self.min_gap.setSuffix(" s")
        self.cps_on = QCheckBox("Reading speed ≤")
        self.cps = QDoubleSpinBox()
        self.cps.setRange(5.0, 40.0)
        self.cps.setDecimals(0)
        self.cps.setSuffix(" chars/s")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for label, box in (("Chars/line", self.chars), ("Lines", self.lines),
                           ("Duration", self.min_duration), ("to", self.max_duration),
                           ("Gap", self.min_gap)):
            layout.addWidget(QLabel(label))
            layout.addWidget(box)
        layout.addWidget(self.cps_on)
        layout.addWidget(self.cps)
        layout.addStretch(1)
        self._boxes = (self.chars, self.lines, self.min_duration, self.max_duration,
                       self.min_gap, self.cps)
        for box in self._boxes:
            box.setKeyboardTracking(False)
            box.valueChanged.connect(self._on_edited)
        self.cps_on.toggled.connect(self._on_edited)
        self.set_rules(SubtitleRules())

    def set_rules(self, rules: SubtitleRules) -> None:
        """Show ``rules``."""
        for box in (*self._boxes, self.cps_on):
            box.blockSignals(True)
        self.chars.setValue(rules.max_chars_per_line)
        self.lines.setValue(rules.max_lines)
        self.min_duration.setValue(rules.min_duration)
        self.max_duration.setValue(rules.max_duration)
        self.min_gap.setValue(rules.min_gap)
        self.cps_on.setChecked(rules.max_chars_per_second is not None)
        self.cps.setValue(rules.max_chars_per_second or 17.0)
        self.cps.setEnabled(rules.max_chars_per_second is not None)
        for box in (*self._boxes, self.cps_on):
            box.blockSignals(False)

    def rules(self) -> SubtitleRules:
        """Return the rules shown.

        Raises:
            EditError: they contradict each other (minimum over maximum).
        """
        return SubtitleRules(self.chars.value(), self.lines.value(), self.min_duration.value(),
                             self.max_duration.value(), self.min_gap.value(),
                             self.cps.value() if self.cps_on.isChecked() else None)

    def _on_edited(self) -> None:
        self.cps.setEnabled(self.cps_on.isChecked())
        try:
            self.rules_edited.emit(self.rules())
        except EditError as exc:
            self.rules_edited.emit(exc)


class CueTableView(QTableView):
    """The cue table; Delete asks to delete the selected cues.

    Signals:
        delete_requested(): Delete was pressed.
    """

    delete_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and \
                self.state() != QAbstractItemView.State.EditingState:
            self.delete_requested.emit()
            return
        super().keyPressEvent(event)


class SubtitlesPanel(QWidget):
    """Rules above the cue table."""

    def __init__(self, doc: TranscriptDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.rules_form = RulesForm()
        self.model = CueTableModel(doc, self)
        self.table = CueTableView()
        self.table.setObjectName("cueTable")
        self.table.setModel(self.model)
        self.delegate = CueDelegate(self.table)
        self.table.setItemDelegate(self.delegate)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        self.table.setIconSize(QSize(14, 14))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(STATUS, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(TEXT, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(STATUS, 28)
        metrics = self.table.fontMetrics()
        for column in (START, END):
            self.table.setColumnWidth(column, metrics.horizontalAdvance("0:00:00.0") + 24)
        self.table.setColumnWidth(DURATION, metrics.horizontalAdvance("00.00 s") + 24)
        self.table.setColumnWidth(PROBLEMS, metrics.horizontalAdvance("too close to the next "
                                                                      "cue") + 16)
        vertical = self.table.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(metrics.lineSpacing() * 2 + 10)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.summary = QLabel()
        self.summary.setObjectName("cueSummary")
        self.toolbar = QHBoxLayout()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.rules_form)
        layout.addLayout(self.toolbar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        doc.subtitles_changed.connect(lambda _c: self._refresh())
        doc.subtitles_replaced.connect(self._refresh)
        self._refresh()

    def _refresh(self) -> None:
        self.rules_form.set_rules(self.doc.subtitles.rules)
        n = len(self.doc.subtitles.cues)
        bad = sum(1 for r in range(n) if self.model.problems(r))
        if not n:
            self.summary.setText("No subtitles yet: press Build from transcript.")
        else:
            self.summary.setText(f"{n} cue{'s' if n != 1 else ''} · {n - bad} keep the rules"
                                 f" · {bad} break them")

    def selected_cue_ids(self) -> list[str]:
        """Return the selected cues' ids in order."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        if not rows and self.table.currentIndex().isValid():
            rows = [self.table.currentIndex().row()]
        cues = self.doc.subtitles.cues
        return [cues[r].id for r in rows if r < len(cues)]

    def select_cue(self, cue_id: str) -> None:
        """Select a cue's row and scroll to it."""
        for row, cue in enumerate(self.doc.subtitles.cues):
            if cue.id == cue_id:
                self.table.selectRow(row)
                self.table.scrollTo(self.model.index(row, TEXT))
                return


def split_cue_text(track: Any, cue_id: str, text: str, offset: int) -> CueChanges:
    """Set a cue's text then split it at ``offset`` (one edit: Enter in the cue's text)."""
    cue = track.cues[track.index(cue_id)]
    changes = CueChanges()
    if text != cue.text:
        changes = set_cue_text(track, cue_id, text)
        offset = max(0, offset - (len(text) - len(text.lstrip())))
    more = split_cue(track, cue_id, offset)
    return CueChanges(changes.cues | more.cues, more.added, more.removed, True)


def merge_with_next(track: Any, cue_id: str) -> CueChanges:
    """Merge a cue with the next one."""
    return merge_cues(track, cue_id)
