"""The generation queue: the paragraphs of the current render, each with its state.

One row per paragraph of the plan (a long paragraph sent in parts is still one row). The
panel follows the :class:`~studio.ui.workers.GenerationController`'s signals; it cancels
waiting paragraphs through the controller and asks the window to retry failed ones (the
window plans and confirms the cost, as for any render).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QMetaObject,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import EditError
from studio.core.generation import Plan
from studio.core.model import BlockId, Project, speakable_text
from studio.core.scheduler import Progress, RunSummary
from studio.ui.workers import GenerationController

_Index = QModelIndex | QPersistentModelIndex

WAITING = "waiting"
SENDING = "sending"
RETRYING = "retrying"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
QUEUED = "queued"  # failed, and queued to be tried again after the current render
UNFINISHED = (WAITING, SENDING, RETRYING)
BLOCK_ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATE_ROLE = Qt.ItemDataRole.UserRole + 2
SNIPPET = 48

_COLOURS = {
    SENDING: QColor(40, 120, 200),
    RETRYING: QColor(200, 130, 20),
    DONE: QColor(40, 140, 70),
    FAILED: QColor(200, 40, 40),
    QUEUED: QColor(200, 130, 20),
}


@dataclass(slots=True)
class QueueRow:
    """One paragraph of the render."""

    block_id: BlockId
    chapter: str
    paragraph: int  # 1-based, in its chapter
    text: str
    voice: str
    characters: int
    parts: int
    state: str = WAITING
    detail: str = ""  # the reason (failed, retrying), the duration (done) or the part sent

    @property
    def state_text(self) -> str:
        """Return the state as the panel shows it ("failed (reason)", "done (3.2 s)")."""
        if self.state == QUEUED:
            return "queued for retry"
        return f"{self.state} ({self.detail})" if self.detail else self.state


def rows_for(plan: Plan, project: Project) -> list[QueueRow]:
    """Return one row per paragraph of ``plan``, in reading order."""
    jobs: dict[BlockId, tuple[int, int]] = {}  # block -> (characters, parts)
    for job in plan.jobs:
        chars, _ = jobs.get(job.block_id, (0, 0))
        jobs[job.block_id] = (chars + job.characters, job.parts)
    rows: list[QueueRow] = []
    for chapter in project.chapters:
        for n, block in enumerate(chapter.blocks, 1):
            if block.id not in jobs:
                continue
            voice = project.voice_for(block)
            chars, parts = jobs[block.id]
            rows.append(QueueRow(block.id, chapter.title, n, speakable_text(block.text),
                                 voice.alias if voice else "?", chars, parts))
    return rows


class QueueModel(QAbstractTableModel):
    """The rows of the queue, as a table: a heading line per chapter, then its paragraphs.

    Headings span the table (the view sets that) and cannot be selected; ``rows`` holds the
    paragraph rows alone, in order. The counts per state and per heading are kept as states
    change, so neither a repaint nor a state change walks the rows.
    """

    COLUMNS = ("State", "Paragraph", "Voice", "Chars")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[QueueRow] = []
        self._lines: list[QueueRow | str] = []  # a str is a chapter heading
        self._line_of: dict[str, int] = {}  # block id -> line
        self._heading_of: dict[str, int] = {}  # block id -> line of its chapter's heading
        self._counts: dict[str, int] = {}  # state -> rows in it
        self._heading_rows: dict[int, int] = {}  # heading line -> its paragraphs
        self._heading_done: dict[int, int] = {}  # heading line -> its paragraphs done

    def set_rows(self, rows: list[QueueRow]) -> None:
        """Show ``rows`` (a new render), grouped under their chapters."""
        self.beginResetModel()
        self.rows = rows
        self._lines, self._line_of, self._heading_of = [], {}, {}
        self._counts, self._heading_rows, self._heading_done = {}, {}, {}
        heading = -1
        for r in rows:
            if heading < 0 or self._lines[heading] != r.chapter:
                heading = len(self._lines)
                self._lines.append(r.chapter)
                self._heading_rows[heading] = self._heading_done[heading] = 0
            self._heading_of[r.block_id] = heading
            self._line_of[r.block_id] = len(self._lines)
            self._lines.append(r)
            self._heading_rows[heading] += 1
            self._count(r, +1)
        self.endResetModel()

    def _count(self, row: QueueRow, delta: int) -> None:
        self._counts[row.state] = self._counts.get(row.state, 0) + delta
        if row.state == DONE:
            self._heading_done[self._heading_of[row.block_id]] += delta

    def headings(self) -> list[int]:
        """Return the lines that are chapter headings."""
        return [i for i, line in enumerate(self._lines) if isinstance(line, str)]

    def line_of(self, block_id: str) -> int:
        """Return the line of a paragraph, or -1."""
        return self._line_of.get(block_id, -1)

    def row_at(self, line: int) -> QueueRow | None:
        """Return the paragraph on ``line`` (None for a heading)."""
        item = self._lines[line] if 0 <= line < len(self._lines) else None
        return item if isinstance(item, QueueRow) else None

    def row(self, block_id: str) -> QueueRow | None:
        """Return the row of a paragraph, if it is in the queue."""
        return self.row_at(self.line_of(block_id))

    def set_state(self, block_id: str, state: str, detail: str = "") -> None:
        """Change a paragraph's state and repaint its row and its chapter's heading."""
        self.set_states([(block_id, state, detail)])

    def set_states(self, changes: Iterable[tuple[str, str, str]]) -> None:
        """Change many paragraphs' states (block id, state, detail) with one repaint."""
        lines: list[int] = []
        for block_id, state, detail in changes:
            row = self.row(block_id)
            if row is None:
                continue
            self._count(row, -1)
            row.state, row.detail = state, detail
            self._count(row, +1)
            lines += (self._line_of[block_id], self._heading_of[block_id])
        # One signal per run of neighbouring lines: a range from a heading to a row far
        # below it would make the view go through every line in between.
        last = len(self.COLUMNS) - 1
        runs: list[list[int]] = []
        for line in sorted(set(lines)):
            if runs and line - runs[-1][1] <= 1:
                runs[-1][1] = line
            else:
                runs.append([line, line])
        for first, end in runs:
            self.dataChanged.emit(self.index(first, 0), self.index(end, last))

    def count(self, *states: str) -> int:
        """Return how many rows are in one of ``states``."""
        return sum(self._counts.get(s, 0) for s in states)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if self.row_at(index.row()) is None:
            return Qt.ItemFlag.ItemIsEnabled
        return super().flags(index)

    def _heading_data(self, line: int, role: int) -> Any:
        title = self._lines[line]
        if role == Qt.ItemDataRole.DisplayRole:
            done, total = self._heading_done[line], self._heading_rows[line]
            return f"{done}/{total}  {title}"  # the count first: long titles are elided
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        r = self.row_at(index.row())
        if r is None:
            return self._heading_data(index.row(), role) if index.column() == 0 else None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return r.state_text
            if column == 1:
                snippet = r.text if len(r.text) <= SNIPPET else r.text[: SNIPPET - 1] + "…"
                return f"¶{r.paragraph} {snippet}"
            if column == 2:
                return r.voice
            return f"{r.characters:,}"
        if role == Qt.ItemDataRole.ForegroundRole and column == 0 and r.state in _COLOURS:
            return QBrush(_COLOURS[r.state])
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            parts = f" in {r.parts} requests" if r.parts > 1 else ""
            return (f"{r.chapter}, paragraph {r.paragraph} · {r.voice} · "
                    f"{r.characters:,} characters{parts}\n{r.state_text}\n\n{r.text[:400]}")
        if role == BLOCK_ID_ROLE:
            return r.block_id
        if role == STATE_ROLE:
            return r.state
        return None


