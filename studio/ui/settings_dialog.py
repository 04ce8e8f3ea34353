"""Tools ▸ Settings: engine, API key, base URL, plan and concurrency, model, quality, usage.

The dialog edits an :class:`~studio.core.settings.AppSettings` and writes it with the core's
:func:`~studio.core.settings.save_settings`. The API key never goes into that dataclass unless
the user consents to "store unencrypted": it is stored with
:func:`~studio.core.settings.store_api_key` (OS keyring first). "Check usage" calls the
subscription endpoint on a worker thread and shows the answer (or the error) inline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.catalog import MODELS
from studio.core.engines import EngineModel, Subscription
from studio.core.engines.select import PLAN_CONCURRENCY, choose_engine
from studio.core.errors import StudioError
from studio.core.settings import (
    DEFAULT_BASE_URL,
    OUTPUT_FORMATS,
    PLANS,
    AppSettings,
    KeyStorageError,
    environment_key,
    forget_api_key,
    format_allowed,
    keyring_status,
    load_settings,
    resolve_api_key,
    resolve_base_url,
    save_settings,
    set_session_key,
    store_api_key,
)
from studio.ui.background import BackgroundCall

ENGINES = (
    ("auto", "Automatic (ElevenLabs when a key is set, else offline)"),
    ("offline", "Offline (espeak-ng)"),
    ("elevenlabs", "ElevenLabs"),
)


def engine_label_text(settings: AppSettings) -> str:
    """Return the status bar's engine text for ``settings``."""
    try:
        name, _why = choose_engine(None, settings)
    except StudioError:
        return "Engine: unknown"
    return "Engine: offline (espeak-ng)" if name == "offline" else "Engine: ElevenLabs"


def _describe_usage(sub: Subscription) -> str:
    text = (f"{sub.character_count:,} of {sub.character_limit:,} characters used "
            f"({sub.remaining:,} left) · Plan: {sub.tier.title() or 'unknown'}")
    if sub.next_reset_unix:
        reset = dt.datetime.fromtimestamp(int(sub.next_reset_unix))
        text += f" · Resets on {reset:%d %b %Y}"
    return text


def _check_account(key: str, base_url: str) -> tuple[Subscription, list[EngineModel]]:
    """Return the subscription and the models (worker thread)."""
    from studio.core.engines.elevenlabs import ElevenLabsEngine

    engine = ElevenLabsEngine(key, base_url, timeout=20.0, max_retries=1)
    try:
        subscription = engine.subscription()
        try:
            models = engine.models()
        except StudioError:  # the usage is what was asked for; the models are a bonus
            models = []
        return subscription, models
    finally:
        engine.close()


