"""Painting of chapters and paragraphs: status bars, padlocks, break chips, voice spans.

A paragraph is painted from its raw text (with inline ``<break time="1.0s" />`` tags): each
tag becomes a chip showing its duration, each voice span gets its voice's pastel colour, a
paragraph with more breaks than the guidance (spec §2.9) gets a warning badge, and the word
being spoken is highlighted. Plain paragraphs are drawn straight from their text; the others
get a text layout, cached per (text, spans, width, font), so scrolling repaints from the
cache. Row heights come from font metrics (cached too), never from a layout per row: a
5,000-paragraph chapter measures every row, and a layout costs a dozen calls into Qt. What
a paragraph shows, and the offset maps, come from :mod:`studio.core.textedit`.

The in-place editor (:class:`ParagraphEditor`) edits the raw text; break tags show as compact
chips there too and move and delete as one character. While a paragraph is edited its row is
as tall as the editor's text, growing and shrinking as lines are typed, so the editor never
scrolls and never covers the next paragraph.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QPolygonF,
    QResizeEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QAbstractScrollArea,
    QMenu,
    QPlainTextEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QWidget,
)

from studio.core.model import (
    BREAK_MAX_S,
    BREAK_MIN_S,
    BREAK_RE,
    Block,
    BlockStatus,
    VoiceSpan,
)
from studio.core.textedit import (
    CHIP_ICON,
    Chip,
    ParagraphDisplay,
    break_warnings,
    normalized_offset,
    paragraph_display,
    seconds_label,
    speakable_to_raw,
)
from studio.ui.audio_tags import TagCompleter, highlight_audio_tags, row_tag_format, tag_ranges
from studio.ui.models import (
    FAILED,
    GENERATING,
    ID_ROLE,
    LOCKED_ROLE,
    PROGRESS_ROLE,
    SPEAKING_ROLE,
    SPOKEN_ROLE,
    STATUS_ROLE,
    VOICE_ROLE,
)
from studio.ui.voice_colours import generation as voice_colours_generation
from studio.ui.voice_colours import voice_colour, voice_ink

# A status stripe is the only sign of a paragraph's state, so each colour keeps at least 3:1
# contrast with the list's base colour in its theme (WCAG 2.1 §1.4.11, non-text contrast):
# darker shades on the light base, lighter ones on the dark base.
_STATUS_COLOURS_LIGHT = {
    BlockStatus.UNCONVERTED: QColor(140, 140, 140),
    BlockStatus.CONVERTED: QColor(40, 90, 160),
    BlockStatus.STALE: QColor(195, 125, 10),
    GENERATING: QColor(0, 140, 200),
    FAILED: QColor(200, 40, 40),
}
_STATUS_COLOURS_DARK = {
    BlockStatus.UNCONVERTED: QColor(140, 140, 140),
    BlockStatus.CONVERTED: QColor(80, 140, 230),
    BlockStatus.STALE: QColor(220, 150, 30),
    GENERATING: QColor(90, 180, 230),
    FAILED: QColor(235, 80, 80),
}

_SPOKEN_BG = QColor("#ffd54f")
# The paragraph being spoken: a warm tint, unlike the (blue) selection, in each theme.
_SPEAKING_ROW_LIGHT = QColor(255, 243, 200)
_SPEAKING_ROW_DARK = QColor(78, 64, 24)


def speaking_row_colour(palette: QPalette) -> QColor:
    """Return the background tint of the paragraph being spoken on ``palette``."""
    return _SPEAKING_ROW_DARK if _is_dark(palette) else _SPEAKING_ROW_LIGHT
_WARNING = QColor(232, 150, 20)


# ---------------------------------------------------------------------------------------------
# Voice colours


def voice_swatch_html(alias: str, voice_id: str) -> str:
    """Return ``alias`` on its voice colour, as rich text for legends and tooltips."""
    return (f'<span style="background:{voice_colour(voice_id).name()};'
            f'color:{voice_ink().name()}">&nbsp;{html.escape(alias)}&nbsp;</span>')


# ---------------------------------------------------------------------------------------------
# Painting helpers


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


def _draw_warning(painter: QPainter, x: int, y: int) -> None:
    """Draw a warning triangle with an exclamation mark, its top-left corner at (x, y)."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(_WARNING)
    painter.drawPolygon(QPolygonF([QPointF(x + 7, y), QPointF(x + 14.5, y + 14),
                                   QPointF(x - 0.5, y + 14)]))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.fillRect(QRectF(x + 6.2, y + 4.5, 1.6, 5.5), QColor(30, 30, 30))
    painter.fillRect(QRectF(x + 6.2, y + 11, 1.6, 1.6), QColor(30, 30, 30))


def _paint_item_background(painter: QPainter, option: QStyleOptionViewItem
                           ) -> tuple[QRect, QPalette, bool]:
    """Fill a selected item's background; return its rect, palette and selection state."""
    rect: QRect = option.rect  # type: ignore[attr-defined]
    palette: QPalette = option.palette  # type: ignore[attr-defined]
    selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
    if selected:
        painter.fillRect(rect, palette.highlight())
    return rect, palette, selected


