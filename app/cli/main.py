"""The secretariat's command line, `u4ssc-calendar`, on the same functions as the API."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app import crud
from app.auth import accounts, tokens
from app.cli import delivery, plan, subscribers
from app.core import validation
from app.core.config import get_settings
from app.core.db import make_engine, write_session
from app.store import seeding
from app.store.migrate import migrate, prepare

Handler = Callable[[argparse.Namespace, Engine], int]


def _serve(args: argparse.Namespace, engine: Engine) -> int:
    import uvicorn

    from app.edge import protocol

    settings = get_settings()
    # Migrate and seed before binding the port: an unreachable database is then one clear line
    # (see main), not a start-up traceback; each worker's own start-up finds nothing left to do.
    prepare(engine, settings)
    workers = args.workers or settings.workers
    options = protocol.server_options(settings)
    if workers > 1:
        from app.edge.workers import PROTOCOL

        options["http"] = PROTOCOL  # by name: a spawned worker cannot unpickle a made class
    config = uvicorn.Config(
        "app.main:app",
        host=args.host,
        port=args.port or settings.port,
        **options,
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
        delivery.notifying(session, args)
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
        token = tokens.create_token(session, args.name)
    print(token)
    print(f"token {args.name!r} created; it is shown only now", file=sys.stderr)
    return 0


def _token_revoke(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        tokens.revoke_token(session, args.name)
    print(f"token {args.name!r} revoked")
    return 0


def _token_list(_args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        for row in tokens.list_tokens(session):
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

    plan.register(command)
    delivery.register(command)
    subscribers.register(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"]).upper() or "settings"
            reason = validation.message(error)
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
    except (seeding.SeedError, tokens.TokenError, accounts.AccountError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        for error in exc.errors():
            message = validation.message(error)
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
