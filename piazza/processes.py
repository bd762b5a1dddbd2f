"""Stopping the servers the tasks and tests start."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Ask ``process`` to stop (SIGTERM), kill it after ``timeout`` seconds,
    and wait for it either way, so no zombie or open port is left behind."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
