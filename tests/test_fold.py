"""Line folding: 75 octets at most, unfolds to the same text, never splits a character."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.feeds import escape_text, fold


@settings(max_examples=300, derandomize=True)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=600))
def test_fold_keeps_lines_short_and_text_whole(text: str) -> None:
    line = "DESCRIPTION:" + escape_text(text)
    pieces = fold(line).split("\r\n")
    assert all(len(piece.encode("utf-8")) <= 75 for piece in pieces)
    assert all(piece.startswith(" ") for piece in pieces[1:])
    assert pieces[0] + "".join(piece[1:] for piece in pieces[1:]) == line


def test_no_fold_right_after_a_backslash() -> None:
    line = "SUMMARY:" + "a" * 66 + "\\;" + "b" * 20
    pieces = fold(line).split("\r\n")
    assert not pieces[0].endswith("\\")
    assert pieces[1].startswith(" \\;")
