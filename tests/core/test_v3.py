"""Eleven v3 audio tags and Text to Dialogue request building."""

from __future__ import annotations

from studio.core import v3


def test_completion_after_bracket() -> None:
    text = "He paused. [wh"
    assert v3.complete_tag(text, len(text)) == ["wheezing", "whispers", "whispering"]
    assert v3.complete_tag("[laughs] and", 12) == []
    assert "laughs harder" in v3.complete_tag("[laughs h", 9)


def test_validation_and_stripping() -> None:
    issues = v3.validate_tags("A [whispers] B [] C [dances] D [open", "eleven_v3")
    assert [(i.message.split(":")[0], i.severity) for i in issues] == [
        ("empty audio tag", "error"),
        ("[dances] is not a documented tag; it may work, test it first", "warning"),
        ("audio tag is not closed", "error")]
    assert v3.validate_tags("[strong French accent] Bonjour", "eleven_v3") == []
    assert "stripped" in v3.validate_tags("[sighs] ok", "eleven_multilingual_v2")[0].message
    assert v3.strip_tags("[sighs] Fine, [laughs] fine.") == "Fine, fine."


def test_warnings_from_the_docs() -> None:
    w = v3.v3_warnings("[whispers] Short.", "eleven_v3", "professional", stitching=True)
    assert len(w) == 3 and "250" in w[0]
    assert v3.v3_warnings("x" * 300, "eleven_v3") == []
    assert v3.v3_warnings("short", "eleven_multilingual_v2") == []


def test_dialogue_requests_merge_turns_and_split_at_the_limits() -> None:
    bodies = v3.dialogue_requests(
        [("Hello.", "a"), ("Again.", "a"), ("Hi!", "b"), ("x" * 1990, "a"), ("Bye.", "b")],
        stability=0.5, locators=[("d1", "v1"), ("d2", None), ("d3", None), ("d4", None)])
    assert bodies[0]["inputs"] == [{"text": "Hello. Again.", "voice_id": "a"},
                                   {"text": "Hi!", "voice_id": "b"}]
    assert [len(b["inputs"]) for b in bodies] == [2, 2]
    assert bodies[0]["model_id"] == "eleven_v3" and bodies[0]["settings"] == {"stability": 0.5}
    assert len(bodies[0]["pronunciation_dictionary_locators"]) == 3
    many = v3.dialogue_requests([(f"line {i}", f"v{i}") for i in range(12)])
    assert [len({x["voice_id"] for x in b["inputs"]}) for b in many] == [10, 2]
