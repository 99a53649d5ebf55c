"""What routes receive by dependency: settings, base URL, the writer's name, the feed service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.auth import tokens
from app.core.config import Settings
from app.core.db import write_session
from app.feeds.service import FeedService
from app.feeds.url import MAX_LIST_PARAMS as MAX_LIST_PARAMS
from app.ical import wording


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(_engine)]


def read_session(engine: EngineDep) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def _write_session_dependency(engine: EngineDep) -> Iterator[Session]:
    with write_session(engine) as session:
        yield session


# scope="function": the session closes (and its connection returns to the pool, a write
# commits) as soon as the route returns, before the answer is sent to a client that may be
# slow to read it.
SessionDep = Annotated[Session, Depends(read_session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(_write_session_dependency, scope="function")]


# What a route that needs a token may answer besides its own errors.
TOKEN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid token"},
    429: {"description": "Too many invalid tokens from this client; see Retry-After"},
}


def require_some_field(body: BaseModel) -> None:
    """A PATCH body must name a field: 422, a list like every other, so the error shape holds."""
    if not body.model_fields_set:
        empty = {"loc": ["body"], "msg": "the body names no field to change", "type": "value_error"}
        raise HTTPException(422, detail=[empty])


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


def base_url(request: Request, settings: SettingsDep) -> str:
    return settings.base_url(str(request.base_url))


BaseUrlDep = Annotated[str, Depends(base_url)]


def feed_context(settings: SettingsDep, base: BaseUrlDep) -> wording.FeedContext:
    return wording.FeedContext.of(settings, base)


FeedContextDep = Annotated[wording.FeedContext, Depends(feed_context)]


def feed_service(request: Request) -> FeedService:
    service: FeedService = request.app.state.feeds
    return service


FeedServiceDep = Annotated[FeedService, Depends(feed_service)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": 'Bearer realm="u4ssc-calendar"'},
    )


# Declared in the OpenAPI document on every write, so /docs offers "Authorize".
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API token: ADMIN_TOKEN, or one made with the command line.",
)


def writer(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
) -> str:
    """The name of the token holder making a write; 401 without a valid bearer token.

    The token is checked first: a valid one is never throttled. Only invalid tokens count
    against the client's address (as uvicorn reports it: the peer, or the address a proxy in
    FORWARDED_ALLOW_IPS names), and past the limit they get 429 instead of 401."""
    limiter = request.app.state.auth_limiter
    client = request.client.host if request.client else "unknown"
    with Session(engine) as session:
        if not tokens.writes_possible(session, settings.admin_token):
            raise _unauthorized("writes are disabled: no token is configured on this server")
        token = credentials.credentials.strip() if credentials else ""
        if not token:
            raise _unauthorized("a write needs the header 'Authorization: Bearer <token>'")
        name = tokens.identify(session, token, settings.admin_token)
    if name is not None:
        return name
    limiter.check(client)
    limiter.failed(client)
    raise _unauthorized("the bearer token is not valid (unknown or revoked)")


WriterDep = Annotated[str, Depends(writer)]

IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=200)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Send the same key again (within a day) and get what the first request "
        "made, never a second one; a different request under one key is 422",
    ),
]
