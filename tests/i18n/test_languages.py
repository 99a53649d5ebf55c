"""Which language a request speaks: ?lang=, the cookie, Accept-Language, English; feeds take
only ?lang= and refuse what they do not speak."""

from __future__ import annotations

import datetime as dt

import pytest

from app.i18n import languages
from app.i18n.dates import long_date, weekday_date


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"),
        ("de-DE,de;q=0.9", None),
        ("de, ru;q=0.3, zh-Hans-CN;q=0.8", "zh"),
        ("en;q=0.5, ar;q=0.5", "en"),
        ("es;q=0, ru", "ru"),
        ("es;q=banana, ru;q=0.1", "ru"),
        ("", None),
        (",".join(["de"] * 30 + ["fr"]), None),
    ],
)
def test_accept_language_picks_the_best_supported_tag(header: str, expected: str | None) -> None:
    assert languages.from_accept_language(header) == expected


def test_a_page_prefers_the_query_then_the_cookie_then_the_header() -> None:
    assert languages.for_page("ar", "fr", "ru") == "ar"
    assert languages.for_page("xx", "fr", "ru") == "fr"
    assert languages.for_page(None, None, "ru, en;q=0.1") == "ru"
    assert languages.for_page("xx", "yy", "de") == "en"


def test_a_feed_takes_exactly_one_of_the_six_codes() -> None:
    assert languages.for_feed(None) == "en"
    assert languages.for_feed("zh") == "zh"
    for bad in ("xx", "FR", "fr-CH", ""):
        with pytest.raises(languages.UnknownLanguage, match="ar, en, es, fr, ru, zh"):
            languages.for_feed(bad)


def test_arabic_is_written_right_to_left() -> None:
    assert [languages.direction(lang) for lang in languages.LANGUAGES] == ["rtl"] + ["ltr"] * 5


def test_dates_in_words_per_language() -> None:
    day = dt.date(2026, 12, 4)
    assert long_date(day) == "4 December 2026"
    assert weekday_date(day) == "Friday 4 December 2026"
    assert long_date(day, "fr") == "4 décembre 2026"
    assert long_date(day, "zh") == "2026年12月4日"
    assert "декабря" in long_date(day, "ru")
    assert "diciembre" in weekday_date(day, "es")
