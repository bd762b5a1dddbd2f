"""A real sshd on a loopback port, as a publish target reached over ssh.

Temporary host and user keys, key auth only, logging in as the user running the
tests. Used by test_release.py and test_publish.py through ``running_sshd``.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from conftest import free_port, need_tool

from piazza.processes import stop

SSHD = Path("/usr/sbin/sshd")


@dataclass(frozen=True)
class SshServer:
    """How to reach the test sshd."""

    user: str
    port: int
    ssh: tuple[str, ...]  # the ssh command with every option it needs

    def spec(self, path: Path) -> str:
        """A target spec for ``path`` on this server."""
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path}"


def tools_present() -> None:
    """Skip (or fail under CI) unless sshd, ssh, ssh-keygen and rsync exist."""
    for tool, ok in (
        ("sshd (openssh-server)", SSHD.exists()),
        ("ssh (openssh-client)", shutil.which("ssh") is not None),
        ("ssh-keygen", shutil.which("ssh-keygen") is not None),
        ("rsync", shutil.which("rsync") is not None),
    ):
        need_tool(ok, f"{tool} is not installed: the ssh publish tests need it")


@contextlib.contextmanager
def running_sshd(workdir: Path) -> Iterator[SshServer]:
    """Start sshd on 127.0.0.1, yield how to reach it, stop it."""
    tools_present()
    workdir.mkdir(parents=True, exist_ok=True)
    host_key, user_key = workdir / "host_key", workdir / "id_ed25519"
    for key in (host_key, user_key):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
            check=True,
        )
    authorized = workdir / "authorized_keys"
    shutil.copy(user_key.with_suffix(".pub"), authorized)
    os.chmod(authorized, 0o600)
    port = free_port()
    known = workdir / "known_hosts"
    known.write_text(
        f"[127.0.0.1]:{port} {host_key.with_suffix('.pub').read_text().strip()}\n"
    )
    config = workdir / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"PidFile {workdir / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized}",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "StrictModes no",
                "UsePAM no",
                "LogLevel ERROR",
                "",
            ]
        )
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation
    user = getpass.getuser()
    ssh = (
        "ssh",
        "-F",
        "/dev/null",
        "-i",
        str(user_key),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "IdentityAgent=none",
        "-o",
        f"UserKnownHostsFile={known}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "ConnectTimeout=5",
    )
    log = (workdir / "sshd.log").open("w")
    proc = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            probe = subprocess.run(
                [
                    *ssh,
                    "-o",
                    "BatchMode=yes",
                    "-p",
                    str(port),
                    f"{user}@127.0.0.1",
                    "true",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if probe.returncode == 0:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(
                    f"sshd did not come up on 127.0.0.1:{port}: {probe.stderr}\n"
                    + (workdir / "sshd.log").read_text()
                )
        yield SshServer(user, port, ssh)
    finally:
        stop(proc)
        log.close()
