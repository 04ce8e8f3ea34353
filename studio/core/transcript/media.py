"""Media files for transcription and alignment: probe them, and decode them to 16 kHz PCM.

Decoding goes through the ffmpeg binary of imageio-ffmpeg (audio and video containers alike)
and streams: the 16-bit mono 16 kHz PCM is written to a temporary file block by block, so
memory stays flat however long the media is (an hour is 115 MB on disk, a few hundred KB in
memory). :class:`PcmFile` then reads any stretch of it by seeking.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from studio.core.errors import Cancelled, CancelToken, StudioError

SAMPLE_RATE: Final = 16000  # what the PocketSphinx en-us model expects
_BLOCK: Final = 64 * 1024
_DURATION_RE: Final = re.compile(r"Duration:\s*(\d+):(\d\d):(\d\d(?:\.\d+)?)")
_AUDIO_RE: Final = re.compile(r"Stream #\S+.*?: Audio: [^,]+, (\d+) Hz, ([^,]+)")
_LAYOUT_CHANNELS: Final = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "4.0": 4, "5.0": 5,
                           "5.1": 6, "6.1": 7, "7.1": 8}


class MediaError(StudioError):
    """A media file could not be read."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {problem}")


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a media file holds."""

    path: Path
    size: int  # bytes
    duration: float  # seconds
    channels: int
    sample_rate: int


def ffmpeg_exe() -> str:
    """Return the path of the bundled ffmpeg binary."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - a dependency
        raise StudioError("ffmpeg is missing: reinstall Narrator Studio (imageio-ffmpeg)") \
            from exc
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _channels(layout: str) -> int:
    layout = layout.strip().split("(")[0].strip()
    if layout in _LAYOUT_CHANNELS:
        return _LAYOUT_CHANNELS[layout]
    match = re.match(r"(\d+) channels", layout)
    return int(match.group(1)) if match else 1


@contextmanager
def _quiet_c_stderr() -> Iterator[None]:
    """Send what C libraries write to file descriptor 2 to the null device meanwhile.

    libsndfile's MP3 decoder (libmpg123) prints "Note: Illegal Audio-MPEG-Header" lines
    straight to the process's stderr for a damaged MP3; our error message says it better.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no fd 2 (a GUI without a console)
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def probe(path: str | Path) -> MediaInfo:
    """Return a media file's size, duration and channels (from its headers: fast).

    Raises:
        MediaError: the file is missing, unreadable or has no audio.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MediaError(path, "does not exist") from None
    except OSError as exc:
        raise MediaError(path, f"could not be read ({exc.strerror or exc})") from None
    if not path.is_file():
        raise MediaError(path, "is not a file")
    try:
        import soundfile as sf

        with _quiet_c_stderr():
            info = sf.info(str(path))
        if info.frames > 0 and info.samplerate > 0:
            return MediaInfo(path, size, info.frames / info.samplerate, info.channels,
                             info.samplerate)
    except Exception:  # not something libsndfile reads (video, AAC...): ask ffmpeg
        pass
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
                          capture_output=True, text=True, errors="replace", check=False)
    audio = _AUDIO_RE.search(proc.stderr)
    if audio is None:
        raise MediaError(path, "has no audio stream ffmpeg can read")
    duration = _DURATION_RE.search(proc.stderr)
    seconds = 0.0
    if duration:
        h, m, s = duration.groups()
        seconds = int(h) * 3600 + int(m) * 60 + float(s)
    return MediaInfo(path, size, seconds, _channels(audio.group(2)), int(audio.group(1)))


class PcmFile:
    """16-bit mono 16 kHz PCM on disk (a temporary file, deleted by :meth:`close`)."""

    def __init__(self, path: Path, samples: int, temporary: bool = True) -> None:
        self.path = path
        self.samples = samples
        self._temporary = temporary
        self._fh = open(path, "rb")  # noqa: SIM115 - kept open for seeks until close()

    @property
    def duration(self) -> float:
        """Return the length in seconds."""
        return self.samples / SAMPLE_RATE

    def read(self, start: float, end: float) -> bytes:
        """Return the PCM bytes from ``start`` to ``end`` seconds (clipped to the file)."""
        first = max(0, min(self.samples, round(start * SAMPLE_RATE)))
        last = max(first, min(self.samples, round(end * SAMPLE_RATE)))
        self._fh.seek(first * 2)
        return self._fh.read((last - first) * 2)

    def close(self) -> None:
        """Close and delete the file."""
        self._fh.close()
        if self._temporary:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> PcmFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def decode(path: str | Path, *, on_block: Callable[[npt.NDArray[np.int16]], None] | None = None,
           cancel: CancelToken | None = None, directory: str | None = None) -> PcmFile:
    """Decode any audio or video file to 16 kHz mono PCM in a temporary file.

    ``on_block`` sees each block of samples as it is decoded (for energy, progress...).

    Raises:
        MediaError: ffmpeg cannot decode the file.
        Cancelled: ``cancel`` was set.
    """
    path = Path(path)
    if not path.is_file():
        raise MediaError(path, "does not exist")
    fd, tmp = tempfile.mkstemp(prefix="studio-pcm-", suffix=".raw", dir=directory)
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
           "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "-"]
    samples = 0
    carry = b""
    try:
        with os.fdopen(fd, "wb") as out, subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        ) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            while True:
                block = proc.stdout.read(_BLOCK)
                if not block:
                    break
                if cancel is not None and cancel.cancelled:
                    proc.kill()
                    raise Cancelled("decoding")
                out.write(block)
                data = carry + block
                usable = len(data) - len(data) % 2
                carry = data[usable:]
                pcm = np.frombuffer(data[:usable], dtype="<i2")
                samples += len(pcm)
                if on_block is not None and len(pcm):
                    on_block(pcm)
            error = proc.stderr.read().decode("utf-8", "replace").strip()
            status = proc.wait()
        if status != 0 or samples == 0:
            last = error.splitlines()[-1] if error else "no audio"
            raise MediaError(path, f"could not be decoded ({last})")
        return PcmFile(Path(tmp), samples)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pcm_wav_bytes(pcm: bytes) -> bytes:
    """Wrap 16 kHz mono PCM in a WAV header (for uploading a stretch of media)."""
    from studio.core.audio import encode_wav

    return encode_wav(np.frombuffer(pcm, dtype="<i2"), SAMPLE_RATE)
