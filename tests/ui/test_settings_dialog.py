"""Tools ▸ Settings: fields saved to the settings file, the key kept out of it, usage checked
against the fake ElevenLabs server off the GUI thread, errors shown inline without the key."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.fail import Keyring as FailKeyring
from PySide6.QtCore import QStandardPaths, QTimer
from PySide6.QtWidgets import QApplication

from studio.core import settings as st
from studio.ui.settings_dialog import SettingsDialog
from tests.fakes.fake_elevenlabs import FakeElevenLabs

SECRET = "sk-ui-test-9b2e77d1"


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps passwords in a dict (the test machine has none)."""

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
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    monkeypatch.delenv("ELEVENLABS_BASE_URL", raising=False)
    previous = keyring.get_keyring()
    st.set_session_key(None)
    yield
    keyring.set_keyring(previous)
    st.set_session_key(None)
    st.config_path().unlink(missing_ok=True)  # the window's default settings file


@pytest.fixture
def memory() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def no_keyring() -> None:
    keyring.set_keyring(FailKeyring())


def _dialog(qtbot, path: Path) -> SettingsDialog:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(settings_path=path)
    qtbot.addWidget(dialog)
    return dialog


def _choose(combo, value: str) -> None:  # type: ignore[no-untyped-def]
    index = combo.findData(value)
    assert index >= 0, value
    combo.setCurrentIndex(index)


def test_fields_saved_and_key_in_keyring_only(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                              memory: MemoryKeyring) -> None:
    path = tmp_path / "settings.json"
    dialog = _dialog(qtbot, path)
    assert "OS keyring" in dialog.key_status.text() and not dialog.plaintext.isVisibleTo(dialog)
    _choose(dialog.engine, "elevenlabs")
    dialog.base_url.setText("http://127.0.0.1:8123/")
    _choose(dialog.plan, "creator")
    assert dialog.concurrency.value() == 5  # suggested for the plan
    assert "Creator plan: 5 requests" in dialog.concurrency_hint.text()
    dialog.concurrency.setValue(4)
    _choose(dialog.model, "eleven_flash_v2_5")
    _choose(dialog.output_format, "mp3_44100_192")
    dialog.key_edit.setText(SECRET)
    assert dialog.save()

    text = path.read_text()
    data = json.loads(text)
    assert {k: data[k] for k in ("engine", "base_url", "plan", "concurrency", "default_model",
                                 "output_format", "api_key_plaintext")} == {
        "engine": "elevenlabs", "base_url": "http://127.0.0.1:8123", "plan": "creator",
        "concurrency": 4, "default_model": "eleven_flash_v2_5",
        "output_format": "mp3_44100_192", "api_key_plaintext": ""}
    assert SECRET not in text
    assert memory.passwords == {(st.KEYRING_SERVICE, st.KEYRING_USER): SECRET}

    again = _dialog(qtbot, path)  # reopened: the form shows what was saved
    assert again.engine.currentData() == "elevenlabs"
    assert again.base_url.text() == "http://127.0.0.1:8123"
    assert (again.plan.currentData(), again.concurrency.value()) == ("creator", 4)
    assert again.model.currentData() == "eleven_flash_v2_5"
    assert again.output_format.currentData() == "mp3_44100_192"
    assert again.key_edit.text() == "" and "Stored in the OS keyring" in again.key_status.text()

    _choose(again.plan, "starter")  # 192 kbps needs Creator: said before anything is sent
    assert "cannot use mp3_44100_192" in again.format_hint.text()
    again.forget_key()
    assert memory.passwords == {} and st.resolve_api_key(st.load_settings(path))[0] is None


def test_no_keyring_without_consent_stores_nothing(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                   no_keyring: None) -> None:
    path = tmp_path / "settings.json"
    dialog = _dialog(qtbot, path)
    assert "no os keyring is available" in dialog.key_status.text().lower()
    assert dialog.plaintext.isVisibleTo(dialog) and not dialog.plaintext.isChecked()
    dialog.key_edit.setText(SECRET)
    assert dialog.save()
    assert SECRET not in path.read_text()
    assert json.loads(path.read_text())["api_key_plaintext"] == ""
    # Usable until the app quits, written nowhere.
    assert st.resolve_api_key(st.load_settings(path)) == (
        SECRET, "key typed in for this session only")
    assert "session only" in dialog.key_status.text()