def _is_dark(palette: QPalette) -> bool:
    return palette.base().color().lightness() < 128


def status_colour(status: object, palette: QPalette) -> QColor:
    """Return the colour of a paragraph's status stripe on ``palette``'s base colour."""
    colours = _STATUS_COLOURS_DARK if _is_dark(palette) else _STATUS_COLOURS_LIGHT
    return colours.get(status, colours[BlockStatus.UNCONVERTED])



def lay_out_lines(layout: QTextLayout, width: float) -> float:
    """Break ``layout``'s text into lines ``width`` wide, one under another (cached for
    painting); return the height they take."""
    layout.setCacheEnabled(True)
    layout.beginLayout()
    y = 0.0
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        line.setPosition(QPointF(0.0, y))
        y += line.height()
    layout.endLayout()
    return y

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


# ---------------------------------------------------------------------------------------------
# Paragraphs


@dataclass(slots=True)
class _Row:
    """A paragraph laid out at one width: the layout, its height, its chips and spans."""

    layout: QTextLayout
    height: int
    display: ParagraphDisplay
    chip_rects: list[tuple[QRectF, Chip]]
    icon_rects: list[QRectF]  # the room at the start of each chip for its pause icon
    span_rects: list[tuple[QRectF, VoiceSpan]]


def _range_rects(layout: QTextLayout, start: int, end: int) -> list[QRectF]:
    """Return the rectangles (one per line) covering shown characters ``[start, end)``."""
    rects = []
    for n in range(layout.lineCount()):
        line = layout.lineAt(n)
        a, b = max(start, line.textStart()), min(end, line.textStart() + line.textLength())
        if a >= b:
            continue
        x1 = line.cursorToX(a)[0]
        x2 = line.cursorToX(b)[0]
        rects.append(QRectF(min(x1, x2), line.y(), abs(x2 - x1), line.height()))
    return rects


