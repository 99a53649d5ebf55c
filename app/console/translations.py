"""The console forms' texts per language: a group's name and scope, a meeting's title and
description in each language besides English, as form fields (`tr_fr_title`) and back as the
translations object the models check (app.models.translations); a refusal of one text is put
beside its own field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.models import TRANSLATED

GROUP_TEXTS = ("name", "scope")
MEETING_TEXTS = ("title", "description")
PREFIX = "tr_"
# How app.models.translations names a text it refuses: "fr.title: is too long ...".
_REFUSED = re.compile(rf"^({'|'.join(TRANSLATED)})\.([a-z_]+): (.*)$", re.DOTALL)


def field_name(lang: str, text: str) -> str:
    """The form field of one text in one language: "tr_fr_title"."""
    return f"{PREFIX}{lang}_{text}"


def form_fields(
    translations: Mapping[str, Mapping[str, str]] | None, texts: tuple[str, ...]
) -> dict[str, str]:
    """The stored texts as the form shows them, every field present (empty when untranslated)."""
    stored = translations or {}
    return {
        field_name(lang, text): stored.get(lang, {}).get(text, "")
        for lang in TRANSLATED
        for text in texts
    }


def sent(form: Mapping[str, str], texts: tuple[str, ...]) -> dict[str, dict[str, str]] | None:
    """The translations object a form sent (empty texts left for the model to drop), or None
    when the form has no translation field (a form of before, or another form)."""
    if not any(field_name(lang, text) in form for lang in TRANSLATED for text in texts):
        return None
    return {
        lang: {text: form.get(field_name(lang, text), "").replace("\r\n", "\n") for text in texts}
        for lang in TRANSLATED
    }


def refused_field(field: str, message: str) -> tuple[str, str]:
    """Where a refusal belongs: "translations" with "fr.title: ..." is the field tr_fr_title."""
    found = _REFUSED.match(message) if field == "translations" else None
    if found is None:
        return field, message
    lang, text, why = found.groups()
    return field_name(lang, text), why


def labelled(labels: Mapping[str, str], names: Mapping[str, str], pattern: str) -> dict[str, Any]:
    """Each translation field's label for error lists: `pattern` ("%(field)s (%(language)s)")
    filled with the field's label and the language's name in itself."""
    return {
        field_name(lang, text): pattern % {"field": labels.get(text, text), "language": names[lang]}
        for lang in TRANSLATED
        for text in (*GROUP_TEXTS, *MEETING_TEXTS)
    }
