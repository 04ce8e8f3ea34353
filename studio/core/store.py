"""The project file ``Name.studio``: one SQLite database holding the whole project.

Why one SQLite file: a user can copy, back up and mail it, and SQLite's transactions mean a
crash, a kill or a full disk leaves the last committed state intact (Audacity moved to a
single ``.aup3`` for the same reasons). The file runs in WAL mode with foreign keys on and
``synchronous=FULL``; every save is one transaction; a take's audio commits with its row.

Identification and versions: ``PRAGMA application_id`` marks the file as ours and
``PRAGMA user_version`` is the schema version. :data:`MIGRATIONS` upgrades older files (after
copying the original beside it); newer, foreign or damaged files are refused with a
:class:`ProjectFormatError` and never written to.

Schema, version 3 (see :data:`SCHEMA`):

``meta``         key/value facts about the file (``created_by``, ``created``) and the
                 project's cover image (key ``cover``, the JPEG or PNG bytes as a BLOB;
                 files without one read as having no cover, so no new version was needed);
                 ``held_chapters``: a JSON list of deleted chapters whose rows are kept
                 until the file is closed (see :meth:`ProjectStore.purge_held`).
``project``      a single row (``id = 1``): title, author, language, model, default voice,
                 settings (JSON).
``voices``       the cast, ordered by ``position``; one column per voice setting.
``chapters``     ordered by ``position``.
``blocks``       paragraphs: ``chapter_id``, ``position``, ``text`` (with inline break tags),
                 ``voice_id``, ``spans`` (JSON ``[[start, end, voice_id], ...]``), ``locked``,
                 ``current_take_id``.
``takes``        append-only take history: every fact of a take but its media; timings as JSON.
``take_media``   one row per take: the audio bytes exactly as the engine returned them and
                 their SHA-256 (SQLite does not checksum pages, so damage to audio is caught
                 on read).
``take_coarse``  one row per take: its coarse min/max peak summary (int8 pairs, ~3 s a bin)
``take_fine``    and its fine one (~12 ms a bin); apart from the audio and from each other
                 so opening a long chapter's waveform reads a few pages (version 2).
``dictionaries`` pronunciation dictionaries, ordered: reference, version, language and the
                 rules as JSON (``NULL``: known only by reference; version 3).
``exports``      finished exports.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from studio import __version__
from studio.core.errors import EditError, ProjectBusyError, ProjectFormatError, ProjectSaveError
from studio.core.model import (
    Block,
    BlockId,
    Changes,
    Chapter,
    ChapterId,
    CharTimings,
    DictionaryId,
    DictionaryRef,
    ExportId,
    ExportRecord,
    PeakSummary,
    Project,
    ProjectId,
    PronunciationRule,
    Take,
    TakeId,
    Voice,
    VoiceId,
    VoiceSpan,
    WordTiming,
)

LEVELS = ("fine", "coarse")  # peak summary resolutions
APPLICATION_ID = 0x4E535444  # "NSTD": marks a Narrator Studio project file
SCHEMA_VERSION = 3
SUFFIX = ".studio"
_SQLITE_MAGIC = b"SQLite format 3\x00"

try:  # advisory "open for writing" lock; SQLite's own locks are POSIX fcntl locks, so on
    import fcntl  # Linux a flock() on the same file never interferes with them.
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def _lock(path: Path) -> int | None:
    """Take the exclusive "open for writing" lock on ``path``; return its descriptor.

    Raises:
        ProjectBusyError: another store (another window or process) holds it.
    """
    if fcntl is None:
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ProjectBusyError(
            path, "is open in another Narrator Studio window or process; close it there first"
        ) from None
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing the descriptor releases the flock


def _replace_into(tmp: Path, path: Path) -> None:
    """Move the finished file ``tmp`` to ``path``, replacing what is there safely.

    A project being replaced must not be open for writing elsewhere, and its leftover
    ``-wal``/``-shm`` files must go first: SQLite cannot tell they belong to the old file
    and would replay the old journal into the new one.
    """
    old_lock = None
    if path.exists():
        old_lock = _lock(path) if path.is_file() else None
    try:
        for side in (Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            with contextlib.suppress(FileNotFoundError):
                side.unlink()
        os.replace(tmp, path)
    finally:
        _unlock(old_lock)

SCHEMA = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE voices (
    id              TEXT PRIMARY KEY,
    position        INTEGER NOT NULL,
    alias           TEXT NOT NULL,
    engine          TEXT NOT NULL,
    engine_voice_id TEXT NOT NULL,
    volume_db       REAL NOT NULL,
    speed           REAL NOT NULL,
    stability       REAL NOT NULL,
    similarity      REAL NOT NULL,
    style           REAL NOT NULL,
    speaker_boost   INTEGER NOT NULL
);
CREATE TABLE project (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    uid              TEXT NOT NULL,
    title            TEXT NOT NULL,
    author           TEXT NOT NULL,
    language         TEXT NOT NULL,
    model_id         TEXT NOT NULL,
    default_voice_id TEXT REFERENCES voices(id) DEFERRABLE INITIALLY DEFERRED,
    settings         TEXT NOT NULL
);
CREATE TABLE chapters (
    id       TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    title    TEXT NOT NULL
);
CREATE TABLE blocks (
    id              TEXT PRIMARY KEY,
    chapter_id      TEXT NOT NULL REFERENCES chapters(id) ON DELETE CASCADE
                         DEFERRABLE INITIALLY DEFERRED,
    position        INTEGER NOT NULL,
    text            TEXT NOT NULL,
    voice_id        TEXT REFERENCES voices(id) DEFERRABLE INITIALLY DEFERRED,
    spans           TEXT NOT NULL DEFAULT '[]',
    locked          INTEGER NOT NULL DEFAULT 0,
    current_take_id TEXT
);
CREATE INDEX blocks_by_chapter ON blocks(chapter_id, position);
CREATE TABLE takes (
    id              TEXT PRIMARY KEY,
    block_id        TEXT NOT NULL REFERENCES blocks(id) ON DELETE CASCADE
                         DEFERRABLE INITIALLY DEFERRED,
    created         REAL NOT NULL,
    engine          TEXT NOT NULL,
    voice_id        TEXT,
    model_id        TEXT NOT NULL,
    settings        TEXT NOT NULL,
    text            TEXT NOT NULL,
    format          TEXT NOT NULL,
    sample_rate     INTEGER NOT NULL,
    duration        REAL NOT NULL,
    request_id      TEXT,
    cost            INTEGER NOT NULL,
    inputs_hash     TEXT NOT NULL,
    char_timings    TEXT,
    word_timings    TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX takes_by_block ON takes(block_id, created);
CREATE TABLE take_media (
    take_id          TEXT PRIMARY KEY REFERENCES takes(id) ON DELETE CASCADE
                          DEFERRABLE INITIALLY DEFERRED,
    audio            BLOB NOT NULL,
    audio_sha256     TEXT NOT NULL
);
CREATE TABLE take_coarse (
    take_id          TEXT PRIMARY KEY REFERENCES takes(id) ON DELETE CASCADE
                          DEFERRABLE INITIALLY DEFERRED,
    rate             INTEGER NOT NULL,
    spb              INTEGER NOT NULL,
    data             BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE take_fine (
    take_id          TEXT PRIMARY KEY REFERENCES takes(id) ON DELETE CASCADE
                          DEFERRABLE INITIALLY DEFERRED,
    rate             INTEGER NOT NULL,
    spb              INTEGER NOT NULL,
    data             BLOB NOT NULL
);
CREATE TABLE dictionaries (
    id                   TEXT PRIMARY KEY,
    position             INTEGER NOT NULL,
    name                 TEXT NOT NULL,
    version              INTEGER NOT NULL,
    engine_dictionary_id TEXT,
    engine_version_id    TEXT,
    rules                TEXT,
    language             TEXT NOT NULL DEFAULT 'en-US'
);
CREATE TABLE exports (
    id          TEXT PRIMARY KEY,
    created     REAL NOT NULL,
    path        TEXT NOT NULL,
    format      TEXT NOT NULL,
    chapter_ids TEXT NOT NULL,
    settings    TEXT NOT NULL
);
"""

