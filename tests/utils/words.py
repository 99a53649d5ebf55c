"""English left in a text meant for another language: the fixed words a folder of app/ marks for
translation (pybabel's own extraction), each English piece between placeholders that the
language's translation does not itself contain, searched for in the text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from babel.messages.extract import extract_from_dir

from app.i18n import catalogs

APP = Path(__file__).resolve().parents[2] / "app"
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_0-9]*\}")
_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def marked_words(*folders: str) -> list[str]:
    """Every message (each plural form too) marked in these folders of app/ (or modules)."""
    found: list[str] = []
    for folder in folders:
        path = APP / folder
        if path.is_file():
            source, name = path.parent, path.name
            mapping = [(name, "python")]
        else:
            source, mapping = path, [("**.py", "python")]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(source), mapping, keywords=dict(_KEYWORDS)
        ):
            found.extend([message] if isinstance(message, str) else message)
    return found


def english_pieces(message: str, lang: str) -> list[str]:
    """The English pieces of `message` (between placeholders, trimmed, with three letters or
    more) that its translation into `lang` does not contain: none may show in `lang`."""
    translated = catalogs.translations(lang).gettext(message)
    pieces = []
    for piece in _PLACEHOLDER.split(message):
        piece = piece.strip(" .,;:()-")
        if len(re.findall(r"[A-Za-z]", piece)) >= 3 and piece not in translated:
            pieces.append(piece)
    return pieces


def english_left(
    text: str, lang: str, messages: Iterable[str], data: Iterable[str] = ()
) -> list[str]:
    """The English pieces of `messages` found in `text` once the data texts (names, titles:
    English where untranslated) are taken out of it."""
    for value in sorted(data, key=len, reverse=True):
        if value:
            text = text.replace(value, "")
    return sorted(
        {piece for message in messages for piece in english_pieces(message, lang) if piece in text}
    )


def ics_text(data: bytes) -> str:
    """A feed's text as people read it: lines unfolded, TEXT escapes undone."""
    unfolded = data.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "")
    return unfolded.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";")
