"""The project's pronunciation dictionaries on ElevenLabs: upload, versions, warnings.

Contract ``shared/spec/elevenlabs-api.md`` §6.3 and §14. A dictionary's rules live in the
project; uploading creates it on the account (from a PLS file, or from rules when a rule
turns off ``case_sensitive``/``word_boundaries``, which PLS cannot say) and records the
remote id and version id on its :class:`~studio.core.model.DictionaryRef`. Every rule edit
clears the recorded version (:func:`studio.core.lexicon.edits.set_rules`), so a dictionary
is sent again only when its rules changed since the recorded version: the remote copy is
brought up to date with ``remove-rules`` and ``add-rules`` (the rules that differ), or, where
that would change the rules' order, by removing them all and adding them in order.

Phoneme rules work only with ``eleven_flash_v2``, ``eleven_turbo_v2`` and
``eleven_monolingual_v1``; other models skip the word silently. :func:`phoneme_warnings` and
:func:`dictionary_warnings` say so before credits are spent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from studio.core.errors import EditError
from studio.core.lexicon.match import applied_rules
from studio.core.lexicon.pls import read_pls, write_pls
from studio.core.model import Changes, DictionaryId, DictionaryRef, Project, PronunciationRule

#: The models that honour phoneme rules (§6.3); all others skip the tagged word.
PHONEME_MODELS: Final = ("eleven_flash_v2", "eleven_turbo_v2", "eleven_monolingual_v1")
MAX_LOCATORS: Final = 3


class RemoteVersion(Protocol):
    """What the client returns for a dictionary version."""

    @property
    def id(self) -> str: ...

    @property
    def version_id(self) -> str: ...


class DictionaryClient(Protocol):
    """The dictionary calls of :class:`~studio.core.engines.elevenlabs.ElevenLabsEngine`."""

    def add_dictionary_from_file(self, name: str, pls: bytes, *, description: str | None = ...,
                                 filename: str = ...) -> RemoteVersion: ...

    def add_dictionary_from_rules(self, name: str, rules: Sequence[PronunciationRule], *,
                                  description: str | None = ...) -> RemoteVersion: ...

    def add_dictionary_rules(self, dictionary_id: str, rules: Sequence[PronunciationRule]
                             ) -> RemoteVersion: ...

    def remove_dictionary_rules(self, dictionary_id: str, words: Sequence[str]
                                ) -> RemoteVersion: ...

    def dictionary(self, dictionary_id: str) -> RemoteVersion: ...

    def download_dictionary(self, dictionary_id: str, version_id: str) -> bytes: ...


def honours_phonemes(model_id: str) -> bool:
    """Return whether ElevenLabs applies phoneme rules with ``model_id``."""
    return model_id in PHONEME_MODELS


def phoneme_warnings(model_id: str, rules: Iterable[PronunciationRule],
                     engine: str = "elevenlabs") -> list[str]:
    """Return a warning when ``model_id`` ignores the phoneme rules among ``rules``.

    With a model other than those in :data:`PHONEME_MODELS` ElevenLabs skips a word that has
    a phoneme rule: the word is not spoken at all. The offline engine honours phoneme rules.
    """
    if engine != "elevenlabs" or honours_phonemes(model_id):
        return []
    words = list(dict.fromkeys(r.grapheme for r in rules if r.kind == "phoneme"))
    if not words:
        return []
    shown = ", ".join(f"'{w}'" for w in words[:5]) + (
        f" and {len(words) - 5} more" if len(words) > 5 else "")
    return [f"{model_id} ignores phoneme rules: ElevenLabs silently skips a word with a "
            f"phoneme rule on any model but {', '.join(PHONEME_MODELS)}, so {shown} would not "
            "be spoken. Give these words alias rules (a respelling) or use one of those models."]


def needs_upload(ref: DictionaryRef) -> bool:
    """Return whether ``ref``'s rules changed since the version recorded at its upload."""
    return ref.rules is not None and not (ref.engine_dictionary_id and ref.engine_version_id)


def dictionary_warnings(project: Project, *, engine: str, model_id: str,
                        texts: Iterable[str] | None = None) -> list[str]:
    """Return what will go wrong with the project's dictionaries on ElevenLabs.

    Phoneme rules the model ignores, dictionaries not uploaded or changed since their upload
    (ElevenLabs would use old rules, or none), and dictionaries past the three a request
    takes. With ``texts`` (what a render will send), only rules that apply to them count.
    """
    if engine != "elevenlabs" or not project.dictionaries:
        return []
    if texts is None:
        used = [r for d in project.dictionaries for r in d.rules or ()]
    else:
        seen: dict[int, PronunciationRule] = {}
        for text in texts:
            for rule in applied_rules(project.dictionaries, text):
                seen.setdefault(id(rule), rule)
        used = list(seen.values())
    out = phoneme_warnings(model_id, used, engine)
    used_ids = {id(r) for r in used}
    for d in project.dictionaries:
        if not needs_upload(d) or not any(id(r) in used_ids for r in d.rules or ()):
            continue
        if d.engine_dictionary_id:
            out.append(f"pronunciation dictionary '{d.name}' changed since it was uploaded: "
                       "ElevenLabs would still use its old rules (run studio lexicon upload)")
        else:
            out.append(f"pronunciation dictionary '{d.name}' is not uploaded: its rules do not "
                       "reach ElevenLabs (run studio lexicon upload)")
    uploaded = [d.name for d in project.dictionaries if d.engine_dictionary_id]
    if len(uploaded) > MAX_LOCATORS:
        out.append(f"a request takes at most {MAX_LOCATORS} pronunciation dictionaries: "
                   + ", ".join(f"'{n}'" for n in uploaded[MAX_LOCATORS:]) + " are not sent")
    return out


