"""The seed file (the action plan as YAML): reading it, syncing the store to it, writing it back.

Loading is idempotent: what matches is left alone (same timestamps, same bytes in feeds), what
differs is updated through the same functions as the API, and a meeting that the file no longer
lists is cancelled, never deleted.
"""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from sqlmodel import Session, col, select

from app import crud
from app.models import (
    GROUP_DESCRIPTIVE_FIELDS,
    Code,
    Group,
    GroupBase,
    GroupCreate,
    GroupKind,
    GroupStatus,
    GroupTranslations,
    GroupUpdate,
    Leader,
    LongText,
    Meeting,
    MeetingCreate,
    MeetingFields,
    MeetingStatus,
    MeetingTranslations,
    ShortText,
    Slug,
)
from app.store.edits import SEED_ACTOR, HandEdits
from app.timezone import zones

SEED_NAME = "action-plan.yaml"
# libyaml's safe loader when present: ten times faster than the pure-Python one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _clock(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 16:00 as the number 960: insist on text.
    if value is None or isinstance(value, dt.time):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{1,2}:\d{2}", value):
        raise ValueError('write times as quoted "HH:MM", e.g. "16:00"')
    return value


Clock = Annotated[dt.time | None, BeforeValidator(_clock)]


class SeedMeeting(BaseModel):
    """A meeting as the seed file writes it (its order is the export's). It differs from
    MeetingBase by design: it has the uid, times are quoted "HH:MM" (YAML would read 16:00 as a
    number), zone and link are taken as text and checked with the meeting whole by MeetingFields
    (so an error names the meeting's uid), and export adds sequence and the change times."""

    model_config = ConfigDict(extra="forbid")
    uid: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,118}$")]
    date: dt.date
    start_time: Clock = None
    end_time: Clock = None
    timezone: str = zones.GENEVA
    status: MeetingStatus = MeetingStatus.confirmed
    title: ShortText | None = None
    description: LongText | None = None
    join_url: str | None = None
    # Texts in other languages, as the API takes them: {"fr": {"title": ..., "description": ...}}.
    translations: MeetingTranslations = Field(default_factory=dict)
    # Written by export so that an import renders the same feeds; not needed when editing.
    sequence: Annotated[int, Field(ge=0)] | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class SeedGroupFields(GroupBase):
    """A group as the seed file writes it: the family's fields, lists empty when left out."""

    slug: Slug
    name: ShortText
    status: GroupStatus
    leaders: list[Leader] = Field(default_factory=list)
    notes: list[LongText] = Field(default_factory=list)
    publications: list[ShortText] = Field(default_factory=list)
    translations: GroupTranslations = Field(default_factory=dict)
    meetings: list[SeedMeeting] = Field(default_factory=list)


class SeedWorkingGroup(SeedGroupFields):
    code: Code


class SeedThematicGroup(SeedGroupFields):
    working_groups: list[SeedWorkingGroup] = Field(default_factory=list)


class SeedFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str | None = None
    contact: str | None = None
    website: str | None = None
    thematic_groups: list[SeedThematicGroup]


class SeedError(ValueError):
    pass


