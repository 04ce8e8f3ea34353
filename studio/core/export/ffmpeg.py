"""The ffmpeg binary that imageio-ffmpeg ships: encode a PCM stream, decode a file, read tags.

imageio-ffmpeg has no ``ffprobe``; what ffprobe would say is read with ``ffmpeg -i FILE -f
ffmetadata -`` (tags and chapters) and by decoding to raw samples.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Final

import numpy as np

from studio.core.export.dsp import Samples
from studio.core.export.options import ExportError

_CHUNK_S: Final = 2.0


def ffmpeg_exe() -> str:
    """Return the path of the ffmpeg binary."""
    try:
        import imageio_ffmpeg
    except ImportError:  # pragma: no cover - a dependency of the project
        raise ExportError("ffmpeg is missing: install imageio-ffmpeg") from None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as exc:  # pragma: no cover - broken install
        raise ExportError(f"ffmpeg is missing ({exc})") from None


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "no message"


class Encoder:
    """An ffmpeg process that reads float32 mono PCM on stdin and writes one file.

    :meth:`write` blocks while ffmpeg is busy, so Python assembles the next paragraph while
    ffmpeg encodes the last one (two cores). :meth:`kill` stops it at once (cancel).
    """

    def __init__(self, args: Sequence[str], output: Path) -> None:
        self.output = output
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finish/kill
        command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args,
                   str(output)]
        try:
            self._proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log
            )
        except OSError as exc:
            self._log.close()
            raise ExportError(f"{output.name}: cannot start ffmpeg ({exc})") from None

    def _message(self) -> str:
        self._log.seek(0)
        return _last_line(self._log.read().decode("utf-8", "replace"))

    def write(self, samples: Samples) -> None:
        """Send the next samples (float32, native little-endian)."""
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(np.ascontiguousarray(samples, dtype="<f4").data.cast("B"))
        except (BrokenPipeError, OSError):
            self._proc.wait()
            raise ExportError(f"{self.output.name}: the encoder stopped "
                              f"({self._message()})") from None

    def finish(self) -> None:
        """Close the stream and wait for the file to be complete."""
        stdin = self._proc.stdin
        assert stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            stdin.close()
        code = self._proc.wait()
        try:
            if code != 0:
                raise ExportError(f"{self.output.name}: the encoder failed ({self._message()})")
        finally:
            self._log.close()

    def kill(self) -> None:
        """Stop ffmpeg now (the output is left half-written; the caller removes it)."""
        if self._proc.poll() is None:
            self._proc.kill()
        with contextlib.suppress(OSError, ValueError):
            if self._proc.stdin is not None:
                self._proc.stdin.close()
        self._proc.wait()
        self._log.close()


def decode_blocks(path: Path, rate: int, channels: int) -> Iterator[Samples]:
    """Yield ``path`` decoded by ffmpeg as float32 frames of shape (n, channels), 2 s a block.

    The decoder applies the encoder delay and padding the file declares (LAME tag, MP4 edit
    list), so the samples line up with what was encoded.
    """
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
               "-map", "0:a:0", "-f", "f32le", "-ac", str(channels), "-ar", str(rate), "-"]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log)
        assert proc.stdout is not None
        frame = 4 * channels
        size = int(rate * _CHUNK_S) * frame
        rest = b""
        try:
            while True:
                data = proc.stdout.read(size)
                if not data:
                    break
                data = rest + data
                usable = len(data) - len(data) % frame
                rest = data[usable:]
                if usable:
                    yield np.frombuffer(data[:usable], dtype="<f4").reshape(-1, channels)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            code = proc.wait()
        if code not in (0, -9):
            log.seek(0)
            message = _last_line(log.read().decode("utf-8", "replace"))
            raise ExportError(f"{path.name}: cannot be decoded ({message})")


def escape_ffmetadata(value: str) -> str:
    """Escape a value for an ffmetadata file (``=``, ``;``, ``#``, ``\\`` and newlines)."""
    out = []
    for ch in value:
        if ch in "=;#\\\n":
            out.append("\\")
        out.append(ch)
    return "".join(out)


def ffmetadata(
    tags: dict[str, str], chapters: Sequence[tuple[str, int, int]], timebase: int
) -> str:
    """Return an ffmetadata document: global tags and chapters ``(title, start, end)`` in
    units of ``1/timebase`` seconds."""
    lines = [";FFMETADATA1"]
    lines.extend(f"{escape_ffmetadata(k)}={escape_ffmetadata(v)}" for k, v in tags.items() if v)
    for title, start, end in chapters:
        lines += ["[CHAPTER]", f"TIMEBASE=1/{timebase}", f"START={start}", f"END={end}",
                  f"title={escape_ffmetadata(title)}"]
    return "\n".join(lines) + "\n"


def read_ffmetadata(path: Path) -> tuple[dict[str, str], list[tuple[str, float, float]]]:
    """Return a file's global tags and its chapters ``(title, start_s, end_s)`` as ffmpeg reads
    them (what ``ffprobe -show_chapters`` would show)."""
    run = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
         "-f", "ffmetadata", "-"],
        capture_output=True, timeout=120, check=False,
    )
    if run.returncode != 0:
        raise ExportError(f"{path.name}: ffmpeg cannot read it "
                          f"({_last_line(run.stderr.decode('utf-8', 'replace'))})")
    tags: dict[str, str] = {}
    chapters: list[tuple[str, float, float]] = []
    current: dict[str, str] | None = None
    lines = _logical_lines(run.stdout.decode("utf-8", "replace"))
    for line in lines:
        if line.startswith(";") or not line:
            continue
        if line == "[CHAPTER]":
            current = {}
            chapters.append(("", 0.0, 0.0))
            continue
        key, _, value = _split_escaped(line)
        if current is None:
            tags[key] = value
            continue
        current[key] = value
        num, _, den = current.get("TIMEBASE", "1/1000").partition("/")
        base = int(num) / int(den or 1)
        chapters[-1] = (
            current.get("title", ""),
            int(current.get("START", "0")) * base,
            int(current.get("END", "0")) * base,
        )
    return tags, chapters


def _logical_lines(text: str) -> list[str]:
    """Join lines continued by an escaped newline."""
    out: list[str] = []
    buffer = ""
    for raw in text.split("\n"):
        trailing = len(raw) - len(raw.rstrip("\\"))
        if trailing % 2:
            buffer += raw[:-1] + "\n"
            continue
        out.append(buffer + raw)
        buffer = ""
    return out


def _split_escaped(line: str) -> tuple[str, str, str]:
    key: list[str] = []
    value: list[str] = []
    target = key
    escaped = False
    seen_equals = False
    for ch in line:
        if escaped:
            target.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "=" and not seen_equals:
            seen_equals = True
            target = value
        else:
            target.append(ch)
    return "".join(key), "=", "".join(value)


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
