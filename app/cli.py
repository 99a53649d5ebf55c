"""The secretariat's command line, `u4ssc-calendar`, on the same functions as the API."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app import accounts, auth, cli_delivery, crud, seeding
from app.config import get_settings
from app.db import make_engine, write_session
from app.migrate import migrate, prepare
from app.models import GroupStatus, GroupUpdate, MeetingCreate, MeetingUpdate

Handler = Callable[[argparse.Namespace, Engine], int]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _print_meeting(session: Session, uid: str) -> None:
    meeting = crud.get_meeting(session, uid)
    when = meeting.date.isoformat()
    if meeting.start_time and meeting.end_time:
        when += f" {meeting.start_time:%H:%M}-{meeting.end_time:%H:%M} {meeting.timezone}"
    group = crud.group_index(session)[meeting.group_id].slug
    print(f"{meeting.uid}\t{when}\t{meeting.status}\tseq {meeting.sequence}\t{group}")


def _serve(args: argparse.Namespace, engine: Engine) -> int:
    import uvicorn

    from app import edge

    settings = get_settings()
    # Migrate and seed before binding the port: an unreachable database is then one clear line
    # (see main), not a start-up traceback; each worker's own start-up finds nothing left to do.
    prepare(engine, settings)
    workers = args.workers or settings.workers
    options = edge.server_options(settings.read_timeout_seconds)
    if workers > 1:
        from app.serve_workers import PROTOCOL

        options["http"] = PROTOCOL  # by name: a spawned worker cannot unpickle a made class
    config = uvicorn.Config(
        "app.main:app",
        host=args.host,
        port=args.port or settings.port,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=10,
        # h11 with a 16 KB cap on request line + headers (431) and a deadline for them.
        **options,
        # A line per request costs a poll 40% of its throughput: off unless ACCESS_LOG is set;
        # with JSON logs the app writes its own. Errors are logged either way.
        access_log=settings.access_log and settings.log_format != "json",
        workers=workers,
    )

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                # uvicorn re-raises SIGTERM after a graceful stop, so the process would end
                # "killed by signal"; a clean stop exits 0 for supervisors and orchestrators.
                self._captured_signals.clear()

    server = Server(config)
    if config.workers > 1:
        from uvicorn.supervisors import Multiprocess

        # As uvicorn.run does: one listening socket, shared by the worker processes.
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        server.run()
    return 0


def _migrate(_args: argparse.Namespace, engine: Engine) -> int:
    migrate(engine)
    print("database is at the current schema")
    return 0


def _seed(args: argparse.Namespace, engine: Engine) -> int:
    migrate(engine)
    with write_session(engine) as session:
        cli_delivery.notifying(session, args)
        report = seeding.load(session, args.file, dry_run=args.dry_run)
    prefix = "would " if args.dry_run else ""
    for line in report:
        print(prefix + line)
    print(f"{len(report)} change(s){' (dry run: nothing written)' if args.dry_run else ''}")
    return 0


def _export(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        text = seeding.dump_yaml(seeding.export(session))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _token_create(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        token = auth.create_token(session, args.name)
    print(token)
    print(f"token {args.name!r} created; it is shown only now", file=sys.stderr)
    return 0


def _token_revoke(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        auth.revoke_token(session, args.name)
    print(f"token {args.name!r} revoked")
    return 0


def _token_list(_args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        for row in auth.list_tokens(session):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            print(f"{row.name}\tcreated {row.created_at:%Y-%m-%d}\t{state}")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    """From standard input (--password-stdin: the first line) or typed twice at the terminal."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise accounts.AccountError("the two passwords differ; nothing changed")
    return first


def _user_add(args: argparse.Namespace, engine: Engine) -> int:
    password = _read_password(args)
    with Session(engine) as session:
        accounts.add_user(session, args.name, password)
    print(f"user {args.name!r} added; they sign in at /admin/login")
    return 0


def _user_passwd(args: argparse.Namespace, engine: Engine) -> int:
    password = _read_password(args)
    with Session(engine) as session:
        accounts.set_password(session, args.name, password)
    print(f"password of {args.name!r} changed; their sessions have ended")
    return 0


