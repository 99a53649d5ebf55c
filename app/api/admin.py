"""The secretariat's console under /admin: sign-in, sessions, CSRF and thin routes over console."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import accounts, console, crud, feeds, geneva
from app.api.deps import BaseUrlDep, FeedServiceDep, SettingsDep
from app.api.pages import MEETING_STATUS_LABELS, STATUS_LABELS, meeting_view, templates
from app.db import WriteSessionDep
from app.models import GroupStatus, MeetingStatus

router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)

SESSION_COOKIE = "u4ssc_console"
LOGIN_COOKIE = "u4ssc_login"
TIME_ZONES = (geneva.GENEVA, "UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _check_origin(request: Request, base: str) -> None:
    """A console POST must come from a page of this site: Origin (or, failing it, Referer)."""
    given = request.headers.get("origin") or request.headers.get("referer")
    if not given or given == "null":
        raise HTTPException(403, "a console form must be sent from this site (no Origin header)")
    if _origin(given) != _origin(base):
        raise HTTPException(403, f"a console form must be sent from {_origin(base)}")


async def _form(request: Request) -> dict[str, str]:
    data = await request.form()
    return {key: value for key, value in data.items() if isinstance(value, str)}


def _page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    context = {
        "status_labels": STATUS_LABELS,
        "meeting_status_labels": MEETING_STATUS_LABELS,
        "shown": console.shown,
        **context,
    }
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
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
        raise HTTPException(403, "sign in first: no valid console session")
    return who


SignedInDep = Annotated[accounts.SignedIn, Depends(_signed_in)]


async def _posted(request: Request, who: SignedInDep, base: BaseUrlDep) -> dict[str, str]:
    """The fields of a console form, once its Origin and its CSRF token have been checked."""
    _check_origin(request, base)
    form = await _form(request)
    if not accounts.csrf_matches(who.csrf_token, form.get("csrf_token")):
        raise HTTPException(403, "the form's CSRF token is missing or stale: reload the page")
    return form


PostedDep = Annotated[dict[str, str], Depends(_posted)]


def _secure(settings: SettingsDep) -> bool:
    return (settings.public_base_url or "").startswith("https://")


# --- signing in and out ------------------------------------------------------------------------


def _login_page(
    request: Request, secure: bool, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    token = accounts.new_form_token()
    response = _page(
        request, "admin/login.html", {"csrf_token": token, "error": error}, status_code
    )
    response.set_cookie(
        LOGIN_COOKIE, token, path="/admin/login", httponly=True, samesite="strict", secure=secure
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def read_login(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _login_page(request, _secure(settings))


@router.post("/login", response_class=HTMLResponse)
async def sign_in(
    request: Request, session: WriteSessionDep, settings: SettingsDep, base: BaseUrlDep
) -> Response:
    _check_origin(request, base)
    form = await _form(request)
    expected = request.cookies.get(LOGIN_COOKIE)
    if not expected or not accounts.csrf_matches(expected, form.get("csrf_token")):
        raise HTTPException(403, "the sign-in form's CSRF token is missing or stale: reload it")
    name, address = form.get("username", "").strip(), _client(request)
    throttle: accounts.SignInThrottle = request.app.state.sign_in_throttle
    try:
        throttle.check(name, address)
    except accounts.Throttled as exc:
        refused = _login_page(request, _secure(settings), str(exc), 429)
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    user = accounts.check_password(session, name, form.get("password", ""))
    if user is None:
        throttle.failed(name, address)
        return _login_page(request, _secure(settings), "Wrong username or password.", 400)
    throttle.succeeded(name, address)
    secret = accounts.start_session(session, user)
    response = RedirectResponse("/admin", status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=_secure(settings),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/admin/login")
    return response


@router.post("/logout")
def sign_out(who: SignedInDep, _: PostedDep, session: WriteSessionDep) -> Response:
    accounts.end_session(session, who)
    response = RedirectResponse("/admin/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/admin")
    return response


# --- pages -------------------------------------------------------------------------------------


def _today() -> dt.date:
    return geneva.local_date(dt.datetime.now(dt.UTC))


@router.get("", response_class=HTMLResponse)
def read_dashboard(
    request: Request,
    who: SignedInDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
) -> HTMLResponse:
    index = service.groups(session)
    upcoming, _ = crud.list_meetings(session, crud.MeetingQuery(start=_today()), limit=15)
    return _page(
        request,
        "admin/dashboard.html",
        {
            "who": who,
            "upcoming": [meeting_view(m, index[m.group_id], base) for m in upcoming],
            "changes": console.recent_changes(session, limit=10),
            "concerns": console.groups_to_look_at(session, _today()),
        },
    )


def _meeting_page(
    request: Request,
    who: accounts.SignedIn,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: str,
    uid: str | None,
    form: dict[str, str],
    outcome: console.Outcome | None = None,
) -> HTMLResponse:
    index = service.groups(session)
    context: dict[str, Any] = {
        "who": who,
        "uid": uid,
        "form": form,
        "errors": outcome.errors if outcome else {},
        "conflict": outcome.conflict if outcome else [],
        "groups": list(index.values()),
        "zones": TIME_ZONES,
        "statuses": [s.value for s in MeetingStatus],
    }
    if uid is not None:
        meeting = crud.get_meeting(session, uid)
        info = index[meeting.group_id]
        context["version"] = outcome.current_version if outcome and outcome.conflict else None
        context["version"] = context["version"] or int(form.get("version") or meeting.version)
        context["opened"] = (
            outcome.current_snapshot
            if outcome and outcome.conflict
            else form.get("opened")
            or console.snapshot_text(crud.meeting_snapshot(session, meeting))
        )
        context["preview"] = meeting_view(meeting, info, base)
        context["summary"] = feeds.meeting_summary(meeting, info)
        context["last_change"] = console.last_change_of(session, uid)
    code = 200
    if outcome and outcome.errors:
        code = 422
    elif outcome and outcome.conflict:
        code = 409
    return _page(request, "admin/meeting.html", context, code)


@router.get("/meetings/new", response_class=HTMLResponse)
def read_new_meeting(
    request: Request,
    who: SignedInDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    group: str = "",
) -> HTMLResponse:
    form = console.empty_meeting_form(group[:80])
    return _meeting_page(request, who, session, service, base, None, form)


@router.post("/meetings/new", response_class=HTMLResponse)
def create_meeting(
    request: Request,
    who: SignedInDep,
    form: PostedDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
) -> Response:
    outcome = console.create_meeting(session, form, who.name)
    if outcome.saved:
        return RedirectResponse(f"/admin/meetings/{outcome.key}?saved=1", status_code=303)
    return _meeting_page(request, who, session, service, base, None, form, outcome)


@router.get("/meetings/{uid}", response_class=HTMLResponse)
def read_meeting(
    uid: str,
    request: Request,
    who: SignedInDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
) -> HTMLResponse:
    meeting = crud.get_meeting(session, uid)
    form = console.meeting_form(crud.meeting_snapshot(session, meeting))
    form["version"] = str(meeting.version)
    return _meeting_page(request, who, session, service, base, uid, form)


@router.post("/meetings/{uid}", response_class=HTMLResponse)
def update_meeting(
    uid: str,
    request: Request,
    who: SignedInDep,
    form: PostedDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
) -> Response:
    outcome = console.update_meeting(session, uid, form, who.name)
    if outcome.saved:
        return RedirectResponse(f"/admin/meetings/{uid}?saved=1", status_code=303)
    return _meeting_page(request, who, session, service, base, uid, form, outcome)


@router.get("/meetings/{uid}/cancel", response_class=HTMLResponse)
def read_cancel(
    uid: str,
    request: Request,
    who: SignedInDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
) -> HTMLResponse:
    meeting = crud.get_meeting(session, uid)
    info = service.groups(session)[meeting.group_id]
    context = {
        "who": who,
        "uid": uid,
        "preview": meeting_view(meeting, info, base),
        "version": meeting.version,
        "opened": console.snapshot_text(crud.meeting_snapshot(session, meeting)),
    }
    return _page(request, "admin/cancel.html", context)


@router.post("/meetings/{uid}/cancel", response_class=HTMLResponse)
def cancel_meeting(
    uid: str,
    request: Request,
    who: SignedInDep,
    form: PostedDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
) -> Response:
    outcome = console.cancel_meeting(session, uid, form, who.name)
    if outcome.saved:
        return RedirectResponse(f"/admin/meetings/{uid}?saved=1", status_code=303)
    meeting = crud.get_meeting(session, uid)
    form = console.meeting_form(crud.meeting_snapshot(session, meeting))
    return _meeting_page(request, who, session, service, base, uid, form, outcome)


def _group_page(
    request: Request,
    who: accounts.SignedIn,
    session: WriteSessionDep,
    slug: str,
    form: dict[str, str],
    outcome: console.Outcome | None = None,
) -> HTMLResponse:
    group = crud.get_group(session, slug)
    conflict = bool(outcome and outcome.conflict)
    context = {
        "who": who,
        "group": group,
        "form": form,
        "errors": outcome.errors if outcome else {},
        "conflict": outcome.conflict if outcome else [],
        "statuses": [s.value for s in GroupStatus],
        "version": outcome.current_version if outcome and conflict else form["version"],
        "opened": outcome.current_snapshot if outcome and conflict else form["opened"],
    }
    code = 422 if outcome and outcome.errors else 409 if conflict else 200
    return _page(request, "admin/group.html", context, code)


@router.get("/groups/{slug}", response_class=HTMLResponse)
def read_group(
    slug: str, request: Request, who: SignedInDep, session: WriteSessionDep
) -> HTMLResponse:
    group = crud.get_group(session, slug)
    snapshot = crud.group_snapshot(session, group)
    form = console.group_form(snapshot)
    form["version"], form["opened"] = str(group.version), console.snapshot_text(snapshot)
    return _group_page(request, who, session, slug, form)


@router.post("/groups/{slug}", response_class=HTMLResponse)
def update_group(
    slug: str, request: Request, who: SignedInDep, form: PostedDep, session: WriteSessionDep
) -> Response:
    outcome = console.update_group(session, slug, form, who.name)
    if outcome.saved:
        return RedirectResponse(f"/admin/groups/{slug}?saved=1", status_code=303)
    form.setdefault("version", "0")
    form.setdefault("opened", "{}")
    return _group_page(request, who, session, slug, form, outcome)


@router.get("/changes", response_class=HTMLResponse)
def read_changes(
    request: Request,
    who: SignedInDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    group: str = "",
) -> HTMLResponse:
    index = service.groups(session)
    chosen = group if any(info.slug == group for info in index.values()) else None
    context = {
        "who": who,
        "changes": console.recent_changes(session, chosen, limit=200),
        "groups": list(index.values()),
        "chosen": chosen,
    }
    return _page(request, "admin/changes.html", context)
