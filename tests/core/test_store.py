"""The project file: round trips, partial saves, refusal of foreign/newer/damaged files."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.core import model as m
from studio.core.errors import ProjectBusyError, ProjectFormatError, ProjectSaveError
from studio.core.model import BlockId, ChapterId, VoiceId, VoiceSpan
from studio.core.store import AutoSaver, ProjectStore
from tests.core.factories import make_project, make_take, wav_bytes


def snapshot(project: m.Project) -> dict:
    """Everything of a project that must survive a save, as comparable data."""
    return {
        "meta": (project.id, project.title, project.author, project.language, project.model_id,
                 project.default_voice_id, project.settings),
        "voices": [(v.id, v.alias, v.engine, v.engine_voice_id, v.volume_db, v.speed, v.stability,
                    v.similarity, v.style, v.speaker_boost) for v in project.voices.values()],
        "dicts": list(project.dictionaries),
        "exports": list(project.exports),
        "chapters": [
            (c.id, c.title, [(b.id, b.text, b.voice_id, b.spans, b.locked, b.current_take_id,
                              list(b.takes)) for b in c.blocks])
            for c in project.chapters
        ],
    }


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_round_trip_with_takes_and_audio(tmp_path: Path) -> None:
    project = make_project()
    m.add_voice(project, m.Voice(VoiceId("v2"), "Holmes", engine="elevenlabs",
                                 engine_voice_id="JBFqnCBsd6RMkjVDRZzb", speed=1.1))
    m.set_block_voice(project, BlockId("c0b1"), VoiceId("v2"))
    m.set_block_spans(project, BlockId("c0b2"), [VoiceSpan(0, 9, VoiceId("v2"))])
    m.set_block_locked(project, BlockId("c1b0"), True)
    m.set_dictionaries(project, [m.DictionaryRef(m.DictionaryId("d1"), "Names", 3, "pd1", "v9")])
    m.add_export_record(project, m.ExportRecord(m.ExportId("e1"), "/x/book.m4b", "m4b",
                                                (ChapterId("c0"),), settings={"bitrate": 64}))
    audio = wav_bytes(0.3)
    take = make_take(project, BlockId("c0b0"), audio)
    m.add_take(project, take)
    path = tmp_path / "Book.studio"
    ProjectStore.create(path, project).close()
    with ProjectStore.open(path) as store:
        loaded = store.load()
        assert snapshot(loaded) == snapshot(project)
        assert store.load_take_audio(take.id) == audio
        fine, coarse = store.load_peaks(take.id)
        assert fine == take.peaks_fine and coarse == take.peaks_coarse
        many = store.load_peaks_many([take.id, m.TakeId("no-such-take")], "coarse")
        assert many == {take.id: take.peaks_coarse}
        assert store.load_peaks_many([take.id], "fine") == {take.id: take.peaks_fine}
        assert m.block_status(loaded, loaded.block(BlockId("c0b0"))) is m.BlockStatus.CONVERTED
        assert store.integrity_check() == ["ok"]


def test_partial_saves_write_what_changed(tmp_path: Path) -> None:
    project = make_project(chapters=2, blocks=4)
    path = tmp_path / "Book.studio"
    store = ProjectStore.create(path, project)
    edits = [
        m.set_block_text(project, BlockId("c0b1"), "Edited text."),
        m.split_block(project, BlockId("c1b0"), 9),
        m.merge_blocks(project, BlockId("c0b2")),
        m.move_chapter(project, ChapterId("c1"), 0),
        m.add_chapter(project, "Epilogue", ["The end."]),
        m.remove_block(project, BlockId("c0b0")),
        m.add_take(project, make_take(project, BlockId("c0b1"))),
        m.update_voice(project, VoiceId("v-narrator"), speed=0.9),
    ]
    for changes in edits:
        store.save(project, changes)
    store.close()
    with ProjectStore.open(path) as again:
        assert snapshot(again.load()) == snapshot(project)


def test_saving_new_takes_looks_only_at_their_paragraphs(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A render saves take after take: each save must not walk every take in the book."""
    project = make_project(chapters=3, blocks=40)
    path = tmp_path / "Book.studio"
    store = ProjectStore.create(path, project)
    walks = 0
    iter_blocks = m.Project.iter_blocks

    def counting(self: m.Project):  # type: ignore[no-untyped-def]
        nonlocal walks
        walks += 1
        return iter_blocks(self)

    monkeypatch.setattr(m.Project, "iter_blocks", counting)
    batch = m.Changes()
    for block_id in ("c0b3", "c1b7", "c2b39"):
        batch = batch | m.add_take(project, make_take(project, BlockId(block_id)))
    store.save(project, batch)
    store.save(project, m.add_take(project, make_take(project, BlockId("c0b3"))))
    assert walks == 0
    # A take whose paragraph the changes do not name is still found and saved.
    lost = make_take(project, BlockId("c1b1"))
    project.block(BlockId("c1b1")).takes.append(lost)
    store.save(project, m.Changes(takes=frozenset({lost.id})))
    store.close()
    with ProjectStore.open(path) as again:
        assert snapshot(again.load()) == snapshot(project)


