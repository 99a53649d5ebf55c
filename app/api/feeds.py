"""The .ics feeds calendar apps subscribe to: cached bytes, revalidation, gzip."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from app import crud
from app.api.deps import MAX_LIST_PARAMS, FeedContextDep, FeedServiceDep, SessionDep, SettingsDep
from app.feeds.answer import feed_answer
from app.feeds.rendered import RenderedFeed
from app.feeds.selection import FeedSelection
from app.feeds.url import parse_selection
from app.i18n import languages

router = APIRouter(tags=["feeds"])

FEED_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/calendar": {}}, "description": "An iCalendar feed"},
    304: {"description": "Not modified since the ETag or date you sent"},
}

AlarmParam = Annotated[
    int | None,
    Query(ge=0, le=1440, description="Add a reminder this many minutes before timed meetings"),
]
LangParam = Annotated[
    str | None,
    Query(
        description="The language of the feed's words: "
        + ", ".join(languages.LANGUAGES)
        + " (English by default); group and meeting texts are shown in it where translated, "
        "else in English. Anything else is a 422. Times and instants are the same in every "
        "language.",
    ),
]
CancelledParam = Annotated[
    Literal["show", "hide"],
    Query(description="'hide' drops cancelled meetings at once; by default they stay for a while"),
]


def feed_response(rendered: RenderedFeed, headers: Mapping[str, str], max_age: int) -> Response:
    """The HTTP answer for a rendered feed (app.feeds.answer), as a Response for the routes."""
    status, raw, body = feed_answer(
        rendered,
        if_none_match=headers.get("if-none-match"),
        if_modified_since=headers.get("if-modified-since"),
        accept_encoding=headers.get("accept-encoding"),
        max_age=max_age,
    )
    response = Response(content=body, status_code=status)
    response.raw_headers = list(raw)
    return response


def _selection(request: Request, lang: str | None) -> FeedSelection:
    """The feed the URL names, by the one parser the edge uses too (app.feeds.url); FastAPI has
    checked the parameters above against their declarations already, and an unsupported
    language is refused here (a 422 naming the six, app.api.errors)."""
    languages.for_feed(lang)
    selection = parse_selection(request.scope["path"], request.scope.get("query_string", b""))
    if selection is None:
        raise HTTPException(422, "the feed's query is not understood: see /docs for its parameters")
    return selection


def _serve(
    request: Request,
    session: SessionDep,
    service: FeedServiceDep,
    ctx: FeedContextDep,
    settings: SettingsDep,
    selection: FeedSelection,
) -> Response:
    rendered = service.feed(session, selection, ctx, settings.cancelled_retention_days)
    max_age = int(settings.refresh_interval.total_seconds())
    return feed_response(rendered, request.headers, max_age)


@router.get(
    "/calendar.ics",
    response_class=Response,
    responses=FEED_RESPONSES,
    summary="Every meeting, or a combined feed of chosen groups",
)
def read_calendar(
    request: Request,
    session: SessionDep,
    service: FeedServiceDep,
    ctx: FeedContextDep,
    settings: SettingsDep,
    group: Annotated[list[str], Query(max_length=MAX_LIST_PARAMS)] = [],  # noqa: B006
    alarm: AlarmParam = None,
    cancelled: CancelledParam = "show",
    lang: LangParam = None,
) -> Response:
    crud.group_ids_in_query(session, group)
    selection = _selection(request, lang)
    return _serve(request, session, service, ctx, settings, selection)


@router.get(
    "/groups/{slug}/calendar.ics",
    response_class=Response,
    responses={**FEED_RESPONSES, 404: {"description": "No group with that slug"}},
    summary="One group's feed; a thematic group's includes its working groups",
)
def read_group_calendar(
    slug: str,
    request: Request,
    session: SessionDep,
    service: FeedServiceDep,
    ctx: FeedContextDep,
    settings: SettingsDep,
    alarm: AlarmParam = None,
    cancelled: CancelledParam = "show",
    lang: LangParam = None,
) -> Response:
    crud.get_group(session, slug)
    selection = _selection(request, lang)
    return _serve(request, session, service, ctx, settings, selection)


@router.get(
    "/meetings/{uid}.ics",
    response_class=Response,
    responses={**FEED_RESPONSES, 404: {"description": "No meeting with that uid"}},
    summary="One meeting, for 'add to calendar'",
)
def read_meeting_calendar(
    uid: str,
    request: Request,
    session: SessionDep,
    service: FeedServiceDep,
    ctx: FeedContextDep,
    settings: SettingsDep,
    alarm: AlarmParam = None,
    lang: LangParam = None,
) -> Response:
    selection = _selection(request, lang)
    return _serve(request, session, service, ctx, settings, selection)