class BlockDelegate(QStyledItemDelegate):
    """Paint a paragraph: status bar, wrapped text with break chips and voice spans, badges.

    Signals:
        break_double_clicked(str, int): a break chip was double-clicked, in the painted
            paragraph or in the editor (block id, the tag's start offset in the raw text).
        editor_committed(str, str, int, int): the editor was committed with text selected
            (block id, stored text, selection start and end in the stored text).
    """

    BAR = 5
    PAD = 8
    BADGE = 20
    STRIPE_FRAMES = 24  # frames of one pass of the generating stripe's band
    _CACHE = 800

    break_double_clicked = Signal(str, int)
    editor_committed = Signal(str, str, int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: OrderedDict[tuple[Any, ...], _Row] = OrderedDict()
        self._heights: dict[tuple[Any, ...], int] = {}
        # block id -> the text and height the view last laid the row out with
        self._laid_out: dict[str, tuple[str, int]] = {}
        self._font: QFont | None = None  # the font rows were last measured in, and its key
        self._font_key = ""
        self._metrics: QFontMetrics | None = None
        self._layout_width = 600
        #: the frame of the generating stripe's animation (advanced by the view's timer)
        self.stripe_phase = 0
        self._editor: ParagraphEditor | None = None
        self._editor_index: QPersistentModelIndex | None = None  # the row being edited
        # A change of the editor's height waits here to be announced (the timer dies with
        # the delegate, so a late announcement never reaches a deleted view).
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._announce_fit_height)
        #: the alias of a voice id (set by the window; tooltips and the editor's menu)
        self.voice_alias: Callable[[str], str] = str
        #: whether the project's model is Eleven v3 (which may ignore break tags)
        self.model_is_v3: Callable[[], bool] = lambda: False
        #: called with the editor and its context menu, to add the window's actions
        self.editor_menu_hook: Callable[[ParagraphEditor, QMenu], None] | None = None

    # -- data --------------------------------------------------------------------------------

    @staticmethod
    def _block(index: QModelIndex | QPersistentModelIndex) -> Block | None:
        block_at = getattr(index.model(), "block_at", None)
        return block_at(index.row()) if block_at is not None else None

    def _content(self, index: QModelIndex | QPersistentModelIndex
                 ) -> tuple[str, tuple[VoiceSpan, ...]]:
        block = self._block(index)
        if block is not None:
            return block.text, block.spans
        return str(index.data(Qt.ItemDataRole.EditRole) or index.data() or ""), ()

    def warnings(self, index: QModelIndex | QPersistentModelIndex) -> tuple[str, ...]:
        """Return why the paragraph at ``index`` has a warning badge (empty: none)."""
        return break_warnings(self._content(index)[0], self.model_is_v3())

    def _right_margin(self, index: QModelIndex | QPersistentModelIndex) -> int:
        # Every row keeps the badges' column, badges or not: locking a paragraph (or a
        # warning coming and going) then never re-wraps its text, so locking 5,000 rows
        # repaints them without measuring any again.
        return self.PAD + self.BADGE

    def _row(self, text: str, spans: tuple[VoiceSpan, ...], width: int, font: QFont,
             tags: tuple[bool, bool] = (False, False)) -> _Row:
        """Lay out a paragraph; ``tags`` is (dark, v3): how its audio tags are coloured."""
        tagged = tag_ranges(text)
        colours = (tags[0], voice_colours_generation()) if spans else None
        key = (text, spans, width, font.key(), tags if tagged else None, colours)
        row = self._rows.get(key)
        if row is not None:
            self._rows.move_to_end(key)
            return row
        display = paragraph_display(text)
        layout = QTextLayout(display.text, font)
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(option)
        formats = []
        if display.chips:
            chip_font = QFont(font)
            chip_font.setPointSizeF(font.pointSizeF() * 0.85)
            chip_format = QTextCharFormat()
            chip_format.setFont(chip_font)
            for chip in display.chips:
                fr = QTextLayout.FormatRange()
                fr.start, fr.length, fr.format = chip.start, chip.end - chip.start, chip_format
                formats.append(fr)
        for span in spans:
            fr = QTextLayout.FormatRange()
            fr.start = display.shown(span.start)
            fr.length = display.shown(span.end) - fr.start
            fmt = QTextCharFormat()
            fmt.setBackground(voice_colour(span.voice_id, tags[0]))
            fmt.setForeground(voice_ink(tags[0]))
            fr.format = fmt
            formats.append(fr)
        if tagged:  # [whispers]: in the editor's colours (after the spans: drawn over them)
            tag_fmt = row_tag_format(*tags)
            for a, b in tagged:
                fr = QTextLayout.FormatRange()
                fr.start = display.shown(a)
                fr.length = display.shown(b) - fr.start
                fr.format = tag_fmt
                formats.append(fr)
        if formats:
            layout.setFormats(formats)
        y = lay_out_lines(layout, width)
        chip_rects = [(r.adjusted(0, 1, 0, -1), chip) for chip in display.chips
                      for r in _range_rects(layout, chip.start, chip.end)]
        icon_rects = [r.adjusted(0, 1, 0, -1) for chip in display.chips
                      for r in _range_rects(layout, chip.start, chip.start + len(CHIP_ICON))[:1]]
        span_rects = [(r, span) for span in spans
                      for r in _range_rects(layout, display.shown(span.start),
                                            display.shown(span.end))]
        row = _Row(layout, int(y + 0.999), display, chip_rects, icon_rects, span_rects)
        self._rows[key] = row
        if len(self._rows) > self._CACHE:
            self._rows.popitem(last=False)
        return row

    def row_for(self, index: QModelIndex, option: QStyleOptionViewItem) -> _Row:
        """Return the layout :meth:`paint` draws the (unselected) row at ``index`` with."""
        text, spans = self._content(index)
        rect: QRect = option.rect  # type: ignore[attr-defined]
        font: QFont = option.font  # type: ignore[attr-defined]
        palette: QPalette = option.palette  # type: ignore[attr-defined]
        return self._row(text, spans, self._text_rect(rect, index).width(), font,
                         (_is_dark(palette), self.model_is_v3()))

    def stripe_rect(self, rect: QRect) -> QRect:
        """Return where the status stripe of the row at ``rect`` is painted."""
        return QRect(rect.left() + 2, rect.top() + 3, self.BAR, rect.height() - 6)

    def _text_rect(self, rect: QRect, index: QModelIndex | QPersistentModelIndex) -> QRect:
        return rect.adjusted(self.BAR + self.PAD + 2, self.PAD // 2, -self._right_margin(index),
                             -self.PAD // 2)

    # -- painting ------------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        rect, palette, selected = _paint_item_background(painter, option)
        painter.setClipRect(rect)
        if index.data(SPEAKING_ROLE):  # the paragraph being spoken: tinted, or framed if selected
            if selected:
                pen = painter.pen()
                pen.setColor(_SPOKEN_BG)
                pen.setWidth(3)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(rect.adjusted(1, 1, -2, -2))
            else:
                painter.fillRect(rect, speaking_row_colour(palette))
        status = index.data(STATUS_ROLE)
        stripe = self.stripe_rect(rect)
        colour = status_colour(status, palette)
        painter.fillRect(stripe, colour)
        if status == GENERATING:  # a lighter band running down the stripe, frame by frame
            band = max(6, stripe.height() // 3)
            travel = stripe.height() + band
            y = stripe.top() - band + travel * self.stripe_phase // self.STRIPE_FRAMES
            painter.save()
            painter.setClipRect(stripe)
            painter.fillRect(QRect(stripe.left(), y, stripe.width(), band), colour.lighter(160))
            painter.restore()
        voice = index.data(VOICE_ROLE)
        if voice:  # read by another voice than the book's: its colour beside the status
            painter.fillRect(QRect(rect.left() + 3 + self.BAR, rect.top() + 3, 4,
                                   rect.height() - 6), voice_colour(voice, _is_dark(palette)))
        ink = palette.highlightedText().color() if selected else palette.text().color()
        badge_y = rect.top() + 5
        if index.data(LOCKED_ROLE):
            _draw_padlock(painter, rect.right() - 18, badge_y, ink)
            badge_y += self.BADGE
        text, spans = self._content(index)
        if break_warnings(text, self.model_is_v3()):
            _draw_warning(painter, rect.right() - 18, badge_y)
        text_rect = self._text_rect(rect, index)
        spoken = index.data(SPOKEN_ROLE)
        if not spans and spoken is None and "<break" not in text and not tag_ranges(text):
            # Most paragraphs: plain wrapped text, drawn without a layout of their own.
            painter.setPen(ink)
            painter.drawText(text_rect, int(Qt.TextFlag.TextWordWrap), text)
            painter.restore()
            return
        font: QFont = option.font  # type: ignore[attr-defined]
        dark = _is_dark(palette) != selected
        # Voice spans take the theme's colours (the selection does not change them).
        row = self._row(text, spans, text_rect.width(), font,
                        (_is_dark(palette) if spans else dark, self.model_is_v3()))
        origin = QPointF(text_rect.topLeft())
        if row.chip_rects:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(QColor(255, 255, 255, 150) if dark else QColor(40, 70, 130, 150))
            painter.setBrush(QColor(255, 255, 255, 45) if dark else QColor(40, 70, 130, 38))
            for r, _chip in row.chip_rects:
                painter.drawRoundedRect(r.translated(origin).adjusted(0.5, 0.5, -0.5, -0.5),
                                        5, 5)
        selections = []
        if spoken is not None:  # the paragraph being spoken: its current word highlighted
            to_raw = speakable_to_raw(text)
            a, b = spoken
            if 0 <= a < b <= len(to_raw):
                fr = QTextLayout.FormatRange()
                fr.start = row.display.shown(to_raw[a])
                fr.length = row.display.shown(to_raw[b - 1] + 1) - fr.start
                fmt = QTextCharFormat()
                fmt.setBackground(_SPOKEN_BG)
                fmt.setForeground(QColor(0, 0, 0))
                fr.format = fmt
                selections.append(fr)
        painter.setPen(ink)
        row.layout.draw(painter, origin, selections)
        for r in row.icon_rects:  # the pause icon: two bars at the start of each chip
            box = r.translated(origin)
            h = min(8.0, box.height() - 6)
            top = box.center().y() - h / 2
            left = box.center().x() - 3
            painter.fillRect(QRectF(left, top, 2, h), ink)
            painter.fillRect(QRectF(left + 4, top, 2, h), ink)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        # Called for every row of a chapter at each layout: kept to a few dictionary look-ups.
        width = max(200, option.rect.width() or 600)  # type: ignore[attr-defined]
        font: QFont = option.font  # type: ignore[attr-defined]
        if self._font is None or font != self._font:
            self._font, self._font_key = QFont(font), font.key()
            self._metrics = QFontMetrics(font)
        self._layout_width = width
        block = self._block(index)
        text = block.text if block is not None else self._content(index)[0]
        editor = self._editor_of(index) if self._editor is not None else None
        # The row being edited is as tall as all of its editor's text.
        height = (editor.fit_height() if editor is not None
                  else self._height(text, width))
        if block is not None:
            self._laid_out[block.id] = (text if editor is None else "", height)
        return QSize(width, height)

    def _height(self, text: str, width: int) -> int:
        """Return the height of a closed row showing ``text`` at ``width`` (cached).

        The lock and the warning badge never change it (see :meth:`_right_margin`).
        """
        key = (text, width, self._font_key)
        height = self._heights.get(key)
        if height is None:
            text_width = width - self.BAR - self.PAD - 2 - self.PAD - self.BADGE
            # Measured with the shown text in the paragraph's font: chips are drawn smaller,
            # so their rows never need more room than this.
            assert self._metrics is not None
            height = self._metrics.boundingRect(QRect(0, 0, text_width, 100_000),
                                                int(Qt.TextFlag.TextWordWrap),
                                                paragraph_display(text).text).height() + self.PAD
            if len(self._heights) > 50_000:
                self._heights.clear()
            self._heights[key] = height
        return height

    def heights_unchanged(self, model: QAbstractItemModel | None, first: int, last: int
                          ) -> bool:
        """Return whether rows ``first``..``last`` still have the height they were laid out
        with (then a change of their data needs a repaint, not a new layout)."""
        block_at = getattr(model, "block_at", None)
        if block_at is None or self._font is None:
            return False
        for row in range(first, last + 1):
            block = block_at(row)
            if block is None:
                return False
            laid_out = self._laid_out.get(block.id)
            if laid_out is None:
                return False
            text, laid_out_height = laid_out
            if self._editor is None and text == block.text:
                continue  # same text, so same height: only the text decides it
            index = model.index(row, 0)  # type: ignore[union-attr]
            editor = self._editor_of(index) if self._editor is not None else None
            height = (editor.fit_height() if editor is not None
                      else self._height(block.text, self._layout_width))
            if height != laid_out_height:
                return False
        return True

    def rows_to_measure(self, model: QAbstractItemModel | None, first: int, last: int
                        ) -> list[int] | None:
        """Return the rows of ``first``..``last`` whose text changed since they were laid
        out (None: a row the view cannot judge, such as the one being edited)."""
        block_at = getattr(model, "block_at", None)
        if block_at is None or self._font is None or self._editor is not None:
            return None
        rows = []
        for row in range(first, last + 1):
            block = block_at(row)
            laid_out = self._laid_out.get(block.id) if block is not None else None
            if laid_out is None:
                return None
            if laid_out[0] != block.text:
                rows.append(row)
        return rows

    def measure_rows(self, model: QAbstractItemModel | None, rows: list[int]) -> None:
        """Measure the closed rows ``rows`` now, so the next layout finds their heights."""
        block_at = getattr(model, "block_at", None)
        if block_at is None or self._font is None:
            return
        for row in rows:
            block = block_at(row)
            if block is not None:
                self._height(block.text, self._layout_width)

    # -- hit testing ---------------------------------------------------------------------------

    def chip_rects(self, view: QAbstractItemView, index: QModelIndex) -> list[QRect]:
        """Return where the break chips of the row at ``index`` are, in viewport coordinates."""
        text, spans = self._content(index)
        if "<break" not in text:
            return []
        rect = view.visualRect(index)
        text_rect = self._text_rect(rect, index)
        row = self._row(text, spans, text_rect.width(), view.font())
        return [r.translated(QPointF(text_rect.topLeft())).toAlignedRect()
                for r, _chip in row.chip_rects]

    def _hit(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex,
             pos: QPoint) -> tuple[str, Any] | None:
        """Return what is under ``pos``: ("badge", reasons), ("chip", Chip), ("span", span)."""
        rect: QRect = option.rect  # type: ignore[attr-defined]
        text, spans = self._content(index)
        reasons = break_warnings(text, self.model_is_v3())
        if not spans and "<break" not in text:
            return None
        if reasons:
            top = rect.top() + 5 + (self.BADGE if index.data(LOCKED_ROLE) else 0)
            if QRect(rect.right() - 20, top - 2, 20, 18).contains(pos):
                return ("badge", reasons)
        text_rect = self._text_rect(rect, index)
        font: QFont = option.font  # type: ignore[attr-defined]
        row = self._row(text, spans, text_rect.width(), font)
        local = QPointF(pos - text_rect.topLeft())
        for r, chip in row.chip_rects:
            if r.adjusted(-2, -2, 2, 2).contains(local):
                return ("chip", chip)
        for r, span in row.span_rects:
            if r.contains(local):
                return ("span", span)
        return None

    def editorEvent(self, event: QEvent, model: QAbstractItemModel,
                    option: QStyleOptionViewItem, index: QModelIndex) -> bool:
        if event.type() == QEvent.Type.MouseButtonDblClick:
            assert isinstance(event, QMouseEvent)
            hit = self._hit(option, index, event.position().toPoint())
            if hit is not None and hit[0] == "chip":
                self.break_double_clicked.emit(str(index.data(ID_ROLE)), hit[1].raw_start)
                return True  # the chip's own editor, not the paragraph's
        return super().editorEvent(event, model, option, index)

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView,
                  option: QStyleOptionViewItem, index: QModelIndex) -> bool:
        if event.type() == QEvent.Type.ToolTip and index.isValid():
            hit = self._hit(option, index, event.pos())
            tip = None
            if hit is not None and hit[0] == "badge":
                tip = "\n".join(hit[1])
            elif hit is not None and hit[0] == "chip":
                tip = (f"Pause of {seconds_label(hit[1].seconds)} s. Double-click to change "
                       "it; Edit ▸ Edit Break… at the cursor.")
            elif hit is not None and hit[0] == "span":
                tip = f"Read by {self.voice_alias(hit[1].voice_id)}"
            else:
                reasons = self.warnings(index)
                if reasons:
                    tip = f"{index.data(Qt.ItemDataRole.ToolTipRole)}\n⚠ " + "\n⚠ ".join(reasons)
            if tip is not None:
                QToolTip.showText(event.globalPos(), tip, view)
                return True
        return super().helpEvent(event, view, option, index)

    # -- the in-place editor -----------------------------------------------------------------

    def active_editor(self) -> ParagraphEditor | None:
        """Return the open paragraph editor, if a paragraph is being edited."""
        editor = self._editor
        if editor is None or not shiboken6.isValid(editor) or not editor.isVisible():
            return None
        return editor

    def _editor_of(self, index: QModelIndex | QPersistentModelIndex) -> ParagraphEditor | None:
        """Return the editor open on ``index`` once it has been placed in its row."""
        editor, edited = self._editor, self._editor_index
        if (editor is None or edited is None or not edited.isValid()
                or edited.row() != index.row() or edited.model() is not index.model()
                or not shiboken6.isValid(editor) or not editor.placed):
            return None
        return editor

    def _on_editor_fit_height_changed(self, editor: ParagraphEditor) -> None:
        if editor is self._editor and not self._fit_timer.isActive():
            # Announced once the burst is over: each announcement lays every row of the
            # chapter out again (a tenth of a second or more for 5,000 paragraphs), and an
            # editor that opens reports its height several times.
            self._fit_timer.start()

    def _announce_fit_height(self) -> None:
        editor, edited = self._editor, self._editor_index
        if (editor is None or edited is None or not edited.isValid()
                or not shiboken6.isValid(editor)):
            return
        # The view lays its rows out again and moves the editor: the row follows the
        # editor's text as lines are typed or deleted, or the width rewraps it.
        self.sizeHintChanged.emit(QModelIndex(edited))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Paragraphs are single blocks of text, so in the editor Return and Tab never type:
        # Return (Enter) stores the edit and moves to the next paragraph (Shift: the one
        # before), like a spreadsheet; Tab stores it and edits the next paragraph (Shift+Tab:
        # the one before). Escape cancels the edit (Qt's own handling). Ctrl+Return and
        # Ctrl+Shift+Return stay the window's New Paragraph and Split shortcuts.
        if isinstance(watched, ParagraphEditor) and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            shift = mods == Qt.KeyboardModifier.ShiftModifier
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
                    mods == Qt.KeyboardModifier.NoModifier or shift):
                self._commit_and_move(watched, -1 if shift else 1)
                return True
            if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and (
                    mods == Qt.KeyboardModifier.NoModifier or shift):
                back = key == Qt.Key.Key_Backtab or shift
                self.commitData.emit(watched)
                Hint = QAbstractItemDelegate.EndEditHint
                self.closeEditor.emit(watched, Hint.EditPreviousItem if back else Hint.EditNextItem)
                return True
        return super().eventFilter(watched, event)

    def _commit_and_move(self, editor: ParagraphEditor, step: int) -> None:
        """Store what ``editor`` holds, close it and make the next (``step``) row current."""
        edited = self._editor_index
        row = edited.row() if edited is not None and edited.isValid() else -1
        model = edited.model() if edited is not None else None
        viewport = editor.parentWidget()
        view = viewport.parentWidget() if viewport is not None else None
        self.commitData.emit(editor)
        self.closeEditor.emit(editor, QAbstractItemDelegate.EndEditHint.NoHint)
        if isinstance(view, QAbstractItemView) and model is not None and row >= 0:
            target = model.index(min(max(row + step, 0), model.rowCount() - 1), 0)
            view.setCurrentIndex(target)
            view.setFocus()

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex) -> QWidget:
        editor = ParagraphEditor(parent)
        editor.block_id = str(index.data(ID_ROLE))
        editor.set_v3(self.model_is_v3())
        editor.menu_hook = self.editor_menu_hook
        editor.break_activated.connect(
            lambda start, e=editor: self.break_double_clicked.emit(e.block_id, start))
        editor.fit_height_changed.connect(
            lambda _height, e=editor: self._on_editor_fit_height_changed(e))
        self._editor = editor
        self._editor_index = QPersistentModelIndex(index)
        return editor

    def destroyEditor(self, editor: QWidget, index: QModelIndex) -> None:
        if editor is self._editor:
            self._editor = None
            edited, self._editor_index = self._editor_index, None
            if edited is not None and edited.isValid():
                self.sizeHintChanged.emit(QModelIndex(edited))  # the row shrinks back
        super().destroyEditor(editor, index)

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        assert isinstance(editor, QPlainTextEdit)
        text = index.data(Qt.ItemDataRole.EditRole) or ""
        if isinstance(editor, ParagraphEditor) and (
                editor.document().isModified() or editor.toPlainText() == text):
            return  # a repaint of the row must not throw away what is typed, or the cursor
        editor.setPlainText(text)
        if isinstance(editor, ParagraphEditor):
            block = self._block(index)
            editor.set_spans(block.spans if block is not None else ())

    def setModelData(self, editor: QWidget, model: QAbstractItemModel,
                     index: QModelIndex) -> None:
        assert isinstance(editor, QPlainTextEdit)
        text = editor.toPlainText()
        cursor = editor.textCursor()  # before the commit: its repaint may reset the editor
        selection = (cursor.selectionStart(), cursor.selectionEnd())
        model.setData(index, text, Qt.ItemDataRole.EditRole)
        if selection[0] != selection[1] and isinstance(editor, ParagraphEditor):
            stored = self._content(index)[0]
            start, end = (normalized_offset(text, offset) for offset in selection)
            self.editor_committed.emit(editor.block_id, stored, start, end)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem,
                             index: QModelIndex) -> None:
        # Exactly the row: the row's size hint grows to the editor's text (see sizeHint), so
        # the editor shows all of it and never covers the next paragraph.
        rect: QRect = option.rect  # type: ignore[attr-defined]
        editor.setGeometry(rect.adjusted(self.BAR + 4, 0, 0, 0))
        if isinstance(editor, ParagraphEditor) and not editor.placed:
            editor.placed = True  # its width is the row's now: its fit height can be trusted
            self._on_editor_fit_height_changed(editor)


