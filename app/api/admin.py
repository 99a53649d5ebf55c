"""The console's pages under /admin: dashboard, meeting and group forms, the audit trail;
thin routes over app.console.forms."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import crud
from app.api.deps import BaseUrlDep, FeedServiceDep, SettingsDep, WriteSessionDep
from app.api.signin import PostedDep, SignedInDep, console_page
from app.api.templating import PageLanguage, page_language
from app.auth import accounts
from app.console import forms, views
from app.core.config import Settings
from app.delivery import mailer
from app.ical import wording
from app.models import GroupStatus, MeetingStatus
from app.readmodel.pages import meeting_view
from app.timezone import zones

router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)

TIME_ZONES = (zones.GENEVA, "UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo")


# --- pages -------------------------------------------------------------------------------------


def _today() -> dt.date:
    return zones.local_date(dt.datetime.now(dt.UTC))


@router.get("", response_class=HTMLResponse)
def read_dashboard(
    request: Request,
    lang: PageLanguage,
    who: SignedInDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
) -> HTMLResponse:
    index = service.groups(session)
    upcoming, _ = crud.list_meetings(session, crud.MeetingQuery(start=_today()), limit=15)
    return console_page(
        request,
        "admin/dashboard.html",
        {
            "who": who,
            "upcoming": [meeting_view(m, index[m.group_id], base, lang) for m in upcoming],
            "changes": views.recent_changes(session, limit=10, lang=lang)[0],
            "concerns": views.groups_to_look_at(session, _today()),
            "delivery": views.delivery(session),
        },
    )


def _announcing(settings: Settings) -> dict[str, Any]:
    """What the "Announce to the mailing list" box needs: whether it can be offered, and where."""
    return {"can_announce": mailer.configured(settings), "announce_to": settings.announce_to}


def _meeting_page(
    request: Request,
    who: accounts.SignedIn,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: str,
    settings: Settings,
    uid: str | None,
    form: dict[str, str],
    outcome: forms.Outcome | None = None,
) -> HTMLResponse:
    index = service.groups(session)
    context: dict[str, Any] = {
        "who": who,
        **_announcing(settings),
        "uid": uid,
        "form": form,
        "errors": outcome.errors if outcome else {},
        "conflict": outcome.conflict if outcome else [],
        "twin": outcome.twin if outcome else None,
        "groups": list(index.values()),
        "zones": TIME_ZONES,
        "statuses": [s.value for s in MeetingStatus],
    }
    if uid is not None:
        meeting = crud.get_meeting(session, uid)
        info = index[meeting.group_id]
        context["version"] = (
            outcome.current_version
            if outcome and outcome.conflict
            else forms.form_version(form) or meeting.version
        )
        context["opened"] = (
            outcome.current_snapshot
            if outcome and outcome.conflict
            else form.get("opened") or forms.snapshot_text(crud.meeting_snapshot(session, meeting))
        )
        context["preview"] = meeting_view(meeting, info, base, page_language(request))
        context["summary"] = wording.meeting_summary(meeting, info)
        context["last_change"] = views.last_change_of(session, uid)
    code = 200
    if outcome and outcome.errors:
        code = 422
    elif outcome and (outcome.conflict or outcome.twin):
        code = 409
    return console_page(request, "admin/meeting.html", context, code)


@router.get("/meetings/new", response_class=HTMLResponse)
def read_new_meeting(
    request: Request,
    who: SignedInDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
    group: str = "",
) -> HTMLResponse:
    form = forms.empty_meeting_form(group[:80])
    return _meeting_page(request, who, session, service, base, settings, None, form)


@router.post("/meetings/new", response_class=HTMLResponse)
def create_meeting(
    request: Request,
    who: SignedInDep,
    form: PostedDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
) -> Response:
    outcome = forms.create_meeting(session, form, who.name, settings, base)
    if outcome.saved:
        return RedirectResponse(f"/admin/meetings/{outcome.key}?saved=1", status_code=303)
    return _meeting_page(request, who, session, service, base, settings, None, form, outcome)


@router.get("/meetings/{uid}", response_class=HTMLResponse)
def read_meeting(
    uid: str,
    request: Request,
    who: SignedInDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
) -> HTMLResponse:
    meeting = crud.get_meeting(session, uid)
    form = forms.meeting_form(crud.meeting_snapshot(session, meeting))
    form["version"] = str(meeting.version)
    return _meeting_page(request, who, session, service, base, settings, uid, form)


@router.post("/meetings/{uid}", response_class=HTMLResponse)
def update_meeting(
    uid: str,
    request: Request,
    who: SignedInDep,
    form: PostedDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
) -> Response:
    outcome = forms.update_meeting(session, uid, form, who.name, settings, base)
    if outcome.saved:
        return RedirectResponse(f"/admin/meetings/{uid}?saved=1", status_code=303)
    return _meeting_page(request, who, session, service, base, settings, uid, form, outcome)


@router.get("/meetings/{uid}/cancel", response_class=HTMLResponse)
def read_cancel(
    uid: str,
    request: Request,
    who: SignedInDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
) -> HTMLResponse:
    meeting = crud.get_meeting(session, uid)
    info = service.groups(session)[meeting.group_id]
    context = {
        "who": who,
        **_announcing(settings),
        "form": {},
        "uid": uid,
        "preview": meeting_view(meeting, info, base, page_language(request)),
        "version": meeting.version,
        "opened": forms.snapshot_text(crud.meeting_snapshot(session, meeting)),
    }
    return console_page(request, "admin/cancel.html", context)


@router.post("/meetings/{uid}/cancel", response_class=HTMLResponse)
def cancel_meeting(
    uid: str,
    request: Request,
    who: SignedInDep,
    form: PostedDep,
    session: WriteSessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
) -> Response:
    outcome = forms.cancel_meeting(session, uid, form, who.name, settings, base)
    if outcome.saved:
        return RedirectResponse(f"/admin/meetings/{uid}?saved=1", status_code=303)
    ticked = forms.wants_announcement(form)
    meeting = crud.get_meeting(session, uid)
    form = forms.meeting_form(crud.meeting_snapshot(session, meeting))
    if ticked:  # kept, like everything else the secretariat chose
        form["announce"] = "on"
    return _meeting_page(request, who, session, service, base, settings, uid, form, outcome)


def _group_page(
    request: Request,
    who: accounts.SignedIn,
    session: WriteSessionDep,
    slug: str,
    form: dict[str, str],
    outcome: forms.Outcome | None = None,
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
    return console_page(request, "admin/group.html", context, code)


@router.get("/groups", response_class=HTMLResponse)
def read_groups(
    request: Request, who: SignedInDep, session: WriteSessionDep, service: FeedServiceDep
) -> HTMLResponse:
    context = {"who": who, "groups": list(service.groups(session).values())}
    return console_page(request, "admin/groups.html", context)


@router.get("/groups/{slug}", response_class=HTMLResponse)
def read_group(
    slug: str, request: Request, who: SignedInDep, session: WriteSessionDep
) -> HTMLResponse:
    group = crud.get_group(session, slug)
    snapshot = crud.group_snapshot(session, group)
    form = forms.group_form(snapshot)
    form["version"], form["opened"] = str(group.version), forms.snapshot_text(snapshot)
    return _group_page(request, who, session, slug, form)


@router.post("/groups/{slug}", response_class=HTMLResponse)
def update_group(
    slug: str,
    request: Request,
    who: SignedInDep,
    form: PostedDep,
    session: WriteSessionDep,
    base: BaseUrlDep,
    settings: SettingsDep,
) -> Response:
    outcome = forms.update_group(session, slug, form, who.name, settings, base)
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
    group: Annotated[str, Query(max_length=80)] = "",
    key: Annotated[str, Query(max_length=120)] = "",
    actor: Annotated[str, Query(max_length=80)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    index = service.groups(session)
    chosen = group if any(info.slug == group for info in index.values()) else None
    wanted = views.AuditFilter(chosen, key.strip() or None, actor.strip() or None, page)
    changes, total = views.recent_changes(session, wanted, lang=page_language(request))
    pages = max(1, -(-total // views.AUDIT_PAGE))
    context = {
        "who": who,
        "changes": changes,
        "total": total,
        "page": min(page, pages),
        "pages": pages,
        "groups": list(index.values()),
        "actors": views.actors(session),
        "chosen": chosen,
        "wanted": wanted,
    }
    return console_page(request, "admin/changes.html", context)
