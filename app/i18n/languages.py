"""Which language a request speaks: `?lang=`, else the remembered choice (a cookie), else
Accept-Language, else English. The one place that knows the six codes and their direction."""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("ar", "en", "es", "fr", "ru", "zh")
DEFAULT: Final = "en"
# Each language named in itself, for the language menu.
NAMES: Final = {
    "ar": "العربية",
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "ru": "Русский",
    "zh": "中文",
}
RIGHT_TO_LEFT: Final = frozenset({"ar"})
# The cookie a page's language menu sets: the choice, remembered for a year.
COOKIE: Final = "lang"
COOKIE_MAX_AGE: Final = 365 * 24 * 3600
# Accept-Language lists longer than this are read no further (a bound on what a header costs).
_MAX_RANGES = 20


class UnknownLanguage(ValueError):
    """A feed asked for a language the service does not speak (a 422 naming the six)."""

    def __init__(self, value: str) -> None:
        super().__init__(
            f"lang: {value[:20]!r} is not a supported language; use one of {', '.join(LANGUAGES)}"
        )


def supported(value: str | None) -> str | None:
    """The code for `value` when the service speaks it ('fr', 'FR', 'fr-CH', 'zh-Hans'), else
    None."""
    if not value:
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def direction(lang: str) -> str:
    """`rtl` or `ltr`, for `<html dir>`."""
    return "rtl" if lang in RIGHT_TO_LEFT else "ltr"


def from_accept_language(header: str | None) -> str | None:
    """The best supported language in an Accept-Language header (RFC 9110 12.5.4), by weight
    and then by order; None when it names none of the six."""
    if not header:
        return None
    best: tuple[float, int, str] | None = None
    for index, item in enumerate(header.split(",")[:_MAX_RANGES]):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                continue
        code = supported(tag)
        if code is None or weight <= 0:
            continue
        if best is None or (weight, -index) > (best[0], -best[1]):
            best = (weight, index, code)
    return best[2] if best else None


def for_page(query: str | None, cookie: str | None, accept: str | None) -> str:
    """A page's language: `?lang=`, the cookie, Accept-Language, English. Never refused: a page
    in a language the service does not speak falls back to English."""
    return supported(query) or supported(cookie) or from_accept_language(accept) or DEFAULT


def for_feed(query: str | None) -> str:
    """A feed's language: `?lang=` exactly one of the six codes, else English. Feeds do not
    read cookies or Accept-Language: a calendar client's URL means the same bytes for everyone.
    Raises UnknownLanguage for anything else."""
    if query is None:
        return DEFAULT
    if query not in LANGUAGES:
        raise UnknownLanguage(query)
    return query
