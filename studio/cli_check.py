"""``studio check``: flag paragraphs whose audio skips, repeats or adds words."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from studio.cli_render import chapter_ranges
from studio.core.errors import StudioError
from studio.core.store import ProjectStore
from studio.core.transcript.check import DiffOp, ParagraphCheck, check_narration


def add_parser(sub: Any) -> None:
    """Add the ``check`` subcommand."""
    p = sub.add_parser(
        "check", help="check the narration against the script (offline word diff)",
        description="Recognise each narrated paragraph offline and compare the words with its "
        "script; list the paragraphs whose audio skips, repeats or adds words. Exit status 1 "
        "when any paragraph is flagged.")
    p.add_argument("project", metavar="BOOK.studio", type=Path)
    p.add_argument("--chapters", type=chapter_ranges, metavar="1,3-5",
                   help="chapters to check (default: all)")
    p.add_argument("--json", action="store_true", help="print every paragraph's diff as JSON")


def describe(check: ParagraphCheck) -> str:
    """Return the diff as text: ``[-missing-]``, ``{+extra+}``, ``{+repeated+}(repeat)``."""
    out = []
    for part in check.diff:
        words = " ".join(part.words)
        if part.op is DiffOp.EQUAL:
            out.append(words)
        elif part.op is DiffOp.MISSING:
            out.append(f"[-{words}-]")
        elif part.op is DiffOp.REPEATED:
            out.append(f"{{+{words}+}}(repeat)")
        else:
            out.append(f"{{+{words}+}}")
    return " ".join(out)


def cmd_check(args: argparse.Namespace) -> int:
    """Check a project's narration."""
    with ProjectStore.open(args.project, read_only=True) as store:
        project = store.load()
        chapters = None
        if args.chapters:
            too_big = [n for n in args.chapters if n > len(project.chapters)]
            if too_big:
                raise StudioError(f"{args.project}: has {len(project.chapters)} chapters; "
                                  f"there is no chapter {too_big[0]}")
            chapters = [project.chapters[n - 1].id for n in args.chapters]
        checks = check_narration(project, chapters, audio=store.load_take_audio)
    flagged = [c for c in checks if c.flagged]
    if args.json:
        report = {"checked": len(checks), "flagged": len(flagged),
                  "paragraphs": [c.to_json() for c in checks]}
        print(json.dumps(report, ensure_ascii=False, indent=1))  # noqa: T201
    else:
        for c in flagged:
            print(f"chapter {c.chapter_number} ¶{c.paragraph_number}: {describe(c)}")  # noqa: T201
        print(f"{len(flagged)} of {len(checks)} paragraphs flagged", file=sys.stderr)  # noqa: T201
    return 1 if flagged else 0
