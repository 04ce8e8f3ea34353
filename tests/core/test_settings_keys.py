"""Storing the API key: the OS keyring, the settings file only with consent, else the session."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.fail import Keyring as FailKeyring

from studio.core import settings as st

SECRET = "sk-core-test-3f9a1c"


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps passwords in a dict."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.passwords.pop((service, username), None)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    previous = keyring.get_keyring()
    st.set_session_key(None)
    yield
    keyring.set_keyring(previous)
    st.set_session_key(None)


@pytest.fixture
def memory() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def no_keyring() -> None:
    keyring.set_keyring(FailKeyring())


def test_key_goes_to_the_keyring_not_the_file(tmp_path: Path, memory: MemoryKeyring) -> None:
    settings = st.AppSettings(api_key_plaintext="old-plain-key")
    assert st.keyring_status()[0]
    assert st.store_api_key(settings, f"  {SECRET} ") == "OS keyring"
    path = tmp_path / "settings.json"
    st.save_settings(settings, path)
    assert SECRET not in path.read_text() and "old-plain-key" not in path.read_text()
    assert memory.passwords == {(st.KEYRING_SERVICE, st.KEYRING_USER): SECRET}
    assert st.resolve_api_key(st.load_settings(path)) == (SECRET, "OS keyring")

    st.forget_api_key(settings)
    assert memory.passwords == {} and st.resolve_api_key(settings) == (None, "none")


def test_no_keyring_and_no_consent_writes_nothing(tmp_path: Path, no_keyring: None) -> None:
    usable, reason = st.keyring_status()
    assert not usable and "no OS keyring" in reason
    settings = st.AppSettings()
    with pytest.raises(st.KeyStorageError) as info:
        st.store_api_key(settings, SECRET)
    assert SECRET not in str(info.value) and "unencrypted" in str(info.value)
    path = tmp_path / "settings.json"
    st.save_settings(settings, path)
    assert SECRET not in path.read_text()
    assert json.loads(path.read_text())["api_key_plaintext"] == ""

    st.set_session_key(SECRET)  # what the dialog does then: this session only
    assert st.resolve_api_key(settings) == (SECRET, "key typed in for this session only")
    assert SECRET not in path.read_text()


def test_no_keyring_with_consent_stores_unencrypted(tmp_path: Path, no_keyring: None) -> None:
    settings = st.AppSettings()
    assert st.store_api_key(settings, SECRET, allow_plaintext=True) == "settings file"
    path = tmp_path / "settings.json"
    st.save_settings(settings, path)
    assert json.loads(path.read_text())["api_key_plaintext"] == SECRET
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SECRET not in repr(st.load_settings(path))
    assert st.resolve_api_key(st.load_settings(path)) == (SECRET, "settings file")


def test_environment_key_wins(monkeypatch: pytest.MonkeyPatch, memory: MemoryKeyring) -> None:
    monkeypatch.setenv("ELEVENLABS_API_KEY", "env-key")
    st.store_api_key(st.AppSettings(), SECRET)
    assert st.environment_key() == "env-key"
    assert st.resolve_api_key(st.AppSettings())[0] == "env-key"


def test_plan_and_format_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    st.save_settings(st.AppSettings(plan="creator", output_format="mp3_44100_192"), path)
    loaded = st.load_settings(path)
    assert (loaded.plan, loaded.output_format) == ("creator", "mp3_44100_192")
    assert st.format_allowed("mp3_44100_192", "creator")
    assert not st.format_allowed("mp3_44100_192", "starter")
    assert not st.format_allowed("pcm_44100", "creator") and st.format_allowed("pcm_44100", "pro")
    assert st.format_allowed("pcm_44100", "")  # plan not said: not refused here
    assert all(f.value.split("_")[0] in ("mp3", "pcm", "wav") for f in st.OUTPUT_FORMATS)
