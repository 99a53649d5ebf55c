"""The command line's `webhook` and `outbox` commands: endpoints, and the messages to deliver."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import get_settings
from app.delivery import notify, outbox, webhooks
from app.delivery.sender import Sender

ANNOUNCE_HELP = "also announce it on the mailing list (needs SMTP_URL and ANNOUNCE_TO)"


def notifying(session: Session, args: argparse.Namespace) -> None:
    """Webhooks hear of the command's write; with --announce, the mailing list too."""
    settings = get_settings()
    base = notify.default_base_url(settings)
    notify.attach(session, settings, base, getattr(args, "announce", False))


def _webhook_add(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        hook, secret = webhooks.add(session, args.url, args.group)
        groups = ",".join(hook.groups) or "all groups"
    print(secret)
    print(
        f"webhook {hook.id} added for {hook.url} ({groups}); the signing secret above is "
        "shown only now",
        file=sys.stderr,
    )
    return 0


def _webhook_list(_args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        for hook in webhooks.list_webhooks(session):
            groups = ",".join(hook.groups) or "all groups"
            print(f"{hook.id}\t{hook.url}\t{groups}\tcreated {hook.created_at:%Y-%m-%d}")
    return 0


def _webhook_remove(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        webhooks.remove(session, args.id)
    print(f"webhook {args.id} removed; its pending calls will not be made")
    return 0


def _outbox_list(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        for row in outbox.list_messages(session, args.limit):
            when = row.sent_at if row.status == outbox.SENT else row.next_attempt_at
            print(
                "\t".join(
                    [
                        str(row.id),
                        row.message_id,
                        row.kind,
                        row.event,
                        row.status,
                        f"attempts {row.attempts}",
                        f"{when:%Y-%m-%dT%H:%M:%SZ}" if when else "-",
                        row.target,
                        row.last_error or "",
                    ]
                )
            )
    return 0


def _outbox_retry(args: argparse.Namespace, engine: Engine) -> int:
    policy = outbox.Policy.from_settings(get_settings())
    with Session(engine) as session:
        message = outbox.retry(session, args.id, policy)
        print(f"{message.id}\t{message.message_id}\tpending: sent at the next pass of a sender")
    return 0


def _outbox_run(_args: argparse.Namespace, engine: Engine) -> int:
    sender = Sender.from_settings(engine, get_settings())
    attempted = asyncio.run(sender.drain())
    stats = sender.stats
    print(
        f"{attempted} message(s) attempted: {stats.sent} delivered, "
        f"{stats.attempt_failures - stats.failed} to retry later, {stats.failed} given up"
    )
    return 0 if stats.attempt_failures == 0 else 1


def register(command: Callable[..., Any]) -> None:
    """Add `webhook` and `outbox` to the parser of app.cli.main (`command` makes one subcommand)."""
    hooks = command("webhook", lambda a, e: 2, "endpoints that get every change").add_subparsers(
        dest="action", required=True
    )
    p = command("add", _webhook_add, "add an endpoint; prints its signing secret once", hooks)
    p.add_argument("url", help="an http:// or https:// URL")
    p.add_argument(
        "--group",
        action="append",
        default=[],
        help="only changes of this group (repeatable; a thematic group brings its working groups)",
    )
    command("list", _webhook_list, "list endpoints (never their secrets)", hooks)
    p = command("remove", _webhook_remove, "remove an endpoint", hooks)
    p.add_argument("id", type=int)

    box = command("outbox", lambda a, e: 2, "messages to deliver: mail, webhooks").add_subparsers(
        dest="action", required=True
    )
    p = command("list", _outbox_list, "the newest messages and how they fared", box)
    p.add_argument("--limit", type=int, default=50)
    p = command("retry", _outbox_retry, "send a message again (a failed one too)", box)
    p.add_argument("id", help="the number from `outbox list`, or the message id")
    command("run", _outbox_run, "deliver what is due now, once, then stop", box)
