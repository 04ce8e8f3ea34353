"""Test session set-up: headless Qt, private config/data dirs, no real user files."""

from __future__ import annotations

import os
import tempfile

# Qt must never try to open a display in tests (no display = a hard abort of the run).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")

# Keep platformdirs, keyring and Qt settings away from the real user's files.
_HOME = tempfile.mkdtemp(prefix="studio-tests-home-")
for var, sub in (
    ("XDG_CONFIG_HOME", "config"),
    ("XDG_DATA_HOME", "data"),
    ("XDG_CACHE_HOME", "cache"),
    ("XDG_STATE_HOME", "state"),
):
    os.environ[var] = os.path.join(_HOME, sub)
os.environ.pop("ELEVENLABS_API_KEY", None)
os.environ["NARRATOR_STUDIO_TESTING"] = "1"

# The fake ElevenLabs server's fixtures (fake_eleven, fake_eleven_factory).
pytest_plugins = ["tests.fakes.fake_elevenlabs"]
