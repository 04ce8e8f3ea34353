"""Time speaker detection on a 100,000-word novel (the Pride and Prejudice fixture, repeated).

Run: .venv/bin/python benchmarks/casting_bench.py
"""

from __future__ import annotations

import time
from pathlib import Path

from studio.core.casting.detect import detect
from studio.core.casting.sample import project_from_text

FIXTURE = Path(__file__).parent.parent / "tests/data/casting/pride_and_prejudice_ch1-2.txt"


def main() -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    copies = -(-100_000 // len(text.split()))
    project = project_from_text("\n\n".join([text] * copies))
    words = sum(len(b.text.split()) for _, b in project.iter_blocks())
    start = time.perf_counter()
    sheet = detect(project)
    elapsed = time.perf_counter() - start
    print(f"{words:,} words, {len(project.chapters)} chapters, {len(sheet.lines):,} quoted lines, "
          f"{len(sheet.characters)} characters: detection took {elapsed:.2f} s")


if __name__ == "__main__":
    main()
