"""Texts per language (issue 26): a group's name and scope, a meeting's title and description, in
the five UN languages besides English, whose texts are the main fields. Each text is checked as
its main field is (ShortText, LongText); an empty one is dropped, and a language left with none
is dropped too, so the stored object holds only what a reader is shown. Bounded by its shape: at
most five languages of two bounded texts each (51,000 characters for a meeting or a group).

`text_in` is the one way a reader (pages, feeds, mail) picks a text: the translation when there
is one, else the English main field, with the language of what it picked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.functional_validators import BeforeValidator
from pydantic.json_schema import WithJsonSchema

from app.core import validation
from app.i18n.languages import DEFAULT, LANGUAGES
from app.models.fields import LongText, ShortText

# The languages a translation may be in: every one the service speaks but English.
TRANSLATED: Final = tuple(lang for lang in LANGUAGES if lang != DEFAULT)
# A stored translations object: {"fr": {"name": "..."}}, languages in TRANSLATED's order.
Texts = dict[str, dict[str, str]]


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class GroupTexts(BaseModel):
    """A group's texts in one language; one left out or empty shows the English field."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[ShortText | None, BeforeValidator(_blank_is_none)] = None
    scope: Annotated[LongText | None, BeforeValidator(_blank_is_none)] = None


class MeetingTexts(BaseModel):
    """A meeting's texts in one language; one left out or empty shows the English field."""

    model_config = ConfigDict(extra="forbid")
    title: Annotated[ShortText | None, BeforeValidator(_blank_is_none)] = None
    description: Annotated[LongText | None, BeforeValidator(_blank_is_none)] = None


def checked(value: object, texts: type[BaseModel]) -> Texts:
    """`value` as a stored translations object: languages checked and put in order, each
    language's texts checked as its main fields are, empty texts and empty languages dropped.
    None is no translation at all. Raises ValueError naming the language and the field."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(
            'must be an object of languages, like {"fr": {...}}: ' + ", ".join(TRANSLATED)
        )
    for lang in value:
        if lang == DEFAULT:
            raise ValueError(
                f"{lang}: English is the main field; translations are in {', '.join(TRANSLATED)}"
            )
        if lang not in TRANSLATED:
            raise ValueError(
                f"{str(lang)[:20]!r} is not a language of the service; use one of "
                f"{', '.join(TRANSLATED)}"
            )
    stored: Texts = {}
    for lang in TRANSLATED:
        if lang not in value:
            continue
        try:
            one = texts.model_validate(value[lang])
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in (lang, *first.get("loc", ())))
            raise ValueError(f"{where}: {validation.message(first)}") from None
        kept = {name: text for name, text in one.model_dump().items() if text is not None}
        if kept:
            stored[lang] = kept
    return stored


DESCRIPTION: Final = (
    "Texts in other languages than English, keyed by language ("
    + ", ".join(TRANSLATED)
    + "); a text left out or empty is shown in English. On PATCH the object given replaces "
    "the whole stored one ({} or null removes every translation)."
)


def _schema(texts: type[BaseModel]) -> dict[str, Any]:
    own = texts.model_json_schema()
    return {
        "type": "object",
        "properties": {lang: own for lang in TRANSLATED},
        "additionalProperties": False,
        "description": DESCRIPTION,
    }


def _group_texts(value: object) -> Texts:
    return checked(value, GroupTexts)


def _meeting_texts(value: object) -> Texts:
    return checked(value, MeetingTexts)


GroupTranslations = Annotated[
    Texts,
    BeforeValidator(_group_texts),
    WithJsonSchema(_schema(GroupTexts), mode="validation"),
    Field(description=DESCRIPTION),
]
MeetingTranslations = Annotated[
    Texts,
    BeforeValidator(_meeting_texts),
    WithJsonSchema(_schema(MeetingTexts), mode="validation"),
    Field(description=DESCRIPTION),
]


def text_in(
    translations: Mapping[str, Mapping[str, str]] | None, field: str, lang: str, english: str
) -> tuple[str, str]:
    """The text a reader of `lang` is shown for `field`, and its language: the translation when
    there is one, else `english` (the main field) and "en"."""
    if lang != DEFAULT and translations:
        text = translations.get(lang, {}).get(field)
        if text:
            return text, lang
    return english, DEFAULT
