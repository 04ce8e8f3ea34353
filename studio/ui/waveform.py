"""WaveformView: a chapter overview with a range selector over a detail view.

The overview draws the coarse envelope of the whole chapter; its LinearRegionItem picks
the detail view's visible range (pyqtgraph's crosshair example). The detail view draws
``window(fine, visible range, ~2 × its width)``, recomputed shortly after the range
changes. Every curve is a min/max envelope; no samples are ever drawn.

Signals: ``seek_requested(t)`` on a click in the detail view; ``selection_changed(t0, t1)``
when a left-drag in the detail view (or moving the selection's edges) sets a selection.
Ctrl+drag pans the detail view; the wheel zooms it in time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.core.waveform import ChapterEnvelope, LazyEnvelope, empty_envelope, window

WAVE_PEN = pg.mkPen(70, 130, 200)
WAVE_BRUSH = pg.mkBrush(70, 130, 200, 200)
BOUNDARY_PEN = pg.mkPen(150, 150, 150, 160)
# Break tags: dashed amber, told apart from paragraph boundaries in light and dark themes.
BREAK_PEN = pg.mkPen(230, 150, 20, 220, width=1.5, style=Qt.PenStyle.DashLine)
PLAYHEAD_PEN = pg.mkPen(220, 60, 40, width=2)
OVERVIEW_POINTS = 4096
OVERVIEW_FINE_BELOW = 600  # coarse bins (~30 min): shorter chapters' overview uses fine ones
OVERVIEW_MARKS = 200  # most paragraph boundaries drawn in the overview
INITIAL_SPAN = 60.0  # seconds shown in the detail view when a chapter opens
REFRESH_MS = 40


class _Envelope:
    """A filled min/max curve pair plus one item drawing vertical boundary lines."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.lower = pg.PlotCurveItem(pen=WAVE_PEN, skipFiniteCheck=True)
        self.upper = pg.PlotCurveItem(pen=WAVE_PEN, skipFiniteCheck=True)
        self.fill = pg.FillBetweenItem(self.lower, self.upper, brush=WAVE_BRUSH)
        self.marks = pg.PlotCurveItem(pen=BOUNDARY_PEN, connect="pairs", skipFiniteCheck=True)
        self.breaks = pg.PlotCurveItem(pen=BREAK_PEN, connect="pairs", skipFiniteCheck=True)
        for item in (self.fill, self.lower, self.upper, self.marks, self.breaks):
            plot.addItem(item)
        self.marks.setZValue(-10)  # under the waveform
        self.breaks.setZValue(-9)

    def set_data(self, times: np.ndarray, mins: np.ndarray, maxs: np.ndarray) -> None:
        self.lower.setData(times, mins)
        self.upper.setData(times, maxs)

    def set_marks(self, times: np.ndarray, breaks: np.ndarray | None = None) -> None:
        for item, values in ((self.marks, times), (self.breaks, breaks)):
            if values is None:
                continue
            x = np.repeat(np.asarray(values, dtype=np.float64), 2)
            y = np.tile(np.array([-1.0, 1.0]), len(values))
            item.setData(x, y)


class _DetailViewBox(pg.ViewBox):
    """A ViewBox where a left-drag selects a time range; Ctrl+drag pans."""

    def __init__(self, owner: WaveformView) -> None:
        super().__init__(enableMenu=False)
        self._owner = owner

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        if (ev.button() != Qt.MouseButton.LeftButton
                or ev.modifiers() & Qt.KeyboardModifier.ControlModifier):
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        x0 = float(self.mapSceneToView(ev.buttonDownScenePos()).x())
        x1 = float(self.mapSceneToView(ev.scenePos()).x())
        self._owner._drag_selection(x0, x1, finished=bool(ev.isFinish()))


