"""Narration check dialog: paragraphs whose audio skips, repeats or adds words, with a diff.

Signals:
    regenerate_requested(str): the block id of a paragraph to regenerate.
    check_finished(int): how many paragraphs were flagged.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
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
from studio.core.store import ProjectStore
from studio.core.transcript.check import DiffOp, ParagraphCheck, check_narration
from studio.ui.background import BackgroundCall

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
        if part.op in _STYLE:
            words = _STYLE[part.op].format(words)
            if part.confidence < 1.0:
                words = f'<span title="confidence {part.confidence:.0%}">{words}</span>'
        out.append(words)
    return " ".join(out)


def _run_check(project: Project, chapters: list[ChapterId] | None,
               store: Path | None) -> list[ParagraphCheck]:
    """Check the narration; runs on the worker thread, takes' audio read there too.

    The store is opened read-only for this thread (a SQLite connection belongs to the thread
    that made it), as the player does, so the GUI thread never waits on reading audio.
    """
    if store is None:
        return check_narration(project, chapters)
    with ProjectStore.open(store, read_only=True) as opened:
        return check_narration(project, chapters, audio=opened.load_take_audio)


class NarrationCheckDialog(QDialog):
    """Check the narration of a chapter and list flagged paragraphs with their word diff."""

    regenerate_requested = Signal(str)
    check_finished = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Narration Check")
        self.resize(640, 420)
        self.checks: list[ParagraphCheck] = []
        self.status = QLabel("Recognises each paragraph offline and aligns its script to the "
                             "audio; a paragraph is flagged when both find words skipped, "
                             "repeated or added and the audio's length agrees.")
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
        self.worker = BackgroundCall(self)
        self.worker.finished.connect(self.set_results)
        self.worker.failed.connect(self._on_job_failed)

    def start(self, project: Project, chapters: list[ChapterId] | None,
              store: Path | None = None) -> None:
        """Check ``chapters`` of ``project`` on a worker; results arrive in :meth:`set_results`.

        Args:
            store: the project file the takes' audio is read from (opened read-only on the
                worker), for a project loaded without its audio.
        """
        self.status.setText("Checking…")
        self.worker.start(lambda: _run_check(project, chapters, store))

    def set_results(self, checks: list[ParagraphCheck]) -> None:
        """Show the flagged paragraphs of ``checks``."""
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
