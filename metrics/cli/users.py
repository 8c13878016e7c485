"""The command line's `users` and `audit` commands: the first administrator, user management for sites that
script it, and the audit trail (list, verify).

Whoever runs the command line can open the store file, so they act as an administrator; their operating
system name is what the audit trail records (`cli:<login>`, or --actor).
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys

from metrics import store
from metrics.auth import users
from metrics.auth.roles import Role, User
from metrics.core.text import Text
from metrics.store import audit

PASSWORD_ENV = "SAFETY_PASSWORD"


def operator(args) -> User:
    """The command line's user: an administrator named by --actor, else by the login (`cli:<login>`)."""
    name = getattr(args, "actor", None) or f"cli:{os.environ.get('USER') or 'unknown'}"
    return User(name=name, role=Role.ADMIN)


def _password(args) -> str:
    """From $SAFETY_PASSWORD, standard input (--password-stdin) or a prompt; never from the command line,
    where other users of the machine could read it."""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise users.UserError(Text("两次输入的密码不一致", "the two passwords differ"))
    return first


def _units(text: str) -> list[str]:
    return [code.strip() for code in text.split(",") if code.strip()]


def add_parsers(commands, common: argparse.ArgumentParser) -> None:
    users_cmd = commands.add_parser("users", parents=[common], help="people who sign in, their roles and units")
    sub = users_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    boot = sub.add_parser("bootstrap", parents=[common], help="create the first administrator of a store")
    add = sub.add_parser("add", parents=[common], help="add a user")
    for p in (boot, add):
        p.add_argument("name", help="sign-in name (the e-mail address where an identity provider signs people in)")
        p.add_argument("--display-name", default="")
        p.add_argument("--password-stdin", action="store_true", help=f"read the password from standard input "
                       f"(else ${PASSWORD_ENV}, else a prompt)")
    add.add_argument("--role", choices=[r.value for r in Role], required=True)
    add.add_argument("--units", type=_units, default=[], metavar="CODE,...", help="a unit user's subsidiaries")
    add.add_argument("--no-password", action="store_true", help="signs in through the identity provider only")
    sub.add_parser("list", parents=[common], help="every user with role, units and lock-out state")
    role = sub.add_parser("role", parents=[common], help="change a user's role and units")
    role.add_argument("name")
    role.add_argument("--role", choices=[r.value for r in Role], required=True)
    role.add_argument("--units", type=_units, default=[], metavar="CODE,...")
    password = sub.add_parser("password", parents=[common], help="set a user's password (clears a lock-out)")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true")
    for action, text in (("unlock", "clear a lock-out"), ("deactivate", "stop a user signing in (kept on record)"),
                         ("activate", "let a deactivated user sign in again")):
        sub.add_parser(action, parents=[common], help=text).add_argument("name")
    for p in sub.choices.values():
        p.add_argument("--actor", default=None, help="who is doing this (default: cli:$USER)")

    trail = commands.add_parser("audit", parents=[common], help="the audit trail: list it or verify its chain")
    trail_sub = trail.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = trail_sub.add_parser("list", parents=[common], help="entries, newest first")
    listing.add_argument("--actor")
    listing.add_argument("--action", dest="kind", choices=[a.value for a in audit.Action])
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    trail_sub.add_parser("verify", parents=[common], help="check that no entry was edited, removed or inserted")


def cmd_users(args, open_store) -> int:
    actor = operator(args)
    with open_store(args) as con:
        store.migrate(con)
        match args.action:
            case "bootstrap":
                made = users.bootstrap_admin(con, args.name, _password(args), operator=actor.name,
                                             display_name=args.display_name)
                print(f"administrator {made.name} created; sign in to the dashboard with this name")
            case "add":
                made = users.create_user(con, actor, args.name, Role(args.role), units=args.units,
                                         password=None if args.no_password else _password(args),
                                         display_name=args.display_name)
                print(f"user {made.name} added ({made.role.value}{': ' + ','.join(made.units) if made.units else ''})")
            case "list":
                frame = users.list_users(con, actor)
                for u in frame.itertuples(index=False):
                    units = ",".join(u.units) if u.units is not None else ""
                    state = "active" if u.active else "deactivated"
                    print(f"{u.name:<28} {u.role:<10} {units:<20} {state:<11} failures={u.failed_attempts}")
            case "role":
                users.change_role(con, actor, args.name, Role(args.role), args.units)
                print(f"{args.name} is now {args.role}")
            case "password":
                users.set_password(con, actor, args.name, _password(args))
                print(f"password of {args.name} set")
            case "unlock":
                users.unlock(con, actor, args.name)
                print(f"{args.name} unlocked")
            case "deactivate" | "activate":
                users.set_active(con, actor, args.name, args.action == "activate")
                print(f"{args.name} {args.action}d")
    return 0


def cmd_audit(args, open_store) -> int:
    with open_store(args) as con:
        store.migrate(con)
        if args.action == "verify":
            problems = audit.verify(con)
            count = len(audit.entries(con, limit=10**9))
            for problem in problems:
                print(f"error: {problem}", file=sys.stderr)
            if problems:
                return 1
            print(f"the audit trail is whole: {count} entries, each chained to the one before")
            return 0
        frame = audit.entries(con, actor=args.actor, action=args.kind, limit=args.limit)
    if args.json:
        print(frame.to_json(orient="records", date_format="iso", force_ascii=False))
        return 0
    for e in frame.itertuples(index=False):
        print(f"{e.id:>6} {e.happened_at:%Y-%m-%d %H:%M:%S} {e.actor:<20} {e.action:<16} {e.outcome:<8} "
              f"{e.target} {e.detail if e.detail != '{}' else ''}")
    return 0
