"""The secretariat's console without HTTP: forms to models and back, saves through crud, and
what the dashboard, the audit trail and an edit conflict show."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from app import crud
from app.console import translations
from app.core import validation
from app.core.config import Settings
from app.core.words import N_
from app.crud import idempotency
from app.delivery import notify
from app.models import (
    MEETING_SNAPSHOT_FIELDS,
    GroupUpdate,
    MeetingCreate,
    MeetingStatus,
    MeetingUpdate,
    clock_text,
)
from app.timezone import zones

# The forms' fields, besides the texts per language (app.console.translations).
MEETING_FIELDS = (
    "group", "date", "start_time", "end_time", "timezone", "title", "description", "join_url",
    "status",
)  # fmt: skip
GROUP_FIELDS = (
    "status", "status_note", "leaders", "scope", "timeline", "expected_publication",
    "publications", "notes",
)  # fmt: skip
# What the forms call each field; errors are listed under these names.
# The group form's leaders are rows of two fields, name and organisation: the rows a group has
# and two blank ones, up to MAX_LEADERS (the form's field limit allows it).
MAX_LEADERS = 12
LEADER_ROWS = "leader_rows"

Form = Mapping[str, str]


@dataclass
class Outcome:
    """What a save did: the key of what was saved, or why not (errors by field, or the fields
    someone else changed since the form was opened)."""

    key: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    twin: str | None = None  # a meeting just like this one, made moments ago by the same person
    conflict: list[tuple[str, Any, Any]] = field(default_factory=list)
    current_version: int | None = None
    current_snapshot: str | None = None

    @property
    def saved(self) -> bool:
        return self.key is not None


def _errors(exc: ValidationError) -> dict[str, str]:
    """Each error by field, in the words the API's 422 answers use."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        message = validation.message(error)
        named = validation.named_field(message)
        if not loc and named is not None:
            loc, message = [named[0]], named[1]
        field, message = translations.refused_field(loc[0] if loc else "form", message)
        errors.setdefault(field, message)
    return errors


def _blank_is_none(form: Form, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: (form.get(name) or "").strip() or None for name in names}


def snapshot_text(snapshot: Mapping[str, Any]) -> str:
    """A snapshot carried in a form, to show what changed if someone saves in between."""
    return json.dumps(dict(snapshot), sort_keys=True)


