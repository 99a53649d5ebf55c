"""The command line's `webhook` and `outbox` commands: endpoints, and the messages to deliver."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.cli import listing
from app.core.config import get_settings
from app.delivery import notify, outbox, webhooks
from app.delivery.sender import Sender

ANNOUNCE_HELP = (
    "also mail the change to the mailing list. Reads, from this command's own environment: "
    "SMTP_URL and ANNOUNCE_TO (both needed, else the command stops and writes nothing), MAIL_FROM "
    "(default ORGANIZER_EMAIL), PUBLIC_BASE_URL (links), UID_DOMAIN. The mail is queued in the "
    "outbox and sent by the running server's sender, or by `outbox run`"
)


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


def _webhook_list(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        rows = [
            {
                "id": hook.id,
                "url": hook.url,
                "groups": hook.groups or ["all groups"],
                "created": hook.created_at,
                "state": "disabled" if hook.disabled else "active",
            }
            for hook in webhooks.list_webhooks(session)
        ]
    listing.emit(args, ["id", "url", "groups", "created", "state"], rows)
    return 0


def _webhook_enable(args: argparse.Namespace, engine: Engine) -> int:
    disabled = args.action == "disable"
    with Session(engine) as session:
        webhooks.set_disabled(session, args.id, disabled)
    if disabled:
        print(f"webhook {args.id} disabled; changes are not sent to it (calls queued still are)")
    else:
        print(f"webhook {args.id} enabled; every change is sent to it again")
    return 0


def _webhook_remove(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        webhooks.remove(session, args.id)
    print(f"webhook {args.id} removed; its pending calls will not be made")
    return 0


OUTBOX_COLUMNS = ["id", "message_id", "kind", "event", "status", "attempts", "when", "target"]


def _outbox_list(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        rows = [
            {
                "id": row.id,
                "message_id": row.message_id,
                "kind": row.kind,
                "event": row.event,
                "status": row.status,
                "attempts": row.attempts,
                # Sent: when it was; otherwise when the next attempt is due.
                "when": row.sent_at if row.status == outbox.SENT else row.next_attempt_at,
                "target": row.target,
                "last_error": row.last_error,
            }
            for row in outbox.list_messages(session, args.limit)
        ]
    listing.emit(args, [*OUTBOX_COLUMNS, "last_error"], rows)
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
    hooks = command("webhook", None, "endpoints that get every change").add_subparsers(
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
    p = command("list", _webhook_list, "list endpoints (never their secrets)", hooks)
    listing.add_json_option(p)
    for name, handler, text in (
        ("remove", _webhook_remove, "remove an endpoint; its queued calls are not made"),
        ("disable", _webhook_enable, "send no more changes to an endpoint (kept, with its secret)"),
        ("enable", _webhook_enable, "send changes to a disabled endpoint again"),
    ):
        command(name, handler, text, hooks).add_argument("id", type=int, help="from `webhook list`")

    box = command("outbox", None, "messages to deliver: mail, webhooks").add_subparsers(
        dest="action", required=True
    )
    p = command("list", _outbox_list, "the newest messages and how they fared", box)
    p.add_argument("--limit", type=int, default=50)
    listing.add_json_option(p)
    p = command("retry", _outbox_retry, "send a message again (a failed one too)", box)
    p.add_argument("id", help="the number from `outbox list`, or the message id")
    command("run", _outbox_run, "deliver what is due now, once, then stop", box)
