"""Generation runs off the GUI thread; takes are applied on it and saved as they arrive."""

from __future__ import annotations

import threading
from pathlib import Path

from studio.core import model as m
from studio.core.engines.offline import OfflineEngine
from studio.core.generation import plan_render
from studio.core.sample import create_sample_project
from studio.core.store import ProjectStore
from studio.ui import commands as c
from studio.ui.session import ProjectSession
from studio.ui.workers import GenerationController


def open_sample(tmp_path: Path) -> ProjectSession:
    path = create_sample_project(tmp_path / "sample.studio")
    store = ProjectStore.open(path)
    return ProjectSession(store, store.load())


def test_generate_a_chapter_offline_then_regenerate_one_edited_paragraph(qtbot, tmp_path: Path
                                                                          ) -> None:  # type: ignore[no-untyped-def]
    session = open_sample(tmp_path)
    controller = GenerationController(session)
    chapter = session.project.chapters[0]
    gui_thread = threading.current_thread()
    applied_on: list[threading.Thread] = []
    controller.take_added.connect(lambda _b: applied_on.append(threading.current_thread()))

    plan = plan_render(session.project, engine="offline", chapters=[chapter.id],
                       output_format="wav_22050")
    with qtbot.waitSignal(controller.finished, timeout=60_000) as done:
        controller.start(plan, OfflineEngine())
    summary = done.args[0]
    assert summary.takes == len(chapter.blocks) and not summary.failed
    assert applied_on and all(t is gui_thread for t in applied_on)
    assert all(m.block_status(session.project, b) is m.BlockStatus.CONVERTED
               for b in chapter.blocks)
    with ProjectStore.open(session.store.path, read_only=True) as reader:  # saved as they came
        assert all(b.current_take is not None for b in reader.load().chapters[0].blocks)

    # Edit one paragraph: it turns stale, and only it is regenerated.
    target = chapter.blocks[1]
    session.push(c.SetBlockTextCommand(session, target.id, target.text + " Indeed."))
    assert m.block_status(session.project, target) is m.BlockStatus.STALE
    plan = plan_render(session.project, engine="offline", chapters=[chapter.id],
                       output_format="wav_22050")
    assert [j.block_id for j in plan.jobs] == [target.id]
    with qtbot.waitSignal(controller.finished, timeout=60_000):
        controller.start(plan, OfflineEngine())
    assert len(target.takes) == 2 and m.block_status(session.project, target) is (
        m.BlockStatus.CONVERTED)
    # Restore the older take (undoable), then undo that.
    older = target.takes[0]
    session.push(c.restore_take(session, target.id, older.id))
    assert target.current_take_id == older.id
    assert m.block_status(session.project, target) is m.BlockStatus.STALE
    session.undo_stack.undo()
    assert target.current_take_id == target.takes[1].id
    session.close()


def test_stop_ends_a_render_early(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    session = open_sample(tmp_path)
    controller = GenerationController(session)
    plan = plan_render(session.project, engine="offline", output_format="wav_22050")
    controller.take_added.connect(lambda _b: controller.stop())
    with qtbot.waitSignal(controller.finished, timeout=60_000) as done:
        controller.start(plan, OfflineEngine())
    summary = done.args[0]
    assert summary.cancelled and 1 <= summary.takes < len(plan.jobs)
    assert controller.wait(5) and not controller.running
    session.close()


def test_takes_arriving_in_a_burst_are_saved_in_one_transaction(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                monkeypatch) -> None:
    """Takes queued up while the GUI thread was busy: one save and one ``changed`` for them,
    then ``take_added`` for each, in order."""
    from studio.core.scheduler import Progress, TakeReady
    from studio.ui import workers
    from tests.core.factories import make_take

    monkeypatch.setattr(workers, "APPLY_INTERVAL_MS", 2000)  # a burst, however slow the machine
    session = open_sample(tmp_path)
    controller = GenerationController(session)
    blocks = [b for c in session.project.chapters for b in c.blocks]
    takes = [make_take(session.project, b.id) for b in blocks]
    saves: list[object] = []
    save = session.store.save
    monkeypatch.setattr(session.store, "save", lambda p, ch=None: (saves.append(ch), save(p, ch)))
    announced: list[object] = []
    session.changed.connect(lambda ch, _i: announced.append(ch))
    added: list[str] = []
    controller.take_added.connect(added.append)
    progress: list[object] = []
    controller.progress.connect(progress.append)

    def send() -> None:  # as the scheduler does: from another thread, queued to the GUI
        for n, take in enumerate(takes, 1):
            controller._event.emit(TakeReady(take.block_id, take, Progress(
                n, len(takes), n, len(takes), 0, 1, 0.0, None)))

    sender = threading.Thread(target=send)
    sender.start()
    sender.join()  # all of them wait in the GUI thread's queue now
    qtbot.waitUntil(lambda: len(added) == len(takes), timeout=10_000)
    assert added == [t.block_id for t in takes]
    assert len(saves) <= 2 and len(announced) == len(saves)  # the first at once, then the rest
    assert progress[-1].jobs_done == len(takes) and len(progress) == len(saves)
    with ProjectStore.open(session.store.path, read_only=True) as reader:
        assert all(b.current_take is not None for c in reader.load().chapters for b in c.blocks)
    session.close()


def test_a_render_is_running_until_its_takes_are_saved(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The worker thread ends before its queued takes reach the GUI thread: until they are
    saved the render still counts as running (so closing takes the stop path)."""
    session = open_sample(tmp_path)
    controller = GenerationController(session)
    chapter = session.project.chapters[0]
    plan = plan_render(session.project, engine="offline", chapters=[chapter.id],
                       output_format="wav_22050")
    controller.start(plan, OfflineEngine())
    assert controller.wait(60)  # the thread is done; nothing was handled on this thread yet
    assert controller.running
    qtbot.waitUntil(lambda: not controller.running, timeout=10_000)
    assert all(b.current_take is not None for b in chapter.blocks)