# ---------------------------------------------------------------------------------------------
# The editor


class _BreakHighlighter(QSyntaxHighlighter):
    """Show break tags as compact chips (their duration only) and voice spans in colour."""

    def __init__(self, document: QTextDocument, dark: bool) -> None:
        super().__init__(document)
        self.dark = dark
        self.v3 = False  # the project's model is Eleven v3: audio tags are performed
        self.spans: Sequence[VoiceSpan] = ()

    def highlightBlock(self, text: str) -> None:
        base = self.document().defaultFont()
        offset = self.currentBlock().position()
        highlight_audio_tags(self, text, self.dark, self.v3)  # [whispers]: v3 audio tags
        for span in self.spans:
            a, b = max(span.start - offset, 0), min(span.end - offset, len(text))
            if a < b:
                fmt = QTextCharFormat()
                fmt.setBackground(voice_colour(span.voice_id, self.dark))
                fmt.setForeground(voice_ink(self.dark))
                self.setFormat(a, b - a, fmt)
        for match in BREAK_RE.finditer(text):
            seconds = float(match.group(1))
            ok = BREAK_MIN_S <= seconds <= BREAK_MAX_S
            if not ok:
                background = _WARNING.lighter(130)
            elif self.dark:
                background = QColor(80, 100, 140)
            else:
                background = QColor(215, 225, 245)
            hidden = QTextCharFormat()  # the tag's syntax: squeezed to nothing, invisible
            hidden.setBackground(background)
            hidden.setForeground(QColor(0, 0, 0, 0))
            tiny = QFont(base)
            tiny.setPixelSize(1)
            hidden.setFont(tiny)
            hidden.setFontLetterSpacingType(QFont.SpacingType.AbsoluteSpacing)
            hidden.setFontLetterSpacing(-0.5)
            value = QTextCharFormat()  # what is left: "1.5s", like a chip
            value.setBackground(background)
            value.setForeground(QColor(235, 240, 255) if self.dark and ok else QColor(30, 45, 80))
            small = QFont(base)
            small.setPointSizeF(base.pointSizeF() * 0.85)
            small.setBold(True)
            value.setFont(small)
            a, b = match.span(1)
            self.setFormat(match.start(), a - match.start(), hidden)
            self.setFormat(a, b + 1 - a, value)  # the number and its "s"
            self.setFormat(b + 1, match.end() - b - 1, hidden)


