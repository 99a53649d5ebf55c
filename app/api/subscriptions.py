"""Invitations by email: subscribing (JSON and the pages' form), the confirmation page whose
button consents, the manage page and RFC 8058 one-click unsubscribe; thin routes over
app.delivery.subscribers.

A GET never changes anything (mail scanners follow links): the confirmation and unsubscribe
links open a page whose button POSTs. Every answer to a subscribe request is the same whatever
the address's state, so nobody learns who is subscribed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlmodel import Session

from app import crud
from app.api.deps import BaseUrlDep, SessionDep, SettingsDep, WriteSessionDep
from app.api.templating import page_language, render
from app.console.views import FIELD_LABELS
from app.core import validation
from app.core.config import Settings
from app.delivery import subscribers
from app.models import LANGUAGES, Subscriber, SubscriptionAccepted, SubscriptionCreate
from app.readmodel.groups import group_index

router = APIRouter(tags=["subscriptions"])

UNAVAILABLE = "this server cannot send mail (no SMTP_URL): subscribing by email is off"
Token = Annotated[str, Query(max_length=200)]
FormToken = Annotated[str, Form(max_length=200)]


def _available(settings: Settings) -> None:
    if not subscribers.configured(settings):
        raise HTTPException(503, detail=UNAVAILABLE)


def _limit(request: Request) -> None:
    client = request.client.host if request.client else "unknown"
    request.app.state.subscribe_limiter.take(client)


def _mailing(settings: Settings, base: str) -> subscribers.Mailing:
    return subscribers.Mailing(settings, base)


@router.post(
    "/api/subscriptions",
    status_code=202,
    response_model=SubscriptionAccepted,
    responses={
        422: {"description": "Not an address, an unknown group, no group, a line break"},
        429: {"description": "Too many subscribe requests from this client; see Retry-After"},
        503: {"description": "This server sends no mail (no SMTP_URL)"},
    },
)
def create_subscription(
    body: SubscriptionCreate,
    request: Request,
    session: WriteSessionDep,
    settings: SettingsDep,
    base: BaseUrlDep,
) -> SubscriptionAccepted:
    """Ask for invitations to the meetings of `groups` (a thematic group brings its working
    groups). A confirmation mail is sent; nothing else until it is confirmed. 202 with what
    was asked, whatever the address's state."""
    _available(settings)
    _limit(request)
    subscribers.subscribe(session, _mailing(settings, base), body)
    return SubscriptionAccepted(email=body.email, groups=body.groups, language=body.language)


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A subscription page in the reader's language (the invitations' own language is the
    subscriber's choice, kept with the address)."""
    context = {"labels": FIELD_LABELS, **context}
    lang = page_language(request)
    return render(request, lang, f"subscriptions/{name}.html", context, status)


def _choices(session: Session) -> list[tuple[str, str, bool]]:
    """Every group for the forms: slug, label, whether it is a working group."""
    return [
        (info.slug, info.label, info.parent is not None) for info in group_index(session).values()
    ]


@router.post("/subscriptions", response_class=HTMLResponse, include_in_schema=False)
def subscribe_from_page(
    request: Request,
    session: WriteSessionDep,
    settings: SettingsDep,
    base: BaseUrlDep,
    email: Annotated[str, Form(max_length=300)] = "",
    groups: Annotated[list[str], Form(max_length=200)] = [],  # noqa: B006
    language: Annotated[str, Form(max_length=10)] = "en",
) -> HTMLResponse:
    """The pages' form: the same as the JSON endpoint, answered with a page."""
    _available(settings)
    try:
        body = SubscriptionCreate(email=email, groups=groups, language=language)
        _limit(request)
        subscribers.subscribe(session, _mailing(settings, base), body)
    except (ValidationError, crud.Invalid) as exc:
        problem = (exc.field, exc.message) if isinstance(exc, crud.Invalid) else _first_problem(exc)
        session.rollback()
        return _page(request, "asked", 422, problem=problem)
    return _page(request, "asked", 202, problem=None)


