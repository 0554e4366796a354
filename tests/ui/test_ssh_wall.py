"""The wall over a real SSH session, locked down as docs/ssh-wall.md says.

Starts OpenSSH's sshd on 127.0.0.1 with a throwaway host key, logs in with a
throwaway client key inside tmux, and sees the wall; then proves the account
cannot run another command or forward a port.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from paneglass.demo.fixture import seed_store
from paneglass.store import Store

ROOT = Path(__file__).resolve().parents[2]
SSHD = Path("/usr/sbin/sshd")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (SSHD.exists() and shutil.which("tmux")) and not os.environ.get("CI"),
        reason="needs Debian's openssh-server and tmux (.ci/run installs them)",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[tuple[int, Path, str]]:
    """A locked-down sshd whose only program is the wall; yields (port, client key, user)."""
    from datetime import UTC, datetime

    store = Store(f"sqlite:///{tmp_path / 'wall.db'}")
    seed_store(store, datetime.now(UTC))
    store.close()
    config = tmp_path / "config.toml"
    config.write_text('[display]\ntimezone = "UTC"\n[wall]\ntitle = "SSH WALL TEST"\n')
    wall = (
        f"cd {ROOT} && PYTHONPATH={ROOT} TEXTUAL_ANIMATIONS=none {sys.executable} -m paneglass wall"
        f" --config {config} --db sqlite:///{tmp_path / 'wall.db'}"
    )
    for name in ("host", "client"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / name)], check=True
        )
    public = (tmp_path / "client.pub").read_text().strip()
    keys = tmp_path / "authorized_keys"
    keys.write_text(f'restrict,pty,command="{wall}" {public}\n')
    keys.chmod(0o600)
    user = getpass.getuser()
    port = free_port()
    (tmp_path / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {tmp_path / 'host'}\n"
        f"PidFile {tmp_path / 'sshd.pid'}\nAuthorizedKeysFile {keys}\nStrictModes no\nUsePAM no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
        f"Match User {user}\n    ForceCommand {wall}\n"
        "    DisableForwarding yes\n    PermitTTY yes\n"
    )
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(tmp_path / "sshd_config")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert server.poll() is None, server.communicate()[0]
        time.sleep(0.1)
    yield port, tmp_path / "client", user
    server.terminate()
    server.wait(timeout=10)


def ssh(port: int, key: Path, user: str, *extra: str) -> list[str]:
    return [
        "ssh",
        "-i",
        str(key),
        "-p",
        str(port),
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
        *extra,
        f"{user}@127.0.0.1",
    ]


def test_the_wall_over_ssh_and_nothing_else(sshd: tuple[int, Path, str]) -> None:
    port, key, user = sshd
    session = f"pgwall{os.getpid()}"
    command = " ".join(ssh(port, key, user, "-tt"))
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "48", command], check=True
    )
    try:
        screen = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "BREACHED" not in screen:
            time.sleep(0.5)
            screen = subprocess.run(
                ["tmux", "capture-pane", "-pt", session], capture_output=True, text=True
            ).stdout
        assert "BREACHED" in screen and "SSH WALL TEST" in screen, screen
        assert "STALE DATA" in screen  # the fixture's failing vendor is named on the alarm line
        subprocess.run(["tmux", "send-keys", "-t", session, "q", "C-c", "C-d", "exit", "Enter"])
        time.sleep(1.0)
        still = subprocess.run(
            ["tmux", "capture-pane", "-pt", session], capture_output=True, text=True
        )
        assert "BREACHED" in still.stdout, "a key typed on the wall ended or changed it"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)

    # Asking for another command still runs only the forced wall, which refuses to run
    # without a terminal: no shell, no other program.
    other = subprocess.run(
        [*ssh(port, key, user, "-T"), "echo SHELL-RAN-$((6*7)); id"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "SHELL-RAN-42" not in other.stdout + other.stderr
    assert "uid=" not in other.stdout
    assert "needs a terminal" in other.stderr and other.returncode == 2  # the wall ran, refused
    # No forwarding of any kind.
    forward = subprocess.run(
        [
            *ssh(
                port,
                key,
                user,
                "-N",
                "-o",
                "ExitOnForwardFailure=yes",
                "-R",
                f"127.0.0.1:{free_port()}:127.0.0.1:{port}",
            )
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert forward.returncode != 0
    assert "forwarding failed" in forward.stderr.lower() or "prohibited" in forward.stderr.lower()
