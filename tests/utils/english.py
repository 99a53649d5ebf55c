"""English left on a page in another language, found from the catalog itself: the English
words of every marked message (app/i18n/locale/messages.pot) that a reader of the page would see
or hear, outside elements marked `lang="en"` (data written in English, such as a group's
name, is marked so on purpose)."""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser

from babel.messages.pofile import read_po

from app.i18n import catalogs

# What a message is cut at: placeholders, markup and the punctuation between clauses.
_CUT = re.compile(r"%\([a-z_0-9]+\)[sd]|%%|\{[a-z_0-9]*\}|<[^>]+>|[.:;,()“”«»?!→]")
# A run of English worth looking for: two words, or one long one; shorter ones ("API", "Id",
# "Code") are names or say nothing on their own.
_WORTH = re.compile(r"[A-Za-z]{4,}(?:[ '-][A-Za-z]+)+|[A-Za-z]{7,}")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
# Attributes a person reads or hears, and the words the page's script shows.
_SPOKEN = {"aria-label", "placeholder", "title", "alt"}
_SHOWN_BY_SCRIPT = {
    "data-copied",
    "data-select",
    "data-your-time",
    "data-your-feed",
    "data-nothing",
}


def _fragments(message: str) -> set[str]:
    found = set()
    for part in _CUT.split(message):
        part = part.strip(" -'\"\N{EN DASH}\N{EM DASH}")
        if _WORTH.search(part):
            found.add(part)
    return found


@cache
def english_fragments(lang: str) -> frozenset[str]:
    """The English of every marked message, cut into runs; those the language's own
    translations also use (brand names, "Google Calendar", French "Notes") are left out."""
    with (catalogs.LOCALE_DIR / "messages.pot").open("rb") as source:
        template = read_po(source)
    with (catalogs.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as source:
        translated = read_po(source, locale=lang)
    theirs = " ".join(
        " ".join(m.string) if isinstance(m.string, tuple) else str(m.string or "")
        for m in translated
        if m.id
    )
    found: set[str] = set()
    for message in template:
        for text in (message.id,) if isinstance(message.id, str) else message.id:
            found |= {f for f in _fragments(text) if f not in theirs}
    return frozenset(found)


class _Reader(HTMLParser):
    """The body's text and spoken attributes, each with the language it is marked in."""

    def __init__(self, page_lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = [("#page", page_lang)]
        self.said: list[tuple[str, str]] = []
        self.in_body = False
        self.skipping = 0

    def _lang(self) -> str:
        return self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "body":
            self.in_body = True
        lang = attributes.get("lang") or self._lang()
        if tag in ("script", "style", "template"):
            self.skipping += 1
        if self.in_body:
            for name, value in attributes.items():
                if value and (name in _SPOKEN or name in _SHOWN_BY_SCRIPT):
                    self.said.append((value, lang))
        if tag not in _VOID:
            self.stack.append((tag, lang))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self.skipping = max(0, self.skipping - 1)
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data: str) -> None:
        if self.in_body and not self.skipping and data.strip():
            self.said.append((data, self._lang()))


def english_left(html: str, lang: str) -> list[str]:
    """The marked English a reader of this page in `lang` meets outside `lang="en"`."""
    reader = _Reader(lang)
    reader.feed(html)
    text = "\n".join(chunk for chunk, marked in reader.said if not marked.startswith("en"))
    return sorted(
        fragment
        for fragment in english_fragments(lang)
        if re.search(rf"(?<![\w]){re.escape(fragment)}(?![\w])", text)
    )
