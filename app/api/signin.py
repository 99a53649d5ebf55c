"""Signing in and out of the console, and what every console route depends on: the session,
its CSRF token and the Origin check."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.deps import BaseUrlDep, EngineDep, SettingsDep, WriteSessionDep
from app.api.templating import page_language, render
from app.auth import accounts
from app.auth.throttle import Busy, PasswordChecks, SignInThrottle, Throttled
from app.console import translations, views
from app.core.db import write_session
from app.core.words import N_
from app.i18n import catalogs, languages, said
from app.models import GroupStatus, MeetingStatus
from app.readmodel.links import status_words

router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)

SESSION_COOKIE = "u4ssc_console"
LOGIN_COOKIE = "u4ssc_login"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _check_origin(request: Request, base: str) -> None:
    """A console POST must come from a page of this site: Origin (or, failing it, Referer)."""
    given = request.headers.get("origin") or request.headers.get("referer")
    if not given or given == "null":
        raise HTTPException(
            403, N_("a console form must be sent from this site (no Origin header)")
        )
    if _origin(given) != _origin(base):
        raise HTTPException(
            403, N_("a console form must be sent from %(origin)s") % {"origin": _origin(base)}
        )


# A console form has a few dozen fields, none longer than a description: anything beyond is
# refused before any field is used (the body itself is capped by MAX_BODY_BYTES).
MAX_FIELDS = 60
MAX_FIELD_CHARS = 20_000


async def _form(request: Request) -> dict[str, str]:
    try:
        data = await request.form(max_files=0, max_fields=MAX_FIELDS)
    except StarletteHTTPException as exc:  # Starlette's refusal of too many fields or a file
        raise HTTPException(422, f"the form is not a console form: {exc.detail}") from None
    fields = {key: value for key, value in data.items() if isinstance(value, str)}
    for key, value in fields.items():
        if len(value) > MAX_FIELD_CHARS:
            raise HTTPException(
                422,
                N_("the form's field %(field)s is longer than %(most)s characters")
                % {"field": repr(key[:40]), "most": MAX_FIELD_CHARS},
            )
    return fields


def _labels(lang: str) -> dict[str, str]:
    """Each field as the console names it in `lang`; a text per language with its language."""
    _ = catalogs.translator(lang)
    labels = {name: _(label) for name, label in views.FIELD_LABELS.items()}
    texts = translations.labelled(labels, languages.NAMES, _("%(field)s (%(language)s)"))
    return {**labels, **texts}


def console_page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A console page in the reader's language, never kept by a cache."""
    lang = page_language(request)
    _ = catalogs.translator(lang)
    context = {
        "status_labels": {s.value: status_words(s, lang) for s in GroupStatus},
        "meeting_status_labels": {s.value: status_words(s, lang) for s in MeetingStatus},
        "shown": lambda value, name=None: views.shown(value, name, lang),
        "labels": _labels(lang),
        **context,
    }
    response = render(request, lang, name, context, status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in(
    request: Request, session: WriteSessionDep, settings: SettingsDep
) -> accounts.SignedIn:
    who = accounts.resume_session(
        session, request.cookies.get(SESSION_COOKIE), settings.session_idle
    )
    if who is None:
        if request.method in ("GET", "HEAD"):
            raise HTTPException(303, "sign in first", headers={"Location": "/admin/login"})
        raise HTTPException(403, N_("sign in first: no valid console session"))
    return who


SignedInDep = Annotated[accounts.SignedIn, Depends(_signed_in)]


async def _posted(request: Request, who: SignedInDep, base: BaseUrlDep) -> dict[str, str]:
    """The fields of a console form, once its Origin and its CSRF token have been checked."""
    _check_origin(request, base)
    form = await _form(request)
    if not accounts.csrf_matches(who.csrf_token, form.get("csrf_token")):
        raise HTTPException(403, N_("the form's CSRF token is missing or stale: reload the page"))
    return form


PostedDep = Annotated[dict[str, str], Depends(_posted)]


def _secure(request: Request, settings: SettingsDep) -> bool:
    """Cookies only over https: the request's scheme (a trusted proxy's X-Forwarded-Proto
    counts, FORWARDED_ALLOW_IPS) or the public base URL's."""
    return request.url.scheme == "https" or (settings.public_base_url or "").startswith("https://")


# --- signing in and out ------------------------------------------------------------------------


def _login_page(
    request: Request, secure: bool, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    token = accounts.new_form_token()
    response = console_page(
        request, "admin/login.html", {"csrf_token": token, "error": error}, status_code
    )
    response.set_cookie(
        LOGIN_COOKIE, token, path="/admin/login", httponly=True, samesite="strict", secure=secure
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def read_login(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _login_page(request, _secure(request, settings))


async def _sign_in_form(request: Request, base: BaseUrlDep) -> dict[str, str]:
    """The sign-in form, once its Origin and its token (matching the login cookie) are checked."""
    _check_origin(request, base)
    form = await _form(request)
    expected = request.cookies.get(LOGIN_COOKIE)
    if not expected or not accounts.csrf_matches(expected, form.get("csrf_token")):
        raise HTTPException(403, N_("the sign-in form's CSRF token is missing or stale: reload it"))
    return form


def _refused(
    request: Request, secure: bool, message: str, status_code: int, retry_after: int
) -> Response:
    refused = _login_page(request, secure, message, status_code)
    refused.headers["Retry-After"] = str(retry_after)
    return refused


@router.post("/login", response_class=HTMLResponse)
def sign_in(
    request: Request,
    form: Annotated[dict[str, str], Depends(_sign_in_form)],
    engine: EngineDep,
    settings: SettingsDep,
) -> Response:
    # A plain def: checking a password takes a while, and must not hold up the event loop. No
    # session is open while it runs: the account is read first, the session written after.
    name, password, address = (
        form.get("username", "").strip(),
        form.get("password", ""),
        _client(request),
    )
    secure = _secure(request, settings)
    _ = catalogs.translator(page_language(request))
    wrong = _("Wrong username or password.")
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    try:
        throttle.begin(name, address)  # counted as a failure now, before any work
    except Throttled as exc:
        wait = said.wait_text(max(60, exc.retry_after), page_language(request))
        message = _("Too many failed sign-ins. Try again in %(wait)s.") % {"wait": wait}
        return _refused(request, secure, message, 429, exc.retry_after)
    if len(name) > accounts.MAX_NAME or len(password) > accounts.MAX_PASSWORD:
        return _login_page(request, secure, wrong, 400)  # cannot exist: no lookup, no hash
    with Session(engine) as session:
        user = accounts.find_user(session, name)
        if user is not None:
            session.expunge(user)
    checks: PasswordChecks = request.app.state.password_checks
    try:
        matches = checks.run(lambda: accounts.password_matches(user, password))
    except Busy as exc:
        throttle.abandoned(name, address)
        busy = _("The server is busy checking other sign-ins. Try again in a moment.")
        return _refused(request, secure, busy, 503, exc.retry_after)
    if not matches or user is None:
        return _login_page(request, secure, wrong, 400)
    throttle.succeeded(name, address)
    with write_session(engine) as session:
        user = session.merge(user)
        accounts.rehash_if_needed(session, user, password)
        secret = accounts.start_session(session, user, settings.session_idle)
    response = RedirectResponse("/admin", status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE, secret, path="/admin", httponly=True, samesite="strict", secure=secure
    )
    response.delete_cookie(
        LOGIN_COOKIE, path="/admin/login", httponly=True, samesite="strict", secure=secure
    )
    return response


@router.post("/logout")
def sign_out(
    request: Request,
    who: SignedInDep,
    _: PostedDep,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> Response:
    accounts.end_session(session, who)
    response = RedirectResponse("/admin/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=_secure(request, settings),
    )
    return response
