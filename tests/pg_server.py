"""A real PostgreSQL 15 server for the tests: initdb and pg_ctl on a temporary folder.

Debian's server binaries live in ``/usr/lib/postgresql/<version>/bin``; the
server listens on 127.0.0.1 only, at a free port, and is stopped at the end
of the test session. initdb refuses to run as root, so as root the server
runs as the ``postgres`` system user.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["find_pg_bin", "postgres_server"]


def find_pg_bin() -> Path | None:
    """The newest installed PostgreSQL server's bin folder, if any."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return versions[0].parent if versions else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throwaway server; yield a SQLAlchemy URL prefix ``postgresql+psycopg://…/``."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    folder = Path(tempfile.mkdtemp(prefix="paneglass-pg-"))
    data, sockets = folder / "data", folder / "sock"
    sockets.mkdir()
    as_root = os.geteuid() == 0
    user = "postgres" if as_root else getpass.getuser()
    if as_root:
        shutil.chown(folder, user)
        shutil.chown(sockets, user)

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        command = ["runuser", "-u", user, "--", *argv] if as_root else list(argv)
        return subprocess.run(command, capture_output=True, text=True, check=True)

    port = _free_port()
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "paneglass", "--auth=trust", "-E", "UTF8")
    run(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(folder / "server.log"),
        "-w",
        "-o",
        f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off",
        "start",
    )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"postgresql+psycopg://paneglass@127.0.0.1:{port}/"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)
