"""The templates, one Jinja environment per language: `{% trans %}` and `_()` in a template
speak the page's language, and every template sees `lang`, `dir` and `languages` (the menu).
A page's language is chosen once, by `PageLanguage` (app.i18n.languages.for_page)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from app.i18n import catalogs, languages
from app.i18n.dates import long_date, weekday_date

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@cache
def templates_for(lang: str) -> Jinja2Templates:
    """The templates in `lang`. Autoescape everything: names, scopes and notes come from the
    write API."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        trim_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(catalogs.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        lang=lang,
        dir=languages.direction(lang),
        languages=languages.NAMES,
    )
    env.filters["long_date"] = lambda day: long_date(day, lang)
    env.filters["weekday_date"] = lambda day: weekday_date(day, lang)
    return Jinja2Templates(env=env)


def page_language(request: Request) -> str:
    """The page's language: `?lang=`, the `lang` cookie, Accept-Language, English."""
    return languages.for_page(
        request.query_params.get("lang"),
        request.cookies.get(languages.COOKIE),
        request.headers.get("accept-language"),
    )


PageLanguage = Annotated[str, Depends(page_language)]


def remember(request: Request, response: Response, lang: str) -> Response:
    """Keeps a language chosen with `?lang=` in the cookie, so the next page speaks it too."""
    if languages.supported(request.query_params.get("lang")) == lang:
        response.set_cookie(
            languages.COOKIE,
            lang,
            max_age=languages.COOKIE_MAX_AGE,
            samesite="lax",
            httponly=True,
        )
    return response
