"""File ▸ Export through the window: files read back, the export recorded, ACX results shown,
convert-first, cancel, errors naming the paragraph and remembered choices."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from mutagen.mp3 import MP3, BitrateMode
from mutagen.mp4 import MP4
from PySide6.QtCore import QSettings, QStandardPaths, Qt
from PySide6.QtGui import QImage

from studio.core import model as m
from studio.core.playback import build_timeline
from studio.core.sample import create_sample_project
from studio.core.store import ProjectStore
from studio.ui.export_dialog import ExportDialog, select_data
from studio.ui.main_window import MainWindow
from studio.ui.player import NullSink


@pytest.fixture(autouse=True)
def _env(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    QSettings().remove("export")  # every test starts from the defaults


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    w = MainWindow(player_sink=NullSink())
    qtbot.addWidget(w)
    w.open_project(create_sample_project(tmp_path / "sample.studio"))
    return w


def generate(window: MainWindow, qtbot, book: bool = False) -> None:  # type: ignore[no-untyped-def]
    assert window.controller is not None
    action = window.generate_book_action if book else window.generate_chapter_action
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        action.trigger()


def open_dialog(window: MainWindow, qtbot) -> ExportDialog:  # type: ignore[no-untyped-def]
    window.export_action.trigger()
    dialog = window.export_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def choose(dialog: ExportDialog, scope: str, fmt: str, quality: int, layout: str,
           target: Path) -> None:
    assert select_data(dialog.scope, scope)
    assert select_data(dialog.format, fmt)
    assert select_data(dialog.quality, quality)
    assert select_data(dialog.layout_box, layout)
    dialog.set_destination(target)
    dialog.refresh_readiness()


def click_export(dialog: ExportDialog, qtbot, timeout: int = 60_000):  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(dialog.exported, timeout=timeout) as done:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
        assert dialog.running  # the work is off the GUI thread: the click returned at once
    return done.args[0]


def test_export_chapter_as_mp3(window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    generate(window, qtbot)
    project = window.project
    assert project is not None
    chapter = project.chapters[0]
    dialog = open_dialog(window, qtbot)
    assert dialog.meta["title"].text() == "Aesop's Fables"  # prefilled from the project
    assert dialog.meta["author"].text() == "Aesop"
    out = tmp_path / "out"
    out.mkdir()
    target = out / "fox.mp3"
    choose(dialog, "chapter", "mp3", 192, "single", target)
    dialog.meta["narrator"].setText("A. Reader")
    assert dialog.readiness_label.text().startswith("All 3 paragraphs are converted")
    assert not dialog.convert_choice.isVisible()

    result = click_export(dialog, qtbot)

    # The file, read back by mutagen: 44.1 kHz, CBR 192 kbps, the chapter's length.
    info = MP3(target).info
    assert info.sample_rate == 44100
    assert info.bitrate == 192_000 and info.bitrate_mode in (BitrateMode.CBR,
                                                             BitrateMode.UNKNOWN)
    assert result.files[0].acx.stream.constant_bitrate  # every frame 192 kbps
    timeline = build_timeline(project, chapter)
    head = min(max(float(project.settings["chapter_head_s"]), 0.55), 0.95)  # ACX's window
    tail = min(max(float(project.settings["chapter_tail_s"]), 1.05), 4.9)
    expected = timeline[-1].end - timeline[0].start + head + tail
    assert info.length == pytest.approx(expected, abs=0.5)
    assert str(MP3(target).tags["TCOM"]) == "A. Reader"

    # Recorded in the project, on disk; the narrator is kept for the next export.
    store = ProjectStore.open(window.store.path, read_only=True)
    try:
        saved = store.load()
    finally:
        store.close()
    assert len(saved.exports) == 1
    record = saved.exports[0]
    assert record.path == str(target) and record.format == "mp3"
    assert record.chapter_ids == (chapter.id,) and record.settings["bitrate_kbps"] == 192
    assert saved.settings["narrator"] == "A. Reader"

    # The ACX results: one file, every check listed with its measured value.
    assert dialog.results_box.isVisible()
    assert dialog.results.topLevelItemCount() == 1
    item = dialog.results.topLevelItem(0)
    assert item.text(0) == "fox.mp3" and item.text(3) == "✓ passes"
    checks = {item.child(i).text(0): item.child(i) for i in range(item.childCount())}
    assert {"RMS", "Peak", "Noise floor", "Duration", "Format", "Channels"} <= set(checks)
    assert checks["Format"].text(1) == "MP3 192 kbps CBR"
    assert checks["RMS"].text(1).endswith(" dB") and checks["RMS"].text(3) == "✓ pass"
    assert (out / "fox.acx.csv").is_file() and (out / "fox.acx.json").is_file()
    assert "fox.acx.csv" in dialog.reports_label.text()
    assert dialog.result_folder() == out and dialog.open_folder_button.isEnabled()
    assert sorted(p.name for p in out.iterdir()) == ["fox.acx.csv", "fox.acx.json", "fox.mp3"]
    # Grown to show the results, the dialog keeps its buttons on the screen.
    area = dialog.screen().availableGeometry()
    dialog.move(dialog.x(), area.bottom() - 100)
    dialog._fit_height()
    assert dialog.frameGeometry().bottom() <= area.bottom()

    # The choices are remembered for the next export.
    again = ExportDialog(window.session, window.controller, chapter.id)
    qtbot.addWidget(again)
    assert again.format.currentData() == "mp3" and again.quality.currentData() == 192
    assert again.layout_box.currentData() == "single"
    assert again.mastering.currentData() == "acx"
    assert again.target().parent == out and again.target().suffix == ".mp3"
    assert again.meta["narrator"].text() == "A. Reader"


def test_whole_book_converts_first_then_exports_m4b(window: MainWindow, qtbot,  # type: ignore[no-untyped-def]
                                                     tmp_path: Path) -> None:
    generate(window, qtbot)  # chapter 1 only
    project = window.project
    assert project is not None
    dialog = open_dialog(window, qtbot)
    target = tmp_path / "Fables.m4b"
    choose(dialog, "book", "m4b", 64, "single", target)
    assert dialog.readiness_label.text().startswith("11 of 14 paragraphs have no audio yet")
    assert "free offline" in dialog.readiness_label.text()
    assert dialog.convert_choice.isVisible() and dialog.convert_first.isChecked()
    image = QImage(16, 16, QImage.Format.Format_RGB32)
    image.fill(0x3366AA)
    assert image.save(str(tmp_path / "cover.png"))
    png = (tmp_path / "cover.png").read_bytes()
    assert dialog.set_cover(tmp_path / "cover.png") and dialog.cover() == png

    click_export(dialog, qtbot, timeout=120_000)

    assert all(m.block_status(project, b) is m.BlockStatus.CONVERTED
               for _, b in project.iter_blocks())
    mp4 = MP4(target)
    assert mp4.info.codec.startswith("mp4a") and mp4.info.sample_rate == 44100
    titles = [c.title for c in mp4.chapters]
    assert titles == [c.title for c in project.chapters] and len(titles) == 4
    assert mp4.tags["©nam"] == ["Aesop's Fables"]
    assert [bytes(c) for c in mp4.tags["covr"]] == [png]
    saved = ProjectStore.open(window.store.path, read_only=True)
    try:
        loaded = saved.load()
    finally:
        saved.close()
    record = loaded.exports[-1]
    assert record.format == "m4b" and len(record.chapter_ids) == 4
    assert loaded.cover == png  # kept in the project file for the next export
    again = ExportDialog(window.session, window.controller)
    qtbot.addWidget(again)
    assert again.cover() == png and not again.cover_label.pixmap().isNull()

    # ACX takes MP3 only: the format check fails, in red, with the measured value.
    item = dialog.results.topLevelItem(0)
    assert item.text(3).startswith("✗")
    fmt = next(item.child(i) for i in range(item.childCount()) if item.child(i).text(0) == "Format")
    assert fmt.text(1) == "M4B" and fmt.text(3) == "✗ fail"
    red = fmt.foreground(1).color()
    assert red.red() > 150 and red.red() > 2 * red.green()
    assert "fail an ACX check" in dialog.reports_label.text()
    assert "All 14 paragraphs are converted" in dialog.readiness_label.text()


def test_cancel_leaves_no_file(window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    generate(window, qtbot, book=True)
    dialog = open_dialog(window, qtbot)
    out = tmp_path / "out"
    out.mkdir()
    choose(dialog, "book", "wav", 24, "per-chapter", out / "Fables")
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30_000)
    assert dialog.running and dialog.progress.value() < 900  # mid-export
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert "cancelled" in dialog.status.text()
    assert list(out.iterdir()) == []  # no file, no staging folder
    assert window.project is not None and window.project.exports == []
    assert dialog.export_button.isEnabled() and not dialog.results_box.isVisible()


def test_damaged_take_is_reported_by_paragraph(window: MainWindow, qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                               monkeypatch) -> None:
    generate(window, qtbot)
    project = window.project
    assert project is not None and window.store is not None
    path = window.store.path
    take = project.chapters[0].blocks[1].current_take
    assert take is not None
    window.close()  # reopened below: takes come from the file again, not from memory
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE take_media SET audio = zeroblob(64) WHERE take_id = ?", (take.id,))
    conn.close()
    window = MainWindow(player_sink=NullSink())
    qtbot.addWidget(window)
    window.open_project(path)
    errors: list[BaseException] = []
    monkeypatch.setattr("studio.ui.export_dialog.show_error",
                        lambda _parent, exc, *a: errors.append(exc))
    dialog = open_dialog(window, qtbot)
    choose(dialog, "chapter", "mp3", 192, "single", tmp_path / "fox.mp3")
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert len(errors) == 1
    assert "chapter 1 'The Fox and the Grapes', paragraph 2" in str(errors[0])
    assert not (tmp_path / "fox.mp3").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_convert_first_with_elevenlabs_confirms_the_cost(qtbot, tmp_path: Path, monkeypatch,  # type: ignore[no-untyped-def]
                                                         fake_eleven) -> None:
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setenv("ELEVENLABS_API_KEY", "test-key")
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake_eleven.base_url)
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    questions: list[str] = []

    def question(_parent: object, _title: str, text: str, *a: object) -> object:
        questions.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    project = m.Project(title="Fog", author="A. Writer", model_id="eleven_multilingual_v2")
    m.add_voice(project, m.Voice(m.VoiceId("narrator"), "Narrator", engine="elevenlabs",
                                 engine_voice_id="21m00Tcm4TlvDq8ikWAM"))
    project.default_voice_id = m.VoiceId("narrator")
    m.add_chapter(project, "The River", [f"River paragraph {n}: the fog lay thick."
                                         for n in range(1, 4)])
    path = tmp_path / "fog.studio"
    ProjectStore.create(path, project).close()
    window = MainWindow(player_sink=NullSink())
    qtbot.addWidget(window)
    window.open_project(path)
    dialog = open_dialog(window, qtbot)
    target = tmp_path / "fog.mp3"
    choose(dialog, "book", "mp3", 192, "single", target)
    assert dialog.readiness_label.text().startswith("3 of 3 paragraphs have no audio yet")
    assert "credits" in dialog.readiness_label.text()

    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)  # "No": nothing is sent
    assert len(questions) == 1 and "credits" in questions[0]
    assert not dialog.running and not fake_eleven.requests and not target.exists()

    click_export(dialog, qtbot)  # "Yes": converted, then exported
    assert len(questions) == 2
    loaded = window.project
    assert loaded is not None
    assert all(m.block_status(loaded, b) is m.BlockStatus.CONVERTED
               for _, b in loaded.iter_blocks())
    audio = MP3(target)
    assert audio.info.bitrate == 192_000 and audio.info.length > 3
    assert str(audio.tags["TPE1"]) == "A. Writer"


def test_closing_the_window_cancels_the_export(window: MainWindow, qtbot,  # type: ignore[no-untyped-def]
                                               tmp_path: Path) -> None:
    generate(window, qtbot, book=True)
    dialog = open_dialog(window, qtbot)
    out = tmp_path / "out"
    out.mkdir()
    choose(dialog, "book", "flac", 24, "zip", out / "Fables.zip")
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30_000)
    window.close()  # the project closes: the export is cancelled and waited for
    assert window.export_dialog is None and window.session is None
    assert list(out.iterdir()) == []
