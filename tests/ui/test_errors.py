"""Errors reach the user: an exception on a worker thread becomes a dialog, not a log line."""

from __future__ import annotations

import sys
import threading

from PySide6.QtWidgets import QMessageBox

from studio.ui.errors import install_excepthooks


def test_an_uncaught_exception_in_a_thread_is_shown_in_a_dialog(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shown: list[tuple[str, str]] = []

    def record(box: QMessageBox) -> int:
        shown.append((box.text(), box.detailedText()))
        return 0

    monkeypatch.setattr(QMessageBox, "exec", record)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)  # restored afterwards
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    install_excepthooks()

    def fail() -> None:
        raise RuntimeError("the decoder fell over")

    worker = threading.Thread(target=fail)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(shown), timeout=5_000)
    text, details = shown[0]
    assert "the decoder fell over" in text and "RuntimeError" in details
