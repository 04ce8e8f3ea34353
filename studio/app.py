"""Application wiring: the QApplication, logging, exception hooks and the main window."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from studio import __version__
from studio.core.errors import StudioError
from studio.core.sample import create_sample_project, resources_dir, user_data_dir
from studio.core.store import SUFFIX

__all__ = ["main", "resources_dir"]

log = logging.getLogger("studio")


def _setup_logging() -> None:
    log_dir = user_data_dir() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.FileHandler(log_dir / "studio.log", encoding="utf-8")],
    )


def _resolve_project(args: argparse.Namespace) -> Path | None:
    """Return the project the window should open, importing a manuscript if one was given."""
    if args.sample:
        return create_sample_project()
    file: Path | None = args.file
    if file is None:
        return None
    if file.suffix.lower() == SUFFIX:
        return file
    target = file.with_suffix(SUFFIX)
    if not target.exists():
        from studio.core.importing import import_source
        from studio.core.store import ProjectStore

        project, _report = import_source(file)
        ProjectStore.create(target, project).close()
        log.info("imported %s into %s", file, target)
    return target


def main(args: argparse.Namespace) -> int:
    """Open the studio window; return the exit status."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from studio.ui.errors import install_excepthooks, show_error
    from studio.ui.main_window import MainWindow
    from studio.ui.theme import install_theme

    if (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    ):
        # Without this check Qt aborts the process with a core dump.
        sys.stderr.write(
            "studio: no display found; run it from a desktop session, or under a virtual "
            "screen with 'xvfb-run -a studio'\n"
        )
        return 1
    _setup_logging()
    failure: StudioError | None = None
    try:
        project_path = _resolve_project(args)
    except StudioError as exc:
        sys.stderr.write(f"studio: {exc}\n")
        if args.screenshot is not None:
            return 1
        project_path, failure = None, exc
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Narrator Studio")
    app.setOrganizationName("NarratorStudio")
    app.setApplicationVersion(__version__)
    install_excepthooks()
    install_theme()  # Fusion with the saved (or the system's) light/dark palette
    window = MainWindow()
    if project_path is not None:
        try:
            window.open_project(project_path)
        except StudioError as exc:
            show_error(window, exc)
    window.show()
    if failure is not None:  # tell the user in the window too, not only on a terminal
        QTimer.singleShot(0, lambda: show_error(window, failure))
    if args.screenshot is not None:
        def grab() -> None:
            window.grab().save(str(args.screenshot))
            window.close()

        QTimer.singleShot(300, grab)
    return int(app.exec())
