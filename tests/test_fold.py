"""Line folding: 75 octets at most, unfolds to the same text, never splits a character."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.ical import escape_text, fold


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


def test_a_long_run_of_backslashes_is_never_folded_inside_an_escape() -> None:
    # Escaped text: every backslash begins an escape, so a run of them is pairs ("\\" each).
    for before in (0, 1, 30, 60, 73):
        for pairs in (1, 36, 37, 38, 60, 120):
            text = "x" * before + "\\" * pairs + ";tail"
            line = "DESCRIPTION:" + escape_text(text)
            pieces = fold(line).split("\r\n")
            assert all(len(piece.encode("utf-8")) <= 75 for piece in pieces)
            assert pieces[0] + "".join(piece[1:] for piece in pieces[1:]) == line
            offset = 0
            for piece in pieces[:-1]:
                body = piece if offset == 0 else piece[1:]
                offset += len(body)
                # The backslashes before the fold, counted from where their run starts.
                run = len(line[:offset]) - len(line[:offset].rstrip("\\"))
                assert run % 2 == 0, (before, pairs, piece)
                # Where the line leaves room, the fold goes before the run, not into it.
                if run and len(line[:offset].rstrip("\\")) > offset - len(body):
                    raise AssertionError(("folded inside a run it could avoid", before, pairs))