def test_the_cover_image_is_kept_in_the_file(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    project = make_project()
    path = tmp_path / "Book.studio"
    ProjectStore.create(path, project).close()
    with ProjectStore.open(path) as store:
        assert store.load().cover is None  # a file without one: no cover
        store.save(project, m.set_project_meta(project, cover=png))
    with ProjectStore.open(path) as store:
        loaded = store.load()
        assert loaded.cover == png
        store.save(loaded, m.set_project_meta(loaded, title="Renamed"))  # the cover stays
        assert store.load().cover == png
        store.save(loaded, m.set_project_meta(loaded, cover=None))
    with ProjectStore.open(path, read_only=True) as store:
        assert store.load().cover is None
    with pytest.raises(m.EditError, match="JPEG or PNG"):
        m.set_project_meta(project, cover=b"GIF89a...")


def test_create_refuses_to_overwrite_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "Book.studio"
    ProjectStore.create(path, make_project()).close()
    before = sha(path)
    with pytest.raises(ProjectSaveError, match="already exists"):
        ProjectStore.create(path, make_project())
    assert sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Book.studio"]


def test_non_project_files_are_refused_and_untouched(tmp_path: Path) -> None:
    text = tmp_path / "notes.studio"
    text.write_text("just some text")
    other_db = tmp_path / "other.studio"
    con = sqlite3.connect(other_db)
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.close()
    for path, words in ((text, "not a Narrator Studio project"),
                        (other_db, "SQLite database but not a Narrator Studio project"),
                        (tmp_path / "missing.studio", "not found"),
                        (tmp_path, "folder")):
        before = sha(path) if path.is_file() else None
        with pytest.raises(ProjectFormatError, match=words) as info:
            ProjectStore.open(path)
        assert str(path) in str(info.value)
        if before:
            assert sha(path) == before


def test_newer_file_format_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "Book.studio"
    ProjectStore.create(path, make_project()).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    before = sha(path)
    with pytest.raises(ProjectFormatError, match="newer version"):
        ProjectStore.open(path)
    assert sha(path) == before


def test_damaged_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "Book.studio"
    project = make_project(chapters=20, blocks=30)
    ProjectStore.create(path, project).close()
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page * 2, len(data), page):  # scribble over every page but the header
        data[offset + 100 : offset + 400] = b"\xde\xad" * 150
    path.write_bytes(bytes(data))
    before = sha(path)
    with pytest.raises(ProjectFormatError, match="damaged"), ProjectStore.open(path) as store:
        store.load()
    assert sha(path) == before

    truncated = tmp_path / "Cut.studio"
    ProjectStore.create(truncated, project).close()
    truncated.write_bytes(truncated.read_bytes()[:5000])
    with pytest.raises(ProjectFormatError), ProjectStore.open(truncated) as store:
        store.load()


