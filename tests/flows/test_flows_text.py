"""Text read from a page is stored as it can be: lone surrogates and NUL become U+FFFD."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flows.collect import storable


def test_lone_surrogates_and_nul_become_the_replacement_character() -> None:
    assert storable("a\ud800b\x00c") == "a\ufffdb\ufffdc"
    assert storable("\ud83d\ude00") == "😀"  # a split pair is its character
    assert storable("plain, RTL \u202e and e\u0301") == "plain, RTL \u202e and e\u0301"


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_whatever_a_page_builds_can_be_encoded_for_the_store(text: str) -> None:
    out = storable(text)
    out.encode("utf-8")  # never raises: what SQLite and PostgreSQL need
    assert "\x00" not in out