class _Note(QLabel):
    """A word-wrapped label as tall as its text at its actual width (QFormLayout asks for
    the height at a guessed width, which leaves gaps around long notes)."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.setWordWrap(True)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        if self.width() > 50:
            hint.setHeight(self.heightForWidth(self.width()))
        return hint

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        if self.width() > 50:
            hint.setHeight(self.heightForWidth(self.width()))
        return hint

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self.updateGeometry()


class SettingsDialog(QDialog):
    """Edit and save the application settings.

    Signals:
        saved(object): the :class:`AppSettings` just written.
    """

    saved = Signal(object)

    def __init__(self, parent: QWidget | None = None, settings_path: Path | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SettingsDialog")
        self.setWindowTitle("Settings")
        self.setMinimumWidth(640)  # wrapped notes get their height for this width
        self._path = settings_path
        self.settings = load_settings(settings_path)
        self._checked_key = ""  # the key of the usage check under way (scrubbed from errors)
        self._usage = BackgroundCall(self)
        self._usage.finished.connect(self._on_usage)
        self._usage.failed.connect(self._on_usage_failed)
        self._usage.running_changed.connect(lambda busy: self.check_button.setEnabled(not busy))
        self._keyring_ok, self._keyring_why = keyring_status()
        self._build()
        self._load(self.settings)

    # -- construction ------------------------------------------------------------------------

    def _build(self) -> None:
        self.engine = QComboBox()
        for value, label in ENGINES:
            self.engine.addItem(label, value)
        general = QFormLayout()
        general.addRow("Engine", self.engine)

        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("apiKey")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setMinimumWidth(320)
        self.show_key = QCheckBox("Show")
        self.show_key.toggled.connect(lambda on: self.key_edit.setEchoMode(
            QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password))
        self.forget_button = QPushButton("Forget stored key")
        self.forget_button.clicked.connect(self.forget_key)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.show_key)
        key_row.addWidget(self.forget_button)
        self.key_status = _Note()
        self.key_status.setObjectName("keyStatus")
        self.plaintext = QCheckBox("Store unencrypted in the settings file")
        self.plaintext.setToolTip("Anyone who can read your files can read the key. Without "
                                  "this, a key typed here is used until you quit.")
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText(DEFAULT_BASE_URL)
        self.plan = QComboBox()
        self.plan.addItem("Not set", "")
        for plan in PLANS:
            self.plan.addItem(plan.title(), plan)
        self.plan.currentIndexChanged.connect(self._on_plan_changed)
        self.concurrency = QSpinBox()
        self.concurrency.setRange(0, 60)
        self.concurrency.setSpecialValueText("Automatic")
        self.concurrency.setToolTip("Requests in flight at once; 0 = automatic")
        self.concurrency_hint = _Note()
        self.model = QComboBox()
        self.output_format = QComboBox()
        for choice in OUTPUT_FORMATS:
            note = ("" if choice.min_plan == "free"
                    else f" — {choice.min_plan.title()} plan or above")
            self.output_format.addItem(choice.label + note, choice.value)
        self.output_format.currentIndexChanged.connect(self._update_format_hint)
        self.format_hint = _Note()

        eleven = QFormLayout()
        eleven.addRow("API key", key_row)
        eleven.addRow("", self.key_status)
        eleven.addRow("", self.plaintext)
        eleven.addRow("Base URL", self.base_url)
        eleven.addRow("Plan", self.plan)
        eleven.addRow("Concurrency", self.concurrency)
        eleven.addRow("", self.concurrency_hint)
        eleven.addRow("Default model", self.model)
        eleven.addRow("Output quality", self.output_format)
        eleven.addRow("", self.format_hint)
        eleven_box = QGroupBox("ElevenLabs")
        eleven_box.setLayout(eleven)

        self.check_button = QPushButton("Check usage")
        self.check_button.setToolTip("Ask ElevenLabs for this key's plan and credits (also tests "
                                     "the key and the connection)")
        self.check_button.clicked.connect(self.check_usage)
        self.usage_label = _Note("Not checked yet.")
        self.usage_label.setObjectName("usage")
        usage_row = QHBoxLayout()
        usage_row.addWidget(self.check_button)
        usage_row.addWidget(self.usage_label, 1)
        usage_box = QGroupBox("Usage")
        usage_box.setLayout(usage_row)

        self.error_label = _Note()
        self.error_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(general)
        layout.addWidget(eleven_box)
        layout.addWidget(usage_box)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def _load(self, s: AppSettings) -> None:
        self._select(self.engine, s.engine)
        self.base_url.setText("" if s.base_url == DEFAULT_BASE_URL else s.base_url)
        if os.environ.get("ELEVENLABS_BASE_URL", "").strip():
            self.base_url.setToolTip("ELEVENLABS_BASE_URL is set and takes precedence")
        self.plan.blockSignals(True)
        self._select(self.plan, s.plan)
        self.plan.blockSignals(False)
        self.concurrency.setValue(max(0, s.concurrency))
        self._fill_models([], s.default_model)
        self._select(self.output_format, s.output_format)
        self.plaintext.setChecked(bool(s.api_key_plaintext))
        self._describe_key()
        self._update_concurrency_hint()
        self._update_format_hint()

    @staticmethod
    def _select(combo: QComboBox, value: str) -> None:
        index = combo.findData(value)
        if index < 0:
            combo.addItem(value, value)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    def _fill_models(self, models: list[EngineModel], current: str) -> None:
        entries = {m.model_id: m.name for m in MODELS.values() if m.engine == "elevenlabs"}
        entries.update({m.model_id: m.name for m in models})
        self.model.clear()
        for model_id, name in entries.items():
            self.model.addItem(f"{name} ({model_id})", model_id)
        self._select(self.model, current)

    # -- the key -------------------------------------------------------------------------------

    def _describe_key(self) -> None:
        """Say where the key comes from and where a typed one would go."""
        env = bool(environment_key())
        _key, source = resolve_api_key(self.settings)
        self.key_edit.setEnabled(not env)
        self.forget_button.setEnabled(not env and source != "none")
        self.plaintext.setVisible(not env and not self._keyring_ok)
        if env:
            self.key_edit.clear()
            self.key_edit.setPlaceholderText("Set by ELEVENLABS_API_KEY")
            text = ("The key comes from the ELEVENLABS_API_KEY environment variable; it is used "
                    "as it is and never stored or overwritten here.")
        elif self._keyring_ok:
            self.key_edit.setPlaceholderText(
                "Stored (type a new key to replace it)" if source != "none" else "Paste your key")
            text = (f"Stored in the OS keyring ({self._keyring_why})." if source == "OS keyring"
                    else f"A key typed here is stored in the OS keyring ({self._keyring_why}).")
            if source == "settings file":
                text += " A key is still stored unencrypted in the settings file."
        else:
            self.key_edit.setPlaceholderText(
                "In use (type a new key to replace it)" if source != "none" else "Paste your key")
            why = self._keyring_why[:1].upper() + self._keyring_why[1:]
            text = (f"{why}. A key typed here is used until you quit, unless you choose to "
                    "store it unencrypted in the settings file.")
            if source == "settings file":
                text += " A key is stored unencrypted in the settings file now."
            elif source.startswith("key typed"):
                text += " A key is in use for this session only."
        self.key_status.setText(text)

    def forget_key(self) -> None:
        """Remove the stored key now (keyring, settings file and this session)."""
        forget_api_key(self.settings)
        try:
            save_settings(self.settings, self._path)
        except OSError as exc:
            self._show_error(f"The settings file could not be written: {exc.strerror or exc}")
        self.key_edit.clear()
        self.plaintext.setChecked(False)
        self._describe_key()

    # -- plan, concurrency, format -------------------------------------------------------------

    def _on_plan_changed(self) -> None:
        plan = str(self.plan.currentData())
        if plan in PLAN_CONCURRENCY:
            self.concurrency.setValue(PLAN_CONCURRENCY[plan])
        self._update_concurrency_hint()
        self._update_format_hint()

    def _update_concurrency_hint(self) -> None:
        plan = str(self.plan.currentData())
        if plan in PLAN_CONCURRENCY:
            n = PLAN_CONCURRENCY[plan]
            text = (f"{plan.title()} plan: {n} requests at once with Multilingual v2 and v3, "
                    f"{2 * n} with Flash and Turbo.")
        else:
            text = "Choose your plan to get its suggested number of requests at once."
        self.concurrency_hint.setText(
            text + " Automatic (0): the plan's number, lowered if ElevenLabs reports less.")

    def _update_format_hint(self) -> None:
        fmt = str(self.output_format.currentData())
        plan = str(self.plan.currentData())
        if not format_allowed(fmt, plan):
            self.format_hint.setText(f"The {plan.title()} plan cannot use {fmt}: ElevenLabs "
                                     "will refuse it. Choose another quality or plan.")
            self.format_hint.setStyleSheet(f"color: {self._error_colour()}")
        else:
            self.format_hint.setText("Offline narration is always WAV 22.05 kHz.")
            self.format_hint.setStyleSheet("")

    # -- usage ----------------------------------------------------------------------------------

    def _form_base_url(self) -> str:
        trial = AppSettings(base_url=self.base_url.text().strip() or DEFAULT_BASE_URL)
        return resolve_base_url(trial)

    def check_usage(self) -> None:
        """Fetch the plan and credit use in the background; show them in the Usage box."""
        key = self.key_edit.text().strip() if self.key_edit.isEnabled() else ""
        key = key or (resolve_api_key(self.settings)[0] or "")
        if not key:
            self._set_usage("No API key: type one above or set ELEVENLABS_API_KEY.", error=True)
            return
        self._checked_key = key
        base_url = self._form_base_url()
        self._set_usage(f"Asking {base_url}…")
        self._usage.start(lambda: _check_account(key, base_url))

    def _on_usage(self, result: object) -> None:
        assert isinstance(result, tuple)
        subscription, models = result
        assert isinstance(subscription, Subscription)
        self._set_usage(_describe_usage(subscription))
        if not self.plan.currentData() and subscription.tier in PLANS:
            self._select(self.plan, subscription.tier)  # suggests its concurrency too
        if models:
            self._fill_models(models, str(self.model.currentData()))

    def _on_usage_failed(self, error: object) -> None:
        if isinstance(error, StudioError):
            message = str(error)
        else:
            message = f"The check failed ({type(error).__name__}: {error})"
        if self._checked_key:
            message = message.replace(self._checked_key, "***")
        self._set_usage(message, error=True)

    def _set_usage(self, text: str, error: bool = False) -> None:
        self.usage_label.setText(text)
        self.usage_label.setStyleSheet(f"color: {self._error_colour()}" if error else "")
        self.usage_label.setProperty("error", error)

    def _error_colour(self) -> str:
        return "#ff6b6b" if self.palette().window().color().lightness() < 128 else "#b71c1c"

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setStyleSheet(f"color: {self._error_colour()}")
        self.error_label.show()

    # -- saving ---------------------------------------------------------------------------------

    def form_settings(self) -> AppSettings:
        """Return the settings the form shows (the key is not part of them)."""
        return dataclasses.replace(
            self.settings,
            engine=str(self.engine.currentData()),
            base_url=self.base_url.text().strip().rstrip("/") or DEFAULT_BASE_URL,
            plan=str(self.plan.currentData() or ""),
            concurrency=self.concurrency.value(),
            default_model=str(self.model.currentData()),
            output_format=str(self.output_format.currentData()),
        )

    def save(self) -> bool:
        """Store the key and write the settings file; return whether it worked."""
        settings = self.form_settings()
        key = self.key_edit.text().strip()
        consent = self.plaintext.isChecked() and not self._keyring_ok
        if key and not environment_key():
            try:
                store_api_key(settings, key, allow_plaintext=consent)
            except KeyStorageError:  # no keyring, no consent: this session only
                set_session_key(key)
        elif settings.api_key_plaintext and not self._keyring_ok and not consent:
            # Consent withdrawn: the key leaves the file but stays usable until quitting.
            set_session_key(settings.api_key_plaintext)
            settings.api_key_plaintext = ""
        try:
            save_settings(settings, self._path)
        except OSError as exc:
            self._show_error(f"The settings file could not be written: {exc.strerror or exc}")
            return False
        self.settings = settings
        self.key_edit.clear()
        self._describe_key()
        self.saved.emit(settings)
        return True

    def accept(self) -> None:
        if self.save():
            super().accept()