def _peaks_to_own_tables(conn: sqlite3.Connection) -> None:
    """Version 1 -> 2: peak summaries move out of ``take_media`` into two tables of their own.

    SQLite reads a row's columns in order through its overflow pages, so reading the peaks
    stored after a take's audio read the whole audio: opening a long chapter's waveform
    read every byte of its narration. Apart, and the coarse ones apart from the fine, opening
    a 5,000-paragraph chapter reads a few small pages.
    """
    for level in ("coarse", "fine"):
        rowid = " WITHOUT ROWID" if level == "coarse" else ""
        conn.execute(
            f"CREATE TABLE take_{level} (take_id TEXT PRIMARY KEY REFERENCES takes(id) ON DELETE "
            "CASCADE DEFERRABLE INITIALLY DEFERRED, rate INTEGER NOT NULL, spb INTEGER NOT NULL, "
            f"data BLOB NOT NULL){rowid}"
        )
        conn.execute(
            f"INSERT INTO take_{level}(take_id, rate, spb, data) SELECT take_id, peaks_rate, "
            f"peaks_{level}_spb, peaks_{level} FROM take_media WHERE peaks_{level} IS NOT NULL"
        )
    for column in ("peaks_rate", "peaks_fine_spb", "peaks_fine", "peaks_coarse_spb",
                   "peaks_coarse"):
        conn.execute(f"ALTER TABLE take_media DROP COLUMN {column}")


