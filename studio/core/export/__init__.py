"""Export chapters and books as MP3, WAV, FLAC and M4B, mastered to audiobook standards.

The API a dialog (or the ``studio export`` command) uses, in order:

1. :func:`export_readiness` (GUI thread): how many paragraphs in scope have no audio or stale
   audio, and what converting them costs (the :class:`~studio.core.generation.Plan` s to hand
   to the scheduler if the user chooses to convert first).
2. :func:`plan_export` (GUI thread): freeze the files to write from the project.
3. :func:`run_export` (worker thread): write them, with a progress callback and a
   :class:`~studio.core.errors.CancelToken`; returns an :class:`ExportResult`.
4. :func:`record_export` (GUI thread): add the result's record to the project (then save).

Nothing here imports Qt.
"""

from __future__ import annotations

from pathlib import Path

from studio.core.errors import CancelToken
from studio.core.export.acx import AcxReport, Check
from studio.core.export.assemble import AudioSource
from studio.core.export.options import (
    ExportError,
    ExportFormat,
    ExportOptions,
    Layout,
    Mastering,
    MasteringMode,
    Metadata,
)
from studio.core.export.plan import (
    ExportPlan,
    FilePlan,
    ParagraphRef,
    Readiness,
    export_readiness,
    plan_export,
)
from studio.core.export.run import (
    ExportedFile,
    ExportProgress,
    ExportResult,
    ProgressCallback,
    record_export,
    run_export,
)
from studio.core.export.tags import ChapterMark
from studio.core.model import Project

__all__ = [
    "AcxReport",
    "AudioSource",
    "ChapterMark",
    "Check",
    "ExportError",
    "ExportFormat",
    "ExportOptions",
    "ExportPlan",
    "ExportProgress",
    "ExportResult",
    "ExportedFile",
    "FilePlan",
    "Layout",
    "Mastering",
    "MasteringMode",
    "Metadata",
    "ParagraphRef",
    "ProgressCallback",
    "Readiness",
    "export_project",
    "export_readiness",
    "plan_export",
    "record_export",
    "run_export",
]


def export_project(
    project: Project,
    options: ExportOptions,
    target: str | Path,
    audio: AudioSource | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ExportResult:
    """Plan and run an export in one call (scripts and tests; the app plans on its thread)."""
    return run_export(plan_export(project, options, target), audio, progress, cancel)
