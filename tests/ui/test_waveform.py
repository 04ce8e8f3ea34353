"""WaveformView: rendered pixels, overview → detail range, playhead, click to seek, selection."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor

from studio.core.model import PeakSummary
from studio.core.waveform import ChapterEnvelope, chapter_envelope
from studio.ui.waveform import WaveformView

RATE = 44100


def chapter(paragraphs: int = 20, seconds: float = 6.0, pause: float = 0.5
            ) -> tuple[ChapterEnvelope, ChapterEnvelope]:
    """Coarse and fine envelopes of a synthetic chapter (loud takes, quiet pauses)."""
    coarse, fine = [], []
    for i in range(paragraphs):
        start = i * (seconds + pause)
        for spb, out in ((65536, coarse), (256, fine)):
            bins = int(np.ceil(seconds * RATE / spb))
            level = (60 + (np.arange(bins) * 7) % 60).astype(np.int8)
            data = np.column_stack((-level, level)).astype(np.int8).tobytes()
            out.append((start, PeakSummary(spb, RATE, data)))
    return chapter_envelope(coarse, "coarse"), chapter_envelope(fine, "fine")


@pytest.fixture
def view(qtbot):  # type: ignore[no-untyped-def]
    widget = WaveformView()
    qtbot.addWidget(widget)
    widget.resize(800, 400)
    coarse, fine = chapter()
    widget.set_chapter(coarse, fine)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def wave_pixels(widget: WaveformView) -> int:
    """Count pixels of the waveform's blue in the detail view."""
    image = widget.detail.grab().toImage()
    count = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = QColor(image.pixel(x, y))
            if c.blue() > 120 and c.red() < 130 and c.blue() - c.red() > 60:
                count += 1
    return count


def test_renders_waveform_pixels(view: WaveformView) -> None:
    assert wave_pixels(view) > 500
    image = view.overview.grab().toImage()
    blue = sum(
        1
        for y in range(0, image.height(), 2)
        for x in range(0, image.width(), 4)
        if QColor(image.pixel(x, y)).blue() - QColor(image.pixel(x, y)).red() > 60
    )
    assert blue > 100


def test_cleared_view_draws_no_waveform(view: WaveformView) -> None:
    view.clear()
    view.detail.getPlotItem().setXRange(0.0, 10.0, padding=0.0)
    assert wave_pixels(view) == 0


def test_overview_region_drives_detail_range(view: WaveformView, qtbot) -> None:  # type: ignore[no-untyped-def]
    assert view.visible_range() == pytest.approx((0.0, 60.0), abs=1e-6)
    view.region.setRegion((30.0, 45.0))
    assert view.visible_range() == pytest.approx((30.0, 45.0), abs=1e-6)
    # The detail curve is recomputed for the new range after a short delay.
    qtbot.waitUntil(lambda: float(view._detail_curves.upper.xData[0]) >= 29.0, timeout=2000)
    x = view._detail_curves.upper.xData
    assert x[0] <= 30.1 and x[-1] >= 44.9 and len(x) <= 2 * 800
    # And the other way round: zooming the detail view moves the overview's region.
    view.set_visible_range(100.0, 110.0)
    assert view.region.getRegion() == pytest.approx((100.0, 110.0), abs=1e-6)


def test_playhead(view: WaveformView) -> None:
    view.set_playhead(12.5)
    assert view.playhead.value() == pytest.approx(12.5)
    assert view.overview_playhead.value() == pytest.approx(12.5)
    assert view.playhead_position() == pytest.approx(12.5)


def scene_point(view: WaveformView, t: float) -> QPointF:
    vb = view.detail.getPlotItem().getViewBox()
    return vb.mapViewToScene(QPointF(t, 0.0))


