"""The fake's pronunciation dictionary endpoints follow the contract (§14)."""

from __future__ import annotations

import httpx

from tests.fakes.fake_elevenlabs import FakeElevenLabs, is_fake_id

PD = "/v1/pronunciation-dictionaries"
PLS = b"""<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
         alphabet="cmu-arpabet" xml:lang="en-US">
  <lexeme><grapheme>Madison</grapheme><phoneme>M AE1 D IH0 S AH0 N</phoneme></lexeme>
  <lexeme><grapheme>UN</grapheme><grapheme>U.N.</grapheme><alias>United Nations</alias></lexeme>
</lexicon>"""


def test_dictionary_endpoints(fake_eleven: FakeElevenLabs) -> None:
    c = httpx.Client(base_url=fake_eleven.base_url, headers={"xi-api-key": "test-key"})
    r = c.post(f"{PD}/add-from-file", data={"name": "Names"},
               files={"file": ("names.pls", PLS, "application/xml")})
    assert r.status_code == 200
    made = r.json()
    assert set(made) >= {"id", "name", "created_by", "creation_time_unix", "version_id",
                         "version_rules_num"}
    assert is_fake_id(made["id"]) and made["version_rules_num"] == 3
    did, v1 = made["id"], made["version_id"]
    assert fake_eleven.dictionary_rules(did)[0] == {
        "type": "phoneme", "string_to_replace": "Madison", "phoneme": "M AE1 D IH0 S AH0 N",
        "alphabet": "cmu-arpabet"}
    r = c.post(f"{PD}/{did}/add-rules", json={"rules": [
        {"type": "alias", "string_to_replace": "UN", "alias": "U N"}]})
    assert r.json()["version_rules_num"] == 3 and r.json()["version_id"] != v1  # replaced
    r = c.post(f"{PD}/{did}/remove-rules", json={"rule_strings": ["Madison"]})
    v3 = r.json()["version_id"]
    assert r.json() == {"id": did, "version_id": v3, "version_rules_num": 2}
    meta = c.get(f"{PD}/{did}/").json()  # trailing slash as in the seed
    assert meta["latest_version_id"] == v3 and meta["latest_version_rules_num"] == 2
    pls = c.get(f"{PD}/{did}/{v1}/download")
    assert pls.status_code == 200 and b"<grapheme>Madison</grapheme>" in pls.content
    for n in range(3):
        c.post(f"{PD}/add-from-rules", json={"name": f"D{n}", "rules": []})
    page = c.get(PD, params={"page_size": 3}).json()
    assert len(page["pronunciation_dictionaries"]) == 3 and page["has_more"]
    rest = c.get(PD, params={"page_size": 3, "cursor": page["next_cursor"]}).json()
    assert [d["name"] for d in rest["pronunciation_dictionaries"]] == ["Names"]
    assert rest["has_more"] is False and rest["next_cursor"] is None
    # errors: unknown dictionary, bad rules, missing name, bad file, wrong key
    r = c.post(f"{PD}/nope/add-rules", json={"rules": []})
    assert r.status_code == 404
    assert r.json()["detail"]["status"] == "pronunciation_dictionary_not_found"
    r = c.post(f"{PD}/add-from-rules", json={"name": "x", "rules": [
        {"type": "phoneme", "string_to_replace": "a", "phoneme": "b"}]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "alphabet"
    assert c.post(f"{PD}/add-from-file", data={"description": "d"},
                  files={"file": ("a.pls", PLS, "application/xml")}).status_code == 422
    assert c.post(f"{PD}/add-from-file", data={"name": "bad"},
                  files={"file": ("a.pls", b"<x/>", "application/xml")}).status_code == 400
    assert c.get(PD, headers={"xi-api-key": "wrong"}).status_code == 401
    c.close()
