"""Turning a write's audit records into outbox messages, in the write's transaction.

A write that should reach people is done in a session given a context with `attach` (the API's
write routes, the console and the command line do). `crud.finish` hands each write's audit
records (`Change`) to `_write_messages` (registered with `crud.on_write`): each becomes webhook
calls, one fan-out of invitations to the meeting's subscribers (app.delivery.fanout) and, when
the write asked for an announcement, a mail, added to the same transaction. A
rollback drops them with the change, so an aborted write sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app import crud
from app.core.config import Settings
from app.core.words import N_
from app.delivery import announce, fanout, mailer, outbox, webhooks
from app.ical import wording
from app.models import Change, Meeting, Webhook
from app.readmodel.groups import GroupInfo, group_index
from app.readmodel.public import group_public, meeting_public

_CONTEXT = "u4ssc.notify.context"


@dataclass(frozen=True)
class Context:
    settings: Settings
    base_url: str
    announce: bool = False

    @property
    def feed(self) -> wording.FeedContext:
        # The same context the feed routes render with, in the list's language
        # (ANNOUNCE_LANGUAGE): the same event text as that language's feed.
        return wording.FeedContext.of(self.settings, self.base_url, self.settings.announce_language)


class AnnounceUnavailable(crud.Invalid):
    """An announcement was asked for, but no SMTP server or list address is configured."""

    def __init__(self) -> None:
        super().__init__(
            "announce", N_("this server cannot send announcements: set SMTP_URL and ANNOUNCE_TO")
        )


def attach(session: Session, settings: Settings, base_url: str, announce: bool = False) -> None:
    """Make this session's writes reach webhooks and, with `announce`, the mailing list."""
    if announce and not mailer.configured(settings):
        raise AnnounceUnavailable()
    session.info[_CONTEXT] = Context(settings, base_url, announce)


def default_base_url(settings: Settings) -> str:
    """Links in messages written outside a request (the command line)."""
    return settings.public_base_url or f"http://127.0.0.1:{settings.port}"


@crud.on_write
def _write_messages(session: Session, changes: list[Change]) -> None:
    context: Context | None = session.info.get(_CONTEXT)
    if context is None or not changes:
        return
    index = group_index(session)
    by_slug = {info.slug: info for info in index.values()}
    # The meetings the write holds: no second read of what it just wrote.
    written = {o.uid: o for o in session.identity_map.values() if isinstance(o, Meeting)}
    hooks = list(session.exec(select(Webhook).where(col(Webhook.disabled).is_(False))).all())
    policy = outbox.Policy.from_settings(context.settings)
    for change in changes:
        if change.entity == "meeting":
            meeting = written.get(change.key)
            if meeting is not None:  # None: purged, nothing left to tell
                _meeting_messages(session, context, change, meeting, index, hooks, policy)
        elif change.entity == "group" and change.key in by_slug:
            info = by_slug[change.key]
            kind = webhooks.GROUP_CREATED if change.action == "create" else webhooks.GROUP_UPDATED
            data = group_public(info, context.base_url).model_dump(mode="json")
            _webhook_calls(session, hooks, {info.slug, *_parent(info)}, kind, change, data, policy)


def _parent(info: GroupInfo) -> list[str]:
    return [info.parent.slug] if info.parent is not None else []


def meeting_kind(change: Change) -> str:
    return announce.kind_of(change.action, change.before, change.after)


_WEBHOOK_EVENTS = {
    announce.CREATED: webhooks.MEETING_CREATED,
    announce.CANCELLED: webhooks.MEETING_CANCELLED,
    announce.RESCHEDULED: webhooks.MEETING_UPDATED,
    announce.UPDATED: webhooks.MEETING_UPDATED,
}


def _meeting_messages(
    session: Session,
    context: Context,
    change: Change,
    meeting: Meeting,
    index: dict[int, GroupInfo],
    hooks: list[Webhook],
    policy: outbox.Policy,
) -> None:
    info = index[meeting.group_id]
    kind = meeting_kind(change)
    data = meeting_public(meeting, info, context.base_url).model_dump(mode="json")
    slugs = {info.slug, *_parent(info)}
    _webhook_calls(session, hooks, slugs, _WEBHOOK_EVENTS[kind], change, data, policy)
    fanout.on_change(session, context.settings, context.base_url, change, meeting, info)
    if not context.announce:
        return
    settings = context.settings
    assert settings.announce_to is not None
    message_id = outbox.new_message_id()
    mail = announce.build(
        meeting,
        info,
        context.feed,
        kind,
        message_id=message_id,
        mail_from=mailer.sender_address(settings),
        to=settings.announce_to,
        moved_from=change.before,
    )
    outbox.enqueue(
        session,
        outbox.MAIL,
        settings.announce_to,
        f"announce.{kind}",
        mail.as_string(),
        policy,
        message_id=message_id,
    )


def _webhook_calls(
    session: Session,
    hooks: list[Webhook],
    slugs: set[str],
    kind: str,
    change: Change,
    data: dict[str, Any],
    policy: outbox.Policy,
) -> None:
    for hook in hooks:
        if webhooks.wants(hook, slugs):
            body = webhooks.payload(kind, change.at, data)
            outbox.enqueue(
                session, outbox.WEBHOOK, hook.url, kind, body, policy, webhook_id=hook.id
            )