def _user_disable(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        accounts.disable_user(session, args.name)
    print(f"user {args.name!r} disabled; their sessions have ended")
    return 0


def _user_list(_args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        for user in accounts.list_users(session):
            state = "disabled" if user.disabled else "active"
            print(f"{user.name}\tcreated {user.created_at:%Y-%m-%d}\t{state}")
    return 0


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
        cli_delivery.notifying(session, args)
        meeting = crud.create_meeting(session, data, _actor())
        _print_meeting(session, meeting.uid)
    return 0


def _meetings_move(args: argparse.Namespace, engine: Engine) -> int:
    patch = MeetingUpdate.model_validate(_times(args))
    if not patch.model_fields_set:
        raise crud.Invalid("move", "say what changes: --date, --start/--end, --all-day, --title...")
    with write_session(engine) as session:
        cli_delivery.notifying(session, args)
        crud.update_meeting(session, args.uid, patch, _actor())
        _print_meeting(session, args.uid)
    return 0


def _meetings_cancel(args: argparse.Namespace, engine: Engine) -> int:
    with write_session(engine) as session:
        cli_delivery.notifying(session, args)
        crud.cancel_meeting(session, args.uid, _actor())
        _print_meeting(session, args.uid)
    return 0


def _meetings_purge(args: argparse.Namespace, engine: Engine) -> int:
    with write_session(engine) as session:
        crud.purge_meeting(session, args.uid, _actor())
    print(f"{args.uid} removed for good; subscribers keep their last copy of it")
    return 0


def _meetings_list(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        ids = crud.group_ids_covering(session, args.group) if args.group else None
        query = crud.MeetingQuery(group_ids=ids, start=args.start, end=args.end)
        meetings, _ = crud.list_meetings(session, query)
        for meeting in meetings:
            _print_meeting(session, meeting.uid)
    return 0


def _groups_set_status(args: argparse.Namespace, engine: Engine) -> int:
    fields: dict[str, Any] = {"status": args.status}
    if args.note is not None:
        fields["status_note"] = args.note or None
    with write_session(engine) as session:
        cli_delivery.notifying(session, args)
        group = crud.update_group(session, args.slug, GroupUpdate(**fields), _actor())
        print(f"{group.slug}\t{group.status}\t{group.status_note or ''}")
    return 0


def _groups_list(_args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        for info in crud.group_index(session).values():
            indent = "  " if info.parent else ""
            print(f"{indent}{info.slug}\t{info.group.status}\t{info.group.name}")
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
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date YYYY-MM-DD") from None


def _meeting_options(parser: argparse.ArgumentParser, *, date_required: bool) -> None:
    parser.add_argument("--date", type=_date, required=date_required, help="YYYY-MM-DD")
    parser.add_argument("--start", help="start time HH:MM (wall clock in --timezone)")
    parser.add_argument("--end", help="end time HH:MM")
    parser.add_argument("--timezone", help="IANA zone of date and times (default Europe/Zurich)")
    parser.add_argument("--title")
    parser.add_argument("--description")
    parser.add_argument("--join-url", dest="join_url")
    parser.add_argument("--status", choices=["confirmed", "tentative", "cancelled"])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="u4ssc-calendar",
        description="Keep the U4SSC meeting calendar current. DATABASE_URL selects the store.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Handler, help_text: str, parent: Any = sub) -> Any:
        p = parent.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = command("serve", _serve, "run the web service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--workers", type=int, default=None, help="server processes (WORKERS)")
    command("migrate", _migrate, "bring the database to the current schema")
    p = command("seed", _seed, "load a seed file (default: the bundled action plan)")
    p.add_argument("file", nargs="?", type=Path)
    p.add_argument("--dry-run", action="store_true", help="print what would change, write nothing")
    p = command("import", _seed, "load an exported file (the seed format)")
    p.add_argument("file", type=Path)
    p.add_argument("--dry-run", action="store_true", help="print what would change, write nothing")
    p = command("export", _export, "write everything as a seed file (YAML)")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")

    tokens = command("token", lambda a, e: 2, "issue and revoke API tokens").add_subparsers(
        dest="action", required=True
    )
    p = command("create", _token_create, "issue a token; printed once", tokens)
    p.add_argument("name")
    p = command("revoke", _token_revoke, "revoke a token", tokens)
    p.add_argument("name")
    command("list", _token_list, "list tokens (names only)", tokens)

    users = command("user", lambda a, e: 2, "console accounts").add_subparsers(
        dest="action", required=True
    )
    for name, handler, text in (
        ("add", _user_add, "add an account (password typed twice, or --password-stdin)"),
        ("passwd", _user_passwd, "set a new password; the account's sessions end"),
    ):
        p = command(name, handler, text, users)
        p.add_argument("name")
        p.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )
    p = command("disable", _user_disable, "disable an account; its sessions end", users)
    p.add_argument("name")
    command("list", _user_list, "list accounts (names and state)", users)

    meetings = command("meetings", lambda a, e: 2, "add, move, cancel, list").add_subparsers(
        dest="action", required=True
    )
    p = command("add", _meetings_add, "add a meeting (no --start/--end: all-day)", meetings)
    p.add_argument("--group", required=True, help="group slug")
    _meeting_options(p, date_required=True)
    p.add_argument("--announce", action="store_true", help=cli_delivery.ANNOUNCE_HELP)
    p = command("move", _meetings_move, "reschedule or change a meeting", meetings)
    p.add_argument("uid")
    _meeting_options(p, date_required=False)
    p.add_argument("--all-day", action="store_true", help="drop the times")
    p.add_argument("--announce", action="store_true", help=cli_delivery.ANNOUNCE_HELP)
    p = command("cancel", _meetings_cancel, "cancel (stays in feeds as cancelled)", meetings)
    p.add_argument("uid")
    p.add_argument("--announce", action="store_true", help=cli_delivery.ANNOUNCE_HELP)
    p = command("purge", _meetings_purge, "remove a meeting for good", meetings)
    p.add_argument("uid")
    p = command("list", _meetings_list, "list meetings", meetings)
    p.add_argument("--group", action="append", default=[])
    p.add_argument("--from", dest="start", type=_date)
    p.add_argument("--to", dest="end", type=_date)

    groups = command("groups", lambda a, e: 2, "list groups, set status").add_subparsers(
        dest="action", required=True
    )
    p = command("set-status", _groups_set_status, "move a group to another status", groups)
    p.add_argument("slug")
    p.add_argument("status", choices=[s.value for s in GroupStatus])
    p.add_argument("--note", help="the status note, e.g. 'To be published in July 2023'")
    command("list", _groups_list, "list groups", groups)

    p = command("changes", _changes, "the audit trail, newest first (JSON lines)")
    p.add_argument("--limit", type=int, default=50)
    cli_delivery.register(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"]).upper() or "settings"
            reason = error["msg"].removeprefix("Value error, ")
            if not reason.startswith(name):
                reason = f"{name}: {reason}"
            print(f"error: invalid setting: {reason}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        if args.command not in ("serve", "migrate", "seed", "import"):
            prepare(engine, settings)
        result: int = args.handler(args, engine)
        return result
    except (crud.NotFound, crud.Invalid, crud.Conflict, crud.PreconditionFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (seeding.SeedError, auth.TokenError, accounts.AccountError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            # A check of the whole meeting names its field at the start of the message.
            where = ".".join(str(p) for p in error["loc"])
            print(f"error: {where}: {message}" if where else f"error: {message}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader stopped early (`u4ssc-calendar changes | head`): not a failure of ours.
        # Point stdout at /dev/null so that the flush at exit does not complain again.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (OperationalError, OSError) as exc:
        cause = exc.orig if isinstance(exc, OperationalError) else exc
        reason = str(cause or exc).strip().splitlines()[0]
        where = engine.url.render_as_string(hide_password=True)
        print(f"error: cannot use the database {where}: {reason}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
