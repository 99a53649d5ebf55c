"""The change feeds for people and tools that read feeds: Atom, with ETag and 304."""

from __future__ import annotations

from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app import crud
from app.api.deps import BaseUrlDep, SessionDep, SettingsDep
from app.core import conditional
from app.delivery import changefeed
from app.i18n import languages
from app.readmodel import links
from app.readmodel.groups import group_index

router = APIRouter(tags=["feeds"])

ATOM = "application/atom+xml; charset=utf-8"
RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/atom+xml": {}}, "description": "An Atom 1.0 feed"},
    304: {"description": "Not modified since the ETag or date you sent"},
}


def _answer(request: Request, feed: changefeed.AtomFeed, max_age: int) -> Response:
    headers = {
        "ETag": feed.etag,
        "Last-Modified": format_datetime(feed.last_modified, usegmt=True),
        "Cache-Control": f"public, max-age={max_age}",
    }
    if _not_modified(request, feed):
        return Response(status_code=304, headers=headers)
    return Response(feed.body, media_type=ATOM, headers=headers)


def _not_modified(request: Request, feed: changefeed.AtomFeed) -> bool:
    headers = request.headers
    return conditional.not_modified(
        (feed.etag,),
        feed.last_modified,
        headers.get("if-none-match"),
        headers.get("if-modified-since"),
    )


# Changes should reach feed readers sooner than calendars poll: a few minutes at most.
MAX_AGE = 300
LangParam = Annotated[
    str | None,
    Query(
        description="The language of the entries' words: "
        + ", ".join(languages.LANGUAGES)
        + " (English by default); group and meeting texts in it where translated, else in "
        "English. Anything else is a 422.",
    ),
]


@router.get(
    "/changes.atom",
    response_class=Response,
    responses=RESPONSES,
    summary="The latest changes (meetings added, rescheduled, cancelled; group status) as Atom",
)
def read_changes_atom(
    request: Request,
    session: SessionDep,
    base: BaseUrlDep,
    settings: SettingsDep,
    lang: LangParam = None,
) -> Response:
    chosen = languages.for_feed(lang)
    items = changefeed.entries(session, base, lang=chosen)
    feed = changefeed.render(
        items,
        title=changefeed.title(None, chosen),
        feed_url=links.in_language(f"{base}/changes.atom", chosen),
        page_url=f"{base}/",
        uid_domain=settings.uid_domain,
        lang=chosen,
    )
    return _answer(request, feed, MAX_AGE)


@router.get(
    "/groups/{slug}/changes.atom",
    response_class=Response,
    responses={**RESPONSES, 404: {"description": "No group with that slug"}},
    summary="One group's latest changes as Atom; a thematic group's include its working groups",
)
def read_group_changes_atom(
    slug: str,
    request: Request,
    session: SessionDep,
    base: BaseUrlDep,
    settings: SettingsDep,
    lang: LangParam = None,
) -> Response:
    group = crud.get_group(session, slug)
    chosen = languages.for_feed(lang)
    ids = crud.group_ids_covering(session, [slug])
    index = group_index(session)
    slugs = {index[gid].slug for gid in ids if gid in index}
    items = changefeed.entries(session, base, slugs, lang=chosen)
    feed = changefeed.render(
        items,
        title=changefeed.title(group, chosen),
        feed_url=links.in_language(f"{base}/groups/{slug}/changes.atom", chosen),
        page_url=f"{base}/groups/{slug}",
        uid_domain=settings.uid_domain,
        lang=chosen,
    )
    return _answer(request, feed, MAX_AGE)
