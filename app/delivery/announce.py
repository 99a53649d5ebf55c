"""The mailing-list announcement of a meeting: subject, plain text and the calendar part.

The calendar part is rendered by app.ical.event and app.ical.calendar, the feeds' renderers,
so its VEVENT has the UID and SEQUENCE that subscribers see at that moment. The message is
built with the standard library's email package (policy SMTP): non-ASCII subjects become
RFC 2047 words and parts are UTF-8.
"""

from __future__ import annotations

import datetime as dt
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from app.delivery import when
from app.i18n.catalogs import translator
from app.i18n.languages import DEFAULT
from app.ical import wording
from app.ical.calendar import render_calendar
from app.ical.event import render_event
from app.ical.header import meeting_header, zones_needed
from app.models import Meeting, MeetingStatus, text_in
from app.readmodel import links
from app.readmodel.groups import GroupInfo, name_in
from app.readmodel.links import feed_url, webcal

CREATED = "created"
RESCHEDULED = "rescheduled"
UPDATED = "updated"
CANCELLED = "cancelled"

TIME_FIELDS = ("date", "start_time", "end_time", "timezone")


def kind_of(action: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """What a change of a meeting was (from its audit record): created, cancelled,
    rescheduled (its date, times or zone moved) or otherwise updated."""
    before, after = before or {}, after or {}
    if action == "create":
        return CREATED
    if after.get("status") == MeetingStatus.cancelled != before.get("status"):
        return CANCELLED
    if any(before.get(name) != after.get(name) for name in TIME_FIELDS):
        return RESCHEDULED
    return UPDATED


def what(meeting: Meeting, info: GroupInfo, lang: str = DEFAULT) -> str:
    """ "AI in cities WG2 Autonomous Cities: Kick-off": the group, and the title when there is
    one, in `lang` where translated."""
    _ = translator(lang)
    label = info.label_in(lang)
    title = wording.meeting_title(meeting, lang)
    if title is None:
        return label
    return _("%(group)s: %(title)s") % {"group": label, "title": title}


def subject(meeting: Meeting, info: GroupInfo, kind: str, lang: str = DEFAULT) -> str:
    """ "U4SSC e-meeting: AI in cities WG2 Autonomous Cities, Thursday 4 March 2027,
    16:00-17:00 Geneva time", the title after the group when it has one; marked when it was
    rescheduled or cancelled."""
    _ = translator(lang)
    values = {"what": what(meeting, info, lang), "when": when.meeting_when(meeting, lang)}
    if kind == RESCHEDULED:
        return _("Rescheduled: U4SSC e-meeting: %(what)s, %(when)s") % values
    if kind == CANCELLED:
        return _("Cancelled: U4SSC e-meeting: %(what)s, %(when)s") % values
    return _("U4SSC e-meeting: %(what)s, %(when)s") % values


def _leaders(info: GroupInfo, lang: str) -> str:
    names = [f"{x.name} ({x.affiliation})" if x.affiliation else x.name for x in info.leaders]
    _ = translator(lang)
    return "; ".join(names) or _("not stated")


def _headline(kind: str, lang: str) -> str:
    _ = translator(lang)
    if kind == CREATED:
        return _("A U4SSC e-meeting has been scheduled.")
    if kind == RESCHEDULED:
        return _("A U4SSC e-meeting has been rescheduled.")
    if kind == CANCELLED:
        return _("This U4SSC e-meeting has been CANCELLED.")
    return _("A U4SSC e-meeting has been updated.")


def _group_lines(info: GroupInfo, lang: str) -> list[str]:
    _ = translator(lang)
    if info.parent is None:
        return [_("Thematic group: %(name)s") % {"name": name_in(info.group, lang)}]
    coded = f"{info.group.code or ''} {name_in(info.group, lang)}".strip()
    return [
        _("Thematic group: %(name)s") % {"name": name_in(info.parent, lang)},
        _("Working group: %(name)s") % {"name": coded},
    ]


def text_body(
    meeting: Meeting,
    info: GroupInfo,
    ctx: wording.FeedContext,
    kind: str,
    moved_from: dict[str, Any] | None = None,
) -> str:
    """The plain-text part, in the context's language; `moved_from` (the audit record before a
    reschedule) adds the old time, so a reader sees what moved."""
    lang = ctx.lang
    _ = translator(lang)
    group_feed = feed_url(ctx.base_url, (info.slug,))
    out = [_headline(kind, lang), "", *_group_lines(info, lang)]
    out.append(_("Leaders: %(names)s") % {"names": _leaders(info, lang)})
    title = wording.meeting_title(meeting, lang)
    if title:
        out.append(_("Title: %(title)s") % {"title": title})
    geneva, in_utc = when.meeting_when(meeting, lang), when.utc_text(meeting, lang)
    if kind == RESCHEDULED and moved_from:
        was, was_utc = when.snapshot_when(moved_from, lang)
        out.append(_("Moved from (Geneva time): %(when)s") % {"when": was})
        if was_utc:
            out.append(_("Moved from (UTC): %(when)s") % {"when": was_utc})
        out.append(_("Moved to (Geneva time): %(when)s") % {"when": geneva})
        if in_utc:
            out.append(_("Moved to (UTC): %(when)s") % {"when": in_utc})
    else:
        out.append(_("When (Geneva time): %(when)s") % {"when": geneva})
        if in_utc:
            out.append(_("When (UTC): %(when)s") % {"when": in_utc})
    if meeting.join_url and kind != CANCELLED:
        out.append(_("Join: %(url)s") % {"url": meeting.join_url})
    description = text_in(meeting.translations, "description", lang, meeting.description or "")
    if description[0]:
        out += ["", description[0]]
    page = links.meeting_page_url(ctx.base_url, info.slug, meeting.uid)
    out += [
        "",
        _("Group page: %(url)s") % {"url": f"{ctx.base_url}/groups/{info.slug}"},
        _("This meeting: %(url)s") % {"url": page},
        _("Subscribe to the group's meetings: %(url)s") % {"url": group_feed},
        "  " + _("(calendar apps: %(url)s)") % {"url": webcal(group_feed)},
        "",
        _("The attached calendar entry updates the same event in your calendar."),
    ]
    return "\n".join(out) + "\n"


def calendar_part(meeting: Meeting, info: GroupInfo, ctx: wording.FeedContext) -> bytes:
    """The meeting as a one-event calendar, with the feed's own VEVENT."""
    header = meeting_header(meeting, info, ctx)
    event = render_event(meeting, info, ctx).encode("utf-8")
    return render_calendar(header, ctx, zones_needed([meeting]), [event])


# Headers set raw (the Subject below) are written as given, not folded again by the email package.
MAIL_POLICY = policy.SMTP.clone(refold_source="none")


def set_subject(message: EmailMessage, text: str) -> None:
    """The Subject in RFC 2047 words that mail clients read back exactly. The email package's
    own folding writes an empty encoded word (`=?utf-8?q??=`) for some mixes of ASCII and other
    scripts (issue 21); email.header.Header splits the text into whole words instead. An ASCII
    subject stays one line (well under the 998 octets a line may have)."""
    if text.isascii():
        message.set_raw("Subject", text)
    else:
        encoded = Header(text, "utf-8", header_name="Subject").encode(linesep="\r\n")
        message.set_raw("Subject", encoded)


def sender(mail_from: str, lang: str = DEFAULT) -> str:
    """The From header: the secretariat's name in the mail's language, and its address."""
    return str(Address(translator(lang)("U4SSC secretariat"), addr_spec=mail_from))


def message_id_header(message_id: str, domain: str) -> str:
    return f"<{message_id}@{domain}>"


def build(
    meeting: Meeting,
    info: GroupInfo,
    ctx: wording.FeedContext,
    kind: str,
    *,
    message_id: str,
    mail_from: str,
    to: str,
    moved_from: dict[str, Any] | None = None,
) -> EmailMessage:
    """The announcement: To the list, plain text and text/calendar; method=PUBLISH."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender(mail_from, ctx.lang)
    message["To"] = to
    set_subject(message, subject(meeting, info, kind, ctx.lang))
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = message_id_header(message_id, ctx.uid_domain)
    message.set_content(text_body(meeting, info, ctx, kind, moved_from))
    # As bytes (base64): text would have its CRLF line ends, which RFC 5545 requires, rewritten.
    message.add_alternative(
        calendar_part(meeting, info, ctx),
        maintype="text",
        subtype="calendar",
        params={"method": "PUBLISH", "charset": "utf-8"},
    )
    return message
