"""Painting of chapters and paragraphs: status bars, padlocks, the spoken word."""

from __future__ import annotations

import html

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QPlainTextEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from studio.core.model import BlockStatus
from studio.ui.models import (
    FAILED,
    GENERATING,
    LOCKED_ROLE,
    PROGRESS_ROLE,
    SPOKEN_ROLE,
    STATUS_ROLE,
)

_STATUS_COLOURS = {
    BlockStatus.UNCONVERTED: QColor(200, 200, 200),
    BlockStatus.CONVERTED: QColor(40, 90, 160),
    BlockStatus.STALE: QColor(220, 150, 30),
    GENERATING: QColor(90, 180, 230),
    FAILED: QColor(200, 40, 40),
}


def _draw_with_word(painter: QPainter, rect: QRect, text: str, span: tuple[int, int],
                    palette: QPalette) -> None:
    """Draw wrapped ``text`` with the characters ``span`` highlighted (the spoken word)."""
    from PySide6.QtGui import QTextDocument

    a, b = span
    esc = html.escape
    doc = QTextDocument()
    doc.setDefaultFont(painter.font())
    doc.setTextWidth(rect.width())
    doc.setDocumentMargin(0)
    colour = palette.text().color().name()
    doc.setHtml(f'<span style="color:{colour}">{esc(text[:a])}'
                f'<span style="background:#ffd54f;color:#000">{esc(text[a:b])}</span>'
                f"{esc(text[b:])}</span>")
    painter.translate(rect.topLeft())
    doc.drawContents(painter)
    painter.translate(-rect.topLeft())


def _draw_padlock(painter: QPainter, x: int, y: int, colour: QColor) -> None:
    """Draw a small padlock (no icon font needed) with its top-left corner at (x, y)."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    pen = painter.pen()
    pen.setColor(colour)
    pen.setWidthF(1.6)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawArc(QRect(x + 3, y, 8, 9), 0, 180 * 16)  # shackle
    painter.drawLine(x + 3, y + 4, x + 3, y + 6)
    painter.drawLine(x + 11, y + 4, x + 11, y + 6)
    painter.fillRect(QRect(x + 1, y + 6, 12, 9), colour)  # body


def _paint_item_background(painter: QPainter, option: QStyleOptionViewItem
                           ) -> tuple[QRect, QPalette, bool]:
    """Fill a selected item's background; return its rect, palette and selection state."""
    rect: QRect = option.rect  # type: ignore[attr-defined]
    palette: QPalette = option.palette  # type: ignore[attr-defined]
    selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
    if selected:
        painter.fillRect(rect, palette.highlight())
    return rect, palette, selected


class ChapterDelegate(QStyledItemDelegate):
    """Paint a chapter's title (elided) with its conversion progress right-aligned."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        rect, palette, selected = _paint_item_background(painter, option)
        painter.setPen(palette.highlightedText().color() if selected else palette.text().color())
        metrics = option.fontMetrics  # type: ignore[attr-defined]
        progress = index.data(PROGRESS_ROLE) or ""
        progress_width = metrics.horizontalAdvance(progress) + 8
        inner = rect.adjusted(6, 0, -6, 0)
        painter.drawText(inner, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                         progress)
        title = metrics.elidedText(index.data() or "", Qt.TextElideMode.ElideRight,
                                   inner.width() - progress_width)
        painter.drawText(inner, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         title)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(100, option.fontMetrics.height() + 10)  # type: ignore[attr-defined]


class BlockDelegate(QStyledItemDelegate):
    """Paint a paragraph with a status bar at its left and its text wrapped."""

    BAR = 5
    PAD = 8

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        rect, palette, selected = _paint_item_background(painter, option)
        status = index.data(STATUS_ROLE)
        painter.fillRect(
            QRect(rect.left() + 2, rect.top() + 3, self.BAR, rect.height() - 6),
            _STATUS_COLOURS.get(status, QColor(200, 200, 200)),
        )
        right = self.PAD
        if index.data(LOCKED_ROLE):
            _draw_padlock(painter, rect.right() - 18, rect.top() + 5,
                          palette.highlightedText().color() if selected
                          else palette.text().color())
            right += 20
        text_rect = rect.adjusted(self.BAR + self.PAD + 2, self.PAD // 2, -right, -self.PAD // 2)
        painter.setPen(palette.highlightedText().color() if selected else palette.text().color())
        spoken = index.data(SPOKEN_ROLE)
        if spoken is not None:  # the paragraph being spoken: its current word highlighted
            _draw_with_word(painter, text_rect, index.data() or "", spoken, palette)
        else:
            painter.drawText(text_rect, int(Qt.TextFlag.TextWordWrap), index.data() or "")
        painter.restore()

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex) -> QWidget:
        editor = QPlainTextEdit(parent)
        editor.setObjectName("paragraphEditor")
        editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        assert isinstance(editor, QPlainTextEdit)
        editor.setPlainText(index.data(Qt.ItemDataRole.EditRole) or "")

    def setModelData(self, editor: QWidget, model: QAbstractItemModel,
                     index: QModelIndex) -> None:
        assert isinstance(editor, QPlainTextEdit)
        model.setData(index, editor.toPlainText(), Qt.ItemDataRole.EditRole)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem,
                             index: QModelIndex) -> None:
        rect: QRect = option.rect  # type: ignore[attr-defined]
        editor.setGeometry(rect.adjusted(self.BAR + 4, 0, 0, max(0, 80 - rect.height())))

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        width = max(200, option.rect.width() or 600)  # type: ignore[attr-defined]
        metrics = option.fontMetrics  # type: ignore[attr-defined]
        text_width = width - self.BAR - 2 * self.PAD - 2
        bounds = metrics.boundingRect(
            QRect(0, 0, text_width, 100_000), int(Qt.TextFlag.TextWordWrap), index.data() or ""
        )
        return QSize(width, bounds.height() + self.PAD)