def locator_names(project: Project) -> dict[str, str]:
    """Return engine dictionary id -> the project's name, for errors that name them."""
    return {d.engine_dictionary_id: d.name for d in project.dictionaries
            if d.engine_dictionary_id}


def record_upload(project: Project, dictionary_id: DictionaryId, engine_dictionary_id: str,
                  engine_version_id: str) -> Changes:
    """Record where a dictionary's current rules are on the engine.

    No paragraph changes: what a paragraph is sent depends on the rules, not on where they
    are kept.
    """
    for i, d in enumerate(project.dictionaries):
        if d.id == dictionary_id:
            project.dictionaries[i] = dataclasses.replace(
                d, engine_dictionary_id=engine_dictionary_id,
                engine_version_id=engine_version_id)
            return Changes(dictionaries=True)
    raise EditError(f"no pronunciation dictionary with id {dictionary_id}")


@dataclass(frozen=True, slots=True)
class UploadResult:
    """What :func:`upload_dictionaries` did with one dictionary."""

    dictionary_id: DictionaryId
    name: str
    action: str  # "created", "updated", "unchanged", "skipped"
    engine_dictionary_id: str | None = None
    engine_version_id: str | None = None
    rules: int = 0


def _key(rule: PronunciationRule) -> tuple[str, str, str, str, bool, bool]:
    """What ElevenLabs keeps of a rule (PLS extras such as alternates are not sent)."""
    alphabet = (rule.alphabet or "ipa") if rule.kind == "phoneme" else ""
    return (rule.grapheme, rule.kind, rule.replacement, alphabet, rule.case_sensitive,
            rule.word_boundaries)


def _plain(rules: Sequence[PronunciationRule]) -> bool:
    """Return whether PLS can say everything about ``rules`` (the default flags)."""
    return all(r.case_sensitive and r.word_boundaries for r in rules)


def _create(client: DictionaryClient, ref: DictionaryRef) -> RemoteVersion:
    rules = ref.rules or ()
    if rules and _plain(rules):
        return client.add_dictionary_from_file(ref.name, write_pls(rules, ref.language),
                                               filename=f"{ref.id}.pls")
    return client.add_dictionary_from_rules(ref.name, rules)


def _update(client: DictionaryClient, ref: DictionaryRef) -> RemoteVersion:
    """Bring the remote copy of ``ref`` to its local rules; return the new version."""
    assert ref.engine_dictionary_id
    remote_id = ref.engine_dictionary_id
    latest = client.dictionary(remote_id)
    remote = list(read_pls(client.download_dictionary(remote_id, latest.version_id),
                           "the uploaded dictionary").rules)
    local = list(ref.rules or ())
    local_keys = [_key(r) for r in local]
    remote_keys = [_key(r) for r in remote]
    if remote_keys == local_keys:
        return latest
    wanted = set(local_keys)
    remove = list(dict.fromkeys(r.grapheme for r in remote if _key(r) not in wanted))
    kept = [k for k in remote_keys if k[0] not in remove]
    add = [r for r in local if _key(r) not in kept]
    if kept + [_key(r) for r in add] != local_keys:  # the order would change: start over
        remove = list(dict.fromkeys(r.grapheme for r in remote))
        add = local
    version = latest
    if remove:
        version = client.remove_dictionary_rules(remote_id, remove)
    if add:
        version = client.add_dictionary_rules(remote_id, add)
    return version


def upload_dictionaries(project: Project, client: DictionaryClient, *, force: bool = False,
                        on_change: Callable[[Changes], None] | None = None
                        ) -> list[UploadResult]:
    """Upload the project's dictionaries whose rules changed since their recorded version.

    A dictionary never uploaded is created; one whose rules changed is updated in place (a
    new version of the same remote dictionary), or created again when the account no longer
    has it; one unchanged sends nothing (``force`` updates it anyway). A dictionary known
    only by reference (no local rules) is skipped. ``on_change`` gets the
    :class:`Changes` of each recorded upload at once, so a failure later keeps what was done.

    Raises:
        EngineError: as the client raises them (the key never appears in a message).
    """
    from studio.core.engines.elevenlabs import DictionaryNotFound

    results: list[UploadResult] = []
    for ref in list(project.dictionaries):
        count = len(ref.rules or ())
        if ref.rules is None:
            results.append(UploadResult(ref.id, ref.name, "skipped"))
            continue
        if not force and not needs_upload(ref):
            results.append(UploadResult(ref.id, ref.name, "unchanged",
                                        ref.engine_dictionary_id, ref.engine_version_id, count))
            continue
        action = "created"
        version: RemoteVersion | None = None
        if ref.engine_dictionary_id:
            try:
                version = _update(client, ref)
                action = "updated"
            except DictionaryNotFound:
                version = None  # deleted on the account: create it again
        if version is None:
            version = _create(client, ref)
        changes = record_upload(project, ref.id, version.id, version.version_id)
        if on_change is not None:
            on_change(changes)
        results.append(UploadResult(ref.id, ref.name, action, version.id, version.version_id,
                                    count))
    return results
