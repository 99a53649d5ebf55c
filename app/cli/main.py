"""The secretariat's command line, `u4ssc-calendar`, on the same functions as the API."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app import crud
from app.auth import accounts as auth_accounts
from app.auth import tokens
from app.cli import accounts, delivery, plan, subscribers
from app.core import validation
from app.core.config import Settings, get_settings
from app.core.db import make_engine, store_location, write_session
from app.store import exporting, seeding
from app.store.migrate import exists, migrate, prepare

Handler = Callable[[argparse.Namespace, Engine], int]
# The commands that may make a store where there is none; every other one refuses (issue 24:
# `user add` run in another folder made a calendar of its own there and said nothing).
MAKE_A_STORE = frozenset({"serve", "migrate", "seed", "import"})
FORCE_HELP = (
    "also overwrite the fields people edited (console, API, command line) since the seed last "
    "wrote them; without it they are kept and listed"
)


def _which_store(settings: Settings, engine: Engine) -> str:
    """The store and why it is that one: DATABASE_URL, or the default when it is unset."""
    where = store_location(engine)
    if "database_url" in settings.model_fields_set:
        return f"{where} (from DATABASE_URL)"
    return f"{where} (the default: DATABASE_URL is not set)"


def _no_store(settings: Settings, engine: Engine) -> int:
    print(
        f"error: no calendar store at {_which_store(settings, engine)}. Set DATABASE_URL to the "
        "store the service uses, or make one here with `u4ssc-calendar serve`, `migrate` or "
        "`seed`.",
        file=sys.stderr,
    )
    return 1


def _serve(args: argparse.Namespace, engine: Engine) -> int:
    import uvicorn

    from app.edge import protocol

    settings = get_settings()
    # Migrate and seed before binding the port: an unreachable database is then one clear line
    # (see main), not a start-up traceback; each worker's own start-up finds nothing left to do.
    prepare(engine, settings)
    print(f"u4ssc-calendar: store {_which_store(settings, engine)}", file=sys.stderr, flush=True)
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
        report = seeding.load(session, args.file, dry_run=args.dry_run, force=args.force)
    prefix = "would " if args.dry_run else ""
    for line in report:
        print(prefix + line)
    for line in report.kept:
        print(f"{prefix}{line}; --force writes the file's values over them")
    kept = f", {len(report.kept)} edited record(s) kept" if report.kept else ""
    print(f"{len(report)} change(s){kept}{' (dry run: nothing written)' if args.dry_run else ''}")
    return 0


def _export(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        text = exporting.dump_yaml(exporting.export(session))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="u4ssc-calendar",
        description="Keep the U4SSC meeting calendar current. DATABASE_URL selects the store.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {metadata.version('u4ssc-calendar')}"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def command(
        name: str,
        handler: Handler | None,
        help_text: str,
        parent: Any = sub,
        aliases: Sequence[str] = (),
    ) -> Any:
        """One subcommand; `aliases` are the older names that still work."""
        p = parent.add_parser(name, help=help_text, description=help_text, aliases=aliases)
        if handler is not None:
            p.set_defaults(handler=handler)
        return p

    p = command("serve", _serve, "run the web service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--workers", type=int, default=None, help="server processes (WORKERS)")
    command("migrate", _migrate, "bring the database to the current schema")
    for name, text, file_nargs in (
        ("seed", "load a seed file (default: the bundled action plan)", "?"),
        ("import", "load an exported file (the seed format)", None),
    ):
        p = command(name, _seed, text)
        p.add_argument("file", nargs=file_nargs, type=Path)
        p.add_argument("--dry-run", action="store_true", help="print what would change only")
        p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p = command("export", _export, "write everything as a seed file (YAML)")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")

    accounts.register(command)
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
        if args.command not in MAKE_A_STORE:
            if not exists(engine):
                return _no_store(settings, engine)
            prepare(engine, settings)
        result: int = args.handler(args, engine)
        return result
    except (crud.NotFound, crud.Invalid, crud.Conflict, crud.PreconditionFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (seeding.SeedError, tokens.TokenError, auth_accounts.AccountError) as exc:
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
