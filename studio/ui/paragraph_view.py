"""The chapter's paragraph list view: fast layouts that keep the scroll position.

:class:`QListView` lays every row out again on any change (a row inserted or removed, even a
``dataChanged`` of one row), and in batched mode it starts from the first row, so a long
chapter jumped back to its top on every edit and took seconds to measure again. This view
measures a chapter in batches once, when it opens (so the first screen paints at once); after
that the row heights are cached by the delegate, so later layouts run in one pass and keep the
scroll position, and a ``dataChanged`` that cannot change a row's height only repaints.

It also animates the stripe of the paragraphs being generated, repainting only their stripes.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from studio.ui.delegates import BlockDelegate
from studio.ui.models import GENERATING, STATUS_ROLE

_Index = QModelIndex | QPersistentModelIndex

#: Frames per second of the generating stripe's animation.
STRIPE_FPS = 12
#: Rows whose new text is measured at once; more (a Replace All) are measured a batch per
#: pass of the event loop before the one layout that uses them.
MEASURE_NOW = 200


class ParagraphListView(QListView):
    """The paragraph list, with page and end keys that do not wait for the batched layout.

    The view measures a long chapter's rows in batches after it opens (so it paints at once);
    Qt's own PageUp/PageDown/End walk item geometry that is not there yet, which froze the
    window for most of a minute on a 5,000-paragraph chapter. Moving by rows needs none.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._measured_width = -1  # the width every row was measured at, once all were
        self.stripe_timer = QTimer(self)
        self.stripe_timer.setInterval(1000 // STRIPE_FPS)
        self.stripe_timer.timeout.connect(self._advance_stripes)
        # Retries of a scroll to a row not measured yet; owned by the view, so a retry
        # never reaches a view that is gone (a bare singleShot outlived its window).
        self._pending_scroll: tuple[QPersistentModelIndex, QAbstractItemView.ScrollHint,
                                    int] | None = None
        self._scroll_timer = QTimer(self)
        self._scroll_timer.setSingleShot(True)
        self._scroll_timer.setInterval(50)
        self._scroll_timer.timeout.connect(self._retry_scroll)
        # Rows with new text still to be measured before the layout that follows them.
        self._to_measure: list[int] = []
        self._measure_timer = QTimer(self)
        self._measure_timer.setInterval(0)
        self._measure_timer.timeout.connect(self._measure_batch)

    # -- layout --------------------------------------------------------------------------------

    def doItemsLayout(self) -> None:
        batched = self.layoutMode() == QListView.LayoutMode.Batched
        if batched and self._measured_width == self.viewport().width():
            # Every row was measured at this width: the heights come from the delegate's
            # cache, so one pass is quick, and it keeps the scroll position (a batched layout
            # starts again from the top, and the scroll bar with it).
            self.setLayoutMode(QListView.LayoutMode.SinglePass)
            try:
                super().doItemsLayout()
            finally:
                self.setLayoutMode(QListView.LayoutMode.Batched)
            return
        self._measured_width = -1
        super().doItemsLayout()

    def updateGeometries(self) -> None:
        super().updateGeometries()
        model = self.model()
        rows = model.rowCount() if model is not None else 0
        if self._measured_width < 0 and rows and not self.visualRect(
                model.index(rows - 1, 0)).isEmpty():
            self._measured_width = self.viewport().width()

    def reset(self) -> None:
        self._measured_width = -1  # another chapter: measure it in batches
        self._to_measure = []
        self._measure_timer.stop()
        super().reset()
        self._check_stripe_timer()

    def dataChanged(self, topLeft: _Index, bottomRight: _Index,
                    roles: Sequence[int] = ()) -> None:
        delegate = self.itemDelegate()
        if (isinstance(delegate, BlockDelegate) and topLeft.isValid() and bottomRight.isValid()
                and self._measured_width >= 0
                and delegate.heights_unchanged(self.model(), topLeft.row(), bottomRight.row())):
            # Only what is painted changed: repaint, without QListView's layout of every row.
            QAbstractItemView.dataChanged(self, topLeft, bottomRight, list(roles))
        elif (isinstance(delegate, BlockDelegate) and topLeft.isValid()
              and bottomRight.isValid() and self._measured_width >= 0
              and (rows := delegate.rows_to_measure(self.model(), topLeft.row(),
                                                    bottomRight.row())) is not None
              and len(rows) + len(self._to_measure) > MEASURE_NOW):
            # Thousands of new texts (Replace All, or its undo): measuring them all before
            # the layout froze the window for a second. Repaint now, measure a batch per
            # pass of the event loop, then lay out once from the measured heights.
            QAbstractItemView.dataChanged(self, topLeft, bottomRight, list(roles))
            self._to_measure.extend(rows)
            self._measure_timer.start()
        else:
            super().dataChanged(topLeft, bottomRight, list(roles))
        self._check_stripe_timer()

    def _measure_batch(self) -> None:
        delegate = self.itemDelegate()
        if not isinstance(delegate, BlockDelegate):
            self._to_measure = []
        batch, self._to_measure = self._to_measure[:MEASURE_NOW], self._to_measure[MEASURE_NOW:]
        if isinstance(delegate, BlockDelegate):
            delegate.measure_rows(self.model(), batch)
        if not self._to_measure:
            self._measure_timer.stop()
            self.scheduleDelayedItemsLayout()  # one pass, every height from the cache

    def rowsInserted(self, parent: _Index, start: int, end: int) -> None:
        super().rowsInserted(parent, start, end)
        self._check_stripe_timer()

    # -- keys ------------------------------------------------------------------------------------

    def moveCursor(self, action: QAbstractItemView.CursorAction,
                   modifiers: Qt.KeyboardModifier) -> QModelIndex:
        model = self.model()
        rows = model.rowCount() if model is not None else 0
        Move = QAbstractItemView.CursorAction
        if rows == 0 or action not in (Move.MovePageUp, Move.MovePageDown, Move.MoveHome,
                                       Move.MoveEnd):
            return super().moveCursor(action, modifiers)
        current = max(self.currentIndex().row(), 0)
        if action == Move.MoveHome:
            row = 0
        elif action == Move.MoveEnd:
            row = rows - 1
        else:
            first = self.indexAt(self.viewport().rect().topLeft()).row()
            last = self.indexAt(self.viewport().rect().bottomLeft()).row()
            page = max(1, (last - first) if first >= 0 and last >= 0 else 5)
            step = page if action == Move.MovePageDown else -page
            row = min(max(current + step, 0), rows - 1)
        return model.index(row, 0)

    def scrollTo(self, index: QModelIndex | QPersistentModelIndex,
                 hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible
                 ) -> None:
        super().scrollTo(index, hint)
        if index.isValid() and self.visualRect(index).isEmpty():
            # Not measured yet (the batched layout is still on its way): try again shortly.
            self._pending_scroll = (QPersistentModelIndex(index), hint, 60)
            self._scroll_timer.start()

    def _retry_scroll(self) -> None:
        pending = self._pending_scroll
        if pending is None:
            return
        index, hint, tries = pending
        self._pending_scroll = None
        if not index.isValid():
            return
        if self.visualRect(index).isEmpty() and tries > 0:
            self._pending_scroll = (index, hint, tries - 1)
            self._scroll_timer.start()
            return
        super().scrollTo(index, hint)

    # -- the generating stripe -----------------------------------------------------------------

    def _check_stripe_timer(self) -> None:
        model = self.model()
        generating = bool(getattr(model, "is_generating", lambda: False)())
        if generating and not self.stripe_timer.isActive():
            self.stripe_timer.start()
        elif not generating and self.stripe_timer.isActive():
            self.stripe_timer.stop()

    def _advance_stripes(self) -> None:
        """Move the generating stripes one frame on, repainting only those stripes."""
        model = self.model()
        delegate = self.itemDelegate()
        if model is None or not isinstance(delegate, BlockDelegate):
            return
        if not getattr(model, "is_generating", lambda: False)():
            self.stripe_timer.stop()
            return
        delegate.stripe_phase = (delegate.stripe_phase + 1) % delegate.STRIPE_FRAMES
        area = self.viewport().rect()
        top = self.indexAt(area.topLeft())
        row = top.row() if top.isValid() else 0
        while row < model.rowCount():
            index = model.index(row, 0)
            rect = self.visualRect(index)
            if rect.isEmpty() or rect.top() > area.bottom():
                break
            if rect.bottom() >= area.top() and index.data(STATUS_ROLE) == GENERATING:
                self.viewport().update(delegate.stripe_rect(rect))
            row += 1
