"""The narration check dialog lists flagged paragraphs, shows the diff, and asks to regenerate."""

from __future__ import annotations

from studio.core.model import BlockId, ChapterId
from studio.core.transcript.check import DiffOp, DiffPart, ParagraphCheck
from studio.ui.panels.narration_check import NarrationCheckDialog, diff_html


def check(block: str, *parts: DiffPart) -> ParagraphCheck:
    return ParagraphCheck(ChapterId("c"), BlockId(block), 1, 2, "The boats came home.",
                          ("the", "boats"), parts)


def test_flagged_paragraphs_show_their_diff_and_regenerate(qtbot) -> None:
    dialog = NarrationCheckDialog()
    qtbot.addWidget(dialog)
    flagged = check("b1", DiffPart(DiffOp.EQUAL, ("the", "boats")),
                    DiffPart(DiffOp.MISSING, ("came",)), DiffPart(DiffOp.EXTRA, ("old",)))
    fine = check("b2", DiffPart(DiffOp.EQUAL, ("the", "boats")))
    with qtbot.waitSignal(dialog.check_finished) as finished:
        dialog.set_results([flagged, fine])
    assert finished.args == [1]
    assert dialog.list.count() == 1
    assert "<del" in diff_html(flagged) and ">came</del>" in diff_html(flagged)
    assert ">old</ins>" in diff_html(flagged)
    assert "came" in dialog.diff.toPlainText()
    with qtbot.waitSignal(dialog.regenerate_requested) as asked:
        dialog.regenerate.click()
    assert asked.args == ["b1"]


def test_the_check_runs_on_a_worker(qtbot, monkeypatch) -> None:
    from studio.ui.panels import narration_check

    monkeypatch.setattr(narration_check, "check_narration",
                        lambda project, chapters: [check("b1", DiffPart(
                            DiffOp.REPEATED, ("there", "were")))])
    dialog = NarrationCheckDialog()
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.check_finished, timeout=5000):
        dialog.start(object(), None)  # type: ignore[arg-type]
    assert dialog.list.count() == 1
    assert "repeated" in diff_html(dialog.checks[0])


def test_the_takes_audio_is_read_on_the_worker_from_a_read_only_store(qtbot, monkeypatch,
                                                                      tmp_path) -> None:
    import threading

    from studio.core.model import add_take
    from studio.core.store import ProjectStore
    from studio.ui.panels import narration_check
    from tests.core.factories import make_project, make_take, wav_bytes

    project = make_project(chapters=1, blocks=1)
    take = make_take(project, BlockId("c0b0"), wav_bytes(0.3))
    add_take(project, take)
    path = tmp_path / "book.studio"
    ProjectStore.create(path, project).close()
    with ProjectStore.open(path) as store:  # the window's own store stays open for writing
        loaded = store.load()
        assert loaded.block(BlockId("c0b0")).current_take.audio is None
        seen = {}

        def fake_check(project, chapters, audio=None):  # type: ignore[no-untyped-def]
            seen["thread"] = threading.current_thread()
            seen["audio"] = audio(take.id)
            return []

        monkeypatch.setattr(narration_check, "check_narration", fake_check)
        dialog = NarrationCheckDialog()
        qtbot.addWidget(dialog)
        with qtbot.waitSignal(dialog.check_finished, timeout=5000) as finished:
            dialog.start(loaded, None, path)
    assert finished.args == [0]
    assert seen["thread"] is not threading.main_thread()
    assert seen["audio"] == take.audio
