"""A search with many matches makes a match (offsets, context) only when it is read."""

from __future__ import annotations

import pytest

from studio.core import find
from studio.core.model import BlockId, break_tag
from tests.core.factories import make_project

PAUSE = break_tag(1.0)


def _book():  # type: ignore[no-untyped-def]
    project = make_project(chapters=3, blocks=40)
    project.block(BlockId("c0b1")).text = f"The fox ran. {PAUSE} The Fox hid the fox."
    project.block(BlockId("c1b5")).text = "Foxes and a foxglove; fox_trot is one word."
    project.block(BlockId("c2b0")).locked = True
    return project


@pytest.mark.parametrize("query, options", [
    ("fox", {}), ("Fox", {"case_sensitive": True}), ("fox", {"whole_word": True}),
    (r"f(o)x", {"regex": True}), (r"o*", {"regex": True}), ("chapter 3", {}), ("break", {}),
    ("of", {}), ("zebra", {}),
])
def test_search_reads_as_the_eager_list(query: str, options: dict[str, bool]) -> None:
    project = _book()
    eager = find.find_matches(project, query, **options)
    lazy = find.search(project, query, **options)
    assert len(lazy) == len(eager)
    assert list(lazy) == eager
    assert [lazy[i] for i in range(len(lazy) - 1, -1, -1)] == eager[::-1]
    for i, match in enumerate(eager):
        assert lazy.row_of(match.block_id, match.start, match.end) == i
        assert lazy.row_at(match.position) == i
    assert lazy.row_at((99, 0, 0)) is None


def test_context_is_worked_out_only_for_the_matches_read(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project = make_project(chapters=2, blocks=500)
    for _, block in project.iter_blocks():
        block.text = "the cat and the dog and the bird. " * 4
    made: list[int] = []
    context = find._context
    monkeypatch.setattr(find, "_context", lambda *a: (made.append(1), context(*a))[1])
    matches = find.search(project, "the")
    assert len(matches) == 1000 * 12
    assert made == []  # counting found them all, and made none
    matches[0], matches[5000], matches[-1], matches[5000]
    assert len(made) == 3


def test_replace_plan_matches_the_slow_path() -> None:
    project = _book()
    plan = find.plan_replace_all(project, "fox", r"w\olf")
    assert plan.texts[BlockId("c0b1")] == f"The w\\olf ran. {PAUSE} The w\\olf hid the w\\olf."
    assert plan.texts[BlockId("c1b5")] == r"w\olfes and a w\olfglove; w\olf_trot is one word."
    assert plan.replacements == 6 and plan.locked_paragraphs == 0
