"""Messages made in English below the catalogs are said again in a page's language: matched to
the marked template that made them, translated with the same values; a message no template makes
is left alone."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core import validation
from app.i18n import said
from app.models import MeetingCreate
from app.timezone import zones


def _refusal(**fields: str) -> str:
    body = {"group": "ai-in-cities-wg2", "date": "2027-03-28", **fields}
    with pytest.raises(ValidationError) as refused:
        MeetingCreate.model_validate(body)
    named = validation.named_field(validation.message(refused.value.errors()[0]))
    assert named is not None
    return named[1]


def test_a_refused_wall_clock_time_is_said_with_its_own_values() -> None:
    english = _refusal(start_time="02:30", end_time="03:30")
    assert english == (
        "2027-03-28 02:30 does not exist in Europe/Zurich: the clocks spring forward over it"
    )
    assert said.translated(english, "fr") == (
        "2027-03-28 à 02:30 n'existe pas dans le fuseau Europe/Zurich\u00a0: les horloges "
        "avancent d'une heure à ce moment-là"
    )
    assert said.translated(english, "en") == english
    for lang in ("ar", "es", "ru", "zh"):
        words = said.translated(english, lang)
        assert words is not None and "does not exist" not in words
        assert "2027-03-28" in words and "02:30" in words and "Europe/Zurich" in words


def test_a_value_that_is_itself_a_marked_word_is_translated_too() -> None:
    english = validation.message({"type": "date_from_datetime_parsing", "input": "2027-02-30"})
    assert english == "2027-02-30 is not a date: February 2027 has 28 days"
    assert said.translated(english, "es") == (
        "2027-02-30 no es una fecha válida: febrero de 2027 tiene 28 días"
    )


def test_plain_messages_and_unknown_ones() -> None:
    assert said.translated("must not be empty", "ru") == "не должно быть пустым"
    assert said.translated("something no template makes", "zh") is None
    # A message that only starts like a template is not taken for it.
    assert said.translated(f"unknown time zone 'X'; use {zones.GENEVA}", "fr") is None


@pytest.mark.parametrize(
    ("seconds", "lang", "words"),
    [
        (3, "fr", "quelques secondes"),
        (30, "ru", "30 секунд"),
        (60, "ru", "минуту"),
        (120, "ru", "2 минуты"),
        (300, "ru", "5 минут"),
        (1260, "ru", "21 минуту"),
        (300, "zh", "5分钟"),
        (120, "ar", "دقيقتين (2)"),
        (300, "en", "5 minutes"),
    ],
)
def test_a_wait_in_words_per_language(seconds: int, lang: str, words: str) -> None:
    assert said.wait_text(seconds, lang) == words