def test_damaged_take_audio_is_reported_not_returned(tmp_path: Path) -> None:
    project = make_project()
    audio = bytes(range(256)) * 400  # 100 kB, recognisable
    take = make_take(project, BlockId("c0b0"), audio)
    m.add_take(project, take)
    path = tmp_path / "Book.studio"
    ProjectStore.create(path, project).close()
    data = bytearray(path.read_bytes())
    where = data.find(bytes(range(256)) * 4, len(data) // 2)
    assert where > 0
    data[where : where + 64] = b"\x00" * 64  # flip bytes inside the stored audio
    path.write_bytes(bytes(data))
    with ProjectStore.open(path) as store:
        store.load()  # the text is fine
        with pytest.raises(ProjectFormatError, match=r"audio of take \w+ is damaged"):
            store.load_take_audio(take.id)


def test_full_disk_keeps_last_saved_state(tmp_path: Path) -> None:
    path = tmp_path / "Book.studio"
    project = make_project()
    store = ProjectStore.create(path, project)
    # Cap the database size: the next big write fails exactly as on a full disk.
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    take = make_take(project, BlockId("c0b0"), wav_bytes(3.0))
    changes = m.add_take(project, take) | m.set_block_text(project, BlockId("c0b1"), "New text.")
    with pytest.raises(ProjectSaveError, match="full") as info:
        store.save(project, changes)
    assert str(path) in str(info.value)
    store.close()
    with ProjectStore.open(path) as again:
        loaded = again.load()
        assert loaded.block(BlockId("c0b1")).text == "Paragraph 2 of chapter 1."
        assert loaded.block(BlockId("c0b0")).takes == []
        assert again.integrity_check() == ["ok"]


def test_take_audio_is_append_only(tmp_path: Path) -> None:
    project = make_project()
    take = make_take(project, BlockId("c0b0"), b"original-bytes")
    m.add_take(project, take)
    path = tmp_path / "Book.studio"
    store = ProjectStore.create(path, project)
    # Saving again never rewrites stored audio.
    store.save(project)
    assert store.load_take_audio(take.id) == b"original-bytes"
    store.close()


def test_save_as_copies_audio(tmp_path: Path) -> None:
    project = make_project()
    take = make_take(project, BlockId("c0b0"))
    m.add_take(project, take)
    store = ProjectStore.create(tmp_path / "a.studio", project)
    copy = store.save_as(tmp_path / "b.studio")
    assert snapshot(copy.load()) == snapshot(project)
    assert copy.load_take_audio(take.id) == take.audio
    copy.close()
    store.close()


def test_autosaver_batches_edits(tmp_path: Path) -> None:
    project = make_project()
    path = tmp_path / "Book.studio"
    store = ProjectStore.create(path, project)
    saver = AutoSaver(store, project, delay_s=1.0)
    saver.note(m.set_block_text(project, BlockId("c0b0"), "One."), now=10.0)
    saver.note(m.set_block_text(project, BlockId("c0b1"), "Two."), now=10.5)
    assert not saver.flush_if_due(now=10.9) and saver.dirty
    with ProjectStore.open(path, read_only=True) as reader:
        assert reader.load().block(BlockId("c0b0")).text != "One."
    assert saver.flush_if_due(now=11.1) and not saver.dirty
    with ProjectStore.open(path, read_only=True) as reader:
        loaded = reader.load()
        assert [loaded.block(BlockId(b)).text for b in ("c0b0", "c0b1")] == ["One.", "Two."]
    store.close()


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=60,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    title=_text,
    chapters=st.lists(
        st.tuples(_text, st.lists(st.tuples(_text, st.booleans()), max_size=5)), max_size=5
    ),
    settings_value=st.dictionaries(st.text(max_size=8), st.integers() | st.floats(allow_nan=False)
                                   | st.text(max_size=8), max_size=4),
)
def test_store_round_trip_property(tmp_path_factory, title, chapters, settings_value) -> None:  # type: ignore[no-untyped-def]
    project = m.Project(title=title, settings=settings_value)
    for ctitle, blocks in chapters:
        m.add_chapter(project, ctitle, [t for t, _ in blocks])
        for block, (_, locked) in zip(project.chapters[-1].blocks, blocks, strict=True):
            block.locked = locked
    path = tmp_path_factory.mktemp("rt") / "p.studio"
    ProjectStore.create(path, project).close()
    with ProjectStore.open(path) as store:
        assert snapshot(store.load()) == snapshot(project)


def test_one_writer_at_a_time_readers_welcome(tmp_path: Path) -> None:
    path = tmp_path / "Book.studio"
    writer = ProjectStore.create(path, make_project())
    with pytest.raises(ProjectBusyError, match="open in another"):
        ProjectStore.open(path)
    with ProjectStore.open(path, read_only=True) as reader:
        assert reader.load().title == "Test Book"
        with pytest.raises(ProjectSaveError):
            reader.save(make_project())  # a reader never writes
    with pytest.raises(ProjectBusyError):
        ProjectStore.create(path, make_project(), overwrite=True)
    writer.close()
    ProjectStore.open(path).close()


