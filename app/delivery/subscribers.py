"""The subscribers of invitations by email: subscribing (a confirmation mail, nothing else),
consent, changing groups, leaving, and what the console and the command line read of them.

Every mail here goes through the outbox, in the transaction that decided it. The confirmation
token is kept only as its SHA-256, used once, and expires; at most one confirmation is mailed per
address per CONFIRM_EVERY_MINUTES, whatever the requests. Nobody learns from an answer whether
an address is known: the routes answer the same whatever happened here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select

from app import crud
from app.core.config import Settings
from app.delivery import announce, invitations, mailer, outbox
from app.i18n.languages import DEFAULT, supported
from app.ical import wording
from app.models import (
    Meeting,
    MeetingStatus,
    OutboxMessage,
    Subscriber,
    SubscriberGroup,
    SubscriptionCreate,
)
from app.readmodel.groups import GroupInfo, group_index
from app.timezone import zones


def configured(settings: Settings) -> bool:
    """Whether invitations can be mailed at all: without an SMTP server nobody may subscribe."""
    return bool(settings.smtp_url)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _slugs_to_ids(index: dict[int, GroupInfo], slugs: list[str]) -> list[int]:
    by_slug = {info.slug: gid for gid, info in index.items()}
    unknown = [slug for slug in slugs if slug not in by_slug]
    if unknown:
        raise crud.Invalid("groups", f"no group {unknown[0]!r}")
    return [by_slug[slug] for slug in slugs]


def covered(index: dict[int, GroupInfo], group_ids: set[int]) -> set[int]:
    """The groups whose meetings a subscriber of `group_ids` receives: those, and the working
    groups of any thematic group among them (those created later too: this is asked anew)."""
    return {
        gid
        for gid, info in index.items()
        if gid in group_ids or (info.parent is not None and info.parent.id in group_ids)
    }


@dataclass(frozen=True)
class Mailing:
    """Where a subscriber's mails come from and link to."""

    settings: Settings
    base_url: str

    @property
    def mail_from(self) -> str:
        return mailer.sender_address(self.settings)

    @property
    def policy(self) -> outbox.Policy:
        return outbox.Policy.from_settings(self.settings)


def subscribe(session: Session, mailing: Mailing, body: SubscriptionCreate) -> None:
    """Ask `body.email` to confirm `body.groups` (unknown groups: crud.Invalid, nothing kept).
    The caller commits; the same happens whether the address is new, waiting or confirmed."""
    index = group_index(session)
    _slugs_to_ids(index, body.groups)
    settings, stamp = mailing.settings, now()
    # Unconfirmed addresses whose link expired are forgotten, with their confirmation mails.
    expired = select(Subscriber.email).where(
        col(Subscriber.consented_at).is_(None), col(Subscriber.confirm_expires_at) < stamp
    )
    session.execute(
        delete(OutboxMessage).where(
            col(OutboxMessage.event) == invitations.CONFIRM_EVENT,
            col(OutboxMessage.target).in_(expired.scalar_subquery()),
        )
    )
    session.execute(delete(Subscriber).where(col(Subscriber.email).in_(expired.scalar_subquery())))
    found = session.exec(select(Subscriber).where(Subscriber.email == body.email)).first()
    if found is None:
        found = Subscriber(
            email=body.email, language=body.language, manage_token=secrets.token_urlsafe(32)
        )
    elif found.confirm_sent_at is not None and _aware(found.confirm_sent_at) > stamp - dt.timedelta(
        minutes=settings.confirm_every_minutes
    ):
        return  # a confirmation went out a moment ago: no second one
    if found.consented_at is None:
        found.language = body.language
    token = secrets.token_urlsafe(32)
    found.confirm_hash = token_hash(token)
    found.confirm_expires_at = stamp + dt.timedelta(days=settings.confirm_days)
    found.confirm_sent_at = stamp
    found.confirm_groups = list(body.groups)
    session.add(found)
    message_id = outbox.new_message_id()
    # In the language this request asked in, as the page that sent it.
    lang = body.language
    labels = [index[gid].label_in(lang) for gid in _slugs_to_ids(index, body.groups)]
    mail = invitations.confirmation(
        body.email,
        labels,
        token,
        mailing.base_url,
        message_id,
        mailing.mail_from,
        settings.uid_domain,
        settings.confirm_days,
        lang,
    )
    event = invitations.CONFIRM_EVENT
    outbox.enqueue(
        session, outbox.MAIL, body.email, event, mail, mailing.policy, message_id=message_id
    )


def pending_confirmation(session: Session, token: str) -> Subscriber | None:
    """The subscriber a confirmation token belongs to, if it is still valid (nothing changes)."""
    if not token or len(token) > 200:
        return None
    found = session.exec(
        select(Subscriber).where(Subscriber.confirm_hash == token_hash(token))
    ).first()
    if found is None or found.confirm_expires_at is None:
        return None
    return found if _aware(found.confirm_expires_at) > now() else None


def confirm(session: Session, mailing: Mailing, token: str) -> Subscriber | None:
    """Consent: the groups asked for are followed, the token is spent, and an invitation to each
    upcoming meeting of the groups newly covered is written. None: no such valid token."""
    found = pending_confirmation(session, token)
    if found is None or found.id is None:
        return None
    index = group_index(session)
    known = {info.slug for info in index.values()}
    wanted = _slugs_to_ids(index, [s for s in found.confirm_groups or [] if s in known])
    found.consented_at = now()
    found.confirm_hash = found.confirm_expires_at = found.confirm_groups = None
    found.refusals, found.stopped_at = 0, None
    session.add(found)
    set_groups(session, mailing, found, set(wanted) | set(group_ids(session, found.id)), index)
    return found


