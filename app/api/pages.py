"""Pages for people: every group, its meetings, subscribe links and the feed builder."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlmodel import Session

from app import crud
from app.api.deps import BaseUrlDep, FeedServiceDep, SessionDep, SettingsDep
from app.delivery import subscribers
from app.feeds.selection import ALL_CALENDAR_NAME
from app.feeds.service import FeedService
from app.models import GroupPublic, GroupStatus, Meeting, MeetingPublic, MeetingStatus
from app.readmodel import links
from app.readmodel.groups import GroupInfo
from app.readmodel.links import calendar_label, feed_url, webcal
from app.readmodel.public import group_public, meeting_public
from app.timezone import zones

router = APIRouter(tags=["pages"], include_in_schema=False)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
FAVICON = (Path(__file__).resolve().parent.parent / "static" / "favicon.ico").read_bytes()
# Autoescape everything: group names, scopes and notes come from the write API.
templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, trim_blocks=True)
)

# "To be kicked off" for to_be_kicked_off: the labels follow the enums, as the API's values do.
STATUS_LABELS = {s.value: links.status_label(s) for s in GroupStatus}
MEETING_STATUS_LABELS = {s.value: links.status_label(s) for s in MeetingStatus}
DASH = "\N{EN DASH}"
INDEX_NEXT = 2
INDEX_RECENT = 3


@dataclass(frozen=True)
class Subscribe:
    """Every way to subscribe to one feed, each an exact URL."""

    key: str
    name: str
    https: str

    @property
    def webcal(self) -> str:
        return webcal(self.https)

    @property
    def google(self) -> str:
        return "https://calendar.google.com/calendar/r?cid=" + quote(self.webcal, safe="")

    @property
    def outlook(self) -> str:
        return (
            "https://outlook.live.com/calendar/0/addfromweb?url="
            + quote(self.https, safe="")
            + "&name="
            + quote(self.name, safe="")
        )


@dataclass(frozen=True)
class MeetingView:
    public: MeetingPublic
    group_label: str
    group_slug: str
    geneva_text: str
    utc_text: str | None
    start_utc: str | None
    end_utc: str | None

    @property
    def cancelled(self) -> bool:
        return self.public.status == MeetingStatus.cancelled

    @property
    def badged(self) -> bool:
        """A status other than the usual one is shown as a badge beside the title."""
        return self.public.status != MeetingStatus.confirmed

    @property
    def title_names_group(self) -> bool:
        """Default titles already name the group: no need to say it twice."""
        return self.group_label.split(" (")[0] in self.public.title

    @property
    def status_label(self) -> str:
        return MEETING_STATUS_LABELS[self.public.status]


@dataclass
class GroupView:
    public: GroupPublic
    label: str
    subscribe: Subscribe
    parent: GroupPublic | None = None
    meetings: list[MeetingView] = field(default_factory=list)
    children: list[GroupView] = field(default_factory=list)
    today: dt.date = field(default_factory=lambda: dt.date.today())

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.public.status, self.public.status)

    @property
    def upcoming(self) -> list[MeetingView]:
        return [m for m in self.meetings if m.public.date >= self.today]

    @property
    def past(self) -> list[MeetingView]:
        return [m for m in self.meetings if m.public.date < self.today]

    @property
    def next_few(self) -> list[MeetingView]:
        return self.upcoming[:INDEX_NEXT]

    @property
    def past_few(self) -> list[MeetingView]:
        return self.past[-INDEX_RECENT:]


def _iso_utc(instant: dt.datetime | None) -> str | None:
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _human_day(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def meeting_view(meeting: Meeting, info: GroupInfo, base: str) -> MeetingView:
    public = meeting_public(meeting, info, base)
    label = calendar_label(info)
    if public.start_utc is None or public.end_utc is None:
        return MeetingView(
            public, label, info.slug, f"{_human_day(public.date)}, all day", None, None, None
        )
    start_utc = public.start_utc.replace(tzinfo=public.start_utc.tzinfo or dt.UTC)
    end_utc = public.end_utc.replace(tzinfo=public.end_utc.tzinfo or dt.UTC)
    # Shown in Geneva time even when written in another zone: the page speaks one zone.
    start = zones.local(start_utc)
    end = zones.local(end_utc)
    start_u, end_u = start_utc.astimezone(dt.UTC), end_utc.astimezone(dt.UTC)
    geneva_text = (
        f"{_human_day(start.date())}, {start:%H:%M}{DASH}{end:%H:%M} Geneva time ({start.tzname()})"
    )
    utc_day = "" if start_u.date() == start.date() else f" ({_human_day(start_u.date())})"
    utc_text = f"{start_u:%H:%M}{DASH}{end_u:%H:%M} UTC{utc_day}"
    return MeetingView(
        public,
        label,
        info.slug,
        geneva_text,
        utc_text,
        _iso_utc(start_utc),
        _iso_utc(end_utc),
    )


def _geneva_today() -> dt.date:
    return zones.local_date(dt.datetime.now(dt.UTC))


def _group_views(
    session: Session, service: FeedService, base: str
) -> tuple[list[GroupView], dict[str, GroupView]]:
    """Thematic groups (each holding its working groups, meetings sorted) and all by slug."""
    index = service.groups(session)
    today = _geneva_today()
    by_id: dict[int, GroupView] = {}
    for gid, info in index.items():
        label = calendar_label(info)
        url = feed_url(base, (info.slug,))
        by_id[gid] = GroupView(
            public=group_public(info, base),
            label=label,
            subscribe=Subscribe(info.slug, f"U4SSC: {label}", url),
            parent=group_public(index[info.parent.id], base)
            if info.parent is not None and info.parent.id is not None
            else None,
            today=today,
        )
    meetings, _ = crud.list_meetings(session, crud.MeetingQuery())
    for meeting in meetings:
        by_id[meeting.group_id].meetings.append(
            meeting_view(meeting, index[meeting.group_id], base)
        )
    roots: list[GroupView] = []
    for gid, info in index.items():
        if info.parent is None:
            roots.append(by_id[gid])
        elif info.parent.id is not None:
            by_id[info.parent.id].children.append(by_id[gid])
    return roots, {view.public.slug: view for view in by_id.values()}


def _all_subscribe(base: str) -> Subscribe:
    return Subscribe("all", ALL_CALENDAR_NAME, feed_url(base))


@router.get("/", response_class=HTMLResponse)
def read_index(
    request: Request,
    session: SessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
) -> HTMLResponse:
    roots, _ = _group_views(session, service, base)
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "base": base,
            "groups": roots,
            "everything": _all_subscribe(base),
            # The builder starts at "everything"; app.js rewrites it as boxes are ticked.
            "builder": Subscribe("builder", ALL_CALENDAR_NAME, feed_url(base)),
            # The invitations form only where invitations can be mailed.
            "invitations": subscribers.configured(settings),
        },
    )


@router.get("/groups/{slug}", response_class=HTMLResponse)
def read_group_page(
    slug: str,
    request: Request,
    session: SessionDep,
    service: FeedServiceDep,
    base: BaseUrlDep,
    settings: SettingsDep,
) -> HTMLResponse:
    _, by_slug = _group_views(session, service, base)
    view = by_slug.get(slug)
    if view is None:
        return templates.TemplateResponse(
            request, "not_found.html", {"base": base, "slug": slug}, status_code=404
        )
    meetings = sorted(
        [*view.meetings, *(m for child in view.children for m in child.meetings)],
        key=lambda m: (m.public.date, m.start_utc or ""),
    )
    return templates.TemplateResponse(
        request,
        "group.html",
        {
            "base": base,
            "group": view,
            "meetings": meetings,
            "today": view.today,
            "invitations": subscribers.configured(settings),
        },
    )


@router.get("/docs", response_class=HTMLResponse)
def read_docs(request: Request) -> HTMLResponse:
    """Swagger UI from the app's own files: it works offline and without inline script."""
    return templates.TemplateResponse(
        request,
        "docs.html",
        {"title": request.app.title, "openapi_url": request.app.openapi_url},
    )


@router.get("/favicon.ico")
def read_favicon() -> Response:
    """Browsers ask for it whatever the page says: answer rather than log a 404 each time."""
    headers = {"Cache-Control": "public, max-age=604800"}
    return Response(FAVICON, media_type="image/x-icon", headers=headers)