def _first_problem(exc: ValidationError) -> tuple[str, str]:
    """The first refusal: the field (the form's name for it) and why, in plain words."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ()))
    return where, validation.message(error, "not valid")


@router.get("/subscriptions/confirm", response_class=HTMLResponse, include_in_schema=False)
def read_confirm(request: Request, session: SessionDep, token: Token = "") -> HTMLResponse:
    """The confirmation link: a page with a button; opening it confirms nothing."""
    found = subscribers.pending_confirmation(session, token)
    if found is None:
        return _page(request, "expired", 404)
    return _page(request, "confirm", token=token)


@router.post("/subscriptions/confirm", response_class=HTMLResponse, include_in_schema=False)
def confirm(
    request: Request,
    session: WriteSessionDep,
    settings: SettingsDep,
    base: BaseUrlDep,
    token: FormToken = "",
) -> HTMLResponse:
    _available(settings)
    found = subscribers.confirm(session, _mailing(settings, base), token)
    if found is None:
        return _page(request, "expired", 404)
    return _page(request, "confirmed", manage=found.manage_token)


@router.get("/subscriptions/manage", response_class=HTMLResponse, include_in_schema=False)
def read_manage(request: Request, session: SessionDep, token: Token = "") -> HTMLResponse:
    found = subscribers.by_manage_token(session, token)
    if found is None or found.id is None:
        return _page(request, "expired", 404)
    index = group_index(session)
    followed = {index[gid].slug for gid in subscribers.group_ids(session, found.id)}
    return _manage_page(request, session, token, found, followed, saved=False)


def _manage_page(
    request: Request,
    session: Session,
    token: str,
    found: Subscriber,
    followed: set[str],
    saved: bool,
) -> HTMLResponse:
    """The manage page: the subscriber's groups ticked, the language chosen."""
    return _page(
        request,
        "manage",
        token=token,
        email=found.email,
        choices=_choices(session),
        followed=followed,
        language=found.language,
        mail_languages=LANGUAGES,
        saved=saved,
    )


@router.post("/subscriptions/manage", response_class=HTMLResponse, include_in_schema=False)
def manage(
    request: Request,
    session: WriteSessionDep,
    settings: SettingsDep,
    base: BaseUrlDep,
    token: FormToken = "",
    groups: Annotated[list[str], Form(max_length=200)] = [],  # noqa: B006
    language: Annotated[str, Form(max_length=10)] = "en",
    action: Annotated[str, Form(max_length=10)] = "save",
) -> HTMLResponse:
    """Change the groups and language, or leave (`action=leave`, or no group left)."""
    found = subscribers.by_manage_token(session, token)
    if found is None:
        return _page(request, "expired", 404)
    index = group_index(session)
    ids = {info.slug: gid for gid, info in index.items()}
    wanted = {ids[slug] for slug in groups if slug in ids}
    if action == "leave" or not wanted:
        subscribers.leave(session, found)
        return _page(request, "left")
    if language in LANGUAGES:
        found.language = language
    session.add(found)
    subscribers.set_groups(session, _mailing(settings, base), found, wanted, index)
    followed = {index[gid].slug for gid in wanted}
    return _manage_page(request, session, token, found, followed, saved=True)


@router.get("/subscriptions/unsubscribe", response_class=HTMLResponse, include_in_schema=False)
def read_unsubscribe(request: Request, session: SessionDep, token: Token = "") -> HTMLResponse:
    """The List-Unsubscribe link opened in a browser: a page whose button unsubscribes."""
    if subscribers.by_manage_token(session, token) is None:
        return _page(request, "expired", 404)
    return _page(request, "unsubscribe", token=token)


@router.post("/subscriptions/unsubscribe", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe(request: Request, session: WriteSessionDep, token: Token = "") -> HTMLResponse:
    """RFC 8058 one-click: a POST of `List-Unsubscribe=One-Click` to the link unsubscribes at
    once (the page's button posts the same). An unknown token leaves: nothing to tell."""
    found = subscribers.by_manage_token(session, token)
    if found is not None:
        subscribers.leave(session, found)
    return _page(request, "left")
