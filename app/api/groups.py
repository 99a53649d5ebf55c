"""Groups: thematic groups and their working groups."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlmodel import Session

from app import crud
from app.api.deps import (
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
from app.crud import idempotency
from app.delivery import notify
from app.feeds.service import FeedService
from app.models import GroupCreate, GroupKind, GroupPublic, GroupsPublic, GroupStatus, GroupUpdate
from app.readmodel.public import group_public

router = APIRouter(prefix="/api/groups", tags=["groups"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No group with that slug"}}


@router.get("", response_model=GroupsPublic, summary="List groups")
def read_groups(
    session: SessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    kind: GroupKind | None = None,
    status: GroupStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> GroupsPublic:
    infos = [
        info
        for info in service.groups(session).values()
        if (kind is None or info.group.kind == kind)
        and (status is None or info.group.status == status)
    ]
    page = infos[offset : offset + limit]
    return GroupsPublic(data=[group_public(i, base) for i in page], count=len(infos))


def _public(
    session: Session, service: FeedService, slug: str, base: str, response: Response
) -> GroupPublic:
    group = crud.get_group(session, slug)
    assert group.id is not None
    response.headers["ETag"] = crud.group_etag(group)
    return group_public(service.groups(session)[group.id], base)


@router.get("/{slug}", response_model=GroupPublic, responses=NOT_FOUND, summary="One group")
def read_group(
    slug: str, session: SessionDep, service: FeedServiceDep, base: BaseUrlDep, response: Response
) -> GroupPublic:
    return _public(session, service, slug, base, response)


@router.post(
    "",
    response_model=GroupPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        401: {"description": "No valid token"},
        409: {"description": "Slug taken"},
        429: {"description": "Too many invalid tokens from this client; see Retry-After"},
    },
    summary="Create a group",
)
def create_group(
    body: GroupCreate,
    actor: WriterDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> GroupPublic:
    notify.attach(session, settings, base)  # webhooks hear of it
    asked = idempotency.fingerprint("POST /api/groups", body.model_dump_json())

    def create() -> str:
        return crud.create_group(session, body, actor, commit=False).slug

    slug = idempotency.create_once(session, actor, idempotency_key, asked, "group", create)
    response.headers["Location"] = f"{base}/api/groups/{slug}"
    return _public(session, service, slug, base, response)


@router.patch(
    "/{slug}",
    response_model=GroupPublic,
    responses={
        **NOT_FOUND,
        **TOKEN_ERRORS,
        412: {"description": "Stale If-Match"},
    },
    summary="Change a group: status and its note, leaders, scope, publications, notes",
)
def update_group(
    slug: str,
    body: GroupUpdate,
    actor: WriterDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
) -> GroupPublic:
    require_some_field(body)
    notify.attach(session, settings, base)  # webhooks hear of it
    crud.update_group(session, slug, body, actor, if_match)
    return _public(session, service, slug, base, response)
