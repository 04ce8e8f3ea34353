"""Application preferences: one dataclass, JSON in the user's config folder, versioned.

Project choices (voices, model, pronunciations) live in the project file, not here. The API
key is not a setting: it comes from ``ELEVENLABS_API_KEY`` or the OS keyring, or (only when
the user explicitly chooses to store it unencrypted) from ``api_key_plaintext``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

log = logging.getLogger(__name__)

APP_NAME = "NarratorStudio"
KEYRING_SERVICE = "NarratorStudio"
KEYRING_USER = "elevenlabs-api-key"
DEFAULT_BASE_URL = "https://api.elevenlabs.io"
SCHEMA_VERSION = 1


@dataclass(slots=True)
class AppSettings:
    """Every preference, declared once with its default."""

    schema_version: int = SCHEMA_VERSION
    engine: str = "auto"  # "auto" (ElevenLabs when a key is set), "elevenlabs", "offline"
    base_url: str = DEFAULT_BASE_URL
    concurrency: int = 0  # 0: from the plan / the server's maximum-concurrent-requests header
    default_model: str = "eleven_multilingual_v2"
    output_format: str = "mp3_44100_128"
    api_key_plaintext: str = ""  # only with explicit consent; keyring preferred

    def __repr__(self) -> str:  # never show the key in logs or tracebacks
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["api_key_plaintext"] = "***" if self.api_key_plaintext else ""
        return f"AppSettings({fields})"


#: ``MIGRATIONS[n]`` turns a version-``n`` settings dict into version ``n + 1``.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def config_path() -> Path:
    """Return the settings file's path."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "settings.json"


def load_settings(path: Path | None = None) -> AppSettings:
    """Read settings, migrating old versions; a missing or unreadable file gives defaults."""
    path = path or config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return AppSettings()
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable settings file %s: %s", path, exc)
        return AppSettings()
    if not isinstance(data, dict):
        return AppSettings()
    version = data.get("schema_version", 1)
    while isinstance(version, int) and version < SCHEMA_VERSION and version in MIGRATIONS:
        data = MIGRATIONS[version](data)
        version += 1
        data["schema_version"] = version
    known = {f.name for f in dataclasses.fields(AppSettings)}
    settings = AppSettings()
    for key, value in data.items():
        default = getattr(settings, key, None)
        if key in known and isinstance(value, type(default)):
            setattr(settings, key, value)
    return settings


def save_settings(settings: AppSettings, path: Path | None = None) -> None:
    """Write settings atomically (mode 0600: it may hold a key the user chose to store)."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(dataclasses.asdict(settings), fh, indent=1)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def keyring_key() -> str | None:
    """Return the key stored in the OS keyring, or None (no keyring backend is not an error)."""
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(KEYRING_SERVICE, KEYRING_USER) or None
        except KeyringError:
            return None
    except Exception:  # a broken backend must not stop the app
        log.info("keyring unavailable", exc_info=True)
        return None


def resolve_api_key(settings: AppSettings | None = None) -> tuple[str | None, str]:
    """Return the ElevenLabs key and where it came from ("environment", "keyring", ...)."""
    key = os.environ.get("ELEVENLABS_API_KEY", "").strip()
    if key:
        return key, "environment (ELEVENLABS_API_KEY)"
    key = keyring_key() or ""
    if key:
        return key, "OS keyring"
    if settings is not None and settings.api_key_plaintext:
        return settings.api_key_plaintext, "settings file"
    return None, "none"


def resolve_base_url(settings: AppSettings | None = None) -> str:
    """Return the API base URL: ``ELEVENLABS_BASE_URL``, else settings, else the default."""
    url = os.environ.get("ELEVENLABS_BASE_URL", "").strip()
    if url:
        return url.rstrip("/")
    if settings is not None and settings.base_url:
        return settings.base_url.rstrip("/")
    return DEFAULT_BASE_URL
