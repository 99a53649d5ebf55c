"""A meeting's change fanned out to its subscribers: one outbox row in the write's transaction,
one mail per subscriber written after it, in batches; and the refusals that stop an address.

Measured (bench/invitations.py, 10,000 subscribers of one group): writing every copy in the
write's own transaction made the write take seconds and held SQLite's write lock all along; the
write now adds one row (kind "fanout", the change rendered once as an `Invitation`, and the
highest subscriber id it concerns) and answers in milliseconds. The sender then writes the
copies INVITATION_BATCH at a time: each batch commits with the row's cursor (the last subscriber
id done), so a crash or a second replica resumes where the last commit left off, and no
subscriber gets a copy twice or none. A copy is a reference to the fan-out row; the mail is
built when it is sent (`mail_text`), from the change as it was at the write. Subscribers who
confirmed after the change are beyond its highest id: their confirmation already invited them
to the meeting as it was then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import write_session
from app.delivery import announce, invitations, mailer, outbox, subscribers
from app.i18n.languages import DEFAULT, supported
from app.ical import wording
from app.models import Change, Meeting, MeetingStatus, OutboxMessage, Subscriber, SubscriberGroup
from app.readmodel.groups import GroupInfo
from app.timezone import zones

FANOUT = "fanout"
# A copy's payload: this prefix and {"fanout": the fan-out row's id, "token": the manage token}.
COPY = "u4ssc-invitation-copy:"


def _audience(group_ids: list[int]) -> list[Any]:
    return [
        col(SubscriberGroup.group_id).in_(group_ids),
        col(Subscriber.consented_at).is_not(None),
        col(Subscriber.stopped_at).is_(None),
    ]


def _tells_subscribers(change: Change, meeting: Meeting, kind: str) -> bool:
    """New, moved, changed as subscribers see it (SEQUENCE rose) or cancelled; upcoming."""
    if meeting.geneva_date < zones.local_date(subscribers.now()):
        return False
    if kind == announce.CREATED:
        return meeting.status != MeetingStatus.cancelled
    before = change.before or {}
    return kind == announce.CANCELLED or before.get("sequence") != meeting.sequence


def on_change(
    session: Session,
    settings: Settings,
    base_url: str,
    change: Change,
    meeting: Meeting,
    info: GroupInfo,
) -> None:
    """In the write's transaction: one fan-out row when anyone follows the meeting's group."""
    if not subscribers.configured(settings):
        return
    kind = announce.kind_of(change.action, change.before, change.after)
    if not _tells_subscribers(change, meeting, kind):
        return
    groups = [info.group.id, *([info.parent.id] if info.parent is not None else [])]
    group_ids = [gid for gid in groups if gid is not None]
    audience = session.exec(
        select(Subscriber.language, func.max(Subscriber.id))
        .join(SubscriberGroup, col(SubscriberGroup.subscriber_id) == col(Subscriber.id))
        .where(*_audience(group_ids))
        .group_by(col(Subscriber.language))
    ).all()
    if not audience:
        return
    last = max(int(highest) for _, highest in audience if highest is not None)
    urgent = invitations.short_notice(meeting, change.before, subscribers.now())
    # The change rendered once per language its audience reads (at most six).
    rendered = {}
    for lang in sorted({supported(language) or DEFAULT for language, _ in audience}):
        ctx = wording.FeedContext.of(settings, base_url, lang)
        invite = invitations.invitation(
            meeting, info, ctx, kind, mailer.sender_address(settings), urgent
        )
        rendered[lang] = invite.dumps()
    job = {"invitations": rendered, "groups": group_ids, "last": last, "after": 0}
    policy = outbox.Policy.from_settings(settings)
    event = f"{FANOUT}.{invite.method.lower()}"
    outbox.enqueue(session, FANOUT, meeting.uid, event, json.dumps(job), policy)


@dataclass(frozen=True)
class Batch:
    after: int
    copies: list[tuple[int, str, str, str]]  # subscriber id, address, manage token, language


def _next_batch(engine: Engine, job_id: int, size: int) -> tuple[dict[str, object], Batch]:
    with Session(engine) as session:
        row = session.get(OutboxMessage, job_id)
        assert row is not None
        job = json.loads(row.payload)
        after, last, groups = int(job["after"]), int(job["last"]), list(job["groups"])
        found = session.exec(
            select(Subscriber.id, Subscriber.email, Subscriber.manage_token, Subscriber.language)
            .join(SubscriberGroup, col(SubscriberGroup.subscriber_id) == col(Subscriber.id))
            .where(*_audience(groups), col(Subscriber.id) > after, col(Subscriber.id) <= last)
            .distinct()
            .order_by(col(Subscriber.id))
            .limit(size)
        ).all()
    copies = [
        (int(i), e, t, supported(lang) or DEFAULT) for i, e, t, lang in found if i is not None
    ]
    return job, Batch(after, copies)


def step(engine: Engine, settings: Settings, job_id: int) -> bool:
    """Write the next batch of copies; True when none is left. A transaction only checks that
    the cursor did not move and adds the batch's rows, each a reference of a hundred bytes."""
    job, batch = _next_batch(engine, job_id, settings.invitation_batch)
    if not batch.copies:
        return True
    rendered = _rendered(job)
    method = invitations.Invitation.loads(next(iter(rendered.values()))).method
    policy = outbox.Policy.from_settings(settings)
    event = invitations.INVITE_EVENT + method.lower()
    with write_session(engine) as session:
        row = session.get(OutboxMessage, job_id, with_for_update=True)
        if row is None or json.loads(row.payload)["after"] != batch.after:
            return False  # another sender moved on (its lease ran out under us): it goes on
        ids = [subscriber_id for subscriber_id, _, _, _ in batch.copies]
        # Who left or stopped since the batch was read gets nothing.
        still = set(
            session.exec(
                select(Subscriber.id).where(
                    col(Subscriber.id).in_(ids), col(Subscriber.stopped_at).is_(None)
                )
            ).all()
        )
        for subscriber_id, address, token, lang in batch.copies:
            if subscriber_id in still:
                # A language the change was not rendered in (the subscriber changed it since)
                # gets English.
                copy = {"fanout": job_id, "token": token, "lang": lang}
                reference = COPY + json.dumps(copy)
                outbox.enqueue(session, outbox.MAIL, address, event, reference, policy)
        job["after"] = ids[-1]
        row.payload = json.dumps(job)
        session.add(row)
    return len(batch.copies) < settings.invitation_batch


