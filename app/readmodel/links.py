"""Where things are and what they are called: feed, webcal and page URLs, calendar labels."""

from __future__ import annotations

from app.core.words import N_
from app.i18n import catalogs
from app.i18n.languages import DEFAULT
from app.readmodel.groups import GroupInfo, name_in, short_in

# A status as people say it: "To be kicked off" for to_be_kicked_off (app.readmodel.links).
STATUS_WORDS = {
    "proposed": N_("Proposed"),
    "to_be_kicked_off": N_("To be kicked off"),
    "ongoing": N_("Ongoing"),
    "to_be_published": N_("To be published"),
    "completed": N_("Completed"),
    "closed": N_("Closed"),
    "confirmed": N_("Confirmed"),
    "tentative": N_("Tentative"),
    "cancelled": N_("Cancelled"),
}


def status_label(status: str) -> str:
    """How pages name a status: "To be kicked off" for to_be_kicked_off."""
    return status.replace("_", " ").capitalize()


def status_words(status: str, lang: str = DEFAULT) -> str:
    """A group's or a meeting's status in words, in `lang`."""
    words = STATUS_WORDS.get(status)
    return catalogs.translator(lang)(words) if words else status_label(status)


def meeting_page_url(base_url: str, slug: str, uid: str) -> str:
    return f"{base_url}/groups/{slug}#meeting-{uid}"


def calendar_label(info: GroupInfo, lang: str = DEFAULT) -> str:
    """ "Autonomous Cities (WG2)" for a working group, the name for a thematic group (in
    `lang` where the group's name is translated)."""
    if info.group.code:
        return f"{name_in(info.group, lang)} ({info.group.code})"
    return short_in(info.group, lang)


def feed_url(base: str, groups: tuple[str, ...] = ()) -> str:
    if len(groups) == 1:
        return f"{base}/groups/{groups[0]}/calendar.ics"
    query = "&".join(f"group={slug}" for slug in groups)
    return f"{base}/calendar.ics" + (f"?{query}" if query else "")


def webcal(url: str) -> str:
    return "webcal://" + url.split("://", 1)[1]


def in_language(url: str, lang: str) -> str:
    """`url` asking for `lang` (`?lang=fr`, or `&lang=fr` after a query); English URLs stay as
    they always were."""
    if lang == DEFAULT:
        return url
    return f"{url}{'&' if '?' in url else '?'}lang={lang}"
