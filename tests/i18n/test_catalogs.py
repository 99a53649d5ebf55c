"""The catalogs are complete: every word the code and the templates mark is translated into
every language, with the same placeholders, and the compiled catalogs are the sources'."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app.i18n import catalogs
from app.i18n.languages import DEFAULT, LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [lang for lang in LANGUAGES if lang != DEFAULT]
# %(name)s, %s, {name}: what a translation must carry over unchanged.
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_0-9]*\}")


def _extracted() -> dict[str, tuple[str, ...]]:
    """What pybabel extract finds now (scripts/i18n.sh's map, babel.cfg): id -> all its forms."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    found: dict[str, tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords={**_KEYWORDS}
    ):
        forms = (message,) if isinstance(message, str) else tuple(message)
        found[forms[0]] = forms
    return found


_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _catalog(lang: str) -> Catalog:
    path = catalogs.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        return read_po(source, locale=lang)


@pytest.fixture(scope="module")
def extracted() -> dict[str, tuple[str, ...]]:
    return _extracted()


def test_the_code_marks_words_for_translation(extracted: dict[str, tuple[str, ...]]) -> None:
    assert len(extracted) > 0


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _problems(message: Message | None, forms: tuple[str, ...], plurals: int) -> list[str]:
    if message is None:
        return ["missing (run scripts/i18n.sh update)"]
    if message.fuzzy:
        return ["marked fuzzy"]
    strings = [message.string] if isinstance(message.string, str) else list(message.string or ())
    if len(forms) > 1 and len(strings) != plurals:
        return [f"{len(strings)} plural forms, the language has {plurals}"]
    problems = []
    for text in strings:
        if not text:
            problems.append("not translated")
        elif _placeholders(text) != _placeholders(forms[-1]) and (
            _placeholders(text) != _placeholders(forms[0])
        ):
            problems.append(f"placeholders {_placeholders(text)} != {_placeholders(forms[0])}")
    return problems


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_word_is_translated_with_its_placeholders(
    lang: str, extracted: dict[str, tuple[str, ...]]
) -> None:
    catalog = _catalog(lang)
    report = {
        msgid: problems
        for msgid, forms in extracted.items()
        if (problems := _problems(catalog.get(msgid), forms, catalog.num_plurals))
    }
    assert not report, f"{lang}: {len(report)} messages: {report}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_compiled_catalog_is_the_source(lang: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, _catalog(lang))
    mo = catalogs.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.mo"
    assert mo.read_bytes() == compiled.getvalue(), f"{mo} is stale: run scripts/i18n.sh compile"


def test_a_placeholder_dropped_or_added_is_caught() -> None:
    forms = ("Cancelled: %(title)s",)
    assert _problems(Message(forms[0], "Annulé : %(title)s"), forms, 2) == []
    assert _problems(Message(forms[0], "Annulé"), forms, 2)
    assert _problems(Message(forms[0], "Annulé : %(title)s %(x)s"), forms, 2)
    assert _problems(Message(forms[0], ""), forms, 2) == ["not translated"]
    assert _problems(None, forms, 2)
