"""Chapter summaries kept from changes: the same counts as a recount, for far less work."""

from __future__ import annotations

import pytest

from studio.core import model as m
from studio.core import summary as summary_module
from studio.core.model import BlockId, ChapterId, VoiceId, summarize_chapter
from studio.core.summary import SummaryCache
from tests.core.factories import make_project, make_take


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the paragraphs whose status the cache works out."""
    calls: list[str] = []
    status = summary_module.block_status

    def counting(project: m.Project, block: m.Block) -> m.BlockStatus:
        calls.append(block.id)
        return status(project, block)

    monkeypatch.setattr(summary_module, "block_status", counting)
    return calls


def _check(cache: SummaryCache, project: m.Project) -> None:
    for chapter in project.chapters:
        assert cache.summary(chapter) == summarize_chapter(project, chapter)


def test_each_paragraph_is_counted_once_until_a_change_names_it(hashed: list[str]) -> None:
    project = make_project(chapters=2, blocks=50)
    cache = SummaryCache(project)
    _check(cache, project)
    _check(cache, project)
    assert len(hashed) == 100  # every paragraph once, however often it is asked

    hashed.clear()
    block = project.chapters[0].blocks[7]
    cache.update(m.add_take(project, make_take(project, block.id)))
    cache.update(m.set_block_text(project, BlockId("c1b3"), "A new text for it."))
    _check(cache, project)
    assert sorted(hashed) == ["c0b7", "c1b3"]
    assert cache.summary(project.chapters[0]).converted == 1


def test_structure_edits_count_only_the_new_paragraphs(hashed: list[str]) -> None:
    project = make_project(chapters=2, blocks=20)
    cache = SummaryCache(project)
    _check(cache, project)
    hashed.clear()
    cache.update(m.split_block(project, BlockId("c0b4"), 5))
    cache.update(m.remove_block(project, BlockId("c1b0")))
    _check(cache, project)
    assert len(hashed) <= 3  # the two halves of the split (no other paragraph)
    cache.update(m.remove_chapter(project, ChapterId("c1")))
    _check(cache, project)


def test_what_every_paragraph_depends_on_recounts_everything(hashed: list[str]) -> None:
    project = make_project(chapters=1, blocks=10)
    for block in project.chapters[0].blocks:
        m.add_take(project, make_take(project, block.id))
    cache = SummaryCache(project)
    assert cache.summary(project.chapters[0]).converted == 10
    cache.update(m.update_voice(project, VoiceId("v-narrator"), speed=1.2))
    assert cache.summary(project.chapters[0]).stale == 10
    cache.update(m.set_project_meta(project, title="Another title"))  # no status changes
    hashed.clear()
    _check(cache, project)
    assert hashed == []
    cache.update(m.set_project_meta(project, language="de"))
    _check(cache, project)
    assert len(hashed) == 10


def test_locking_paragraphs_recounts_none_of_them(hashed: list[str]) -> None:
    project = make_project(chapters=1, blocks=200)
    cache = SummaryCache(project)
    _check(cache, project)
    hashed.clear()
    ids = [b.id for b in project.chapters[0].blocks]
    changes = m.Changes()
    for block_id in ids:
        changes = changes | m.set_block_locked(project, block_id, True)
    cache.update(changes)
    _check(cache, project)
    assert hashed == []  # a lock changes nothing the counts depend on
    cache.update(m.set_block_locked(project, ids[3], False))
    changes = m.set_block_text(project, ids[3], "A new text.")
    cache.update(changes)
    _check(cache, project)
    assert ids[3] in hashed