def test_no_keyring_with_consent_stores_unencrypted(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                    no_keyring: None) -> None:
    path = tmp_path / "settings.json"
    dialog = _dialog(qtbot, path)
    dialog.key_edit.setText(SECRET)
    dialog.plaintext.setChecked(True)
    assert dialog.save()
    assert json.loads(path.read_text())["api_key_plaintext"] == SECRET
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "stored unencrypted" in _dialog(qtbot, path).key_status.text()

    withdrawn = _dialog(qtbot, path)  # consent withdrawn: the key leaves the file
    assert withdrawn.plaintext.isChecked()
    withdrawn.plaintext.setChecked(False)
    assert withdrawn.save()
    assert SECRET not in path.read_text()


def test_environment_key_is_used_and_never_overwritten(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       memory: MemoryKeyring) -> None:
    monkeypatch.setenv("ELEVENLABS_API_KEY", "env-key-123")
    path = tmp_path / "settings.json"
    dialog = _dialog(qtbot, path)
    assert not dialog.key_edit.isEnabled()
    assert "ELEVENLABS_API_KEY" in dialog.key_status.text()
    assert dialog.save()
    assert memory.passwords == {} and "env-key-123" not in path.read_text()


def test_usage_from_the_fake_server(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                    no_keyring: None, fake_eleven: FakeElevenLabs) -> None:
    fake_eleven.character_count = 12_345
    dialog = _dialog(qtbot, tmp_path / "settings.json")
    dialog.base_url.setText(fake_eleven.base_url)
    dialog.key_edit.setText("test-key")
    dialog.check_button.click()
    # The call returned at once: the request runs on a worker thread.
    assert dialog.usage_label.text().startswith("Asking")
    assert not dialog.check_button.isEnabled()
    qtbot.waitUntil(lambda: "characters used" in dialog.usage_label.text(), timeout=15_000)
    text = dialog.usage_label.text()
    assert "12,345 of 100,000 characters used (87,655 left)" in text
    assert "Plan: Creator" in text and "Resets on" in text
    assert dialog.check_button.isEnabled()
    assert dialog.plan.currentData() == "creator" and dialog.concurrency.value() == 5
    assert dialog.model.findData("eleven_v3") >= 0  # the model list came from the server too
    calls = [r for r in fake_eleven.requests if r.path == "/v1/user/subscription"]
    assert len(calls) == 1 and calls[0].headers["xi-api-key"] == "test-key"


def test_bad_key_and_offline_shown_inline_without_the_key(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                          no_keyring: None,
                                                          fake_eleven: FakeElevenLabs) -> None:
    dialog = _dialog(qtbot, tmp_path / "settings.json")
    dialog.base_url.setText(fake_eleven.base_url)
    dialog.key_edit.setText(SECRET)
    dialog.check_button.click()
    qtbot.waitUntil(lambda: dialog.usage_label.property("error") is True, timeout=15_000)
    assert "rejected the API key" in dialog.usage_label.text()
    assert SECRET not in dialog.usage_label.text()

    dialog.base_url.setText("http://127.0.0.1:9")  # nothing listens there
    dialog.check_button.click()
    qtbot.waitUntil(lambda: "Could not reach" in dialog.usage_label.text(), timeout=30_000)
    assert SECRET not in dialog.usage_label.text()
    assert dialog.usage_label.property("error") is True

    empty = _dialog(qtbot, tmp_path / "other.json")
    empty.check_button.click()
    assert "No API key" in empty.usage_label.text()


def test_settings_action_saves_and_updates_the_engine_label(qtbot, memory: MemoryKeyring) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    assert window.engine_label.text() == "Engine: offline (espeak-ng)"
    seen: list[SettingsDialog] = []

    def drive() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, SettingsDialog)
        seen.append(dialog)
        dialog.key_edit.setText(SECRET)  # Automatic + a key: ElevenLabs
        dialog.accept()

    QTimer.singleShot(0, drive)
    window.settings_action.trigger()
    assert seen and window.engine_label.text() == "Engine: ElevenLabs"
    assert SECRET not in st.config_path().read_text()
    assert st.load_settings().engine == "auto"
