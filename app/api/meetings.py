"""Meetings: list, read, and the secretariat's writes (DELETE cancels)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlmodel import Session

from app import crud
from app.api.deps import (
    MAX_LIST_PARAMS,
    TOKEN_ERRORS,
    BaseUrlDep,
    FeedServiceDep,
    IdempotencyKey,
    IfMatch,
    SessionDep,
    SettingsDep,
    WriterDep,
    WriteSessionDep,
    require_some_field,
)
from app.core.config import Settings
from app.crud import idempotency
from app.delivery import notify
from app.feeds.service import FeedService
from app.models import (
    IsoDate,
    MeetingCreate,
    MeetingPublic,
    MeetingsPublic,
    MeetingStatus,
    MeetingUpdate,
)
from app.readmodel.public import meeting_public

router = APIRouter(prefix="/api/meetings", tags=["meetings"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No meeting with that uid"}}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **TOKEN_ERRORS,
    412: {"description": "If-Match does not match the current ETag"},
}

AnnounceParam = Annotated[
    bool,
    Query(
        description="Also announce the change on the mailing list (ANNOUNCE_TO); 422 when the "
        "server has no SMTP_URL or ANNOUNCE_TO"
    ),
]
NO_ANNOUNCE: dict[int | str, dict[str, Any]] = {
    422: {"description": "Invalid input, or announce=true on a server that cannot send mail"}
}


def _notifying(session: Session, settings: Settings, base: str, announce: bool) -> None:
    """Webhooks hear of the write; with announce, the list too. Checked before writing."""
    try:
        notify.attach(session, settings, base, announce)
    except notify.AnnounceUnavailable as exc:
        error = {"loc": ["query", "announce"], "msg": exc.message, "type": "value_error"}
        raise HTTPException(422, detail=[error]) from None


GroupParam = Annotated[
    list[str],
    Query(
        max_length=MAX_LIST_PARAMS,
        description="A group slug (repeatable); a thematic group includes its working groups",
    ),
]


def group_ids(session: SessionDep, group: list[str]) -> set[int] | None:
    if not group:
        return None
    return crud.group_ids_in_query(session, group)


@router.get("", response_model=MeetingsPublic, summary="List meetings, sorted by start")
def read_meetings(
    session: SessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    group: GroupParam = [],  # noqa: B006 - FastAPI copies defaults
    start: Annotated[IsoDate | None, Query(description="From this Geneva date on")] = None,
    end: Annotated[IsoDate | None, Query(description="Up to this Geneva date, inclusive")] = None,
    status: MeetingStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MeetingsPublic:
    if start and end and end < start:
        raise crud.Invalid("end", "must not be before start")
    query = crud.MeetingQuery(
        group_ids=group_ids(session, group),
        start=start,
        end=end,
        statuses=(status.value,) if status else (),
    )
    meetings, total = crud.list_meetings(session, query, limit, offset)
    index = service.groups(session)
    return MeetingsPublic(
        data=[meeting_public(m, index[m.group_id], base) for m in meetings], count=total
    )


def _public(
    session: Session, service: FeedService, uid: str, base: str, response: Response
) -> MeetingPublic:
    meeting = crud.get_meeting(session, uid)
    response.headers["ETag"] = crud.meeting_etag(meeting)
    return meeting_public(meeting, service.groups(session)[meeting.group_id], base)


@router.get("/{uid}", response_model=MeetingPublic, responses=NOT_FOUND, summary="One meeting")
def read_meeting(
    uid: str, session: SessionDep, service: FeedServiceDep, base: BaseUrlDep, response: Response
) -> MeetingPublic:
    return _public(session, service, uid, base, response)


@router.post(
    "",
    response_model=MeetingPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        **TOKEN_ERRORS,
        **NO_ANNOUNCE,
    },
    summary="Add a meeting",
)
def create_meeting(
    body: MeetingCreate,
    actor: WriterDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
    response: Response,
    announce: AnnounceParam = False,
    idempotency_key: IdempotencyKey = None,
) -> MeetingPublic:
    _notifying(session, settings, base, announce)
    asked = idempotency.fingerprint("POST /api/meetings", body.model_dump_json(), str(announce))

    def create() -> str:
        return crud.create_meeting(session, body, actor, commit=False).uid

    uid = idempotency.create_once(session, actor, idempotency_key, asked, "meeting", create)
    response.headers["Location"] = f"{base}/api/meetings/{uid}"
    return _public(session, service, uid, base, response)


@router.patch(
    "/{uid}",
    response_model=MeetingPublic,
    responses={**NOT_FOUND, **WRITE_ERRORS, **NO_ANNOUNCE},
    summary="Change a meeting (reschedule, retitle, ...): SEQUENCE goes up",
)
def update_meeting(
    uid: str,
    body: MeetingUpdate,
    actor: WriterDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
    announce: AnnounceParam = False,
) -> MeetingPublic:
    require_some_field(body)
    _notifying(session, settings, base, announce)
    crud.update_meeting(session, uid, body, actor, if_match)
    return _public(session, service, uid, base, response)


@router.delete(
    "/{uid}",
    response_model=MeetingPublic,
    responses={**NOT_FOUND, **WRITE_ERRORS, **NO_ANNOUNCE},
    summary="Cancel a meeting: it stays in feeds as cancelled",
)
def cancel_meeting(
    uid: str,
    actor: WriterDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
    announce: AnnounceParam = False,
) -> MeetingPublic:
    _notifying(session, settings, base, announce)
    crud.cancel_meeting(session, uid, actor, if_match)
    return _public(session, service, uid, base, response)
