"""Texts per language as the models check them: the five languages besides English, each text
checked as its main field, empty ones dropped; and text_in, the one way a reader picks a text."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.models import GroupUpdate, MeetingCreate, MeetingUpdate, text_in

BASE = {"group": "ai-in-cities", "date": "2027-03-10"}


def _meeting(translations: object) -> MeetingCreate:
    return MeetingCreate.model_validate({**BASE, "translations": translations})


def _refused(translations: object) -> str:
    with pytest.raises(ValidationError) as caught:
        _meeting(translations)
    errors = caught.value.errors()
    assert errors[0]["loc"] == ("translations",), errors
    return str(errors[0]["msg"])


def test_languages_are_kept_in_one_order_with_only_their_texts() -> None:
    meeting = _meeting({"zh": {"title": "会议"}, "fr": {"title": " Réunion ", "description": ""}})
    assert meeting.translations == {"fr": {"title": "Réunion"}, "zh": {"title": "会议"}}
    assert list(meeting.translations) == ["fr", "zh"]


def test_no_translation_is_an_empty_object_whichever_way_it_is_said() -> None:
    assert MeetingCreate.model_validate(BASE).translations == {}
    nothing: object
    for nothing in (None, {}, {"fr": {}}, {"fr": {"title": "  ", "description": ""}}):
        assert _meeting(nothing).translations == {}, nothing


@pytest.mark.parametrize(
    ("translations", "reason"),
    [
        ({"en": {"title": "x"}}, "English is the main field"),
        ({"de": {"title": "x"}}, "use one of ar, es, fr, ru, zh"),
        ({"FR": {"title": "x"}}, "use one of"),
        ({"fr": {"name": "x"}}, "fr.name: Extra inputs are not permitted"),
        ({"fr": {"title": "t" * 201}}, "fr.title: is too long: at most 200 characters"),
        ({"fr": {"title": "a\nb"}}, "fr.title: control or unassigned character U+000A"),
        ({"ru": {"description": "d" * 10_001}}, "ru.description: is too long: at most 10000"),
        ({"fr": "Réunion"}, "fr"),
        (["fr"], "must be an object of languages"),
        ("fr", "must be an object of languages"),
    ],
)
def test_a_wrong_translation_is_refused_naming_the_language_and_field(
    translations: object, reason: str
) -> None:
    assert reason in _refused(translations)


def test_a_group_translates_its_name_and_scope_only() -> None:
    patch = GroupUpdate.model_validate({"translations": {"es": {"name": "IA", "scope": "Ámbito"}}})
    assert patch.translations == {"es": {"name": "IA", "scope": "Ámbito"}}
    with pytest.raises(ValidationError, match=r"es\.title"):
        GroupUpdate.model_validate({"translations": {"es": {"title": "IA"}}})


def test_a_patch_may_clear_the_translations_with_null() -> None:
    patch = MeetingUpdate.model_validate({"translations": None})
    assert "translations" in patch.model_fields_set


def test_text_in_gives_the_translation_or_the_english_text_with_its_language() -> None:
    texts = {"fr": {"title": "Réunion"}, "ar": {"description": "وصف"}}
    assert text_in(texts, "title", "fr", "Meeting") == ("Réunion", "fr")
    assert text_in(texts, "title", "ar", "Meeting") == ("Meeting", "en")
    assert text_in(texts, "title", "zh", "Meeting") == ("Meeting", "en")
    assert text_in(texts, "title", "en", "Meeting") == ("Meeting", "en")
    assert text_in({}, "title", "fr", "Meeting") == ("Meeting", "en")
    assert text_in(None, "title", "fr", "Meeting") == ("Meeting", "en")
