"""Segment (or cue) regions on the waveform's detail view; drag an edge to retime.

Only the regions in view get a pyqtgraph item (from a small pool, reused as the view
scrolls), so an hour's 600 segments cost no more than the dozen on screen. Each region's
edges are bounded by its neighbours, so a drag can never make two overlap (the core clamps
too). The body of a region is not draggable: a drag there still selects time, and a click
still seeks.
"""

from __future__ import annotations

import bisect
from typing import NamedTuple

import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QColor

from studio.ui.waveform import WaveformView

MAX_SHOWN = 160  # more regions than this in view: too dense to drag, none are drawn
REFRESH_MS = 40


class RegionItem(NamedTuple):
    """A stretch to draw: its id, times and colour (``#rrggbb``)."""

    id: str
    start: float
    end: float
    colour: str


class RegionLayer(QObject):
    """Draw regions on a :class:`WaveformView` and report edge drags.

    Signals:
        retimed(str, float, float): a region's edges were dragged to (start, end).
    """

    retimed = Signal(str, float, float)

    def __init__(self, waveform: WaveformView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.waveform = waveform
        self.plot = waveform.detail.getPlotItem()
        self.items: list[RegionItem] = []
        self._starts: list[float] = []
        self._ends: list[float] = []
        self.selected: frozenset[str] = frozenset()
        self.duration = 0.0
        self._pool: list[pg.LinearRegionItem] = []
        self._shown: dict[int, str] = {}  # id(region item) -> item id
        self._drawn: dict[int, tuple[object, ...]] = {}  # id(region item) -> what it shows
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.plot.sigXRangeChanged.connect(lambda *_: self._timer.start())

    def set_items(self, items: list[RegionItem], duration: float | None = None) -> None:
        """Show these regions (sorted by time, not overlapping)."""
        self.items = list(items)
        self._starts = [i.start for i in self.items]
        self._ends = [i.end for i in self.items]
        if duration is not None:
            self.duration = duration
        self.refresh()

    def set_selected(self, ids: list[str] | frozenset[str]) -> None:
        """Draw these regions more strongly."""
        ids = frozenset(ids)
        if ids != self.selected:
            self.selected = ids
            self.refresh()

    def shown_ids(self) -> list[str]:
        """Return the ids of the regions drawn now (for tests)."""
        return [self._shown[id(r)] for r in self._pool if r.isVisible() and id(r) in self._shown]

    def region_for(self, item_id: str) -> pg.LinearRegionItem | None:
        """Return the drawn region of an item, if it is in view."""
        for region in self._pool:
            if region.isVisible() and self._shown.get(id(region)) == item_id:
                return region
        return None

    def refresh(self) -> None:
        """Draw the regions in view."""
        self._timer.stop()
        t0, t1 = self.waveform.visible_range()
        lo = bisect.bisect_right(self._ends, t0)
        hi = bisect.bisect_left(self._starts, t1)
        visible = range(lo, hi) if hi - lo <= MAX_SHOWN else range(0)
        while len(self._pool) < len(visible):
            self._pool.append(self._new_region())
        self._shown.clear()
        for region, i in zip(self._pool, visible, strict=False):
            item = self.items[i]
            low = self.items[i - 1].end if i > 0 else 0.0
            high = (self.items[i + 1].start if i + 1 < len(self.items)
                    else (self.duration or item.end))
            strong = item.id in self.selected
            state = (item, low, high, strong)
            self._shown[id(region)] = item.id
            if self._drawn.get(id(region)) == state and region.isVisible():
                continue  # unchanged: restyling it would repaint the plot for nothing
            self._drawn[id(region)] = state
            colour = QColor(item.colour)
            fill = QColor(colour)
            fill.setAlpha(90 if strong else 38)
            hover = QColor(colour)
            hover.setAlpha(110)
            region.blockSignals(True)
            for line in region.lines:
                line.blockSignals(True)
            region.setBounds((low, max(high, item.end)))
            region.setRegion((item.start, item.end))
            region.setBrush(pg.mkBrush(fill))
            region.setHoverBrush(pg.mkBrush(hover))
            for line in region.lines:
                line.setPen(pg.mkPen(colour, width=3 if strong else 1.5))
                line.setHoverPen(pg.mkPen(colour, width=4))
                line.blockSignals(False)
            region.blockSignals(False)
            region.show()
        for region in self._pool[len(visible):]:
            if region.isVisible():
                region.hide()

    def _new_region(self) -> pg.LinearRegionItem:
        region = pg.LinearRegionItem(movable=True)
        region.movable = False  # the edges move, the body does not (a drag there selects)
        region.setAcceptHoverEvents(False)
        region.setZValue(5)
        self.plot.addItem(region, ignoreBounds=True)
        region.sigRegionChangeFinished.connect(self._on_region_finished)
        return region

    def _on_region_finished(self, region: pg.LinearRegionItem) -> None:
        item_id = self._shown.get(id(region))
        if item_id is None:
            return
        start, end = (float(v) for v in region.getRegion())
        index = next((i for i, it in enumerate(self.items) if it.id == item_id), None)
        if index is None:
            return
        item = self.items[index]
        if abs(start - item.start) > 1e-6 or abs(end - item.end) > 1e-6:
            self.retimed.emit(item_id, start, end)
