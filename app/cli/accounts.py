"""The command line's `user` and `token` commands: console accounts and API tokens, each with
the verbs every resource has (add, list, remove, enable, disable)."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.auth import accounts, tokens
from app.cli import listing

Handler = Callable[[argparse.Namespace, Engine], int]


def _token_add(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        token = tokens.create_token(session, args.name)
    print(token)
    print(f"token {args.name!r} added; it is shown only now", file=sys.stderr)
    return 0


def _on_name(act: Callable[[Session, str], object], said: str) -> Handler:
    """A command that does `act` to the account or token named on the line, then says `said`
    ({name} is the name)."""

    def handler(args: argparse.Namespace, engine: Engine) -> int:
        with Session(engine) as session:
            act(session, args.name)
        print(said.format(name=repr(args.name)))
        return 0

    return handler


_token_disable = _on_name(tokens.revoke_token, "token {name} disabled; it no longer writes")
_token_enable = _on_name(tokens.enable_token, "token {name} enabled; it writes again")
_token_remove = _on_name(tokens.remove_token, "token {name} removed")


def _token_list(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        rows = [
            {
                "name": row.name,
                "created": row.created_at,
                "state": "disabled" if row.revoked_at else "active",
                "disabled": row.revoked_at,
            }
            for row in tokens.list_tokens(session)
        ]
    listing.emit(args, ["name", "created", "state", "disabled"], rows)
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


_user_disable = _on_name(accounts.disable_user, "user {name} disabled; their sessions have ended")
_user_enable = _on_name(
    lambda session, name: accounts.disable_user(session, name, disabled=False),
    "user {name} enabled; they sign in at /admin/login",
)
_user_remove = _on_name(accounts.remove_user, "user {name} removed; their sessions have ended")


def _user_list(args: argparse.Namespace, engine: Engine) -> int:
    with Session(engine) as session:
        rows = [
            {
                "name": user.name,
                "created": user.created_at,
                "state": "disabled" if user.disabled else "active",
            }
            for user in accounts.list_users(session)
        ]
    listing.emit(args, ["name", "created", "state"], rows)
    return 0


def register(command: Callable[..., Any]) -> None:
    """Add `user` and `token` to the parser of app.cli.main (`command` makes one subcommand)."""
    users = command("user", None, "console accounts").add_subparsers(dest="action", required=True)
    for name, handler, text in (
        ("add", _user_add, "add an account (password typed twice, or --password-stdin)"),
        ("passwd", _user_passwd, "set a new password; the account's sessions end"),
    ):
        p = command(name, handler, text, users)
        p.add_argument("name")
        p.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )
    p = command("list", _user_list, "list accounts (names and state)", users)
    listing.add_json_option(p)
    named: tuple[tuple[str, Handler, str], ...] = (
        ("disable", _user_disable, "disable an account; its sessions end"),
        ("enable", _user_enable, "let a disabled account sign in again"),
        ("remove", _user_remove, "remove an account; its sessions end"),
    )
    for name, run, text in named:
        command(name, run, text, users).add_argument("name")

    found = command("token", None, "API tokens for writes").add_subparsers(
        dest="action", required=True
    )
    p = command("add", _token_add, "issue a token; printed once", found, aliases=["create"])
    p.add_argument("name")
    p = command("list", _token_list, "list tokens (names only, never the tokens)", found)
    listing.add_json_option(p)
    by_name: tuple[tuple[str, Handler, str, list[str]], ...] = (
        ("disable", _token_disable, "stop a token from writing", ["revoke"]),
        ("enable", _token_enable, "let a disabled token write again (the same token)", []),
        ("remove", _token_remove, "forget a token (its name can be added again)", []),
    )
    for name, run, text, aliases in by_name:
        command(name, run, text, found, aliases=aliases).add_argument("name")
