"""The command line's `meetings`, `groups` and `changes` commands: the plan kept current by hand."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import crud
from app.cli import delivery, listing
from app.core import validation
from app.core.db import write_session
from app.models import GroupStatus, GroupUpdate, MeetingCreate, MeetingStatus, MeetingUpdate
from app.readmodel.groups import group_index


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _print_meeting(session: Session, uid: str) -> None:
    meeting = crud.get_meeting(session, uid)
    when = meeting.date.isoformat()
    if meeting.start_time and meeting.end_time:
        when += f" {meeting.start_time:%H:%M}-{meeting.end_time:%H:%M} {meeting.timezone}"
    group = group_index(session)[meeting.group_id].slug
    print(f"{meeting.uid}\t{when}\t{meeting.status}\tseq {meeting.sequence}\t{group}")


def _times(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ("date", "start", "end", "timezone", "title", "status", "description", "join_url"):
        value = getattr(args, name, None)
        if value is not None:
            values[{"start": "start_time", "end": "end_time"}.get(name, name)] = value
    if getattr(args, "all_day", False):
        values["start_time"] = values["end_time"] = None
    return values


def _meetings_add(args: argparse.Namespace, engine: Engine) -> int:
    data = MeetingCreate.model_validate({"group": args.group, **_times(args)})
    with write_session(engine) as session:
        delivery.notifying(session, args)
        meeting = crud.create_meeting(session, data, actor())
        _print_meeting(session, meeting.uid)
    return 0


def _meetings_move(args: argparse.Namespace, engine: Engine) -> int:
    patch = MeetingUpdate.model_validate(_times(args))
    if not patch.model_fields_set:
        raise crud.Invalid("move", "say what changes: --date, --start/--end, --all-day, --title...")
    with write_session(engine) as session:
        delivery.notifying(session, args)
        crud.update_meeting(session, args.uid, patch, actor())
        _print_meeting(session, args.uid)
    return 0


def _meetings_cancel(args: argparse.Namespace, engine: Engine) -> int:
    with write_session(engine) as session:
        delivery.notifying(session, args)
        crud.cancel_meeting(session, args.uid, actor())
        _print_meeting(session, args.uid)
    return 0


def _meetings_purge(args: argparse.Namespace, engine: Engine) -> int:
    with write_session(engine) as session:
        crud.purge_meeting(session, args.uid, actor())
    print(f"{args.uid} removed for good; subscribers keep their last copy of it")
    return 0


def _meetings_list(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        ids = crud.group_ids_covering(session, args.group) if args.group else None
        query = crud.MeetingQuery(group_ids=ids, start=args.start, end=args.end)
        meetings, _ = crud.list_meetings(session, query)
        index = group_index(session)
        rows = [
            {
                "uid": m.uid,
                "date": m.date,
                "start": m.start_time and f"{m.start_time:%H:%M}",
                "end": m.end_time and f"{m.end_time:%H:%M}",
                "timezone": m.timezone,
                "status": m.status,
                "sequence": m.sequence,
                "group": index[m.group_id].slug,
                "title": m.title,
            }
            for m in meetings
        ]
    columns = ["uid", "date", "start", "end", "timezone", "status", "sequence", "group", "title"]
    listing.emit(args, columns, rows)
    return 0


def _groups_set_status(args: argparse.Namespace, engine: Engine) -> int:
    fields: dict[str, Any] = {"status": args.status}
    if args.note is not None:
        fields["status_note"] = args.note or None
    with write_session(engine) as session:
        delivery.notifying(session, args)
        group = crud.update_group(session, args.slug, GroupUpdate(**fields), actor())
        print(f"{group.slug}\t{group.status}\t{group.status_note or ''}")
    return 0


def _groups_list(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        rows = [
            {
                # A working group is indented under its thematic group in the table.
                "slug": ("  " if info.parent and not args.json else "") + info.slug,
                "parent": info.parent.slug if info.parent else None,
                "status": info.group.status,
                "name": info.group.name,
            }
            for info in group_index(session).values()
        ]
    listing.emit(args, ["slug", "parent", "status", "name"], rows)
    return 0


def _changes(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        rows, _ = crud.list_changes(session, limit=args.limit)
        for row in rows:
            line = {
                "at": row.at.isoformat(),
                "actor": row.actor,
                "action": row.action,
                "entity": row.entity,
                "key": row.key,
                "before": row.before,
                "after": row.after,
            }
            print(json.dumps(line, ensure_ascii=False))
    return 0


def _date(value: str) -> dt.date:
    problem = validation.date_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return dt.date.fromisoformat(value.strip())


def _meeting_options(parser: argparse.ArgumentParser, *, date_required: bool) -> None:
    parser.add_argument("--date", type=_date, required=date_required, help="YYYY-MM-DD")
    parser.add_argument("--start", help="start time HH:MM (wall clock in --timezone)")
    parser.add_argument("--end", help="end time HH:MM")
    parser.add_argument("--timezone", help="IANA zone of date and times (default Europe/Zurich)")
    parser.add_argument("--title")
    parser.add_argument("--description")
    parser.add_argument("--join-url", dest="join_url")
    parser.add_argument("--status", choices=[s.value for s in MeetingStatus])


def register(command: Callable[..., Any]) -> None:
    """Add `meetings`, `groups` and `changes` to the parser of app.cli.main."""
    meetings = command("meetings", None, "add, move, cancel, list").add_subparsers(
        dest="action", required=True
    )
    p = command("add", _meetings_add, "add a meeting (no --start/--end: all-day)", meetings)
    p.add_argument("--group", required=True, help="group slug")
    _meeting_options(p, date_required=True)
    p.add_argument("--announce", action="store_true", help=delivery.ANNOUNCE_HELP)
    p = command("move", _meetings_move, "reschedule or change a meeting", meetings)
    p.add_argument("uid")
    _meeting_options(p, date_required=False)
    p.add_argument("--all-day", action="store_true", help="drop the times")
    p.add_argument("--announce", action="store_true", help=delivery.ANNOUNCE_HELP)
    p = command("cancel", _meetings_cancel, "cancel (stays in feeds as cancelled)", meetings)
    p.add_argument("uid")
    p.add_argument("--announce", action="store_true", help=delivery.ANNOUNCE_HELP)
    p = command("purge", _meetings_purge, "remove a meeting for good", meetings)
    p.add_argument("uid")
    p = command("list", _meetings_list, "list meetings", meetings)
    p.add_argument("--group", action="append", default=[])
    p.add_argument("--from", dest="start", type=_date)
    p.add_argument("--to", dest="end", type=_date)
    listing.add_json_option(p)

    groups = command("groups", None, "list groups, set status").add_subparsers(
        dest="action", required=True
    )
    p = command("set-status", _groups_set_status, "move a group to another status", groups)
    p.add_argument("slug")
    p.add_argument("status", choices=[s.value for s in GroupStatus])
    p.add_argument("--note", help="the status note, e.g. 'To be published in July 2023'")
    listing.add_json_option(command("list", _groups_list, "list groups", groups))

    p = command("changes", _changes, "the audit trail, newest first (JSON lines)")
    p.add_argument("--limit", type=int, default=50)