def group_ids(session: Session, subscriber_id: int) -> list[int]:
    return list(
        session.exec(
            select(SubscriberGroup.group_id).where(SubscriberGroup.subscriber_id == subscriber_id)
        ).all()
    )


def by_manage_token(session: Session, token: str) -> Subscriber | None:
    if not token or len(token) > 200:
        return None
    found = session.exec(select(Subscriber).where(Subscriber.manage_token == token)).first()
    return found if found is not None and found.consented_at is not None else None


def language_of(subscriber: Subscriber) -> str:
    """The language a subscriber's mail is written in: the one it chose."""
    return supported(subscriber.language) or DEFAULT


def set_groups(
    session: Session,
    mailing: Mailing,
    subscriber: Subscriber,
    wanted: set[int],
    index: dict[int, GroupInfo] | None = None,
) -> int:
    """Follow exactly `wanted`; invite to the upcoming meetings of groups newly covered. How
    many invitations were written."""
    assert subscriber.id is not None
    index = index if index is not None else group_index(session)
    had = set(group_ids(session, subscriber.id))
    before = covered(index, had)
    for gid in had - wanted:
        session.execute(
            delete(SubscriberGroup).where(
                col(SubscriberGroup.subscriber_id) == subscriber.id,
                col(SubscriberGroup.group_id) == gid,
            )
        )
    for gid in wanted - had:
        session.add(SubscriberGroup(subscriber_id=subscriber.id, group_id=gid))
    new = covered(index, wanted) - before
    if not new:
        return 0
    today = zones.local_date(now())
    meetings = session.exec(
        select(Meeting)
        .where(
            col(Meeting.group_id).in_(new),
            col(Meeting.geneva_date) >= today,
            col(Meeting.status) != MeetingStatus.cancelled,
        )
        .order_by(col(Meeting.geneva_date), col(Meeting.id))
    ).all()
    ctx = wording.FeedContext.of(mailing.settings, mailing.base_url, language_of(subscriber))
    for meeting in meetings:
        invite = invitations.invitation(
            meeting, index[meeting.group_id], ctx, announce.CREATED, mailing.mail_from
        )
        write_copy(session, mailing, invite, subscriber.email, subscriber.manage_token)
    return len(meetings)


def write_copy(
    session: Session, mailing: Mailing, invite: invitations.Invitation, address: str, token: str
) -> None:
    message_id = outbox.new_message_id()
    mail = invitations.personal(invite, address, token, message_id, mailing.mail_from)
    event = invitations.INVITE_EVENT + invite.method.lower()
    outbox.enqueue(
        session, outbox.MAIL, address, event, mail, mailing.policy, message_id=message_id
    )


def leave(session: Session, subscriber: Subscriber) -> None:
    """Forget the address: its groups, and every message to it, sent or not (nothing more is
    sent, and nothing of it is kept)."""
    session.execute(
        delete(OutboxMessage).where(
            col(OutboxMessage.kind) == outbox.MAIL,
            col(OutboxMessage.target) == subscriber.email,
            or_(
                col(OutboxMessage.event).startswith(invitations.INVITE_EVENT),
                col(OutboxMessage.event) == invitations.CONFIRM_EVENT,
            ),
        )
    )
    session.execute(
        delete(SubscriberGroup).where(col(SubscriberGroup.subscriber_id) == subscriber.id)
    )
    session.delete(subscriber)


def remove(session: Session, address: str) -> bool:
    """The console's and the command line's removal (a data request): True if it was known."""
    found = session.exec(
        select(Subscriber).where(Subscriber.email == address.strip().lower())
    ).first()
    if found is None:
        return False
    leave(session, found)
    return True


@dataclass(frozen=True)
class Counts:
    """What the console shows: no address, only how many."""

    per_group: list[tuple[str, int]]  # label, confirmed subscribers following the group itself
    confirmed: int
    waiting: int  # asked, not confirmed yet
    stopped: int  # refused permanently too many times in a row


def counts(session: Session) -> Counts:
    index = group_index(session)
    rows = session.exec(
        select(SubscriberGroup.group_id, func.count())
        .join(Subscriber, col(Subscriber.id) == col(SubscriberGroup.subscriber_id))
        .where(col(Subscriber.consented_at).is_not(None))
        .group_by(col(SubscriberGroup.group_id))
    ).all()
    by_group = dict(rows)
    per_group = [(info.label, by_group.get(gid, 0)) for gid, info in index.items()]

    def how_many(*where: Any) -> int:
        return int(session.exec(select(func.count()).select_from(Subscriber).where(*where)).one())

    return Counts(
        per_group=per_group,
        confirmed=how_many(col(Subscriber.consented_at).is_not(None)),
        waiting=how_many(col(Subscriber.consented_at).is_(None)),
        stopped=how_many(col(Subscriber.stopped_at).is_not(None)),
    )


def export(session: Session) -> list[dict[str, Any]]:
    """Everything kept about every address, for data requests (`subscribers export`)."""
    index = group_index(session)
    out: list[dict[str, Any]] = []
    for found in session.exec(select(Subscriber).order_by(col(Subscriber.email))).all():
        assert found.id is not None
        out.append(
            {
                "email": found.email,
                "groups": sorted(index[gid].slug for gid in group_ids(session, found.id)),
                "language": found.language,
                "consented_at": found.consented_at.isoformat() if found.consented_at else None,
                "stopped": found.stopped_at is not None,
            }
        )
    return out