def _dictionary_rules(conn: sqlite3.Connection) -> None:
    """Version 2 -> 3: dictionaries keep their rules and language in the project file.

    Existing dictionaries get ``rules = NULL`` (known only by reference), so their
    paragraphs' cache keys, and so their takes, stay as they were.
    """
    columns = {r[1] for r in conn.execute("PRAGMA table_info(dictionaries)")}
    if "rules" not in columns:
        conn.execute("ALTER TABLE dictionaries ADD COLUMN rules TEXT")
    if "language" not in columns:
        conn.execute(
            "ALTER TABLE dictionaries ADD COLUMN language TEXT NOT NULL DEFAULT 'en-US'"
        )


#: ``MIGRATIONS[n]`` upgrades a version-``n`` file to version ``n + 1``.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _peaks_to_own_tables,
    2: _dictionary_rules,
}


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA busy_timeout = 5000")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _rules_to_json(rules: Iterable[PronunciationRule]) -> str:
    return _dumps([
        [r.grapheme, r.kind, r.replacement, r.alphabet, r.case_sensitive, r.word_boundaries,
         [list(a) for a in r.alternates], r.role, list(r.examples)]
        for r in rules
    ])


def _rules_from_json(data: str) -> tuple[PronunciationRule, ...]:
    return tuple(
        PronunciationRule(str(g), str(k), str(t), str(a), bool(cs), bool(wb),
                          tuple((str(x), str(y), str(z)) for x, y, z in alts), str(role),
                          tuple(str(e) for e in examples))
        for g, k, t, a, cs, wb, alts, role, examples in json.loads(data)
    )


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        raise ProjectFormatError(path, "file not found") from None
    except IsADirectoryError:
        raise ProjectFormatError(path, "is a folder, not a project file") from None
    except OSError as exc:
        raise ProjectFormatError(path, f"cannot be read ({exc.strerror})") from None
    if head != _SQLITE_MAGIC:
        raise ProjectFormatError(path, "is not a Narrator Studio project")