def _rendered(job: dict[str, Any]) -> dict[str, str]:
    """A fan-out's invitations by language; a row written before languages holds one, English."""
    if "invitations" in job:
        return dict(job["invitations"])
    return {DEFAULT: str(job["invitation"])}


@lru_cache(maxsize=64)
def _change(engine: Engine, job_id: int) -> dict[str, invitations.Invitation] | None:
    """A fan-out's invitations by language (they never change once written; its cursor does)."""
    with Session(engine) as session:
        row = session.get(OutboxMessage, job_id)
        if row is None:
            return None
        rendered = _rendered(json.loads(row.payload))
        return {lang: invitations.Invitation.loads(text) for lang, text in rendered.items()}


def mail_text(engine: Engine, settings: Settings, message: outbox.Claimed) -> str:
    """The mail a claimed row delivers: its payload, or for a fan-out's copy the change's
    invitation made personal now, under the row's Message-ID. Measured: a whole copy is 8 KB
    and writing 500 of them held SQLite's write lock long enough to make a write wait up to a
    second; a reference is a hundred bytes, and building the mail costs 1.6 ms at send time."""
    if not message.payload.startswith(COPY):
        return message.payload
    reference = json.loads(message.payload.removeprefix(COPY))
    rendered = _change(engine, int(reference["fanout"]))
    if rendered is None:
        raise mailer.PermanentFailure("the change this invitation belonged to is gone")
    wanted = str(reference.get("lang", DEFAULT))
    invite = rendered.get(wanted) or rendered.get(DEFAULT) or next(iter(rendered.values()))
    mail_from = mailer.sender_address(settings)
    token = str(reference["token"])
    return invitations.personal(invite, message.target, token, message.message_id, mail_from)


def refused(engine: Engine, address: str, limit: int) -> bool:
    """A permanent refusal of an invitation to `address`; at `limit` in a row its mail stops
    (and what is still waiting for it is dropped). True when it stopped now."""
    with write_session(engine) as session:
        found = session.exec(select(Subscriber).where(Subscriber.email == address)).first()
        if found is None or found.stopped_at is not None:
            return False
        found.refusals += 1
        if found.refusals < limit:
            session.add(found)
            return False
        found.stopped_at = subscribers.now()
        session.add(found)
        session.execute(
            delete(OutboxMessage).where(
                col(OutboxMessage.target) == address,
                col(OutboxMessage.status) == outbox.PENDING,
                col(OutboxMessage.event).startswith(invitations.INVITE_EVENT),
            )
        )
        return True


def delivered(engine: Engine, address: str) -> None:
    """An invitation went through: the run of refusals is broken."""
    with Session(engine) as peek:
        refusals = peek.exec(select(Subscriber.refusals).where(Subscriber.email == address)).first()
    if refusals:
        with write_session(engine) as session:
            session.execute(
                update(Subscriber).where(col(Subscriber.email) == address).values(refusals=0)
            )
