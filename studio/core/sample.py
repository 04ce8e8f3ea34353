"""The bundled public-domain sample book, and where bundled resources live."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from studio.core.importing import import_source
from studio.core.store import ProjectStore

APP_NAME = "NarratorStudio"
SAMPLE_MANUSCRIPT = "sample/aesop.md"


def resources_dir() -> Path:
    """Return the folder of bundled resources (``resources/`` beside the package)."""
    here = Path(__file__).resolve().parent.parent.parent / "resources"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parent.parent / "resources"  # frozen bundles


def user_data_dir() -> Path:
    """Return the per-user data folder (created on demand)."""
    path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def create_sample_project(output: Path | None = None, overwrite: bool = False) -> Path:
    """Import the bundled sample book into a project file and return its path.

    An existing sample project is kept (with the user's work in it) unless ``overwrite``.
    """
    path = output or user_data_dir() / "samples" / "Aesop's Fables.studio"
    if path.exists() and not overwrite:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    project, _ = import_source(resources_dir() / SAMPLE_MANUSCRIPT, author="Aesop")
    ProjectStore.create(path, project, overwrite=overwrite).close()
    return path