def _differences(opened: str | None, now: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    try:
        before = json.loads(opened or "{}")
    except (ValueError, RecursionError):  # a tampered field: nested past the parser's depth
        before = {}
    if not isinstance(before, dict):
        before = {}
    # The sequence and uid are the calendars' bookkeeping, not something a person changed.
    return [
        (name, before.get(name), value)
        for name, value in now.items()
        if before.get(name) != value and name not in ("sequence", "uid")
    ]


def wants_announcement(form: Form) -> bool:
    """Whether the form's "Announce to the mailing list" box was ticked."""
    return form.get("announce") == "on"


def _notifying(
    session: Session, settings: Settings, base_url: str, announce: bool = False
) -> Outcome | None:
    """Webhooks hear of the write, as for the API's; with `announce`, the list too. An
    announcement this server cannot send refuses the form before anything is written."""
    try:
        notify.attach(session, settings, base_url, announce)
    except notify.AnnounceUnavailable as exc:
        return Outcome(errors={exc.field: exc.message})
    return None


# --- meetings ----------------------------------------------------------------------------------


def meeting_form(snapshot: Mapping[str, Any]) -> dict[str, str]:
    return {
        **{
            name: "" if snapshot.get(name) is None else str(snapshot[name])
            for name in MEETING_FIELDS
        },
        **translations.form_fields(snapshot.get("translations"), translations.MEETING_TEXTS),
    }


def empty_meeting_form(group: str = "") -> dict[str, str]:
    return {
        **dict.fromkeys(MEETING_FIELDS, ""),
        **translations.form_fields({}, translations.MEETING_TEXTS),
        "group": group,
        "timezone": zones.GENEVA,
        "status": MeetingStatus.confirmed.value,
        "form_key": secrets.token_urlsafe(16),  # one save per rendered form
    }


def _meeting_values(form: Form) -> dict[str, Any]:
    values = _blank_is_none(form, MEETING_FIELDS)
    values["timezone"] = values["timezone"] or zones.GENEVA
    values["status"] = values["status"] or MeetingStatus.confirmed.value
    if values["description"] is not None:
        values["description"] = form.get("description", "")
    texts = translations.sent(form, translations.MEETING_TEXTS)
    if texts is not None:
        values["translations"] = texts
    return values


def _sent(form: Form, values: dict[str, Any]) -> dict[str, Any]:
    """An edit changes what the form sent and leaves the rest (start and end go together)."""
    sent = {name: value for name, value in values.items() if name in form or name == "translations"}
    if "start_time" in sent or "end_time" in sent:
        sent["start_time"], sent["end_time"] = values["start_time"], values["end_time"]
    return sent


def create_meeting(
    session: Session, form: Form, actor: str, settings: Settings, base_url: str
) -> Outcome:
    refused = _notifying(session, settings, base_url, wants_announcement(form))
    if refused:
        return refused
    # The form's one-time key: Back and Save again shows what the first save made.
    key = (form.get("form_key") or "").strip()[: idempotency.MAX_KEY] or None
    try:
        data = MeetingCreate.model_validate(_meeting_values(form))
        earlier = idempotency.made_before(session, actor, key, None) if key else None
        if earlier is not None:  # this very form, sent again: what it made
            return Outcome(key=earlier.key)
        if form.get("again") != "yes":
            twin = idempotency.twin_of(session, actor, _snapshot_of(data))
            if twin is not None:
                return Outcome(twin=twin)

        def create() -> str:
            return crud.create_meeting(session, data, actor, commit=False).uid

        uid = idempotency.create_once(session, actor, key, None, "meeting", create)
    except ValidationError as exc:
        return Outcome(errors=_errors(exc))
    except crud.Invalid as exc:
        session.rollback()
        return Outcome(errors={exc.field: exc.message})
    return Outcome(key=uid)


def _snapshot_of(data: MeetingCreate) -> dict[str, object]:
    """What the audit trail would record of a meeting made from `data`."""
    values = data.model_dump(mode="json")
    for name in ("start_time", "end_time"):
        clock = getattr(data, name)
        values[name] = clock_text(clock) if clock is not None else None
    return {name: values.get(name) for name in MEETING_SNAPSHOT_FIELDS if name != "uid"}


def _saved(session: Session, form: Form, key: str, save: Callable[[], None]) -> Outcome:
    """Run `save`; a form error, a wrong value or a conflict becomes what the page shows."""
    try:
        save()
    except ValidationError as exc:
        return Outcome(errors=_errors(exc))
    except crud.Invalid as exc:
        session.rollback()
        return Outcome(errors={exc.field: exc.message})
    except crud.PreconditionFailed as exc:
        session.rollback()
        return _conflict(form, exc.version, exc.snapshot)
    return Outcome(key=key)


def _conflict(form: Form, version: int, snapshot: dict[str, Any]) -> Outcome:
    """Someone saved since the form was opened: what differs, and the version to retry from."""
    return Outcome(
        conflict=_differences(form.get("opened"), snapshot),
        current_version=version,
        current_snapshot=snapshot_text(snapshot),
    )


def update_meeting(
    session: Session, uid: str, form: Form, actor: str, settings: Settings, base_url: str
) -> Outcome:
    """Save the whole form over the meeting, unless it changed since `form["version"]`."""
    refused = _notifying(session, settings, base_url, wants_announcement(form))
    if refused:
        return refused

    def save() -> None:
        patch = MeetingUpdate.model_validate(_sent(form, _meeting_values(form)))
        crud.update_meeting(session, uid, patch, actor, form_version(form))

    return _saved(session, form, uid, save)


def form_version(form: Form) -> int:
    """The version a form was opened at; 0 (matching no version) when it is missing."""
    try:
        return int(form.get("version", ""))
    except ValueError:
        return 0


def cancel_meeting(
    session: Session, uid: str, form: Form, actor: str, settings: Settings, base_url: str
) -> Outcome:
    refused = _notifying(session, settings, base_url, wants_announcement(form))
    if refused:
        return refused

    def save() -> None:
        crud.cancel_meeting(session, uid, actor, form_version(form))

    return _saved(session, form, uid, save)


# --- groups ------------------------------------------------------------------------------------


def group_form(snapshot: Mapping[str, Any]) -> dict[str, str]:
    form = {
        "status": snapshot.get("status") or "",
        "status_note": snapshot.get("status_note") or "",
        "scope": snapshot.get("scope") or "",
        "timeline": snapshot.get("timeline") or "",
        "expected_publication": snapshot.get("expected_publication") or "",
        "publications": "\n".join(snapshot.get("publications", [])),
        "notes": "\n\n".join(snapshot.get("notes", [])),
        **translations.form_fields(snapshot.get("translations"), translations.GROUP_TEXTS),
    }
    leaders = snapshot.get("leaders", [])[:MAX_LEADERS]
    for index, leader in enumerate(leaders):
        name_field, org_field = leader_fields(index)
        form[name_field] = leader["name"]
        form[org_field] = leader.get("affiliation") or ""
    form[LEADER_ROWS] = str(min(len(leaders) + 2, MAX_LEADERS))
    return form


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def leader_fields(index: int) -> tuple[str, str]:
    return f"leader_name_{index}", f"leader_org_{index}"


def _leaders(form: Form) -> list[dict[str, Any]]:
    """The leaders' rows as sent; a row with an organisation and no name is refused."""
    try:
        rows = min(int(form.get(LEADER_ROWS, "0")), MAX_LEADERS)
    except ValueError:
        rows = 0
    leaders = []
    for index in range(rows):
        name_field, org_field = leader_fields(index)
        name = (form.get(name_field) or "").strip()
        org = (form.get(org_field) or "").strip()
        if org and not name:
            raise crud.Invalid(
                "leaders",
                N_(
                    "row %(row)s names the organisation “%(organisation)s” but no one: put a "
                    "name, or write the organisation alone under Name"
                )
                % {"row": index + 1, "organisation": org},
            )
        if name:
            leaders.append({"name": name, "affiliation": org or None})
    return leaders


def _group_values(form: Form) -> dict[str, Any]:
    values = _blank_is_none(form, ("status", "status_note", "timeline", "expected_publication"))
    values["scope"] = (form.get("scope") or "").strip() or None
    if LEADER_ROWS in form:
        values["leaders"] = _leaders(form)
    values["publications"] = _lines(form.get("publications", ""))
    notes = re.split(r"\n\s*\n", (form.get("notes") or "").replace("\r\n", "\n"))
    values["notes"] = [note.strip() for note in notes if note.strip()]
    texts = translations.sent(form, translations.GROUP_TEXTS)
    if texts is not None:
        values["translations"] = texts
    # A field the form did not send is left as it is, never emptied.
    kept = ("leaders", "translations")
    return {name: value for name, value in values.items() if name in form or name in kept}


def update_group(
    session: Session, slug: str, form: Form, actor: str, settings: Settings, base_url: str
) -> Outcome:
    _notifying(session, settings, base_url)  # webhooks hear of it; never refuses

    def save() -> None:
        patch = GroupUpdate.model_validate(_group_values(form))
        crud.update_group(session, slug, patch, actor, form_version(form))

    return _saved(session, form, slug, save)
