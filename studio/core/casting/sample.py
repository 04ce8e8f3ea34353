"""Build a project from plain text with "Chapter N" headings (tests, benchmark, tools)."""

from __future__ import annotations

import re

from studio.core.model import Project, add_chapter

_HEADING = re.compile(r"^(Chapter\s+\w+)\s*$", re.MULTILINE | re.IGNORECASE)


def project_from_text(text: str, title: str = "Book") -> Project:
    """Return a project with one chapter per "Chapter N" heading, one block per paragraph."""
    project = Project(title=title)
    parts = _HEADING.split(text)
    if len(parts) == 1:
        parts = ["", "Chapter 1", text]
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        paragraphs = [" ".join(p.split()) for p in body.split("\n\n") if p.strip()]
        add_chapter(project, heading.strip(), paragraphs)
    return project
