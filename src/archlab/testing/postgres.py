"""A real PostgreSQL primary and streaming replica for tests and benchmarks, started from the
machine's PostgreSQL binaries in a temporary directory, on free loopback ports.

PostgreSQL refuses to run as root, so when the tests run as root every command runs as the
``postgres`` user (``runuser``) in a directory that user owns. The primary has
``wal_level=replica`` and trusts loopback connections, replication included; the replica is a
``pg_basebackup -R`` of it (``standby.signal`` and ``primary_conninfo`` written for it), on its
own port. ``fsync`` is off: these servers are thrown away, and nothing here tests durability.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

BIN = Path("/usr/lib/postgresql/15/bin")
USER = "postgres"
DATABASE = "storefront"


def missing() -> str | None:
    """Why a pair cannot be started here, or None."""
    if not (BIN / "initdb").exists():
        return f"no PostgreSQL 15 binaries in {BIN}: apt-get install postgresql-15"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root needs runuser to start PostgreSQL as its own user"
        try:
            pwd.getpwnam(USER)
        except KeyError:
            return f"running as root needs a {USER!r} user to start PostgreSQL"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One PostgreSQL server: its data directory, port and log."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.data = root / name
        self.log = root / f"{name}.log"
        self.port = free_port()

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def configure(self, **settings: str | int) -> None:
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            for name, value in {
                "listen_addresses": "'127.0.0.1'",
                "port": self.port,
                "unix_socket_directories": f"'{self.root}'",
                **settings,
            }.items():
                conf.write(f"{name} = {value}\n")

    def ctl(self, *args: str) -> None:
        run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", *args)

    def start(self) -> None:
        self.ctl("start")

    def stop(self, mode: str = "fast") -> None:
        self.ctl("stop", "-m", mode)

    def restart(self) -> None:
        self.ctl("restart", "-m", "fast")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def query(self, sql: str, *params: Any, database: str = DATABASE) -> Any:
        """The first column of the first row, if the statement returns rows (autocommit)."""
        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(sql, params)
            row = cursor.fetchone() if cursor.description is not None else None
            return None if row is None else row[0]


def run(program: str, *args: str) -> None:
    command = [str(BIN / program), *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", USER, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{program} failed ({done.returncode}): {done.stdout}{done.stderr}")


class PostgresPair:
    """A primary and its streaming replica (see the module)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="archlab-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, USER)
        self.primary = Server(self.root, "primary")
        self.replica = Server(self.root, "replica")

    def start(self) -> None:
        run("initdb", "-D", str(self.primary.data), "-U", USER, "--auth=trust", "-E", "UTF8",
            "--locale=C", "--no-sync")  # fmt: skip
        self.primary.configure(
            wal_level="replica",
            max_wal_senders=4,
            hot_standby="on",
            fsync="off",
            shared_buffers="'32MB'",
            max_connections=100,
        )
        with (self.primary.data / "pg_hba.conf").open("a", encoding="utf-8") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self.primary.start()
        self.primary.query(f"CREATE DATABASE {DATABASE}", database="postgres")
        run("pg_basebackup", "-R", "-D", str(self.replica.data), "-h", "127.0.0.1",
            "-p", str(self.primary.port), "-U", USER, "-X", "stream", "-c", "fast")  # fmt: skip
        # After a primary restart the replica should reconnect within moments, not 5 s.
        self.replica.configure(wal_retrieve_retry_interval="'200ms'")
        self.replica.start()
        self.wait_streaming()

    def wait_streaming(self, timeout_s: float = 20) -> None:
        until = time.monotonic() + timeout_s
        sql = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
        while self.primary.query(sql) != 1:
            if time.monotonic() > until:
                raise TimeoutError("the replica did not start streaming")
            time.sleep(0.05)

    def wait_replayed(self, token: str, timeout_s: float = 10) -> None:
        """Until the replica has replayed the primary's WAL up to ``token``."""
        until = time.monotonic() + timeout_s
        sql = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"
        while not self.replica.query(sql, token):
            if time.monotonic() > until:
                raise TimeoutError(f"the replica did not replay {token}")
            time.sleep(0.02)

    def current(self) -> str:
        return str(self.primary.query("SELECT pg_current_wal_lsn()::text"))

    def stop(self) -> None:
        for server in (self.replica, self.primary):
            if server.running():
                with contextlib.suppress(RuntimeError):  # gone already: the directory goes anyway
                    server.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
