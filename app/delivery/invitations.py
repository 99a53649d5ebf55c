"""Invitations by email: what each subscriber's copy of a meeting's change says, and the
confirmation mail that asks for consent first.

A change is rendered once (`Invitation`, frozen at the write: the feeds' VEVENT with the same
UID and SEQUENCE, ORGANIZER the secretariat's MAIL_FROM, in a VCALENDAR whose METHOD is REQUEST
or CANCEL); each subscriber's mail (`personal`) only adds its ATTENDEE line, its To and its
links. Building one mail takes well under a millisecond, so 10,000 copies are written in seconds
by the fan-out (app.delivery.fanout), not in the write's transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import quote

from icalendar import Event, vCalAddress

from app.delivery import announce
from app.i18n.catalogs import translations, translator
from app.i18n.languages import DEFAULT
from app.ical import wording
from app.ical.calendar import render_calendar
from app.ical.event import render_event
from app.ical.header import meeting_header, zones_needed
from app.models import Meeting, MeetingStatus
from app.readmodel.groups import GroupInfo
from app.timezone import zones

REQUEST = "REQUEST"
CANCEL = "CANCEL"
SHORT_NOTICE = dt.timedelta(hours=48)
# The event names of the outbox rows: invitations count refusals, the confirmation does not.
INVITE_EVENT = "invite."
CONFIRM_EVENT = "subscribe.confirm"
_END_EVENT = "END:VEVENT\r\n"


@dataclasses.dataclass(frozen=True)
class Invitation:
    """What every subscriber's copy of one change of one meeting shares."""

    uid: str
    method: str
    subject: str
    text: str
    calendar: str  # CRLF lines; each copy adds its ATTENDEE before END:VEVENT
    base_url: str
    uid_domain: str
    # The language its words are in (the subscriber's); a row written before languages had none.
    lang: str = DEFAULT

    def dumps(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def loads(cls, text: str) -> Invitation:
        return cls(**json.loads(text))


def starts_at(day: dt.date, start: dt.time | None, zone: str) -> dt.datetime:
    """When a meeting begins; a day-long one at midnight Geneva time."""
    if start is None:
        return zones.to_utc(day, dt.time(0, 0), zones.GENEVA)
    return zones.to_utc(day, start, zone)


def short_notice(meeting: Meeting, before: dict[str, object] | None, now: dt.datetime) -> bool:
    """Whether the meeting starts, or was to start, within 48 hours."""
    starts = [starts_at(meeting.date, meeting.start_time, meeting.timezone)]
    if before and isinstance(before.get("date"), str):
        clock = before.get("start_time")
        try:
            day = dt.date.fromisoformat(str(before["date"]))
            start = dt.time.fromisoformat(clock) if isinstance(clock, str) else None
            starts.append(starts_at(day, start, str(before.get("timezone") or zones.GENEVA)))
        except ValueError:
            pass
    return any(dt.timedelta(0) <= when - now <= SHORT_NOTICE for when in starts)


def subject(meeting: Meeting, info: GroupInfo, kind: str, urgent: bool, lang: str = DEFAULT) -> str:
    _ = translator(lang)
    text = announce.subject(meeting, info, kind, lang)
    if kind == announce.UPDATED:
        text = _("Updated: %(subject)s") % {"subject": text}
    elif kind == announce.CREATED:
        text = _("Invitation: %(subject)s") % {"subject": text}
    if urgent and kind != announce.CREATED:
        text = _("Changed within 48 hours: %(subject)s") % {"subject": text}
    return text


def invitation(
    meeting: Meeting,
    info: GroupInfo,
    ctx: wording.FeedContext,
    kind: str,
    mail_from: str,
    urgent: bool = False,
) -> Invitation:
    """The change as every subscriber receives it: REQUEST, or CANCEL for a cancellation."""
    cancelled = meeting.status == MeetingStatus.cancelled
    method = CANCEL if cancelled else REQUEST
    kind = announce.CANCELLED if cancelled else kind
    # The feeds' event, but organised by the address the invitation comes from.
    own = dataclasses.replace(ctx, organizer_email=mail_from)
    header = meeting_header(meeting, info, own)
    event = render_event(meeting, info, own).encode("utf-8")
    calendar = render_calendar(header, own, zones_needed([meeting]), [event], method)
    return Invitation(
        uid=meeting.uid,
        method=method,
        subject=subject(meeting, info, kind, urgent, ctx.lang),
        text=announce.text_body(meeting, info, ctx, kind),
        calendar=calendar.decode("utf-8"),
        base_url=ctx.base_url,
        uid_domain=ctx.uid_domain,
        lang=ctx.lang,
    )


def attendee_line(address: str) -> str:
    """ATTENDEE;RSVP=FALSE:mailto:..., folded by icalendar as every other line."""
    attendee = vCalAddress(f"mailto:{address}")
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "NEEDS-ACTION"
    attendee.params["RSVP"] = "FALSE"
    holder = Event()
    holder.add("attendee", attendee)
    text: str = holder.to_ical().decode("utf-8")
    return text.removeprefix("BEGIN:VEVENT\r\n").removesuffix(_END_EVENT)


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url}/subscriptions/unsubscribe?token={quote(token, safe='')}"


