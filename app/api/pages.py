"""Pages for people: every group, its meetings, subscribe links and the feed builder, in the
page's language (app.api.templating)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.api.deps import BaseUrlDep, FeedServiceDep, SessionDep, SettingsDep
from app.api.templating import PageLanguage, render
from app.delivery import subscribers
from app.feeds.selection import ALL_CALENDAR_NAME
from app.readmodel.links import feed_url, in_language
from app.readmodel.pages import Subscribe, group_views

router = APIRouter(tags=["pages"], include_in_schema=False)

FAVICON = (Path(__file__).resolve().parent.parent / "static" / "favicon.ico").read_bytes()


def _all_subscribe(base: str, lang: str, key: str = "all") -> Subscribe:
    return Subscribe(key, ALL_CALENDAR_NAME, in_language(feed_url(base), lang))


@router.get("/", response_class=HTMLResponse)
def read_index(
    request: Request,
    lang: PageLanguage,
    session: SessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
) -> HTMLResponse:
    roots, _ = group_views(session, service.groups(session), base, lang)
    return render(
        request,
        lang,
        "index.html",
        {
            "base": base,
            "groups": roots,
            "everything": _all_subscribe(base, lang),
            # The builder starts at "everything"; app.js rewrites it as boxes are ticked.
            "builder": _all_subscribe(base, lang, "builder"),
            # The invitations form only where invitations can be mailed.
            "invitations": subscribers.configured(settings),
        },
    )


@router.get("/groups/{slug}", response_class=HTMLResponse)
def read_group_page(
    slug: str,
    request: Request,
    lang: PageLanguage,
    session: SessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
) -> HTMLResponse:
    _, by_slug = group_views(session, service.groups(session), base, lang)
    view = by_slug.get(slug)
    if view is None:
        return render(request, lang, "not_found.html", {"base": base, "slug": slug}, 404)
    meetings = sorted(
        [*view.meetings, *(m for child in view.children for m in child.meetings)],
        key=lambda m: (m.public.date, m.start_utc or ""),
    )
    return render(
        request,
        lang,
        "group.html",
        {
            "base": base,
            "group": view,
            "meetings": meetings,
            "today": view.today,
            "invitations": subscribers.configured(settings),
        },
    )


@router.get("/docs", response_class=HTMLResponse)
def read_docs(request: Request, lang: PageLanguage) -> HTMLResponse:
    """Swagger UI from the app's own files: it works offline and without inline script."""
    return render(
        request,
        lang,
        "docs.html",
        {"title": request.app.title, "openapi_url": request.app.openapi_url},
    )


@router.get("/favicon.ico")
def read_favicon() -> Response:
    """Browsers ask for it whatever the page says: answer rather than log a 404 each time."""
    headers = {"Cache-Control": "public, max-age=604800"}
    return Response(FAVICON, media_type="image/x-icon", headers=headers)
