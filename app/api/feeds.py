"""The .ics feeds calendar apps subscribe to: cached bytes, revalidation, gzip."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from app import crud
from app.api.deps import MAX_LIST_PARAMS, FeedContextDep, FeedServiceDep, SessionDep, SettingsDep
from app.core import conditional
from app.feeds.rendered import RenderedFeed
from app.feeds.selection import FeedSelection

router = APIRouter(tags=["feeds"])

ICS = "text/calendar; charset=utf-8"
FEED_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/calendar": {}}, "description": "An iCalendar feed"},
    304: {"description": "Not modified since the ETag or date you sent"},
}

AlarmParam = Annotated[
    int | None,
    Query(ge=0, le=1440, description="Add a reminder this many minutes before timed meetings"),
]
CancelledParam = Annotated[
    Literal["show", "hide"],
    Query(description="'hide' drops cancelled meetings at once; by default they stay for a while"),
]


def _not_modified(rendered: RenderedFeed, headers: Mapping[str, str]) -> bool:
    # Weak comparison (RFC 9110 13.1.2): the identity and the gzip tag name the same
    # content, so either one held by the client matches whichever answer it would get.
    return conditional.not_modified(
        (rendered.etag, rendered.gzip_etag),
        rendered.last_modified,
        headers.get("if-none-match"),
        headers.get("if-modified-since"),
    )


FeedAnswer = tuple[int, list[tuple[bytes, bytes]], bytes]


def answer_headers(
    rendered: RenderedFeed, status: int, gzipped: bool, max_age: int
) -> list[tuple[bytes, bytes]]:
    """The encoded headers of one kind of answer, built once per rendered feed."""
    key = (status, gzipped, max_age)
    cached = rendered.answers.get(key)
    if cached is not None:
        return cached
    common = {
        "etag": rendered.gzip_etag if gzipped else rendered.etag,
        "last-modified": rendered.last_modified_http,
        "cache-control": f"public, max-age={max_age}",
        "vary": "Accept-Encoding",
    }
    if status == 200:
        common["content-disposition"] = f'inline; filename="{rendered.filename}"'
        if gzipped:
            common["content-encoding"] = "gzip"
        common["content-length"] = str(len(rendered.gzipped if gzipped else rendered.body))
        common["content-type"] = ICS
    encoded = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in common.items()]
    rendered.answers[key] = encoded
    return encoded


def feed_answer(
    rendered: RenderedFeed, headers: Mapping[str, str], method: str, max_age: int
) -> FeedAnswer:
    """Status, headers and body for a rendered feed: 304 when the client has it, gzip when
    asked. Both the FastAPI routes and the lean path (app.edge.fastpath) answer with this."""
    gzipped = "gzip" in headers.get("accept-encoding", "").lower()
    if _not_modified(rendered, headers):
        # A 304 names the tag of the answer this request would have got.
        return 304, answer_headers(rendered, 304, gzipped, max_age), b""
    body = rendered.gzipped if gzipped else rendered.body
    raw = answer_headers(rendered, 200, gzipped, max_age)
    return 200, raw, b"" if method == "HEAD" else body


def feed_response(
    rendered: RenderedFeed, headers: Mapping[str, str], method: str, max_age: int
) -> Response:
    """The HTTP answer for a rendered feed, as a Response object for the FastAPI routes."""
    status, raw, body = feed_answer(rendered, headers, method, max_age)
    response = Response(content=body, status_code=status)
    response.raw_headers = list(raw)
    return response


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
    return feed_response(rendered, request.headers, request.method, max_age)


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
) -> Response:
    crud.group_ids_in_query(session, group)
    selection = FeedSelection(tuple(dict.fromkeys(group)), None, alarm, cancelled == "hide")
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
) -> Response:
    crud.get_group(session, slug)
    selection = FeedSelection((slug,), None, alarm, cancelled == "hide")
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
) -> Response:
    selection = FeedSelection((), uid, alarm, False)
    return _serve(request, session, service, ctx, settings, selection)
