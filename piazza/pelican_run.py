"""Running Pelican in a subprocess, exactly as `invoke build` does.

One place for the command line (warnings are fatal, settings overridden as
JSON with ``-e``), shared by publishing, the tests and the benchmarks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Where plugins/search says that the pages are written (see run_pelican).
PAGES_WRITTEN = "PIAZZA_PAGES_WRITTEN"


def pelican_args(
    output: Path,
    *,
    settings: Path,
    content: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    root: Path = ROOT,
) -> list[str]:
    args = [
        sys.executable,
        "-m",
        "piazza.pelican_main",  # python -m pelican, with no teardown
        str(content or root / "content"),
        "-s",
        str(settings),
        "-o",
        str(output),
        "--fatal",
        "warnings",
    ]
    if overrides:
        args += ["-e", *(f"{k}={json.dumps(v)}" for k, v in overrides.items())]
    return args


def run_pelican(
    output: Path,
    *,
    settings: Path,
    content: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    root: Path = ROOT,
    cwd: Path | None = None,
    timeout: float | None = None,
    on_pages_written: Callable[[], Any] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Build a site into ``output``; the caller reads the return code and log.

    ``on_pages_written`` is called (in this process, once) as soon as the
    build has written its pages, while it still finishes (plugins/search
    says so in the file named by ``$PIAZZA_PAGES_WRITTEN``: an environment
    variable, not a setting, so no page's render key changes with it).
    """
    env = {**os.environ, "PYTHONPATH": str(root), "NO_COLOR": "1", "COLUMNS": "200"}
    args = pelican_args(
        output, settings=settings, content=content, overrides=overrides, root=root
    )
    if on_pages_written is None:
        return subprocess.run(
            args,
            cwd=cwd or root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    with tempfile.TemporaryDirectory(prefix="piazza-pelican-") as work:
        said = Path(work, "pages-written")
        env[PAGES_WRITTEN] = str(said)
        logs = [Path(work, "stdout"), Path(work, "stderr")]
        with logs[0].open("wb") as out, logs[1].open("wb") as err:
            proc = subprocess.Popen(
                args, cwd=cwd or root, env=env, stdout=out, stderr=err
            )
            try:
                code = _wait(proc, said, on_pages_written, timeout)
            finally:
                if proc.poll() is None:  # we were stopped: so is the build
                    proc.kill()
                    proc.wait()
        stdout, stderr = (
            log.read_text(encoding="utf-8", errors="replace") for log in logs
        )
    return subprocess.CompletedProcess(args, code, stdout, stderr)


def _wait(
    proc: subprocess.Popen[bytes],
    said: Path,
    on_pages_written: Callable[[], Any],
    timeout: float | None,
) -> int:
    deadline = None if timeout is None else time.monotonic() + timeout
    told = False
    while True:
        try:
            code = proc.wait(timeout=0.02)
        except subprocess.TimeoutExpired:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(proc.args, timeout) from None
        else:
            if code == 0 and not told and said.exists():  # said just before the end
                on_pages_written()
            return code
        if not told and said.exists():
            told = True
            on_pages_written()