class ParagraphEditor(QPlainTextEdit):
    """Edit a paragraph's raw text; break tags show as chips that move and delete as one.

    The text is the stored text itself (tags included), so a cursor position is an offset
    into the paragraph's text (before white space is collapsed on commit).

    Signals:
        break_activated(int): a break chip was double-clicked (the tag's start offset).
        fit_height_changed(int): the height that shows all of the text without scrolling
            changed (typing added or removed a line, or the width changed); the new height.
    """

    break_activated = Signal(int)
    fit_height_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paragraphEditor")
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        # The row grows to show all of the text (BlockDelegate.sizeHint), so the editor never
        # scrolls; a scroll bar showing for a moment would rewrap the text and jitter.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.block_id = ""
        self.menu_hook: Callable[[ParagraphEditor, QMenu], None] | None = None
        self._highlighter = _BreakHighlighter(self.document(), _is_dark(self.palette()))
        self.tag_completer = TagCompleter(self)  # audio tags after "[" (on v3 only)
        self._tags_rev = -1
        self._tags: list[tuple[int, int]] = []
        self._span_text: str | None = None
        self._last_pos = 0
        self._snapping = False
        self.cursorPositionChanged.connect(self._snap_cursor)
        self.textChanged.connect(self._on_text_changed)
        self._fit_height = -1
        #: whether the delegate has put the editor in its row (set by updateEditorGeometry)
        self.placed = False
        self.document().documentLayout().documentSizeChanged.connect(self._check_fit_height)
        # The editor shows all of its text, so a long paragraph is taller than the list: the
        # list scrolls to keep the cursor in view (after the row has grown to a new line).
        self._reveal_timer = QTimer(self)
        self._reveal_timer.setSingleShot(True)
        self._reveal_timer.setInterval(0)
        self._reveal_timer.timeout.connect(self.reveal_cursor)
        self.cursorPositionChanged.connect(self._schedule_reveal)
        self.fit_height_changed.connect(self._schedule_reveal)

    # -- size ----------------------------------------------------------------------------------

    def fit_height(self) -> int:
        """Return the height that shows all of the text at the editor's width, unscrolled."""
        doc = self.document()
        lines = 0.0
        block = doc.firstBlock()
        while block.isValid():
            lines += self.blockBoundingRect(block).height()
            block = block.next()
        margins = self.contentsMargins()
        viewport = self.viewportMargins()
        chrome = (margins.top() + margins.bottom() + viewport.top() + viewport.bottom()
                  + 2 * doc.documentMargin())
        return int(lines + chrome + 0.999)

    def _check_fit_height(self) -> None:
        height = self.fit_height()
        if height != self._fit_height:
            self._fit_height = height
            self.fit_height_changed.emit(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._check_fit_height()  # a new width wraps the text anew

    def _schedule_reveal(self, *_args: object) -> None:
        self._reveal_timer.start()

    def reveal_cursor(self) -> None:
        """Scroll the list holding the editor so that the text cursor is in view."""
        viewport = self.parentWidget()
        area = viewport.parentWidget() if viewport is not None else None
        if not isinstance(area, QAbstractScrollArea) or not self.isVisible():
            return
        layout = getattr(area, "executeDelayedItemsLayout", None)
        if layout is not None:
            layout()  # the row grown to a new line first: the editor in its place
        rect = self.cursorRect()
        top = self.viewport().mapTo(viewport, rect.topLeft()).y()
        bottom = top + rect.height()
        margin = self.fontMetrics().lineSpacing() // 2
        bar = area.verticalScrollBar()
        if bottom + margin > viewport.height():
            bar.setValue(bar.value() + bottom + margin - viewport.height())
        elif top - margin < 0:
            bar.setValue(bar.value() + top - margin)

    # -- tags ----------------------------------------------------------------------------------

    def tags(self) -> list[tuple[int, int]]:
        """Return the (start, end) of every break tag in the text."""
        revision = self.document().revision()
        if revision != self._tags_rev:
            self._tags = [mt.span() for mt in BREAK_RE.finditer(self.toPlainText())]
            self._tags_rev = revision
        return self._tags

    def tag_at(self, pos: int, touching: bool = False) -> tuple[int, int] | None:
        """Return the tag around ``pos`` (strictly inside, or also at its ends if touching)."""
        for start, end in self.tags():
            if start < pos < end or (touching and start <= pos <= end):
                return start, end
        return None

    def set_spans(self, spans: Sequence[VoiceSpan]) -> None:
        """Colour ``spans`` while the text is still the stored one."""
        self._highlighter.spans = tuple(spans)
        self._span_text = self.toPlainText() if spans else None
        self._highlighter.rehighlight()
        self.document().setModified(False)

    def _on_text_changed(self) -> None:
        # Spans index the stored text: once it is edited they would be off, so stop showing
        # them until the edit is committed and the editor reopened.
        if self._span_text is not None and self.toPlainText() != self._span_text:
            self._span_text = None
            self._highlighter.spans = ()
            self._highlighter.rehighlight()

    def _snap_cursor(self) -> None:
        if self._snapping:
            return
        cursor = self.textCursor()
        pos = cursor.position()
        tag = self.tag_at(pos)
        if tag is not None:
            target = tag[1] if pos >= self._last_pos else tag[0]
            mode = (QTextCursor.MoveMode.KeepAnchor if cursor.hasSelection()
                    else QTextCursor.MoveMode.MoveAnchor)
            anchor = cursor.anchor()
            if cursor.hasSelection():
                cursor.setPosition(anchor)
            cursor.setPosition(target, mode)
            self._snapping = True
            try:
                self.setTextCursor(cursor)
            finally:
                self._snapping = False
            pos = target
        self._last_pos = pos

    # -- events --------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            dark = _is_dark(self.palette())
            if dark != self._highlighter.dark:  # a theme switch: tags and chips recoloured
                self._highlighter.dark = dark
                self._highlighter.rehighlight()

    def set_v3(self, v3: bool) -> None:
        """Say whether the project's model is Eleven v3 (tag colours; completion only on v3)."""
        self._highlighter.v3 = v3
        self.tag_completer.enabled = v3
        self._highlighter.rehighlight()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.tag_completer.key_pressed(event):
            return  # Return/Tab/Escape while the tag list is open: the list's
        cursor = self.textCursor()
        if not cursor.hasSelection() and event.key() in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete):
            pos = cursor.position()
            back = event.key() == Qt.Key.Key_Backspace
            for start, end in self.tags():
                if (back and pos == end) or (not back and pos == start):
                    cursor.setPosition(start)
                    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
                    cursor.removeSelectedText()
                    self.setTextCursor(cursor)
                    return
        super().keyPressEvent(event)
        self.tag_completer.text_typed(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        pos = self.cursorForPosition(event.position().toPoint()).position()
        tag = self.tag_at(pos, touching=True)
        if tag is not None:
            self.break_activated.emit(tag[0])
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def context_menu(self, pos: QPoint) -> QMenu:
        """Return the editor's context menu: the standard one plus the window's actions."""
        menu = self.createStandardContextMenu(pos)
        if self.menu_hook is not None:
            self.menu_hook(self, menu)
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.context_menu(event.pos())
        menu.exec(event.globalPos())
        menu.deleteLater()

