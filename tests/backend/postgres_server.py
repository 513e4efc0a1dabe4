"""A throwaway PostgreSQL server for the backend tests.

``initdb`` into a new temporary folder, listening only on 127.0.0.1 on a free port (its
socket file in that folder too), with a small ``max_connections`` so that the connection
budget meets a real limit; stopped and removed at the end. Nothing of the machine's own
PostgreSQL clusters is touched.

PostgreSQL refuses to run as root. As root, the server's folder is given to the
``postgres`` system user that Debian's packages create (``nobody`` where there is none), and
``initdb``, ``pg_ctl`` and the server run as that user through ``runuser``.

Two roles: a superuser that creates and drops the tests' databases, and ``govbot``, an
ordinary role as a city would give the backend, which owns them. Both have random
passwords (scram-sha-256), so that nobody else on the machine gets in.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

# 32 - 3 reserved for superusers leaves 29 for the backend's role: exactly what GovBot's
# default settings may open (backend 5 + 5, retention job 2, delivery command 2, reserve 15).
MAX_CONNECTIONS = 32
SUPERUSER_RESERVED_CONNECTIONS = 3
ADMIN_ROLE = "govbot_admin"
APP_ROLE = "govbot"
BIN_VARIABLE = "GOVBOT_TEST_PG_BIN"
PROGRAMS = ("initdb", "pg_ctl", "postgres")


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server programs cannot be found or the server does not start."""


def find_bin_dir() -> Path:
    """The folder with initdb, pg_ctl and postgres: $GOVBOT_TEST_PG_BIN, PATH, or Debian's."""
    candidates: list[Path] = []
    if os.environ.get(BIN_VARIABLE):
        candidates.append(Path(os.environ[BIN_VARIABLE]))
    else:
        on_path = shutil.which("pg_ctl")
        if on_path:
            candidates.append(Path(on_path).resolve().parent)
        candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))
    for directory in candidates:
        if all((directory / program).is_file() for program in PROGRAMS):
            return directory
    raise PostgresUnavailable(
        "PostgreSQL server programs (initdb, pg_ctl, postgres) not found"
        + (f" in {BIN_VARIABLE}={os.environ[BIN_VARIABLE]}" if os.environ.get(BIN_VARIABLE) else "")
        + ". The backend's PostgreSQL tests need them: on Debian/Ubuntu `apt-get install "
        "postgresql-15`, or set GOVBOT_TEST_PG_BIN to the folder that holds them."
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    bin_dir: Path
    root: Path
    port: int
    # The system user the server runs as; None: the current (unprivileged) user.
    run_as: str | None
    admin_password: str = field(default_factory=lambda: secrets.token_hex(16))
    app_password: str = field(default_factory=lambda: secrets.token_hex(16))
    version: str = ""
    _databases: int = 0

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str, *, admin: bool = False) -> str:
        """``postgresql://`` without a driver: what a city writes into BACKEND_DATABASE_URL."""
        role, password = (
            (ADMIN_ROLE, self.admin_password) if admin else (APP_ROLE, self.app_password)
        )
        return URL.create(
            "postgresql",
            username=role,
            password=password,
            host="127.0.0.1",
            port=self.port,
            database=database,
        ).render_as_string(hide_password=False)

    def _run(self, *args: str) -> str:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        # The working folder must be one the server's user may enter.
        result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=self.root)
        if result.returncode != 0:
            log = self.log_file.read_text() if self.log_file.exists() else ""
            raise PostgresUnavailable(
                f"{' '.join(args[:1])} failed ({result.returncode}):\n{result.stdout}\n"
                f"{result.stderr}\n{log[-3000:]}"
            )
        return result.stdout

    def start(self) -> None:
        password_file = self.root / "admin-password"
        password_file.write_text(self.admin_password + "\n")
        self._own(password_file)
        self._run(
            "initdb",
            "--pgdata",
            str(self.data_dir),
            "--username",
            ADMIN_ROLE,
            "--pwfile",
            str(password_file),
            "--auth",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        password_file.unlink()
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.root),
            "max_connections": str(MAX_CONNECTIONS),
            "superuser_reserved_connections": str(SUPERUSER_RESERVED_CONNECTIONS),
            # A throwaway server: no need to survive a power cut.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "32MB",
        }
        options = " ".join(f"-c {name}={value}" for name, value in settings.items())
        self._run(
            "pg_ctl",
            "start",
            "--pgdata",
            str(self.data_dir),
            "--log",
            str(self.log_file),
            "--options",
            options,
            "--wait",
            "--timeout",
            "60",
        )
        self.version = self._run("postgres", "--version").strip()
        with self._admin() as connection:
            connection.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{self.app_password}'"))

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "--pgdata", str(self.data_dir), "--mode", "immediate")

    def create_database(self) -> str:
        """A new, empty database owned by the backend's role."""
        self._databases += 1
        name = f"govbot_test_{self._databases}"
        with self._admin() as connection:
            connection.execute(text(f"CREATE DATABASE {name} OWNER {APP_ROLE}"))
        return name

    def drop_database(self, name: str) -> None:
        assert re.fullmatch(r"govbot_test_[0-9]+", name)
        with self._admin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def client_connections(self) -> int:
        """Client connections open now, the admin's own included."""
        with self._admin() as connection:
            count = connection.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
            )
        return int(count or 0)

    @contextmanager
    def _admin(self) -> Iterator[Connection]:
        """A connection of the superuser, on an engine that keeps none open afterwards."""
        url = URL.create(
            "postgresql+psycopg",
            username=ADMIN_ROLE,
            password=self.admin_password,
            host="127.0.0.1",
            port=self.port,
            database="postgres",
        )
        engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()

    def _own(self, path: Path) -> None:
        if self.run_as is not None:
            entry = pwd.getpwnam(self.run_as)
            os.chown(path, entry.pw_uid, entry.pw_gid)


def system_user() -> str | None:
    """Whom the server runs as: None for an ordinary user, a system user for root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise PostgresUnavailable("running as root, and neither a postgres nor a nobody user exists")


def start_server() -> PostgresServer:
    bin_dir = find_bin_dir()
    run_as = system_user()
    # In /tmp itself rather than pytest's folder: pytest's is private to root, and the
    # server's user must reach its own folder.
    root = Path(tempfile.mkdtemp(prefix="govbot-pg-"))
    server = PostgresServer(bin_dir=bin_dir, root=root, port=free_port(), run_as=run_as)
    server._own(root)
    try:
        server.start()
    except BaseException:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server


def remove_server(server: PostgresServer) -> None:
    try:
        server.stop()
    finally:
        shutil.rmtree(server.root, ignore_errors=True)