class ProjectStore:
    """Read and write one ``.studio`` project file.

    Use :meth:`create` for a new file and :meth:`open` for an existing one. The store owns one
    SQLite connection; use it from one thread (the GUI thread, or one writer thread).
    """

    def __init__(
        self, path: Path, conn: sqlite3.Connection, lock_fd: int | None = None
    ) -> None:
        self.path = path
        self._conn = conn
        self._lock_fd = lock_fd
        # Deleted chapters whose rows (paragraphs, takes, audio) stay in the file until it is
        # closed: undoing the deletion then needs no audio in memory and writes none again.
        self._held: set[str] = self._read_held()

    # -- opening and creating -------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, read_only: bool = False, *, purge: bool = True
             ) -> ProjectStore:
        """Open an existing project, upgrading an older file format first.

        A writable store holds the project's "open for writing" lock until closed, so a
        second window or process cannot write to it at the same time. A ``read_only`` store
        (``studio info``) takes no lock and never writes. A writable store first drops the
        rows of deleted chapters a killed session left held (unless ``purge`` is False).

        Raises:
            ProjectFormatError: not a project, from a newer version, or damaged. The file is
                left exactly as it was.
            ProjectBusyError: another window or process has it open for writing.
        """
        path = Path(path)
        _check_header(path)
        try:
            if read_only:
                uri = f"file:{path.resolve()}?mode=ro"
                conn = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False
                )
            else:
                conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise ProjectFormatError(path, f"cannot be opened ({exc})") from None
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if app_id != APPLICATION_ID:
                raise ProjectFormatError(
                    path, "is an SQLite database but not a Narrator Studio project"
                )
            if version > SCHEMA_VERSION:
                raise ProjectFormatError(
                    path,
                    f"was saved by a newer version of Narrator Studio (file format {version}; "
                    f"this version reads up to {SCHEMA_VERSION}); please update the app",
                )
            # Reading the schema catches a damaged header or catalogue at once. A full
            # integrity check would read every page (hours of audio) on every open; damage
            # elsewhere surfaces as ProjectFormatError from load() and the media readers,
            # and integrity_check() is there for an explicit check.
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if version < 1 or not {"project", "chapters", "blocks", "takes"} <= tables:
                raise ProjectFormatError(path, "is damaged (its tables are missing)")
        except ProjectFormatError:
            conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ProjectFormatError(path, f"is damaged or not a project ({exc})") from None
        if read_only:
            if version < SCHEMA_VERSION:
                conn.close()
                raise ProjectFormatError(
                    path, "is from an older version; open it in the studio to upgrade it"
                )
            conn.execute("PRAGMA query_only = ON")
            return cls(path, conn)
        conn.close()
        lock_fd = _lock(path)
        try:
            if version < SCHEMA_VERSION:
                cls._migrate(path, version)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            _configure(conn)
        except BaseException:
            _unlock(lock_fd)
            raise
        store = cls(path, conn, lock_fd)
        if purge:  # a full disk or a read-only folder: the rows stay held and hidden
            with contextlib.suppress(ProjectSaveError):
                store.purge_held()
        return store

    @classmethod
    def _migrate(cls, path: Path, version: int) -> None:
        backup = path.with_name(f"{path.name}.v{version}.bak")
        shutil.copy2(path, backup)
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            for v in range(version, SCHEMA_VERSION):
                MIGRATIONS[v](conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except Exception as exc:
            conn.execute("ROLLBACK")
            raise ProjectFormatError(path, f"could not be upgraded ({exc})") from exc
        finally:
            conn.close()

    @classmethod
    def create(cls, path: str | Path, project: Project, overwrite: bool = False) -> ProjectStore:
        """Write ``project`` to a new file at ``path`` and return its store.

        The file is built under a temporary name in the same folder and renamed into place
        when complete, so a failure never leaves a half-written project behind.
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise ProjectSaveError(path, "a file with that name already exists", existing=False)
        folder = path.parent if str(path.parent) else Path(".")
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise ProjectSaveError(path, exc.strerror or str(exc), existing=False) from None
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            tmp.unlink()
            conn = sqlite3.connect(tmp, isolation_level=None, check_same_thread=False)
            try:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("BEGIN")
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?)",
                    [("created_by", f"Narrator Studio {__version__}"),
                     ("created", str(time.time()))],
                )
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
                try:
                    cls(tmp, conn).save(project)
                except ProjectSaveError as exc:  # name the file the user asked for
                    raise ProjectSaveError(path, exc.problem, existing=False) from None
            finally:
                conn.close()
            _replace_into(tmp, path)
        except sqlite3.Error as exc:
            _remove_quietly(tmp)
            raise ProjectSaveError(path, str(exc), existing=False) from None
        except OSError as exc:
            _remove_quietly(tmp)
            raise ProjectSaveError(path, exc.strerror or str(exc), existing=False) from None
        except BaseException:
            _remove_quietly(tmp)
            raise
        return cls.open(path)

    def close(self) -> None:
        """Drop held chapters, close the file (checkpointing the log), release its lock."""
        if self._lock_fd is not None:
            with contextlib.suppress(ProjectSaveError):  # kept hidden; dropped at next open
                self.purge_held()
        self._conn.close()
        _unlock(self._lock_fd)
        self._lock_fd = None

    def __enter__(self) -> ProjectStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- loading -------------------------------------------------------------------------------

    def load(self) -> Project:
        """Return the project, with takes' metadata but not their audio or peaks."""
        try:
            return self._load()
        except sqlite3.DatabaseError as exc:
            raise ProjectFormatError(self.path, f"is damaged ({exc})") from None
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            # Rows that do not fit together (bad JSON, a paragraph of a missing chapter):
            # the file was changed by something else than the studio, or is damaged.
            detail = f"{type(exc).__name__}: {exc}"
            raise ProjectFormatError(self.path, f"is damaged ({detail})") from None

    def _load(self) -> Project:
        c = self._conn
        row = c.execute(
            "SELECT uid, title, author, language, model_id, default_voice_id, settings "
            "FROM project WHERE id = 1"
        ).fetchone()
        if row is None:
            raise ProjectFormatError(self.path, "is damaged (it has no project record)")
        project = Project(
            id=ProjectId(row[0]),
            title=row[1],
            author=row[2],
            language=row[3],
            model_id=row[4],
            default_voice_id=VoiceId(row[5]) if row[5] else None,
            settings=json.loads(row[6]),
        )
        cover = c.execute("SELECT value FROM meta WHERE key = 'cover'").fetchone()
        if cover is not None and isinstance(cover[0], bytes) and cover[0]:
            project.cover = cover[0]
        for r in c.execute(
            "SELECT id, alias, engine, engine_voice_id, volume_db, speed, stability, "
            "similarity, style, speaker_boost FROM voices ORDER BY position"
        ):
            voice = Voice(VoiceId(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], bool(r[9]))
            project.voices[voice.id] = voice
        project.dictionaries = [
            DictionaryRef(DictionaryId(r[0]), r[1], r[2], r[3], r[4],
                          None if r[5] is None else _rules_from_json(r[5]), r[6])
            for r in c.execute(
                "SELECT id, name, version, engine_dictionary_id, engine_version_id, rules, "
                "language FROM dictionaries ORDER BY position"
            )
        ]
        project.exports = [
            ExportRecord(
                ExportId(r[0]), r[1], r[2], tuple(ChapterId(x) for x in json.loads(r[3])),
                r[4], json.loads(r[5]),
            )
            for r in c.execute(
                "SELECT id, path, format, chapter_ids, created, settings FROM exports "
                "ORDER BY created, rowid"
            )
        ]
        chapters: dict[str, Chapter] = {}
        held = _dumps(sorted(self._held))
        for r in c.execute(
            "SELECT id, title FROM chapters WHERE id NOT IN (SELECT value FROM json_each(?)) "
            "ORDER BY position", (held,)
        ):
            chapters[r[0]] = Chapter(ChapterId(r[0]), r[1])
        blocks: dict[str, Block] = {}
        for r in c.execute(
            "SELECT id, chapter_id, text, voice_id, spans, locked, current_take_id "
            "FROM blocks WHERE chapter_id NOT IN (SELECT value FROM json_each(?)) "
            "ORDER BY chapter_id, position", (held,)
        ):
            block = Block(
                BlockId(r[0]),
                r[2],
                voice_id=VoiceId(r[3]) if r[3] else None,
                spans=tuple(VoiceSpan(s[0], s[1], VoiceId(s[2])) for s in json.loads(r[4])),
                locked=bool(r[5]),
                current_take_id=TakeId(r[6]) if r[6] else None,
            )
            blocks[block.id] = block
            chapters[r[1]].blocks.append(block)
        for r in c.execute(
            "SELECT id, block_id, created, engine, voice_id, model_id, settings, text, format, "
            "sample_rate, duration, request_id, cost, inputs_hash, char_timings, word_timings "
            "FROM takes WHERE ? = '[]' OR block_id NOT IN (SELECT id FROM blocks WHERE "
            "chapter_id IN (SELECT value FROM json_each(?))) ORDER BY created, rowid",
            (held, held),
        ):
            timings = json.loads(r[14]) if r[14] else None
            take = Take(
                id=TakeId(r[0]),
                block_id=BlockId(r[1]),
                created=r[2],
                engine=r[3],
                voice_id=VoiceId(r[4]) if r[4] else None,
                model_id=r[5],
                settings=json.loads(r[6]),
                text=r[7],
                format=r[8],
                sample_rate=r[9],
                duration=r[10],
                request_id=r[11],
                cost=r[12],
                inputs_hash=r[13],
                char_timings=CharTimings(
                    tuple(timings["characters"]), tuple(timings["starts"]), tuple(timings["ends"])
                ) if timings else None,
                word_timings=tuple(WordTiming(*w) for w in json.loads(r[15])),
            )
            blocks[take.block_id].takes.append(take)
        project.chapters = list(chapters.values())
        return project

    def load_take_audio(self, take_id: TakeId) -> bytes:
        """Return a take's audio bytes."""
        try:
            row = self._conn.execute(
                "SELECT audio, audio_sha256 FROM take_media WHERE take_id = ?", (take_id,)
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise ProjectFormatError(self.path, f"is damaged ({exc})") from None
        if row is None:
            raise ProjectFormatError(self.path, f"take {take_id} has no audio")
        audio = bytes(row[0])
        if hashlib.sha256(audio).hexdigest() != row[1]:
            raise ProjectFormatError(
                self.path, f"the audio of take {take_id} is damaged; generate it again"
            )
        return audio

    def load_peaks(self, take_id: TakeId) -> tuple[PeakSummary | None, PeakSummary | None]:
        """Return a take's (fine, coarse) peak summaries."""
        found = [self.load_peaks_many([take_id], level).get(take_id) for level in LEVELS]
        return found[0], found[1]

    def load_peaks_many(self, take_ids: list[TakeId], level: str
                        ) -> dict[TakeId, PeakSummary]:
        """Return the ``level`` ("fine" or "coarse") peak summaries of many takes at once.

        Takes without a summary at that level are left out.
        """
        if level not in LEVELS:
            raise ValueError(f"unknown peak level {level!r}")
        try:
            rows = self._conn.execute(
                f"SELECT take_id, rate, spb, data FROM take_{level} "
                "WHERE take_id IN (SELECT value FROM json_each(?))",
                (_dumps(list(take_ids)),),
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise ProjectFormatError(self.path, f"is damaged ({exc})") from None
        return {TakeId(t): PeakSummary(spb, rate, bytes(data)) for t, rate, spb, data in rows}

    # -- saving --------------------------------------------------------------------------------

    def save(self, project: Project, changes: Changes | None = None) -> None:
        """Write the project in one transaction: all of it, or only what ``changes`` names.

        Raises:
            ProjectSaveError: the disk is full or the file cannot be written; nothing of this
                save was written and the file holds the previous state.
        """
        c = self._conn
        held = set(self._held)
        try:
            c.execute("BEGIN IMMEDIATE")
            try:
                if changes is None:
                    self._save_all(project)
                else:
                    self._save_changes(project, changes)
                c.execute("COMMIT")
            except BaseException:
                self._held = held  # as the file has it again
                c.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise ProjectSaveError(self.path, str(exc)) from None

    def _save_all(self, project: Project) -> None:
        c = self._conn
        self._write_project(project)
        self._write_voices(project, project.voices.keys())
        c.execute(
            "DELETE FROM voices WHERE id NOT IN (SELECT value FROM json_each(?))",
            (_dumps(list(project.voices)),),
        )
        self._write_dictionaries(project)
        self._write_exports(project)
        self._write_chapters(project)
        chapter_ids = [ch.id for ch in project.chapters]
        self._set_held(self._held - set(chapter_ids))
        held = _dumps(sorted(self._held))  # their rows stay, for undo
        c.execute(
            "DELETE FROM chapters WHERE id NOT IN (SELECT value FROM json_each(?)) "
            "AND id NOT IN (SELECT value FROM json_each(?))",
            (_dumps(chapter_ids), held),
        )
        block_ids: list[str] = []
        for chapter in project.chapters:
            self._write_blocks(chapter, range(len(chapter.blocks)))
            block_ids.extend(b.id for b in chapter.blocks)
        c.execute(
            "DELETE FROM blocks WHERE id NOT IN (SELECT value FROM json_each(?)) "
            "AND chapter_id NOT IN (SELECT value FROM json_each(?))",
            (_dumps(block_ids), held),
        )
        take_ids = [t.id for _, b in project.iter_blocks() for t in b.takes]
        c.execute(
            "DELETE FROM takes WHERE id NOT IN (SELECT value FROM json_each(?)) AND block_id "
            "NOT IN (SELECT id FROM blocks WHERE chapter_id IN (SELECT value FROM json_each(?)))",
            (_dumps(take_ids), held),
        )
        self._write_takes(t for _, b in project.iter_blocks() for t in b.takes)

    def _save_changes(self, project: Project, ch: Changes) -> None:
        c = self._conn
        if ch.project:
            self._write_project(project)
        if ch.voices or ch.removed_voices:
            self._write_voices(project, [VoiceId(v) for v in ch.voices if v in project.voices])
            c.executemany("DELETE FROM voices WHERE id = ?", [(v,) for v in ch.removed_voices])
        if ch.dictionaries:
            self._write_dictionaries(project)
        if ch.exports:
            self._write_exports(project)
        if ch.removed_chapters:
            # A deleted chapter is held, not deleted: its rows stay (hidden from load) until
            # the file closes, so undo writes no audio back and deleting reads none.
            self._set_held(self._held | set(ch.removed_chapters))
        removed_takes, removed_blocks = ch.removed_takes, ch.removed_blocks
        if self._held and (removed_takes or removed_blocks):  # keep the held rows
            held = _dumps(sorted(self._held))
            removed_blocks = removed_blocks - {r[0] for r in c.execute(
                "SELECT id FROM blocks WHERE chapter_id IN (SELECT value FROM json_each(?))",
                (held,))}
            removed_takes = removed_takes - {r[0] for r in c.execute(
                "SELECT takes.id FROM takes JOIN blocks ON blocks.id = takes.block_id "
                "WHERE blocks.chapter_id IN (SELECT value FROM json_each(?))", (held,))}
        c.executemany("DELETE FROM takes WHERE id = ?", [(t,) for t in removed_takes])
        c.executemany("DELETE FROM blocks WHERE id = ?", [(b,) for b in removed_blocks])
        if ch.structure or ch.chapters:
            self._write_chapters(project)
            if self._held:  # an undone deletion: the chapter is back
                self._set_held(self._held - {c.id for c in project.chapters})
        written: set[str] = set()  # chapters whose every paragraph was written
        for chapter in project.chapters:
            if chapter.id in ch.chapters and ch.structure:
                self._write_blocks(chapter, range(len(chapter.blocks)))
                written.add(chapter.id)
        named: dict[str, tuple[Chapter, list[int]]] = {}
        for block_id in ch.blocks:
            try:
                chapter, index = project.locate(BlockId(block_id))
            except EditError:
                continue  # removed again by a later edit in the same batch
            if chapter.id not in written:
                named.setdefault(chapter.id, (chapter, []))[1].append(index)
        for chapter, indices in named.values():  # one statement per chapter
            self._write_blocks(chapter, indices)
        if ch.takes:
            takes = _takes_named(project, ch)
            if len(takes) > 1:  # takes are never rewritten: skip the ones the file has
                have = {r[0] for r in c.execute(
                    "SELECT id FROM takes WHERE id IN (SELECT value FROM json_each(?))",
                    (_dumps([t.id for t in takes]),))}
                takes = [t for t in takes if t.id not in have]
            self._write_takes(takes)

    # -- held chapters ---------------------------------------------------------------------------

    def _read_held(self) -> set[str]:
        try:
            row = self._conn.execute(
                "SELECT value FROM meta WHERE key = 'held_chapters'").fetchone()
        except sqlite3.DatabaseError:
            return set()  # not a project yet (create) or damaged: load() reports that
        return set(json.loads(row[0])) if row is not None else set()

    def _set_held(self, held: set[str]) -> None:
        """Record the held chapters (inside the caller's transaction)."""
        if held == self._held:
            return
        if held:
            self._conn.execute(
                "INSERT INTO meta(key, value) VALUES ('held_chapters', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (_dumps(sorted(held)),))
        else:
            self._conn.execute("DELETE FROM meta WHERE key = 'held_chapters'")
        self._held = set(held)

    @property
    def held_chapters(self) -> frozenset[str]:
        """Return the deleted chapters whose rows the file still holds (for undo)."""
        return frozenset(self._held)

    def purge_held(self) -> None:
        """Delete the rows of held chapters: their paragraphs, takes and audio.

        Done when the file closes (nothing can undo the deletion any more) and when it is
        opened (after a session that was killed).

        Raises:
            ProjectSaveError: the file cannot be written; the rows stay held and hidden.
        """
        if not self._held:
            return
        c = self._conn
        held = _dumps(sorted(self._held))
        try:
            c.execute("BEGIN IMMEDIATE")
            try:
                c.execute("DELETE FROM chapters WHERE id IN (SELECT value FROM json_each(?))",
                          (held,))  # paragraphs, takes and media go with it (cascade)
                c.execute("DELETE FROM meta WHERE key = 'held_chapters'")
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise ProjectSaveError(self.path, str(exc)) from None
        self._held = set()

    def _write_project(self, p: Project) -> None:
        self._conn.execute(
            "INSERT INTO project(id, uid, title, author, language, model_id, default_voice_id, "
            "settings) VALUES (1, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "uid=excluded.uid, title=excluded.title, author=excluded.author, "
            "language=excluded.language, model_id=excluded.model_id, "
            "default_voice_id=excluded.default_voice_id, settings=excluded.settings",
            (p.id, p.title, p.author, p.language, p.model_id, p.default_voice_id,
             _dumps(p.settings)),
        )
        if p.cover:  # rewritten only when it changed
            self._conn.execute(
                "INSERT INTO meta(key, value) VALUES ('cover', ?) ON CONFLICT(key) DO UPDATE "
                "SET value = excluded.value WHERE value IS NOT excluded.value",
                (p.cover,),
            )
        else:
            self._conn.execute("DELETE FROM meta WHERE key = 'cover'")

    def _write_voices(self, p: Project, ids: Iterable[VoiceId]) -> None:
        order = {vid: i for i, vid in enumerate(p.voices)}
        self._conn.executemany(
            "INSERT INTO voices(id, position, alias, engine, engine_voice_id, volume_db, speed, "
            "stability, similarity, style, speaker_boost) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET position=excluded.position, alias=excluded.alias, "
            "engine=excluded.engine, engine_voice_id=excluded.engine_voice_id, "
            "volume_db=excluded.volume_db, speed=excluded.speed, stability=excluded.stability, "
            "similarity=excluded.similarity, style=excluded.style, "
            "speaker_boost=excluded.speaker_boost",
            [
                (v.id, order[v.id], v.alias, v.engine, v.engine_voice_id, v.volume_db, v.speed,
                 v.stability, v.similarity, v.style, int(v.speaker_boost))
                for v in (p.voices[i] for i in ids)
            ],
        )

    def _write_dictionaries(self, p: Project) -> None:
        self._conn.execute("DELETE FROM dictionaries")
        self._conn.executemany(
            "INSERT INTO dictionaries(id, position, name, version, engine_dictionary_id, "
            "engine_version_id, rules, language) VALUES (?,?,?,?,?,?,?,?)",
            [(d.id, i, d.name, d.version, d.engine_dictionary_id, d.engine_version_id,
              None if d.rules is None else _rules_to_json(d.rules), d.language)
             for i, d in enumerate(p.dictionaries)],
        )

    def _write_exports(self, p: Project) -> None:
        self._conn.executemany(
            "INSERT OR IGNORE INTO exports(id, created, path, format, chapter_ids, settings) "
            "VALUES (?,?,?,?,?,?)",
            [(e.id, e.created, e.path, e.format, _dumps(list(e.chapter_ids)), _dumps(e.settings))
             for e in p.exports],
        )

    def _write_chapters(self, p: Project) -> None:
        self._conn.executemany(
            "INSERT INTO chapters(id, position, title) VALUES (?,?,?) ON CONFLICT(id) DO UPDATE "
            "SET position=excluded.position, title=excluded.title",
            [(chapter.id, i, chapter.title) for i, chapter in enumerate(p.chapters)],
        )

    def _write_blocks(self, chapter: Chapter, indices: Iterable[int]) -> None:
        rows = []
        for i in indices:
            b = chapter.blocks[i]
            rows.append((
                b.id, chapter.id, i, b.text, b.voice_id,
                _dumps([[s.start, s.end, s.voice_id] for s in b.spans]) if b.spans else "[]",
                int(b.locked), b.current_take_id,
            ))
        self._conn.executemany(
            "INSERT INTO blocks(id, chapter_id, position, text, voice_id, spans, locked, "
            "current_take_id) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
            "chapter_id=excluded.chapter_id, position=excluded.position, text=excluded.text, "
            "voice_id=excluded.voice_id, spans=excluded.spans, locked=excluded.locked, "
            "current_take_id=excluded.current_take_id",
            rows,
        )

    def _write_takes(self, takes: Iterable[Take]) -> None:
        c = self._conn
        for t in takes:
            cur = c.execute(
                "INSERT OR IGNORE INTO takes(id, block_id, created, engine, voice_id, model_id, "
                "settings, text, format, sample_rate, duration, request_id, cost, inputs_hash, "
                "char_timings, word_timings) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    t.id, t.block_id, t.created, t.engine, t.voice_id, t.model_id,
                    _dumps(t.settings), t.text, t.format, t.sample_rate, t.duration,
                    t.request_id, t.cost, t.inputs_hash,
                    _dumps({
                        "characters": list(t.char_timings.characters),
                        "starts": list(t.char_timings.starts),
                        "ends": list(t.char_timings.ends),
                    }) if t.char_timings else None,
                    _dumps([[w.word, w.char_start, w.char_end, w.start, w.end]
                            for w in t.word_timings]),
                ),
            )
            if cur.rowcount == 0:
                continue  # takes are append-only: an existing take is never rewritten
            if t.audio is None:
                raise ProjectSaveError(self.path, f"take {t.id} has no audio to store")
            c.execute(
                "INSERT INTO take_media(take_id, audio, audio_sha256) VALUES (?,?,?)",
                (t.id, t.audio, hashlib.sha256(t.audio).hexdigest()),
            )
            for level, peaks in (("coarse", t.peaks_coarse), ("fine", t.peaks_fine)):
                if peaks is not None:
                    c.execute(
                        f"INSERT INTO take_{level}(take_id, rate, spb, data) VALUES (?,?,?,?)",
                        (t.id, peaks.sample_rate, peaks.samples_per_bin, peaks.data),
                    )

    # -- whole-file operations ---------------------------------------------------------------

    def save_as(self, new_path: str | Path, overwrite: bool = False) -> ProjectStore:
        """Copy the whole project (audio included) to ``new_path``; return the new store."""
        new_path = Path(new_path)
        if new_path.exists() and not overwrite:
            raise ProjectSaveError(new_path, "a file with that name already exists", existing=False)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{new_path.name}.", suffix=".tmp", dir=new_path.parent
        )
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            dest = sqlite3.connect(tmp)
            try:
                self._conn.backup(dest)
            finally:
                dest.close()
            _replace_into(tmp, new_path)
        except (sqlite3.Error, OSError) as exc:
            _remove_quietly(tmp)
            raise ProjectSaveError(new_path, str(exc), existing=False) from None
        return ProjectStore.open(new_path, purge=False)  # undo may still need held chapters

    def integrity_check(self) -> list[str]:
        """Return SQLite's full integrity check (``["ok"]`` for a sound file)."""
        return [r[0] for r in self._conn.execute("PRAGMA integrity_check")]


def _takes_named(project: Project, ch: Changes) -> list[Take]:
    """Return the takes ``ch`` names, looked for in the blocks it names first.

    A new take comes with its block named, so a render's save never walks every take in
    the book; a take whose block is not named (an undone chapter deletion) is looked for
    everywhere.
    """
    wanted = set(ch.takes)
    found: list[Take] = []
    for block_id in ch.blocks:
        try:
            block = project.block(BlockId(block_id))
        except EditError:
            continue
        for take in block.takes:
            if take.id in wanted:
                wanted.discard(take.id)
                found.append(take)
    if wanted:
        found.extend(t for _, b in project.iter_blocks() for t in b.takes if t.id in wanted)
    return found


def _remove_quietly(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            pass


class AutoSaver:
    """Collect edits and write them in one transaction when due.

    The UI notes every edit's :class:`Changes` and calls :meth:`flush_if_due` from a timer;
    :meth:`flush` writes at once (before closing, before a long operation).
    """

    def __init__(self, store: ProjectStore, project: Project, delay_s: float = 1.0) -> None:
        self.store = store
        self.project = project
        self.delay_s = delay_s
        self._pending: Changes | None = None
        self._since = 0.0

    @property
    def dirty(self) -> bool:
        """Return whether edits are waiting to be written."""
        return self._pending is not None

    def note(self, changes: Changes, now: float | None = None) -> None:
        """Remember ``changes`` for the next write."""
        if changes.empty:
            return
        if self._pending is None:
            self._since = time.monotonic() if now is None else now
            self._pending = changes
        else:
            self._pending = self._pending | changes

    def flush_if_due(self, now: float | None = None) -> bool:
        """Write pending edits if the oldest is older than ``delay_s``; return whether written."""
        now = time.monotonic() if now is None else now
        if self._pending is not None and now - self._since >= self.delay_s:
            self.flush()
            return True
        return False

    def flush(self) -> None:
        """Write pending edits now."""
        if self._pending is None:
            return
        pending, self._pending = self._pending, None
        try:
            self.store.save(self.project, pending)
        except BaseException:
            self._pending = pending if self._pending is None else pending | self._pending
            raise