class Report(list[str]):
    """One line per change, and in `kept` one per record whose edits by people were kept."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[str] = []


def bundled_seed() -> Path:
    """The action plan, seed/action-plan.yaml at the top of the checkout: the one copy. A wheel
    carries it inside the package as app/seed/ (setup.py maps the folder there)."""
    packaged = Path(str(resources.files("app").joinpath("seed", SEED_NAME)))
    if packaged.is_file():
        return packaged
    return Path(str(resources.files("app"))).parent / "seed" / SEED_NAME


def read_seed(path: Path) -> SeedFile:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SeedError(f"{path}: cannot read: {exc}") from exc
    try:
        seed = SeedFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10]
        )
        raise SeedError(f"{path}: {problems}") from None
    _check_unique(seed)
    return seed


def _check_unique(seed: SeedFile) -> None:
    slugs: set[str] = set()
    uids: set[str] = set()
    for group in _groups(seed):
        if group.slug in slugs:
            raise SeedError(f"slug {group.slug!r} appears twice")
        slugs.add(group.slug)
        for meeting in group.meetings:
            if meeting.uid in uids:
                raise SeedError(f"meeting uid {meeting.uid!r} appears twice")
            uids.add(meeting.uid)


def _groups(seed: SeedFile) -> list[SeedGroupFields]:
    found: list[SeedGroupFields] = []
    for thematic in seed.thematic_groups:
        found.append(thematic)
        found.extend(thematic.working_groups)
    return found


def sync(session: Session, seed: SeedFile, *, dry_run: bool = False, force: bool = False) -> Report:
    """Make the store say what `seed` says; returns one line per change. All or nothing.
    A field a person edited since the seed last wrote it is kept (and listed in the report's
    `kept`) unless `force`."""
    report = Report()
    edits = None if force else HandEdits(session)
    try:
        position = 0
        for thematic in seed.thematic_groups:
            _sync_group(session, thematic, None, None, position, report, edits)
            position += 1
            for working in thematic.working_groups:
                args = (working.code, position, report, edits)
                _sync_group(session, working, thematic.slug, *args)
                position += 1
        _cancel_dropped(session, seed, report)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    except (crud.Invalid, crud.Conflict, ValueError) as exc:
        session.rollback()
        raise SeedError(str(exc)) from exc
    return report


def _sync_group(
    session: Session,
    entry: SeedGroupFields,
    parent: str | None,
    code: str | None,
    position: int,
    report: Report,
    edits: HandEdits | None,
) -> None:
    fields = {name: getattr(entry, name) for name in GROUP_DESCRIPTIVE_FIELDS}
    existing = session.exec(select(Group).where(Group.slug == entry.slug)).first()
    if existing is None:
        kind = GroupKind.working if parent else GroupKind.thematic
        data = GroupCreate(slug=entry.slug, kind=kind, code=code, parent=parent, **fields)
        group = crud.create_group(session, data, SEED_ACTOR, commit=False)
        report.append(f"create group {entry.slug}")
    else:
        before = crud.group_snapshot(session, existing)
        if edits is not None:
            target = GroupUpdate(**fields).model_dump(mode="json")
            kept, note = edits.kept("group", entry.slug, target, before)
            if kept:
                report.kept.append(f"keep group {entry.slug}: {note}")
                fields = {name: value for name, value in fields.items() if name not in kept}
        group = crud.update_group(
            session, entry.slug, GroupUpdate(**fields), SEED_ACTOR, commit=False
        )
        after = crud.group_snapshot(session, group)
        changed = [k for k in before if before[k] != after[k]]
        if changed:
            report.append(f"update group {entry.slug}: {', '.join(changed)}")
    if group.position != position:
        group.position = position
        session.add(group)
    for meeting in entry.meetings:
        _sync_meeting(session, entry.slug, meeting, report, edits)


def _sync_meeting(
    session: Session, group: str, entry: SeedMeeting, report: Report, edits: HandEdits | None
) -> None:
    values = entry.model_dump(exclude={"uid", "sequence", "created_at", "updated_at"})
    values["group"] = group
    try:
        fields = MeetingFields.model_validate(values)
    except ValidationError as exc:
        raise SeedError(f"meeting {entry.uid}: {exc.errors()[0]['msg']}") from None
    existing = session.exec(select(Meeting).where(Meeting.uid == entry.uid)).first()
    if existing is None:
        meeting = crud.create_meeting(
            session,
            MeetingCreate.model_validate(fields.model_dump()),
            SEED_ACTOR,
            uid=entry.uid,
            from_seed=True,
            commit=False,
        )
        _restore_history(meeting, entry)
        report.append(f"create meeting {entry.uid}")
        return
    existing.from_seed = True
    if edits is not None:
        current = crud.meeting_snapshot(session, existing)
        now = MeetingFields.model_validate({n: current[n] for n in values}).model_dump()
        kept, note = edits.kept("meeting", entry.uid, fields.model_dump(), now)
        if kept:
            report.kept.append(f"keep meeting {entry.uid}: {note}")
            values |= {name: current[name] for name in kept}
            fields = MeetingFields.model_validate(values)
    before = existing.sequence
    crud.change_meeting(session, existing, fields, SEED_ACTOR, "seed", commit=False)
    if existing.sequence != before:
        report.append(f"update meeting {entry.uid}")


def _restore_history(meeting: Meeting, entry: SeedMeeting) -> None:
    """An exported meeting keeps its sequence and times, so its feed text is the same."""
    if entry.sequence is not None:
        meeting.sequence = entry.sequence
    for name in ("created_at", "updated_at"):
        stamp: dt.datetime | None = getattr(entry, name)
        if stamp is not None:
            utc = stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)
            setattr(meeting, name, utc)


def _cancel_dropped(session: Session, seed: SeedFile, report: Report) -> None:
    listed = {m.uid for g in _groups(seed) for m in g.meetings}
    loaded = session.exec(
        select(Meeting).where(
            col(Meeting.from_seed), col(Meeting.status) != MeetingStatus.cancelled
        )
    ).all()
    for meeting in loaded:
        if meeting.uid not in listed:
            crud.cancel_meeting(session, meeting.uid, SEED_ACTOR, commit=False)
            report.append(f"cancel meeting {meeting.uid} (no longer in the file)")


def load(
    session: Session, path: Path | None = None, *, dry_run: bool = False, force: bool = False
) -> Report:
    return sync(session, read_seed(path or bundled_seed()), dry_run=dry_run, force=force)


def is_empty(session: Session) -> bool:
    return session.exec(select(Group.id).limit(1)).first() is None
