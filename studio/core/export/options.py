"""What an export makes: format, layout, mastering and the metadata written into the files."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from studio.core.errors import StudioError
from studio.core.model import ChapterId, Project, image_mime


class ExportError(StudioError):
    """An export could not be made; the message names the file or paragraph at fault."""


class ExportFormat(StrEnum):
    """The audio file format of an export."""

    MP3 = "mp3"
    WAV = "wav"
    FLAC = "flac"
    M4B = "m4b"

    @property
    def suffix(self) -> str:
        return f".{self.value}"


class Layout(StrEnum):
    """How the chapters of an export are laid out in files."""

    PER_CHAPTER = "per-chapter"  # one file per chapter, in a folder
    SINGLE = "single"  # one file for the whole scope (chapter markers where the format has them)
    ZIP = "zip"  # one file per chapter, in a ZIP archive
    PARAGRAPHS = "paragraphs"  # one file per paragraph, in a ZIP archive


class MasteringMode(StrEnum):
    """How loudness is normalised: to ACX's RMS window, to an integrated loudness, or not."""

    ACX = "acx"
    LUFS = "lufs"
    OFF = "off"


MP3_BITRATES: Final = (128, 192, 320)
AAC_BITRATES: Final = (48, 64, 80, 96, 128, 160, 192, 256)
SAMPLE_RATES: Final = (44100, 48000)
DEFAULT_BITRATE: Final = {ExportFormat.MP3: 192, ExportFormat.M4B: 64}

#: Project settings (``Project.settings``) the export reads metadata from.
METADATA_SETTINGS: Final = ("narrator", "isbn", "description", "year", "publisher", "genre")


@dataclass(frozen=True, slots=True)
class Mastering:
    """Loudness normalisation: one linear gain per file plus a true-peak limiter; no compression.

    ``target`` is the RMS level in dBFS for :attr:`MasteringMode.ACX` (ACX asks for -23 to
    -18 dB RMS; -20 sits in the middle) and the integrated loudness in LUFS for
    :attr:`MasteringMode.LUFS`. ``ceiling_dbtp`` is the limiter's true-peak ceiling: ACX
    allows -3 dB peaks; half a decibel below that leaves room for the encoder's overshoot
    (a lossy file whose decoded true peak is more than 0.4 dB over the ceiling is mastered
    again with a lower one: :data:`studio.core.export.run.ENCODER_ALLOWANCE_DB`).
    ``room_tone_db`` is the RMS level of a quiet noise bed laid under the whole file (head,
    pauses, tail and speech), so pauses are room tone rather than digital silence and the
    noise floor is the same everywhere; ``None`` leaves digital silence.
    """

    mode: MasteringMode = MasteringMode.ACX
    target: float = -20.0
    ceiling_dbtp: float = -3.5
    room_tone_db: float | None = -70.0

    @classmethod
    def lufs(cls, target: float = -18.0, ceiling_dbtp: float = -3.0) -> Mastering:
        """Return integrated-loudness mastering (``-18 LUFS``, ``-3 dBTP`` by default)."""
        return cls(MasteringMode.LUFS, target, ceiling_dbtp)

    @classmethod
    def off(cls) -> Mastering:
        """Return no normalisation (the limiter still keeps true peaks under the ceiling)."""
        return cls(MasteringMode.OFF, 0.0, -1.0)


