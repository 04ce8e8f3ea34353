"""A writer killed with SIGKILL in the middle of a transaction never damages the project."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from studio.core.store import ProjectStore
from tests.core.factories import make_project

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys, time
    from studio.core import model as m
    from studio.core.store import ProjectStore
    from tests.core.factories import make_take

    store = ProjectStore.open(sys.argv[1])
    project = store.load()
    n = 0
    while True:
        n += 1
        changes = m.add_chapter(project, f"Written {n}", [f"Text {n}.{i}" for i in range(50)])
        for block in project.chapters[-1].blocks:  # ~6 MB of audio in one transaction
            changes |= m.add_take(project, make_take(project, block.id, bytes(120_000)))
        print("writing", n, flush=True)
        t0 = time.perf_counter()
        store.save(project, changes)
        print("committed", n, round(time.perf_counter() - t0, 4), flush=True)
    """
)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("kill_during", "delay"), [(1, 0.0), (3, 0.005), (5, 0.02)])
def test_kill_during_writes_leaves_committed_work(
    tmp_path: Path, kill_during: int, delay: float
) -> None:
    path = tmp_path / "Book.studio"
    ProjectStore.create(path, make_project()).close()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    assert proc.stdout is not None
    committed, durations = 0, []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        words = proc.stdout.readline().split()
        if not words:
            break
        if words[0] == "committed":
            committed = int(words[1])
            durations.append(float(words[2]))
        elif int(words[1]) == kill_during:
            time.sleep(delay)  # the transaction for chapter `kill_during` is now under way
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    for line in proc.stdout.read().splitlines():  # anything printed before the kill landed
        if line.startswith("committed"):
            committed = int(line.split()[1])
    assert proc.returncode == -signal.SIGKILL
    assert committed >= kill_during - 1

    with ProjectStore.open(path) as store:
        assert store.integrity_check() == ["ok"]
        project = store.load()
        written = [c for c in project.chapters if c.title.startswith("Written")]
        # Everything reported as committed is there; the one in flight is all there or absent.
        assert committed <= len(written) <= committed + 1
        for index, chapter in enumerate(written, 1):
            assert chapter.title == f"Written {index}"
            assert [b.text for b in chapter.blocks] == [f"Text {index}.{i}" for i in range(50)]
            for block in chapter.blocks:
                assert len(block.takes) == 1 and block.current_take is not None
                assert len(store.load_take_audio(block.takes[0].id)) == 120_000
        # The original project survived too.
        assert [c.title for c in project.chapters[:2]] == ["Chapter 1", "Chapter 2"]