def _eta(seconds: float) -> str:
    if seconds < 60:
        return f"about {max(1, round(seconds))} s left"
    minutes = round(seconds / 60)
    return f"about {minutes} min left" if minutes < 90 else f"about {minutes / 60:.1f} h left"


class QueuePanel(QWidget):
    """The paragraphs of the current render, with cancel, cancel all and retry.

    Signals:
        paragraph_activated(str): the user double-clicked a row (block id).
        retry_requested(list): the user asked to generate these failed paragraphs again
            (block ids); the window plans, confirms and runs them.
    """

    paragraph_activated = Signal(str)
    retry_requested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller: GenerationController | None = None
        self.project: Project | None = None
        self._connections: list[QMetaObject.Connection] = []
        self.model = QueueModel()
        self.status = QLabel("Nothing is being generated.")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.view = QTreeView()
        self.view.setObjectName("queue")
        self.view.setModel(self.model)
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 100)
        header.resizeSection(2, 72)
        header.resizeSection(3, 44)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.doubleClicked.connect(self._on_double_clicked)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.model.dataChanged.connect(lambda *_: self._update_buttons())
        self.model.modelReset.connect(self._on_model_reset)

        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Cancel the selected paragraphs that are still waiting "
                                      "(nothing is sent for them)")
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.cancel_all_button = QPushButton("Cancel All")
        self.cancel_all_button.setToolTip("Stop the render: nothing new is sent; responses "
                                          "under way still arrive (they are paid for)")
        self.cancel_all_button.clicked.connect(self.cancel_all)
        self.retry_button = QPushButton("Retry Failed")
        self.retry_button.setToolTip("Generate the selected failed paragraphs again (all "
                                     "failed ones when none is selected)")
        self.retry_button.clicked.connect(self.retry_failed)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.cancel_button, self.cancel_all_button, self.retry_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    # -- wiring --------------------------------------------------------------------------------

    def set_controller(self, controller: GenerationController | None,
                       project: Project | None) -> None:
        """Follow the renders of ``controller`` on ``project`` (a newly opened project)."""
        for connection in self._connections:
            QObject.disconnect(connection)
        self._connections = []
        self.controller, self.project = controller, project
        self.model.set_rows([])
        self.status.setText("Nothing is being generated.")
        self.progress.setValue(0)
        self.progress.setFormat("")
        if controller is not None:
            c = controller
            self._connections = [
                c.started.connect(self._on_started),
                c.job_started.connect(self._on_job_started),
                c.job_retrying.connect(self._on_job_retrying),
                c.take_added.connect(self._on_take_added),
                c.job_failed.connect(self._on_job_failed),
                c.job_skipped.connect(self._on_job_skipped),
                c.progress.connect(self._on_progress),
                c.finished.connect(self._on_finished),
            ]
        self._update_buttons()

    @property
    def running(self) -> bool:
        return self.controller is not None and self.controller.running

    def _update_buttons(self) -> None:
        selected = self.selected_rows()
        self.cancel_button.setEnabled(self.running and any(
            r.state == WAITING for r in selected))
        self.cancel_all_button.setEnabled(self.running)
        failed = any(r.state == FAILED for r in selected) if selected else bool(
            self.model.count(FAILED))
        self.retry_button.setEnabled(failed)

    def _on_model_reset(self) -> None:
        for line in self.model.headings():  # chapter headings span the table
            self.view.setFirstColumnSpanned(line, QModelIndex(), True)
        self._update_buttons()

    def selected_rows(self) -> list[QueueRow]:
        """Return the selected paragraph rows, in order."""
        lines = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [r for line in lines if (r := self.model.row_at(line)) is not None]

    def _update_status(self) -> None:
        model = self.model
        total = len(model.rows)
        done = model.count(DONE)
        failed = model.count(FAILED, QUEUED)
        cancelled = model.count(CANCELLED)
        sending = model.count(SENDING, RETRYING)
        parts = [f"{done} of {total} paragraphs done"]
        if sending:
            parts.append(f"{sending} sending")
        if failed:
            parts.append(f"{failed} failed")
        if cancelled:
            parts.append(f"{cancelled} cancelled")
        self.status.setText(" · ".join(parts))

    # -- controller events -----------------------------------------------------------------------

    def _on_started(self, plan: object) -> None:
        assert isinstance(plan, Plan)
        if self.project is None:
            return
        self.model.set_rows(rows_for(plan, self.project))
        self.progress.setValue(0)
        self.progress.setFormat(f"0% · {plan.characters:,} characters")
        self._update_status()

    def _on_job_started(self, block_id: str, part: int, parts: int) -> None:
        self.model.set_state(block_id, SENDING, f"part {part + 1}/{parts}" if parts > 1 else "")
        if not self.view.selectionModel().hasSelection():  # follow the render, unless in use
            line = self.model.line_of(block_id)
            self.view.scrollTo(self.model.index(line, 0),
                               QAbstractItemView.ScrollHint.EnsureVisible)
        self._update_status()

    def _on_job_retrying(self, block_id: str, reason: str) -> None:
        self.model.set_state(block_id, RETRYING, reason)
        self._update_status()

    def _on_take_added(self, block_id: str) -> None:
        take = None
        if self.project is not None:
            try:
                take = self.project.block(BlockId(block_id)).current_take
            except EditError:  # deleted while it was being generated
                take = None
        self.model.set_state(block_id, DONE, f"{take.duration:.1f} s" if take else "")
        self._update_status()

    def _on_job_failed(self, block_id: str, reason: str) -> None:
        self.model.set_state(block_id, FAILED, reason)
        self._update_status()

    def _on_job_skipped(self, block_id: str, _progress: object) -> None:
        self.model.set_state(block_id, CANCELLED)
        self._update_status()

    def _on_progress(self, progress: object) -> None:
        assert isinstance(progress, Progress)
        self.progress.setValue(round(progress.fraction * 1000))
        eta = f" · {_eta(progress.eta)}" if progress.eta is not None else ""
        self.progress.setFormat(f"{progress.fraction:.0%}{eta}")

    def _on_finished(self, summary: object) -> None:
        assert isinstance(summary, RunSummary)
        # Stopped (or a fatal error) before they were sent: one repaint for them all.
        self.model.set_states((row.block_id, CANCELLED, "") for row in self.model.rows
                              if row.state in UNFINISHED)
        if summary.fatal is None and not summary.cancelled:
            self.progress.setValue(1000)
        self.progress.setFormat("Stopped" if summary.cancelled or summary.fatal else "Done")
        self._update_status()
        self._update_buttons()

    # -- user actions ----------------------------------------------------------------------------

    def cancel(self, block_ids: list[str]) -> list[str]:
        """Cancel waiting paragraphs; return those that will not be sent."""
        if self.controller is None:
            return []
        return [b for b in block_ids if self.controller.skip(b)]

    def cancel_selected(self) -> None:
        """Cancel the selected waiting paragraphs."""
        self.cancel([r.block_id for r in self.selected_rows() if r.state == WAITING])

    def cancel_all(self) -> None:
        """Stop the render (responses under way still arrive)."""
        if self.controller is not None:
            self.controller.stop()
            self.status.setText("Stopping after the requests under way…")

    def retry_failed(self) -> None:
        """Ask for the selected failed paragraphs (or all failed ones) to be generated again."""
        selected = [r for r in self.selected_rows() if r.state == FAILED]
        rows = selected or [r for r in self.model.rows if r.state == FAILED]
        if not rows:
            return
        self.retry_requested.emit([r.block_id for r in rows])

    def mark_queued(self, block_ids: list[str], queued: bool = True) -> None:
        """Show failed paragraphs as waiting for the current render to end to be retried
        (or, with ``queued`` false, as failed again: the retry was dropped)."""
        old, new = (FAILED, QUEUED) if queued else (QUEUED, FAILED)
        rows = [r for b in block_ids if (r := self.model.row(b)) is not None and r.state == old]
        self.model.set_states((r.block_id, new, r.detail) for r in rows)
        self._update_status()

    def _on_double_clicked(self, index: QModelIndex) -> None:
        block_id = index.data(BLOCK_ID_ROLE)
        if block_id:
            self.paragraph_activated.emit(str(block_id))