class WaveformView(QWidget):
    """Overview + detail waveform of one chapter, with playhead and selection."""

    seek_requested = Signal(float)
    selection_changed = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._coarse = empty_envelope("coarse")
        self._fine: ChapterEnvelope | LazyEnvelope = empty_envelope("fine")
        self._breaks = np.zeros(0, dtype=np.float64)  # chapter times of break tags
        self._syncing = False

        self.overview = pg.PlotWidget(enableMenu=False)
        self.overview.setFixedHeight(52)
        self.detail = pg.PlotWidget(viewBox=_DetailViewBox(self), enableMenu=False)
        for plot in (self.overview, self.detail):
            item = plot.getPlotItem()
            item.hideAxis("left")
            item.hideButtons()
            item.setMouseEnabled(x=plot is self.detail, y=False)
            item.setYRange(-1.0, 1.0, padding=0.02)
        self.overview.getPlotItem().hideAxis("bottom")

        self._overview_curves = _Envelope(self.overview.getPlotItem())
        self._detail_curves = _Envelope(self.detail.getPlotItem())

        self.region = pg.LinearRegionItem(brush=pg.mkBrush(255, 200, 0, 50))
        self.region.setZValue(10)
        self.overview.addItem(self.region, ignoreBounds=True)
        self.region.sigRegionChanged.connect(self._on_region_changed)

        self.selection = pg.LinearRegionItem(brush=pg.mkBrush(255, 255, 255, 60))
        self.selection.setZValue(9)
        self.selection.hide()
        self.detail.addItem(self.selection, ignoreBounds=True)
        self.selection.sigRegionChangeFinished.connect(self._on_selection_moved)

        self.playhead = pg.InfiniteLine(pos=0.0, angle=90, movable=False, pen=PLAYHEAD_PEN)
        self.overview_playhead = pg.InfiniteLine(
            pos=0.0, angle=90, movable=False, pen=PLAYHEAD_PEN
        )
        self.detail.addItem(self.playhead, ignoreBounds=True)
        self.overview.addItem(self.overview_playhead, ignoreBounds=True)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh_detail)
        self.detail.getPlotItem().sigXRangeChanged.connect(self._on_detail_range_changed)
        self.detail.scene().sigMouseClicked.connect(self._on_detail_clicked)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.overview)
        layout.addWidget(self.detail, 1)
        self.empty_label = QLabel("No narration in this chapter yet — generate it to see "
                                  "and play its waveform here.", self)
        self.empty_label.setObjectName("waveformEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.clear()
        self._apply_palette()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_palette()  # light/dark theme switched: plots follow the palette
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        """Draw the plots on the palette's base colour with its text colour for axes."""
        palette = self.palette()
        base, text = palette.base().color(), palette.text().color()
        selection = palette.highlight().color()
        selection.setAlpha(70)
        for plot in (self.overview, self.detail):
            plot.setBackground(base)
            for name in ("bottom", "left"):
                axis = plot.getPlotItem().getAxis(name)
                axis.setPen(text)
                axis.setTextPen(text)
        self.selection.setBrush(pg.mkBrush(selection))

    # -- public API ---------------------------------------------------------------------------

    def set_chapter(self, coarse: ChapterEnvelope,
                    fine: ChapterEnvelope | LazyEnvelope,
                    breaks: list[float] | np.ndarray | None = None,
                    keep_view: bool = False) -> None:
        """Show a chapter: its coarse envelope in the overview, its fine one in detail.

        ``fine`` may be a :class:`LazyEnvelope`, built only where the detail view looks.
        ``breaks`` are the chapter times of break tags, drawn as dashed marks. With
        ``keep_view`` (the same chapter with new narration) the detail view stays where it
        is instead of going back to the start.
        """
        before = self.visible_range() if keep_view and len(self._fine) else None
        if before is not None:  # still the opening view: let it grow with the chapter
            old = float(max(self._coarse.duration, self._fine.duration, 1e-3))
            if abs(before[0]) < 1e-6 and abs(before[1] - min(old, INITIAL_SPAN)) < 1e-3:
                before = None
        self._breaks = np.sort(np.asarray(breaks if breaks is not None else [],
                                          dtype=np.float64))
        self._coarse, self._fine = coarse, fine
        duration = float(max(coarse.duration, fine.duration, 1e-3))
        if len(coarse) < OVERVIEW_FINE_BELOW and len(fine):  # short: coarse bins look blocky
            source = fine.part(0.0, duration) if isinstance(fine, LazyEnvelope) else fine
            times, mins, maxs = window(source, 0.0, duration, OVERVIEW_POINTS)
        else:
            times, mins, maxs = window(coarse, 0.0, duration, OVERVIEW_POINTS)
        self._overview_curves.set_data(times, mins, maxs)
        # Thousands of lines would grey the whole overview out: draw them only when sparse.
        marks = coarse.boundaries if len(coarse.boundaries) <= OVERVIEW_MARKS else []
        self._overview_curves.set_marks(
            np.asarray(marks, dtype=np.float64),
            self._breaks if len(self._breaks) <= OVERVIEW_MARKS else self._breaks[:0])
        self.overview.getPlotItem().setXRange(0.0, duration, padding=0.0)
        self.detail.getPlotItem().setLimits(
            xMin=0.0, xMax=duration, minXRange=min(0.01, duration), maxXRange=duration
        )
        self.region.setBounds((0.0, duration))
        self.region.show()
        self.playhead.show()
        self.overview_playhead.show()
        self.empty_label.hide()
        self.clear_selection()
        if before is not None and before[0] < duration:
            self._set_visible(before[0], min(before[1], duration))
        else:
            self._set_visible(0.0, min(duration, INITIAL_SPAN))
        self.refresh_detail()

    def clear(self) -> None:
        """Show nothing."""
        self._timer.stop()
        self._coarse, self._fine = empty_envelope("coarse"), empty_envelope("fine")
        empty = np.zeros(0, dtype=np.float64)
        for curves in (self._overview_curves, self._detail_curves):
            curves.set_data(empty, empty, empty)
            curves.set_marks(empty, empty)
        self._breaks = empty
        self.region.hide()
        self.clear_selection()
        self.set_playhead(0.0)
        self.playhead.hide()  # nothing to play: no stray line in the empty overview
        self.overview_playhead.hide()
        self.detail.getPlotItem().setLimits(xMin=None, xMax=None, minXRange=None,
                                            maxXRange=None)
        self._set_visible(0.0, INITIAL_SPAN)  # a readable empty axis, not 0.0001 steps
        self.empty_label.show()
        self.empty_label.raise_()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.empty_label.setGeometry(self.rect())

    def set_playhead(self, t: float) -> None:
        """Move the playhead to ``t`` seconds."""
        self.playhead.setValue(float(t))
        self.overview_playhead.setValue(float(t))

    def playhead_position(self) -> float:
        return float(self.playhead.value())

    def visible_range(self) -> tuple[float, float]:
        """Return the detail view's visible time range."""
        x0, x1 = self.detail.getPlotItem().viewRange()[0]
        return float(x0), float(x1)

    def set_visible_range(self, t0: float, t1: float) -> None:
        """Show ``t0``..``t1`` in the detail view (and select it in the overview)."""
        self._set_visible(float(t0), float(t1))

    def selected_range(self) -> tuple[float, float] | None:
        """Return the selection, or None."""
        if not self.selection.isVisible():
            return None
        lo, hi = self.selection.getRegion()
        return float(lo), float(hi)

    def clear_selection(self) -> None:
        self.selection.hide()

    def refresh_detail(self) -> None:
        """Redraw the detail view for its current range (normally done on a short timer)."""
        self._timer.stop()
        if len(self._fine) == 0:
            return
        t0, t1 = self.visible_range()
        width = max(200, int(self.detail.getPlotItem().getViewBox().width()))
        coarse_bins = int(np.searchsorted(self._coarse.times, t1)
                          - np.searchsorted(self._coarse.times, t0))
        if coarse_bins >= width:  # zoomed far out: the coarse bins are already finer than px
            times, mins, maxs = window(self._coarse, t0, t1, 2 * width)
        elif isinstance(self._fine, LazyEnvelope):
            times, mins, maxs = self._fine.window(t0, t1, 2 * width)
        else:
            times, mins, maxs = window(self._fine, t0, t1, 2 * width)
        self._detail_curves.set_data(times, mins, maxs)
        bounds = np.asarray(self._fine.boundaries, dtype=np.float64)
        lo, hi = np.searchsorted(bounds, [t0, t1])
        # Only the visible boundaries, and none when they would be denser than 1 per 4 px.
        b_lo, b_hi = np.searchsorted(self._breaks, [t0, t1])
        self._detail_curves.set_marks(
            bounds[lo:hi] if hi - lo <= width // 4 else bounds[:0],
            self._breaks[b_lo:b_hi] if b_hi - b_lo <= width // 4 else self._breaks[:0])

    # -- internals ----------------------------------------------------------------------------

    def _set_visible(self, t0: float, t1: float) -> None:
        self.detail.getPlotItem().setXRange(float(t0), float(t1), padding=0.0)

    def _on_region_changed(self) -> None:
        if self._syncing:
            return
        lo, hi = self.region.getRegion()
        self._syncing = True
        try:
            self._set_visible(float(lo), float(hi))
        finally:
            self._syncing = False

    def _on_detail_range_changed(self, _vb: Any, rng: Any) -> None:
        if not self._syncing:
            self._syncing = True
            try:
                self.region.setRegion((float(rng[0]), float(rng[1])))
            finally:
                self._syncing = False
        self._timer.start()

    def _on_detail_clicked(self, ev: Any) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.isAccepted():
            return
        self.seek_at_scene(ev.scenePos())

    def seek_at_scene(self, scene_pos: QPointF) -> None:
        """Ask to seek to the time under ``scene_pos`` (a point of the detail scene)."""
        vb = self.detail.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos) or len(self._fine) == 0:
            return
        t = float(vb.mapSceneToView(scene_pos).x())
        duration = max(self._fine.duration, self._coarse.duration)
        self.seek_requested.emit(min(max(t, 0.0), float(duration)))

    def _drag_selection(self, x0: float, x1: float, finished: bool) -> None:
        duration = float(max(self._fine.duration, self._coarse.duration))
        lo, hi = sorted((min(max(x0, 0.0), duration), min(max(x1, 0.0), duration)))
        self.selection.blockSignals(True)
        self.selection.setRegion((lo, hi))
        self.selection.blockSignals(False)
        self.selection.show()
        if finished:
            self.selection_changed.emit(lo, hi)

    def _on_selection_moved(self) -> None:
        if self.selection.isVisible():
            lo, hi = self.selection.getRegion()
            self.selection_changed.emit(float(lo), float(hi))
