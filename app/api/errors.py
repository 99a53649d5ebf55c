"""Every error answer, in one place: how each exception becomes `{"detail": ...}` with its
status (validation 422, unknown 404, conflicts 409 and 412, throttles 429, storage faults and an
exhausted pool 503, a bug 500 with the security headers and no detail)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.exc import DBAPIError, InternalError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import crud
from app.auth.limits import TooManyFailures
from app.core import validation
from app.edge.guard import SECURITY_HEADERS, UNREADABLE_BODY, storage_detail
from app.store import seeding

log = logging.getLogger("u4ssc")


def clean_errors(errors: Any) -> list[dict[str, Any]]:
    """Validation errors as {loc, msg, type}: the field and the reason, nothing echoed back."""
    cleaned = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        msg = validation.message(error)
        named = validation.named_field(msg)
        if named is not None and loc in (["body"], []):
            loc, msg = ["body", named[0]], named[1]
        cleaned.append({"loc": loc, "msg": msg, "type": str(error.get("type", "value_error"))})
    return cleaned


def _detail(status: int, detail: object, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _detail(422, clean_errors(exc.errors()))


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, crud.Invalid)
    where = "query" if request.method in ("GET", "HEAD") else "body"
    return _detail(422, [{"loc": [where, exc.field], "msg": exc.message, "type": "value_error"}])


async def _too_many(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TooManyFailures)
    return _detail(429, str(exc), {"Retry-After": str(exc.retry_after)})


async def _storage_fault(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    detail = storage_detail(exc)
    if detail is None:
        raise exc
    log.warning("storage fault on %s %s: %s", request.method, request.url.path, exc.orig)
    return _detail(503, detail, {"Retry-After": "30"})


async def _unreadable_body(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    # FastAPI answers a JSON body it cannot even decode (not UTF-8) with a bare 400; to a
    # client that is a malformed body like any other, so it gets the same 422.
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        return _detail(422, [{"loc": ["body"], "msg": UNREADABLE_BODY, "type": "json_invalid"}])
    return await http_exception_handler(request, exc)


async def _pool_exhausted(request: Request, exc: Exception) -> JSONResponse:
    log.warning("no database connection for %s %s: %s", request.method, request.url, exc)
    detail = "the service is busy: no database connection came free in time; try again"
    return _detail(503, detail, {"Retry-After": "5"})


async def _internal_error(_: Request, exc: Exception) -> Response:
    # Answered by Starlette's outermost layer, outside GuardMiddleware: the security headers
    # are added here. The traceback goes to the log (uvicorn), not to the client.
    headers = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
    return PlainTextResponse("Internal Server Error", status_code=500, headers=headers)


def _plain(status: int) -> Any:
    async def handler(_: Request, exc: Exception) -> JSONResponse:
        return _detail(status, str(exc))

    return handler


HANDLERS: dict[type[Exception], Any] = {
    RequestValidationError: _validation,
    crud.Invalid: _invalid,
    crud.NotFound: _plain(404),
    crud.Conflict: _plain(409),
    crud.PreconditionFailed: _plain(412),
    seeding.SeedError: _plain(422),
    TooManyFailures: _too_many,
    StarletteHTTPException: _unreadable_body,
    PoolTimeout: _pool_exhausted,
    OperationalError: _storage_fault,
    # PostgreSQL reports a read-only transaction (a hot standby) as an InternalError.
    InternalError: _storage_fault,
    Exception: _internal_error,
}


def install(app: FastAPI) -> None:
    for exception, handler in HANDLERS.items():
        app.add_exception_handler(exception, handler)