def test_overwrite_discards_a_crashed_projects_journal(tmp_path: Path) -> None:
    """A stale -wal next to a replaced project must not be replayed into the new one."""
    path = tmp_path / "Book.studio"
    old = make_project(chapters=3)
    ProjectStore.create(path, old).close()
    # Simulate a crash: committed changes left in the -wal, never checkpointed.
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_autocheckpoint = 0")
    con.execute("UPDATE chapters SET title = title || ' X'")
    con.commit()
    saved_wal = Path(f"{path}-wal").read_bytes()
    con.close()  # (closing checkpoints; put the journal back as a crash would leave it)
    Path(f"{path}-wal").write_bytes(saved_wal)
    assert Path(f"{path}-wal").stat().st_size > 0

    new = m.Project(title="New Book")
    m.add_chapter(new, "Only", ["Fresh text."])
    ProjectStore.create(path, new, overwrite=True).close()
    with ProjectStore.open(path) as store:
        loaded = store.load()
        assert loaded.title == "New Book"
        assert [c.title for c in loaded.chapters] == ["Only"]
        assert store.integrity_check() == ["ok"]


def test_rows_that_do_not_fit_are_reported_as_damage(tmp_path: Path) -> None:
    path = tmp_path / "Book.studio"
    ProjectStore.create(path, make_project()).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE blocks SET spans = 'xx' WHERE id = 'c0b0'")
    con.commit()
    con.close()
    with (
        pytest.raises(ProjectFormatError, match="is damaged") as info,
        ProjectStore.open(path) as store,
    ):
        store.load()
    assert str(path) in str(info.value)


def test_file_with_our_id_but_no_schema_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "Empty.studio"
    con = sqlite3.connect(path)
    con.execute("PRAGMA application_id = 1314083908")  # ours, "NSTD"
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.close()
    before = sha(path)
    with pytest.raises(ProjectFormatError, match="damaged"):
        ProjectStore.open(path)
    assert sha(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["Empty.studio"]


def _downgrade_to_v1(path: Path) -> None:
    """Rewrite a file in the version-1 layout: peak summaries inside take_media."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN")
    for column, kind in (("peaks_rate", "INTEGER"), ("peaks_fine_spb", "INTEGER"),
                         ("peaks_fine", "BLOB"), ("peaks_coarse_spb", "INTEGER"),
                         ("peaks_coarse", "BLOB")):
        con.execute(f"ALTER TABLE take_media ADD COLUMN {column} {kind}")
    for level in ("fine", "coarse"):
        con.execute(
            f"UPDATE take_media SET (peaks_rate, peaks_{level}_spb, peaks_{level}) = "
            f"(SELECT rate, spb, data FROM take_{level} WHERE take_{level}.take_id = "
            "take_media.take_id)")
        con.execute(f"DROP TABLE take_{level}")
    con.execute("PRAGMA user_version = 1")
    con.execute("COMMIT")
    con.close()


def test_version_1_files_are_upgraded_with_a_backup(tmp_path: Path) -> None:
    project = make_project()
    take = make_take(project, BlockId("c0b0"), wav_bytes(0.3))
    m.add_take(project, take)
    path = tmp_path / "Old.studio"
    ProjectStore.create(path, project).close()
    _downgrade_to_v1(path)
    old_bytes = path.read_bytes()
    with pytest.raises(ProjectFormatError, match="older version"):
        ProjectStore.open(path, read_only=True)  # a reader never upgrades
    with ProjectStore.open(path) as store:
        assert snapshot(store.load()) == snapshot(project)
        assert store.load_peaks(take.id) == (take.peaks_fine, take.peaks_coarse)
        assert store.load_take_audio(take.id) == take.audio
        assert store.integrity_check() == ["ok"]
        columns = [r[1] for r in store._conn.execute("PRAGMA table_info(take_media)")]
        assert columns == ["take_id", "audio", "audio_sha256"]
    backup = tmp_path / "Old.studio.v1.bak"
    assert backup.read_bytes() == old_bytes
