"""Every error answer, in one place: how each exception becomes `{"detail": ...}` with its
status (validation 422, unknown 404, conflicts 409 and 412, throttles 429, storage faults and an
exhausted pool 503, a bug 500 with the security headers and no detail). A browser asking for a
page gets the same status as a page in the site's layout; the API and the feeds keep JSON."""

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
from app.api.templating import page_language, render
from app.auth.limits import TooManyFailures
from app.console import views
from app.core import validation
from app.core.words import N_
from app.edge.guard import SECURITY_HEADERS, UNREADABLE_BODY, storage_detail
from app.i18n import catalogs
from app.i18n.languages import UnknownLanguage
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


# What a person reads on an error page, by status: a title and what to do.
PAGES = {
    400: (N_("This request could not be read"), N_("Check the address and try again.")),
    401: (N_("Please sign in"), N_("This page is for the secretariat.")),
    403: (N_("Not allowed"), N_("This page is not open to you; go back and try again.")),
    404: (
        N_("Page not found"),
        N_(
            "There is nothing at this address: the link may be mistyped, or what it pointed "
            "to was removed."
        ),
    ),
    405: (
        N_("Not available this way"),
        N_("This address does not take that kind of request; open it as a link instead."),
    ),
    409: (N_("Already changed"), N_("Someone changed this at the same time; open it again.")),
    412: (
        N_("Changed since you opened it"),
        N_("Someone saved it after you opened it; open it again."),
    ),
    413: (N_("Too much was sent"), N_("Send less at once and try again.")),
    422: (
        N_("Some of what was sent could not be used"),
        N_("Go back, correct it and send it again."),
    ),
    429: (N_("Too many tries"), N_("Wait a little, then try again.")),
    500: (
        N_("Something went wrong on our side"),
        N_("It has been logged; please try again later."),
    ),
    503: (N_("The service is busy"), N_("Please try again in a minute.")),
}
OTHER = (N_("Error %(status)s"), N_("Go back and try again."))
# Answers for programs, whatever their Accept header says.
_NOT_PAGES = ("/api/", "/openapi.json", "/metrics", "/health")
_NOT_PAGE_ENDINGS = (".ics", ".atom", ".json")


def wants_page(request: Request) -> bool:
    """Whether a browser asked for a page (not the API, not a feed)."""
    path = request.url.path
    if path.startswith(_NOT_PAGES) or path.endswith(_NOT_PAGE_ENDINGS):
        return False
    return "text/html" in request.headers.get("accept", "")


def _lines(detail: object) -> list[tuple[str, str]]:
    """A detail as sentences for a person: the field and its message for validation errors."""
    if isinstance(detail, str):
        return [("", detail)]
    if isinstance(detail, list):
        lines = []
        for error in detail:
            if isinstance(error, dict):
                field = next((str(p) for p in reversed(error.get("loc", [])) if p), "")
                where = "" if field in ("", "body", "query") else field
                lines.append((where, str(error.get("msg", ""))))
        return lines
    return []


def _page(
    request: Request, status: int, detail: object, headers: dict[str, str] | None
) -> Response:
    lang = page_language(request)
    _ = catalogs.translator(lang)
    title, explanation = PAGES.get(status, OTHER)
    context = {
        "title": _(title) % {"status": status},
        "explanation": _(explanation),
        "details": [] if status >= 500 else _lines(detail),
        "labels": views.FIELD_LABELS,
        "status": status,
        "console": request.url.path.startswith("/admin"),
    }
    return render(request, lang, "error.html", context, status, headers)


def _answer(
    request: Request, status: int, detail: object, headers: dict[str, str] | None = None
) -> Response:
    if wants_page(request):
        return _page(request, status, detail, headers)
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return _answer(request, 422, clean_errors(exc.errors()))


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, crud.Invalid)
    where = "query" if request.method in ("GET", "HEAD") else "body"
    return _answer(
        request, 422, [{"loc": [where, exc.field], "msg": exc.message, "type": "value_error"}]
    )


async def _unknown_language(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UnknownLanguage)
    message = str(exc).removeprefix("lang: ")
    return _answer(
        request, 422, [{"loc": ["query", "lang"], "msg": message, "type": "value_error"}]
    )


async def _too_many(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TooManyFailures)
    return _answer(request, 429, str(exc), {"Retry-After": str(exc.retry_after)})


async def _storage_fault(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    detail = storage_detail(exc)
    if detail is None:
        raise exc
    log.warning("storage fault on %s %s: %s", request.method, request.url.path, exc.orig)
    return _answer(request, 503, detail, {"Retry-After": "30"})


async def _unreadable_body(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    # FastAPI answers a JSON body it cannot even decode (not UTF-8) with a bare 400; to a
    # client that is a malformed body like any other, so it gets the same 422.
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        unreadable = [{"loc": ["body"], "msg": UNREADABLE_BODY, "type": "json_invalid"}]
        return _answer(request, 422, unreadable)
    if exc.status_code >= 400 and wants_page(request):
        return _page(request, exc.status_code, exc.detail, dict(exc.headers or {}))
    return await http_exception_handler(request, exc)


async def _pool_exhausted(request: Request, exc: Exception) -> Response:
    log.warning("no database connection for %s %s: %s", request.method, request.url, exc)
    detail = "the service is busy: no database connection came free in time; try again"
    return _answer(request, 503, detail, {"Retry-After": "5"})


async def _internal_error(request: Request, exc: Exception) -> Response:
    # Answered by Starlette's outermost layer, outside GuardMiddleware: the security headers
    # are added here. The traceback goes to the log (uvicorn), not to the client.
    headers = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
    if wants_page(request):
        try:
            return _page(request, 500, None, headers)
        except Exception:  # the page itself failed: the plain answer still goes out
            log.exception("the error page could not be rendered")
    return PlainTextResponse("Internal Server Error", status_code=500, headers=headers)


def _plain(status: int) -> Any:
    async def handler(request: Request, exc: Exception) -> Response:
        return _answer(request, status, str(exc))

    return handler


HANDLERS: dict[type[Exception], Any] = {
    RequestValidationError: _validation,
    crud.Invalid: _invalid,
    UnknownLanguage: _unknown_language,
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
