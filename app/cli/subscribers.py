"""The command line's `subscribers` command, for data requests: list, export, remove."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.db import write_session
from app.delivery import subscribers


def _list(_args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        for row in subscribers.export(session):
            state = (
                "stopped" if row["stopped"] else ("confirmed" if row["consented_at"] else "waiting")
            )
            fields = [row["email"], state, ",".join(row["groups"]) or "-", row["language"]]
            print("\t".join([*fields, row["consented_at"] or "-"]))
    return 0


def _export(_args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        json.dump(subscribers.export(session), sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


def _remove(args: argparse.Namespace, engine: Engine) -> int:
    with write_session(engine) as session:
        known = subscribers.remove(session, args.email)
    if not known:
        print(f"no subscriber {args.email!r}", file=sys.stderr)
        return 1
    print("removed: the address, its groups and every message to it are gone")
    return 0


def register(command: Callable[..., Any]) -> None:
    """Add `subscribers` to the parser of app.cli.main."""
    people = command(
        "subscribers", lambda a, e: 2, "people who receive invitations by email"
    ).add_subparsers(dest="action", required=True)
    command("list", _list, "every address: state, groups, language, consent time", people)
    command("export", _export, "everything kept about every address, as JSON", people)
    p = command("remove", _remove, "forget an address and every message to it", people)
    p.add_argument("email")
