"""Counted words take the language's own plural form: Arabic's six, Russian's three, French's
and Spanish's, Chinese's one, read from the compiled catalogs as the mail reads them."""

from __future__ import annotations

import pytest

from app.i18n.catalogs import translations

ONE = "The link works once, for %(days)s day."
MANY = "The link works once, for %(days)s days."


def _days(lang: str, count: int) -> str:
    return translations(lang).ngettext(ONE, MANY, count) % {"days": count}


@pytest.mark.parametrize(
    ("lang", "count", "word"),
    [
        ("ru", 1, "1 день"),
        ("ru", 21, "21 день"),
        ("ru", 2, "2 дня"),
        ("ru", 4, "4 дня"),
        ("ru", 5, "5 дней"),
        ("ru", 11, "11 дней"),
        ("ru", 14, "14 дней"),
        ("ar", 2, "2 يومين"),
        ("ar", 3, "3 أيام"),
        ("ar", 10, "10 أيام"),
        ("ar", 11, "11 يومًا"),
        ("ar", 99, "99 يومًا"),
        ("ar", 100, "100 يوم"),
        ("fr", 1, "1 jour."),
        ("fr", 7, "7 jours."),
        ("es", 1, "1 día."),
        ("es", 7, "7 días."),
        ("zh", 7, "7天"),
        ("en", 1, "1 day."),
        ("en", 7, "7 days."),
    ],
)
def test_a_count_of_days_takes_its_form(lang: str, count: int, word: str) -> None:
    assert word in _days(lang, count)
