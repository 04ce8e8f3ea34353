"""Application preferences: one dataclass, JSON in the user's config folder, versioned.

Project choices (voices, model, pronunciations) live in the project file, not here. The API
key is not a setting: it comes from ``ELEVENLABS_API_KEY`` or the OS keyring, or a key typed in
for this session only, or (only when the user explicitly chooses to store it unencrypted) from
``api_key_plaintext``. :func:`store_api_key` puts a typed key in the keyring, falling back to
the settings file only with consent.
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

from studio.core.errors import StudioError

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
    plan: str = ""  # the ElevenLabs plan the user says they have ("": not said)
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
    key = environment_key()
    if key:
        return key, "environment (ELEVENLABS_API_KEY)"
    key = keyring_key() or ""
    if key:
        return key, "OS keyring"
    if _session_key:
        return _session_key, "key typed in for this session only"
    if settings is not None and settings.api_key_plaintext:
        return settings.api_key_plaintext, "settings file"
    return None, "none"


# ---------------------------------------------------------------------------------------------
# Storing the key: the OS keyring, else (only with consent) the settings file, else this session.


class KeyStorageError(StudioError):
    """The API key could not be stored where the user asked (the message never holds it)."""


#: A key typed in when no keyring exists and the user did not consent to the settings file:
#: used until the app quits, written nowhere.
_session_key: str | None = None


def environment_key() -> str:
    """Return the key set in ``ELEVENLABS_API_KEY`` ("" when unset): it is never overwritten."""
    return os.environ.get("ELEVENLABS_API_KEY", "").strip()


def set_session_key(key: str | None) -> None:
    """Use ``key`` until the app quits without storing it (``None`` forgets it)."""
    global _session_key
    _session_key = (key or "").strip() or None


def keyring_status() -> tuple[bool, str]:
    """Return whether an OS keyring can store the key, and why not (or the backend's name)."""
    try:
        import keyring
        from keyring.errors import KeyringError, NoKeyringError
    except Exception as exc:  # a broken install must not stop the app
        return False, f"the keyring package cannot be loaded ({type(exc).__name__})"
    try:
        keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    except NoKeyringError:
        return False, ("no OS keyring is available on this computer (no Secret Service, "
                       "Keychain or Credential Manager)")
    except KeyringError as exc:
        return False, f"the OS keyring cannot be used ({type(exc).__name__})"
    except Exception as exc:
        return False, f"the OS keyring failed ({type(exc).__name__})"
    backend = keyring.get_keyring()
    return True, str(getattr(backend, "name", type(backend).__name__))


def store_api_key(settings: AppSettings, key: str, *, allow_plaintext: bool = False) -> str:
    """Store ``key`` in the OS keyring, or with consent in ``settings``; return where it went.

    ``settings`` is changed in memory only (the caller saves it): a key that reaches the
    keyring clears any unencrypted copy; with no keyring and ``allow_plaintext`` the key goes
    to ``settings.api_key_plaintext`` (the settings file is written with mode 0600).

    Raises:
        KeyStorageError: the key is empty, or there is no usable keyring and no consent.
    """
    key = key.strip()
    if not key:
        raise KeyStorageError("There is no API key to store.")
    reason = ""
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, KEYRING_USER, key)
    except Exception as exc:  # NoKeyringError, a locked or broken backend
        from keyring.errors import NoKeyringError

        reason = ("no OS keyring is available on this computer" if isinstance(exc, NoKeyringError)
                  else f"the OS keyring refused it ({type(exc).__name__})")
        log.info("keyring unavailable for the API key: %s", type(exc).__name__)
    else:
        settings.api_key_plaintext = ""
        set_session_key(None)
        return "OS keyring"
    if allow_plaintext:
        settings.api_key_plaintext = key
        set_session_key(None)
        return "settings file"
    raise KeyStorageError(
        f"The API key was not stored: {reason}. Choose 'store unencrypted in the settings "
        "file', or set ELEVENLABS_API_KEY."
    )


def forget_api_key(settings: AppSettings) -> None:
    """Remove the stored key: from the keyring, the settings (in memory) and this session."""
    settings.api_key_plaintext = ""
    set_session_key(None)
    try:
        import keyring

        keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception as exc:  # nothing stored, or no keyring: nothing to remove
        log.info("no key removed from the keyring (%s)", type(exc).__name__)


# ---------------------------------------------------------------------------------------------
# Plans and output formats (spec §4.4, §4.5)

#: ElevenLabs plans, cheapest first (the order gates output formats).
PLANS = ("free", "starter", "creator", "pro", "scale", "business")


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """An ``output_format`` the studio offers, with the cheapest plan allowed to use it."""

    value: str
    label: str
    min_plan: str = "free"


#: The formats the studio can decode and stitch (Opus, mu-law and A-law are left out).
OUTPUT_FORMATS = (
    OutputFormat("mp3_44100_128", "MP3 44.1 kHz, 128 kbps (default)"),
    OutputFormat("mp3_44100_192", "MP3 44.1 kHz, 192 kbps", "creator"),
    OutputFormat("mp3_44100_96", "MP3 44.1 kHz, 96 kbps"),
    OutputFormat("mp3_44100_64", "MP3 44.1 kHz, 64 kbps"),
    OutputFormat("mp3_22050_32", "MP3 22.05 kHz, 32 kbps (smallest)"),
    OutputFormat("pcm_22050", "PCM 22.05 kHz, uncompressed"),
    OutputFormat("pcm_24000", "PCM 24 kHz, uncompressed"),
    OutputFormat("pcm_44100", "PCM 44.1 kHz, uncompressed", "pro"),
    OutputFormat("wav_22050", "WAV 22.05 kHz"),
    OutputFormat("wav_44100", "WAV 44.1 kHz", "pro"),
)


def format_allowed(output_format: str, plan: str) -> bool:
    """Return whether ``plan`` may use ``output_format`` (an unknown plan: assume yes)."""
    choice = next((f for f in OUTPUT_FORMATS if f.value == output_format), None)
    if choice is None or plan not in PLANS:
        return True
    return PLANS.index(plan) >= PLANS.index(choice.min_plan)


def resolve_base_url(settings: AppSettings | None = None) -> str:
    """Return the API base URL: ``ELEVENLABS_BASE_URL``, else settings, else the default."""
    url = os.environ.get("ELEVENLABS_BASE_URL", "").strip()
    if url:
        return url.rstrip("/")
    if settings is not None and settings.base_url:
        return settings.base_url.rstrip("/")
    return DEFAULT_BASE_URL
