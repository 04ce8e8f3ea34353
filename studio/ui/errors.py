"""One route for every error to reach the user (Anki's ``show_exception``)."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from studio.core.errors import StudioError

log = logging.getLogger(__name__)


def show_error(parent: QWidget | None, exc: BaseException, title: str = "Narrator Studio") -> None:
    """Show ``exc``: a short message for known errors, details for unexpected ones."""
    box = QMessageBox(parent)
    box.setWindowTitle(title)
    if isinstance(exc, StudioError):
        box.setIcon(QMessageBox.Icon.Warning)
        box.setText(str(exc))
    else:
        box.setIcon(QMessageBox.Icon.Critical)
        box.setText(f"Something went wrong: {exc}")
        box.setDetailedText("".join(traceback.format_exception(exc)))
    box.exec()


class _Relay(QObject):
    """Carries an exception from a worker thread to a dialog on the GUI thread."""

    raised = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.raised.connect(lambda exc: show_error(None, exc))


_relay: _Relay | None = None


def install_excepthooks() -> None:
    """Route uncaught exceptions from any thread to the log and a dialog."""

    def hook(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        log.error("uncaught exception", exc_info=(exc_type, exc, tb))
        show_error(None, exc)

    global _relay
    _relay = _Relay()  # made on the GUI thread: its signal reaches the dialog there
    relay = _relay

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            log.error("uncaught exception in thread", exc_info=args.exc_value)
            relay.raised.emit(args.exc_value)  # queued to the GUI thread: never only a log line

    sys.excepthook = hook
    threading.excepthook = thread_hook
