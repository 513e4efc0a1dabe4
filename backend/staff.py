"""Staff accounts from the command line, for the first administrator and for emergencies.

    python -m backend.staff create-account --username admin --name "Erika Muster" --role admin
    python -m backend.staff create-account --username m.koch --name "Max Koch" \\
        --role clerk --department buergerbuero

The password comes from ``GOVBOT_STAFF_PASSWORD`` or, without it, from a prompt that does
not echo; it needs at least 12 characters. Uses the backend's settings (database URL).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from sqlalchemy import select

from backend.app.catalogue import read_departments
from backend.app.core.clock import SettingsClock
from backend.app.core.config import get_settings
from backend.app.core.db import make_engine, make_session_factory, migrate, tool_pool
from backend.app.models import StaffAccount
from backend.app.staff import audit
from backend.app.staff.account_views import USERNAME
from backend.app.staff.auth import hash_password, password_problem
from backend.app.staff.roles import CLERK, ROLES

PASSWORD_VARIABLE = "GOVBOT_STAFF_PASSWORD"  # noqa: S105 - the variable's name


def _password() -> str:
    password = os.environ.get(PASSWORD_VARIABLE)
    if password:
        return password
    first = getpass.getpass("Passwort (mindestens 12 Zeichen): ")
    if getpass.getpass("Passwort wiederholen: ") != first:
        raise SystemExit("Die beiden Passwörter stimmen nicht überein.")
    return first


def create_account(args: argparse.Namespace) -> int:
    username = args.username.strip().casefold()
    if not USERNAME.match(username):
        print("Ungültiger Benutzername (2-64 Zeichen: a-z, 0-9, . _ -).", file=sys.stderr)
        return 2
    departments = sorted(set(args.department or []))
    if args.role == CLERK and not departments:
        print("Die Sachbearbeitung braucht mindestens eine --department.", file=sys.stderr)
        return 2
    password = _password()
    problem = password_problem(password)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    settings = get_settings()
    engine = make_engine(settings.database_url, tool_pool(settings))
    try:
        migrate(engine)
        with make_session_factory(engine)() as session:
            # The catalogue files, not the table: on a fresh database the backend has not
            # loaded them yet.
            known = {d.slug for d in read_departments(settings.catalogue_dir).departments}
            unknown = [slug for slug in departments if slug not in known]
            if unknown:
                print(f"Unbekannte Abteilung: {', '.join(unknown)}", file=sys.stderr)
                return 2
            if session.scalar(select(StaffAccount.id).where(StaffAccount.username == username)):
                print(f"Das Konto {username} gibt es schon.", file=sys.stderr)
                return 1
            now = SettingsClock(settings).now()
            account = StaffAccount(
                username=username,
                display_name=" ".join(args.name.split()),
                password_hash=hash_password(password),
                role=args.role,
                departments=departments if args.role == CLERK else [],
                active=True,
                created_at=now,
                password_changed_at=now,
            )
            session.add(account)
            session.flush()
            audit.record(
                session,
                now,
                "(kommandozeile)",
                "account.created",
                "staff_account",
                account.id,
                username=username,
                role=args.role,
                departments=account.departments,
            )
            session.commit()
    finally:
        engine.dispose()
    print(f"Konto {username} ({args.role}) angelegt.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-account", help="create a staff account")
    create.add_argument("--username", required=True)
    create.add_argument("--name", required=True, help="display name")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument(
        "--department", action="append", help="catalogue slug (clerks; may be repeated)"
    )
    args = parser.parse_args(argv)
    return create_account(args)


if __name__ == "__main__":
    sys.exit(main())
