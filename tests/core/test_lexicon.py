"""Pronunciation rules: matching, shadowing, PLS round trips and per-paragraph staleness."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.core import model as m
from studio.core.errors import EditError
from studio.core.lexicon import edits, phonemes
from studio.core.lexicon.match import Matcher, apply_aliases, shadowed_rules
from studio.core.lexicon.pls import LexiconFormatError, read_pls, write_pls
from studio.core.model import BlockId, BlockStatus, PronunciationRule
from tests.core.factories import make_project, make_take

DATA = Path(__file__).parent.parent / "data" / "lexicon"


def alias(g: str, to: str, **kw: bool) -> PronunciationRule:
    return PronunciationRule(g, "alias", to, **kw)  # type: ignore[arg-type]


def test_matching_is_case_sensitive_first_rule_wins_and_respects_word_edges() -> None:
    rules = [alias("UN", "United Nations"), alias("UN", "you en"), alias("New", "Gnu"),
             alias("New York", "Big Apple"), alias("dr", "doctor", case_sensitive=False)]
    found = Matcher(rules).find("The UN met in New York. UNLIKE un. Dr Who.")
    assert [(x.rule.replacement, x.start) for x in found] == [
        ("United Nations", 4), ("Gnu", 14), ("doctor", 35)]
    assert apply_aliases("UN and New", rules) == "United Nations and Gnu"


def test_shadowed_rules_are_flagged_with_the_rule_that_wins() -> None:
    rules = [alias("New", "Gnu"), alias("New York", "Big Apple"), alias("York", "Yoik"),
             alias("dr", "doctor", case_sensitive=False), alias("Dr", "drive"),
             alias("Tomato", "t"), alias("tomato", "t")]
    assert [(s.index, s.by) for s in shadowed_rules(rules)] == [(1, 0), (4, 3)]


def test_phoneme_conversions_for_espeak_and_sphinx() -> None:
    assert phonemes.to_espeak("M AE1 D IH0 S AH0 N", "cmu-arpabet") == "m'adIs@n"
    assert phonemes.to_espeak("hɜːˈmaɪəni", "ipa") == "h3:'maI@ni"
    assert phonemes.to_cmu("tʃʌmli", "ipa") == "CH AH M L IY"
    assert phonemes.to_cmu("CH AH1 M L IY0", "cmu-arpabet") == "CH AH M L IY"
    with pytest.raises(phonemes.PhonemeError, match="XX"):
        phonemes.validate("M XX1", "cmu-arpabet")
    with pytest.raises(phonemes.PhonemeError, match="alphabet"):
        phonemes.validate("abc", "sampa")


def test_real_world_pls_reads_every_lexeme() -> None:
    lex = read_pls((DATA / "real_world.pls").read_bytes())
    assert lex.alphabet == "ipa" and lex.language == "en-GB"
    by = {r.grapheme: r for r in lex.rules}
    assert [r.grapheme for r in lex.rules] == [
        "Hermione", "tomato", "Tomato", "Madison", "UN", "Cholmondeley"]
    assert by["tomato"].replacement == "təˈmeɪtoʊ"  # prefer="true" wins over order
    assert by["tomato"].alternates == (("phoneme", "təˈmɑːtəʊ", "ipa"),)
    assert by["Tomato"].role == "noun" and by["Tomato"].examples == ("A tomato salad.",)
    assert (by["Madison"].alphabet, by["Madison"].replacement) == (
        "cmu-arpabet", "M AE1 D IH0 S AH0 N")
    assert (by["UN"].kind, by["UN"].replacement) == ("alias", "United Nations")


def test_pls_round_trips_byte_for_meaning() -> None:
    first = read_pls((DATA / "real_world.pls").read_bytes())
    written = write_pls(first.rules, first.language)
    second = read_pls(written)
    assert second == first
    assert write_pls(second.rules, second.language) == written  # and it is stable
    assert written.count(b"<lexeme") == 5  # tomato/Tomato written back as one lexeme


_word = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x24F,
                              blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_word.filter(lambda s: s.strip() == s and " " not in s),
                          st.sampled_from(["alias", "phoneme"]), _word.map(str.strip)
                          .filter(bool)), min_size=1, max_size=6))
def test_pls_round_trip_any_rules(items: list[tuple[str, str, str]]) -> None:
    rules = tuple(
        PronunciationRule(g, kind, text, "ipa" if kind == "phoneme" else "")
        for g, kind, text in items
    )
    assert read_pls(write_pls(rules)).rules == rules


@pytest.mark.parametrize("data, problem", [
    (b"<lexicon", "not valid XML"),
    (b"<speak/>", "not a PLS lexicon"),
    (b'<lexicon xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"><lexeme>'
     b"<grapheme>x</grapheme></lexeme></lexicon>", "lexeme 1 needs"),
])
def test_bad_pls_files_name_the_problem(data: bytes, problem: str) -> None:
    with pytest.raises(LexiconFormatError, match=problem):
        read_pls(data, "names.pls")


def _converted(project: m.Project) -> None:
    for _, block in project.iter_blocks():
        m.add_take(project, make_take(project, block.id))


def _stale(project: m.Project) -> list[str]:
    return [b.id for _, b in project.iter_blocks()
            if m.block_status(project, b) is BlockStatus.STALE]


def test_adding_one_rule_marks_stale_exactly_the_paragraphs_with_that_word() -> None:
    project = make_project(chapters=2, blocks=3)
    m.set_block_text(project, BlockId("c0b1"), "Hermione laughed.")
    m.set_block_text(project, BlockId("c1b2"), "“Hermione!” he called. Hermiones were rare.")
    m.set_block_text(project, BlockId("c1b0"), "HERMIONE in capitals is another word.")
    changes = edits.add_dictionary(project, "Names", [alias("Madison", "Maddy")])
    assert changes.blocks == frozenset() and changes.dictionaries
    _converted(project)
    d = project.dictionaries[0].id
    changes = edits.add_rule(project, d, PronunciationRule("Hermione", "phoneme",
                                                           "HH ER0 M AY1 AH0 N IY0",
                                                           "cmu-arpabet"))
    assert _stale(project) == ["c0b1", "c1b2"]
    assert changes.blocks == {"c0b1", "c1b2"}
    assert project.dictionaries[0].version == 2
    # A rule shadowed by an earlier one changes nothing anyone hears.
    _converted(project)
    edits.add_rule(project, d, alias("Hermione", "Her-my-oh-nee"))
    assert _stale(project) == []
    # Removing the first rule lets the shadowed one apply: the same paragraphs again.
    assert edits.remove_rule(project, d, 1).blocks == {"c0b1", "c1b2"}


def test_rules_are_checked_before_they_are_added() -> None:
    project = make_project()
    with pytest.raises(EditError, match="not a CMU ARPAbet phone"):
        edits.add_dictionary(project, "Bad", [PronunciationRule("x", "phoneme", "Q1",
                                                                "cmu-arpabet")])
    with pytest.raises(EditError, match="no replacement"):
        edits.add_dictionary(project, "Bad", [alias("x", " ")])


def test_import_and_export_pls_through_the_project() -> None:
    project = make_project()
    data = (DATA / "real_world.pls").read_bytes()
    edits.import_pls(project, data, "Names")
    assert read_pls(edits.export_pls(project)) == read_pls(data)


def test_dictionary_rules_and_their_migration_survive_the_project_file(tmp_path: Path) -> None:
    import sqlite3

    from studio.core.store import ProjectStore

    project = make_project()
    edits.import_pls(project, (DATA / "real_world.pls").read_bytes(), "Names")
    project.dictionaries[0] = m.DictionaryRef(
        project.dictionaries[0].id, "Names", 1, "engine-dict", "v1",
        tuple(r if r.grapheme != "UN" else
              PronunciationRule("UN", "alias", "U N", case_sensitive=False,
                                word_boundaries=False) for r in project.dictionaries[0].rules
              or ()), "en-GB")
    project.dictionaries.append(m.DictionaryRef(m.DictionaryId("legacy"), "Remote", 4))
    path = tmp_path / "Book.studio"
    ProjectStore.create(path, project).close()
    with ProjectStore.open(path) as store:
        assert store.load().dictionaries == project.dictionaries

    # A version-2 file (no rules kept) opens with its dictionaries known by reference only,
    # and its converted paragraphs stay converted.
    legacy = make_project()
    legacy.dictionaries.append(m.DictionaryRef(m.DictionaryId("d1"), "Old", 2, "e", "ev"))
    _converted(legacy)
    old = tmp_path / "Old.studio"
    ProjectStore.create(old, legacy).close()
    con = sqlite3.connect(old, isolation_level=None)
    con.execute("ALTER TABLE dictionaries DROP COLUMN rules")
    con.execute("ALTER TABLE dictionaries DROP COLUMN language")
    con.execute("PRAGMA user_version = 2")
    con.close()
    with ProjectStore.open(old) as store:
        loaded = store.load()
        assert loaded.dictionaries == [m.DictionaryRef(m.DictionaryId("d1"), "Old", 2, "e",
                                                       "ev")]
        assert _stale(loaded) == [] and store.integrity_check() == ["ok"]
    assert (tmp_path / "Old.studio.v2.bak").exists()


@pytest.mark.parametrize("ipa", ["ʧiːz", "ʤæm", "bɔ̃ʒuʁ", "ʁyç", "ʃøn", "ˈdʒɔɪ", "ɲɔkːi"])
def test_valid_ipa_is_accepted_and_what_espeak_lacks_is_a_warning(ipa: str) -> None:
    rule = PronunciationRule("Word", "phoneme", ipa, "ipa")
    edits.check_rule(rule)  # no error
    assert phonemes.to_espeak(ipa, "ipa") and phonemes.to_cmu(ipa, "ipa")


def test_offline_notes_name_the_approximated_symbols_and_errors_stay_errors() -> None:
    assert phonemes.to_espeak("ʧiːz", "ipa") == "tSi:z"
    notes = edits.rule_notes(PronunciationRule("Bonjour", "phoneme", "bɔ̃ʒuʁ", "ipa"))
    assert any("nasal" in n for n in notes) and any("'ʁ'" in n for n in notes)
    assert edits.rule_notes(PronunciationRule("Cheese", "phoneme", "ʧiːz", "ipa")) == []
    for bad in ("dɑː$$cy123", "k8t", ""):
        with pytest.raises(EditError):
            edits.check_rule(PronunciationRule("Darcy", "phoneme", bad or " ", "ipa"))


def test_pls_alphabets_x_cmu_and_x_sampa_are_read() -> None:
    data = (b'<?xml version="1.0" encoding="UTF-8"?>\n<lexicon version="1.0" '
            b'xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="x-cmu" '
            b'xml:lang="en-GB"><lexeme><grapheme>Darcy</grapheme><phoneme>D AA1 R S IY0'
            b'</phoneme></lexeme><lexeme><grapheme>Longbourn</grapheme><phoneme '
            b'alphabet="x-sampa">"lQNbO:n</phoneme></lexeme></lexicon>')
    project = make_project()
    edits.import_pls(project, data, "Names")
    darcy, longbourn = project.dictionaries[0].rules or ()
    assert (darcy.alphabet, phonemes.to_cmu(darcy.replacement, darcy.alphabet)) == (
        "x-cmu", "D AA R S IY")
    assert phonemes.to_espeak(longbourn.replacement, longbourn.alphabet) == "'l0NbO:n"
    assert read_pls(edits.export_pls(project)) == read_pls(data)  # alphabets kept
    bad = data.replace(b"IY0", b"QQ")
    with pytest.raises(EditError, match="QQ"):
        edits.import_pls(make_project(), bad, "Bad")


def test_a_rule_edit_rehashes_only_the_paragraphs_holding_its_word(monkeypatch) -> None:

    project = make_project(chapters=10, blocks=500)  # 5,000 paragraphs
    with_word = set()
    for n, (_, block) in enumerate(project.iter_blocks()):
        text = f"Paragraph {n} walked down the long road to the village and back again."
        if n % 97 == 0:
            text += " Hermione followed."
            with_word.add(block.id)
        if n % 101 == 0:
            text += " HERMIONE shouted."  # a case-insensitive rule could match it
            with_word.add(block.id)
        m.set_block_text(project, block.id, text)
    edits.add_dictionary(project, "Names", [alias("Madison", "Maddy")])
    d = project.dictionaries[0].id
    rehashed = []
    reach = edits._reach
    monkeypatch.setattr(edits, "_reach", lambda ds, text: rehashed.append(text) or reach(ds, text))
    changes = edits.add_rule(project, d, alias("Hermione", "Her-my-oh-nee"))
    assert len(rehashed) == 2 * len(with_word)  # before and after, those paragraphs only
    assert changes.blocks == {b for b in with_word
                              if "Hermione" in project.block(b).text}
    # The index follows text edits, and moving a rule rehashes both rules' paragraphs.
    block = next(b for _, b in project.iter_blocks() if b.id not in with_word)
    m.set_block_text(project, block.id, "Hermione again.")
    assert edits.add_rule(project, d, alias("Madison", "Mads"), 0).blocks == set()
    assert edits.add_rule(project, d, alias("Hermione", "Hermy")).blocks == set()  # shadowed
    rehashed.clear()
    rules = list(project.dictionaries[0].rules or ())
    rules.insert(0, rules.pop())  # "Hermy" first: it now wins
    moved = edits.set_rules(project, d, rules)
    assert moved.blocks == changes.blocks | {block.id}
    assert len(rehashed) == 2 * (len(with_word) + 1)
