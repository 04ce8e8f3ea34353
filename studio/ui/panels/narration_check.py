"""Narration check dialog: paragraphs whose audio skips, repeats or adds words, with a diff.

Signals:
    regenerate_requested(str): the block id of a paragraph to regenerate.
    check_finished(int): how many paragraphs were flagged.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from studio.core.model import ChapterId, Project
from studio.core.transcript.check import DiffOp, ParagraphCheck, check_narration

_STYLE = {
    DiffOp.MISSING: '<del style="color:#c62828;background:#fde0e0">{}</del>',
    DiffOp.EXTRA: '<ins style="color:#1b5e20;background:#dcf5dc">{}</ins>',
    DiffOp.REPEATED: '<ins style="color:#8d4e00;background:#fff0cc" title="repeated">{}</ins>',
}


def diff_html(check: ParagraphCheck) -> str:
    """Return the word diff as HTML: missing words struck out, added words underlined."""
    out = []
    for part in check.diff:
        words = html.escape(" ".join(part.words))
        out.append(_STYLE[part.op].format(words) if part.op in _STYLE else words)
    return " ".join(out)


class _Signals(QObject):
    finished = Signal(list)
    failed = Signal(object)


class _CheckJob(QRunnable):
    def __init__(self, project: Project, chapters: list[ChapterId] | None,
                 audio: dict[str, bytes]) -> None:
        super().__init__()
        self.signals = _Signals()
        self.project, self.chapters, self.audio = project, chapters, audio

    def run(self) -> None:
        try:
            # Reads the project (text and take timings) only; the takes' audio was loaded on
            # the GUI thread, which owns the store.
            result = check_narration(self.project, self.chapters, audio=self.audio.__getitem__)
        except Exception as exc:  # reported through failed, never swallowed
            self.signals.failed.emit(exc)
            return
        self.signals.finished.emit(result)


class NarrationCheckDialog(QDialog):
    """Check the narration of a chapter and list flagged paragraphs with their word diff."""

    regenerate_requested = Signal(str)
    check_finished = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Narration Check")
        self.resize(640, 420)
        self.checks: list[ParagraphCheck] = []
        self.status = QLabel("Recognises each paragraph offline and compares it with the "
                             "script. A flag is a prompt to listen: recognition can mishear.")
        self.status.setWordWrap(True)
        self.list = QListWidget()
        self.diff = QTextBrowser()
        self.regenerate = QPushButton("Regenerate")
        self.regenerate.setEnabled(False)
        self.regenerate.clicked.connect(self._on_regenerate_clicked)
        self.list.currentRowChanged.connect(self._on_list_row_changed)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.regenerate)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.diff, 1)
        layout.addLayout(buttons)
        self._job: _CheckJob | None = None

    def start(self, project: Project, chapters: list[ChapterId] | None,
              audio: dict[str, bytes], pool: QThreadPool | None = None) -> None:
        """Check ``chapters`` of ``project`` on a worker; results arrive in :meth:`set_results`."""
        self.status.setText("Checking…")
        job = _CheckJob(project, chapters, audio)
        job.signals.finished.connect(self.set_results)
        job.signals.failed.connect(self._on_job_failed)
        self._job = job
        (pool or QThreadPool.globalInstance()).start(job)

    def set_results(self, checks: list[ParagraphCheck]) -> None:
        """Show the flagged paragraphs of ``checks``."""
        self._job = None
        self.checks = [c for c in checks if c.flagged]
        self.list.clear()
        for c in self.checks:
            item = QListWidgetItem(f"Chapter {c.chapter_number} ¶{c.paragraph_number}: "
                                   f"{c.script[:60]}")
            item.setData(Qt.ItemDataRole.UserRole, str(c.block_id))
            self.list.addItem(item)
        self.status.setText(f"{len(self.checks)} of {len(checks)} narrated paragraphs flagged.")
        if self.checks:
            self.list.setCurrentRow(0)
        else:
            self.diff.clear()
        self.check_finished.emit(len(self.checks))

    def _on_job_failed(self, exc: Any) -> None:
        self._job = None
        self.status.setText(f"The check failed: {exc}")
        self.check_finished.emit(0)

    def _on_list_row_changed(self, row: int) -> None:
        ok = 0 <= row < len(self.checks)
        self.regenerate.setEnabled(ok)
        self.diff.setHtml(diff_html(self.checks[row]) if ok else "")

    def _on_regenerate_clicked(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.checks):
            self.regenerate_requested.emit(str(self.checks[row].block_id))