@dataclass(frozen=True, slots=True)
class Metadata:
    """Tags written into the exported files (where the format has a place for them).

    :meth:`from_project` takes the cover from the project (``Project.cover``, kept in the
    project file).
    """

    title: str = ""
    author: str = ""
    narrator: str = ""
    album: str = ""  # defaults to the title
    year: str = ""
    isbn: str = ""
    description: str = ""
    publisher: str = ""
    genre: str = "Audiobook"
    cover: bytes | None = field(default=None, repr=False)
    cover_mime: str = ""

    @classmethod
    def from_project(cls, project: Project, **overrides: Any) -> Metadata:
        """Return the project's metadata (title, author and the export settings), overridden."""
        settings = project.settings
        values: dict[str, Any] = {
            "title": project.title,
            "author": project.author,
            **{k: str(settings.get(k) or "") for k in METADATA_SETTINGS},
        }
        if project.cover:
            values.update(cover=project.cover, cover_mime=image_mime(project.cover))
        if not values["genre"]:
            values["genre"] = "Audiobook"
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def album_title(self) -> str:
        return self.album or self.title

    def with_cover_file(self, path: str | Path) -> Metadata:
        """Return this metadata with the JPEG or PNG image at ``path`` as cover art."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ExportError(f"{path}: cannot read the cover image ({exc.strerror})") from None
        mime = image_mime(data)
        if not mime:
            raise ExportError(f"{path}: the cover must be a JPEG or PNG image")
        return dataclasses.replace(self, cover=data, cover_mime=mime)


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """Everything that decides what an export writes.

    ``None`` for pauses means the project's settings (``paragraph_pause_s``,
    ``chapter_head_s``, ``chapter_tail_s``), the same pauses playback uses.
    """

    format: ExportFormat = ExportFormat.MP3
    layout: Layout = Layout.PER_CHAPTER
    chapters: tuple[ChapterId, ...] | None = None  # None: the whole book
    bitrate_kbps: int | None = None  # MP3 and M4B; None: 192 (MP3), 64 (M4B)
    bit_depth: int = 16  # WAV and FLAC
    sample_rate: int = 44100
    channels: int = 1
    mastering: Mastering = field(default_factory=Mastering)
    paragraph_pause_s: float | None = None
    head_s: float | None = None
    tail_s: float | None = None
    trim_edges: bool = True  # trim the engine's silence at chapter edges to make head/tail exact
    fade_ms: float = 5.0  # fade at each paragraph's edges: no clicks at joins
    acx_check: bool = True  # measure every file written (and report it)
    opening_credits: ChapterId | None = None
    closing_credits: ChapterId | None = None
    retail_sample_s: float | None = None  # write a retail sample of about this length
    allow_missing: bool = False  # export even when paragraphs have no audio (they are left out)
    subtitles: str | None = None  # "srt" or "vtt": a subtitle file beside each audio file
    metadata: Metadata | None = None  # None: Metadata.from_project

    @property
    def bitrate(self) -> int | None:
        """Return the bitrate in kbps for lossy formats, else None."""
        if self.format in DEFAULT_BITRATE:
            return self.bitrate_kbps or DEFAULT_BITRATE[self.format]
        return None

    def validate(self) -> None:
        """Raise :class:`ExportError` for a combination that cannot be written."""
        fmt = self.format
        if fmt is ExportFormat.MP3:
            if self.bitrate not in MP3_BITRATES:
                raise ExportError(
                    f"MP3 export is {'/'.join(map(str, MP3_BITRATES))} kbps CBR; "
                    f"not {self.bitrate} kbps"
                )
            if self.sample_rate != 44100:
                raise ExportError("MP3 export is 44.1 kHz")
        elif fmt is ExportFormat.M4B:
            if self.bitrate not in AAC_BITRATES:
                raise ExportError(
                    f"M4B (AAC) bitrate must be one of {', '.join(map(str, AAC_BITRATES))} kbps"
                )
        elif self.bitrate_kbps is not None:
            raise ExportError(f"{fmt.value.upper()} is lossless; it takes no bitrate")
        if fmt in (ExportFormat.WAV, ExportFormat.FLAC) and self.bit_depth not in (16, 24):
            raise ExportError("WAV and FLAC export are 16 or 24-bit")
        if self.sample_rate not in SAMPLE_RATES:
            raise ExportError("the export sample rate must be 44100 or 48000 Hz")
        if self.channels not in (1, 2):
            raise ExportError("the export is mono (1 channel) or stereo (2)")
        for name in ("paragraph_pause_s", "head_s", "tail_s"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 30.0:
                raise ExportError(f"{name.replace('_s', '')} must be 0 to 30 seconds")
        if not 0.0 <= self.fade_ms <= 50.0:
            raise ExportError("the fade at joins must be 0 to 50 ms")
        if self.subtitles not in (None, "srt", "vtt"):
            raise ExportError(f"subtitles are SRT or VTT, not {self.subtitles!r}")
        if self.retail_sample_s is not None and not 30.0 <= self.retail_sample_s <= 300.0:
            raise ExportError("a retail sample is 30 s to 5 minutes long")
        m = self.mastering
        if m.mode is MasteringMode.ACX and not -30.0 <= m.target <= -10.0:
            raise ExportError("the RMS target must be between -30 and -10 dBFS")
        if m.mode is MasteringMode.LUFS and not -40.0 <= m.target <= -5.0:
            raise ExportError("the loudness target must be between -40 and -5 LUFS")
        if not -20.0 <= m.ceiling_dbtp <= 0.0:
            raise ExportError("the true-peak ceiling must be between -20 and 0 dBTP")
        if m.room_tone_db is not None and not -96.0 <= m.room_tone_db <= -50.0:
            raise ExportError("room tone must be between -96 and -50 dBFS")