def test_click_seeks(view: WaveformView, qtbot) -> None:  # type: ignore[no-untyped-def]
    view.set_visible_range(10.0, 40.0)
    target = 25.0
    pos = view.detail.mapFromScene(scene_point(view, target))
    with qtbot.waitSignal(view.seek_requested, timeout=1000) as blocker:
        qtbot.mouseClick(view.detail.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args[0] == pytest.approx(target, rel=0.01)

    # The mapped slot directly, too.
    with qtbot.waitSignal(view.seek_requested, timeout=1000) as blocker:
        view.seek_at_scene(scene_point(view, 33.0))
    assert blocker.args[0] == pytest.approx(33.0, rel=0.01)


def test_drag_selects(view: WaveformView, qtbot) -> None:  # type: ignore[no-untyped-def]
    view.set_visible_range(0.0, 30.0)
    a = view.detail.mapFromScene(scene_point(view, 5.0))
    b = view.detail.mapFromScene(scene_point(view, 15.0))
    viewport = view.detail.viewport()
    with qtbot.waitSignal(view.selection_changed, timeout=1000) as blocker:
        qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=a)
        for i in range(1, 11):
            qtbot.mouseMove(viewport, QPoint(a.x() + (b.x() - a.x()) * i // 10, a.y()))
        qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=b)
    lo, hi = blocker.args
    assert lo == pytest.approx(5.0, rel=0.02) and hi == pytest.approx(15.0, rel=0.02)
    assert view.selected_range() == pytest.approx((lo, hi))
    assert view.visible_range() == pytest.approx((0.0, 30.0), abs=1e-6)  # no pan


def test_a_chapter_without_narration_says_so(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QStandardPaths

    from studio.core.sample import create_sample_project
    from studio.ui.main_window import MainWindow

    QStandardPaths.setTestModeEnabled(True)
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(create_sample_project(tmp_path / "s.studio"))
    window.show()
    qtbot.waitExposed(window)
    assert window.waveform.empty_label.isVisible()
    lo, hi = window.waveform.visible_range()
    assert hi - lo > 1.0  # a readable axis, not 0.0001 steps


def amber_columns(widget: WaveformView) -> list[int]:
    """Return the x of detail-view pixel columns holding the break marks' amber."""
    image = widget.detail.grab().toImage()
    columns = []
    for x in range(image.width()):
        for y in range(0, image.height(), 3):
            c = QColor(image.pixel(x, y))
            if c.red() > 180 and 90 < c.green() < 200 and c.blue() < 90:
                columns.append(x)
                break
    return columns


def test_break_marks_are_drawn_where_the_breaks_fall(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = WaveformView()
    qtbot.addWidget(widget)
    widget.resize(800, 300)
    coarse, fine = chapter()
    widget.set_chapter(coarse, fine, breaks=[3.0])
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_visible_range(0.0, 10.0)
    widget.refresh_detail()
    columns = amber_columns(widget)
    assert columns, "no break mark drawn"
    vb = widget.detail.getPlotItem().getViewBox()
    x = vb.mapViewToScene(QPointF(3.0, 0.0)).x() - widget.detail.mapToScene(0, 0).x()
    assert min(abs(c - x) for c in columns) <= 3
    widget.set_chapter(coarse, fine)  # no breaks: no amber
    widget.refresh_detail()
    assert amber_columns(widget) == []


def test_new_narration_of_the_same_chapter_keeps_the_view(view: WaveformView) -> None:
    coarse, fine = chapter()
    view.set_visible_range(40.0, 50.0)
    view.set_chapter(coarse, fine, keep_view=True)  # a take arrived
    assert view.visible_range() == pytest.approx((40.0, 50.0), abs=0.01)
    view.set_chapter(coarse, fine)  # another chapter
    assert view.visible_range()[0] == pytest.approx(0.0, abs=0.01)


def test_the_opening_view_grows_with_new_narration(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = WaveformView()
    qtbot.addWidget(widget)
    short_coarse, short_fine = chapter(paragraphs=2)  # 12.5 s: all of it in view
    widget.set_chapter(short_coarse, short_fine)
    coarse, fine = chapter(paragraphs=4)  # a take arrived: 25.5 s
    widget.set_chapter(coarse, fine, keep_view=True)
    t0, t1 = widget.visible_range()
    assert t0 == pytest.approx(0.0, abs=0.01) and t1 >= 25.5


def red_pixels(widget) -> int:  # type: ignore[no-untyped-def]
    image = widget.grab().toImage()
    return sum(1 for y in range(0, image.height(), 2) for x in range(0, image.width(), 2)
               if (c := QColor(image.pixel(x, y))).red() > 180 and c.green() < 90
               and c.blue() < 90)


def test_an_empty_chapter_shows_no_playhead(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = WaveformView()
    qtbot.addWidget(widget)
    widget.resize(800, 300)
    widget.show()
    qtbot.waitExposed(widget)
    widget.clear()
    assert red_pixels(widget.overview) == 0 and red_pixels(widget.detail) == 0
    coarse, fine = chapter()
    widget.set_chapter(coarse, fine)
    widget.set_playhead(10.0)
    assert red_pixels(widget.detail) > 0  # back once there is narration
