"""Errors a user can act on, and cancellation.

Every error raised on purpose by the core is a :class:`StudioError` whose ``str()`` is a
one-line message fit for a status bar, a dialog or the command line. Messages name the file
or the thing at fault and say what to do; they never contain secrets (API keys).
"""

from __future__ import annotations

import threading
from pathlib import Path


class StudioError(Exception):
    """Base class for errors with a message meant for the user."""


class TextImportError(StudioError):
    """A manuscript could not be imported."""

    def __init__(self, source: str | Path, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class ProjectFormatError(StudioError):
    """A file is not a project this version can open."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ProjectBusyError(StudioError):
    """A project is open for writing in another window or process."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {problem}")


class ProjectSaveError(StudioError):
    """A project could not be written; the file still holds the last committed state."""

    def __init__(self, path: str | Path, problem: str, existing: bool = True) -> None:
        self.path = str(path)
        self.problem = problem
        tail = "; the last saved state is intact" if existing else "; nothing was written"
        super().__init__(f"{self.path}: could not save ({problem}){tail}")


class EditError(StudioError):
    """An edit was refused (locked paragraph, bad index, ...)."""


class Cancelled(StudioError):
    """The user cancelled a long operation."""

    def __init__(self, what: str = "operation") -> None:
        super().__init__(f"{what} cancelled")


class CancelToken:
    """A thread-safe flag that long core functions poll between units of work.

    Two levels: :meth:`cancel` asks to *stop*: start nothing new, but let work that is
    already paid for (a response being received) finish. :meth:`abort` also abandons work
    in progress. ``cancelled`` is true for both.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._abort = threading.Event()

    def cancel(self) -> None:
        """Request a stop: no new work."""
        self._event.set()

    def abort(self) -> None:
        """Request a stop that also abandons work in progress."""
        self._event.set()
        self._abort.set()

    @property
    def cancelled(self) -> bool:
        """Return whether a stop (or an abort) was requested."""
        return self._event.is_set()

    @property
    def aborted(self) -> bool:
        """Return whether work in progress must be abandoned too."""
        return self._abort.is_set()

    def raise_if_cancelled(self, what: str = "operation") -> None:
        """Raise :class:`Cancelled` if a stop was requested."""
        if self._event.is_set():
            raise Cancelled(what)

    def raise_if_aborted(self, what: str = "operation") -> None:
        """Raise :class:`Cancelled` if an abort was requested."""
        if self._abort.is_set():
            raise Cancelled(what)

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return early (True) if a stop is requested."""
        return self._event.wait(max(0.0, seconds))
