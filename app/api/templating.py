"""The templates, one Jinja environment per language: `{% trans %}` and `_()` in a template
speak the page's language, and every template sees `lang`, `dir` and the language menu.
A page's language is chosen once, by `page_language` (app.i18n.languages.for_page), and every
page goes out through `render`, which remembers a `?lang=` choice and says what the answer
varies with."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from starlette.routing import Match

from app.i18n import catalogs, languages, said
from app.i18n.dates import long_date, weekday_date
from app.readmodel.pages import Shown

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
# A page's words follow the cookie and Accept-Language: a shared cache must keep one copy per
# combination, or a French reader gets the Arabic page another reader made it keep.
VARY = "Accept-Language, Cookie"


def marked(text: object, lang: str) -> Markup:
    """A text on a page in `lang`, marked with its own language when that differs: data
    written in English (a group's name with no translation) is `lang="en"`, so that screen
    readers say it in English and nobody takes it for a slip. A `Shown` text (a translation or
    its English fallback) says its language; any other text is English data."""
    own, value = (text.lang, text.text) if isinstance(text, Shown) else (languages.DEFAULT, text)
    if own == lang:
        return escape(value)
    return Markup('<span lang="%s">%s</span>') % (own, value)


def said_in(text: object, lang: str) -> Markup:
    """A message written in English below the catalogs (a validation error) in `lang` when
    a marked template makes it, else as it is, marked English."""
    found = said.translated(str(text), lang)
    return escape(found) if found is not None else marked(text, lang)


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
    # {% trans %} blocks may wrap like prose: their whitespace is collapsed, as pybabel's
    # extraction does (babel.cfg: trimmed).
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(catalogs.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        lang=lang,
        dir=languages.direction(lang),
        languages=languages.NAMES,
        language_menu=language_menu,
        # "before → after" reads the other way in a right-to-left page.
        arrow="←" if languages.direction(lang) == "rtl" else "→",
    )
    env.filters["long_date"] = lambda day: long_date(day, lang)
    env.filters["weekday_date"] = lambda day: weekday_date(day, lang)
    # A marked word known only when the page runs (a field's label): plain text, escaped.
    env.filters["tr"] = catalogs.translator(lang)
    env.filters["marked"] = lambda text: marked(text, lang)
    env.filters["spoken_in"] = lambda text, code: Markup('<span lang="%s">%s</span>') % (code, text)
    env.filters["said"] = lambda text: said_in(text, lang)
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


def render(
    request: Request,
    lang: str,
    name: str,
    context: dict[str, Any],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page `name` in `lang`: the one way every page (public, error, console) goes out."""
    response = templates_for(lang).TemplateResponse(
        request, name, context, status_code=status_code, headers=headers
    )
    response.headers["Vary"] = VARY
    response.headers["Content-Language"] = lang
    remember(request, response, lang)
    return response


def _gettable(request: Request, path: str) -> bool:
    """Whether a GET of `path` reaches a route (a form's answer may come from a POST-only one)."""
    scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
    return any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes)


def language_menu(request: Request) -> list[tuple[str, str, str]]:
    """The menu: each language's code, its name in itself, and this page in it. A page that
    answered a form links to the same address opened as a page, when there is one."""
    path = request.url.path
    if request.method in ("GET", "HEAD"):
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    else:
        kept = []
        if not _gettable(request, path):
            path = "/admin" if path.startswith("/admin") else "/"
    menu = []
    for code, name in languages.NAMES.items():
        menu.append((code, name, f"{path}?{urlencode([*kept, ('lang', code)])}"))
    return menu