def manage_url(base_url: str, token: str) -> str:
    return f"{base_url}/subscriptions/manage?token={quote(token, safe='')}"


def confirm_url(base_url: str, token: str) -> str:
    return f"{base_url}/subscriptions/confirm?token={quote(token, safe='')}"


def _envelope(
    mail_from: str, to: str, subject_text: str, message_id: str, domain: str, lang: str
) -> EmailMessage:
    message = EmailMessage(policy=announce.MAIL_POLICY)
    message["From"] = announce.sender(mail_from, lang)
    message["To"] = to
    announce.set_subject(message, subject_text)
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = announce.message_id_header(message_id, domain)
    message["Auto-Submitted"] = "auto-generated"
    return message


def personal(
    invite: Invitation, address: str, manage_token: str, message_id: str, mail_from: str
) -> str:
    """One subscriber's copy: plain text and text/calendar; method=REQUEST or CANCEL, with
    RFC 8058 one-click unsubscribe headers."""
    lang = invite.lang
    _ = translator(lang)
    message = _envelope(mail_from, address, invite.subject, message_id, invite.uid_domain, lang)
    leave = unsubscribe_url(invite.base_url, manage_token)
    # Raw: folded or encoded, a client would not find the URL (it is ASCII, under 998 octets).
    message.set_raw("List-Unsubscribe", f"<{leave}>")
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    footer = "\n".join(
        [
            "",
            "--",
            _("You receive this because you subscribed to these U4SSC groups' meetings."),
            _("Change your groups or leave: %(url)s")
            % {"url": manage_url(invite.base_url, manage_token)},
            "",
        ]
    )
    message.set_content(invite.text + footer)
    at = invite.calendar.rindex(_END_EVENT)
    calendar = invite.calendar[:at] + attendee_line(address) + invite.calendar[at:]
    # As bytes (base64): the calendar's CRLF line ends must reach the client untouched.
    message.add_alternative(
        calendar.encode("utf-8"),
        maintype="text",
        subtype="calendar",
        params={"method": invite.method, "charset": "utf-8"},
    )
    return message.as_string()


def confirmation(
    address: str,
    labels: list[str],
    token: str,
    base_url: str,
    message_id: str,
    mail_from: str,
    domain: str,
    valid_days: float,
    lang: str = DEFAULT,
) -> str:
    """The one mail an address gets before it consents, in the language it asked in: a link to
    a page whose button confirms (a GET of the link confirms nothing: mail scanners follow
    links). `labels` name the groups in that language."""
    _ = translator(lang)
    ngettext = translations(lang).ngettext
    subject_text = _("Confirm: U4SSC meeting invitations by email")
    message = _envelope(mail_from, address, subject_text, message_id, domain, lang)
    # A fraction of a day ("1.5 days") takes the form a count of two takes.
    count = int(valid_days) if float(valid_days).is_integer() else 2
    lines = [
        _("Someone, probably you, asked for invitations to the e-meetings of these U4SSC groups:"),
        "",
        *(f"  - {label}" for label in labels),
        "",
        _("To confirm, open this link and press the button on the page:"),
        confirm_url(base_url, token),
        "",
        ngettext(
            "The link works once, for %(days)s day.",
            "The link works once, for %(days)s days.",
            count,
        )
        % {"days": f"{valid_days:g}"},
        _("If you did not ask for this, ignore this mail."),
        _("Nothing is sent to you unless you confirm."),
    ]
    message.set_content("\n".join(lines) + "\n")
    return message.as_string()
