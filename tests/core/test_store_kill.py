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

WRITER = textwrap.dedent(
    """
    import sys
    from studio.core import model as m
    from studio.core.model import BlockId
    from studio.core.store import ProjectStore
    from tests.core.factories import make_take

    store = ProjectStore.open(sys.argv[1])
    project = store.load()
    n = 0
    while True:
        n += 1
        changes = m.add_chapter(project, f"Written {n}", [f"Text {n}.{i}" for i in range(50)])
        chapter = project.chapters[-1]
        for block in chapter.blocks:  # ~3 MB of audio per transaction: a wide window to kill in
            changes |= m.add_take(project, make_take(project, block.id, bytes(64_000)))
        store.save(project, changes)
        print(n, flush=True)
    """
)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kill_after", [1, 3, 6])
def test_kill_during_writes_leaves_committed_work(tmp_path: Path, kill_after: int) -> None:
    path = tmp_path / "Book.studio"
    ProjectStore.create(path, make_project()).close()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE, text=True, env=env, cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    committed = 0
    deadline = time.monotonic() + 90
    while committed < kill_after and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        committed = int(line)
    time.sleep(0.05)  # land the kill inside the next transaction
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert committed >= kill_after, "the writer never committed"

    with ProjectStore.open(path) as store:
        assert store.integrity_check() == ["ok"]
        project = store.load()
        written = [c for c in project.chapters if c.title.startswith("Written")]
        # Everything reported as committed is there; at most the one in flight also made it.
        assert committed <= len(written) <= committed + 1
        for index, chapter in enumerate(written, 1):
            assert chapter.title == f"Written {index}"
            assert [b.text for b in chapter.blocks] == [f"Text {index}.{i}" for i in range(50)]
            for block in chapter.blocks:
                assert len(block.takes) == 1 and block.current_take is not None
                assert len(store.load_take_audio(block.takes[0].id)) == 64_000
