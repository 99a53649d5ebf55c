"""The catalogs of fixed words, one per language, compiled (.mo) beside their sources (.po) in
locale/<lang>/LC_MESSAGES/ and loaded once per process. English is the source language: its
catalog is the messages themselves."""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Callable
from functools import cache
from pathlib import Path

from app.core.words import N_ as N_
from app.i18n.languages import DEFAULT, LANGUAGES

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


@cache
def translations(lang: str) -> gettext_module.NullTranslations:
    """The catalog for `lang` (one of LANGUAGES); English's is the identity."""
    if lang not in LANGUAGES:
        raise ValueError(f"no catalog for {lang!r}")
    if lang == DEFAULT:
        return gettext_module.NullTranslations()
    return gettext_module.translation(DOMAIN, LOCALE_DIR, languages=[lang])


def translator(lang: str) -> Callable[[str], str]:
    """The `_` of a module that writes words in `lang`: `_ = translator(lang); _("Cancelled")`
    (pybabel extracts `_`, `gettext`, `ngettext` and `N_` calls)."""
    return translations(lang).gettext


def plural_translator(lang: str) -> Callable[[str, str, int], str]:
    """The `ngettext` of a module that writes words in `lang`."""
    return translations(lang).ngettext
