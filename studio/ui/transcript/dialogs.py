"""The Transcribe dialog: engine and Speech to Text options."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from studio.core.transcript.elevenlabs import MAX_SPEAKERS, TranscriptionOptions


@dataclass(frozen=True, slots=True)
class TranscribeChoice:
    """What the user asked for: the engine and, for ElevenLabs, its options."""

    engine: str  # "offline" or "elevenlabs"
    options: TranscriptionOptions


def engine_default() -> tuple[str, bool]:
    """Return the engine Settings choose ("offline"/"elevenlabs") and whether a key exists."""
    from studio.core.settings import load_settings, resolve_api_key

    settings = load_settings()
    key, _ = resolve_api_key(settings)
    if settings.engine == "offline" or (settings.engine == "auto" and not key):
        return "offline", bool(key)
    return "elevenlabs", bool(key)


class TranscribeDialog(QDialog):
    """Choose the engine, language, speakers and audio events, then transcribe."""

    def __init__(self, media_name: str, engine: str, has_key: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Transcribe")
        self.engine = QComboBox()
        self.engine.addItem("ElevenLabs Speech to Text (any language, speakers)", "elevenlabs")
        self.engine.addItem("Offline, PocketSphinx (English only, a rough first draft)",
                            "offline")
        self.engine.setCurrentIndex(0 if engine == "elevenlabs" else 1)
        self.language = QLineEdit()
        self.language.setPlaceholderText("auto-detect (or a code such as en, fr, deu)")
        self.diarize = QCheckBox("Tell speakers apart (diarisation)")
        self.speakers = QSpinBox()
        self.speakers.setRange(0, MAX_SPEAKERS)
        self.speakers.setSpecialValueText("auto")
        self.events = QCheckBox("Tag audio events (laughter, applause…)")
        self.events.setChecked(True)
        self.multichannel = QCheckBox("One speaker per channel (multichannel, up to 5)")
        self.note = QLabel("" if has_key else "No ElevenLabs API key is set (Tools ▸ Settings): "
                           "only the offline engine can run.")
        self.note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Media", QLabel(media_name))
        form.addRow("Engine", self.engine)
        form.addRow("Language", self.language)
        form.addRow("", self.diarize)
        form.addRow("Speakers at most", self.speakers)
        form.addRow("", self.events)
        form.addRow("", self.multichannel)
        form.addRow(self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Transcribe")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.engine.currentIndexChanged.connect(self._update)
        self.multichannel.toggled.connect(self._update)
        self._update()

    def _update(self) -> None:
        cloud = self.engine.currentData() == "elevenlabs"
        multi = self.multichannel.isChecked()
        for w in (self.diarize, self.events, self.multichannel):
            w.setEnabled(cloud)
        self.diarize.setEnabled(cloud and not multi)
        self.speakers.setEnabled(cloud and not multi)
        self.language.setEnabled(cloud)

    def choice(self) -> TranscribeChoice:
        """Return the engine and options chosen."""
        cloud = self.engine.currentData() == "elevenlabs"
        multi = cloud and self.multichannel.isChecked()
        speakers = self.speakers.value() or None
        return TranscribeChoice(
            "elevenlabs" if cloud else "offline",
            TranscriptionOptions(
                language=self.language.text().strip() or None,
                diarize=cloud and not multi and self.diarize.isChecked(),
                num_speakers=None if multi else speakers,
                tag_audio_events=self.events.isChecked(),
                multichannel=multi,
            ),
        )
