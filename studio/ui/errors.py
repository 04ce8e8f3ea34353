"""One route for every error to reach the user (Anki's ``show_exception``)."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

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


def install_excepthooks() -> None:
    """Route uncaught exceptions from any thread to the log and a dialog."""

    def hook(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        log.error("uncaught exception", exc_info=(exc_type, exc, tb))
        show_error(None, exc)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            log.error("uncaught exception in thread", exc_info=args.exc_value)

    sys.excepthook = hook
    threading.excepthook = thread_hook
